//! The owner's "Share" button in the header and its dialog: make a link (who for, scope, expiry),
//! see it once with a Copy button, and the list of links with Revoke. When the daemon is not
//! shared, the dialog says how to share it instead. Hidden from anyone who is not an owner.

use super::{Sharing, rest};
use leptos::prelude::*;
use leptos::task::spawn_local;
use trackline_shared::share::{NewShareLink, ShareLinkInfo, link_url};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// The header button; shown to owners only.
#[component]
pub fn ShareButton() -> impl IntoView {
    let state = expect_context::<Sharing>();
    let open = RwSignal::new(false);
    let is_owner = move || {
        state
            .me
            .with(|me| me.as_ref().is_some_and(|m| m.is_owner()))
    };
    view! {
        <Show when=is_owner>
            <button class="btn" data-testid="share-button" on:click=move |_| open.set(true)>
                "Share"
            </button>
        </Show>
        <Show when=move || open.get() && is_owner()>
            <ShareDialog open=open />
        </Show>
    }
}

#[component]
fn ShareDialog(open: RwSignal<bool>) -> impl IntoView {
    let state = expect_context::<Sharing>();
    let sharing_on = move || state.me.with(|me| me.as_ref().is_some_and(|m| m.sharing));
    view! {
        <div
            class="share-backdrop"
            style="position: fixed; inset: 0; z-index: 50; background: rgba(31, 35, 40, .35); \
                   display: flex; align-items: flex-start; justify-content: center; \
                   padding-top: 8vh;"
            on:click=move |_| open.set(false)
        >
            <div
                class="panel"
                role="dialog"
                aria-label="Share"
                data-testid="share-dialog"
                style="width: min(760px, 94vw); max-height: 84vh; overflow: auto; margin: 0;"
                on:click=|ev| ev.stop_propagation()
            >
                <h2 style="display: flex; align-items: center;">
                    "Share this Trackline" <span style="flex: 1"></span>
                    <button class="btn small" data-testid="share-close" on:click=move |_| open.set(false)>
                        "Close"
                    </button>
                </h2>
                <div class="panel-body">
                    <Show when=sharing_on fallback=SharingOff>
                        <Links />
                    </Show>
                </div>
            </div>
        </div>
    }
}

/// What the dialog says when the daemon is not shared.
#[component]
fn SharingOff() -> impl IntoView {
    view! {
        <div data-testid="share-off">
            <p>
                "Sharing is off: this Trackline answers only on this computer, to anyone here, "
                "with no link."
            </p>
            <p>
                "To share it, restart it with " <code>"trackline serve --share cloudflared"</code>
                " (or " <code>"--share ngrok"</code> ", " <code>"--share ssh:HOST"</code>
                "), which starts that tunnel tool if it is installed, or behind your own tunnel "
                "or proxy with " <code>"trackline serve --public-url https://…"</code>
                ". Then make a link here for each person, or with " <code>"trackline share"</code>
                "."
            </p>
        </div>
    }
}

