//! The page's one WebSocket connection to `api/ws`, shared by every view.
//!
//! Views subscribe to topics with a handler; the client sends the subscriptions whenever a
//! connection opens, reconnects with exponential backoff when it closes, and resumes each
//! subscription from where it left off: a `series` topic from the next point offset it lacks
//! (`from`), a `project` topic from the largest run `version` it saw (`since`). It also drops
//! already-delivered points, so a handler sees every point exactly once per subscription.
//!
//! Run versions restart with the daemon. When the connection was lost in a way that suggests a
//! restart (a reconnect attempt failed in between, or the server said it was going away), project
//! subscriptions resume from `since: 0`; run upserts are idempotent, so that costs a resend only.

use leptos::prelude::*;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;
use trackline_shared::ws::{ClientMsg, ServerMsg, SubId, Topic};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

/// Connection state shown in the header (`data-testid="ws-status"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Live,
    Reconnecting,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Live => "live",
            Status::Reconnecting => "reconnecting",
        }
    }
}

type Handler = Rc<dyn Fn(ServerMsg)>;

struct Sub {
    topic: Topic,
    handler: Handler,
    /// The topic's `kind` (`run`, `series`, ...), counted in [`Client::kinds`].
    kind: String,
}

struct Conn {
    socket: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        let _ = self.socket.close();
    }
}

struct Client {
    conn: Option<Conn>,
    /// Bumped for every socket, so events of an old one are ignored.
    generation: u64,
    open: bool,
    ever_open: bool,
    /// Since the last open connection: a connection attempt failed, or the server went away.
    maybe_restarted: bool,
    backoff_ms: f64,
    subs: BTreeMap<SubId, Sub>,
    /// Subscriptions by topic kind, shown to tests and benchmarks as
    /// `window.__trackline_ws_topics` (`{"run": 3, "series": 12}`).
    kinds: BTreeMap<String, u32>,
    next_id: SubId,
    status: Option<RwSignal<Status>>,
    last_seen_ms: f64,
    started: bool,
}

thread_local! {
    static CLIENT: RefCell<Client> = const { RefCell::new(Client {
        conn: None,
        generation: 0,
        open: false,
        ever_open: false,
        maybe_restarted: false,
        backoff_ms: INITIAL_BACKOFF_MS,
        subs: BTreeMap::new(),
        kinds: BTreeMap::new(),
        next_id: 1,
        status: None,
        last_seen_ms: 0.0,
        started: false,
    }) };
}

const INITIAL_BACKOFF_MS: f64 = 250.0;
const MAX_BACKOFF_MS: f64 = 8000.0;
/// Ping after this much silence; give the connection up after [`DEAD_AFTER_MS`].
const PING_EVERY_MS: u64 = 20_000;
const DEAD_AFTER_MS: f64 = 50_000.0;

/// Opens the connection (once per page) and reports its state in `status`.
pub fn start(status: RwSignal<Status>) {
    let first = CLIENT.with_borrow_mut(|c| {
        c.status = Some(status);
        !std::mem::replace(&mut c.started, true)
    });
    if first {
        connect();
        set_interval(keepalive, Duration::from_millis(PING_EVERY_MS));
    }
}

/// Subscribes `handler` to `topic` for as long as the current reactive owner lives (the
/// subscription ends when the view that made it is disposed).
pub fn use_subscription(topic: Topic, handler: impl Fn(ServerMsg) + 'static) -> SubId {
    let id = subscribe(topic, handler);
    on_cleanup(move || unsubscribe(id));
    id
}

/// Subscribes `handler` to `topic` until [`unsubscribe`]. Messages for it (snapshot, deltas, its
/// errors) go to the handler, which must not assume it runs outside a reactive context.
pub fn subscribe(topic: Topic, handler: impl Fn(ServerMsg) + 'static) -> SubId {
    let kind = serde_json::to_value(&topic)
        .ok()
        .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_string))
        .unwrap_or_default();
    let (id, send) = CLIENT.with_borrow_mut(|c| {
        let id = c.next_id;
        c.next_id += 1;
        *c.kinds.entry(kind.clone()).or_default() += 1;
        c.subs.insert(
            id,
            Sub {
                topic: topic.clone(),
                handler: Rc::new(handler),
                kind,
            },
        );
        publish_kinds(&c.kinds);
        (id, c.open)
    });
    if send {
        send_msg(&ClientMsg::Subscribe { id, topic });
    }
    id
}

