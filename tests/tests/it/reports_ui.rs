//! Reports in a real browser, as the local owner: a new report from the list, a markdown block
//! (its headings make the contents) and a panel grid over `config.lr < 0.01` with a loss chart; a
//! new matching run appears in that chart live and a non-matching one never does; a block dragged
//! above another stays there after a reload; markdown with `<script>`, an `onerror` image and a
//! `javascript:` link runs nothing; Publish says "published rev 1"; the export links are relative;
//! "Add to report" on a workspace panel and in the table's toolbar adds a grid over the table's
//! filter.

use crate::common::*;
use crate::web::*;
use fantoccini::{Client, Locator};
use serde_json::json;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);
const CHART: &str =
    "[data-testid=report-block][data-kind=panel_grid] canvas[data-testid=chart][data-key=loss]";
const XSS: &str = "# Unsafe\n<script>window.__xss=1</script>\n<img src=x onerror=\"window.__xss=1\">\n[click me](javascript:window.__xss=1)\n";

/// A run of project `rp` with `config.lr = lr` and 20 loss rows.
fn run(root: &std::path::Path, id: &str, lr: f64) {
    let mut w = RunWriter::create(root, "rp", id);
    write_atomic(&w.dir.join("config.json"), &json!({ "lr": lr }));
    w.log_rows(20, |s| format!("{}", 1.0 / (s as f64 + 1.0)));
}

async fn click(c: &Client, css: &str) {
    let el = c
        .wait()
        .at_most(T)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"));
    if let Err(e) = el.click().await {
        screenshot(c, "reports-ui-click").await;
        panic!("click {css}: {e}");
    }
}

/// The kinds of the report's blocks, in page order.
async fn kinds(c: &Client) -> Vec<String> {
    attrs(c, "[data-testid=report-block]", "data-kind").await
}

/// Drags block `from`'s handle onto the upper half of block `onto` with real DragEvents.
async fn drag_above(c: &Client, from: &str, onto: &str) {
    let ok = js(
        c,
        "const handle = document.querySelector(`[data-testid=report-block][data-block=\"${arguments[0]}\"] [data-testid=block-drag]`);
         const target = document.querySelector(`[data-testid=report-block][data-block=\"${arguments[1]}\"]`);
         if (!handle || !target) return false;
         const dt = new DataTransfer();
         const r = target.getBoundingClientRect();
         const at = {bubbles: true, cancelable: true, dataTransfer: dt, clientX: r.left + 20, clientY: r.top + 3};
         handle.dispatchEvent(new DragEvent('dragstart', at));
         target.dispatchEvent(new DragEvent('dragover', at));
         target.dispatchEvent(new DragEvent('drop', at));
         handle.dispatchEvent(new DragEvent('dragend', at));
         return true;",
        vec![json!(from), json!(onto)],
    )
    .await;
    assert_eq!(ok, json!(true), "blocks to drag");
}

