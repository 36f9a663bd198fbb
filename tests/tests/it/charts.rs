//! The chart workspace in a real browser: box zoom and double-click reset (the zoom holding while
//! live points arrive), the smoothing slider, the wall-time x axis, grouping bands, and the legend
//! following the runs selected in the table. Charts expose what they draw as attributes of their
//! canvas (`data-x-min`, `data-x-max`, `data-points`, `data-smoothed-last`, `data-bands`).

use crate::common::*;
use crate::web::*;
use fantoccini::Client;
use futures_util::FutureExt;
use serde_json::{Value, json};
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);
const LOSS: &str = "[data-testid=panel][data-key=loss] canvas[data-testid=chart]";

/// A daemon on `root` and a browser on `path`; runs `steps`, with a screenshot if they fail.
async fn with_page<F, Fut>(root: &Path, name: &str, path: &str, steps: F)
where
    F: FnOnce(Client, String) -> Fut,
    Fut: Future<Output = ()>,
{
    let profile = tempfile::tempdir().unwrap();
    let d = Daemon::start(root);
    require_web(&d).await;
    let driver = Driver::start();
    let c = browser(&driver, profile.path()).await;
    c.goto(&d.url(path)).await.expect("open the page");
    // The daemon lives until the steps are done; they get its base URL.
    let res = AssertUnwindSafe(steps(c.clone(), d.url("")))
        .catch_unwind()
        .await;
    if res.is_err() {
        screenshot(&c, name).await;
    }
    let _ = c.close().await;
    if let Err(p) = res {
        std::panic::resume_unwind(p);
    }
}

/// A run `id` of project `p` with `n` loss rows (`value(step)`) and `config`.
fn run_with(
    root: &Path,
    p: &str,
    id: &str,
    n: u64,
    config: Value,
    value: impl Fn(u64) -> String,
) -> RunWriter {
    let mut w = RunWriter::create(root, p, id);
    write_atomic(&w.dir.join("config.json"), &config);
    w.log_rows(n, value);
    w
}

