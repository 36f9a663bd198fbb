//! A report exported from a real daemon: `trackline report export` writes one HTML file that,
//! opened from disk in headless Chromium with every network request sent to a dead proxy, draws
//! its charts, shows a run's value on hover, zooms on the wheel and a drag, fetches nothing and
//! violates no CSP, and runs none of the `<script>`s and `javascript:` links written into it; the
//! Markdown export's images all exist and parse; the export routes answer the same files; with
//! no daemon running the CLI exports from the data dir itself.

use crate::common::*;
use crate::web::{Driver, page_errors};
use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use trackline_shared::annotations::{Op, OpRequest};
use trackline_shared::chart::ChartSettings;
use trackline_shared::reports::{BlockContent, NewBlock, Panel, PanelGrid, RunSet};
use trackline_tests::chrome::OFFLINE_ARGS;

/// Set as a window property by any of the hostile strings if they ever ran.
const EVIL: &str =
    "</script><script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">";

fn hostile_report() -> Op {
    Op::ReportCreate {
        report: "rep1".into(),
        title: format!("Sweep {EVIL}"),
        blocks: vec![
            NewBlock {
                id: "intro".into(),
                content: BlockContent::Markdown {
                    text: format!(
                        "# Results\nWhat we saw {EVIL}\n\n[click](javascript:window.__pwned=3) \
                         <a href=\"javascript:window.__pwned=4\">a</a>\n\n## Curves"
                    ),
                },
            },
            NewBlock {
                id: "grid1".into(),
                content: BlockContent::PanelGrid(PanelGrid {
                    runset: RunSet {
                        filter: "config.lr < 1".into(),
                        ..Default::default()
                    },
                    panels: vec![
                        Panel::Line {
                            key: "loss".into(),
                            settings: ChartSettings::default(),
                            wide: true,
                        },
                        Panel::RunsTable { columns: vec![] },
                        Panel::Compare { keys: vec![] },
                    ],
                }),
            },
        ],
    }
}

