//! The whole path in a real browser: headless Chromium (via chromedriver and fantoccini) on the
//! daemon's embedded web app while a Python script logs. The run appears and its chart grows,
//! live, without a reload.

use crate::common::*;
use crate::python::python;
use crate::web::{Driver, attr, browser, page_errors, require_web};
use fantoccini::Locator;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn run_appears_and_its_chart_grows_live_without_reload() {
    let root = tempfile::tempdir().unwrap();
    let profile = tempfile::tempdir().unwrap();
    let d = Daemon::start(root.path());
    let wasm = reqwest::get(d.url("/assets/app_bg.wasm"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(
        wasm.len() > 1000,
        "the web app was not built into the daemon (TRACKLINE_SKIP_WEB set?)"
    );

    let driver = Driver::start();
    let c = browser(&driver, profile.path()).await;
    let result = async {
        // Seed one finished run so the project exists, then open its runs page.
        let mut w = RunWriter::create(root.path(), "e2e", "seeded");
        w.log_rows(5, |s| s.to_string());
        w.set("state", "finished".into());
        c.goto(&d.url("/")).await?;
        c.wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("[data-testid=project-link]"))
            .await?
            .click()
            .await?;
        c.wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("[data-run-id=seeded]"))
            .await?;
        // Marks this page load: a reload would lose it.
        c.execute("window.__trackline_e2e = 42;", vec![]).await?;

        // A training script starts logging: 300 steps over about six seconds.
        let script = r#"
import time, trackline
trackline.init(project="e2e", name="live-run", config={"lr": 0.01})
for i in range(300):
    trackline.log({"loss": 1.0 / (i + 1)})
    time.sleep(0.02)
"#;
        let mut child = Proc(
            python(root.path())
                .args(["-c", script])
                .spawn()
                .expect("python3"),
        );

        // The new run appears in the table by itself.
        let row = c
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::XPath(
                "//tr[@data-testid='run-row'][.//*[contains(text(),'live-run')]]",
            ))
            .await?;
        row.find(Locator::Css("a")).await?.click().await?;

        // On the run page, the loss chart's point count grows while the script runs.
        let chart = "canvas[data-testid=chart][data-key=loss]";
        c.wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(chart))
            .await?;
        let mut counts: Vec<u64> = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(40);
        while Instant::now() < deadline {
            if let Some(n) = attr(&c, chart, "data-points")
                .await
                .and_then(|v| v.parse().ok())
                && counts.last() != Some(&n)
            {
                counts.push(n);
            }
            if counts.last() == Some(&300) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let status = child.wait();
        assert!(status.success());
        assert_eq!(
            counts.last(),
            Some(&300),
            "chart never showed all 300 points: {counts:?}"
        );
        let growing = counts.iter().filter(|&&n| n > 0 && n < 300).count();
        assert!(
            growing >= 2,
            "the chart did not grow live (counts seen: {counts:?})"
        );
        let marker = c.execute("return window.__trackline_e2e;", vec![]).await?;
        assert_eq!(marker, json!(42), "the page was reloaded");
        let ws = attr(&c, "[data-testid=ws-status]", "class").await;
        let ws_text = c
            .find(Locator::Css("[data-testid=ws-status]"))
            .await?
            .text()
            .await?;
        assert_eq!(ws_text.trim(), "live", "{ws:?}");
        Ok::<(), fantoccini::error::CmdError>(())
    }
    .await;
    if result.is_err()
        && let Ok(png) = c.screenshot().await
    {
        let path = std::env::temp_dir().join("trackline-e2e-failure.png");
        let _ = std::fs::write(&path, png);
        eprintln!("screenshot of the failure: {}", path.display());
    }
    let _ = c.close().await;
    result.expect("browser steps");
}

#[tokio::test]
async fn deep_links_survive_a_reload() {
    let root = tempfile::tempdir().unwrap();
    let profile = tempfile::tempdir().unwrap();
    let mut w = RunWriter::create(root.path(), "deep", "r1");
    w.log_rows(50, |s| (s as f64 * 0.5).to_string());
    let d = Daemon::start(root.path());
    let driver = Driver::start();
    let c = browser(&driver, profile.path()).await;
    let result = async {
        c.goto(&d.url("/projects/deep/runs/r1")).await?;
        let chart = "canvas[data-testid=chart][data-key=loss]";
        c.wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(chart))
            .await?;
        c.refresh().await?;
        c.wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(chart))
            .await?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while attr(&c, chart, "data-points").await.as_deref() != Some("50") {
            assert!(
                Instant::now() < deadline,
                "chart did not load its 50 points"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let state = c
            .find(Locator::Css("[data-testid=run-state]"))
            .await?
            .text()
            .await?;
        assert_eq!(state.trim(), "running");
        Ok::<(), fantoccini::error::CmdError>(())
    }
    .await;
    let _ = c.close().await;
    result.expect("browser steps");
}

/// The page boots, fetches, opens its WebSocket and draws under the daemon's
/// Content-Security-Policy without one violation. A violation planted on purpose (an inline
/// script) is blocked and reported, so the check can fail.
#[tokio::test]
async fn the_app_runs_under_its_content_security_policy_without_violations() {
    let root = tempfile::tempdir().unwrap();
    let profile = tempfile::tempdir().unwrap();
    let mut w = RunWriter::create(root.path(), "csp", "r1");
    w.log_rows(20, |s| (s as f64 * 0.5).to_string());
    let d = Daemon::start(root.path());
    require_web(&d).await;
    let page = reqwest::get(d.url("/")).await.unwrap();
    let policy = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        policy.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{policy}"
    );
    let driver = Driver::start();
    let c = browser(&driver, profile.path()).await;
    let result = async {
        c.goto(&d.url("/projects/csp/runs/r1")).await?;
        let chart = "canvas[data-testid=chart][data-key=loss]";
        c.wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(chart))
            .await?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while attr(&c, chart, "data-points").await.as_deref() != Some("20") {
            assert!(
                Instant::now() < deadline,
                "the chart did not load its points"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let ws = c
            .find(Locator::Css("[data-testid=ws-status]"))
            .await?
            .text()
            .await?;
        assert_eq!(ws.trim(), "live", "the WebSocket did not connect");
        // Chromium reports every CSP violation as a console error.
        assert_eq!(page_errors(&c, &driver).await, Vec::<String>::new());

        c.execute(
            "window.__violations = [];
             document.addEventListener('securitypolicyviolation',
                 e => window.__violations.push(e.violatedDirective));
             const s = document.createElement('script');
             s.textContent = 'window.__inline_ran = true;';
             document.body.appendChild(s);",
            vec![],
        )
        .await?;
        let deadline = Instant::now() + Duration::from_secs(5);
        let seen = loop {
            let seen = c.execute("return window.__violations;", vec![]).await?;
            if seen.as_array().is_some_and(|a| !a.is_empty()) || Instant::now() > deadline {
                break seen;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(
            seen.to_string().contains("script-src"),
            "an inline script was not reported: {seen}"
        );
        let ran = c
            .execute("return window.__inline_ran === true;", vec![])
            .await?;
        assert_eq!(ran, json!(false), "an inline script ran");
        let errors = page_errors(&c, &driver).await;
        assert!(
            errors.iter().any(|e| e.contains("Content Security Policy")),
            "the planted violation did not reach the console: {errors:?}"
        );
        Ok::<(), fantoccini::error::CmdError>(())
    }
    .await;
    let _ = c.close().await;
    result.expect("browser steps");
}