pub fn unsubscribe(id: SubId) {
    let send = CLIENT.with_borrow_mut(|c| {
        let Some(sub) = c.subs.remove(&id) else {
            return false;
        };
        if let Some(n) = c.kinds.get_mut(&sub.kind) {
            *n = n.saturating_sub(1);
        }
        publish_kinds(&c.kinds);
        c.open
    });
    if send {
        send_msg(&ClientMsg::Unsubscribe { id });
    }
}

/// Sets `window.__trackline_ws_topics` to the subscriptions by kind.
fn publish_kinds(kinds: &BTreeMap<String, u32>) {
    let object = js_sys::Object::new();
    for (kind, n) in kinds {
        let _ = js_sys::Reflect::set(&object, &kind.into(), &(*n).into());
    }
    let _ = js_sys::Reflect::set(&window(), &"__trackline_ws_topics".into(), &object);
}

/// Sends a message that is no subscription (presence) if the connection is open; dropped
/// otherwise (presence re-sends its state on every new connection).
pub fn send(msg: &ClientMsg) {
    send_msg(msg);
}

fn send_msg(msg: &ClientMsg) {
    let Ok(text) = serde_json::to_string(msg) else {
        return;
    };
    CLIENT.with_borrow(|c| {
        if let Some(conn) = &c.conn
            && c.open
        {
            let _ = conn.socket.send_with_str(&text);
        }
    });
}

/// `ws:`/`wss:` URL of `api/ws` (asking for batches) resolved against the document's base URL
/// `base`.
pub fn ws_url(base: &str) -> String {
    let (scheme, rest) = match base.split_once("://") {
        Some(("https", rest)) => ("wss", rest),
        Some((_, rest)) => ("ws", rest),
        None => ("ws", base),
    };
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let dir = match rest.rfind('/') {
        Some(last) => &rest[..=last],
        None => rest,
    };
    let dir = if dir.ends_with('/') {
        dir.to_string()
    } else {
        format!("{dir}/")
    };
    // Batches: a live project's many `points` messages come a frame at a time.
    format!("{scheme}://{dir}api/ws?batch=1")
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn set_status(s: Status) {
    if let Some(sig) = CLIENT.with_borrow(|c| c.status) {
        sig.try_set(s);
    }
}

fn connect() {
    let base = document()
        .base_uri()
        .ok()
        .flatten()
        .unwrap_or_else(|| window().location().href().unwrap_or_default());
    let url = ws_url(&base);
    let socket = match WebSocket::new(&url) {
        Ok(s) => s,
        Err(e) => {
            leptos::logging::warn!("trackline: cannot open {url}: {e:?}");
            CLIENT.with_borrow_mut(|c| c.maybe_restarted = true);
            schedule_reconnect();
            return;
        }
    };
    let generation = CLIENT.with_borrow_mut(|c| {
        c.generation += 1;
        c.generation
    });
    let on_open = Closure::<dyn FnMut()>::new(move || on_open(generation));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        if let Some(text) = ev.data().as_string() {
            on_message(generation, &text);
        }
    });
    let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |ev: CloseEvent| {
        on_close(generation, ev.code())
    });
    socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    let old = CLIENT.with_borrow_mut(|c| {
        c.open = false;
        c.conn.replace(Conn {
            socket,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        })
    });
    drop(old);
}

fn on_open(generation: u64) {
    let msgs = CLIENT.with_borrow_mut(|c| {
        if c.generation != generation {
            return None;
        }
        c.open = true;
        c.backoff_ms = INITIAL_BACKOFF_MS;
        c.last_seen_ms = now_ms();
        let restarted = c.ever_open && c.maybe_restarted;
        c.ever_open = true;
        c.maybe_restarted = false;
        let mut msgs = Vec::with_capacity(c.subs.len());
        for (&id, sub) in c.subs.iter_mut() {
            if restarted {
                forget_versions(&mut sub.topic);
            }
            msgs.push(ClientMsg::Subscribe {
                id,
                topic: sub.topic.clone(),
            });
        }
        Some(msgs)
    });
    let Some(msgs) = msgs else { return };
    for m in &msgs {
        send_msg(m);
    }
    crate::presence::on_open();
    set_status(Status::Live);
}

