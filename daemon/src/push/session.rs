//! One [`Session`] per WebSocket connection: reads client messages (subscribe, unsubscribe, ping),
//! hands store events to the connection's subscriptions, and queues what they answer.
//!
//! Outgoing messages go through a bounded queue; a client that leaves it full for longer than the
//! send timeout is dropped rather than buffered without bound.
//!
//! A subscription whose topic must first read something (a run's history not in memory, say)
//! opens beside the connection's other messages ([`Session::next_opened`]): a page subscribing
//! to ten runs gets the loaded ones' answers at once, not after the others' reads.

use super::topics::{self, Subscription};
use crate::db::annotations::Annotations;
use crate::store::{Event, RunKey, Store};
use futures_util::FutureExt;
use futures_util::stream::{FuturesUnordered, StreamExt};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use trackline_shared::{ClientMsg, PROTOCOL_VERSION, ServerMsg, SubId, Topic};

/// The client stopped reading: its queue stayed full past the send timeout. The connection is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("slow consumer")]
pub struct SlowConsumer;

type Sent = Result<(), SlowConsumer>;

/// Subscriptions a connection may have opening at once; a further `subscribe` waits for one of
/// them (and the connection's next frames with it). Opening reads runs on the blocking pool:
/// without a bound, a page subscribing to a thousand runs not in memory would start a thousand
/// reads at once.
const MAX_OPENING: usize = 4;

/// A subscription that finished opening: its id, which `subscribe` of the id it answers, and the
/// subscription or the message to send instead.
pub struct Opened(SubId, u64, Result<Box<dyn Subscription>, String>);

type OpeningFuture = Pin<Box<dyn Future<Output = Opened> + Send>>;

/// Subscriptions still opening, and the latest `subscribe` of each id (an older one's opening,
/// or one unsubscribed meanwhile, is dropped when it finishes).
#[derive(Default)]
struct Openings {
    /// In a mutex only to make the session `Sync` (the futures are `Send`, not `Sync`); it is
    /// reached through `&mut` ([`std::sync::Mutex::get_mut`]), never locked while polled.
    futures: std::sync::Mutex<FuturesUnordered<OpeningFuture>>,
    latest: HashMap<SubId, u64>,
    count: u64,
}

impl Openings {
    fn futures(&mut self) -> &mut FuturesUnordered<OpeningFuture> {
        self.futures
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn len(&self) -> usize {
        self.futures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
}

impl std::fmt::Debug for Openings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Openings")
            .field("opening", &self.len())
            .field("latest", &self.latest)
            .finish()
    }
}

#[derive(Debug)]
pub struct Session {
    store: Arc<Store>,
    annotations: Annotations,
    out: mpsc::Sender<ServerMsg>,
    send_timeout: Duration,
    /// Dropping a subscription releases what it holds (a series keeps its run in memory).
    subs: HashMap<SubId, Box<dyn Subscription>>,
    /// The subscriptions following each run's points ([`Subscription::points_of`]), so a point
    /// event costs the few subscriptions of its run, not all of them.
    points_subs: HashMap<RunKey, Vec<SubId>>,
    /// This connection's presence; dropping it tells its peers at once that it left.
    presence: Option<super::presence::PresenceConn>,
    /// False for a viewer link of a shared daemon: its `annotations` subscriptions get only
    /// published reports, as their published copy (`crate::reports`).
    sees_drafts: bool,
    /// The data directory, for topics read from files (`artifacts`); none in tests without one.
    data_dir: Option<std::path::PathBuf>,
    /// The sweeps, for the `sweeps`/`sweep` topics; none in tests without them.
    sweeps: Option<Arc<crate::sweeps::controller::Controller>>,
    openings: Openings,
}

impl Session {
    pub fn new(
        store: Arc<Store>,
        annotations: Annotations,
        out: mpsc::Sender<ServerMsg>,
        send_timeout: Duration,
    ) -> Self {
        Session {
            store,
            annotations,
            out,
            send_timeout,
            subs: HashMap::new(),
            points_subs: HashMap::new(),
            openings: Openings::default(),
            presence: None,
            sees_drafts: true,
            data_dir: None,
            sweeps: None,
        }
    }

