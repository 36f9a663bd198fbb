//! Reports against the real daemon (issue 10): made, edited, moved, published and deleted through
//! the annotation ops route; a stale edit answered with the current report; a viewer link seeing
//! only published reports and only their published copy (REST, the annotations snapshot and the
//! `annotations` WebSocket topic); and `trackline report new` generating a report from a filter,
//! through a running daemon (live on the topic) or straight into the database when none runs, a
//! bad filter exiting with status 2 and writing nothing.

use crate::common::*;
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use trackline_shared::annotations::{AnnotationEvent, Change};
use trackline_shared::reports::{BlockContent, Panel, Report, ReportSnapshot};
use trackline_shared::{ServerMsg, Topic};

/// Project `p`: runs `small` (lr 0.001) and `big` (lr 0.1), each with 10 rows of `loss`; `small`
/// also logs `acc` and `system/cpu`.
fn project() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let mut small = RunWriter::create(root.path(), "p", "small");
    write_atomic(&small.dir.join("config.json"), &json!({"lr": 0.001}));
    small.log_rows(10, |s| s.to_string());
    small.append_raw("{\"_step\": 10, \"acc\": 0.9, \"system/cpu\": 50}\n");
    let mut big = RunWriter::create(root.path(), "p", "big");
    write_atomic(&big.dir.join("config.json"), &json!({"lr": 0.1}));
    big.log_rows(10, |s| s.to_string());
    root
}

/// An HTTP client of the daemon, as a share link (from the daemon's own origin) or not.
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

    fn auth(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(token) => request.bearer_auth(token).header("origin", &self.base),
            None => request,
        }
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let request = self.http.get(format!("{}{path}", self.base));
        let resp = self.auth(request).send().await.unwrap();
        (
            resp.status().as_u16(),
            resp.json().await.unwrap_or(Value::Null),
        )
    }

    async fn report(&self, id: &str) -> (u16, Value) {
        self.get(&format!("/api/reports/{id}")).await
    }

    async fn op(&self, op_id: &str, op: Value) -> (u16, Value) {
        let request = self
            .http
            .post(format!("{}/api/projects/p/annotations/ops", self.base))
            .header("content-type", "application/json")
            .body(json!({"client_id": "it", "op_id": op_id, "op": op}).to_string());
        let resp = self.auth(request).send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }

    /// Posts an op that must commit; answers the report it made.
    async fn commit(&self, op_id: &str, op: Value) -> Report {
        let (status, body) = self.op(op_id, op).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["outcome"], "committed", "{body}");
        serde_json::from_value(body["event"]["change"].clone()).unwrap()
    }
}

fn markdown(id: &str, text: &str) -> Value {
    json!({"id": id, "content": {"kind": "markdown", "text": text}})
}

fn set_text(report: &str, block: &str, text: &str, base_rev: u64) -> Value {
    json!({"kind": "block_set", "report": report, "block": block, "base_rev": base_rev,
           "content": {"kind": "markdown", "text": text}})
}

fn block_ids(report: &Report) -> Vec<&str> {
    report.blocks.iter().map(|b| b.id.as_str()).collect()
}

fn text_of(report: &Report, block: usize) -> &str {
    match &report.blocks[block].content {
        BlockContent::Markdown { text } => text,
        other => panic!("not markdown: {other:?}"),
    }
}

