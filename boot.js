// Boots the web app: loads the wasm-bindgen glue and the compiled module. A file of its own (not
// an inline script in index.html) so the page's Content-Security-Policy can forbid inline script.
//
// A share link carries its token in the URL fragment (`#t=…`), which never reaches a server, a
// proxy's log or a Referer. Before the app loads, the token is traded once for an HttpOnly session
// cookie (`POST api/session`, relative to the page's base), and the fragment leaves the address bar.
import init from './app.js';

// Served under a prefix, the page's `<base href>` names it (`/team/`, injected by the daemon). Opened
// without it (the daemon's own address, `http://127.0.0.1:8765/projects/p`, which it also answers),
// the address moves under the prefix, where the app's routes and the session cookie's Path are.
function moveUnderBase() {
  const base = new URL(document.baseURI).pathname;
  const path = location.pathname;
  if (path.startsWith(base)) return;
  const inside = path + '/' === base ? base : base + path.slice(1);
  history.replaceState(history.state, '', inside + location.search + location.hash);
}

async function tradeShareToken() {
  const match = /^#(?:.*&)?t=([^&]+)/.exec(location.hash);
  if (!match) return;
  const token = decodeURIComponent(match[1]);
  history.replaceState(history.state, '', location.pathname + location.search);
  try {
    const answer = await fetch('api/session', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ token }),
      credentials: 'same-origin',
    });
    if (!answer.ok) {
      const body = await answer.json().catch(() => null);
      console.warn('trackline: this link was refused:', body?.error?.message ?? answer.status);
    }
  } catch (e) {
    console.warn('trackline: could not open a session:', e);
  }
}

moveUnderBase();
await tradeShareToken();
init({ module_or_path: new URL('./app_bg.wasm', import.meta.url) });