/// Waits for an element to appear.
async fn wait_el(c: &Client, css: &str) {
    c.wait()
        .at_most(WAIT)
        .for_element(fantoccini::Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"));
}

pub(crate) async fn num_attr(c: &Client, css: &str, name: &str) -> f64 {
    attr(c, css, name)
        .await
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Waits until the chart drew its data (`data-points` ≥ `n`).
pub(crate) async fn wait_points(c: &Client, css: &str, n: u64) {
    eventually(
        "chart points",
        WAIT,
        || num_attr(c, css, "data-points"),
        |&p| p >= n as f64,
    )
    .await;
}

/// Drags on the canvas from fraction `a` to `b` of its plot width (pointer events, as a mouse).
async fn drag(c: &Client, css: &str, a: f64, b: f64, modifier: bool) {
    js(
        c,
        "const cv = document.querySelector(arguments[0]);
         cv.scrollIntoView({block: 'center'});
         const r = cv.getBoundingClientRect();
         const left = r.left + 56, width = r.width - 56 - 12;
         const y = r.top + r.height / 2;
         const at = (f) => left + width * f;
         const ev = (type, x, yy) => new PointerEvent(type, {bubbles: true, cancelable: true,
             clientX: x, clientY: yy, button: 0, buttons: type === 'pointerup' ? 0 : 1,
             pointerId: 1, pointerType: 'mouse', isPrimary: true, ctrlKey: arguments[3]});
         cv.dispatchEvent(ev('pointerdown', at(arguments[1]), y - 20));
         cv.dispatchEvent(ev('pointermove', (at(arguments[1]) + at(arguments[2])) / 2, y));
         cv.dispatchEvent(ev('pointermove', at(arguments[2]), y + 20));
         cv.dispatchEvent(ev('pointerup', at(arguments[2]), y + 20));
         return true;",
        vec![json!(css), json!(a), json!(b), json!(modifier)],
    )
    .await;
}

async fn window_of(c: &Client, css: &str) -> (f64, f64) {
    (
        num_attr(c, css, "data-x-min").await,
        num_attr(c, css, "data-x-max").await,
    )
}

#[tokio::test]
async fn box_zoom_narrows_holds_through_live_points_and_double_click_resets() {
    let root = tempfile::tempdir().unwrap();
    let mut w = run_with(root.path(), "zoom", "r1", 1000, json!({"lr": 0.1}), |s| {
        ((s as f64) * 0.05).sin().to_string()
    });
    let root_path = root.path().to_owned();
    with_page(&root_path, "charts-zoom", "/projects/zoom", |c, _base| async move {
        wait_el(&c, LOSS).await;
        wait_points(&c, LOSS, 1000).await;
        let full = eventually("fitted window", WAIT, || window_of(&c, LOSS), |w| w.1 >= 999.0).await;
        assert!(full.0 <= 0.0, "{full:?}");

        // Drag over the middle fifth: the x window narrows to about 400..600.
        drag(&c, LOSS, 0.4, 0.6, false).await;
        let zoomed = eventually(
            "zoomed window",
            WAIT,
            || window_of(&c, LOSS),
            |w| w.1 - w.0 < 300.0,
        )
        .await;
        assert!(
            zoomed.0 > 300.0 && zoomed.1 < 700.0,
            "box zoom to the middle: {zoomed:?}"
        );
        // The decimated window is refetched for the zoom: fewer points held than the whole run.
        eventually(
            "refetched window",
            WAIT,
            || num_attr(&c, LOSS, "data-points"),
            |&p| p < 900.0,
        )
        .await;

        // Live points arrive: they are taken in, and the window does not move.
        let before = num_attr(&c, LOSS, "data-points").await;
        w.log_rows(50, |s| (s as f64 * 0.001).to_string());
        eventually(
            "live points while zoomed",
            WAIT,
            || num_attr(&c, LOSS, "data-points"),
            |&p| p >= before + 50.0,
        )
        .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(window_of(&c, LOSS).await, zoomed, "the zoom moved with live points");

        // Double click resets to the whole run, live points included.
        js(
            &c,
            "const cv = document.querySelector(arguments[0]);
             const r = cv.getBoundingClientRect();
             cv.dispatchEvent(new MouseEvent('dblclick', {bubbles: true, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2}));
             return true;",
            vec![json!(LOSS)],
        )
        .await;
        // (The held columns are re-binned at once; the refetched whole range follows.)
        eventually(
            "reset to the whole run",
            WAIT,
            || window_of(&c, LOSS),
            |w| w.0 <= 0.0 && w.1 >= 1049.0,
        )
        .await;
        wait_points(&c, LOSS, 1050).await;

        // A box with Ctrl held zooms y too; the x window narrows all the same.
        drag(&c, LOSS, 0.1, 0.3, true).await;
        eventually("xy zoom", WAIT, || window_of(&c, LOSS), |w| w.1 < 400.0).await;
    })
    .await;
}

#[tokio::test]
async fn smoothing_slider_changes_the_drawn_series() {
    let root = tempfile::tempdir().unwrap();
    run_with(root.path(), "smooth", "r1", 400, json!({"lr": 0.1}), |s| {
        (if s % 2 == 0 { 1.0 } else { 0.0 } + s as f64 / 400.0).to_string()
    });
    with_page(
        root.path(),
        "charts-smoothing",
        "/projects/smooth",
        |c, base| async move {
            wait_el(&c, LOSS).await;
            wait_points(&c, LOSS, 400).await;
            assert_eq!(
                attr(&c, LOSS, "data-smoothed-last").await.as_deref(),
                Some("")
            );
            // Workspace-wide settings: TensorBoard's EMA, then a heavier weight.
            set_value(
                &c,
                "[data-testid=workspace] > .cs-bar [data-testid=smoothing-kind]",
                "ema",
            )
            .await;
            let light = eventually(
                "smoothed series",
                WAIT,
                || attr(&c, LOSS, "data-smoothed-last"),
                |v| v.as_deref().is_some_and(|v| !v.is_empty()),
            )
            .await
            .unwrap();
            set_value(
                &c,
                "[data-testid=workspace] > .cs-bar [data-testid=smoothing-slider]",
                "0.99",
            )
            .await;
            let heavy = eventually(
                "heavier smoothing",
                WAIT,
                || attr(&c, LOSS, "data-smoothed-last"),
                |v| v.as_deref().is_some_and(|v| !v.is_empty() && v != light),
            )
            .await
            .unwrap();
            let (l, h): (f64, f64) = (light.parse().unwrap(), heavy.parse().unwrap());
            // The last raw value is 0.9975 (odd step); a weight of 0.99 pulls the line to the mean
            // of recent values, about 1.0 + 0.5 - 0.5 = ~0.98..1.0, while 0.6 stays nearer the raw zigzag.
            assert!((l - h).abs() > 1e-3, "light {l}, heavy {h}");
            // The setting is saved in the daemon for everyone opening the project.
            eventually(
                "saved layout",
                WAIT,
                || async {
                    reqwest::get(format!("{base}/api/projects/smooth/workspace"))
                        .await
                        .unwrap()
                        .json::<Value>()
                        .await
                        .unwrap()
                },
                |v| v["layout"]["workspace"]["settings"]["smoothing"]["kind"] == "ema",
            )
            .await;
        },
    )
    .await;
}

#[tokio::test]
async fn x_axis_switches_to_wall_time() {
    let root = tempfile::tempdir().unwrap();
    run_with(root.path(), "wall", "r1", 200, json!({"lr": 0.1}), |s| {
        s.to_string()
    });
    with_page(
        root.path(),
        "charts-wall",
        "/projects/wall",
        |c, _base| async move {
            wait_el(&c, LOSS).await;
            wait_points(&c, LOSS, 200).await;
            let steps = window_of(&c, LOSS).await;
            assert!(steps.1 <= 200.0, "{steps:?}");
            set_value(
                &c,
                "[data-testid=workspace] > .cs-bar [data-testid=x-axis]",
                "wall_time",
            )
            .await;
            let now = now_secs();
            let wall = eventually(
                "wall-time window",
                WAIT,
                || window_of(&c, LOSS),
                |w| w.0 > 1e9,
            )
            .await;
            assert!(
                wall.0 > now - 3600.0 && wall.1 < now + 3600.0,
                "wall-time window {wall:?} vs now {now}"
            );
            wait_points(&c, LOSS, 200).await;
        },
    )
    .await;
}

#[tokio::test]
async fn grouping_by_a_config_key_draws_one_band_per_group() {
    let root = tempfile::tempdir().unwrap();
    let mut writers: Vec<RunWriter> = [0.1, 0.1, 0.01, 0.01]
        .iter()
        .enumerate()
        .map(|(i, lr)| {
            run_with(
                root.path(),
                "grp",
                &format!("r{i}"),
                100,
                json!({"lr": lr}),
                move |s| (s as f64 * lr + i as f64).to_string(),
            )
        })
        .collect();
    let root_path = root.path().to_owned();
    with_page(
        &root_path,
        "charts-group",
        "/projects/grp",
        |c, _base| async move {
            wait_el(&c, LOSS).await;
            wait_points(&c, LOSS, 400).await;
            assert_eq!(num_attr(&c, LOSS, "data-bands").await, 0.0);
            set_value(
                &c,
                "[data-testid=workspace] > .cs-bar [data-testid=group-by]",
                "config.lr",
            )
            .await;
            eventually(
                "group bands",
                WAIT,
                || num_attr(&c, LOSS, "data-bands"),
                |&n| n == 2.0,
            )
            .await;
            // Live points: the first past the fitted x range widens it (a whole frame, with head
            // room); the next ones, inside the axes, redraw only the strip they change.
            writers[0].log_rows(1, |_| "1.5".into());
            wait_points(&c, LOSS, 401).await;
            tokio::time::sleep(Duration::from_millis(600)).await;
            let frames = num_attr(&c, LOSS, "data-frames").await;
            let strips = num_attr(&c, LOSS, "data-strips").await;
            writers[0].log_rows(1, |_| "1.25".into());
            writers[2].log_rows(1, |_| "2.5".into());
            wait_points(&c, LOSS, 403).await;
            eventually(
                "a strip for the live points",
                WAIT,
                || num_attr(&c, LOSS, "data-strips"),
                |&n| n > strips,
            )
            .await;
            assert_eq!(
                num_attr(&c, LOSS, "data-frames").await,
                frames,
                "live points inside the axes of a grouped panel drew a whole frame"
            );
            assert_eq!(num_attr(&c, LOSS, "data-bands").await, 2.0);
            set_value(
                &c,
                "[data-testid=workspace] > .cs-bar [data-testid=group-band]",
                "none",
            )
            .await;
            eventually(
                "no bands",
                WAIT,
                || num_attr(&c, LOSS, "data-bands"),
                |&n| n == 0.0,
            )
            .await;
        },
    )
    .await;
}

#[tokio::test]
async fn selecting_runs_changes_the_legend() {
    let root = tempfile::tempdir().unwrap();
    let mut writers: Vec<RunWriter> = (0..3)
        .map(|i| {
            run_with(
                root.path(),
                "sel",
                &format!("r{i}"),
                50,
                json!({"lr": 0.1}),
                |s| s.to_string(),
            )
        })
        .collect();
    with_page(root.path(), "charts-legend", "/projects/sel", |c, _base| async move {
        wait_el(&c, LOSS).await;
        let legend = "[data-testid=panel][data-key=loss] [data-testid=legend-item]";
        let all = eventually(
            "legend of the selected runs",
            WAIT,
            || attrs(&c, legend, "data-run"),
            |v| v.len() == 3,
        )
        .await;
        assert_eq!(all, ["r0", "r1", "r2"]);
        // Unselect r1 in the runs table: it leaves the chart's legend and the chart.
        js(
            &c,
            "document.querySelector('[data-run-id=r1] [data-testid=row-select]').click(); return true;",
            vec![],
        )
        .await;
        eventually("legend without r1", WAIT, || attrs(&c, legend, "data-run"), |v| v == &["r0", "r2"]).await;
        eventually("two runs drawn", WAIT, || num_attr(&c, LOSS, "data-runs"), |&n| n == 2.0).await;
        // The runs that stayed keep receiving live points after the chart's run list changed.
        wait_points(&c, LOSS, 100).await;
        // (After the refetch the run-list change caused, so only live messages can bring these.)
        tokio::time::sleep(Duration::from_millis(1000)).await;
        writers[0].log_rows(5, |s| s.to_string());
        writers[2].log_rows(7, |s| s.to_string());
        eventually("live points of the runs that stayed", WAIT, || num_attr(&c, LOSS, "data-points"), |&n| n == 112.0).await;
        // A legend click hides a run from the chart without unselecting it.
        js(
            &c,
            "document.querySelector('[data-testid=panel][data-key=loss] [data-testid=legend-item][data-run=r0]').click(); return true;",
            vec![],
        )
        .await;
        eventually("one run drawn", WAIT, || num_attr(&c, LOSS, "data-runs"), |&n| n == 1.0).await;
        assert_eq!(attrs(&c, legend, "data-run").await.len(), 2);
    })
    .await;
}

/// A run logging `train/loss` every step and, every tenth step, `epoch` and `val/loss` (epochs 0
/// to 3 at steps 9 to 39), with `defs` as its `metrics.json`.
fn epoch_run(root: &Path, p: &str, id: &str, defs: Value) {
    let mut w = RunWriter::create(root, p, id);
    write_atomic(&w.dir.join("metrics.json"), &defs);
    let mut rows = String::new();
    for s in 0..40u64 {
        let mut row = json!({"_step": s, "_timestamp": now_secs(), "_runtime": 0.1, "train/loss": 1.0 / (s + 1) as f64});
        if s % 10 == 9 {
            row["epoch"] = json!(s / 10);
            row["val/loss"] = json!(0.1 * (s / 10) as f64);
        }
        rows.push_str(&format!("{row}\n"));
    }
    w.append_raw(&rows);
}

#[tokio::test]
async fn panels_default_to_the_step_metric_the_selected_runs_agree_on() {
    let root = tempfile::tempdir().unwrap();
    let on_epoch =
        json!({"val/*": {"step_metric": "epoch", "summary": null, "goal": null, "hidden": false}});
    epoch_run(root.path(), "stepm", "ra", on_epoch.clone());
    epoch_run(root.path(), "stepm", "rb", on_epoch);
    // An older script that never called define_metric.
    epoch_run(root.path(), "stepm", "rc", json!({}));
    with_page(root.path(), "charts-step-metric", "/projects/stepm", |c, base| async move {
        let val = "[data-testid=panel][data-key='val/loss'] canvas[data-testid=chart]";
        let train = "[data-testid=panel][data-key='train/loss'] canvas[data-testid=chart]";
        // (Scrolled into view first: a panel off screen does not fetch.)
        let x_max = |css: &'static str| {
            let c = c.clone();
            async move {
                js(
                    &c,
                    "const e = document.querySelector(arguments[0]); if (e) e.scrollIntoView({block: 'center'}); return true;",
                    vec![json!(css)],
                )
                .await;
                num_attr(&c, css, "data-x-max").await
            }
        };
        wait_el(&c, val).await;
        // All three selected: rc defines no step metric, so they disagree and val/loss stays on
        // step (logged at steps 9..39).
        eventually("val/loss on step", WAIT, || x_max(val), |&x| x == 39.0).await;
        eventually("train/loss on step", WAIT, || x_max(train), |&x| x == 39.0).await;

        // Unselect rc: the runs left agree on epoch, so val/loss is drawn against it (0..3);
        // train/loss, which no definition covers, stays on step.
        js(
            &c,
            "document.querySelector('[data-run-id=rc] [data-testid=row-select]').click(); return true;",
            vec![],
        )
        .await;
        eventually("val/loss on epoch", WAIT, || x_max(val), |&x| x == 3.0).await;
        assert_eq!(x_max(train).await, 39.0);
        // The panel's settings show it as the panel's x axis.
        let panel_x = "[data-testid=panel][data-key='val/loss'] [data-testid=x-axis]";
        js(
            &c,
            "document.querySelector(\"[data-testid=panel][data-key='val/loss'] [data-testid=panel-settings-toggle]\").click(); return true;",
            vec![],
        )
        .await;
        wait_el(&c, panel_x).await;
        let shown = js(&c, "return document.querySelector(arguments[0]).value;", vec![json!(panel_x)]).await;
        assert_eq!(shown, json!("key:epoch"));

        // The user's own choice for the panel wins, and is saved as the panel's settings.
        set_value(&c, panel_x, "step").await;
        eventually("val/loss back on step", WAIT, || x_max(val), |&x| x == 39.0).await;
        eventually(
            "the panel's x axis saved",
            WAIT,
            || async {
                reqwest::get(format!("{base}/api/projects/stepm/workspace"))
                    .await
                    .unwrap()
                    .json::<Value>()
                    .await
                    .unwrap()
            },
            |v| {
                let s = &v["layout"]["workspace"]["panels"]["val/loss"]["settings"];
                s["x"] == "step" && s["x_key"].is_null()
            },
        )
        .await;
        // Dropping the panel's own settings brings the step metric back.
        js(
            &c,
            "document.querySelector(\"[data-testid=panel][data-key='val/loss'] [data-testid=panel-use-workspace]\").click(); return true;",
            vec![],
        )
        .await;
        eventually("val/loss on epoch again", WAIT, || x_max(val), |&x| x == 3.0).await;
    })
    .await;
}

#[tokio::test]
async fn charts_draw_at_most_a_thousand_of_the_selected_runs() {
    // 1,005 runs, r0000 oldest; the table lists them newest first, so selecting all keeps
    // r1004..r0005 in the charts. Only r1004 (kept) and r0000 (left out) log `loss`.
    let root = tempfile::tempdir().unwrap();
    let t0 = now_secs() - 100_000.0;
    for i in 0..1005usize {
        let id = format!("r{i:04}");
        let dir = root.path().join("many").join(&id);
        std::fs::create_dir_all(&dir).unwrap();
        if i == 0 || i == 1004 {
            let rows: String = (0..if i == 0 { 7 } else { 5 })
                .map(|s| format!("{{\"_step\": {s}, \"_timestamp\": {t0}, \"loss\": {s}}}\n"))
                .collect();
            std::fs::write(dir.join("history.jsonl"), rows).unwrap();
        }
        write_atomic(
            &dir.join("run.json"),
            &json!({
                "format_version": 1, "id": id, "name": format!("run-{i}"), "project": "many",
                "group": null, "tags": [], "notes": null, "job_type": null, "state": "finished",
                "created_at": t0 + i as f64, "heartbeat_at": t0 + i as f64, "finished_at": t0 + i as f64 + 1.0,
                "exit_code": 0, "host": "h", "command": [], "pid": 1,
            }),
        );
    }
    with_page(
        root.path(),
        "charts-cap",
        "/projects/many",
        |c, _base| async move {
            // The ten newest are selected at first: no notice.
            wait_el(&c, LOSS).await;
            wait_points(&c, LOSS, 5).await;
            assert_eq!(count(&c, "[data-testid=charts-capped]").await, 0);
            // Select all 1,005 (series requests are recorded from here on).
            js(
                &c,
                "performance.clearResourceTimings(); performance.setResourceTimingBufferSize(100000); return true;",
                vec![],
            )
            .await;
            wait_el(&c, "[data-testid=select-all]").await;
            js(
                &c,
                "document.querySelector('[data-testid=select-all]').click(); return true;",
                vec![],
            )
            .await;
            eventually(
                "the charts' notice",
                WAIT,
                || texts(&c, "[data-testid=charts-capped]"),
                |t| *t == ["Charts show 1,000 of 1,005 selected runs"],
            )
            .await;
            eventually(
                "a thousand runs in the workspace",
                WAIT,
                || texts(&c, "[data-testid=workspace-counts]"),
                |t| t.first().is_some_and(|t| t.ends_with("· 1000 runs")),
            )
            .await;
            // The panel asks for the first thousand (the daemon's limit) and draws: r1004's five
            // points, not r0000's.
            let legend = "[data-testid=panel][data-key=loss] [data-testid=legend-item]";
            eventually(
                "a legend of a thousand runs",
                WAIT,
                || count(&c, legend),
                |&n| n == 1000,
            )
            .await;
            assert_eq!(count(&c, &format!("{legend}[data-run=r1004]")).await, 1);
            assert_eq!(count(&c, &format!("{legend}[data-run=r0000]")).await, 0);
            let asked = eventually(
                "a series request for the first thousand",
                WAIT,
                || async {
                    js(
                        &c,
                        "return performance.getEntriesByType('resource')
                           .filter(e => e.name.includes('/series?'))
                           .map(e => new URL(e.name).searchParams.get('runs').split(',').length);",
                        vec![],
                    )
                    .await
                },
                |v| v.as_array().is_some_and(|a| a.iter().any(|n| n == 1000)),
            )
            .await;
            assert!(
                asked
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|n| n.as_u64() <= Some(1000)),
                "{asked}"
            );
            wait_points(&c, LOSS, 5).await;
            assert_eq!(num_attr(&c, LOSS, "data-points").await, 5.0);
            assert_eq!(
                count(&c, "[data-testid=panel][data-key=loss] .error-msg").await,
                0
            );
        },
    )
    .await;
}

