//! Annotations against the real daemon (issue 9): the REST snapshot and op route, the
//! `annotations` WebSocket topic (live events, resuming from a `seq` with no gap and no
//! duplicate), two editors racing on one note, an op retried across a kill -9, the rules of
//! sharing mode (scopes, authors from link labels, own comments only), and an owner renaming and
//! retagging a run (REST, the project topic, and the run page's form in a browser).

use crate::common::*;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use trackline_shared::annotations::{AnnotationEvent, Seq};
use trackline_shared::{ServerMsg, Topic};

/// A project `p` with run `r1` (10 rows of `loss`).
fn project() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    RunWriter::create(root.path(), "p", "r1").log_rows(10, |s| s.to_string());
    root
}

/// An HTTP client of the annotation routes, optionally as a share link from a trusted origin.
#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Client {
    fn new(d: &Daemon, token: Option<&str>) -> Client {
        Client {
            http: reqwest::Client::new(),
            base: d.url(""),
            token: token.map(str::to_owned),
        }
    }

    fn with_auth(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(token) => request.bearer_auth(token).header("origin", &self.base),
            None => request,
        }
    }

    async fn snapshot(&self) -> (u16, Value) {
        let request = self
            .http
            .get(format!("{}/api/projects/p/annotations", self.base));
        let resp = self.with_auth(request).send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }

    /// Posts one op; answers the status and the body.
    async fn op(&self, client_id: &str, op_id: &str, op: Value) -> (u16, Value) {
        self.try_op(client_id, op_id, op).await.unwrap()
    }

    /// Posts one op; answers the status and the body, or the error of a connection that broke.
    async fn try_op(
        &self,
        client_id: &str,
        op_id: &str,
        op: Value,
    ) -> Result<(u16, Value), reqwest::Error> {
        let request = self
            .http
            .post(format!("{}/api/projects/p/annotations/ops", self.base))
            .header("content-type", "application/json")
            .body(json!({"client_id": client_id, "op_id": op_id, "op": op}).to_string());
        let resp = self.with_auth(request).send().await?;
        Ok((resp.status().as_u16(), resp.json().await?))
    }

    /// Posts an op that must commit; answers its event.
    async fn commit(&self, client_id: &str, op_id: &str, op: Value) -> Value {
        let (status, body) = self.op(client_id, op_id, op).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["outcome"], "committed", "{body}");
        body["event"].clone()
    }
}

fn note_set(text: &str, base_rev: u64) -> Value {
    json!({"kind": "note_set", "target": {"kind": "project"}, "text": text, "base_rev": base_rev})
}

fn thread_create(thread: &str, comment: &str, text: &str) -> Value {
    json!({
        "kind": "thread_create", "thread": thread, "comment": comment, "text": text,
        "anchor": {"kind": "pin", "run": "r1", "key": "loss", "x_axis": "_step", "x0": 1200.0},
    })
}

fn comment_add(thread: &str, comment: &str, text: &str) -> Value {
    json!({"kind": "comment_add", "thread": thread, "comment": comment, "text": text})
}

fn annotations_topic(since: Seq) -> Topic {
    Topic::Annotations {
        project: "p".into(),
        since,
    }
}

/// Events of subscription `sub` until one with `seq == last` arrived; checks they come in
/// `seq` order, one after the other, with none twice.
async fn collect_events(ws: &mut Ws, sub: u64, mut after: Seq, last: Seq) -> Vec<AnnotationEvent> {
    let mut got = Vec::new();
    while after < last {
        match ws.recv().await {
            ServerMsg::Annotations { sub: s, events } if s == sub => {
                assert!(!events.is_empty(), "an empty page after the first");
                for e in events {
                    assert!(
                        e.seq > after,
                        "duplicate or out of order: {} after {after}",
                        e.seq
                    );
                    after = e.seq;
                    got.push(e);
                }
            }
            ServerMsg::Error { message, .. } => panic!("{message}"),
            _ => {}
        }
    }
    assert_eq!(after, last);
    got
}