    /// The session of a daemon with sweeps (the `sweeps`/`sweep` topics read them).
    pub fn with_sweeps(mut self, sweeps: Arc<crate::sweeps::controller::Controller>) -> Self {
        self.sweeps = Some(sweeps);
        self
    }

    /// The session of a caller who sees report drafts (`true`, the default) or only what is
    /// published (a viewer link).
    pub fn with_drafts(mut self, sees_drafts: bool) -> Self {
        self.sees_drafts = sees_drafts;
        self
    }

    /// The session of a daemon serving `data_dir` (the `artifacts` topic reads it).
    pub fn with_data_dir(mut self, data_dir: std::path::PathBuf) -> Self {
        self.data_dir = Some(data_dir);
        self
    }

    /// The session with its connection's place in the presence hub (its `presence` messages go there).
    pub fn with_presence(mut self, presence: super::presence::PresenceConn) -> Self {
        self.presence = Some(presence);
        self
    }

    /// The first message, telling the client who it is to its peers (`you`) when it has presence.
    pub fn hello(you: Option<trackline_shared::presence::Me>) -> ServerMsg {
        ServerMsg::Hello {
            protocol: PROTOCOL_VERSION,
            version: crate::VERSION.to_owned(),
            instance: instance_id().to_owned(),
            you,
        }
    }

    /// Queues a message, waiting at most the send timeout for room. While it waits, store events
    /// pile up in the (bounded) broadcast receiver; if that lags, [`Session::resync`] catches up.
    async fn send(&self, msg: ServerMsg) -> Sent {
        match tokio::time::timeout(self.send_timeout, self.out.send(msg)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(SlowConsumer),
        }
    }

    async fn send_all(&self, msgs: Vec<ServerMsg>) -> Sent {
        for msg in msgs {
            self.send(msg).await?;
        }
        Ok(())
    }

    /// Handles one text frame from the client.
    pub async fn on_text(&mut self, text: &str) -> Sent {
        let msg: ClientMsg = match serde_json::from_str(text) {
            Ok(m) => m,
            Err(e) => {
                return self
                    .send(ServerMsg::Error {
                        sub: None,
                        message: format!("bad message: {e}"),
                    })
                    .await;
            }
        };
        match msg {
            ClientMsg::Ping { nonce } => self.send(ServerMsg::Pong { nonce }).await,
            ClientMsg::Unsubscribe { id } => {
                self.openings.latest.remove(&id);
                self.remove_sub(id);
                Ok(())
            }
            ClientMsg::Subscribe { id, topic } => self.subscribe(id, topic).await,
            // Never through the data queue: see `push::presence`.
            ClientMsg::Presence(state) => {
                if let Some(presence) = &self.presence {
                    presence.update(state);
                }
                Ok(())
            }
        }
    }

    /// Opens a subscription: at once when its topic needs no read, else beside the connection's
    /// other messages (finished by [`Session::finish_open`]).
    async fn subscribe(&mut self, id: SubId, topic: Topic) -> Sent {
        // A reused id replaces its subscription.
        self.remove_sub(id);
        self.openings.count += 1;
        let count = self.openings.count;
        self.openings.latest.insert(id, count);
        let (store, annotations) = (self.store.clone(), self.annotations.clone());
        let (data_dir, sweeps, sees_drafts) =
            (self.data_dir.clone(), self.sweeps.clone(), self.sees_drafts);
        let mut opening = Box::pin(async move {
            let opened = topics::open(
                &store,
                &annotations,
                topic,
                sees_drafts,
                data_dir.as_deref(),
                sweeps.as_ref(),
            )
            .await;
            Opened(id, count, opened)
        });
        match (&mut opening).now_or_never() {
            Some(opened) => self.finish_open(opened).await,
            None => {
                while self.openings.len() >= MAX_OPENING {
                    let Some(opened) = self.next_opened().await else {
                        break;
                    };
                    self.finish_open(opened).await?;
                }
                self.openings.futures().push(opening);
                Ok(())
            }
        }
    }

    /// Whether a subscription is still opening ([`Session::next_opened`] then has one to give).
    pub fn is_opening(&self) -> bool {
        self.openings.len() > 0
    }

