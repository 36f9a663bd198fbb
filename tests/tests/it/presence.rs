//! Presence against the real daemon (issue 9, part 5): WebSocket clients of one project see each
//! other's view and cursor; a closed socket's peer leaves at once, a silent one after the
//! timeout; in sharing mode label, colour and scope come from the link (a viewer's `editing` is
//! dropped); and in two real browsers B sees A in the presence bar and A's pointer on its chart.

use crate::common::*;
use crate::web::{Driver, browser, eventually, js, require_web};
use fantoccini::Locator;
use serde_json::json;
use std::process::Command;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use trackline_shared::presence::{Cursor, Me, Peer, PresenceState, View};
use trackline_shared::{ClientMsg, ServerMsg};

/// A WebSocket client and who the daemon says it is.
async fn join(port: u16, auth: Option<&str>) -> (Ws, Me) {
    let mut request = format!("ws://127.0.0.1:{port}/api/ws")
        .into_client_request()
        .unwrap();
    if let Some(token) = auth {
        let h = request.headers_mut();
        h.insert("authorization", format!("Bearer {token}").parse().unwrap());
        h.insert(
            "origin",
            format!("http://127.0.0.1:{port}").parse().unwrap(),
        );
    }
    let (stream, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let mut ws = Ws::from_stream(stream);
    match ws.recv().await {
        ServerMsg::Hello { you: Some(me), .. } => (ws, me),
        other => panic!("expected a hello naming this connection, got {other:?}"),
    }
}

fn state(project: &str, route: &str, cursor: Option<(f64, f64)>) -> PresenceState {
    PresenceState {
        view: View {
            route: route.into(),
            project: Some(project.into()),
            runs: vec![],
            panel: None,
        },
        cursor: cursor.map(|(x, y)| Cursor {
            key: "loss".into(),
            x_axis: "step".into(),
            x,
            y,
        }),
        editing: None,
    }
}

async fn say(ws: &mut Ws, st: PresenceState) {
    ws.send(&ClientMsg::Presence(st)).await;
}

/// Reads until a `presence` upsert of `conn` that `pred` accepts; panics after `within`.
async fn peer_seen(ws: &mut Ws, conn: u64, within: Duration, pred: impl Fn(&Peer) -> bool) -> Peer {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match ws.try_recv(left).await {
            Some(ServerMsg::Presence { peers }) => {
                if let Some(p) = peers.into_iter().find(|p| p.conn == conn && pred(p)) {
                    return p;
                }
            }
            Some(_) => {}
            None => panic!("peer {conn} not seen as expected within {within:?}"),
        }
    }
}

/// Reads until `peer_left` of `conn`; answers how long it took.
async fn left_seen(ws: &mut Ws, conn: u64, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let left = (start + within).saturating_duration_since(Instant::now());
        match ws.try_recv(left).await {
            Some(ServerMsg::PeerLeft { conn: c }) if c == conn => return start.elapsed(),
            Some(_) => {}
            None => panic!("no peer_left of {conn} within {within:?}"),
        }
    }
}