/// A WebSocket to `d`, as the share link `token` when given.
async fn ws_as(d: &Daemon, token: Option<&str>) -> Ws {
    let Some(token) = token else {
        return Ws::connect(d.port).await;
    };
    let mut request = d
        .url("/api/ws")
        .replacen("http", "ws", 1)
        .into_client_request()
        .unwrap();
    let headers = request.headers_mut();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    headers.insert("origin", d.url("").parse().unwrap());
    let (stream, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let mut ws = Ws::from_stream(stream);
    assert!(matches!(ws.recv().await, ServerMsg::Hello { .. }));
    ws
}

/// Subscribes to the annotations of `p` from `since`; answers the first page's events.
async fn subscribe(ws: &mut Ws, since: u64) -> Vec<AnnotationEvent> {
    ws.subscribe(
        1,
        Topic::Annotations {
            project: "p".into(),
            since,
        },
    )
    .await;
    assert_eq!(ws.recv().await, ServerMsg::Subscribed { id: 1 });
    match ws.recv().await {
        ServerMsg::Annotations { sub: 1, events } => events,
        other => panic!("expected the first page, got {other:?}"),
    }
}

/// The next annotation events on subscription 1, or none within `wait`.
async fn next_events(ws: &mut Ws, wait: Duration) -> Vec<AnnotationEvent> {
    loop {
        match ws.try_recv(wait).await {
            None => return Vec::new(),
            Some(ServerMsg::Annotations { sub: 1, events }) => return events,
            Some(ServerMsg::Error { message, .. }) => panic!("{message}"),
            Some(_) => {}
        }
    }
}

fn reports_in(events: &[AnnotationEvent]) -> Vec<Report> {
    events
        .iter()
        .filter_map(|e| match &e.change {
            Change::Report(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn owners_edit_reports_through_ops_and_a_viewer_sees_only_published_copies() {
    let root = project();
    let d = Daemon::start_with(root.path(), &["--public-url", "https://team.example/t"]);
    let viewer = Client::new(&d, Some(&share_token(root.path(), "viewer", "vera")));
    let alice = Client::new(&d, Some(&share_token(root.path(), "annotator", "alice")));
    let owner = Client::new(&d, Some(&share_token(root.path(), "owner", "olga")));
    let create = |id: &str, text: &str| {
        json!({"kind": "report_create", "report": id, "title": format!("{id} title"),
               "blocks": [markdown("b1", text)]})
    };

    // Owners only.
    let (status, body) = alice.op("a1", create("rep1", "x")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let made = owner.commit("o1", create("rep1", "first words")).await;
    assert_eq!(
        (made.title_rev, made.created_by.label.as_str()),
        (1, "olga")
    );

    // Blocks: one added after a block that is not there goes last; a move puts it first.
    let added = owner
        .commit(
            "o2",
            json!({"kind": "block_add", "report": "rep1", "after": "gone", "block": markdown("b2", "second")}),
        )
        .await;
    assert_eq!(block_ids(&added), ["b1", "b2"]);
    let moved = owner
        .commit(
            "o3",
            json!({"kind": "block_move", "report": "rep1", "block": "b2", "after": null}),
        )
        .await;
    assert_eq!(block_ids(&moved), ["b2", "b1"]);
    let published = owner
        .commit("o4", json!({"kind": "report_publish", "report": "rep1"}))
        .await;
    assert_eq!(published.published.as_ref().unwrap().rev, 1);

    // The draft moves on past the published copy; a stale edit gets the current report.
    let retitled = owner
        .commit(
            "o4b",
            json!({"kind": "report_title", "report": "rep1", "title": "rep1 secret title", "base_rev": 1}),
        )
        .await;
    assert_eq!(retitled.title_rev, 2);
    let edited = owner
        .commit("o5", set_text("rep1", "b1", "secret draft", 1))
        .await;
    assert_eq!(edited.blocks[1].rev, 2);
    let (status, body) = owner.op("o6", set_text("rep1", "b1", "late edit", 1)).await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("conflict")));
    assert_eq!(body["current"]["kind"], "report");
    let current: Report = serde_json::from_value(body["current"].clone()).unwrap();
    assert_eq!(text_of(&current, 1), "secret draft");
    // An unpublished report, with a comment thread on its block from an annotator.
    owner
        .commit("o7", create("rep2", "unpublished words"))
        .await;
    let (status, body) = alice
        .op(
            "a2",
            json!({"kind": "thread_create", "thread": "t1", "comment": "k1", "text": "why?",
                   "anchor": {"kind": "report_block", "report": "rep2", "block": "b1"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // Annotators read drafts.
    let (status, body) = alice.report("rep1").await;
    assert_eq!(status, 200);
    let snapshot: ReportSnapshot = serde_json::from_value(body).unwrap();
    assert_eq!(text_of(&snapshot.report, 1), "secret draft");
    assert_eq!(snapshot.seq, 8);
    assert_eq!(alice.report("rep2").await.0, 200);
    let (_, list) = alice.get("/api/projects/p/reports").await;
    assert_eq!(list.as_array().unwrap().len(), 2);

    // A viewer: the published copy of rep1 only, never a draft, on every route.
    for path in [
        "/api/reports/rep1",
        "/api/projects/p/reports/rep1",
        "/api/projects/p/reports",
        "/api/projects/p/annotations",
    ] {
        let (status, body) = viewer.get(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        let text = body.to_string();
        for hidden in ["secret", "rep2", "unpublished", "why?"] {
            assert!(!text.contains(hidden), "{path} shows '{hidden}': {text}");
        }
        assert!(text.contains("first words"), "{path}: {text}");
    }
    let (_, body) = viewer.report("rep1").await;
    let seen: ReportSnapshot = serde_json::from_value(body).unwrap();
    assert_eq!(seen.report.title, "rep1 title");
    assert_eq!(block_ids(&seen.report), ["b2", "b1"]);
    assert_eq!(viewer.report("rep2").await.0, 404);
    assert_eq!(viewer.get("/api/projects/p/reports/rep2").await.0, 404);
    assert_eq!(owner.get("/api/projects/q/reports/rep1").await.0, 404);

    // A viewer's WebSocket: rep1's publish as its published copy, nothing of rep2 until it is
    // published, and then its published copy.
    let mut ws = ws_as(&d, viewer.token.as_deref()).await;
    let first = subscribe(&mut ws, 0).await;
    let text = serde_json::to_string(&first).unwrap();
    assert!(!text.contains("secret") && !text.contains("rep2"), "{text}");
    // Of rep1's six events only its publish: a draft edit changes nothing a viewer sees.
    let ids: Vec<String> = reports_in(&first).into_iter().map(|r| r.id).collect();
    assert_eq!(ids, ["rep1"], "{text}");
    assert!(
        reports_in(&first).iter().all(|r| r.title == "rep1 title"),
        "{text}"
    );
    owner
        .commit("o8", set_text("rep2", "b1", "still hidden", 1))
        .await;
    // A draft edit of a published report shows nothing either, until it is published.
    owner
        .commit("o8b", set_text("rep1", "b1", "secret again", 2))
        .await;
    assert!(
        next_events(&mut ws, Duration::from_millis(500))
            .await
            .is_empty()
    );
    owner
        .commit("o9", json!({"kind": "report_publish", "report": "rep2"}))
        .await;
    let events = next_events(&mut ws, Duration::from_secs(10)).await;
    let seen = reports_in(&events);
    assert_eq!(seen.len(), 1, "{events:?}");
    assert_eq!(
        (seen[0].id.as_str(), text_of(&seen[0], 0)),
        ("rep2", "still hidden")
    );
    // The thread on rep2's block shows for the viewer once that block is published.
    let (_, body) = viewer.get("/api/projects/p/annotations").await;
    assert_eq!(body["threads"].as_array().unwrap().len(), 1, "{body}");

    // Deleted: gone from every route; a further op is refused.
    let tomb = owner
        .commit("o10", json!({"kind": "report_delete", "report": "rep1"}))
        .await;
    assert!(tomb.deleted && tomb.blocks.is_empty());
    assert_eq!(owner.report("rep1").await.0, 404);
    let (_, list) = owner.get("/api/projects/p/reports").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (status, body) = owner
        .op("o11", json!({"kind": "report_publish", "report": "rep1"}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("deleted"))
    );
    let events = next_events(&mut ws, Duration::from_secs(10)).await;
    let seen = reports_in(&events);
    assert!(seen[0].deleted && seen[0].title.is_empty(), "{events:?}");

    // `trackline report new` against this shared daemon goes in with the owner token.
    let out = report_new(root.path(), &["--from-runs", "config.lr < 0.01"]);
    let (id, url) = id_and_url(&out);
    assert!(
        url.starts_with("https://team.example/t/projects/p/reports/"),
        "{url}"
    );
    let (status, body) = owner.report(&id).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["report"]["created_by"]["label"], "owner");
}

/// Runs `trackline report new --project p --dir <dir> <args>`.
fn report_new(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(["report", "new", "--project", "p", "--dir"])
        .arg(dir)
        .args(args)
        .env("TRACKLINE_LOG", "warn")
        .output()
        .expect("run trackline report new")
}

/// The id and URL `report new` printed (it must have succeeded).
fn id_and_url(out: &Output) -> (String, String) {
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[1].ends_with(&format!("/projects/p/reports/{}", lines[0])),
        "{text}"
    );
    (lines[0].to_owned(), lines[1].to_owned())
}

/// Checks a generated report over `config.lr < 0.01`: the intro, one grid whose run set is that
/// filter with charts of the runs' metrics (not `system/`), the runs table and the comparison.
fn check_generated(report: &Report) {
    assert_eq!(report.title, "Runs where config.lr < 0.01");
    assert_eq!(block_ids(report), ["intro", "runs"]);
    assert!(
        text_of(report, 0).contains(": 1 run."),
        "{}",
        text_of(report, 0)
    );
    let BlockContent::PanelGrid(grid) = &report.blocks[1].content else {
        panic!("{:?}", report.blocks[1]);
    };
    assert_eq!(grid.runset.filter, "config.lr < 0.01");
    let panels: Vec<String> = grid
        .panels
        .iter()
        .map(|p| match p {
            Panel::Line { key, .. } => key.clone(),
            Panel::RunsTable { .. } => "table".into(),
            Panel::Compare { .. } => "compare".into(),
        })
        .collect();
    assert_eq!(panels, ["acc", "loss", "table", "compare"]);
}

#[tokio::test]
async fn report_new_through_a_running_daemon_is_live_and_a_bad_filter_exits_2() {
    let root = project();
    let d = Daemon::start(root.path());
    d.wait_for("/api/projects/p/runs", Duration::from_secs(10), |b| {
        b.as_array().is_some_and(|a| a.len() == 2)
    })
    .await;
    let mut ws = ws_as(&d, None).await;
    assert!(subscribe(&mut ws, 0).await.is_empty());

    let out = report_new(root.path(), &["--from-runs", "config.lr < 0.01"]);
    let (id, url) = id_and_url(&out);
    assert_eq!(url, d.url(&format!("/projects/p/reports/{id}")));
    let events = next_events(&mut ws, Duration::from_secs(10)).await;
    let live = reports_in(&events);
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].id, id);
    check_generated(&live[0]);
    let snapshot: ReportSnapshot =
        serde_json::from_value(d.get_ok(&format!("/api/reports/{id}")).await).unwrap();
    assert_eq!(snapshot.report, live[0]);

    // Named metrics, a descending sort and a limit; the notes of the chosen runs.
    let note = json!({"client_id": "it", "op_id": "n1", "op": {"kind": "note_set",
        "target": {"kind": "run", "run": "big"}, "text": "the big one", "base_rev": 0}});
    let resp = reqwest::Client::new()
        .post(d.url("/api/projects/p/annotations/ops"))
        .header("content-type", "application/json")
        .body(note.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let out = report_new(
        root.path(),
        &[
            "--from-runs",
            "",
            "--metric",
            "loss",
            "--sort",
            "-config.lr",
            "--limit",
            "1",
            "--title",
            "Best",
        ],
    );
    let (id, _) = id_and_url(&out);
    let report =
        serde_json::from_value::<ReportSnapshot>(d.get_ok(&format!("/api/reports/{id}")).await)
            .unwrap()
            .report;
    assert_eq!(report.title, "Best");
    assert_eq!(block_ids(&report), ["intro", "runs", "notes"]);
    assert!(
        text_of(&report, 2).contains("> the big one"),
        "{}",
        text_of(&report, 2)
    );
    let BlockContent::PanelGrid(grid) = &report.blocks[1].content else {
        panic!();
    };
    let sort = grid.runset.sort.as_ref().unwrap();
    assert_eq!(
        (sort.key.as_str(), sort.desc, grid.runset.limit),
        ("config.lr", true, Some(1))
    );
    assert!(matches!(&grid.panels[0], Panel::Line { key, .. } if key == "loss"));

    // A filter that does not parse: exit status 2, a message, nothing written.
    let out = report_new(root.path(), &["--from-runs", "config.lr <"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("filter"),
        "{out:?}"
    );
    let list = d.get_ok("/api/projects/p/reports").await;
    assert_eq!(list.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn report_new_without_a_daemon_writes_the_database_and_a_later_daemon_serves_it() {
    let root = project();
    let out = report_new(root.path(), &["--from-runs", "config.lr < 0.01"]);
    let (id, url) = id_and_url(&out);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let bad = report_new(root.path(), &["--from-runs", "(config.lr < 1"]);
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");

    let list = Command::new(BIN)
        .args(["report", "list", "--project", "p", "--dir"])
        .arg(root.path())
        .env("TRACKLINE_LOG", "warn")
        .output()
        .unwrap();
    assert!(list.status.success(), "{list:?}");
    let text = String::from_utf8(list.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.starts_with(&format!(
            "{id}\tRuns where config.lr < 0.01\tdraft\t2 blocks"
        )),
        "{text}"
    );

    let d = Daemon::start(root.path());
    let snapshot: ReportSnapshot =
        serde_json::from_value(d.get_ok(&format!("/api/reports/{id}")).await).unwrap();
    check_generated(&snapshot.report);
    assert_eq!(snapshot.report.created_by.label, "local");
    let annotations = d.get_ok("/api/projects/p/annotations").await;
    assert_eq!(annotations["reports"][0]["id"], id.as_str());
}