#[tokio::test]
async fn a_report_made_in_the_browser_is_live_ordered_and_safe() {
    let root = tempfile::tempdir().unwrap();
    let profile = tempfile::tempdir().unwrap();
    run(root.path(), "low", 0.001);
    run(root.path(), "high", 0.1);
    let d = Daemon::start(root.path());
    require_web(&d).await;
    let driver = Driver::start();
    let c = browser(&driver, profile.path()).await;
    let result = async {
        // From the runs page's Reports link to a new report.
        c.goto(&d.url("/projects/rp")).await?;
        click(&c, "[data-testid=reports-link]").await;
        click(&c, "[data-testid=new-report]").await;
        c.wait()
            .at_most(T)
            .for_element(Locator::Css("[data-testid=report-block][data-kind=markdown]"))
            .await?;
        let url = c.current_url().await?.to_string();
        let report = url.rsplit('/').next().unwrap().to_owned();
        assert!(url.contains("/projects/rp/reports/"), "{url}");

        // A markdown block: its headings make the contents.
        click(&c, "[data-testid=block-edit]").await;
        set_value(&c, "[data-testid=block-input]", "# Results\n\n## Setup\nLow learning rates only.").await;
        click(&c, "[data-testid=block-save]").await;
        eventually(
            "the contents from the headings",
            T,
            || texts(&c, "[data-testid=toc-entry]"),
            |t| t == &["Results", "Setup"],
        )
        .await;

        // A panel grid over config.lr < 0.01; a bad filter is named first.
        click(&c, "[data-testid=add-grid-block]").await;
        click(&c, "[data-testid=grid-edit-runset]").await;
        set_value(&c, "[data-testid=runset-filter]", "config.lr <").await;
        c.wait()
            .at_most(T)
            .for_element(Locator::Css("[data-testid=runset-filter-error]"))
            .await?;
        set_value(&c, "[data-testid=runset-filter]", "config.lr < 0.01").await;
        assert_eq!(count(&c, "[data-testid=runset-filter-error]").await, 0);
        click(&c, "[data-testid=runset-apply]").await;
        eventually(
            "the grid's runs",
            T,
            || attr(&c, "[data-testid=grid-runs]", "data-runs"),
            |r| r.as_deref() == Some("low"),
        )
        .await;
        click(&c, "[data-testid=grid-add-panel]").await;
        set_value(&c, "[data-testid=add-line-key]", "loss").await;
        click(&c, "[data-testid=add-line]").await;
        c.wait().at_most(T).for_element(Locator::Css(CHART)).await?;
        js(&c, &format!("document.querySelector('{CHART}').scrollIntoView();"), vec![]).await;
        eventually(
            "the loss chart drawing the one matching run",
            T,
            || attr(&c, CHART, "data-runs"),
            |r| r.as_deref() == Some("1"),
        )
        .await;

        // A non-matching run, then a matching one: only the second joins the chart, live.
        run(root.path(), "high2", 0.5);
        tokio::time::sleep(Duration::from_millis(300)).await;
        run(root.path(), "low2", 0.005);
        eventually(
            "the new matching run in the chart",
            T,
            || async {
                (
                    attr(&c, CHART, "data-runs").await,
                    attrs(&c, "[data-testid=report-block][data-kind=panel_grid] [data-testid=legend-item]", "data-run").await,
                )
            },
            |(n, legend)| n.as_deref() == Some("2") && legend.iter().any(|r| r == "low2"),
        )
        .await;
        let shown = attr(&c, "[data-testid=grid-runs]", "data-runs").await.unwrap_or_default();
        assert_eq!(shown, "low2,low", "newest first, no high run");
        let legend = attrs(&c, "[data-testid=legend-item]", "data-run").await;
        assert!(!legend.iter().any(|r| r.starts_with("high")), "{legend:?}");

        // Drag the grid above the text; the order holds after a reload.
        assert_eq!(kinds(&c).await, ["markdown", "panel_grid"]);
        let ids = attrs(&c, "[data-testid=report-block]", "data-block").await;
        drag_above(&c, &ids[1], &ids[0]).await;
        eventually("the grid first", T, || kinds(&c), |k| k == &["panel_grid", "markdown"]).await;
        c.refresh().await?;
        c.wait()
            .at_most(T)
            .for_element(Locator::Css("[data-testid=report-block][data-kind=markdown] [data-testid=block-md]"))
            .await?;
        eventually("the order after a reload", T, || kinds(&c), |k| k == &["panel_grid", "markdown"]).await;
        // The up/down buttons move it back.
        click(&c, "[data-testid=report-block][data-kind=markdown] [data-testid=block-up]").await;
        eventually("the text first again", T, || kinds(&c), |k| k == &["markdown", "panel_grid"]).await;

        // Hostile markdown runs nothing.
        click(&c, "[data-testid=add-markdown-block]").await;
        eventually("a third block", T, || kinds(&c), |k| k.len() == 3).await;
        let third = "[data-testid=report-block]:nth-child(3)";
        click(&c, &format!("{third} [data-testid=block-edit]")).await;
        set_value(&c, &format!("{third} [data-testid=block-input]"), XSS).await;
        click(&c, &format!("{third} [data-testid=block-save]")).await;
        let md = format!("{third} [data-testid=block-md]");
        eventually(
            "the hostile text shown as text",
            T,
            || async { texts(&c, &md).await.join(" ") },
            |t| t.contains("<script>window.__xss=1</script>") && t.contains("onerror"),
        )
        .await;
        assert_eq!(count(&c, &format!("{md} script")).await, 0);
        assert_eq!(count(&c, &format!("{md} img")).await, 0);
        assert_eq!(count(&c, "[href^='javascript' i]").await, 0, "no javascript: link anywhere");
        if let Ok(link) = c.find(Locator::Css(&format!("{md} a"))).await {
            link.click().await?;
        }
        // The link's text (its destination dropped) clicked as a user would.
        let clicked = js(
            &c,
            "const inner = [...document.querySelectorAll(arguments[0] + ' *')]
                 .filter(e => e.textContent.includes('click me')).pop();
             if (!inner) return false; inner.click(); return true;",
            vec![json!(md)],
        )
        .await;
        assert_eq!(clicked, json!(true), "the link's text is shown");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(js(&c, "return typeof window.__xss;", vec![]).await, json!("undefined"));
        assert!(c.current_url().await?.to_string().contains(&report), "still on the report");
        eventually(
            "the contents with the third block's heading",
            T,
            || texts(&c, "[data-testid=toc-entry]"),
            |t| t == &["Results", "Setup", "Unsafe"],
        )
        .await;

        // Publish, and the export links.
        let status = "[data-testid=report-status]";
        assert_eq!(attr(&c, status, "data-published-rev").await.as_deref(), Some("0"));
        click(&c, "[data-testid=report-publish]").await;
        eventually(
            "published rev 1",
            T,
            || async { (attr(&c, status, "data-published-rev").await, texts(&c, status).await) },
            |(rev, t)| rev.as_deref() == Some("1") && t.iter().any(|t| t.contains("Published rev 1")),
        )
        .await;
        assert_eq!(
            attr(&c, "[data-testid=export-html]", "href").await.as_deref(),
            Some(format!("api/projects/rp/reports/{report}/export.html?version=draft").as_str())
        );
        assert_eq!(
            attr(&c, "[data-testid=export-md]", "href").await.as_deref(),
            Some(format!("api/projects/rp/reports/{report}/export.zip?version=draft").as_str())
        );

        // Add to report from a workspace panel: the loss chart over the table's filter, last in
        // this report; the draft now differs from what was published.
        c.goto(&d.url("/projects/rp")).await?;
        c.wait()
            .at_most(T)
            .for_element(Locator::Css("[data-testid=filter-input]"))
            .await?;
        set_value(&c, "[data-testid=filter-input]", "config.lr < 0.01").await;
        eventually(
            "the table filtered",
            T,
            || attrs(&c, "[data-testid=run-row]", "data-run-id"),
            |r| r.len() == 2,
        )
        .await;
        let panel_add = "[data-testid=panel][data-key=loss] [data-testid=add-to-report]";
        js(&c, &format!("document.querySelector('{panel_add}').scrollIntoView();"), vec![]).await;
        click(&c, panel_add).await;
        click(&c, &format!("[data-testid=add-to-report-choice][data-report='{report}']")).await;
        click(&c, "[data-testid=add-to-report-link]").await;
        eventually("a fourth block", T, || kinds(&c), |k| k.len() == 4).await;
        let fourth = "[data-testid=report-block]:nth-child(4)";
        c.wait()
            .at_most(T)
            .for_element(Locator::Css(&format!("{fourth} [data-testid=report-panel][data-kind=line][data-key=loss]")))
            .await?;
        let fourth_runs = format!("{fourth} [data-testid=grid-runs]");
        eventually(
            "the added grid over the table's filter",
            T,
            || attr(&c, &fourth_runs, "data-runs"),
            |r| r.as_deref() == Some("low2,low"),
        )
        .await;
        assert_eq!(attr(&c, status, "data-changed").await.as_deref(), Some("true"));

        // Add to report from the toolbar: the selected runs the filter keeps, as a runs table, in
        // a new report.
        c.goto(&d.url("/projects/rp")).await?;
        c.wait()
            .at_most(T)
            .for_element(Locator::Css("[data-testid=filter-input]"))
            .await?;
        set_value(&c, "[data-testid=filter-input]", "config.lr < 0.01").await;
        click(&c, "[data-testid=add-to-report][data-key='']").await;
        click(&c, "[data-testid=add-to-report-new]").await;
        click(&c, "[data-testid=add-to-report-link]").await;
        eventually(
            "the new report's runs table",
            T,
            || attrs(&c, "[data-testid=report-runs-table] tr[data-run]", "data-run"),
            |r| r == &["low2", "low"],
        )
        .await;

        // The list shows both.
        js(&c, "window.scrollTo(0, 0);", vec![]).await;
        click(&c, "[data-testid=reports-crumb]").await;
        eventually(
            "both reports in the list",
            T,
            || attrs(&c, "[data-testid=report-row]", "data-report"),
            |r| r.len() == 2 && r.contains(&report),
        )
        .await;
        let errors = page_errors(&c, &driver).await;
        assert!(errors.is_empty(), "page errors: {errors:?}");
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    if result.is_err() {
        screenshot(&c, "reports-ui").await;
    }
    c.close().await.unwrap();
    result.unwrap();
}
