//! The drawn media views in a real browser, on run folders written the way W&B records media
//! (history rows holding reference objects, files under `media/`): the histogram heatmap's
//! columns are the logged histograms re-binned with their counts kept, a plotly figure lists its
//! traces (and says which it does not draw), a point cloud draws and dragging orbits it, and a
//! `wandb.plot.confusion_matrix` chart shows its counts.

use crate::common::*;
use crate::web::*;
use fantoccini::Client;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

/// Writes a media file under the run folder and returns its W&B-style reference fields.
fn media_file(run_dir: &Path, rel: &str, bytes: &[u8]) -> Value {
    let path = run_dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    json!({"path": rel, "sha256": "0".repeat(64), "size": bytes.len()})
}

fn with_type(mut file: Value, ty: &str, extra: Value) -> Value {
    file["_type"] = json!(ty);
    if let Some(o) = extra.as_object() {
        for (k, v) in o {
            file[k] = v.clone();
        }
    }
    file
}

/// The histograms logged: each step with its own edges.
const HISTS: [(u64, &[f64], &[f64]); 3] = [
    (0, &[0.0, 1.0, 2.0], &[2.0, 6.0]),
    (5, &[1.0, 2.0, 3.0, 4.0], &[1.0, 1.0, 4.0]),
    (10, &[2.0, 4.0], &[3.0]),
];

/// A run holding a histogram over time, a plotly figure, a point cloud and a confusion matrix.
fn write_run(root: &Path) {
    let mut w = RunWriter::create(root, "mv", "r1");
    let dir = w.dir.clone();
    for (step, bins, values) in HISTS {
        w.append_raw(&format!(
            "{}\n",
            json!({"_step": step, "_timestamp": now_secs(), "loss": 1.0,
                "weights": {"_type": "histogram", "bins": bins, "values": values}})
        ));
    }
    let figure = json!({
        "data": [
            {"type": "scatter", "x": [1, 2, 3], "y": [2, 1, 3], "mode": "lines+markers", "name": "train"},
            {"type": "bar", "x": ["a", "b"], "y": [3, 4], "name": "counts", "xaxis": "x2", "yaxis": "y2"},
            {"type": "pie", "values": [1, 2], "name": "share"}
        ],
        "layout": {"title": {"text": "A figure"}, "xaxis": {"domain": [0, 0.45], "title": {"text": "epoch"}},
            "xaxis2": {"domain": [0.55, 1]}, "yaxis2": {"anchor": "x2"}}
    });
    let plotly = media_file(
        &dir,
        "media/plotly/fig_11_0123456789abcdef0123.plotly.json",
        &serde_json::to_vec(&figure).unwrap(),
    );
    let points: Vec<Value> = (0..200)
        .map(|i| {
            let t = f64::from(i) * 0.1;
            json!([
                t.cos() * (1.0 + t / 10.0),
                t.sin() * (1.0 + t / 10.0),
                t / 5.0
            ])
        })
        .collect();
    let cloud = media_file(
        &dir,
        "media/object3D/cloud_11_0123456789abcdef0123.pts.json",
        &serde_json::to_vec(&points).unwrap(),
    );
    // Python's json writes NaN as a bare `NaN`, which strict JSON parsers refuse.
    let table =
        br#"{"columns": ["Actual", "Predicted", "nPredictions"], "data": [["cat", "cat", 5],
        ["cat", "dog", 1], ["dog", "cat", 2], ["dog", "dog", 7], ["dog", "dog", NaN]]}"#;
    let cm = media_file(
        &dir,
        "media/table/cm_table_11_0123456789abcdef0123.table.json",
        table,
    );
    w.append_raw(&format!(
        "{}\n",
        json!({"_step": 11, "_timestamp": now_secs(),
            "fig": with_type(plotly, "plotly-file", json!({})),
            "cloud": with_type(cloud, "object3D-file", json!({})),
            "cm_table": with_type(cm, "table-file", json!({"ncols": 3, "nrows": 5}))})
    ));
    // wandb.plot.confusion_matrix's spec, as W&B keeps it in the run's config.
    write_atomic(
        &dir.join("config.json"),
        &json!({"lr": 0.01, "_wandb": {"visualize": {"cm": {"panel_type": "Vega2", "panel_config": {
            "panelDefId": "wandb/confusion_matrix/v1",
            "fieldSettings": {"Actual": "Actual", "Predicted": "Predicted", "nPredictions": "nPredictions"},
            "stringSettings": {"title": "Confusion"},
            "transform": {"name": "tableWithLeafColNames"},
            "userQuery": {"queryFields": [{"name": "runSets", "fields": [
                {"name": "summaryTable", "args": [{"name": "tableKey", "value": "cm_table"}]}]}]}}}}}}),
    );
}

