//! One `run` topic subscription per run for the whole page, shared by every view that follows a
//! run (the workspace's metric keys, the media panels' media keys): the daemon serves and sends
//! each run's changes once, not once per view. A view that joins a run already followed gets the
//! run's last `Runs`, `Keys` and `MediaKeys` messages at once (in a task of its own, never inside
//! the caller), then every message the topic sends.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use trackline_shared::ws::{ServerMsg, SubId, Topic};

use crate::ws;

type Listener = Rc<dyn Fn(&ServerMsg)>;

/// A view's hold on a run's feed, given back with [`unwatch`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct WatchId(u64);

/// `(project, run)`.
type RunKey = (String, String);

struct Feed {
    sub: SubId,
    listeners: BTreeMap<WatchId, Listener>,
    /// The last message of each kind a joining view needs (info, keys, media keys).
    last: [Option<ServerMsg>; 3],
}

thread_local! {
    static FEEDS: RefCell<BTreeMap<RunKey, Feed>> = const { RefCell::new(BTreeMap::new()) };
    static WATCHERS: RefCell<BTreeMap<WatchId, RunKey>> = const { RefCell::new(BTreeMap::new()) };
    static NEXT: Cell<u64> = const { Cell::new(1) };
}

/// Which slot of [`Feed::last`] keeps `msg`, if any.
fn slot(msg: &ServerMsg) -> Option<usize> {
    match msg {
        ServerMsg::Runs { .. } => Some(0),
        ServerMsg::Keys { .. } => Some(1),
        ServerMsg::MediaKeys { .. } => Some(2),
        _ => None,
    }
}

/// Follows run `run` of `project`: `handler` gets the run's messages until [`unwatch`].
pub fn watch(project: &str, run: &str, handler: impl Fn(&ServerMsg) + 'static) -> WatchId {
    let id = WatchId(NEXT.with(|n| n.replace(n.get() + 1)));
    let key: RunKey = (project.to_string(), run.to_string());
    let handler: Listener = Rc::new(handler);
    let replay = FEEDS.with_borrow_mut(|feeds| {
        if let Some(feed) = feeds.get_mut(&key) {
            feed.listeners.insert(id, handler.clone());
            return feed.last.iter().flatten().cloned().collect::<Vec<_>>();
        }
        let from = key.clone();
        let sub = ws::subscribe(
            Topic::Run {
                project: key.0.clone(),
                run: key.1.clone(),
            },
            move |msg| deliver(&from, msg),
        );
        feeds.insert(
            key.clone(),
            Feed {
                sub,
                listeners: BTreeMap::from([(id, handler.clone())]),
                last: [None, None, None],
            },
        );
        Vec::new()
    });
    WATCHERS.with_borrow_mut(|w| w.insert(id, key));
    if !replay.is_empty() {
        leptos::task::spawn_local(async move {
            let still = WATCHERS.with_borrow(|w| w.contains_key(&id));
            if still {
                for msg in &replay {
                    handler(msg);
                }
            }
        });
    }
    id
}

/// Ends a view's hold; the run's subscription ends with the last one.
pub fn unwatch(id: WatchId) {
    let Some(key) = WATCHERS.with_borrow_mut(|w| w.remove(&id)) else {
        return;
    };
    let ended = FEEDS.with_borrow_mut(|feeds| {
        let feed = feeds.get_mut(&key)?;
        feed.listeners.remove(&id);
        if feed.listeners.is_empty() {
            feeds.remove(&key).map(|f| f.sub)
        } else {
            None
        }
    });
    if let Some(sub) = ended {
        ws::unsubscribe(sub);
    }
}

/// A topic message for `key`: kept for views that join later, then handed to each listener
/// (outside the borrow, so a listener may watch or unwatch).
fn deliver(key: &RunKey, msg: ServerMsg) {
    let listeners = FEEDS.with_borrow_mut(|feeds| {
        let feed = feeds.get_mut(key)?;
        if let Some(i) = slot(&msg) {
            feed.last[i] = Some(msg.clone());
        }
        Some(feed.listeners.values().cloned().collect::<Vec<_>>())
    });
    for listener in listeners.into_iter().flatten() {
        listener(&msg);
    }
}