/// Hovering shows a crosshair tooltip with every run's value at that x, largest first and NaN
/// last; PNG and CSV export hand the browser a PNG image and the held points as CSV.
#[tokio::test]
async fn hover_tooltip_lists_runs_sorted_and_panels_export_png_and_csv() {
    let root = tempfile::tempdir().unwrap();
    for (id, v) in [("lo", "1.5"), ("hi", "4.5"), ("mid", "3")] {
        run_with(root.path(), "tip", id, 20, json!({}), |s| {
            if id == "mid" && s == 10 {
                "NaN".into()
            } else {
                v.to_string()
            }
        });
    }
    with_page(root.path(), "charts-tooltip", "/projects/tip", |c, _base| async move {
        wait_el(&c, LOSS).await;
        wait_points(&c, LOSS, 60).await;
        // The pointer over step 10 (the middle of the fitted 0..19 window).
        let hover = "const cv = document.querySelector(arguments[0]);
             cv.scrollIntoView({block: 'center'});
             const r = cv.getBoundingClientRect();
             const x = +cv.dataset.xMin, x1 = +cv.dataset.xMax;
             const px = r.left + 56 + (r.width - 68) * (10 - x) / (x1 - x);
             cv.dispatchEvent(new PointerEvent('pointermove', {bubbles: true, clientX: px,
                 clientY: r.top + r.height / 2, pointerId: 1, pointerType: 'mouse'}));
             return true;";
        js(&c, hover, vec![json!(LOSS)]).await;
        let tip = "[data-testid=panel][data-key=loss] [data-testid=tooltip-row]";
        eventually("the tooltip's rows", WAIT, || texts(&c, tip), |r| r.len() == 3).await;
        let names = texts(&c, &format!("{tip} .lc-tip-name")).await;
        let values = texts(&c, &format!("{tip} .lc-tip-val")).await;
        assert_eq!(names, ["run hi", "run lo", "run mid"], "largest first, NaN last: {values:?}");
        assert_eq!(values, ["4.5", "1.5", "NaN"]);
        let title = texts(&c, "[data-testid=panel][data-key=loss] [data-testid=chart-tooltip]").await;
        assert!(title[0].contains("10"), "the tooltip names the step: {title:?}");

        // Export: catch what would be downloaded.
        js(
            &c,
            "window.__downloads = [];
             HTMLAnchorElement.prototype.click = function () {
                 window.__downloads.push({name: this.download, href: this.href});
             };
             const make = URL.createObjectURL.bind(URL);
             URL.createObjectURL = (blob) => { window.__blob = blob; return make(blob); };
             return true;",
            vec![],
        )
        .await;
        js(&c, "document.querySelector('[data-testid=panel][data-key=loss] [data-testid=export-png]').click(); document.querySelector('[data-testid=panel][data-key=loss] [data-testid=export-csv]').click(); return true;", vec![]).await;
        let downloads = eventually(
            "two downloads",
            WAIT,
            || js(&c, "return window.__downloads;", vec![]),
            |d| d.as_array().is_some_and(|a| a.len() == 2),
        )
        .await;
        assert_eq!(downloads[0]["name"], "loss.png");
        let png = downloads[0]["href"].as_str().unwrap();
        assert!(png.starts_with("data:image/png;base64,") && png.len() > 1000, "{}", &png[..40.min(png.len())]);
        assert_eq!(downloads[1]["name"], "loss.csv");
        let csv = c
            .execute_async(
                "const done = arguments[arguments.length - 1]; window.__blob.text().then(done);",
                vec![],
            )
            .await
            .unwrap();
        let csv = csv.as_str().unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "run,step,value,min,max,count");
        assert_eq!(lines.len(), 1 + 60, "one row per point held: {csv}");
        assert!(lines.contains(&"mid,10,NaN,,,1"), "{csv}");
        assert!(lines.contains(&"hi,19,4.5,4.5,4.5,1"), "{csv}");
    })
    .await;
}