/// `trackline report export rep1 <format args> --dir root`; answers its stdout.
fn export(root: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(["report", "export", "rep1"])
        .args(args)
        .arg("--dir")
        .arg(root)
        .env("TRACKLINE_LOG", "warn")
        .output()
        .expect("run trackline report export");
    assert!(
        out.status.success(),
        "report export {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Headless Chromium that can reach nothing (`OFFLINE_ARGS`), allowed to read files beside an
/// export opened from disk.
async fn offline_browser(driver: &Driver, profile: &Path) -> Client {
    let flags: Vec<&str> = OFFLINE_ARGS
        .into_iter()
        .chain(["--allow-file-access-from-files"])
        .collect();
    trackline_tests::chrome::session(driver.port, profile, &flags, Some("ALL"))
        .await
        .expect("a Chromium session")
}

/// Dispatches a synthetic mouse event of `kind` on the loss chart's canvas at fraction `fx` of
/// its width (half-way down); answers the tooltip's state and the x window after it.
const POINTER: &str = r#"
const [kind, fx, extra] = arguments;
const el = document.querySelector('.chart[data-key="loss"]');
const c = el.querySelector('canvas');
const r = c.getBoundingClientRect();
const at = { clientX: r.left + r.width * fx, clientY: r.top + r.height * 0.5, bubbles: true, cancelable: true };
const target = kind === 'mouseup' ? window : c;
if (kind === 'wheel') c.dispatchEvent(new WheelEvent('wheel', Object.assign({ deltaY: extra }, at)));
else target.dispatchEvent(new MouseEvent(kind, Object.assign({ button: 0 }, at)));
const tip = el.querySelector('.tooltip');
return { hidden: tip.hidden, text: tip.textContent, rows: [...tip.querySelectorAll('.row')].map(
  (row) => [row.querySelector('.label').textContent, row.querySelector('.value').textContent]),
  head: (tip.querySelector('.x') || {}).textContent || '',
  x: [Number(el.dataset.xMin), Number(el.dataset.xMax)] };
"#;

async fn pointer(c: &Client, kind: &str, fx: f64, extra: f64) -> Value {
    c.execute(POINTER, vec![json!(kind), json!(fx), json!(extra)])
        .await
        .expect("pointer script")
}

#[tokio::test]
async fn a_report_exports_to_html_that_works_offline_and_to_markdown() {
    let root = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let profile = tempfile::tempdir().unwrap();
    // Two finished runs, one with a hostile name; loss = k / (step + 1).
    for (id, lr, k) in [("ra", 0.01, 1.0), ("rb", 0.1, 2.0)] {
        let mut w = RunWriter::create(root.path(), "p", id);
        write_atomic(&w.dir.join("config.json"), &json!({ "lr": lr }));
        w.log_rows(300, |s| (k / (s as f64 + 1.0)).to_string());
        if id == "ra" {
            w.set("name", json!(format!("alpha {EVIL}")));
        }
        w.set("state", json!("finished"));
    }
    let mut d = Daemon::start(root.path());
    d.wait_for("/api/projects/p/runs", Duration::from_secs(20), |b| {
        b.as_array().is_some_and(|a| a.len() == 2)
    })
    .await;
    let http = reqwest::Client::new();
    let op = OpRequest {
        client_id: "it".into(),
        op_id: "create".into(),
        op: hostile_report(),
    };
    let answer: Value = http
        .post(d.url("/api/projects/p/annotations/ops"))
        .header("content-type", "application/json")
        .body(serde_json::to_string(&op).unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["outcome"], "committed", "{answer}");

    // Through the running daemon.
    let html_path = out.path().join("r.html");
    let printed = export(root.path(), &["--html", html_path.to_str().unwrap()]);
    assert_eq!(printed.trim(), html_path.to_str().unwrap());
    let md_dir = out.path().join("md");
    export(root.path(), &["--md", md_dir.to_str().unwrap()]);
    let page = std::fs::read_to_string(&html_path).unwrap();
    assert!(page.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'sha256-"));
    assert!(!page.contains("unsafe-inline"));
    assert!(page.contains("(draft) at "), "the footer names the version");

    // The Markdown export: every chart it references exists and is XML.
    let md = std::fs::read_to_string(md_dir.join("report.md")).unwrap();
    let images: Vec<&str> = md
        .split("](")
        .skip(1)
        .filter_map(|s| s.split(')').next())
        .filter(|s| s.ends_with(".svg"))
        .collect();
    assert_eq!(images, ["charts/grid1-1.svg"], "{md}");
    for image in &images {
        let status = Command::new("python3")
            .args(["-c", "import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); assert r.tag.endswith('svg'), r.tag"])
            .arg(md_dir.join(image))
            .status()
            .expect("python3");
        assert!(status.success(), "{image} does not parse");
    }
    assert!(md.contains("| alpha &lt;/script&gt;"), "{md}");
    assert!(md.contains("# Results"));

    // The routes: the HTML as a download; the zip holds the same files as the Markdown export.
    let resp = http
        .get(d.url("/api/projects/p/reports/rep1/export.html"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-disposition"],
        "attachment; filename=\"report-rep1.html\""
    );
    assert!(resp.text().await.unwrap().contains("id=\"report-data\""));
    let zip = http
        .get(d.url("/api/projects/p/reports/rep1/export.zip?version=draft"))
        .send()
        .await
        .unwrap();
    assert_eq!(zip.status(), 200);
    let zip_path = out.path().join("r.zip");
    std::fs::write(&zip_path, zip.bytes().await.unwrap()).unwrap();
    let listed = Command::new("python3")
        .args(["-m", "zipfile", "-l"])
        .arg(&zip_path)
        .output()
        .unwrap();
    assert!(listed.status.success());
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains("report.md") && listed.contains("charts/grid1-1.svg"),
        "{listed}"
    );
    let unzipped = out.path().join("unzipped");
    let status = Command::new("python3")
        .args(["-m", "zipfile", "-e"])
        .arg(&zip_path)
        .arg(&unzipped)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "python's zipfile cannot extract it (bad CRC?)"
    );
    assert_eq!(
        std::fs::read(unzipped.join("charts/grid1-1.svg")).unwrap(),
        std::fs::read(md_dir.join("charts/grid1-1.svg")).unwrap()
    );
    let (status, body) = d
        .get("/api/projects/p/reports/rep1/export.zip?version=published")
        .await;
    assert_eq!(status, 404, "never published: {body}");
    let (status, _) = d.get("/api/projects/p/reports/nope/export.html").await;
    assert_eq!(status, 404);

    // The HTML from disk, offline.
    let driver = Driver::start();
    let c = offline_browser(&driver, profile.path()).await;
    let result = async {
        c.goto(&format!("file://{}", html_path.display())).await?;
        c.wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(".chart[data-drawn='1']"))
            .await?;
        c.execute(
            "window.__violations = []; document.addEventListener('securitypolicyviolation', \
             (e) => window.__violations.push(e.violatedDirective));",
            vec![],
        )
        .await?;
        let facts = c
            .execute(
                r#"
const c = document.querySelector('.chart[data-key="loss"] canvas');
const img = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
let inked = 0;
for (let i = 0; i < img.length; i += 4) if (img[i] < 200 || img[i + 1] < 200 || img[i + 2] < 200) inked++;
return { resources: performance.getEntriesByType('resource').length, inked,
  height: getComputedStyle(document.querySelector('.chart')).height,
  pwned: typeof window.__pwned, legend: document.querySelector('.legend').textContent,
  toc: [...document.querySelectorAll('nav.toc a')].map((a) => a.textContent),
  links: [...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href')),
  scripts: document.scripts.length, title: document.title };
"#,
                vec![],
            )
            .await?;
        assert_eq!(facts["resources"], 0, "the page fetched something: {facts}");
        assert!(facts["inked"].as_u64().unwrap() > 500, "the chart is blank: {facts}");
        assert_eq!(facts["height"], "260px", "the stylesheet did not apply (CSP hash?)");
        assert_eq!(facts["pwned"], "undefined", "user text ran: {facts}");
        assert_eq!(facts["scripts"], 2, "{facts}");
        assert!(facts["title"].as_str().unwrap().contains("</script>"), "{facts}");
        assert!(facts["legend"].as_str().unwrap().contains("alpha </script>"), "{facts}");
        assert_eq!(facts["toc"], json!(["Results", "Curves"]));
        for link in facts["links"].as_array().unwrap() {
            assert!(link.as_str().unwrap().starts_with('#'), "a link left the page: {link}");
        }

        // Hover: every run's value at the nearest step.
        let hover = pointer(&c, "mousemove", 0.5, 0.0).await;
        assert_eq!(hover["hidden"], false, "{hover}");
        let step: f64 = hover["head"]
            .as_str()
            .unwrap()
            .trim_start_matches("step ")
            .parse()
            .unwrap_or_else(|_| panic!("{hover}"));
        let rows = hover["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 2, "{hover}");
        for row in rows {
            let (label, value) = (row[0].as_str().unwrap(), row[1].as_str().unwrap());
            let k = if label.starts_with("alpha ") { 1.0 } else { 2.0 };
            let value: f64 = value.parse().unwrap();
            assert!((value - k / (step + 1.0)).abs() < 1e-5, "{label}: {value} at {step}");
        }

        // The wheel zooms x around the pointer; double-click resets; a drag zooms to its span.
        let full = hover["x"].clone();
        let zoomed = pointer(&c, "wheel", 0.5, -400.0).await;
        let span = |v: &Value| v["x"][1].as_f64().unwrap() - v["x"][0].as_f64().unwrap();
        assert!(span(&zoomed) < span(&hover) * 0.8, "{zoomed} vs {hover}");
        let reset = pointer(&c, "dblclick", 0.5, 0.0).await;
        assert_eq!(reset["x"], full);
        pointer(&c, "mousedown", 0.3, 0.0).await;
        pointer(&c, "mousemove", 0.6, 0.0).await;
        let dragged = pointer(&c, "mouseup", 0.6, 0.0).await;
        assert!(span(&dragged) < span(&hover) * 0.5, "{dragged} vs {hover}");

        let violations = c.execute("return window.__violations;", vec![]).await?;
        assert_eq!(violations, json!([]));
        Ok::<(), fantoccini::error::CmdError>(())
    }
    .await;
    // The console holds no CSP refusal or script error, from the load on.
    let errors = page_errors(&c, &driver).await;
    let _ = c.close().await;
    result.expect("browser steps");
    assert!(errors.is_empty(), "the page logged errors: {errors:?}");

    // With no daemon, the CLI exports from the data dir itself.
    d.kill9();
    let offline = out.path().join("offline.html");
    export(root.path(), &["--html", offline.to_str().unwrap()]);
    let page = std::fs::read_to_string(&offline).unwrap();
    assert!(page.contains("2 runs, Trackline "), "{page}");
    assert!(page.contains("\"label\":\"alpha \\u003c/script\\u003e"));
}

#[tokio::test]
async fn a_shared_daemon_exports_the_published_copy_to_viewers_and_the_draft_to_its_owner() {
    let root = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut w = RunWriter::create(root.path(), "p", "r1");
    w.log_rows(20, |s| s.to_string());
    let d = Daemon::start_with(root.path(), &["--public-url", "https://team.example/t"]);
    // The owner link is written right after the daemon prints its address.
    let token_file = root.path().join(".trackline/owner-token");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let owner = loop {
        match std::fs::read_to_string(&token_file) {
            Ok(t) if !t.trim().is_empty() => break t.trim().to_string(),
            _ => assert!(std::time::Instant::now() < deadline, "no owner token"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let http = reqwest::Client::new();
    let op = |id: &str, op: Op| {
        http.post(d.url("/api/projects/p/annotations/ops"))
            .bearer_auth(&owner)
            .header("origin", format!("http://127.0.0.1:{}", d.port))
            .header("content-type", "application/json")
            .body(
                serde_json::to_string(&OpRequest {
                    client_id: "it".into(),
                    op_id: id.into(),
                    op,
                })
                .unwrap(),
            )
            .send()
    };
    let committed = |v: Value| assert_eq!(v["outcome"], "committed", "{v}");
    committed(
        op("c", hostile_report())
            .await
            .unwrap()
            .json()
            .await
            .unwrap(),
    );
    let viewer = Command::new(BIN)
        .args(["share", "--scope", "viewer", "--dir"])
        .arg(root.path())
        .output()
        .unwrap();
    let viewer = String::from_utf8(viewer.stdout).unwrap();
    let viewer = viewer
        .split("#t=")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .expect("a viewer link")
        .to_string();
    let as_viewer = |query: &str| {
        http.get(d.url(&format!("/api/projects/p/reports/rep1/export.html{query}")))
            .bearer_auth(&viewer)
            .send()
    };
    assert_eq!(as_viewer("").await.unwrap().status(), 404, "unpublished");

    // Published, then the draft's title changes: a viewer gets the published copy only.
    committed(
        op(
            "pub",
            Op::ReportPublish {
                report: "rep1".into(),
            },
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap(),
    );
    committed(
        op(
            "retitle",
            Op::ReportTitle {
                report: "rep1".into(),
                title: "Draft only".into(),
                base_rev: 1,
            },
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap(),
    );
    let page = as_viewer("").await.unwrap().text().await.unwrap();
    assert!(page.contains("(published rev 1) at "), "{page}");
    assert!(!page.contains("Draft only"));
    assert_eq!(as_viewer("?version=draft").await.unwrap().status(), 403);
    assert_eq!(
        http.get(d.url("/api/projects/p/reports/rep1/export.zip"))
            .send()
            .await
            .unwrap()
            .status(),
        401,
        "no link, no export"
    );

    // The CLI goes through the daemon with the owner's token: the draft by default.
    let html = out.path().join("draft.html");
    export(root.path(), &["--html", html.to_str().unwrap()]);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<title>Draft only</title>"), "{page}");
    export(
        root.path(),
        &["--html", html.to_str().unwrap(), "--version", "published"],
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("(published rev 1) at "));
}