/// How many pixels of the canvas are not (near) white.
async fn inked_pixels(c: &Client, css: &str) -> u64 {
    js(
        c,
        "const cv = document.querySelector(arguments[0]); if (!cv || !cv.width) return 0;
         const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
         let n = 0;
         for (let i = 0; i < d.length; i += 4) if (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200) n++;
         return n;",
        vec![json!(css)],
    )
    .await
    .as_u64()
    .unwrap_or(0)
}

async fn data_url(c: &Client, css: &str) -> String {
    js(
        c,
        "const cv = document.querySelector(arguments[0]); return cv ? cv.toDataURL() : '';",
        vec![json!(css)],
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_string()
}

#[tokio::test]
async fn heatmap_plotly_point_cloud_and_confusion_matrix_draw() {
    let root = tempfile::tempdir().unwrap();
    let profile = tempfile::tempdir().unwrap();
    write_run(root.path());
    let d = Daemon::start(root.path());
    require_web(&d).await;
    d.wait_for("/api/projects/mv/runs/r1/media", T, |k| {
        k.as_array().is_some_and(|a| a.len() >= 4)
    })
    .await;
    let driver = Driver::start();
    let c = browser(&driver, profile.path()).await;
    c.goto(&d.url("/projects/mv/runs/r1")).await.unwrap();

    // Histograms: one heatmap column per logged step, each holding that step's total count, and
    // nothing outside the step's own range.
    let hv = "[data-testid=histogram-view]";
    let cells = eventually(
        "the histogram heatmap's cells",
        T,
        || attr(&c, hv, "data-cells"),
        |v| v.is_some(),
    )
    .await
    .unwrap();
    let cells: Vec<Vec<f64>> = serde_json::from_str(&cells).unwrap();
    let steps: Vec<f64> = serde_json::from_str(&attr(&c, hv, "data-steps").await.unwrap()).unwrap();
    assert_eq!(steps, vec![0.0, 5.0, 10.0]);
    let grid: Vec<f64> = attr(&c, hv, "data-grid")
        .await
        .unwrap()
        .split(',')
        .map(|x| x.parse().unwrap())
        .collect();
    let (lo, hi, n) = (grid[0], grid[1], grid[2] as usize);
    assert_eq!((lo, hi), (0.0, 4.0));
    assert_eq!(cells.len(), HISTS.len());
    for (col, (step, bins, values)) in cells.iter().zip(HISTS) {
        assert_eq!(col.len(), n);
        let total: f64 = col.iter().sum();
        let logged: f64 = values.iter().sum();
        assert!(
            (total - logged).abs() < 1e-6,
            "step {step}: {total} vs {logged}"
        );
        let width = (hi - lo) / n as f64;
        for (k, v) in col.iter().enumerate() {
            let (a, b) = (lo + k as f64 * width, lo + (k + 1) as f64 * width);
            let inside = b > bins[0] && a < bins[bins.len() - 1];
            assert!(
                inside || *v == 0.0,
                "step {step}: cell {k} holds {v} outside its bins"
            );
            // Each cell holds its bin's count spread evenly (bins of width 1 or 2).
            if let Some(i) = bins.windows(2).position(|w| a >= w[0] && b <= w[1]) {
                let expect = values[i] * width / (bins[i + 1] - bins[i]);
                assert!(
                    (v - expect).abs() < 1e-6,
                    "step {step}: cell {k} {v} vs {expect}"
                );
            }
        }
    }
    eventually(
        "the heatmap drawn",
        T,
        || inked_pixels(&c, "[data-testid=histogram-canvas]"),
        |n| *n > 500,
    )
    .await;
    // The pointer over the plot reads a cell out.
    js(
        &c,
        "const cv = document.querySelector('[data-testid=histogram-canvas]');
         cv.scrollIntoView({block: 'center'});
         const r = cv.getBoundingClientRect();
         cv.dispatchEvent(new MouseEvent('mousemove', {bubbles: true, clientX: r.left + 70, clientY: r.top + r.height - 40}));
         return true;",
        vec![],
    )
    .await;
    eventually(
        "the hover read-out of a heatmap cell",
        T,
        || {
            texts(
                &c,
                "[data-testid=histogram-view] [data-testid=media-readout]",
            )
        },
        |t| t.iter().any(|s| s.starts_with("step 0, [")),
    )
    .await;
    for mode in ["ridgeline", "quantiles"] {
        c.find(fantoccini::Locator::Css(&format!(
            "[data-testid=histogram-mode-{mode}]"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
        eventually(
            "the view switched",
            T,
            || attr(&c, hv, "data-mode"),
            |m| m.as_deref() == Some(mode),
        )
        .await;
        assert!(inked_pixels(&c, "[data-testid=histogram-canvas]").await > 100);
    }

    // Plotly: the legend lists the drawn traces; the pie is said not to be drawn.
    let legend = eventually(
        "the plotly legend",
        T,
        || {
            texts(
                &c,
                "[data-testid=plotly-view] [data-testid=figure-legend-item]",
            )
        },
        |t| t.len() == 2,
    )
    .await;
    assert_eq!(legend, vec!["train", "counts"]);
    let missing = texts(
        &c,
        "[data-testid=plotly-view] [data-testid=figure-not-drawn]",
    )
    .await;
    assert_eq!(missing, vec!["not drawn: trace type pie (share)"]);
    assert_eq!(
        texts(&c, "[data-testid=plotly-view] [data-testid=figure-title]").await,
        vec!["A figure"]
    );
    assert!(inked_pixels(&c, "[data-testid=plotly-figure-canvas]").await > 200);

    // The point cloud: every point drawn, and a drag orbits it to another frame.
    let ov = "[data-testid=object3d-view]";
    eventually(
        "the point cloud drawn",
        T,
        || attr(&c, ov, "data-points"),
        |p| p.as_deref() == Some("200"),
    )
    .await;
    let before = data_url(&c, "[data-testid=object3d-canvas]").await;
    let camera = attr(&c, ov, "data-camera").await;
    js(
        &c,
        "const cv = document.querySelector('[data-testid=object3d-canvas]');
         cv.scrollIntoView({block: 'center'});
         const r = cv.getBoundingClientRect();
         const x = r.left + r.width / 2, y = r.top + r.height / 2;
         const ev = (type, dx, dy) => new PointerEvent(type, {bubbles: true, cancelable: true,
             clientX: x + dx, clientY: y + dy, button: 0, buttons: type === 'pointerup' ? 0 : 1,
             pointerId: 1, pointerType: 'mouse', isPrimary: true});
         cv.dispatchEvent(ev('pointerdown', 0, 0));
         cv.dispatchEvent(ev('pointermove', 40, 10));
         cv.dispatchEvent(ev('pointermove', 80, 20));
         cv.dispatchEvent(ev('pointerup', 80, 20));
         return true;",
        vec![],
    )
    .await;
    eventually(
        "the camera orbited",
        T,
        || attr(&c, ov, "data-camera"),
        |cam| *cam != camera,
    )
    .await;
    let after = eventually(
        "a new frame",
        T,
        || data_url(&c, "[data-testid=object3d-canvas]"),
        |u| *u != before,
    )
    .await;
    assert!(after.len() > 100);

    // The confusion matrix: actual × predicted counts from the chart's table.
    let cm = eventually(
        "the confusion matrix",
        T,
        || {
            attr(
                &c,
                "[data-testid=custom-chart-view][data-spec='wandb/confusion_matrix/v1']",
                "data-cells",
            )
        },
        |v| v.is_some(),
    )
    .await
    .unwrap();
    let cm: Vec<Vec<f64>> = serde_json::from_str(&cm).unwrap();
    assert_eq!(cm, vec![vec![5.0, 1.0], vec![2.0, 7.0]]);
    assert!(
        texts(
            &c,
            "[data-testid=custom-chart-view] [data-testid=figure-title]"
        )
        .await
        .contains(&"Confusion".to_string())
    );

    let errors = page_errors(&c, &driver).await;
    assert!(errors.is_empty(), "page errors: {errors:?}");
    c.close().await.unwrap();
}
