//! Presence: who else has this project open, what they view, their pointer on charts, and which
//! note they edit (docs/frontend.md, "Presence"; the protocol in `shared/src/presence.rs`).
//!
//! This page tells the daemon its state over the one WebSocket ([`crate::ws`]): the view when the
//! route changes ([`bar::PresenceBar`] follows it), the cursor when a chart's pointer moves
//! ([`set_cursor`]), the entity being edited ([`set_editing`]). It sends at most
//! [`trackline_shared::presence::CURSOR_HZ`] messages a second and a new view at most once a
//! second (later changes wait, and the latest wins), re-sends its state every
//! [`trackline_shared::presence::HEARTBEAT_SECS`] as a heartbeat, and again on every new
//! connection. What the daemon says of the others lands in [`Presence::peers`].
//!
//! Parts: [`bar`] (the avatars in the header), [`editing`] (the "editing" badge and the hook a
//! note editor calls), [`view`](mod@view) (pure helpers); the chart overlay is in
//! `components/chart/cursors.rs`.

pub mod bar;
pub mod editing;
pub mod view;

use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::time::Duration;
use trackline_shared::presence::{
    CURSOR_HZ, ConnId, Cursor, HEARTBEAT_SECS, Me, Peer, PresenceState, VIEW_HZ, View,
};
use trackline_shared::ws::{ClientMsg, ServerMsg};

pub use bar::PresenceBar;
pub use editing::{EditingBadge, use_editing};

/// What the page knows of presence, as signals.
#[derive(Clone, Copy, Debug)]
pub struct Presence {
    /// This connection, as the daemon's hello named it.
    pub me: RwSignal<Option<Me>>,
    /// The others of this project, by connection.
    pub peers: RwSignal<BTreeMap<ConnId, Peer>>,
}

/// What this page last wanted to say and last said.
#[derive(Default)]
struct Outgoing {
    want: PresenceState,
    sent: Option<PresenceState>,
    last_send_ms: f64,
    last_view_ms: f64,
    timer: bool,
}

thread_local! {
    static STATE: Cell<Option<Presence>> = const { Cell::new(None) };
    static OUT: RefCell<Option<Outgoing>> = const { RefCell::new(None) };
}

const CURSOR_MS: f64 = 1000.0 / CURSOR_HZ as f64;
const VIEW_MS: f64 = 1000.0 / VIEW_HZ as f64;

/// Starts presence for the page (once, from the app): its signals and the heartbeat.
pub fn start() -> Presence {
    if let Some(p) = STATE.get() {
        return p;
    }
    let p = Presence {
        me: RwSignal::new(None),
        peers: RwSignal::new(BTreeMap::new()),
    };
    STATE.set(Some(p));
    OUT.with_borrow_mut(|o| *o = Some(Outgoing::default()));
    set_interval(heartbeat, Duration::from_secs(HEARTBEAT_SECS));
    p
}

/// The page's presence; `None` before [`start`].
pub fn presence() -> Option<Presence> {
    STATE.get()
}

/// This page now shows `view`.
pub fn set_view(view: View) {
    change(|s| s.view = view);
}

/// The pointer is at `cursor` on a chart (`None`: on none).
pub fn set_cursor(cursor: Option<Cursor>) {
    change(|s| s.cursor = cursor);
}

/// This page now edits `entity` (e.g. `note:run:<id>`, see [`view::note_entity`]), or nothing.
pub fn set_editing(entity: Option<String>) {
    change(|s| s.editing = entity);
}

fn change(f: impl FnOnce(&mut PresenceState)) {
    let changed = OUT.with_borrow_mut(|o| {
        let Some(o) = o else { return false };
        let before = o.want.clone();
        f(&mut o.want);
        o.want != before
    });
    if changed {
        flush();
    }
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Sends what the pace allows now and schedules the rest.
fn flush() {
    let now = now_ms();
    let (msg, wait_ms) = OUT.with_borrow_mut(|o| {
        let Some(o) = o else { return (None, None) };
        if o.timer {
            return (None, None);
        }
        let since_send = now - o.last_send_ms;
        if o.sent.is_some() && since_send < CURSOR_MS {
            o.timer = true;
            return (None, Some(CURSOR_MS - since_send));
        }
        let mut msg = o.want.clone();
        let mut wait_ms = None;
        match &o.sent {
            Some(sent) if msg.view != sent.view => {
                let since_view = now - o.last_view_ms;
                if since_view < VIEW_MS {
                    msg.view = sent.view.clone();
                    // Come back at the cursor's pace: cursor moves go on meanwhile.
                    wait_ms = Some((VIEW_MS - since_view).min(CURSOR_MS));
                } else {
                    o.last_view_ms = now;
                }
            }
            Some(_) => {}
            None => o.last_view_ms = now,
        }
        o.timer = wait_ms.is_some();
        if o.sent.as_ref() == Some(&msg) {
            return (None, wait_ms);
        }
        o.sent = Some(msg.clone());
        o.last_send_ms = now;
        (Some(msg), wait_ms)
    });
    if let Some(msg) = msg {
        crate::ws::send(&ClientMsg::Presence(msg));
    }
    if let Some(ms) = wait_ms {
        set_timeout(
            || {
                OUT.with_borrow_mut(|o| {
                    if let Some(o) = o {
                        o.timer = false;
                    }
                });
                flush();
            },
            Duration::from_millis(ms.ceil().max(1.0) as u64),
        );
    }
}

/// Says the last state again, so the daemon keeps this page among the present.
fn heartbeat() {
    let msg = OUT.with_borrow_mut(|o| {
        let o = o.as_mut()?;
        let msg = o.sent.clone()?;
        o.last_send_ms = now_ms();
        Some(msg)
    });
    if let Some(msg) = msg {
        crate::ws::send(&ClientMsg::Presence(msg));
    }
}

/// A new connection is open: the daemon knows nothing of this page yet, so it is told at once.
pub fn on_open() {
    OUT.with_borrow_mut(|o| {
        if let Some(o) = o {
            o.sent = None;
        }
    });
    if let Some(p) = presence() {
        p.peers.set(BTreeMap::new());
    }
    flush();
}

/// Takes the daemon's hello and presence messages; answers whether `msg` was one of them.
pub fn on_server_msg(msg: &ServerMsg) -> bool {
    let Some(p) = presence() else {
        return matches!(msg, ServerMsg::Presence { .. } | ServerMsg::PeerLeft { .. });
    };
    match msg {
        ServerMsg::Hello { you, .. } => {
            p.me.set(you.clone());
            false
        }
        ServerMsg::Presence { peers } => {
            p.peers.update(|all| {
                for peer in peers {
                    all.insert(peer.conn, peer.clone());
                }
            });
            true
        }
        ServerMsg::PeerLeft { conn } => {
            p.peers.update(|all| {
                all.remove(conn);
            });
            true
        }
        _ => false,
    }
}
