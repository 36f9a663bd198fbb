//! Mounting a costly view only once it comes near the viewport: until then a placeholder of
//! about its height stands in (one element, one shared observer callback). A workspace of
//! hundreds of panels then builds only the panels a user can see, and the rest as they are
//! scrolled to; once built, a view stays (its own parts free what they hold out of view).

use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{IntersectionObserver, IntersectionObserverEntry, IntersectionObserverInit};

/// How far outside the viewport a placeholder starts its view (CSS margin).
const AHEAD: &str = "400px 0px";

type Watcher = (IntersectionObserver, Closure<dyn FnMut(js_sys::Array)>);

/// `children` once the placeholder (`class`, `min_height` px) has come within [`AHEAD`] of
/// the viewport; at once where there is no IntersectionObserver.
#[component]
pub fn Lazy(#[prop(into)] class: String, min_height: f64, children: ChildrenFn) -> impl IntoView {
    let mounted = RwSignal::new(false);
    let holder = NodeRef::<html::Div>::new();
    let watcher: StoredValue<Option<Watcher>, LocalStorage> = StoredValue::new_local(None);
    let stop = move || {
        watcher.try_update_value(|w| {
            if let Some((io, _)) = w.take() {
                io.disconnect();
            }
        });
    };
    Effect::new(move |_| {
        let Some(el) = holder.get() else { return };
        if mounted.get_untracked() || watcher.with_value(Option::is_some) {
            return;
        }
        let cb = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
            let near = entries.iter().any(|e| {
                e.dyn_into::<IntersectionObserverEntry>()
                    .is_ok_and(|e| e.is_intersecting())
            });
            if near && !mounted.get_untracked() {
                mounted.set(true);
            }
        });
        let init = IntersectionObserverInit::new();
        init.set_root_margin(AHEAD);
        match IntersectionObserver::new_with_options(cb.as_ref().unchecked_ref(), &init) {
            Ok(io) => {
                io.observe(&el);
                watcher.set_value(Some((io, cb)));
            }
            Err(_) => mounted.set(true),
        }
    });
    Effect::new(move |_| {
        if mounted.get() {
            stop();
        }
    });
    on_cleanup(stop);
    let children = StoredValue::new(children);
    view! {
        <Show
            when=move || mounted.get()
            fallback=move || {
                view! {
                    <div
                        class=class.clone()
                        node_ref=holder
                        data-testid="lazy-placeholder"
                        style=format!("min-height:{min_height}px")
                    ></div>
                }
            }
        >
            {children.with_value(|c| c())}
        </Show>
    }
}