#[tokio::test]
async fn peers_see_views_and_cursors_and_leave_when_closed_or_silent() {
    let root = tempfile::tempdir().unwrap();
    let d = Daemon::start_with(root.path(), &["--presence-timeout-secs", "3"]);
    let (mut a, me_a) = join(d.port, None).await;
    let (mut b, me_b) = join(d.port, None).await;
    assert_eq!((me_a.label.as_str(), me_a.scope.as_ref()), ("local", None));
    assert_ne!(me_a.conn, me_b.conn);
    assert_ne!(
        me_a.color, me_b.color,
        "each local connection has its colour"
    );

    say(&mut a, state("p", "/projects/p", None)).await;
    say(&mut b, state("p", "/projects/p/runs/r1", None)).await;
    let seen = peer_seen(&mut a, me_b.conn, Duration::from_secs(5), |_| true).await;
    assert_eq!(seen.state.view.route, "/projects/p/runs/r1");
    assert_eq!(
        (seen.label.as_str(), seen.color.as_str()),
        ("local", me_b.color.as_str())
    );
    peer_seen(&mut b, me_a.conn, Duration::from_secs(5), |p| {
        p.state.view.route == "/projects/p"
    })
    .await;

    // A's cursor reaches B (data coordinates, as sent).
    say(&mut a, state("p", "/projects/p", Some((1200.0, 0.25)))).await;
    let moved = peer_seen(&mut b, me_a.conn, Duration::from_secs(5), |p| {
        p.state.cursor.is_some()
    })
    .await;
    let c = moved.state.cursor.unwrap();
    assert_eq!(
        (c.key.as_str(), c.x_axis.as_str(), c.x, c.y),
        ("loss", "step", 1200.0, 0.25)
    );

    // A client of another project is not told, nor one that never sent presence.
    let (mut other, _) = join(d.port, None).await;
    say(&mut other, state("q", "/projects/q", None)).await;
    let (mut quiet, _) = join(d.port, None).await;
    say(&mut a, state("p", "/projects/p", Some((1300.0, 0.25)))).await;
    for ws in [&mut other, &mut quiet] {
        if let Some(msg) = ws.try_recv(Duration::from_millis(300)).await {
            panic!("presence of another project or for a silent client: {msg:?}");
        }
    }

    // A closed socket leaves at once. (A and B say where they are again first: heartbeats.)
    say(&mut a, state("p", "/projects/p", Some((1300.0, 0.25)))).await;
    say(&mut b, state("p", "/projects/p/runs/r1", None)).await;
    let (mut c, me_c) = join(d.port, None).await;
    say(&mut c, state("p", "/projects/p", None)).await;
    peer_seen(&mut a, me_c.conn, Duration::from_secs(5), |_| true).await;
    c.stream.close(None).await.unwrap();
    let took = left_seen(&mut a, me_c.conn, Duration::from_secs(5)).await;
    assert!(
        took < Duration::from_millis(500),
        "a closed peer left after {took:?}"
    );

    // B goes silent (its socket stays open) while A keeps a heartbeat: B leaves once the 3 s
    // timeout has passed, and A is not dropped meanwhile.
    say(&mut b, state("p", "/projects/p/runs/r1", None)).await;
    let silent_since = Instant::now();
    let mut last_say = Instant::now();
    let gone_after = loop {
        if last_say.elapsed() >= Duration::from_millis(250) {
            say(&mut a, state("p", "/projects/p", Some((1300.0, 0.25)))).await;
            last_say = Instant::now();
        }
        match a.try_recv(Duration::from_millis(250)).await {
            Some(ServerMsg::PeerLeft { conn }) if conn == me_b.conn => {
                break silent_since.elapsed();
            }
            Some(ServerMsg::PeerLeft { conn }) => panic!("peer {conn} left unexpectedly"),
            _ => assert!(
                silent_since.elapsed() < Duration::from_secs(8),
                "B never left"
            ),
        }
    };
    assert!(
        (Duration::from_millis(2900)..Duration::from_secs(5)).contains(&gone_after),
        "a silent peer left after {gone_after:?}"
    );
    // B speaks again: A sees it come back.
    say(&mut b, state("p", "/projects/p/runs/r1", None)).await;
    peer_seen(&mut a, me_b.conn, Duration::from_secs(5), |_| true).await;
}

