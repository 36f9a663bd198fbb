//! The run page in a real browser: the captured console live-tails and filters, system metrics get
//! their own section, and a metric defined with `step_metric` is drawn against it.

use crate::common::*;
use crate::python::python;
use crate::web::*;
use fantoccini::Locator;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

#[tokio::test]
async fn console_tails_live_system_metrics_and_step_metric_axis() {
    let root = tempfile::tempdir().unwrap();
    let profile = tempfile::tempdir().unwrap();
    let d = Daemon::start(root.path());
    require_web(&d).await;
    // A script that prints while it trains, samples system metrics often, and defines val/* on
    // epoch; it waits for a go file so the page is open while it prints.
    let go = root.path().join("go");
    let script = format!(
        r#"
import os, time, trackline
run = trackline.init(project="rp", name="printer")
trackline.define_metric("val/*", step_metric="epoch")
print("RUN", run.id, flush=True)
for i in range(40):
    trackline.log({{"train/loss": 1.0 / (i + 1)}})
    if i % 10 == 9:
        trackline.log({{"epoch": i // 10, "val/loss": 0.1 * (i // 10)}})
    time.sleep(0.02)
print("first phase done", flush=True)
while not os.path.exists({go:?}):
    time.sleep(0.05)
for i in range(3):
    print("Epoch %d finished" % i, flush=True)
    time.sleep(0.3)
"#,
        go = go.to_str().unwrap()
    );
    let mut child = Proc(
        python(root.path())
            .args(["-c", &script])
            .env("TRACKLINE_SYSTEM_INTERVAL", "0.2")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // Keep the pipe open for the script's whole life: a closed one would break its prints.
    let mut stdout = std::io::BufReader::new(child.0.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    let run_id = line
        .split_whitespace()
        .nth(1)
        .expect("the script prints its run id")
        .to_owned();

    let driver = Driver::start();
    let c = browser(&driver, profile.path()).await;
    c.goto(&d.url(&format!("/projects/rp/runs/{run_id}")))
        .await
        .unwrap();
    // The first phase's output is there, then new lines arrive without a reload.
    eventually(
        "the first console lines",
        T,
        || texts(&c, "[data-testid=console-lines]"),
        |t| t.iter().any(|s| s.contains("first phase done")),
    )
    .await;
    c.execute("window.__still_here = 1;", vec![]).await.unwrap();
    std::fs::write(&go, "").unwrap();
    let shown = eventually(
        "live console lines",
        T,
        || texts(&c, "[data-testid=console-lines]"),
        |t| t.iter().any(|s| s.contains("Epoch 2 finished")),
    )
    .await;
    assert!(shown[0].contains("stdout"), "{shown:?}");
    assert_eq!(
        js(&c, "return window.__still_here;", vec![]).await,
        serde_json::json!(1)
    );
    // Search narrows the lines.
    set_value(&c, "[data-testid=console-search]", "epoch 1").await;
    let filtered = eventually(
        "filtered console",
        T,
        || texts(&c, "[data-testid=console-lines]"),
        |t| t.first().is_some_and(|s| !s.contains("first phase")),
    )
    .await;
    assert!(
        filtered[0].contains("Epoch 1 finished") && !filtered[0].contains("Epoch 2"),
        "{filtered:?}"
    );

    // System metrics sit in their own section; val/loss is drawn against epoch (x from 0 to 3).
    c.wait()
        .at_most(T)
        .for_element(Locator::Css("[data-testid=system-section]"))
        .await
        .unwrap();
    let cpu = "canvas[data-testid=chart][data-key='system/cpu_percent']";
    c.wait()
        .at_most(T)
        .for_element(Locator::Css(cpu))
        .await
        .unwrap();
    let val = "canvas[data-testid=chart][data-key='val/loss']";
    let x_max = eventually(
        "val/loss against epoch",
        T,
        || attr(&c, val, "data-x-max"),
        // Against epoch the axis ends at 3 once every row arrived (against _step it would pass 10);
        // rows arrive live, so wait for the last epoch rather than take the first small value.
        |v| {
            v.as_deref()
                .and_then(|s| s.parse::<f64>().ok())
                .is_some_and(|x| x == 3.0)
        },
    )
    .await;
    assert_eq!(x_max.unwrap().parse::<f64>().unwrap(), 3.0);
    assert!(child.wait().success());
    drop(stdout);
    let _ = c.close().await;
}
