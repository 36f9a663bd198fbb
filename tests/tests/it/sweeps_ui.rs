//! The sweep pages in a real browser against a real daemon: a sweep made over REST with finished
//! runs; the project links to its Sweeps tab, which lists it; its page shows the runs, brushing
//! a parallel-coordinates axis filters the runs table, importance ranks the parameter that
//! drives the metric first, and Pause changes the state (the REST state agrees).

use crate::common::*;
use crate::web::*;
use serde_json::{Value, json};
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

/// Drags along the parallel-coordinates axis `name` from position `a` to `b` (0 bottom, 1 top).
async fn brush(c: &fantoccini::Client, name: &str, a: f64, b: f64) {
    js(
        c,
        "const svg = document.querySelector('[data-testid=parcoords]');
         svg.scrollIntoView({block: 'center'});
         const axis = document.querySelector(`[data-testid=parcoords-axis][data-name='${arguments[0]}']`);
         const hit = axis.querySelector('.hit');
         const r = axis.querySelector('line').getBoundingClientRect();
         const x = r.left + r.width / 2;
         const y = (p) => r.top + r.height * (1 - p);
         const ev = (type, yy, target) => target.dispatchEvent(new PointerEvent(type, {bubbles: true,
             cancelable: true, clientX: x, clientY: yy, button: 0,
             buttons: type === 'pointerup' ? 0 : 1, pointerId: 1, pointerType: 'mouse',
             isPrimary: true}));
         ev('pointerdown', y(arguments[1]), hit);
         ev('pointermove', y((arguments[1] + arguments[2]) / 2), svg);
         ev('pointermove', y(arguments[2]), svg);
         ev('pointerup', y(arguments[2]), svg);
         return true;",
        vec![json!(name), json!(a), json!(b)],
    )
    .await;
}