/// Runs `trackline share --scope <scope> --label <label>`; answers (link id, token).
fn new_link(dir: &std::path::Path, scope: &str, label: &str) -> (String, String) {
    let out = Command::new(BIN)
        .args(["share", "--scope", scope, "--label", label, "--dir"])
        .arg(dir)
        .env("TRACKLINE_LOG", "warn")
        .output()
        .expect("run trackline share");
    assert!(out.status.success(), "{out:?}");
    let out = String::from_utf8(out.stdout).unwrap();
    let token = out
        .split("#t=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    let id = out
        .split(" link ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    (id.to_owned(), token.to_owned())
}

#[tokio::test]
async fn in_sharing_mode_label_colour_and_scope_come_from_the_link() {
    let root = tempfile::tempdir().unwrap();
    let d = Daemon::start_with(root.path(), &["--public-url", "https://team.example/t"]);
    let (alice_id, alice) = new_link(root.path(), "annotator", "alice");
    let (bob_id, bob) = new_link(root.path(), "viewer", "bob");

    let (mut a, me_a) = join(d.port, Some(&alice)).await;
    let (_a2, me_a2) = join(d.port, Some(&alice)).await;
    let (mut b, me_b) = join(d.port, Some(&bob)).await;
    assert_eq!(me_a.label, "alice");
    assert_eq!(me_a.scope.as_deref(), Some("annotator"));
    assert_eq!(me_a.color, trackline::push::presence::color_of(&alice_id));
    assert_eq!(me_a2.color, me_a.color, "one link, one colour");
    assert_eq!(
        (me_b.label.as_str(), me_b.scope.as_deref()),
        ("bob", Some("viewer"))
    );
    assert_eq!(me_b.color, trackline::push::presence::color_of(&bob_id));

    say(&mut a, state("p", "/projects/p", None)).await;
    let mut editing = state("p", "/projects/p", None);
    editing.editing = Some("note:project".into());
    say(&mut b, editing).await;
    let seen = peer_seen(&mut a, me_b.conn, Duration::from_secs(5), |_| true).await;
    assert_eq!(
        (seen.label.as_str(), seen.color.as_str()),
        ("bob", me_b.color.as_str())
    );
    assert_eq!(seen.state.editing, None, "a viewer edits nothing");
    let seen = peer_seen(&mut b, me_a.conn, Duration::from_secs(5), |_| true).await;
    assert_eq!(seen.label, "alice");
}

#[tokio::test]
async fn two_browsers_see_each_other_and_each_others_pointer() {
    let root = tempfile::tempdir().unwrap();
    let mut run = RunWriter::create(root.path(), "p", "r1");
    run.log_rows(50, |s| format!("{}", 1.0 / (s as f64 + 1.0)));
    run.set("state", "finished".into());
    let d = Daemon::start(root.path());
    require_web(&d).await;
    let driver = Driver::start();
    let (pa, pb) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = browser(&driver, pa.path()).await;
    let b = browser(&driver, pb.path()).await;
    let page = d.url("/projects/p/runs/r1");
    let chart = "[data-testid=chart][data-key=loss]";
    let result = async {
        for c in [&a, &b] {
            c.goto(&page).await?;
            c.wait()
                .at_most(Duration::from_secs(30))
                .for_element(Locator::Css(chart))
                .await?;
        }
        // B sees A (and A sees B) in the presence bar, with the run each views.
        for c in [&a, &b] {
            eventually(
                "one avatar in the presence bar",
                Duration::from_secs(10),
                || js(c, "return [...document.querySelectorAll('[data-testid=presence-avatar]')].map(e => [e.dataset.label, e.dataset.runs]);", vec![]),
                |v| v == &json!([["local", "r1"]]),
            )
            .await;
        }
        // A's pointer over the middle of its chart: B draws it on its chart of loss by step.
        eventually(
            "A's chart drawn",
            Duration::from_secs(20),
            || js(&a, "const c = document.querySelector(arguments[0]); return c ? +c.dataset.points : 0;", vec![json!(chart)]),
            |v| v.as_f64().unwrap_or(0.0) >= 50.0,
        )
        .await;
        let hover = "const cv = document.querySelector(arguments[0]);
             cv.scrollIntoView({block: 'center'});
             const r = cv.getBoundingClientRect();
             cv.dispatchEvent(new PointerEvent('pointermove', {bubbles: true, clientX: r.left + r.width / 2,
                 clientY: r.top + r.height / 2, pointerId: 1, pointerType: 'mouse'}));
             return true;";
        js(&a, hover, vec![json!(chart)]).await;
        let cursor = eventually(
            "A's pointer on B's chart",
            Duration::from_secs(10),
            || js(&b, "const e = document.querySelector('[data-testid=peer-cursor]'); return e ? [e.dataset.label, +e.dataset.x] : null;", vec![]),
            |v| !v.is_null(),
        )
        .await;
        let x = cursor[1].as_f64().unwrap();
        assert!((5.0..45.0).contains(&x), "the pointer's step is mid-chart: {cursor}");
        // It goes when A's pointer leaves the chart.
        js(&a, "document.querySelector(arguments[0]).dispatchEvent(new PointerEvent('pointerleave', {pointerId: 1}));", vec![json!(chart)]).await;
        eventually(
            "A's pointer gone from B's chart",
            Duration::from_secs(10),
            || js(&b, "return document.querySelectorAll('[data-testid=peer-cursor]').length;", vec![]),
            |v| v == &json!(0),
        )
        .await;
        Ok::<(), fantoccini::error::CmdError>(())
    }
    .await;
    let _ = a.close().await;
    let _ = b.close().await;
    result.unwrap();
}
