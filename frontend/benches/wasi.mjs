// Runs a benchmark built for `wasm32-wasip1` in Node's V8, the WebAssembly engine of Chromium:
// the frame bench's figures as the web app's code gets them, without a browser.
//
//   rustup target add wasm32-wasip1
//   cargo build --release --target wasm32-wasip1 -p trackline-frontend --bench frame
//   node --no-warnings --no-liftoff frontend/benches/wasi.mjs \
//       target/wasm32-wasip1/release/deps/frame-*.wasm [--smooth] [--no-live] [--runs N]
//
// `--no-liftoff` compiles every function with V8's optimising compiler up front; without it the
// first frames run in the baseline tier and the figures swing with when each function tiers up.
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';
import { argv, env } from 'node:process';

const wasi = new WASI({ version: 'preview1', args: argv.slice(2), env, preopens: {} });
const module = await WebAssembly.compile(await readFile(argv[2]));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
wasi.start(instance);