/// Subscribes to the annotations of `p` from `since`: answers once `subscribed` and the first
/// page (maybe empty) arrived, with that page's events.
async fn subscribe(ws: &mut Ws, sub: u64, since: Seq) -> Vec<AnnotationEvent> {
    ws.subscribe(sub, annotations_topic(since)).await;
    assert_eq!(ws.recv().await, ServerMsg::Subscribed { id: sub });
    match ws.recv().await {
        ServerMsg::Annotations { sub: s, events } if s == sub => events,
        other => panic!("expected the first page, got {other:?}"),
    }
}

#[tokio::test]
async fn the_snapshot_and_the_topic_carry_every_op_and_a_reconnect_resumes_without_gap_or_duplicate()
 {
    let root = project();
    let d = Daemon::start(root.path());
    let c = Client::new(&d, None);
    let (status, snapshot) = c.snapshot().await;
    assert_eq!(status, 200, "{snapshot}");
    assert_eq!(snapshot["seq"], 0);
    assert_eq!(snapshot["notepad"]["rev"], 0);
    assert_eq!(snapshot["threads"], json!([]));
    let (status, _) = d.get("/api/projects/nope/annotations").await;
    assert_eq!(status, 404);

    let mut ws = Ws::connect(d.port).await;
    assert!(subscribe(&mut ws, 1, 0).await.is_empty());
    let event = c
        .commit("tab1", "op1", thread_create("t1", "k1", "spike here"))
        .await;
    assert_eq!(event["seq"], 1);
    assert_eq!(event["author"], json!({"id": "local", "label": "local"}));
    let live = collect_events(&mut ws, 1, 0, 1).await;
    assert_eq!(serde_json::to_value(&live[0]).unwrap(), event);

    // A reconnect from seq 1 gets exactly what was committed while it was away, then new ones.
    drop(ws);
    for i in 0..3 {
        c.commit(
            "tab1",
            &format!("add{i}"),
            comment_add("t1", &format!("c{i}"), "more"),
        )
        .await;
    }
    let mut ws = Ws::connect(d.port).await;
    let mut events = subscribe(&mut ws, 2, 1).await;
    events.extend(collect_events(&mut ws, 2, events.last().map_or(1, |e| e.seq), 4).await);
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [2, 3, 4]);
    c.commit("tab1", "note", note_set("the plan", 0)).await;
    collect_events(&mut ws, 2, 4, 5).await;
    assert!(
        ws.try_recv(std::time::Duration::from_millis(200))
            .await
            .is_none()
    );

    let (_, snapshot) = c.snapshot().await;
    assert_eq!(snapshot["seq"], 5);
    assert_eq!(snapshot["notepad"]["text"], "the plan");
    let comments = snapshot["threads"][0]["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 4);
    assert_eq!(snapshot["threads"][0]["head"]["anchor"]["x0"], 1200.0);

    // A long backlog arrives in several pages, in order, none twice.
    for i in 0..300u64 {
        c.commit("tab2", &format!("n{i}"), note_set(&format!("v{i}"), i + 1))
            .await;
    }
    let mut ws = Ws::connect(d.port).await;
    let mut events = subscribe(&mut ws, 3, 0).await;
    assert!(events.len() < 305, "a page is bounded");
    let after = events.last().unwrap().seq;
    events.extend(collect_events(&mut ws, 3, after, 305).await);
    assert_eq!(events.len(), 305);

    // Refusals are ordinary JSON errors.
    let (status, body) = c.op("tab1", "bad", thread_create("t 1", "k9", "x")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("bad_request"))
    );
    let mut on_nothing = thread_create("t9", "k9", "x");
    on_nothing["anchor"]["run"] = json!("r404");
    let (status, body) = c.op("tab1", "nothing", on_nothing).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = c.op("tab1", "taken", thread_create("t1", "k9", "x")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("id_taken"))
    );
}