fn on_close(generation: u64, code: u16) {
    let current = CLIENT.with_borrow_mut(|c| {
        if c.generation != generation {
            return false;
        }
        // An attempt that never opened means the daemon was unreachable; 1001 means it shut down.
        if !c.open || code == 1001 {
            c.maybe_restarted = true;
        }
        c.open = false;
        true
    });
    if current {
        // Drop the socket outside the borrow (its Drop touches the JS object only).
        let old = CLIENT.with_borrow_mut(|c| c.conn.take());
        drop(old);
        set_status(Status::Reconnecting);
        if code == crate::share::WS_CLOSE_REVOKED {
            // The page's link was revoked or expired: no reconnect; the 401 page says why.
            crate::share::refused("this link was revoked or has expired");
            return;
        }
        schedule_reconnect();
    }
}

fn schedule_reconnect() {
    let delay = CLIENT.with_borrow_mut(|c| {
        let d = c.backoff_ms;
        c.backoff_ms = (c.backoff_ms * 2.0).min(MAX_BACKOFF_MS);
        // Jitter so many tabs do not reconnect in lockstep.
        d * (0.75 + 0.5 * js_sys::Math::random())
    });
    set_timeout(connect, Duration::from_millis(delay as u64));
}

fn keepalive() {
    let (open, silent_for) = CLIENT.with_borrow(|c| (c.open, now_ms() - c.last_seen_ms));
    if !open {
        return;
    }
    if silent_for > DEAD_AFTER_MS {
        // Half-open connection: give it up now rather than wait for a close handshake that may
        // never finish. A new generation makes the old socket's late events harmless.
        let old = CLIENT.with_borrow_mut(|c| {
            c.generation += 1;
            c.open = false;
            c.maybe_restarted = true;
            c.conn.take()
        });
        drop(old);
        set_status(Status::Reconnecting);
        schedule_reconnect();
    } else if silent_for > (PING_EVERY_MS as f64) * 0.9 {
        send_msg(&ClientMsg::Ping {
            nonce: now_ms() as u64,
        });
    }
}

fn on_message(generation: u64, text: &str) {
    match serde_json::from_str::<ServerMsg>(text) {
        Ok(ServerMsg::Batch { msgs }) => {
            for msg in msgs {
                dispatch(generation, msg);
            }
        }
        Ok(msg) => dispatch(generation, msg),
        Err(e) => leptos::logging::warn!("trackline: unreadable message from the daemon: {e}"),
    }
}

/// Hands one message to presence or to the subscription it belongs to.
fn dispatch(generation: u64, msg: ServerMsg) {
    if let ServerMsg::Error { sub: None, message } = &msg {
        leptos::logging::warn!("trackline: daemon error: {message}");
        return;
    }
    if crate::presence::on_server_msg(&msg) {
        CLIENT.with_borrow_mut(|c| c.last_seen_ms = now_ms());
        return;
    }
    let target = CLIENT.with_borrow_mut(|c| {
        if c.generation != generation {
            return None;
        }
        c.last_seen_ms = now_ms();
        let id = sub_of(&msg)?;
        let sub = c.subs.get_mut(&id)?;
        let msg = track(&mut sub.topic, msg)?;
        Some((sub.handler.clone(), msg))
    });
    if let Some((handler, msg)) = target {
        handler(msg);
    }
}

/// The subscription a message belongs to.
pub fn sub_of(msg: &ServerMsg) -> Option<SubId> {
    match msg {
        ServerMsg::Projects { sub, .. }
        | ServerMsg::Runs { sub, .. }
        | ServerMsg::RunRemoved { sub, .. }
        | ServerMsg::Keys { sub, .. }
        | ServerMsg::Points { sub, .. }
        | ServerMsg::Media { sub, .. }
        | ServerMsg::MediaKeys { sub, .. }
        | ServerMsg::Artifacts { sub, .. }
        | ServerMsg::Sweeps { sub, .. }
        | ServerMsg::Sweep { sub, .. }
        | ServerMsg::Annotations { sub, .. } => Some(*sub),
        ServerMsg::Error { sub, .. } => *sub,
        ServerMsg::Hello { .. }
        | ServerMsg::Subscribed { .. }
        | ServerMsg::Pong { .. }
        | ServerMsg::Presence { .. }
        | ServerMsg::PeerLeft { .. }
        | ServerMsg::Batch { .. } => None,
    }
}