/// The form, the new link, and the list.
#[component]
fn Links() -> impl IntoView {
    let state = expect_context::<Sharing>();
    let links = RwSignal::new(Vec::<ShareLinkInfo>::new());
    let error = RwSignal::new(None::<String>);
    let created = RwSignal::new(Vec::<String>::new());
    let label = RwSignal::new(String::new());
    let scope = RwSignal::new("viewer".to_owned());
    let expires = RwSignal::new("7d".to_owned());
    let busy = RwSignal::new(false);

    let refresh = move || {
        spawn_local(async move {
            match rest::links().await {
                Ok(list) => links.set(list),
                Err(e) => error.set(Some(e.to_string())),
            }
        })
    };
    refresh();

    let create = move |_| {
        let body = NewShareLink {
            scope: scope.get_untracked(),
            label: label.get_untracked().trim().to_owned(),
            expires: Some(expires.get_untracked()),
        };
        if body.label.is_empty() {
            error.set(Some(
                "Say who the link is for (a name), so you can tell links apart.".into(),
            ));
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match rest::create(&body).await {
                Ok(made) => {
                    let urls = if made.urls.is_empty() {
                        vec![link_url(&page_base(), &made.token)]
                    } else {
                        made.urls
                    };
                    created.set(urls);
                    label.set(String::new());
                    refresh();
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };

    let revoke = move |id: String| {
        error.set(None);
        spawn_local(async move {
            match rest::revoke(&id).await {
                Ok(()) => refresh(),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };

    let my_link = move || {
        state
            .me
            .with(|me| me.as_ref().and_then(|m| m.link_id.clone()))
    };

    view! {
        <div class="share-form" style="display: flex; gap: 8px; align-items: end; flex-wrap: wrap;">
            <label style="display: flex; flex-direction: column; gap: 2px;">
                <span class="muted">"For"</span>
                <input
                    class="ws-search"
                    style="width: 200px;"
                    data-testid="share-label"
                    placeholder="alice"
                    maxlength="100"
                    prop:value=move || label.get()
                    on:input=move |ev| label.set(event_target_value(&ev))
                />
            </label>
            <label style="display: flex; flex-direction: column; gap: 2px;">
                <span class="muted">"May"</span>
                <select
                    data-testid="share-scope"
                    prop:value=move || scope.get()
                    on:change=move |ev| scope.set(event_target_value(&ev))
                >
                    <option value="viewer">"view (viewer)"</option>
                    <option value="annotator">"view and annotate (annotator)"</option>
                    <option value="owner">"everything (owner)"</option>
                </select>
            </label>
            <label style="display: flex; flex-direction: column; gap: 2px;">
                <span class="muted">"Expires after"</span>
                <select
                    data-testid="share-expires"
                    prop:value=move || expires.get()
                    on:change=move |ev| expires.set(event_target_value(&ev))
                >
                    <option value="1d">"1 day"</option>
                    <option value="7d">"7 days"</option>
                    <option value="30d">"30 days"</option>
                    <option value="never">"never"</option>
                </select>
            </label>
            <button
                class="btn primary"
                data-testid="share-create"
                disabled=move || busy.get()
                on:click=create
            >
                "Create link"
            </button>
        </div>
        {move || error.get().map(|e| view! { <div class="error" data-testid="share-error" style="margin-top: 8px;">{e}</div> })}
        <Show when=move || !created.with(Vec::is_empty)>
            <div data-testid="share-created" style="margin-top: 10px;">
                <p class="muted" style="margin: 0 0 4px;">
                    "The new link, shown this once (only its fingerprint is kept): send it to "
                    "that person. Anyone with it gets in, until it expires or you revoke it."
                </p>
                <For each=move || created.get() key=|url| url.clone() let:url>
                    <NewLink url=url />
                </For>
            </div>
        </Show>
        <h2 style="margin: 16px 0 6px;">"Links"</h2>
        <div class="table-wrap">
            <table class="grid" data-testid="share-links">
                <thead>
                    <tr>
                        <th>"For"</th>
                        <th>"May"</th>
                        <th>"Made"</th>
                        <th>"Expires"</th>
                        <th>"Last used"</th>
                        <th>"State"</th>
                        <th></th>
                    </tr>
                </thead>
                <tbody>
                    <For each=move || links.get() key=|l| (l.id.clone(), l.live) let:link>
                        {
                            let id = link.id.clone();
                            let mine = move || my_link().as_deref() == Some(id.as_str());
                            let revoke_id = link.id.clone();
                            let live = link.live;
                            view! {
                                <tr data-testid="share-link-row" data-link-id=link.id.clone() data-live=live.to_string()>
                                    <td>{link.label.clone()} {move || mine().then_some(view! { <span class="faint">" (you)"</span> })}</td>
                                    <td>{link.scope.clone()}</td>
                                    <td>{crate::browser::local_datetime(link.created_at_secs)}</td>
                                    <td>{when(link.expires_at_secs, "never")}</td>
                                    <td>{when(link.last_used_at_secs, "never")}</td>
                                    <td>{state_of(&link)}</td>
                                    <td>
                                        <Show when=move || live>
                                            <button
                                                class="btn small"
                                                data-testid="share-revoke"
                                                on:click={
                                                    let revoke_id = revoke_id.clone();
                                                    move |_| revoke(revoke_id.clone())
                                                }
                                            >
                                                "Revoke"
                                            </button>
                                        </Show>
                                    </td>
                                </tr>
                            }
                        }
                    </For>
                </tbody>
            </table>
        </div>
    }
}

/// One new link with its Copy button.
#[component]
fn NewLink(url: String) -> impl IntoView {
    let copied = RwSignal::new(None::<&'static str>);
    let node = NodeRef::<leptos::html::Input>::new();
    let to_copy = url.clone();
    let copy = move |_| {
        copy_text(&to_copy, move |done| {
            if !done && let Some(input) = node.get_untracked() {
                input.select();
            }
            copied.set(Some(if done {
                "Copied"
            } else {
                "Press Ctrl+C to copy"
            }));
        });
    };
    view! {
        <div style="display: flex; gap: 6px; align-items: center; margin-bottom: 4px;">
            <input
                class="ws-search mono"
                style="flex: 1;"
                readonly
                data-testid="share-new-link"
                node_ref=node
                prop:value=url
            />
            <button class="btn" data-testid="share-copy" on:click=copy>
                "Copy"
            </button>
            <span class="muted" data-testid="share-copied">{move || copied.get()}</span>
        </div>
    }
}

/// `navigator.clipboard.writeText(text)`, then `done(true)`; `done(false)` where the browser has
/// no clipboard API or refuses (not a secure context, no permission).
fn copy_text(text: &str, done: impl Fn(bool) + 'static) {
    let write = || -> Option<js_sys::Promise> {
        let navigator = js_sys::Reflect::get(&window(), &JsValue::from_str("navigator")).ok()?;
        let clipboard = js_sys::Reflect::get(&navigator, &JsValue::from_str("clipboard")).ok()?;
        let write = js_sys::Reflect::get(&clipboard, &JsValue::from_str("writeText")).ok()?;
        let write: js_sys::Function = write.dyn_into().ok()?;
        write
            .call1(&clipboard, &JsValue::from_str(text))
            .ok()?
            .dyn_into()
            .ok()
    };
    let Some(promise) = write() else {
        done(false);
        return;
    };
    let done = std::rc::Rc::new(done);
    let failed = done.clone();
    // Each callback frees itself when called; the one never called stays (a few bytes a click).
    let resolve = Closure::once_into_js(move |_: JsValue| done(true));
    let reject = Closure::once_into_js(move |_: JsValue| failed(false));
    let then = js_sys::Reflect::get(&promise, &JsValue::from_str("then"))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    if let Some(then) = then {
        let _ = then.call2(&promise, &resolve, &reject);
    }
}

/// The page's own base address (`http://host:port/prefix/`), for a link when the daemon has no
/// public URL.
fn page_base() -> String {
    document()
        .base_uri()
        .ok()
        .flatten()
        .unwrap_or_else(|| window().location().origin().unwrap_or_default())
}

fn when(secs: Option<f64>, none: &str) -> String {
    secs.map_or_else(|| none.to_owned(), crate::browser::local_datetime)
}

fn state_of(link: &ShareLinkInfo) -> &'static str {
    match (link.live, link.revoked_at_secs) {
        (true, _) => "live",
        (false, Some(_)) => "revoked",
        (false, None) => "expired",
    }
}
