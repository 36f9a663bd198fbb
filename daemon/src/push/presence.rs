//! Presence: who else has the app open, per project, kept in memory only (never stored).
//!
//! Every WebSocket joins the [`PresenceHub`] and gets a [`PresenceConn`]: its id, and the label and
//! colour others see (from its share link; `local` and a colour of its own without sharing). A
//! connection becomes a peer with its first `presence` message; from then on the people of the
//! project its view names get its state as [`ServerMsg::Presence`] upserts, and
//! [`ServerMsg::PeerLeft`] once it closes (at once), moves to another project, or stays silent
//! past [`PresenceSettings::timeout`].
//!
//! Rate limits per person: cursor moves are forwarded at most every
//! [`PresenceSettings::cursor_interval`] (so are editing changes), view changes every
//! [`PresenceSettings::view_interval`]; excess updates are not queued but coalesced (the latest
//! wins) and go out when the interval has passed ([`PresenceHub::run`] ticks for that).
//!
//! Delivery never blocks and never uses a connection's data queue: each connection has an
//! [`Outbox`] holding at most one pending entry per peer (the latest). Its writer sends it only when
//! the data queue is empty, so presence is the first thing held back (and coalesced) for a slow
//! viewer, and it can never make a viewer a slow consumer.

use crate::auth::scope::Scope;
use crate::auth::sharing::Principal;
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use trackline_shared::ServerMsg;
use trackline_shared::presence::{self, ConnId, Me, Peer, PresenceState};

/// How presence is paced and when a silent peer is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresenceSettings {
    /// A peer not heard from this long is dropped.
    pub timeout: Duration,
    /// Least time between two forwarded cursor moves (or editing changes) of one person.
    pub cursor_interval: Duration,
    /// Least time between two forwarded view changes of one person.
    pub view_interval: Duration,
}

impl Default for PresenceSettings {
    fn default() -> Self {
        PresenceSettings {
            timeout: Duration::from_secs(presence::TIMEOUT_SECS),
            cursor_interval: Duration::from_secs(1) / presence::CURSOR_HZ,
            view_interval: Duration::from_secs(1) / presence::VIEW_HZ,
        }
    }
}

/// The presence of every connection of this daemon.
#[derive(Debug)]
pub struct PresenceHub {
    settings: PresenceSettings,
    inner: Mutex<Hub>,
}

#[derive(Debug, Default)]
struct Hub {
    next_conn: ConnId,
    conns: HashMap<ConnId, Conn>,
}

#[derive(Debug)]
struct Conn {
    me: Me,
    /// A viewer edits nothing, so its `editing` is ignored.
    may_edit: bool,
    outbox: Arc<Outbox>,
    /// Set by its first presence message; cleared when it goes silent.
    peer: Option<Tracked>,
}

/// A peer's state: what it last said, and what the others were last sent.
#[derive(Debug)]
struct Tracked {
    latest: PresenceState,
    sent: PresenceState,
    last_heard: Instant,
    view_sent_at: Instant,
    cursor_sent_at: Instant,
}

/// What one connection still has to be told about its peers: per peer the latest upsert (or
/// `None`: it left). Bounded by the number of peers, however slowly the connection reads.
#[derive(Debug, Default)]
pub struct Outbox {
    pending: Mutex<BTreeMap<ConnId, Option<Peer>>>,
    ready: Notify,
}

impl Outbox {
    fn put(&self, conn: ConnId, peer: Option<Peer>) {
        self.pending.lock().insert(conn, peer);
        self.ready.notify_one();
    }

    /// Everything pending, as messages (departures first, then one upsert of the rest); empty if
    /// nothing is.
    pub fn take(&self) -> Vec<ServerMsg> {
        let pending = std::mem::take(&mut *self.pending.lock());
        let mut msgs = Vec::new();
        let mut peers = Vec::new();
        for (conn, entry) in pending {
            match entry {
                Some(peer) => peers.push(peer),
                None => msgs.push(ServerMsg::PeerLeft { conn }),
            }
        }
        if !peers.is_empty() {
            msgs.push(ServerMsg::Presence { peers });
        }
        msgs
    }

