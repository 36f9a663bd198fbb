#!/usr/bin/env bash
# Runs every gate and test of Trackline: formatting, clippy (host and wasm32), Rust unit and
# end-to-end tests (real daemon processes, sockets, Python scripts, headless Chromium), and the
# Python client's pytest suite. Installs what it needs first, so it works on a fresh machine with
# only the Rust toolchain, Python and apt. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "prerequisites"
rustup target add wasm32-unknown-unknown >/dev/null
rustup component add clippy rustfmt >/dev/null 2>&1 || true
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
python3 -m pytest --version >/dev/null 2>&1 || python3 -m pip install -q pytest
python3 -m pip install -q -r python/tests/requirements-media.txt

step "cargo fmt --check"
cargo fmt --all --check

step "clippy (host)"
TRACKLINE_SKIP_WEB=1 cargo clippy --workspace --all-targets -- -D warnings

step "clippy (wasm32 frontend)"
cargo clippy -p trackline-frontend --target wasm32-unknown-unknown -- -D warnings

step "cargo test (builds and embeds the web app)"
TRACKLINE_REQUIRE_WEB=1 cargo test --workspace --exclude trackline-frontend
cargo test -p trackline-frontend

step "python client (pytest, against the real daemon binary)"
cargo build -p trackline
export TRACKLINE_BIN="$PWD/target/debug/trackline"
(cd python && python3 -m pytest -q)

printf '\nall gates passed\n'