    /// The next subscription to finish opening; `None` when none is opening.
    pub async fn next_opened(&mut self) -> Option<Opened> {
        self.openings.futures().next().await
    }

    /// Puts an opened subscription in place and sends its snapshot, unless its id was
    /// unsubscribed or subscribed again meanwhile.
    pub async fn finish_open(&mut self, Opened(id, count, opened): Opened) -> Sent {
        if self.openings.latest.get(&id) != Some(&count) {
            return Ok(());
        }
        self.openings.latest.remove(&id);
        let mut sub = match opened {
            Ok(sub) => sub,
            Err(message) => {
                return self
                    .send(ServerMsg::Error {
                        sub: Some(id),
                        message,
                    })
                    .await;
            }
        };
        self.send(ServerMsg::Subscribed { id }).await?;
        let snapshot = sub.serve(&self.store, id, true);
        if let Some(run) = sub.points_of() {
            self.points_subs.entry(run.clone()).or_default().push(id);
        }
        self.subs.insert(id, sub);
        self.send_all(snapshot).await
    }

    /// Drops subscription `id` (if any) and its place in the points index.
    fn remove_sub(&mut self, id: SubId) {
        let Some(sub) = self.subs.remove(&id) else {
            return;
        };
        if let Some(run) = sub.points_of()
            && let Some(ids) = self.points_subs.get_mut(run)
        {
            ids.retain(|&i| i != id);
            if ids.is_empty() {
                self.points_subs.remove(run);
            }
        }
    }

    /// Handles one store event: a point event goes to its run's point subscriptions only, any
    /// other event to the subscriptions that do not follow points.
    pub async fn on_event(&mut self, event: &Event) -> Sent {
        let ids: Vec<SubId> = match event {
            Event::Points { run, .. } => match self.points_subs.get(&run.key) {
                Some(ids) => ids.clone(),
                None => return Ok(()),
            },
            _ => self
                .subs
                .iter()
                .filter(|(_, sub)| sub.points_of().is_none())
                .map(|(&id, _)| id)
                .collect(),
        };
        for id in ids {
            let msgs = match self.subs.get_mut(&id) {
                Some(sub) => sub.on_event(&self.store, id, event),
                None => continue,
            };
            self.send_all(msgs).await?;
        }
        Ok(())
    }

    /// Brings every subscription up to date (after the event receiver lagged).
    pub async fn resync(&mut self) -> Sent {
        let ids: Vec<SubId> = self.subs.keys().copied().collect();
        for id in ids {
            let msgs = match self.subs.get_mut(&id) {
                Some(sub) => sub.serve(&self.store, id, false),
                None => continue,
            };
            self.send_all(msgs).await?;
        }
        Ok(())
    }
}

/// The share link a WebSocket was opened with (sharing mode): [`Revocation::revoked`] completes
/// once the link is revoked or expired, and the connection is then closed with
/// [`REVOKED_CLOSE_CODE`].
#[derive(Debug)]
pub struct Revocation {
    link_id: String,
    dead: tokio::sync::watch::Receiver<Arc<std::collections::HashSet<String>>>,
}

/// The close code of a socket whose link was revoked or expired (4000-4999: the application's).
pub const REVOKED_CLOSE_CODE: u16 = 4401;

impl Revocation {
    pub fn new(
        link_id: String,
        dead: tokio::sync::watch::Receiver<Arc<std::collections::HashSet<String>>>,
    ) -> Revocation {
        Revocation { link_id, dead }
    }

    /// Completes when the link is dead; never, without a link (no sharing) or once the poll ends.
    pub async fn revoked(this: &mut Option<Revocation>) {
        let Some(this) = this else {
            return std::future::pending().await;
        };
        loop {
            if this.dead.borrow_and_update().contains(&this.link_id) {
                return;
            }
            if this.dead.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }
}

/// A random id of this daemon process, sent in every hello.
pub fn instance_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        let mut bytes = [0u8; 8];
        if getrandom::fill(&mut bytes).is_err() {
            bytes = std::process::id()
                .to_le_bytes()
                .repeat(2)
                .try_into()
                .unwrap_or_default();
        }
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::HISTORY_FILE;
    use crate::source::disk::DiskSource;
    use crate::store::{RunKey, RunMeta, StoreSettings};
    use std::io::Write;
    use tokio::sync::broadcast;
    use trackline_shared::{RunInfo, RunState};