    /// Waits until something is pending and takes it. Cancel-safe: nothing is taken before it
    /// returns.
    pub async fn next(&self) -> Vec<ServerMsg> {
        loop {
            let msgs = self.take();
            if !msgs.is_empty() {
                return msgs;
            }
            self.ready.notified().await;
        }
    }
}

/// One connection's part in the hub; it leaves (and its peers are told at once) when dropped.
#[derive(Debug)]
pub struct PresenceConn {
    hub: Arc<PresenceHub>,
    me: Me,
    outbox: Arc<Outbox>,
}

impl PresenceConn {
    /// Who this connection is to the others (sent in its hello).
    pub fn me(&self) -> &Me {
        &self.me
    }

    /// What its writer sends when the data queue is empty.
    pub fn outbox(&self) -> Arc<Outbox> {
        self.outbox.clone()
    }

    /// The connection said where it is (also its heartbeat).
    pub fn update(&self, state: PresenceState) {
        self.hub.update(self.me.conn, state, Instant::now());
    }
}

impl Drop for PresenceConn {
    fn drop(&mut self) {
        self.hub.leave(self.me.conn);
    }
}

impl PresenceHub {
    pub fn new(settings: PresenceSettings) -> Arc<PresenceHub> {
        Arc::new(PresenceHub {
            settings,
            inner: Mutex::default(),
        })
    }

    pub fn settings(&self) -> PresenceSettings {
        self.settings
    }

    /// A new connection, as `principal` (sharing mode) or a local one.
    pub fn join(self: &Arc<Self>, principal: Option<&Principal>) -> PresenceConn {
        let mut hub = self.inner.lock();
        hub.next_conn += 1;
        let conn = hub.next_conn;
        let me = Me {
            conn,
            label: principal.map_or_else(|| "local".to_owned(), |p| p.label.clone()),
            color: match principal {
                Some(p) => color_of(&p.link_id),
                None => color_of(&format!("connection {conn}")),
            },
            scope: principal.map(|p| p.scope.as_str().to_owned()),
        };
        let outbox = Arc::new(Outbox::default());
        hub.conns.insert(
            conn,
            Conn {
                me: me.clone(),
                may_edit: principal.is_none_or(|p| p.scope.allows(Scope::Annotator)),
                outbox: outbox.clone(),
                peer: None,
            },
        );
        PresenceConn {
            hub: self.clone(),
            me,
            outbox,
        }
    }

    /// Peers known now (for tests and benchmarks).
    pub fn peer_count(&self) -> usize {
        let hub = self.inner.lock();
        hub.conns.values().filter(|c| c.peer.is_some()).count()
    }

    fn update(&self, conn: ConnId, state: PresenceState, now: Instant) {
        let mut hub = self.inner.lock();
        let Some(c) = hub.conns.get_mut(&conn) else {
            return;
        };
        let mut state = state.bounded();
        if !c.may_edit {
            state.editing = None;
        }
        match &mut c.peer {
            Some(t) => {
                t.latest = state;
                t.last_heard = now;
            }
            None => {
                c.peer = Some(Tracked {
                    latest: state.clone(),
                    sent: state,
                    last_heard: now,
                    view_sent_at: now,
                    cursor_sent_at: now,
                });
                hub.entered(conn, None);
                return;
            }
        }
        self.flush(&mut hub, conn, now);
    }

