//! The runs table and compare view in a real browser: sorting by a header click, the filter
//! language (and its error message), grouping with counts, run selection feeding the charts,
//! the compare view's diff, saved settings, and 10,000 runs with a bounded number of row elements.

use crate::common::*;
use crate::web::*;
use fantoccini::{Client, Locator};
use futures_util::FutureExt;
use serde_json::{Value, json};
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

/// Writes a finished run folder (format v1) with `config`, `summary` and `history` loss rows.
#[allow(clippy::too_many_arguments)]
fn seed(
    root: &Path,
    project: &str,
    id: &str,
    name: &str,
    created: f64,
    config: Value,
    summary: Value,
    history: usize,
) {
    let dir = root.join(project).join(id);
    std::fs::create_dir_all(&dir).unwrap();
    write_atomic(&dir.join("config.json"), &config);
    write_atomic(&dir.join("summary.json"), &summary);
    if history > 0 {
        let rows: String = (0..history)
            .map(|s| {
                format!(
                    "{{\"_step\": {s}, \"_timestamp\": {}, \"_runtime\": {s}, \"loss\": {}}}\n",
                    created + s as f64,
                    1.0 / (s as f64 + 1.0)
                )
            })
            .collect();
        std::fs::write(dir.join("history.jsonl"), rows).unwrap();
    }
    write_atomic(
        &dir.join("run.json"),
        &json!({
            "format_version": 1, "id": id, "name": name, "project": project,
            "group": null, "tags": [], "notes": null, "job_type": null, "state": "finished",
            "created_at": created, "heartbeat_at": created + 60.0, "finished_at": created + 60.0,
            "exit_code": 0, "host": "test-host", "command": ["train.py"], "pid": 1,
        }),
    );
}

/// A daemon on `root` and a browser on `path`; runs `steps`, with a screenshot if they fail.
async fn with_page<F, Fut>(root: &Path, name: &str, path: &str, steps: F)
where
    F: FnOnce(Client, Daemon) -> Fut,
    Fut: Future<Output = (Daemon,)>,
{
    let profile = tempfile::tempdir().unwrap();
    let d = Daemon::start(root);
    require_web(&d).await;
    let driver = Driver::start();
    let c = browser(&driver, profile.path()).await;
    c.goto(&d.url(path)).await.expect("open the page");
    let res = AssertUnwindSafe(steps(c.clone(), d)).catch_unwind().await;
    if res.is_err() {
        screenshot(&c, name).await;
    }
    let _ = c.close().await;
    if let Err(p) = res {
        std::panic::resume_unwind(p);
    }
}

async fn row_ids(c: &Client) -> Vec<String> {
    attrs(c, "[data-testid=run-row]", "data-run-id").await
}

