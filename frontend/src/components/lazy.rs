//! Mounting a costly view only once it comes near the viewport: until then a placeholder of
//! about its height stands in (one element, watched by one observer the whole page shares). A
//! workspace of hundreds of panels then builds only the panels a user can see, and the rest as
//! they are scrolled to; once built, a view stays (its own parts free what they hold out of view).

use leptos::html;
use leptos::prelude::*;
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Element, IntersectionObserver, IntersectionObserverEntry, IntersectionObserverInit};

/// How far outside the viewport a placeholder starts its view (CSS margin).
const AHEAD: &str = "400px 0px";

/// The attribute that names a placeholder in [`Watcher::waiting`].
const ID_ATTR: &str = "data-lazy-id";

/// The page's one observer of placeholders, and what each placeholder waits to set.
struct Watcher {
    io: IntersectionObserver,
    _callback: Closure<dyn FnMut(js_sys::Array)>,
    waiting: HashMap<u32, (Element, RwSignal<bool>)>,
    next_id: u32,
}

thread_local! {
    /// `None` until the first placeholder, and where the browser has no IntersectionObserver.
    static WATCHER: RefCell<Option<Watcher>> = const { RefCell::new(None) };
}

/// The shared observer, made on first use; `None` where it cannot be.
fn with_watcher<T>(f: impl FnOnce(&mut Watcher) -> T) -> Option<T> {
    WATCHER.with(|w| {
        let mut w = w.borrow_mut();
        if w.is_none() {
            let callback = Closure::<dyn FnMut(js_sys::Array)>::new(on_entries);
            let init = IntersectionObserverInit::new();
            init.set_root_margin(AHEAD);
            let io =
                IntersectionObserver::new_with_options(callback.as_ref().unchecked_ref(), &init)
                    .ok()?;
            *w = Some(Watcher {
                io,
                _callback: callback,
                waiting: HashMap::new(),
                next_id: 0,
            });
        }
        w.as_mut().map(f)
    })
}

/// The observer's callback: each placeholder come near the viewport stops being watched and
/// mounts its view (the signals are set once the watcher is released: a view mounting may add
/// placeholders of its own).
fn on_entries(entries: js_sys::Array) {
    let near: Vec<u32> = entries
        .iter()
        .filter_map(|e| e.dyn_into::<IntersectionObserverEntry>().ok())
        .filter(IntersectionObserverEntry::is_intersecting)
        .filter_map(|e| e.target().get_attribute(ID_ATTR)?.parse().ok())
        .collect();
    let mount: Vec<RwSignal<bool>> = near
        .into_iter()
        .filter_map(|id| with_watcher(|w| forget(w, id)).flatten())
        .collect();
    for m in mount {
        m.try_set(true);
    }
}

/// Stops watching placeholder `id`; answers the signal it waited to set.
fn forget(w: &mut Watcher, id: u32) -> Option<RwSignal<bool>> {
    let (el, mounted) = w.waiting.remove(&id)?;
    w.io.unobserve(&el);
    Some(mounted)
}

/// `children` once the placeholder (`class`, `min_height` px) has come within [`AHEAD`] of
/// the viewport; at once where there is no IntersectionObserver.
#[component]
pub fn Lazy(#[prop(into)] class: String, min_height: f64, children: ChildrenFn) -> impl IntoView {
    let mounted = RwSignal::new(false);
    let holder = NodeRef::<html::Div>::new();
    let watched: StoredValue<Option<u32>> = StoredValue::new(None);
    let stop = move || {
        if let Some(Some(id)) = watched.try_update_value(Option::take) {
            with_watcher(|w| forget(w, id));
        }
    };
    Effect::new(move |_| {
        let Some(el) = holder.get() else { return };
        if mounted.get_untracked() || watched.with_value(Option::is_some) {
            return;
        }
        let el: Element = el.into();
        let id = with_watcher(|w| {
            let id = w.next_id;
            w.next_id = w.next_id.wrapping_add(1);
            let _ = el.set_attribute(ID_ATTR, &id.to_string());
            w.waiting.insert(id, (el.clone(), mounted));
            w.io.observe(&el);
            id
        });
        match id {
            Some(id) => watched.set_value(Some(id)),
            None => mounted.set(true),
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