    /// A real store over a temporary data directory, with a session on a plain channel.
    struct Fixture {
        data_dir: tempfile::TempDir,
        source: Arc<DiskSource>,
        store: Arc<Store>,
        events: broadcast::Receiver<Event>,
        session: Session,
        out: mpsc::Receiver<ServerMsg>,
    }

    impl Fixture {
        fn new(queue: usize) -> Fixture {
            let data_dir = tempfile::tempdir().unwrap();
            let source = Arc::new(DiskSource::new(data_dir.path().to_owned()));
            let store = Arc::new(Store::new(StoreSettings {
                heartbeat_timeout: Duration::from_secs(60),
                hostname: None,
                ..StoreSettings::default()
            }));
            let (tx, out) = mpsc::channel(queue);
            let db = crate::db::Db::open_in(&data_dir.path().join(".trackline")).unwrap();
            Fixture {
                source,
                events: store.subscribe(),
                session: Session::new(
                    store.clone(),
                    db.annotations(),
                    tx,
                    Duration::from_millis(50),
                ),
                data_dir,
                store,
                out,
            }
        }

        /// Adds run `p/<id>` (finished) with a history of `rows` rows of metric `loss`.
        fn add_run(&self, id: &str, rows: usize) -> Arc<crate::store::Run> {
            let key = RunKey {
                project: "p".into(),
                run: id.into(),
            };
            let dir = self.source.run_dir(&key);
            std::fs::create_dir_all(&dir).unwrap();
            self.append_rows(id, 0..rows);
            let meta = RunMeta {
                info: RunInfo {
                    project: "p".into(),
                    id: id.into(),
                    ..RunInfo::default()
                },
                reported_state: RunState::Finished,
            };
            self.store.upsert(key, dir, self.source.clone(), meta, 1.0)
        }

        fn append_rows(&self, id: &str, steps: std::ops::Range<usize>) {
            let path = self.data_dir.path().join("p").join(id).join(HISTORY_FILE);
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .unwrap();
            for s in steps {
                writeln!(f, "{{\"_step\": {s}, \"loss\": {s}}}").unwrap();
            }
        }

        /// Sends a client message, and lets what it started opening finish.
        async fn send(&mut self, msg: serde_json::Value) {
            self.session.on_text(&msg.to_string()).await.unwrap();
            self.finish_openings().await;
        }

        async fn finish_openings(&mut self) {
            while let Some(opened) = self.session.next_opened().await {
                self.session.finish_open(opened).await.unwrap();
            }
        }

        /// Hands every pending store event to the session.
        async fn deliver_events(&mut self) {
            while let Ok(event) = self.events.try_recv() {
                self.session.on_event(&event).await.unwrap();
            }
        }

        /// Everything queued for the client so far.
        fn received(&mut self) -> Vec<ServerMsg> {
            std::iter::from_fn(|| self.out.try_recv().ok()).collect()
        }
    }

    #[tokio::test]
    async fn a_project_subscription_gets_a_snapshot_then_deltas_until_unsubscribed() {
        let mut f = Fixture::new(16);
        f.add_run("r1", 0);
        f.deliver_events().await;
        f.send(serde_json::json!({"type": "subscribe", "id": 1, "topic": {"kind": "project", "project": "p"}}))
            .await;
        let got = f.received();
        assert_eq!(got[0], ServerMsg::Subscribed { id: 1 });
        let ServerMsg::Runs { sub: 1, runs } = &got[1] else {
            panic!("a snapshot of the runs: {got:?}");
        };
        assert_eq!(runs.len(), 1);
        assert_eq!(got.len(), 2);

        // An event: only the new run is sent.
        f.add_run("r2", 0);
        f.deliver_events().await;
        let got = f.received();
        let [ServerMsg::Runs { sub: 1, runs }] = got.as_slice() else {
            panic!("a delta: {got:?}");
        };
        assert_eq!(
            runs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["r2"]
        );

        // A removal is its own message.
        f.store.remove(&RunKey {
            project: "p".into(),
            run: "r1".into(),
        });
        f.deliver_events().await;
        assert_eq!(
            f.received(),
            [ServerMsg::RunRemoved {
                sub: 1,
                project: "p".into(),
                run: "r1".into()
            }]
        );

        // Unsubscribed: events send nothing.
        f.send(serde_json::json!({"type": "unsubscribe", "id": 1}))
            .await;
        f.add_run("r3", 0);
        f.deliver_events().await;
        assert!(f.received().is_empty());
    }

