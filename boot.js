// Boots the web app: loads the wasm-bindgen glue and the compiled module. A file of its own (not
// an inline script in index.html) so the page's Content-Security-Policy can forbid inline script.
import init from './app.js';

init({ module_or_path: new URL('./app_bg.wasm', import.meta.url) });