    /// Forwards what of `conn`'s latest state its intervals allow.
    fn flush(&self, hub: &mut Hub, conn: ConnId, now: Instant) {
        let Some(t) = hub.conns.get_mut(&conn).and_then(|c| c.peer.as_mut()) else {
            return;
        };
        let mut changed = false;
        let old_room = t.sent.view.project.clone();
        if t.latest.view != t.sent.view
            && now.saturating_duration_since(t.view_sent_at) >= self.settings.view_interval
        {
            t.sent.view = t.latest.view.clone();
            t.view_sent_at = now;
            changed = true;
        }
        // The editing badge goes at the cursor's pace: it should show at once.
        if (t.latest.cursor != t.sent.cursor || t.latest.editing != t.sent.editing)
            && now.saturating_duration_since(t.cursor_sent_at) >= self.settings.cursor_interval
        {
            t.sent.cursor = t.latest.cursor.clone();
            t.sent.editing = t.latest.editing.clone();
            t.cursor_sent_at = now;
            changed = true;
        }
        if !changed {
            return;
        }
        if t.sent.view.project == old_room {
            hub.tell_room(conn);
        } else {
            hub.entered(conn, Some(old_room));
        }
    }

    fn leave(&self, conn: ConnId) {
        let mut hub = self.inner.lock();
        if let Some(c) = hub.conns.remove(&conn)
            && let Some(t) = c.peer
        {
            hub.left(conn, &t.sent.view.project);
        }
    }

    /// Drops peers silent past the timeout and forwards coalesced updates whose time has come.
    pub fn tick(&self, now: Instant) {
        let mut hub = self.inner.lock();
        let mut silent = Vec::new();
        let mut waiting = Vec::new();
        for (&id, c) in &hub.conns {
            let Some(t) = &c.peer else { continue };
            if now.saturating_duration_since(t.last_heard) >= self.settings.timeout {
                silent.push(id);
            } else if t.latest != t.sent {
                waiting.push(id);
            }
        }
        for id in silent {
            if let Some(t) = hub.conns.get_mut(&id).and_then(|c| c.peer.take()) {
                tracing::debug!(conn = id, "dropping a silent presence peer");
                hub.left(id, &t.sent.view.project);
            }
        }
        for id in waiting {
            self.flush(&mut hub, id, now);
        }
    }

    /// Ticks until `shutdown`: often enough that coalesced cursor moves go out within half a
    /// cursor interval of being allowed.
    pub async fn run(self: Arc<Self>, shutdown: tokio_util::sync::CancellationToken) {
        let period = (self.settings.cursor_interval / 2).max(Duration::from_millis(10));
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = ticks.tick() => self.tick(Instant::now()),
            }
        }
    }
}

impl Hub {
    fn peer(&self, conn: ConnId) -> Option<(Peer, &Option<String>)> {
        let c = self.conns.get(&conn)?;
        let t = c.peer.as_ref()?;
        Some((
            Peer {
                conn,
                label: c.me.label.clone(),
                color: c.me.color.clone(),
                state: t.sent.clone(),
            },
            &t.sent.view.project,
        ))
    }

    /// The other peers whose forwarded view names `room`.
    fn room(&self, room: &Option<String>, except: ConnId) -> Vec<ConnId> {
        self.conns
            .iter()
            .filter(|(id, c)| {
                **id != except
                    && c.peer
                        .as_ref()
                        .is_some_and(|t| &t.sent.view.project == room)
            })
            .map(|(id, _)| *id)
            .collect()
    }

    /// Sends `conn`'s forwarded state to the others of its room.
    fn tell_room(&self, conn: ConnId) {
        let Some((peer, room)) = self.peer(conn) else {
            return;
        };
        for id in self.room(room, conn) {
            self.conns[&id].outbox.put(conn, Some(peer.clone()));
        }
    }

    /// `conn` arrived in its room (from `from`, if it was in another): the old room is told it
    /// left and it forgets the old room's peers; the new room is told of it and it of them.
    fn entered(&self, conn: ConnId, from: Option<Option<String>>) {
        let Some(mine) = self.conns.get(&conn).map(|c| c.outbox.clone()) else {
            return;
        };
        if let Some(old) = from {
            for id in self.room(&old, conn) {
                self.conns[&id].outbox.put(conn, None);
                mine.put(id, None);
            }
        }
        self.tell_room(conn);
        let Some((_, room)) = self.peer(conn) else {
            return;
        };
        for id in self.room(room, conn) {
            if let Some((peer, _)) = self.peer(id) {
                mine.put(id, Some(peer));
            }
        }
    }