    /// A run topic whose run must be read first does not hold up the connection: a second
    /// subscription is answered meanwhile, and the first once its read is done. One unsubscribed
    /// while opening is dropped when it opens.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[allow(
        clippy::await_holding_lock,
        reason = "the test holds a run's history to keep its read from finishing"
    )]
    async fn a_subscription_that_must_read_a_run_does_not_hold_up_the_others() {
        let mut f = Fixture::new(16);
        let run = f.add_run("r1", 3);
        f.add_run("r2", 3);
        f.deliver_events().await;
        let reading = run.history.lock();
        for (id, run) in [(1, "r1"), (2, "r2")] {
            let topic = serde_json::json!({"type": "subscribe", "id": id, "topic": {"kind": "run", "project": "p", "run": run}});
            let text = topic.to_string();
            let subscribe = f.session.on_text(&text);
            let answered = tokio::time::timeout(Duration::from_secs(10), subscribe).await;
            assert_eq!(answered, Ok(Ok(())), "the subscription waited for the read");
        }
        f.session
            .on_text(r#"{"type": "subscribe", "id": 3, "topic": {"kind": "projects"}}"#)
            .await
            .unwrap();
        let got = f.received();
        assert!(got.contains(&ServerMsg::Subscribed { id: 3 }), "{got:?}");
        assert!(!got.contains(&ServerMsg::Subscribed { id: 1 }), "{got:?}");
        assert!(f.session.is_opening());

        // r2 is read while r1's history is held; r1 waits for it.
        let opened = f.session.next_opened().await.unwrap();
        f.session.finish_open(opened).await.unwrap();
        let got = f.received();
        assert_eq!(
            got.first(),
            Some(&ServerMsg::Subscribed { id: 2 }),
            "{got:?}"
        );
        assert!(
            got.iter()
                .any(|m| matches!(m, ServerMsg::Keys { sub: 2, keys, .. } if keys == &["loss"])),
            "{got:?}"
        );

        drop(reading);
        f.finish_openings().await;
        let got = f.received();
        assert_eq!(
            got.first(),
            Some(&ServerMsg::Subscribed { id: 1 }),
            "{got:?}"
        );

        // Unsubscribed before it opened: nothing comes of it.
        let run3 = f.add_run("r3", 3);
        f.deliver_events().await;
        f.received();
        let reading = run3.history.lock();
        f.session.on_text(r#"{"type": "subscribe", "id": 4, "topic": {"kind": "run", "project": "p", "run": "r3"}}"#).await.unwrap();
        f.session
            .on_text(r#"{"type": "unsubscribe", "id": 4}"#)
            .await
            .unwrap();
        drop(reading);
        f.finish_openings().await;
        assert!(f.received().is_empty());
    }

    /// A change of a run reaches its `run` subscribers while the run's history is held (by a
    /// low-priority thread saving it, say): its info is sent without reading the keys.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[allow(
        clippy::await_holding_lock,
        reason = "the test holds the run's history while its change is delivered"
    )]
    async fn a_change_of_a_run_is_sent_without_waiting_for_its_history() {
        let mut f = Fixture::new(16);
        let run = f.add_run("r1", 3);
        f.deliver_events().await;
        f.send(serde_json::json!({"type": "subscribe", "id": 1, "topic": {"kind": "run", "project": "p", "run": "r1"}}))
            .await;
        f.finish_openings().await;
        let got = f.received();
        assert!(
            got.iter()
                .any(|m| matches!(m, ServerMsg::Keys { sub: 1, keys, .. } if keys == &["loss"])),
            "{got:?}"
        );
        // What the subscription's read of the run announced.
        f.deliver_events().await;
        f.received();
        let held = run.history.lock();
        f.store.emit(Event::Run(run.clone()));
        // Delivered on another worker: a delivery that waits for the history fails the test
        // instead of hanging it.
        let delivery = tokio::spawn(async move {
            f.deliver_events().await;
            f
        });
        let delivered = tokio::time::timeout(Duration::from_secs(5), delivery).await;
        drop(held);
        let mut f = delivered
            .expect("the run's change waited for its history")
            .unwrap();
        let got = f.received();
        assert!(
            matches!(got.as_slice(), [ServerMsg::Runs { sub: 1, runs }] if runs[0].id == "r1"),
            "{got:?}"
        );
    }

    /// At most [`MAX_OPENING`] subscriptions open at once: one more waits for a slot.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[allow(
        clippy::await_holding_lock,
        reason = "the test holds runs' histories to keep their reads from finishing"
    )]
    async fn subscriptions_open_a_few_at_a_time() {
        let mut f = Fixture::new(64);
        let runs: Vec<_> = (0..=MAX_OPENING)
            .map(|i| f.add_run(&format!("r{i}"), 3))
            .collect();
        f.deliver_events().await;
        let held: Vec<_> = runs.iter().map(|r| r.history.lock()).collect();
        let subscribe = |i: usize| {
            serde_json::json!({"type": "subscribe", "id": i, "topic": {"kind": "run", "project": "p", "run": format!("r{i}")}}).to_string()
        };
        for i in 0..MAX_OPENING {
            f.session.on_text(&subscribe(i)).await.unwrap();
        }
        let one_more = subscribe(MAX_OPENING);
        let waited =
            tokio::time::timeout(Duration::from_millis(300), f.session.on_text(&one_more)).await;
        assert!(
            waited.is_err(),
            "one more subscription opened beside {MAX_OPENING}"
        );
        drop(held);
        f.session.on_text(&one_more).await.unwrap();
        f.finish_openings().await;
        let acknowledged = f
            .received()
            .into_iter()
            .filter(|m| matches!(m, ServerMsg::Subscribed { .. }))
            .count();
        assert_eq!(acknowledged, MAX_OPENING + 1);
    }

    #[tokio::test]
    async fn a_series_subscription_sends_appended_points_and_holds_its_run_in_memory() {
        let mut f = Fixture::new(16);
        let run = f.add_run("r1", 3);
        f.deliver_events().await;
        f.send(serde_json::json!({"type": "subscribe", "id": 7, "topic": {"kind": "series", "project": "p", "run": "r1", "key": "loss", "from": 1}}))
            .await;
        let got = f.received();
        assert_eq!(got[0], ServerMsg::Subscribed { id: 7 });
        let ServerMsg::Points { start, value, .. } = &got[1] else {
            panic!("points from the offset: {got:?}");
        };
        assert_eq!((*start, value.as_slice()), (1, &[1.0, 2.0][..]));
        assert_eq!(run.history.lock().subscribers, 1);

        f.append_rows("r1", 3..5);
        f.store.sync_history(&run).unwrap();
        f.deliver_events().await;
        let got = f.received();
        let [ServerMsg::Points { start, value, .. }] = got.as_slice() else {
            panic!("the appended points: {got:?}");
        };
        assert_eq!((*start, value.as_slice()), (3, &[3.0, 4.0][..]));

        // Points of another run reach nobody here; a second subscription of the same run and
        // key gets its share, and the first, once unsubscribed, nothing.
        let other = f.add_run("r2", 2);
        f.send(serde_json::json!({"type": "subscribe", "id": 8, "topic": {"kind": "series", "project": "p", "run": "r1", "key": "loss", "from": 5}}))
            .await;
        f.received();
        f.send(serde_json::json!({"type": "unsubscribe", "id": 7}))
            .await;
        assert_eq!(run.history.lock().subscribers, 1);
        f.append_rows("r2", 2..4);
        f.store.sync_history(&other).unwrap();
        f.append_rows("r1", 5..6);
        f.store.sync_history(&run).unwrap();
        f.deliver_events().await;
        let got = f.received();
        let [ServerMsg::Points { sub, start, .. }] = got.as_slice() else {
            panic!("only r1's new point, to subscription 8: {got:?}");
        };
        assert_eq!((*sub, *start), (8, 5));
        assert_eq!(f.session.points_subs.len(), 1);
        f.send(serde_json::json!({"type": "unsubscribe", "id": 8}))
            .await;
        assert_eq!(run.history.lock().subscribers, 0);
        assert!(f.session.points_subs.is_empty());
    }

    /// Rows whose `epoch` is logged every third step from step 2 on (some NaN), `loss` every step.
    fn epoch_rows(f: &Fixture, id: &str, steps: std::ops::Range<usize>) {
        let path = f.data_dir.path().join("p").join(id).join(HISTORY_FILE);
        let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
        for s in steps {
            let epoch = match s {
                _ if s < 2 || s % 3 != 2 => String::new(),
                11 => ", \"epoch\": NaN".into(),
                _ => format!(", \"epoch\": {}", s / 3),
            };
            writeln!(file, "{{\"_step\": {s}, \"loss\": {}{epoch}}}", s * 10).unwrap();
        }
    }

    /// What a series subscription sent, as `(start, x, value)` per point.
    fn sent_points(msgs: &[ServerMsg]) -> Vec<(u64, f64, f64)> {
        let mut out = Vec::new();
        for m in msgs {
            if let ServerMsg::Points {
                start, step, value, ..
            } = m
            {
                for (k, (x, v)) in step.iter().zip(value).enumerate() {
                    out.push((start + k as u64, *x, *v));
                }
            }
        }
        out
    }

    #[tokio::test]
    async fn a_series_subscription_against_another_metric_sends_points_joined_as_the_query_joins_them()
     {
        let mut f = Fixture::new(64);
        let run = f.add_run("r1", 0);
        epoch_rows(&f, "r1", 0..20);
        f.store.sync_history(&run).unwrap();
        f.deliver_events().await;
        let joined = |run: &Arc<crate::store::Run>| {
            let h = run.history.lock();
            let j = crate::query::series::join_by_step(
                h.series_by_key("loss").unwrap(),
                h.series_by_key("epoch").unwrap(),
            );
            (0..j.len())
                .map(|i| (i as u64, j.steps().get(i), j.values()[i]))
                .collect::<Vec<_>>()
        };
        // The client holds the first 4 joined points (as the query's answer gave them).
        f.send(serde_json::json!({"type": "subscribe", "id": 3, "topic": {"kind": "series", "project": "p", "run": "r1", "key": "loss", "from": 4, "x_key": "epoch"}}))
            .await;
        let first = sent_points(&f.received());
        assert_eq!(first, joined(&run)[4..]);
        // Rows appended later: their joined points follow, numbered on.
        epoch_rows(&f, "r1", 20..31);
        f.store.sync_history(&run).unwrap();
        f.deliver_events().await;
        let mut all = first;
        all.extend(sent_points(&f.received()));
        assert_eq!(all, joined(&run)[4..]);
        assert!(all.len() > 20, "{all:?}");
    }

    #[tokio::test]
    async fn an_unknown_run_or_a_bad_message_is_answered_with_an_error() {
        let mut f = Fixture::new(16);
        f.send(serde_json::json!({"type": "subscribe", "id": 2, "topic": {"kind": "run", "project": "p", "run": "nope"}}))
            .await;
        assert_eq!(
            f.received(),
            [ServerMsg::Error {
                sub: Some(2),
                message: "no run 'nope' in project 'p'".into()
            }]
        );
        f.session.on_text("{").await.unwrap();
        let got = f.received();
        assert!(
            matches!(&got[..], [ServerMsg::Error { sub: None, message }] if message.starts_with("bad message"))
        );
    }

    #[tokio::test]
    async fn a_client_that_stops_reading_is_dropped_not_buffered() {
        let mut f = Fixture::new(1);
        f.add_run("r1", 0);
        // The queue holds one message: `subscribed` fits, the snapshot waits past the timeout.
        let sent = f
            .session
            .on_text(r#"{"type": "subscribe", "id": 1, "topic": {"kind": "projects"}}"#)
            .await;
        assert_eq!(sent, Err(SlowConsumer));
        assert_eq!(f.received(), [ServerMsg::Subscribed { id: 1 }]);
    }
}