async fn click(c: &Client, css: &str) {
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

async fn wait_rows(c: &Client, what: &str, want: &[String]) {
    eventually(what, WAIT, || row_ids(c), |ids| ids == want).await;
}

fn ids(v: &[usize]) -> Vec<String> {
    v.iter().map(|i| format!("run{i:02}")).collect()
}

const LRS: [f64; 12] = [
    0.5, 0.002, 0.03, 0.0001, 0.2, 0.007, 0.04, 0.0009, 0.1, 0.005, 0.06, 0.0003,
];

/// Twelve runs: `runNN` created in order, distinct learning rates, `sgd` for every third, a NaN
/// loss (run05) and a missing one (run07).
fn twelve(root: &Path, project: &str) {
    let t0 = now_secs() - 10_000.0;
    for (i, lr) in LRS.iter().enumerate() {
        let loss = match i {
            5 => json!("NaN"),
            7 => Value::Null,
            _ => json!(i as f64 / 10.0),
        };
        let mut summary = json!({"acc": 1.0 - i as f64 / 20.0});
        if !loss.is_null() {
            summary["val/loss"] = loss;
        }
        seed(
            root,
            project,
            &format!("run{i:02}"),
            &format!("net-{i}"),
            t0 + i as f64 * 10.0,
            json!({"lr": lr, "optimizer": if i % 3 == 0 { "sgd" } else { "adam" }, "layers": 10 + i}),
            summary,
            20,
        );
    }
}

#[tokio::test]
async fn header_click_sorts_filter_narrows_and_groups_count() {
    let root = tempfile::tempdir().unwrap();
    twelve(root.path(), "tbl");
    with_page(
        root.path(),
        "table-sort",
        "/projects/tbl",
        |c, d| async move {
            // Newest first before any click.
            let newest: Vec<usize> = (0..12).rev().collect();
            wait_rows(&c, "all twelve runs, newest first", &ids(&newest)).await;

            // A numeric column sorts descending on the first click, ascending on the second.
            let mut by_lr: Vec<usize> = (0..12).collect();
            by_lr.sort_by(|&a, &b| LRS[b].total_cmp(&LRS[a]));
            click(&c, "[data-testid=col-header][data-col='config.lr']").await;
            wait_rows(&c, "rows sorted by lr, descending", &ids(&by_lr)).await;
            assert_eq!(
                attr(&c, "th[data-col='config.lr']", "data-sort")
                    .await
                    .as_deref(),
                Some("desc")
            );
            click(&c, "[data-testid=col-header][data-col='config.lr']").await;
            by_lr.reverse();
            wait_rows(&c, "rows sorted by lr, ascending", &ids(&by_lr)).await;

            // NaN, then the run without the key, stay last in both directions.
            click(&c, "[data-testid=col-header][data-col='summary.val/loss']").await;
            let desc: Vec<usize> = vec![11, 10, 9, 8, 6, 4, 3, 2, 1, 0, 5, 7];
            wait_rows(&c, "val/loss descending, NaN and missing last", &ids(&desc)).await;
            click(&c, "[data-testid=col-header][data-col='summary.val/loss']").await;
            let asc: Vec<usize> = vec![0, 1, 2, 3, 4, 6, 8, 9, 10, 11, 5, 7];
            wait_rows(&c, "val/loss ascending, NaN and missing last", &ids(&asc)).await;

            // The filter narrows the rows as it is typed (the sort stays).
            let input = c
                .find(Locator::Css("[data-testid=filter-input]"))
                .await
                .unwrap();
            input
                .send_keys(r#"config.lr < 0.01 and config.optimizer == "adam""#)
                .await
                .unwrap();
            wait_rows(&c, "the filtered runs", &ids(&[1, 11, 5, 7])).await;
            assert_eq!(count(&c, "[data-testid=filter-error]").await, 0);

            // A broken expression says what is wrong and where; the last good filter stays.
            set_value(&c, "[data-testid=filter-input]", "config.lr <").await;
            let err = eventually(
                "the filter error",
                WAIT,
                || texts(&c, "[data-testid=filter-error]"),
                |t| !t.is_empty(),
            )
            .await;
            assert_eq!(err, ["expected a value after '<' at column 12"]);
            assert_eq!(row_ids(&c).await, ids(&[1, 11, 5, 7]));

            set_value(&c, "[data-testid=filter-input]", r#"name =~ "net-1[01]$""#).await;
            wait_rows(&c, "regex filter", &ids(&[10, 11])).await;
            assert_eq!(count(&c, "[data-testid=filter-error]").await, 0);
            set_value(&c, "[data-testid=filter-input]", "").await;
            wait_rows(&c, "no filter", &ids(&asc)).await;

            // Group by a config key: header rows with counts, collapsible.
            set_value(&c, "[data-testid=table-group-by]", "config.optimizer").await;
            let labels = eventually(
                "group header rows",
                WAIT,
                || texts(&c, "[data-testid=group-label]"),
                |t| t.len() == 2,
            )
            .await;
            assert_eq!(labels, ["optimizer = adam (8)", "optimizer = sgd (4)"]);
            // Within each group the sort holds.
            let adam_first: Vec<usize> = asc.iter().copied().filter(|i| i % 3 != 0).collect();
            let sgd: Vec<usize> = asc.iter().copied().filter(|i| i % 3 == 0).collect();
            wait_rows(
                &c,
                "grouped rows",
                &ids(&[adam_first.clone(), sgd.clone()].concat()),
            )
            .await;
            click(&c, "[data-testid=group-row][data-group=adam]").await;
            wait_rows(&c, "the adam group collapsed", &ids(&sgd)).await;
            assert_eq!(
                attr(
                    &c,
                    "[data-testid=group-row][data-group=adam]",
                    "data-collapsed"
                )
                .await
                .as_deref(),
                Some("true")
            );

            // The charts group by the same key, and grouping there groups the table.
            let charts_group = "[data-testid=workspace] > .cs-bar [data-testid=group-by]";
            eventually(
                "the charts' group-by follows the table's",
                WAIT,
                || async {
                    js(
                        &c,
                        "const e = document.querySelector(arguments[0]); return e && e.value;",
                        vec![json!(charts_group)],
                    )
                    .await
                },
                |v| *v == json!("config.optimizer"),
            )
            .await;
            set_value(&c, charts_group, "config.layers").await;
            eventually(
                "the table grouped by layers",
                WAIT,
                || texts(&c, "[data-testid=group-label]"),
                |t| t.len() == 12 && t[0] == "layers = 10 (1)",
            )
            .await;
            set_value(&c, charts_group, "").await;
            wait_rows(&c, "no grouping", &ids(&asc)).await;
            assert_eq!(count(&c, "[data-testid=group-row]").await, 0);
            (d,)
        },
    )
    .await;
}

#[tokio::test]
async fn selecting_runs_changes_what_the_charts_show() {
    let root = tempfile::tempdir().unwrap();
    twelve(root.path(), "sel");
    with_page(
        root.path(),
        "table-select",
        "/projects/sel",
        |c, d| async move {
            let newest: Vec<usize> = (0..12).rev().collect();
            wait_rows(&c, "all runs", &ids(&newest)).await;
            // The ten newest are selected by default.
            let selected = |c: Client| async move {
                let rows = row_ids(&c).await;
                let sel = attrs(&c, "[data-testid=run-row]", "data-selected").await;
                rows.into_iter()
                    .zip(sel)
                    .filter(|(_, s)| s == "true")
                    .map(|(r, _)| r)
                    .collect::<Vec<_>>()
            };
            let want = ids(&newest[..10]);
            eventually(
                "the ten newest selected",
                WAIT,
                || selected(c.clone()),
                |s| *s == want,
            )
            .await;
            let legend = |c: Client| async move {
                let mut v = attrs(&c, "[data-testid=legend-item]", "data-run").await;
                v.sort();
                v.dedup();
                v
            };
            let mut sorted_want = want.clone();
            sorted_want.sort();
            eventually(
                "a legend of the selected runs",
                WAIT,
                || legend(c.clone()),
                |l| *l == sorted_want,
            )
            .await;

            // Checking an old run and unchecking a new one changes the selection and the legend.
            click(&c, "[data-run-id=run00] [data-testid=row-select]").await;
            click(&c, "[data-run-id=run11] [data-testid=row-select]").await;
            let mut want: Vec<String> = ids(&[0, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
            eventually(
                "the new selection",
                WAIT,
                || selected(c.clone()),
                |s| {
                    let mut s = s.clone();
                    s.sort();
                    s == want
                },
            )
            .await;
            want.sort();
            eventually(
                "the legend follows",
                WAIT,
                || legend(c.clone()),
                |l| *l == want,
            )
            .await;

            // Select all of the filtered set: 6 of the 8 adam runs are selected, so the header box
            // adds the other two; clicked again it takes all eight out.
            set_value(
                &c,
                "[data-testid=filter-input]",
                "config.optimizer == 'adam'",
            )
            .await;
            wait_rows(&c, "adam runs", &ids(&[11, 10, 8, 7, 5, 4, 2, 1])).await;
            click(&c, "[data-testid=select-all]").await;
            eventually(
                "all adam runs selected",
                WAIT,
                || selected(c.clone()),
                |s| s.len() == 8,
            )
            .await;
            click(&c, "[data-testid=select-all]").await;
            eventually(
                "no adam run selected",
                WAIT,
                || selected(c.clone()),
                Vec::is_empty,
            )
            .await;
            set_value(&c, "[data-testid=filter-input]", "").await;
            want = ids(&[0, 3, 6, 9]);
            eventually(
                "the sgd runs stayed selected",
                WAIT,
                || selected(c.clone()),
                |s| {
                    let mut s = s.clone();
                    s.sort();
                    s == want
                },
            )
            .await;
            eventually(
                "the legend follows",
                WAIT,
                || legend(c.clone()),
                |l| *l == want,
            )
            .await;
            click(&c, "[data-testid=select-none]").await;
            eventually("none selected", WAIT, || selected(c.clone()), Vec::is_empty).await;
            eventually("an empty legend", WAIT, || legend(c.clone()), Vec::is_empty).await;
            (d,)
        },
    )
    .await;
}

#[tokio::test]
async fn compare_view_highlights_differing_config() {
    let root = tempfile::tempdir().unwrap();
    let t0 = now_secs() - 1000.0;
    let runs = [
        (
            "ra",
            json!({"lr": 0.1, "optimizer": "adam", "model": {"layers": 50}}),
            json!({"val/loss": 0.3, "acc": 0.7}),
        ),
        (
            "rb",
            json!({"lr": 0.1, "optimizer": "sgd", "model": {"layers": 50}}),
            json!({"val/loss": 0.2, "acc": 0.8}),
        ),
        (
            "rc",
            json!({"lr": 0.1, "optimizer": "adam", "model": {"layers": 18}}),
            json!({"val/loss": 0.5, "acc": 0.6}),
        ),
    ];
    for (i, (id, cfg, sum)) in runs.iter().enumerate() {
        seed(
            root.path(),
            "cmp",
            id,
            &format!("name-{id}"),
            t0 + i as f64,
            cfg.clone(),
            sum.clone(),
            0,
        );
    }
    with_page(
        root.path(),
        "table-compare",
        "/projects/cmp",
        |c, d| async move {
            wait_rows(&c, "three runs", &["rc", "rb", "ra"].map(String::from)).await;
            click(&c, "[data-testid=select-none]").await;
            assert!(
                attr(&c, "[data-testid=compare-button]", "disabled")
                    .await
                    .is_some(),
                "Compare needs two runs"
            );
            click(&c, "[data-run-id=ra] [data-testid=row-select]").await;
            click(&c, "[data-run-id=rb] [data-testid=row-select]").await;
            click(&c, "a[data-testid=compare-button]").await;

            let row = |key: &str| {
                format!("[data-testid=compare-config] [data-testid=compare-row][data-key='{key}']")
            };
            c.wait()
                .at_most(WAIT)
                .for_element(Locator::Css(&row("optimizer")))
                .await
                .unwrap();
            let url = c.current_url().await.unwrap();
            assert!(url.path().ends_with("/projects/cmp/compare"), "{url}");
            assert_eq!(url.query(), Some("runs=rb,ra"), "table order, newest first");
            assert_eq!(
                attr(&c, &row("optimizer"), "data-differs").await.as_deref(),
                Some("true")
            );
            assert!(
                attr(&c, &row("optimizer"), "class")
                    .await
                    .unwrap()
                    .contains("diff")
            );
            assert_eq!(
                attr(&c, &row("lr"), "data-differs").await.as_deref(),
                Some("false")
            );
            assert!(
                !attr(&c, &row("lr"), "class")
                    .await
                    .unwrap_or_default()
                    .contains("diff")
            );
            // Nested config is flattened.
            assert_eq!(
                attr(&c, &row("model.layers"), "data-differs")
                    .await
                    .as_deref(),
                Some("false")
            );
            // The lowest loss and the highest accuracy are marked: rb's, the first column.
            let best = attrs(
                &c,
                "[data-testid=compare-summary] [data-testid=compare-row] td",
                "data-best",
            )
            .await;
            assert_eq!(
                best,
                ["true", "", "true", ""],
                "acc then val/loss; runs rb, ra"
            );

            // Only differing keys.
            click(&c, "[data-testid=only-diff]").await;
            eventually(
                "only the differing config keys",
                WAIT,
                || {
                    attrs(
                        &c,
                        "[data-testid=compare-config] [data-testid=compare-row]",
                        "data-key",
                    )
                },
                |k| *k == ["optimizer"],
            )
            .await;

            // A deep link with three runs.
            c.goto(&d.url("/projects/cmp/compare?runs=ra,rb,rc"))
                .await
                .unwrap();
            let layers = row("model.layers");
            eventually(
                "three runs compared",
                WAIT,
                || attrs(&c, &layers, "data-differs"),
                |v| *v == ["true"],
            )
            .await;
            assert_eq!(
                count(&c, "[data-testid=compare-config] th.cmp-run").await,
                3
            );
            (d,)
        },
    )
    .await;
}

#[tokio::test]
async fn table_settings_are_saved_in_the_workspace_layout() {
    let root = tempfile::tempdir().unwrap();
    twelve(root.path(), "keep");
    with_page(root.path(), "table-persist", "/projects/keep", |c, d| async move {
        // Someone else's part of the layout, saved before.
        let http = reqwest::Client::new();
        // (Not `workspace`: the chart panels rewrite that key themselves.)
        let other = json!({"someone_else": {"sections": {"val": {"folded": true}}}, "panels": [1, 2]});
        let resp = http
            .put(d.url("/api/projects/keep/workspace"))
            .json(&json!({ "layout": other }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        c.refresh().await.unwrap();
        wait_rows(&c, "all runs", &ids(&(0..12).rev().collect::<Vec<_>>())).await;

        // Filter, sort, group, a column shown, pinned and moved, a width.
        set_value(&c, "[data-testid=filter-input]", "config.layers >= 15").await;
        click(&c, "[data-testid=col-header][data-col=name]").await;
        set_value(&c, "[data-testid=table-group-by]", "config.optimizer").await;
        click(&c, "[data-testid=columns-button]").await;
        click(&c, "[data-testid=picker-item][data-col=host] [data-testid=picker-toggle]").await;
        click(&c, "[data-testid=picker-item][data-col='config.lr'] [data-testid=picker-pin]").await;
        click(&c, "[data-testid=picker-item][data-col=host] [data-testid=picker-left]").await;
        let headers = eventually(
            "host shown before its right neighbour was",
            WAIT,
            || attrs(&c, "[data-testid=col-header]", "data-col"),
            |h| h.len() > 3 && h[h.len() - 2] == "host",
        )
        .await;
        assert_eq!(&headers[..2], ["name", "config.lr"], "pinned columns first");
        assert!(
            attr(&c, "th[data-col='config.lr']", "class").await.unwrap().contains("pin"),
            "pinned columns stick"
        );
        // Resize by dragging the header's right edge.
        let w0 = js(&c, "return document.querySelector('th[data-col=state]').getBoundingClientRect().width;", vec![]).await;
        js(
            &c,
            "const h = document.querySelector('th[data-col=state] [data-testid=col-resize]');
             const r = h.getBoundingClientRect();
             const x = r.left + 2, y = r.top + 5;
             h.dispatchEvent(new MouseEvent('mousedown', {bubbles: true, clientX: x, clientY: y}));
             window.dispatchEvent(new MouseEvent('mousemove', {bubbles: true, clientX: x + 60, clientY: y}));
             window.dispatchEvent(new MouseEvent('mouseup', {bubbles: true, clientX: x + 60, clientY: y}));",
            vec![],
        )
        .await;
        let w1 = js(&c, "return document.querySelector('th[data-col=state]').getBoundingClientRect().width;", vec![]).await;
        assert!(
            (w1.as_f64().unwrap() - w0.as_f64().unwrap() - 60.0).abs() < 2.0,
            "{w0} → {w1}"
        );

        // Saved under layout.table, the rest of the layout kept.
        let saved = d
            .wait_for("/api/projects/keep/workspace", WAIT, |v| {
                let t = &v["layout"]["table"];
                t["filter"] == "config.layers >= 15"
                    && t["group_by"] == "config.optimizer"
                    && t["sort"]["column"] == "name"
                    && t["widths"]["state"].is_number()
            })
            .await;
        assert_eq!(saved["layout"]["someone_else"], other["someone_else"]);
        assert_eq!(saved["layout"]["panels"], other["panels"]);
        let t = &saved["layout"]["table"];
        assert!(t["pinned"].as_array().unwrap().contains(&json!("config.lr")));
        assert!(t["columns"].as_array().unwrap().contains(&json!("host")));

        // A reload (a teammate opening the project) shows the same table.
        c.refresh().await.unwrap();
        eventually(
            "the saved group-by",
            WAIT,
            || texts(&c, "[data-testid=group-label]"),
            |t| *t == ["optimizer = adam (5)", "optimizer = sgd (2)"],
        )
        .await;
        let value = js(&c, "return document.querySelector('[data-testid=filter-input]').value;", vec![]).await;
        assert_eq!(value, json!("config.layers >= 15"));
        // Names in natural order (net-5 < net-10) within each group.
        assert_eq!(row_ids(&c).await, ids(&[5, 7, 8, 10, 11, 6, 9]));
        let headers = attrs(&c, "[data-testid=col-header]", "data-col").await;
        assert_eq!(&headers[..2], ["name", "config.lr"]);
        assert!(headers.contains(&"host".to_string()));
        (d,)
    })
    .await;
}

#[tokio::test]
async fn ten_thousand_runs_render_a_bounded_number_of_rows() {
    let root = tempfile::tempdir().unwrap();
    let t0 = now_secs() - 100_000.0;
    for i in 0..10_000usize {
        let id = format!("r{i:05}");
        let dir = root.path().join("big").join(&id);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("config.json"),
            format!(
                r#"{{"lr": {}, "optimizer": "{}", "seed": {i}}}"#,
                0.001 * (i % 7) as f64,
                ["adam", "sgd"][i % 2]
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("summary.json"),
            format!(r#"{{"loss": {}}}"#, (i % 13) as f64 / 13.0),
        )
        .unwrap();
        std::fs::write(
            dir.join("run.json"),
            json!({
                "format_version": 1, "id": id, "name": format!("run-{i}"), "project": "big",
                "group": null, "tags": [], "notes": null, "job_type": null, "state": "finished",
                "created_at": t0 + i as f64, "heartbeat_at": t0 + i as f64, "finished_at": t0 + i as f64 + 1.0,
                "exit_code": 0, "host": "h", "command": [], "pid": 1,
            })
            .to_string(),
        )
        .unwrap();
    }
    with_page(root.path(), "table-10k", "/projects/big", |c, d| async move {
        eventually(
            "10,000 runs counted",
            Duration::from_secs(90),
            || texts(&c, "[data-testid=runs-count]"),
            |t| *t == ["10000 runs"],
        )
        .await;
        let rows = count(&c, "tr[data-testid=run-row]").await;
        assert!((20..=120).contains(&rows), "{rows} row elements for 10,000 runs");
        let first = row_ids(&c).await;
        assert_eq!(first[0], "r09999", "newest first");

        // The scroll area is as tall as all rows; scrolling to the end shows the oldest run,
        // still with a bounded number of row elements.
        let height = js(&c, "return document.querySelector('[data-testid=runs-scroll]').scrollHeight;", vec![]).await;
        assert!(height.as_f64().unwrap() >= 10_000.0 * 30.0, "{height}");
        js(
            &c,
            "const s = document.querySelector('[data-testid=runs-scroll]'); s.scrollTop = s.scrollHeight;",
            vec![],
        )
        .await;
        eventually("the oldest run at the bottom", WAIT, || row_ids(&c), |ids| {
            ids.last().map(String::as_str) == Some("r00000")
        })
        .await;
        let rows = count(&c, "tr[data-testid=run-row]").await;
        assert!((20..=120).contains(&rows), "{rows} row elements after scrolling");
        // The last row is really in view (spacer heights add up).
        let visible = js(
            &c,
            "const s = document.querySelector('[data-testid=runs-scroll]').getBoundingClientRect();
             const r = document.querySelector('[data-run-id=r00000]').getBoundingClientRect();
             return r.top >= s.top && r.bottom <= s.bottom + 1;",
            vec![],
        )
        .await;
        assert_eq!(visible, json!(true));

        // Scrolling through the middle keeps the DOM bounded and renders what is in view.
        for frac in [0.25, 0.5, 0.75] {
            js(
                &c,
                "const s = document.querySelector('[data-testid=runs-scroll]'); s.scrollTop = s.scrollHeight * arguments[0];",
                vec![json!(frac)],
            )
            .await;
            let want = format!("r{:05}", 9_999 - (10_000.0 * frac) as usize);
            eventually(&format!("row {want} rendered"), WAIT, || row_ids(&c), |ids| {
                ids.contains(&want)
            })
            .await;
            let rows = count(&c, "tr[data-testid=run-row]").await;
            assert!((20..=120).contains(&rows), "{rows} row elements at {frac}");
        }

        // Scrolling on renders only the rows coming into view: ten steps of three rows add about
        // thirty row elements (a full re-render would add the whole window, ~40, every step).
        let added = js(
            &c,
            "return await new Promise(done => {
               const s = document.querySelector('[data-testid=runs-scroll]');
               const body = document.querySelector('[data-testid=runs-table] tbody');
               let added = 0;
               const mo = new MutationObserver(ms => {
                 for (const m of ms) for (const n of m.addedNodes)
                   if (n.nodeName === 'TR' && n.dataset.testid === 'run-row') added++;
               });
               mo.observe(body, {childList: true});
               let i = 0;
               const step = () => {
                 s.scrollTop += 90;
                 if (++i < 10) requestAnimationFrame(step);
                 else setTimeout(() => { mo.disconnect(); done(added); }, 300);
               };
               requestAnimationFrame(step);
             });",
            vec![],
        )
        .await;
        let added = added.as_u64().unwrap();
        assert!((20..=60).contains(&added), "{added} rows added while scrolling 30 rows");

        // Sorting and filtering 10,000 runs still answer.
        set_value(&c, "[data-testid=filter-input]", "config.seed < 100 and config.optimizer == 'sgd'").await;
        eventually("50 runs left", WAIT, || texts(&c, "[data-testid=runs-count]"), |t| {
            *t == ["50 of 10000 runs"]
        })
        .await;
        (d,)
    })
    .await;
}

/// The runs of the rendered rows whose `data-selected` is true, in row order.
async fn selected_rows(c: &Client) -> Vec<String> {
    let rows = row_ids(c).await;
    let sel = attrs(c, "[data-testid=run-row]", "data-selected").await;
    rows.into_iter()
        .zip(sel)
        .filter(|(_, s)| s == "true")
        .map(|(r, _)| r)
        .collect()
}

/// The runs in the chart legends, sorted, once each.
async fn legend_runs(c: &Client) -> Vec<String> {
    let mut v = attrs(c, "[data-testid=legend-item]", "data-run").await;
    v.sort();
    v.dedup();
    v
}

async fn folded(c: &Client) -> Vec<(String, String)> {
    let groups = attrs(c, "[data-testid=group-row]", "data-group").await;
    let shut = attrs(c, "[data-testid=group-row]", "data-collapsed").await;
    groups.into_iter().zip(shut).collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[tokio::test]
async fn selection_and_folds_are_remembered_by_this_browser() {
    let root = tempfile::tempdir().unwrap();
    twelve(root.path(), "mem");
    let profile = tempfile::tempdir().unwrap();
    let d = Daemon::start(root.path());
    require_web(&d).await;
    let driver = Driver::start();
    let c = browser(&driver, profile.path()).await;
    c.goto(&d.url("/projects/mem"))
        .await
        .expect("open the page");
    let steps = async {
        let sel_key = "trackline:selection:/projects/mem";
        let folds_key = "trackline:folds:/projects/mem";
        let stored = |key: &'static str| {
            let c = c.clone();
            async move {
                js(
                    &c,
                    "return localStorage.getItem(arguments[0]);",
                    vec![json!(key)],
                )
                .await
            }
        };
        let loss_runs = || attr(&c, "[data-testid=chart][data-key=loss]", "data-runs");
        // The page's error log is read (so that its being empty below means something).
        js(&c, "console.error('trackline-test probe');", vec![]).await;
        let probe = page_errors(&c, &driver).await;
        assert!(
            probe.iter().any(|m| m.contains("trackline-test probe")),
            "{probe:?}"
        );
        wait_rows(&c, "all runs", &ids(&(0..12).rev().collect::<Vec<_>>())).await;
        let default = ids(&(2..12).collect::<Vec<_>>());
        eventually(
            "the default legend",
            WAIT,
            || legend_runs(&c),
            |l| *l == default,
        )
        .await;
        assert_eq!(
            stored(sel_key).await,
            Value::Null,
            "the default is not stored"
        );

        // A choice: an old run in, the two newest out.
        for id in ["run00", "run11", "run10"] {
            click(&c, &format!("[data-run-id={id}] [data-testid=row-select]")).await;
        }
        let want = ids(&[0, 2, 3, 4, 5, 6, 7, 8, 9]);
        eventually(
            "the chosen legend",
            WAIT,
            || legend_runs(&c),
            |l| *l == want,
        )
        .await;
        eventually("nine runs drawn", WAIT, loss_runs, |n| {
            n.as_deref() == Some("9")
        })
        .await;
        let saved = stored(sel_key).await;
        let saved: Value = serde_json::from_str(saved.as_str().unwrap()).unwrap();
        assert_eq!(saved["v"], 1);
        assert_eq!(saved["selected"], json!(want));
        // The newest run the page knew (run11): later runs will join the selection.
        assert!(saved["seen_until"].as_f64().is_some(), "{saved}");

        // Grouped by optimizer, the sgd group folded (the group-by is saved in the daemon's
        // layout; wait for it so the reload groups too).
        set_value(&c, "[data-testid=table-group-by]", "config.optimizer").await;
        click(&c, "[data-testid=group-row][data-group=sgd]").await;
        let adam = ids(&[11, 10, 8, 7, 5, 4, 2, 1]);
        wait_rows(&c, "the sgd group folded", &adam).await;
        d.wait_for("/api/projects/mem/workspace", WAIT, |v| {
            v["layout"]["table"]["group_by"] == "config.optimizer"
        })
        .await;

        // After a reload: the same runs selected and drawn, the same group folded.
        c.refresh().await.unwrap();
        eventually(
            "the folds again",
            WAIT,
            || folded(&c),
            |f| *f == pairs(&[("adam", "false"), ("sgd", "true")]),
        )
        .await;
        wait_rows(&c, "only the adam runs", &adam).await;
        eventually(
            "the selected adam rows",
            WAIT,
            || selected_rows(&c),
            |s| *s == ids(&[8, 7, 5, 4, 2]),
        )
        .await;
        eventually("the same legend", WAIT, || legend_runs(&c), |l| *l == want).await;
        assert_eq!(
            texts(&c, "[data-testid=selected-count]").await,
            ["9 in charts"]
        );
        // Ungrouped, all rows and the chart lines show the same nine runs.
        set_value(&c, "[data-testid=table-group-by]", "").await;
        eventually(
            "the selected rows",
            WAIT,
            || selected_rows(&c),
            |s| *s == ids(&[9, 8, 7, 6, 5, 4, 3, 2, 0]),
        )
        .await;
        eventually("nine runs drawn", WAIT, loss_runs, |n| {
            n.as_deref() == Some("9")
        })
        .await;
        // Folds are per group-by key: grouping by optimizer again folds sgd again.
        set_value(&c, "[data-testid=table-group-by]", "config.optimizer").await;
        eventually(
            "sgd folded again",
            WAIT,
            || folded(&c),
            |f| *f == pairs(&[("adam", "false"), ("sgd", "true")]),
        )
        .await;
        d.wait_for("/api/projects/mem/workspace", WAIT, |v| {
            v["layout"]["table"]["group_by"] == "config.optimizer"
        })
        .await;
        assert_eq!(page_errors(&c, &driver).await, Vec::<String>::new());

        // Garbage in this browser's storage: not JSON, and a value far over the size read.
        js(
            &c,
            "localStorage.setItem(arguments[0], '{\"v\": 1, \"selected\": [\"run00\", {oops');
             localStorage.setItem(arguments[1],
               '{\"v\":1,\"folded\":{\"config.optimizer\":[' + Array(300000).fill('\"sgd\"').join(',') + ']}}');",
            vec![json!(sel_key), json!(folds_key)],
        )
        .await;
        c.refresh().await.unwrap();
        eventually(
            "nothing folded",
            WAIT,
            || folded(&c),
            |f| *f == pairs(&[("adam", "false"), ("sgd", "false")]),
        )
        .await;
        eventually(
            "the default legend",
            WAIT,
            || legend_runs(&c),
            |l| *l == default,
        )
        .await;
        assert_eq!(page_errors(&c, &driver).await, Vec::<String>::new());
        // The page works on and replaces the garbage with the next choice.
        click(&c, "[data-testid=group-row][data-group=adam]").await;
        eventually(
            "adam folded",
            WAIT,
            || folded(&c),
            |f| *f == pairs(&[("adam", "true"), ("sgd", "false")]),
        )
        .await;
        click(&c, "[data-testid=select-none]").await;
        eventually("an empty legend", WAIT, || legend_runs(&c), Vec::is_empty).await;
        assert_eq!(
            stored(folds_key).await,
            json!(r#"{"v":1,"folded":{"config.optimizer":["adam"]}}"#)
        );
        let saved: Value = serde_json::from_str(stored(sel_key).await.as_str().unwrap()).unwrap();
        assert_eq!(saved["selected"], json!([]));

        // A run that starts while the page is open joins the picked selection (its chart shows
        // it), and stays selected after a reload.
        let cfg = json!({"optimizer": "adam"});
        seed(
            root.path(),
            "mem",
            "run12",
            "net-12",
            now_secs(),
            cfg.clone(),
            json!({}),
            20,
        );
        eventually(
            "the new run in the legend",
            WAIT,
            || legend_runs(&c),
            |l| *l == ["run12"],
        )
        .await;
        c.refresh().await.unwrap();
        eventually(
            "still selected after a reload",
            WAIT,
            || legend_runs(&c),
            |l| *l == ["run12"],
        )
        .await;
        // One created while no page was open joins it too on the next visit.
        c.goto("about:blank").await.unwrap();
        seed(
            root.path(),
            "mem",
            "run13",
            "net-13",
            now_secs() + 1.0,
            cfg,
            json!({}),
            20,
        );
        d.wait_for("/api/projects/mem/runs", WAIT, |v| {
            v.as_array().is_some_and(|a| a.len() == 14)
        })
        .await;
        c.goto(&d.url("/projects/mem")).await.unwrap();
        eventually(
            "both new runs",
            WAIT,
            || legend_runs(&c),
            |l| *l == ["run12", "run13"],
        )
        .await;
        // "Newest" goes back to the default (the ten newest) and forgets the choice.
        click(&c, "[data-testid=select-newest]").await;
        let newest = ids(&(4..14).collect::<Vec<_>>());
        eventually("the ten newest", WAIT, || legend_runs(&c), |l| *l == newest).await;
        assert_eq!(stored(sel_key).await, Value::Null);
        c.refresh().await.unwrap();
        eventually(
            "still the ten newest",
            WAIT,
            || legend_runs(&c),
            |l| *l == newest,
        )
        .await;
        assert!(
            attrs(&c, "[data-testid=select-newest]", "class")
                .await
                .is_empty(),
            "no Newest button while the default is shown"
        );
        assert_eq!(page_errors(&c, &driver).await, Vec::<String>::new());
    };
    let res = AssertUnwindSafe(steps).catch_unwind().await;
    if res.is_err() {
        screenshot(&c, "table-remember").await;
    }
    let _ = c.close().await;
    if let Err(p) = res {
        std::panic::resume_unwind(p);
    }
}
