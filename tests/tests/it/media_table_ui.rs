//! The logged-table view in a real browser, on run folders written as W&B records tables
//! (history rows holding `table-file` references, the table JSON under `media/table/`): a header
//! click sorts, a filter in the runs table's language keeps the right rows, scrolling pages
//! through 300 rows, an image cell shows its thumbnail, and the same key compares across two runs
//! and across two steps.

use crate::common::*;
use crate::web::*;
use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);
const ROWS: u64 = 300;

/// A 2×2 PNG (red, green / blue, white).
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0xfd, 0xd4, 0x9a,
    0x73, 0x00, 0x00, 0x00, 0x16, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xc0,
    0xf0, 0x1f, 0x08, 0x18, 0x18, 0xfe, 0xff, 0xff, 0x0f, 0x00, 0x33, 0xf0, 0x05, 0xfc, 0x7b, 0x9a,
    0x8f, 0x0d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// Row `i` of the table at `step`: id, label, score, and an image in every 50th row. Step 2
/// changes row 5's label, drops row 7 and adds row 300.
fn row(dir: &Path, run: &str, step: u64, i: u64) -> Value {
    let labels = ["cat", "dog", "bird"];
    let mut label = labels[(i % 3) as usize].to_string();
    if step == 2 && i == 5 {
        label = "fox".into();
    }
    let score = ((i * 37) % 101) as f64 / 100.0;
    let img = if i.is_multiple_of(50) {
        let rel = format!("media/images/preds_{step}_{i:020}.png");
        let path = dir.join(&rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, PNG).unwrap();
        json!({"_type": "image-file", "path": rel, "sha256": "0".repeat(64), "size": PNG.len(),
            "format": "png", "width": 2, "height": 2})
    } else {
        Value::Null
    };
    json!([i, format!("{label} {i}"), score, img, run])
}

fn rows_at(dir: &Path, run: &str, step: u64) -> Vec<Value> {
    let ids: Vec<u64> = if step == 1 {
        (0..ROWS).collect()
    } else {
        (0..=ROWS).filter(|&i| i != 7).collect()
    };
    ids.into_iter().map(|i| row(dir, run, step, i)).collect()
}

/// Two runs, each logging the table `preds` at steps 1 and 2.
fn write_runs(root: &Path) {
    for run in ["r1", "r2"] {
        let mut w = RunWriter::create(root, "mt", run);
        let dir = w.dir.clone();
        for step in [1u64, 2] {
            let data = rows_at(&dir, run, step);
            let body = json!({"columns": ["id", "label", "score", "img", "src"], "data": data});
            let bytes = serde_json::to_vec(&body).unwrap();
            let rel = format!("media/table/preds_{step}_{run}0123456789abcdef.table.json");
            let path = dir.join(&rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &bytes).unwrap();
            w.append_raw(&format!(
                "{}\n",
                json!({"_step": step, "_timestamp": now_secs(), "loss": 1.0,
                    "preds": {"_type": "table-file", "path": rel, "sha256": "0".repeat(64),
                        "size": bytes.len(), "ncols": 5, "nrows": data.len(), "log_mode": "IMMUTABLE"}})
            ));
        }
    }
}

/// The selector of run `run`'s table view.
fn view(run: &str) -> String {
    format!("[data-testid=media-row][data-run={run}] [data-testid=media-table]")
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("no element {css}"))
        .click()
        .await
        .unwrap();
}

/// The texts of column `col` in the rendered rows of run `run`'s view.
async fn column(c: &Client, run: &str, col: &str) -> Vec<String> {
    texts(
        c,
        &format!(
            "{} [data-testid=media-table-cell][data-col={col}] .mt-text",
            view(run)
        ),
    )
    .await
}

