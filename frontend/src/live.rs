//! Data that loads once over REST and then stays live over the WebSocket, tied to the view that
//! shows it: nothing is applied after the view is gone, and its subscription ends with it.
//!
//! Two shapes cover every page:
//! - [`live`]: subscribe to a topic at once and fetch the snapshot meanwhile; the snapshot and the
//!   messages may arrive in either order, so `apply` keeps the newer (runs carry a `version`).
//! - [`load`]: fetch first, then act on the result under the view's owner, e.g. subscribe from
//!   just after what the snapshot showed (`since`), so nothing is missed or doubled.

use leptos::prelude::*;
use leptos::task::spawn_local;
use std::future::Future;
use std::rc::Rc;
use trackline_shared::ws::{ServerMsg, Topic};

use crate::ws;

/// What [`live`] hands to its `apply`.
#[derive(Debug)]
pub enum Live<T> {
    /// The REST answer (once).
    Snapshot(T),
    /// A message of the topic (snapshot, delta or error), as often as they come.
    Msg(ServerMsg),
}

/// Subscribes to `topic` for as long as the current view lives, and runs `fetch` once; `apply`
/// gets both the fetched snapshot and every message of the topic.
pub fn live<T: 'static>(
    fetch: impl Future<Output = T> + 'static,
    topic: Topic,
    apply: impl Fn(Live<T>) + 'static,
) {
    let apply = Rc::new(apply);
    ws::use_subscription(topic, {
        let apply = apply.clone();
        move |msg| apply(Live::Msg(msg))
    });
    load(fetch, move |snapshot| apply(Live::Snapshot(snapshot)));
}

/// Runs `fetch`; when it is done, and if the current view still exists, runs `then` with the
/// result under the view's reactive owner (so signals, effects and subscriptions it makes end
/// with the view).
pub fn load<T: 'static>(fetch: impl Future<Output = T> + 'static, then: impl FnOnce(T) + 'static) {
    let alive = StoredValue::new(());
    let owner = Owner::current();
    spawn_local(async move {
        let result = fetch.await;
        if alive.is_disposed() {
            return;
        }
        match owner {
            Some(owner) => owner.with(|| then(result)),
            None => then(result),
        }
    });
}