#[tokio::test]
async fn two_editors_of_one_note_at_once_one_commits_and_the_other_gets_the_current_text() {
    let root = project();
    let d = Daemon::start(root.path());
    let (a, b) = (Client::new(&d, None), Client::new(&d, None));
    for round in 0..5u64 {
        let (base, op_id) = (round, format!("r{round}"));
        let (ra, rb) = tokio::join!(
            a.op("alice", &op_id, note_set(&format!("alice {round}"), base)),
            b.op("bob", &op_id, note_set(&format!("bob {round}"), base)),
        );
        assert_eq!((ra.0, rb.0), (200, 200));
        let (won, lost) = match (ra.1["outcome"].as_str(), rb.1["outcome"].as_str()) {
            (Some("committed"), Some("conflict")) => (ra.1, rb.1),
            (Some("conflict"), Some("committed")) => (rb.1, ra.1),
            other => panic!("one commit and one conflict, got {other:?}"),
        };
        let winner_text = won["event"]["change"]["text"].clone();
        assert_eq!(lost["current"]["kind"], "note");
        assert_eq!(lost["current"]["text"], winner_text);
        assert_eq!(lost["current"]["rev"], base + 1);
        let (_, snapshot) = a.snapshot().await;
        assert_eq!(snapshot["notepad"]["text"], winner_text);
        assert_eq!(snapshot["seq"], round + 1, "the conflict was not logged");
    }
}

#[tokio::test]
async fn an_op_retried_after_a_kill_9_is_applied_exactly_once() {
    let root = project();
    let mut d = Daemon::start(root.path());
    let c = Client::new(&d, None);
    c.commit("tab", "first", thread_create("t1", "k1", "spike"))
        .await;
    let sent = c
        .commit("tab", "second", comment_add("t1", "k2", "again"))
        .await;
    d.kill9();

    let d = Daemon::start(root.path());
    let c = Client::new(&d, None);
    // The client never saw the answer: it retries the same op, and gets the same event.
    let retried = c
        .commit("tab", "second", comment_add("t1", "k2", "again"))
        .await;
    assert_eq!(retried, sent);
    let (_, snapshot) = c.snapshot().await;
    assert_eq!(snapshot["seq"], 2);
    assert_eq!(
        snapshot["threads"][0]["comments"].as_array().unwrap().len(),
        2
    );
    let mut ws = Ws::connect(d.port).await;
    let events = subscribe(&mut ws, 1, 0).await;
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
    // Its new ops continue the sequence.
    let next = c
        .commit("tab", "third", note_set("after the crash", 0))
        .await;
    assert_eq!(next["seq"], 3);
}

#[tokio::test]
async fn ops_in_flight_when_the_daemon_is_killed_apply_exactly_once_after_their_retries() {
    let root = project();
    let mut d = Daemon::start(root.path());
    let c = Client::new(&d, None);
    c.commit("tab", "t", thread_create("t1", "k0", "first"))
        .await;
    for i in 1..=60 {
        let op = comment_add("t1", &format!("k{i}"), &format!("c {i}"));
        c.commit("tab", &format!("add{i}"), op).await;
    }
    // Edits of rev 1: applied twice, an edit would conflict with itself.
    let ops: Vec<(String, Value)> = (1..=60)
        .map(|i| {
            let edit = json!({"kind": "comment_edit", "comment": format!("k{i}"),
                              "text": format!("edited {i}"), "base_rev": 1});
            (format!("edit{i}"), edit)
        })
        .collect();
    // Killed once a quarter of the ops were answered: others are in flight, some of them
    // committed but not yet answered.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tasks: Vec<_> = ops
        .iter()
        .cloned()
        .map(|(op_id, op)| {
            let (c, done) = (c.clone(), done.clone());
            tokio::spawn(async move {
                let answer = c.try_op("tab", &op_id, op).await.ok();
                done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                answer
            })
        })
        .collect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while done.load(std::sync::atomic::Ordering::SeqCst) < ops.len() / 4 {
        assert!(std::time::Instant::now() < deadline, "ops are not answered");
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    d.kill9();
    let mut answered = Vec::new();
    for task in tasks {
        answered.push(task.await.unwrap());
    }

    // Every op is retried after the restart: those answered before keep their event, the others
    // commit now or answer what they committed before the kill; none applies twice.
    let d = Daemon::start(root.path());
    let c = Client::new(&d, None);
    for ((op_id, op), before) in ops.iter().zip(&answered) {
        let event = c.commit("tab", op_id, op.clone()).await;
        if let Some((200, body)) = before {
            assert_eq!(event, body["event"], "{op_id}");
        }
    }
    let (_, snapshot) = c.snapshot().await;
    assert_eq!(snapshot["seq"], 121);
    let comments = snapshot["threads"][0]["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 61);
    for c in &comments[1..] {
        assert_eq!(c["rev"], 2, "{c}");
        assert!(c["text"].as_str().unwrap().starts_with("edited"), "{c}");
    }
    let mut ws = Ws::connect(d.port).await;
    let mut events = subscribe(&mut ws, 1, 0).await;
    let after = events.last().map_or(0, |e| e.seq);
    events.extend(collect_events(&mut ws, 1, after, 121).await);
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=121).collect::<Vec<u64>>()
    );
}

