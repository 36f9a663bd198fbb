// Boots the web app: loads the wasm-bindgen glue and the compiled module. A file of its own (not
// an inline script in index.html) so the page's Content-Security-Policy can forbid inline script.
//
// A share link carries its token in the URL fragment (`#t=…`), which never reaches a server, a
// proxy's log or a Referer. Before the app loads, the token is traded once for an HttpOnly session
// cookie (`POST api/session`, relative to the page's base), and the fragment leaves the address bar.
import init from './app.js';

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

await tradeShareToken();
init({ module_or_path: new URL('./app_bg.wasm', import.meta.url) });