#[tokio::test]
async fn sweeps_are_listed_brushed_ranked_and_paused_in_the_browser() {
    let root = tempfile::tempdir().unwrap();
    let d = Daemon::start(root.path());
    require_web(&d).await;
    let token = std::fs::read_to_string(root.path().join(".trackline/api_key")).unwrap();
    let http = reqwest::Client::new();
    let post = |path: String, body: Value| {
        let req = http
            .post(d.url(&path))
            .bearer_auth(token.trim())
            .json(&body);
        async move {
            let resp = req.send().await.unwrap();
            assert!(resp.status().is_success(), "{path}: {}", resp.status());
            resp.json::<Value>().await.unwrap()
        }
    };
    let info = post(
        "/api/projects/sp/sweeps".into(),
        json!({"config_yaml": "method: grid\nmetric: {name: loss, goal: minimize}\nparameters:\n  x: {values: [1, 2, 3, 4, 5, 6, 7, 8, 9]}\n  noise: {values: [0.5]}\n"}),
    )
    .await;
    let sweep = info["id"].as_str().unwrap().to_string();
    let agent = post(format!("/api/sweeps/{sweep}/agents"), json!({})).await["agent"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..8 {
        let next = post(
            format!("/api/sweeps/{sweep}/agents/{agent}/next"),
            json!({}),
        )
        .await;
        let run = next["run"].as_str().unwrap();
        let x = next["params"]["x"].as_f64().unwrap();
        let mut w = RunWriter::create(root.path(), "sp", run);
        write_atomic(&w.dir.join("config.json"), &next["params"]);
        w.log_rows(2, |s| format!("{}", 10.0 * x + s as f64));
        write_atomic(&w.dir.join("summary.json"), &json!({"loss": 10.0 * x}));
        w.set("sweep_id", json!(sweep));
        w.set("state", json!("finished"));
        w.set("finished_at", json!(now_secs()));
    }
    d.wait_for(&format!("/api/sweeps/{sweep}"), T, |b| {
        b["runs"]
            .as_array()
            .is_some_and(|r| r.iter().all(|r| r["metric"].is_number()))
    })
    .await;

    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&driver, profile.path()).await;
    c.goto(&d.url("/projects/sp")).await.unwrap();
    eventually(
        "the Sweeps link",
        T,
        || count(&c, "[data-testid=sweeps-link]"),
        |n| *n == 1,
    )
    .await;
    c.goto(&d.url("/projects/sp/sweeps")).await.unwrap();
    let ids = eventually(
        "the sweep listed",
        T,
        || attrs(&c, "[data-testid=sweep-row]", "data-id"),
        |v| !v.is_empty(),
    )
    .await;
    assert_eq!(ids, vec![sweep.clone()]);

    c.goto(&d.url(&format!("/projects/sp/sweeps/{sweep}")))
        .await
        .unwrap();
    eventually(
        "8 runs",
        T,
        || count(&c, "[data-testid=sweep-run-row]"),
        |n| *n == 8,
    )
    .await;
    assert_eq!(count(&c, "[data-testid=parcoords-line]").await, 8);
    // The metric over time (a point per run, the best so far as a line) and x against it.
    assert_eq!(count(&c, "[data-testid=sweep-metric-point]").await, 8);
    assert_eq!(count(&c, "[data-testid=sweep-best-line]").await, 1);
    assert_eq!(
        count(
            &c,
            "[data-testid=sweep-scatter][data-name=x] [data-testid=sweep-scatter-point]"
        )
        .await,
        8
    );
    // Keep the top half of x (5..8): four runs stay in the table, the others dim.
    brush(&c, "x", 1.0, 0.5).await;
    eventually(
        "brushed to 4 runs",
        T,
        || count(&c, "[data-testid=sweep-run-row]"),
        |n| *n == 4,
    )
    .await;
    assert_eq!(
        count(&c, "[data-testid=parcoords-line][data-dim='1']").await,
        4
    );
    // A click on the axis clears its brush.
    brush(&c, "x", 0.3, 0.3).await;
    eventually(
        "the brush cleared",
        T,
        || count(&c, "[data-testid=sweep-run-row]"),
        |n| *n == 8,
    )
    .await;

    // Importance: x drives the metric (noise is constant, so it is not a parameter that varies).
    let ranked = eventually(
        "importance",
        T,
        || attrs(&c, "[data-testid=importance-row]", "data-name"),
        |v| !v.is_empty(),
    )
    .await;
    assert_eq!(ranked[0], "x", "{ranked:?}");

    // Pause: the page and REST agree.
    c.find(fantoccini::Locator::Css("[data-testid=sweep-pause]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually(
        "paused",
        T,
        || attr(&c, "[data-testid=sweep-state]", "data-state"),
        |s| s.as_deref() == Some("paused"),
    )
    .await;
    assert_eq!(
        d.get_ok(&format!("/api/sweeps/{sweep}")).await["info"]["state"],
        json!("paused")
    );

    // A new sweep from two runs: their configs become the starting config, created from the page.
    let runs: Vec<String> = d.get_ok(&format!("/api/sweeps/{sweep}")).await["runs"]
        .as_array()
        .unwrap()
        .iter()
        .take(2)
        .map(|r| r["run"].as_str().unwrap().to_string())
        .collect();
    c.goto(&d.url(&format!("/projects/sp/new-sweep?runs={}", runs.join(","))))
        .await
        .unwrap();
    let text = eventually(
        "the starting config",
        T,
        || js(&c, "const t = document.querySelector('[data-testid=new-sweep-config]'); return t ? t.value : '';", vec![]),
        |v| v.as_str().is_some_and(|s| s.contains("\"values\"")),
    )
    .await;
    let config: Value = serde_json::from_str(text.as_str().unwrap()).unwrap();
    assert_eq!(
        config["parameters"]["noise"],
        json!({"value": 0.5}),
        "{config}"
    );
    assert_eq!(
        config["parameters"]["x"]["values"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(config["metric"]["name"], json!("loss"));
    c.find(fantoccini::Locator::Css("[data-testid=new-sweep-create]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually(
        "the new sweep's page",
        T,
        || count(&c, "[data-testid=sweep-page]"),
        |n| *n == 1,
    )
    .await;
    assert_eq!(
        d.get_ok("/api/projects/sp/sweeps")
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(page_errors(&c, &driver).await, Vec::<String>::new());
    let _ = c.close().await;
}