#[tokio::test]
async fn shared_annotations_need_an_annotator_and_are_signed_with_the_link_label() {
    let root = project();
    let d = Daemon::start_with(root.path(), &["--public-url", "https://team.example/t"]);
    let viewer = Client::new(&d, Some(&share_token(root.path(), "viewer", "vera")));
    let alice = Client::new(&d, Some(&share_token(root.path(), "annotator", "alice")));
    let bob = Client::new(&d, Some(&share_token(root.path(), "annotator", "bob")));
    let owner = Client::new(&d, Some(&share_token(root.path(), "owner", "olga")));

    let (status, _) = Client::new(&d, None).snapshot().await;
    assert_eq!(status, 401);
    let (status, body) = viewer.op("v", "1", thread_create("t1", "k1", "x")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let (status, _) = viewer.snapshot().await;
    assert_eq!(status, 200);

    let event = alice
        .commit("a", "1", thread_create("t1", "k1", "spike"))
        .await;
    assert_eq!(event["author"]["label"], "alice");
    let edit =
        |text: &str| json!({"kind": "comment_edit", "comment": "k1", "text": text, "base_rev": 1});
    let (status, body) = bob.op("b", "1", edit("bob was here")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let delete = json!({"kind": "comment_delete", "comment": "k1"});
    let (status, _) = bob.op("b", "2", delete.clone()).await;
    assert_eq!(status, 403);
    let edited = alice.commit("a", "2", edit("a spike at 1200")).await;
    assert_eq!(edited["change"]["text"], "a spike at 1200");
    // An owner may delete anyone's comment: a tombstone stays.
    let deleted = owner.commit("o", "1", delete).await;
    assert_eq!(deleted["author"]["label"], "olga");
    assert_eq!(deleted["change"]["deleted"], true);
    let (_, snapshot) = viewer.snapshot().await;
    let comment = &snapshot["threads"][0]["comments"][0];
    assert_eq!(
        (comment["deleted"].as_bool(), comment["text"].as_str()),
        (Some(true), Some(""))
    );
    assert_eq!(comment["author"]["label"], "alice");

    // A viewer's WebSocket gets the events too.
    let mut request = d
        .url("/api/ws")
        .replacen("http", "ws", 1)
        .into_client_request()
        .unwrap();
    let headers = request.headers_mut();
    headers.insert(
        "authorization",
        format!("Bearer {}", viewer.token.as_deref().unwrap())
            .parse()
            .unwrap(),
    );
    headers.insert("origin", d.url("").parse().unwrap());
    let (stream, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let mut ws = Ws::from_stream(stream);
    assert!(matches!(ws.recv().await, ServerMsg::Hello { .. }));
    let events = subscribe(&mut ws, 1, 0).await;
    assert_eq!(events.len(), 3);
}

/// The name and tags of `r1` in the runs list.
async fn listed_r1(d: &Daemon) -> (String, Value) {
    let runs = d.get_ok("/api/projects/p/runs").await;
    let r1 = runs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "r1")
        .unwrap()
        .clone();
    (r1["name"].as_str().unwrap().to_owned(), r1["tags"].clone())
}

#[tokio::test]
async fn an_owner_renames_and_retags_a_run_live_for_everyone_and_it_outlasts_run_json_and_restarts()
{
    let root = tempfile::tempdir().unwrap();
    let mut writer = RunWriter::create(root.path(), "p", "r1");
    writer.log_rows(10, |s| s.to_string());
    let d = Daemon::start_with(root.path(), &["--public-url", "https://team.example/t"]);
    let viewer = Client::new(&d, Some(&share_token(root.path(), "viewer", "vera")));
    let alice = Client::new(&d, Some(&share_token(root.path(), "annotator", "alice")));
    let owner = Client::new(&d, Some(&share_token(root.path(), "owner", "olga")));
    let rename = |name: &str, base_rev: u64| json!({"kind": "run_rename", "run": "r1", "name": name, "base_rev": base_rev});

    // Only owners: a viewer and an annotator are refused.
    for (c, who) in [(&viewer, "v"), (&alice, "a")] {
        let (status, body) = c.op(who, "1", rename("nope", 0)).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("forbidden")),
            "{who}: {body}"
        );
    }

    // A viewer subscribed to the project topic sees the new name and tags pushed.
    let mut request = d
        .url("/api/ws")
        .replacen("http", "ws", 1)
        .into_client_request()
        .unwrap();
    let headers = request.headers_mut();
    headers.insert(
        "authorization",
        format!("Bearer {}", viewer.token.as_deref().unwrap())
            .parse()
            .unwrap(),
    );
    headers.insert("origin", d.url("").parse().unwrap());
    let (stream, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let mut ws = Ws::from_stream(stream);
    assert!(matches!(ws.recv().await, ServerMsg::Hello { .. }));
    ws.subscribe(
        7,
        Topic::Project {
            project: "p".into(),
            since: 0,
        },
    )
    .await;
    assert_eq!(ws.recv().await, ServerMsg::Subscribed { id: 7 });

    let event = owner.commit("o", "1", rename("baseline", 0)).await;
    assert_eq!(event["change"]["kind"], "run");
    assert_eq!(event["change"]["name"], "baseline");
    assert_eq!(event["change"]["name_rev"], 1);
    owner
        .commit(
            "o",
            "2",
            json!({"kind": "run_retag", "run": "r1", "tags": ["best", "lr-sweep"], "base_rev": 0}),
        )
        .await;
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            if let ServerMsg::Runs { runs, .. } = ws.recv().await
                && runs
                    .iter()
                    .any(|r| r.id == "r1" && r.name == "baseline" && r.tags == ["best", "lr-sweep"])
            {
                break;
            }
        }
    })
    .await
    .expect("the project topic pushes the new name and tags");

    // A stale base_rev is refused with the current value and who set it.
    let (status, body) = owner.op("o2", "1", rename("other", 0)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "conflict", "{body}");
    assert_eq!(body["current"]["kind"], "run");
    assert_eq!(body["current"]["name"], "baseline");
    assert_eq!(body["current"]["updated_by"]["label"], "olga");

    // The runs list, as a viewer reads it.
    let r1 = || async {
        let request = viewer
            .http
            .get(format!("{}/api/projects/p/runs", viewer.base));
        let runs: Value = viewer
            .with_auth(request)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        runs.as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == "r1")
            .unwrap()
            .clone()
    };
    let listed = r1().await;
    assert_eq!(
        (&listed["name"], &listed["tags"]),
        (&json!("baseline"), &json!(["best", "lr-sweep"]))
    );

    // The client rewriting run.json (its own name and tags, new notes) does not undo the overlay.
    writer.set("notes", json!("rewritten"));
    let listed = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            let listed = r1().await;
            if listed["notes"] == "rewritten" {
                break listed;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the daemon reads the rewritten run.json");
    assert_eq!(
        (&listed["name"], &listed["tags"]),
        (&json!("baseline"), &json!(["best", "lr-sweep"]))
    );
    let (_, snapshot) = viewer.snapshot().await;
    assert_eq!(snapshot["run_overlays"][0]["name"], "baseline");
    drop(ws);
    drop(d);

    // After a restart, the runs list shows it from the start (no sharing: local reads).
    let d = Daemon::start(root.path());
    assert_eq!(
        listed_r1(&d).await,
        ("baseline".to_owned(), json!(["best", "lr-sweep"]))
    );
    let run = d.get_ok("/api/projects/p/runs/r1").await;
    assert_eq!(run["name"], "baseline");
    // The local user is an owner; the rename continues from rev 1.
    let c = Client::new(&d, None);
    let event = c.commit("local-tab", "1", rename("final", 1)).await;
    assert_eq!(event["change"]["name_rev"], 2);
    assert_eq!(listed_r1(&d).await.0, "final");
}