#[tokio::test]
async fn sort_filter_paging_images_and_compare() {
    let root = tempfile::tempdir().unwrap();
    let profile = tempfile::tempdir().unwrap();
    write_runs(root.path());
    let d = Daemon::start(root.path());
    require_web(&d).await;
    for run in ["r1", "r2"] {
        d.wait_for(&format!("/api/projects/mt/runs/{run}/media"), T, |k| {
            k.as_array().is_some_and(|a| !a.is_empty())
        })
        .await;
    }
    let driver = Driver::start();
    let c = browser(&driver, profile.path()).await;
    c.goto(&d.url("/projects/mt")).await.unwrap();
    let r1 = view("r1");

    // The newest step: 300 rows (one dropped, one added).
    eventually(
        "r1's table at step 2",
        T,
        || attr(&c, &r1, "data-total"),
        |n| n.as_deref() == Some("300"),
    )
    .await;
    assert_eq!(attr(&c, &r1, "data-step").await.as_deref(), Some("2"));

    // Sort by score: ascending, then descending on a second click.
    let header = format!("{r1} [data-testid=media-table-header-score]");
    click(&c, &header).await;
    eventually(
        "ascending scores",
        T,
        || column(&c, "r1", "score"),
        |s| s.first().map(String::as_str) == Some("0"),
    )
    .await;
    assert_eq!(attr(&c, &header, "data-sort").await.as_deref(), Some("asc"));
    let shown = column(&c, "r1", "score").await;
    let nums: Vec<f64> = shown.iter().map(|s| s.parse().unwrap()).collect();
    assert!(nums.windows(2).all(|w| w[0] <= w[1]), "{nums:?}");
    click(&c, &header).await;
    eventually(
        "descending scores",
        T,
        || column(&c, "r1", "score"),
        |s| s.first().map(String::as_str) == Some("1"),
    )
    .await;
    click(&c, &header).await;

    // A filter in the runs table's language over the table's columns.
    let expected = rows_at(root.path(), "r1", 2)
        .iter()
        .filter(|r| r[2].as_f64().unwrap() > 0.5 && r[1].as_str().unwrap().starts_with("cat"))
        .count();
    set_value(
        &c,
        &format!("{r1} [data-testid=media-table-filter]"),
        r#"score > 0.5 and label =~ "^cat""#,
    )
    .await;
    eventually(
        "the filtered rows",
        T,
        || attr(&c, &r1, "data-rows"),
        |n| n.as_deref() == Some(expected.to_string().as_str()),
    )
    .await;
    for label in column(&c, "r1", "label").await {
        assert!(label.starts_with("cat"), "{label}");
    }
    // A bad expression says what is wrong and keeps every row.
    set_value(
        &c,
        &format!("{r1} [data-testid=media-table-filter]"),
        "nope > 1",
    )
    .await;
    let filter_error = format!("{r1} [data-testid=media-table-filter-error]");
    let error = eventually(
        "the filter error",
        T,
        || texts(&c, &filter_error),
        |t| !t.is_empty(),
    )
    .await;
    assert!(error[0].contains("unknown column 'nope'"), "{error:?}");
    set_value(&c, &format!("{r1} [data-testid=media-table-filter]"), "").await;

    // Paging: only a window of rows is in the page; scrolling to the end shows the last row.
    eventually(
        "all rows again",
        T,
        || attr(&c, &r1, "data-rows"),
        |n| n.as_deref() == Some("300"),
    )
    .await;
    let rendered = count(&c, &format!("{r1} [data-testid=media-table-row]")).await;
    assert!(rendered > 5 && rendered < 100, "{rendered} rows rendered");
    js(
        &c,
        "const s = document.querySelector(arguments[0]); s.scrollTop = s.scrollHeight; \
         s.dispatchEvent(new Event('scroll')); return true;",
        vec![json!(format!("{r1} [data-testid=media-table-scroll]"))],
    )
    .await;
    let row_elements = format!("{r1} [data-testid=media-table-row]");
    eventually(
        "the last row after scrolling",
        T,
        || attrs(&c, &row_elements, "data-row"),
        |rows| rows.iter().any(|r| r == "299"),
    )
    .await;
    let first: u64 = attr(
        &c,
        &format!("{r1} [data-testid=media-table-scroll]"),
        "data-first",
    )
    .await
    .unwrap()
    .parse()
    .unwrap();
    assert!(first > 100, "window starts at {first}");

    // An image cell: the thumbnail loads from the run's media file.
    js(
        &c,
        "const s = document.querySelector(arguments[0]); s.scrollTop = 0; \
         s.dispatchEvent(new Event('scroll')); return true;",
        vec![json!(format!("{r1} [data-testid=media-table-scroll]"))],
    )
    .await;
    eventually(
        "a loaded thumbnail",
        T,
        || {
            js(
                &c,
                "const i = document.querySelector(arguments[0]); \
                 return i && i.complete ? i.naturalWidth : 0;",
                vec![json!(format!("{r1} [data-testid=media-table-image]"))],
            )
        },
        |w| w.as_u64() == Some(2),
    )
    .await;

    // Compare across runs: both runs' rows, tagged by run.
    set_value(
        &c,
        &format!("{r1} [data-testid=media-table-compare]"),
        "runs",
    )
    .await;
    eventually(
        "both runs' rows",
        T,
        || attr(&c, &r1, "data-total"),
        |n| n.as_deref() == Some("600"),
    )
    .await;
    set_value(
        &c,
        &format!("{r1} [data-testid=media-table-filter]"),
        r#"src == "r2""#,
    )
    .await;
    let run_tags = format!("{r1} [data-testid=media-table-run]");
    let runs = eventually(
        "r2's rows tagged",
        T,
        || texts(&c, &run_tags),
        |t| !t.is_empty() && t.iter().all(|x| !x.is_empty()),
    )
    .await;
    assert!(runs.iter().all(|r| r == &runs[0]), "{runs:?}");
    set_value(&c, &format!("{r1} [data-testid=media-table-filter]"), "").await;

    // Compare across steps: row 5 changed, row 7 removed, row 300 added.
    set_value(
        &c,
        &format!("{r1} [data-testid=media-table-compare]"),
        "steps",
    )
    .await;
    let diff_line = format!("{r1} [data-testid=media-table-diff]");
    let diff = eventually(
        "the step diff",
        T,
        || texts(&c, &diff_line),
        |t| t.first().is_some_and(|s| s.contains("added")),
    )
    .await;
    assert!(
        diff[0].starts_with("1 added · 1 removed · 1 changed (by id)"),
        "{diff:?}"
    );
    set_value(
        &c,
        &format!("{r1} [data-testid=media-table-filter]"),
        r#"change != "same""#,
    )
    .await;
    let change_tags = format!("{r1} [data-testid=media-table-change]");
    eventually(
        "the changed rows",
        T,
        || texts(&c, &change_tags),
        |t| {
            let mut t = t.clone();
            t.sort();
            t == ["added", "changed", "removed"]
        },
    )
    .await;

    let errors = page_errors(&c, &driver).await;
    assert!(errors.is_empty(), "page errors: {errors:?}");
}