#[tokio::test]
async fn a_workspace_save_keeps_what_a_teammate_saved_meanwhile() {
    let root = tempfile::tempdir().unwrap();
    run_with(root.path(), "team", "r1", 50, json!({"lr": 0.1}), |s| {
        s.to_string()
    });
    with_page(
        root.path(),
        "charts-team",
        "/projects/team",
        |c, base| async move {
            let url = format!("{base}/api/projects/team/workspace");
            let get = || async {
                reqwest::get(&url)
                    .await
                    .unwrap()
                    .json::<Value>()
                    .await
                    .unwrap()
            };
            wait_el(&c, LOSS).await;
            // This page saves a change (so it has read the layout, and saved on top of it).
            set_value(&c, "[data-testid=panel-search]", "lo").await;
            eventually("the page's first save", WAIT, get, |v| {
                v["layout"]["workspace"]["search"] == "lo"
            })
            .await;

            // A teammate, in another browser, makes `loss` wide and turns on log y, and keeps a key
            // of their own; they save on the version they read.
            let mut theirs = get().await;
            let version = theirs["version"].as_u64().unwrap();
            let layout = &mut theirs["layout"];
            layout["workspace"]["panels"]["loss"] = json!({"wide": true});
            layout["workspace"]["settings"]["y_log"] = json!(true);
            layout["teammate"] = json!({"note": "hi"});
            let resp = reqwest::Client::new()
                .put(&url)
                .json(&json!({"layout": layout, "version": version}))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);

            // This page, which has not seen that, changes the search again.
            set_value(&c, "[data-testid=panel-search]", "loss").await;
            let saved = eventually("the page's second save", WAIT, get, |v| {
                v["layout"]["workspace"]["search"] == "loss"
            })
            .await;
            // Nothing the teammate saved was lost.
            let ws = &saved["layout"]["workspace"];
            assert_eq!(ws["panels"]["loss"]["wide"], json!(true), "{saved}");
            assert_eq!(ws["settings"]["y_log"], json!(true), "{saved}");
            assert_eq!(saved["layout"]["teammate"], json!({"note": "hi"}));
            assert!(saved["version"].as_u64().unwrap() > version);
            // And the page shows it now: the panel is wide.
            eventually(
                "the teammate's wide panel shown",
                WAIT,
                || count(&c, "[data-testid=panel][data-key=loss].wide"),
                |&n| n == 1,
            )
            .await;
        },
    )
    .await;
}