    /// Tells the others of `room` that `conn` left.
    fn left(&self, conn: ConnId, room: &Option<String>) {
        for id in self.room(room, conn) {
            self.conns[&id].outbox.put(conn, None);
        }
    }
}

/// A colour for `seed` (a share link's id, or a connection): the same seed always gets the same
/// one; hues spread evenly, saturation and lightness fixed so any reads on white and as a fill
/// behind white initials.
pub fn color_of(seed: &str) -> String {
    // FNV-1a: stable across processes and versions (std's hasher is not).
    let hash = seed.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let hue = (hash % 36_000) as f64 / 100.0;
    let (s, l) = (0.62, 0.42);
    let c = (1.0 - (2.0 * l - 1.0_f64).abs()) * s;
    let x = c * (1.0 - ((hue / 60.0) % 2.0 - 1.0).abs());
    let m = l - c / 2.0;
    let (r, g, b) = match (hue / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let byte = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    format!("#{:02x}{:02x}{:02x}", byte(r), byte(g), byte(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use trackline_shared::presence::{Cursor, View};

    fn settings() -> PresenceSettings {
        PresenceSettings {
            timeout: Duration::from_millis(300),
            ..PresenceSettings::default()
        }
    }

    fn in_project(project: &str, route: &str) -> PresenceState {
        PresenceState {
            view: View {
                route: route.into(),
                project: Some(project.into()),
                ..View::default()
            },
            ..PresenceState::default()
        }
    }

    fn at(mut state: PresenceState, x: f64) -> PresenceState {
        state.cursor = Some(Cursor {
            key: "loss".into(),
            x_axis: "step".into(),
            x,
            y: 1.0,
        });
        state
    }

    fn link(id: &str, label: &str, scope: Scope) -> Principal {
        Principal {
            link_id: id.into(),
            label: label.into(),
            scope,
        }
    }

    /// The peers an outbox holds now: upserts by conn, and departures.
    fn drain(conn: &PresenceConn) -> (Vec<Peer>, Vec<ConnId>) {
        let mut peers = Vec::new();
        let mut left = Vec::new();
        for msg in conn.outbox().take() {
            match msg {
                ServerMsg::Presence { peers: p } => peers.extend(p),
                ServerMsg::PeerLeft { conn } => left.push(conn),
                other => panic!("not presence: {other:?}"),
            }
        }
        (peers, left)
    }

    #[test]
    fn peers_of_one_project_see_each_other_with_their_links_label_and_colour() {
        let hub = PresenceHub::new(settings());
        let alice = hub.join(Some(&link("L1", "alice", Scope::Annotator)));
        let bob = hub.join(None);
        let carol = hub.join(None);
        assert_eq!(alice.me().label, "alice");
        assert_eq!(alice.me().color, color_of("L1"));
        assert_eq!(alice.me().scope.as_deref(), Some("annotator"));
        assert_eq!(
            (bob.me().label.as_str(), bob.me().scope.as_ref()),
            ("local", None)
        );
        assert_ne!(bob.me().color, carol.me().color, "local connections differ");

        let t0 = Instant::now();
        hub.update(alice.me().conn, in_project("p", "/projects/p"), t0);
        hub.update(bob.me().conn, in_project("p", "/projects/p/runs/r1"), t0);
        hub.update(carol.me().conn, in_project("q", "/projects/q"), t0);
        // Bob joined after Alice: he is told of her, she of him; Carol (another project) of nobody.
        let (peers, _) = drain(&bob);
        assert_eq!(peers.len(), 1);
        assert_eq!(
            (peers[0].label.as_str(), peers[0].color.as_str()),
            ("alice", color_of("L1").as_str())
        );
        let (peers, _) = drain(&alice);
        assert_eq!(peers[0].state.view.route, "/projects/p/runs/r1");
        assert_eq!(drain(&carol), (vec![], vec![]));

        // Bob moves to project q: Alice sees him leave; he forgets Alice and meets Carol.
        hub.update(
            bob.me().conn,
            in_project("q", "/projects/q"),
            t0 + Duration::from_secs(2),
        );
        assert_eq!(drain(&alice), (vec![], vec![bob.me().conn]));
        let (peers, left) = drain(&bob);
        assert_eq!(left, [alice.me().conn]);
        assert_eq!(
            peers.iter().map(|p| p.conn).collect::<Vec<_>>(),
            [carol.me().conn]
        );
        assert_eq!(drain(&carol).0.len(), 1);

        // A closed connection leaves at once.
        let carol_id = carol.me().conn;
        drop(carol);
        assert_eq!(drain(&bob), (vec![], vec![carol_id]));
    }

    #[test]
    fn cursor_moves_are_coalesced_to_ten_a_second_and_views_to_one() {
        let hub = PresenceHub::new(PresenceSettings::default());
        let a = hub.join(None);
        let b = hub.join(None);
        let t0 = Instant::now();
        hub.update(a.me().conn, in_project("p", "/a"), t0);
        hub.update(b.me().conn, in_project("p", "/b"), t0);
        drain(&a);
        drain(&b);

        // 50 moves within 50 ms: none goes out yet (the join counted as a send at t0) …
        for i in 0..50 {
            let now = t0 + Duration::from_millis(i);
            hub.update(b.me().conn, at(in_project("p", "/b"), i as f64), now);
        }
        assert_eq!(drain(&a), (vec![], vec![]));
        // … and once the interval has passed, one tick sends only the latest.
        hub.tick(t0 + Duration::from_millis(100));
        let (peers, _) = drain(&a);
        assert_eq!(peers.len(), 1);
        assert_eq!(peers[0].state.cursor.as_ref().unwrap().x, 49.0);
        // Moves spaced by the interval go out one by one, without a tick.
        hub.update(
            b.me().conn,
            at(in_project("p", "/b"), 60.0),
            t0 + Duration::from_millis(200),
        );
        assert_eq!(drain(&a).0[0].state.cursor.as_ref().unwrap().x, 60.0);

        // A view change 300 ms after the last: the cursor that came with it goes out, the view
        // waits for its own 1 s interval.
        let moved = at(in_project("p", "/b/elsewhere"), 70.0);
        hub.update(b.me().conn, moved, t0 + Duration::from_millis(300));
        let (peers, _) = drain(&a);
        assert_eq!(peers[0].state.view.route, "/b");
        assert_eq!(peers[0].state.cursor.as_ref().unwrap().x, 70.0);
        hub.tick(t0 + Duration::from_millis(900));
        assert_eq!(drain(&a), (vec![], vec![]));
        hub.tick(t0 + Duration::from_millis(1000));
        assert_eq!(drain(&a).0[0].state.view.route, "/b/elsewhere");
    }

    #[test]
    fn a_silent_peer_is_dropped_after_the_timeout_and_a_heartbeat_keeps_it() {
        let hub = PresenceHub::new(settings());
        let a = hub.join(None);
        let b = hub.join(None);
        let t0 = Instant::now();
        hub.update(a.me().conn, in_project("p", "/"), t0);
        hub.update(b.me().conn, in_project("p", "/"), t0);
        drain(&a);
        drain(&b);
        // Heartbeats (the same state again) send nothing and keep the peer.
        hub.update(
            b.me().conn,
            in_project("p", "/"),
            t0 + Duration::from_millis(200),
        );
        hub.tick(t0 + Duration::from_millis(250));
        assert_eq!(drain(&a), (vec![], vec![]));
        assert_eq!(hub.peer_count(), 2);
        // A stays silent from t0: B sees it leave once 300 ms have passed; B itself stays.
        hub.tick(t0 + Duration::from_millis(350));
        assert_eq!(drain(&a), (vec![], vec![]));
        assert_eq!(drain(&b), (vec![], vec![a.me().conn]));
        assert_eq!(hub.peer_count(), 1);
        // Speaking again brings it back.
        hub.update(
            a.me().conn,
            in_project("p", "/"),
            t0 + Duration::from_millis(460),
        );
        assert_eq!(drain(&b).0.len(), 1);
    }

    #[test]
    fn a_viewer_edits_nothing_and_an_outbox_keeps_one_entry_per_peer() {
        let hub = PresenceHub::new(settings());
        let viewer = hub.join(Some(&link("V", "val", Scope::Viewer)));
        let watcher = hub.join(None);
        let t0 = Instant::now();
        hub.update(watcher.me().conn, in_project("p", "/"), t0);
        let mut editing = in_project("p", "/");
        editing.editing = Some("note:project".into());
        hub.update(viewer.me().conn, editing, t0);
        // A thousand moves the watcher never reads: its outbox still holds one entry, the latest.
        for i in 1..=1000u64 {
            let now = t0 + Duration::from_millis(100 * i);
            hub.update(viewer.me().conn, at(in_project("p", "/"), i as f64), now);
        }
        let msgs = watcher.outbox().take();
        let [ServerMsg::Presence { peers }] = msgs.as_slice() else {
            panic!("one upsert: {msgs:?}");
        };
        assert_eq!(peers.len(), 1);
        assert_eq!(peers[0].state.editing, None);
        assert_eq!(peers[0].state.cursor.as_ref().unwrap().x, 1000.0);
    }

    /// Through a real [`Session`]: with the viewer's data queue full, presence neither waits nor
    /// fails (it waits in the outbox, coalesced), while a data message still makes the viewer a
    /// slow consumer as before.
    #[tokio::test]
    async fn a_full_queue_holds_presence_back_and_only_data_makes_a_slow_consumer() {
        use crate::push::{Session, SlowConsumer};
        use crate::store::{Store, StoreSettings};
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::new(StoreSettings {
            heartbeat_timeout: Duration::from_secs(60),
            hostname: None,
            ..StoreSettings::default()
        }));
        let db = crate::db::Db::open_in(dir.path()).unwrap();
        let hub = PresenceHub::new(settings());
        let (tx, mut rx) = tokio::sync::mpsc::channel(1);
        let joined = hub.join(None);
        let outbox = joined.outbox();
        let mut viewer = Session::new(
            store,
            db.annotations(),
            tx.clone(),
            Duration::from_millis(50),
        )
        .with_presence(joined);
        tx.try_send(ServerMsg::Pong { nonce: 0 }).unwrap();

        let msg = serde_json::json!({"type": "presence", "view": {"route": "/p", "project": "p"}});
        let started = Instant::now();
        assert_eq!(viewer.on_text(&msg.to_string()).await, Ok(()));
        let mover = hub.join(None);
        let t0 = Instant::now();
        for i in 0..100u64 {
            let now = t0 + Duration::from_millis(100 * i);
            hub.update(mover.me().conn, at(in_project("p", "/p"), i as f64), now);
        }
        assert!(
            started.elapsed() < Duration::from_millis(50),
            "presence waited"
        );
        // The data queue holds only what it held; presence waits in the outbox, the latest only.
        assert_eq!(rx.try_recv().unwrap(), ServerMsg::Pong { nonce: 0 });
        assert!(rx.try_recv().is_err());
        let msgs = outbox.take();
        let [ServerMsg::Presence { peers }] = msgs.as_slice() else {
            panic!("one upsert: {msgs:?}");
        };
        assert_eq!(peers[0].state.cursor.as_ref().unwrap().x, 99.0);

        // Data still obeys the slow-consumer rule.
        tx.try_send(ServerMsg::Pong { nonce: 1 }).unwrap();
        let ping = r#"{"type": "ping", "nonce": 2}"#;
        assert_eq!(viewer.on_text(ping).await, Err(SlowConsumer));
    }

    #[test]
    fn colours_are_stable_and_spread() {
        assert_eq!(color_of("abc"), color_of("abc"));
        assert!(color_of("abc").starts_with('#') && color_of("abc").len() == 7);
        let distinct: std::collections::HashSet<String> =
            (0..50).map(|i| color_of(&format!("link {i}"))).collect();
        assert!(distinct.len() > 40, "{}", distinct.len());
    }
}
