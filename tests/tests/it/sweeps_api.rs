//! Sweeps over HTTP against the real daemon: configs checked by key, agents that never get the
//! same parameters, runs followed from their folders, pause/resume/stop/cancel, run_cap,
//! hyperband, agents that vanish, a daemon restart in the middle, and the live topics.

use crate::common::{Daemon, RunWriter, Ws, now_secs, write_atomic};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;
use trackline_shared::sweeps::{AgentCommand, SweepDetail, SweepState};
use trackline_shared::{ServerMsg, Topic};

struct Client {
    http: reqwest::Client,
    token: String,
}

impl Client {
    fn new(dir: &Path) -> Client {
        let token = std::fs::read_to_string(dir.join(".trackline/api_key"))
            .unwrap()
            .trim()
            .to_string();
        Client {
            http: reqwest::Client::new(),
            token,
        }
    }

    async fn post(&self, d: &Daemon, path: &str, body: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(d.url(path))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn create(&self, d: &Daemon, project: &str, yaml: &str) -> String {
        let (status, body) = self
            .post(
                d,
                &format!("/api/projects/{project}/sweeps"),
                json!({"config_yaml": yaml}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().unwrap().to_string()
    }

    async fn agent(&self, d: &Daemon, sweep: &str) -> String {
        let (status, body) = self
            .post(
                d,
                &format!("/api/sweeps/{sweep}/agents"),
                json!({"host": "h", "pid": 1}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["agent"].as_str().unwrap().to_string()
    }

    async fn next(&self, d: &Daemon, sweep: &str, agent: &str) -> AgentCommand {
        let (status, body) = self
            .post(
                d,
                &format!("/api/sweeps/{sweep}/agents/{agent}/next"),
                json!({}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_value(body).unwrap()
    }

    async fn beat(&self, d: &Daemon, sweep: &str, agent: &str, body: Value) -> Value {
        let (status, body) = self
            .post(
                d,
                &format!("/api/sweeps/{sweep}/agents/{agent}/heartbeat"),
                body,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    async fn control(&self, d: &Daemon, sweep: &str, body: Value) -> (u16, Value) {
        self.post(d, &format!("/api/sweeps/{sweep}/control"), body)
            .await
    }
}

async fn detail(d: &Daemon, sweep: &str) -> SweepDetail {
    serde_json::from_value(d.get_ok(&format!("/api/sweeps/{sweep}")).await).unwrap()
}

/// A run folder for `run` with its config, a finished state and `loss` in its summary.
fn finished_run(root: &Path, project: &str, run: &str, sweep: &str, params: &Value, loss: f64) {
    let mut w = RunWriter::create(root, project, run);
    write_atomic(&w.dir.join("config.json"), params);
    w.log_rows(3, |s| format!("{}", loss + (2 - s) as f64));
    write_atomic(&w.dir.join("summary.json"), &json!({"loss": loss}));
    w.set("sweep_id", json!(sweep));
    w.set("finished_at", json!(now_secs()));
    w.set("exit_code", json!(0));
    w.set("state", json!("finished"));
}

fn run_of(command: &AgentCommand) -> (String, Value) {
    match command {
        AgentCommand::Run { run, params, .. } => (run.clone(), Value::Object(params.clone())),
        other => panic!("expected a run, got {other:?}"),
    }
}

#[tokio::test]
async fn configs_are_checked_and_grid_agents_never_share_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path());
    let c = Client::new(dir.path());
    // A bad config names its key; nothing is created.
    let (status, body) = c
        .post(
            &d,
            "/api/projects/p/sweeps",
            json!({"config_yaml": "method: random\nparameters: {lr: {min: 1.0, max: 0.5}}"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("parameters.lr.min"),
        "{body}"
    );
    let (status, _) = c
        .post(
            &d,
            "/api/projects/p/sweeps",
            json!({"config": {"method": "bayes", "parameters": {"x": {"min": 0.0, "max": 1.0}}}}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(d.get_ok("/api/projects/p/sweeps").await, json!([]));
    // Agent routes need the write token.
    let anonymous = reqwest::Client::new()
        .post(d.url("/api/sweeps/abcdefgh/agents"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);

    // A 3 × 2 grid and two agents asking at the same time: six distinct points, then done.
    let sweep = c
        .create(
            &d,
            "p",
            "method: grid\nparameters:\n  a: {values: [1, 2, 3]}\n  b: {values: [x, y]}\n",
        )
        .await;
    let (a1, a2) = (c.agent(&d, &sweep).await, c.agent(&d, &sweep).await);
    let mut seen = HashSet::new();
    for _ in 0..3 {
        let (n1, n2) = tokio::join!(c.next(&d, &sweep, &a1), c.next(&d, &sweep, &a2));
        for n in [n1, n2] {
            let (_, params) = run_of(&n);
            assert!(
                seen.insert(params.to_string()),
                "handed out twice: {params}"
            );
        }
    }
    assert_eq!(seen.len(), 6);
    assert!(matches!(
        c.next(&d, &sweep, &a1).await,
        AgentCommand::Done { .. }
    ));
    let info = &detail(&d, &sweep).await.info;
    assert_eq!(
        (info.run_count, info.grid_size, info.agent_count),
        (6, Some(6), 2)
    );
    assert_eq!(info.state, SweepState::Running, "its runs have not ended");

    // JSON configs work too, and run_cap is honoured.
    let (status, body) = c
        .post(&d, "/api/projects/p/sweeps", json!({"config": {"method": "random", "run_cap": 2, "parameters": {"lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1}}}}))
        .await;
    assert_eq!(status, 201, "{body}");
    let capped = body["id"].as_str().unwrap().to_string();
    let agent = c.agent(&d, &capped).await;
    for _ in 0..2 {
        let (_, params) = run_of(&c.next(&d, &capped, &agent).await);
        let lr = params["lr"].as_f64().unwrap();
        assert!((1e-4..=1e-1).contains(&lr));
    }
    let AgentCommand::Done { reason } = c.next(&d, &capped, &agent).await else {
        panic!("past run_cap");
    };
    assert!(reason.contains("run_cap"), "{reason}");
    let list = d.get_ok("/api/projects/p/sweeps").await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["id"], json!(capped), "newest first");
}

#[tokio::test]
async fn runs_are_followed_and_the_sweep_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = Daemon::start(dir.path());
    let c = Client::new(dir.path());
    let sweep = c
        .create(
            &d,
            "p",
            "method: grid\nmetric: {name: loss, goal: minimize}\nparameters:\n  a: {values: [1, 2, 3, 4]}\n",
        )
        .await;
    let agent = c.agent(&d, &sweep).await;
    let (r1, p1) = run_of(&c.next(&d, &sweep, &agent).await);
    let (r2, p2) = run_of(&c.next(&d, &sweep, &agent).await);
    finished_run(dir.path(), "p", &r1, &sweep, &p1, 0.5);
    finished_run(dir.path(), "p", &r2, &sweep, &p2, 0.25);
    let orders = c
        .beat(
            &d,
            &sweep,
            &agent,
            json!({"exited": [{"run": r1, "exit_code": 0}, {"run": r2, "exit_code": 0}]}),
        )
        .await;
    assert_eq!(orders["stop"], json!([]));
    let got = d
        .wait_for(
            &format!("/api/sweeps/{sweep}"),
            Duration::from_secs(15),
            |b| {
                b["runs"].as_array().is_some_and(|runs| {
                    runs.iter()
                        .all(|r| r["state"] == "finished" && r["metric"].is_number())
                })
            },
        )
        .await;
    assert_eq!(got["info"]["best"], json!({"run": r2, "value": 0.25}));
    assert_eq!(
        d.get_ok(&format!("/api/projects/p/runs/{r1}")).await["sweep_id"],
        json!(sweep)
    );

    // Pause: agents wait; resume: a run again.
    let (status, info) = c.control(&d, &sweep, json!({"action": "pause"})).await;
    assert_eq!((status, info["state"].clone()), (200, json!("paused")));
    assert!(matches!(
        c.next(&d, &sweep, &agent).await,
        AgentCommand::Wait { .. }
    ));
    c.control(&d, &sweep, json!({"action": "resume"})).await;
    let (r3, _) = run_of(&c.next(&d, &sweep, &agent).await);

    // A restart in the middle: the sweep, its runs, its agent and its state are all kept, and
    // the grid goes on where it was (no parameters handed out twice).
    d.kill9();
    let d = Daemon::start(dir.path());
    let kept = detail(&d, &sweep).await;
    assert_eq!(kept.runs.len(), 3);
    assert_eq!(kept.runs[2].run, r3);
    let (_, p4) = run_of(&c.next(&d, &sweep, &agent).await);
    assert_eq!(p4, json!({"a": 4}));

    // Cancel: the running ones are ordered to stop; the agent is told when it reports.
    let (status, info) = c.control(&d, &sweep, json!({"action": "cancel"})).await;
    assert_eq!((status, info["state"].clone()), (200, json!("cancelled")));
    let orders = c.beat(&d, &sweep, &agent, json!({"running": [r3]})).await;
    let mut stop: Vec<String> = serde_json::from_value(orders["stop"].clone()).unwrap();
    stop.sort();
    assert_eq!(stop.len(), 2);
    assert!(matches!(
        c.next(&d, &sweep, &agent).await,
        AgentCommand::Done { .. }
    ));
    let (status, body) = c.control(&d, &sweep, json!({"action": "resume"})).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (409, json!("sweep_ended")),
        "{body}"
    );
    c.beat(
        &d,
        &sweep,
        &agent,
        json!({"exited": [{"run": r3, "exit_code": null}]}),
    )
    .await;
    let after = detail(&d, &sweep).await;
    let r3_row = after.runs.iter().find(|r| r.run == r3).unwrap();
    assert_eq!(
        r3_row.state,
        trackline_shared::sweeps::SweepRunState::Stopped
    );
    assert!(
        !r3_row.early_terminated,
        "a cancel is not an early termination"
    );
}

#[tokio::test]
async fn hyperband_stops_the_worse_run_and_vanished_agents_fail_their_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start_with(dir.path(), &["--sweep-heartbeat-secs", "1"]);
    let c = Client::new(dir.path());
    let sweep = c
        .create(
            &d,
            "p",
            "method: random\nmetric: {name: loss, goal: minimize}\nparameters:\n  a: {min: 0.0, max: 1.0}\n\
             early_terminate: {type: hyperband, min_iter: 2, eta: 2}\n",
        )
        .await;
    let agent = c.agent(&d, &sweep).await;
    let (good, _) = run_of(&c.next(&d, &sweep, &agent).await);
    let (bad, _) = run_of(&c.next(&d, &sweep, &agent).await);
    // Band 2 (eta 2): the values at index 1 are 0.2 (good), 5.0 (bad) and 1.1 (a finished run);
    // the threshold is the value at ⌊3/2⌋ = 1 of the sorted [0.2, 1.1, 5.0]: 1.1. Strict (the
    // default): the bad run's 5.0 at the band is above it.
    let (ref_run, ref_params) = run_of(&c.next(&d, &sweep, &agent).await);
    finished_run(dir.path(), "p", &ref_run, &sweep, &ref_params, 0.1);
    for (run, values) in [(&good, [1.0, 0.2, 0.1]), (&bad, [9.0, 5.0, 4.0])] {
        let mut w = RunWriter::create(dir.path(), "p", run);
        w.set("sweep_id", json!(sweep));
        w.log_rows(3, |s| format!("{}", values[s as usize]));
    }
    let stopped = async {
        loop {
            let orders = c
                .beat(&d, &sweep, &agent, json!({"running": [good, bad]}))
                .await;
            if orders["stop"].as_array().is_some_and(|s| !s.is_empty()) {
                return orders["stop"].clone();
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    };
    let stop = tokio::time::timeout(Duration::from_secs(20), stopped)
        .await
        .expect("a stop order");
    assert_eq!(stop, json!([bad]));
    c.beat(
        &d,
        &sweep,
        &agent,
        json!({"exited": [{"run": bad, "exit_code": null}]}),
    )
    .await;
    let after = detail(&d, &sweep).await;
    let row = after.runs.iter().find(|r| r.run == bad).unwrap();
    assert!(row.early_terminated);

    // An agent that asks for a run and then goes silent: after 6 heartbeats (6 s here) the run
    // it never started is failed.
    let ghost = c.agent(&d, &sweep).await;
    let (orphan, _) = run_of(&c.next(&d, &sweep, &ghost).await);
    let failed = d
        .wait_for(
            &format!("/api/sweeps/{sweep}"),
            Duration::from_secs(20),
            |b| {
                b["runs"].as_array().is_some_and(|runs| {
                    runs.iter()
                        .any(|r| r["run"] == json!(orphan) && r["state"] == "failed")
                })
            },
        )
        .await;
    assert!(failed["info"]["run_count"].as_u64().unwrap() >= 4);
}

#[tokio::test]
async fn topics_send_the_list_and_the_sweep_on_each_change_and_importance_ranks() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(dir.path());
    let c = Client::new(dir.path());
    let mut ws = Ws::connect(d.port).await;
    ws.subscribe(
        1,
        Topic::Sweeps {
            project: "p".into(),
        },
    )
    .await;
    let first = loop {
        match ws.recv().await {
            ServerMsg::Subscribed { .. } => continue,
            other => break other,
        }
    };
    assert!(
        matches!(&first, ServerMsg::Sweeps { sweeps, .. } if sweeps.is_empty()),
        "{first:?}"
    );
    let sweep = c
        .create(
            &d,
            "p",
            "method: random\nmetric: {name: loss, goal: minimize}\nparameters:\n  x: {min: 0.0, max: 1.0}\n  noise: {min: 0.0, max: 1.0}\n",
        )
        .await;
    let listed = loop {
        if let Some(ServerMsg::Sweeps { sweeps, .. }) = ws.try_recv(Duration::from_secs(10)).await
            && !sweeps.is_empty()
        {
            break sweeps;
        }
    };
    assert_eq!(listed[0].id, sweep);
    ws.subscribe(
        2,
        Topic::Sweep {
            project: "p".into(),
            sweep: sweep.clone(),
        },
    )
    .await;
    let agent = c.agent(&d, &sweep).await;
    let mut runs = Vec::new();
    for _ in 0..12 {
        let (run, params) = run_of(&c.next(&d, &sweep, &agent).await);
        let x = params["x"].as_f64().unwrap();
        finished_run(
            dir.path(),
            "p",
            &run,
            &sweep,
            &params,
            3.0 * x + 0.01 * params["noise"].as_f64().unwrap(),
        );
        runs.push(run);
    }
    let live = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if let Some(ServerMsg::Sweep { detail, .. }) =
                ws.try_recv(Duration::from_secs(10)).await
                && detail.runs.len() == 12
                && detail.runs.iter().all(|r| r.metric.is_some())
            {
                return detail;
            }
        }
    })
    .await
    .expect("the sweep topic follows the runs");
    assert_eq!(live.info.id, sweep);
    let importance = d
        .get_ok(&format!("/api/projects/p/sweeps/{sweep}/importance"))
        .await;
    assert_eq!(importance["metric"], json!("loss"));
    assert_eq!(importance["run_count"], json!(12));
    assert_eq!(importance["params"][0]["name"], json!("x"), "{importance}");
    assert!(importance["params"][0]["correlation"].as_f64().unwrap() > 0.9);
    let (status, _) = d
        .get(&format!("/api/projects/q/sweeps/{sweep}/importance"))
        .await;
    assert_eq!(status, 404);
}