/// A run of `keys` metrics (`m000`…) over `rows` steps.
fn many_keys_run(root: &Path, p: &str, id: &str, keys: usize, rows: u64) {
    let mut w = RunWriter::create(root, p, id);
    let mut buf = String::new();
    for s in 0..rows {
        let metrics: Vec<String> = (0..keys)
            .map(|k| format!("\"m{k:03}\": {}", (s as f64 + k as f64) * 0.5))
            .collect();
        buf.push_str(&format!(
            "{{\"_step\": {s}, \"_timestamp\": {}, \"_runtime\": 0.1, {}}}\n",
            now_secs(),
            metrics.join(", ")
        ));
    }
    w.append_raw(&buf);
}

/// How many series requests of `key` the page made.
async fn series_requests(c: &Client, key: &str) -> u64 {
    js(
        c,
        "return performance.getEntriesByType('resource')
             .filter(e => e.name.includes('/series') && e.name.includes(arguments[0])).length;",
        vec![json!(key)],
    )
    .await
    .as_u64()
    .unwrap_or(0)
}

#[tokio::test]
async fn panels_are_built_near_the_view_and_release_what_they_hold_out_of_it() {
    let root = tempfile::tempdir().unwrap();
    for id in ["r1", "r2"] {
        many_keys_run(root.path(), "many", id, 60, 20);
    }
    let root_path = root.path().to_owned();
    with_page(
        &root_path,
        "charts-lazy",
        "/projects/many",
        |c, base| async move {
            let first = "[data-testid=panel][data-key=m000] canvas[data-testid=chart]";
            let last = "[data-testid=panel][data-key=m059]";
            wait_points(&c, first, 40).await;
            // Every panel is there; only those near the view are built.
            eventually(
                "60 panels",
                WAIT,
                || count(&c, "[data-testid=panel]"),
                |&n| n >= 60,
            )
            .await;
            let built = count(&c, "[data-testid=panel] canvas[data-testid=chart]").await;
            let waiting = count(&c, "[data-testid=panel] [data-testid=lazy-placeholder]").await;
            assert!(
                built < 40 && waiting > 20,
                "built {built}, waiting {waiting}"
            );
            assert_eq!(count(&c, &format!("{last} canvas")).await, 0);

            // The charts out of view may hold nothing: scrolling to the end builds the last panel
            // and releases the first one's pixels and points.
            js(
                &c,
                "window.__trackline_offscreen_budget = 0; return true;",
                vec![],
            )
            .await;
            let series_before = series_requests(&c, "m000").await;
            js(
            &c,
            "document.querySelector(arguments[0]).scrollIntoView({block: 'center'}); return true;",
            vec![json!(last)],
        )
        .await;
            wait_points(&c, &format!("{last} canvas[data-testid=chart]"), 40).await;
            eventually(
                "first chart released",
                WAIT,
                || num_attr(&c, first, "data-points"),
                |&p| p == 0.0,
            )
            .await;
            let width = js(
                &c,
                "return document.querySelector(arguments[0]).width;",
                vec![json!(first)],
            )
            .await;
            assert_eq!(width, json!(0), "its canvas pixels are released");

            // Back at the top it fetches its points again and draws them.
            js(&c, "window.scrollTo(0, 0); return true;", vec![]).await;
            wait_points(&c, first, 40).await;
            eventually(
                "first chart drawn again",
                WAIT,
                || async {
                    js(
                        &c,
                        "return document.querySelector(arguments[0]).width;",
                        vec![json!(first)],
                    )
                    .await
                },
                |w| w.as_u64().is_some_and(|w| w > 0),
            )
            .await;
            let series_after = series_requests(&c, "m000").await;
            assert!(
                series_after > series_before,
                "refetched: {series_before} → {series_after} ({base})"
            );
        },
    )
    .await;
}