#[tokio::test]
async fn the_run_page_form_renames_and_retags_and_shows_who_changed_the_name_meanwhile() {
    use crate::web::*;
    use fantoccini::Locator;
    let root = project();
    let mut done = RunWriter::create(root.path(), "p", "r2");
    done.log_rows(3, |s| s.to_string());
    done.set("state", json!("finished"));
    let d = Daemon::start(root.path());
    require_web(&d).await;
    let profile = tempfile::tempdir().unwrap();
    let driver = Driver::start();
    let c = browser(&driver, profile.path()).await;
    let t = std::time::Duration::from_secs(30);
    c.goto(&d.url("/projects/p/runs/r1")).await.unwrap();
    c.wait()
        .at_most(t)
        .for_element(Locator::Css("[data-testid=run-label-edit]"))
        .await
        .expect("an owner (the local user) sees Edit")
        .click()
        .await
        .unwrap();
    set_value(&c, "[data-testid=run-label-name]", "baseline").await;
    set_value(&c, "[data-testid=run-label-tags]", "best, lr-sweep").await;
    c.find(Locator::Css("[data-testid=run-label-save]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually(
        "the new name and tags on the page",
        t,
        || async {
            (
                texts(&c, "[data-testid=run-name]").await,
                texts(&c, ".kv .tag").await,
            )
        },
        |(name, tags)| name == &["baseline"] && tags == &["best", "lr-sweep"],
    )
    .await;
    assert_eq!(listed_r1(&d).await.0, "baseline");

    // Someone else renames while the form is open: Save is refused and says so.
    c.find(Locator::Css("[data-testid=run-label-edit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    Client::new(&d, None)
        .commit(
            "other-tab",
            "1",
            json!({"kind": "run_rename", "run": "r1", "name": "theirs", "base_rev": 1}),
        )
        .await;
    set_value(&c, "[data-testid=run-label-name]", "mine").await;
    c.find(Locator::Css("[data-testid=run-label-save]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually(
        "the conflict message",
        t,
        || async { texts(&c, "[data-testid=run-label-message]").await },
        |m| {
            m.first()
                .is_some_and(|m| m.contains("local changed the name to “theirs”"))
        },
    )
    .await;
    assert_eq!(listed_r1(&d).await.0, "theirs");
    // A running run offers no Delete.
    assert!(
        c.find(Locator::Css("[data-testid=run-delete]"))
            .await
            .is_err(),
        "a running run can be deleted from its page"
    );

    // A finished run: Delete, confirm, and the page goes to the project without it.
    c.goto(&d.url("/projects/p/runs/r2")).await.unwrap();
    c.wait()
        .at_most(t)
        .for_element(Locator::Css("[data-testid=run-delete]"))
        .await
        .expect("an owner sees Delete on a finished run")
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(t)
        .for_element(Locator::Css("[data-testid=run-delete-yes]"))
        .await
        .expect("Delete asks first")
        .click()
        .await
        .unwrap();
    eventually(
        "the project page after the delete",
        t,
        || async { c.current_url().await.unwrap().path().to_owned() },
        |path| path.trim_end_matches('/') == "/projects/p",
    )
    .await;
    let runs = d.get_ok("/api/projects/p/runs").await;
    let ids: Vec<&str> = runs
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(ids, ["r1"]);
    let trash = root.path().join(".trackline/trash/p");
    let moved: Vec<_> = std::fs::read_dir(&trash).unwrap().collect();
    assert_eq!(moved.len(), 1, "the run is in the trash, not destroyed");
    assert_eq!(page_errors(&c, &driver).await, Vec::<String>::new());
    let _ = c.close().await;
}