/// Advances the resume offset of `topic` past `msg` and returns what is new in it: points below the
/// offset already delivered are cut off (`None` if nothing is left).
pub fn track(topic: &mut Topic, msg: ServerMsg) -> Option<ServerMsg> {
    match (topic, msg) {
        (
            Topic::Series { from, .. },
            ServerMsg::Points {
                sub,
                run,
                key,
                start,
                mut step,
                mut wall_time,
                mut value,
            },
        ) => {
            let n = value.len().min(step.len()).min(wall_time.len());
            let end = start + n as u64;
            if end <= *from {
                return None;
            }
            let (start, skip) = if start < *from {
                (*from, (*from - start) as usize)
            } else {
                (start, 0)
            };
            *from = end;
            step.truncate(n);
            wall_time.truncate(n);
            value.truncate(n);
            step.drain(..skip);
            wall_time.drain(..skip);
            value.drain(..skip);
            Some(ServerMsg::Points {
                sub,
                run,
                key,
                start,
                step,
                wall_time,
                value,
            })
        }
        (
            Topic::Media { from, .. },
            ServerMsg::Media {
                sub,
                run,
                key,
                start,
                mut entries,
            },
        ) => {
            let end = start + entries.len() as u64;
            if end <= *from {
                return None;
            }
            let skip = from.saturating_sub(start) as usize;
            entries.drain(..skip);
            let start = start.max(*from);
            *from = end;
            Some(ServerMsg::Media {
                sub,
                run,
                key,
                start,
                entries,
            })
        }
        (Topic::Project { since, .. }, msg @ ServerMsg::Runs { .. }) => {
            if let ServerMsg::Runs { runs, .. } = &msg {
                for r in runs {
                    *since = (*since).max(r.version);
                }
            }
            Some(msg)
        }
        (Topic::Annotations { since, .. }, ServerMsg::Annotations { sub, mut events }) => {
            events.retain(|e| e.seq > *since);
            let last = events.last()?.seq;
            *since = last;
            Some(ServerMsg::Annotations { sub, events })
        }
        (_, msg) => Some(msg),
    }
}

/// After a daemon restart run versions count from zero again.
fn forget_versions(topic: &mut Topic) {
    if let Topic::Project { since, .. } = topic {
        *since = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trackline_shared::api::RunInfo;

    fn points(start: u64, vals: &[f64]) -> ServerMsg {
        ServerMsg::Points {
            sub: 1,
            run: "r".into(),
            key: "k".into(),
            start,
            step: vals
                .iter()
                .enumerate()
                .map(|(i, _)| (start + i as u64) as f64)
                .collect(),
            wall_time: vec![0.0; vals.len()],
            value: vals.to_vec(),
        }
    }

    #[test]
    fn series_offsets_dedup() {
        let mut t = Topic::Series {
            project: "p".into(),
            run: "r".into(),
            key: "k".into(),
            from: 5,
            x_key: None,
        };
        assert!(track(&mut t, points(2, &[1.0, 2.0])).is_none());
        let Some(ServerMsg::Points {
            start, value, step, ..
        }) = track(&mut t, points(3, &[1.0, 2.0, 3.0, 4.0]))
        else {
            panic!()
        };
        assert_eq!((start, value, step), (5, vec![3.0, 4.0], vec![5.0, 6.0]));
        assert!(matches!(t, Topic::Series { from: 7, .. }));
        assert!(track(&mut t, points(7, &[])).is_none());
        assert!(track(&mut t, points(7, &[9.0])).is_some());
        assert!(matches!(t, Topic::Series { from: 8, .. }));
    }

    #[test]
    fn project_since_tracks_versions() {
        let mut t = Topic::Project {
            project: "p".into(),
            since: 3,
        };
        let runs = vec![
            RunInfo {
                version: 9,
                ..Default::default()
            },
            RunInfo {
                version: 4,
                ..Default::default()
            },
        ];
        assert!(track(&mut t, ServerMsg::Runs { sub: 1, runs }).is_some());
        assert!(matches!(t, Topic::Project { since: 9, .. }));
        forget_versions(&mut t);
        assert!(matches!(t, Topic::Project { since: 0, .. }));
    }

    #[test]
    fn ws_urls() {
        assert_eq!(
            ws_url("http://127.0.0.1:8765/"),
            "ws://127.0.0.1:8765/api/ws?batch=1"
        );
        assert_eq!(
            ws_url("https://h.example/prefix/"),
            "wss://h.example/prefix/api/ws?batch=1"
        );
        assert_eq!(
            ws_url("http://h/prefix/projects/x?y=1#z"),
            "ws://h/prefix/projects/api/ws?batch=1"
        );
        assert_eq!(
            ws_url("http://localhost:8765"),
            "ws://localhost:8765/api/ws?batch=1"
        );
    }
}
