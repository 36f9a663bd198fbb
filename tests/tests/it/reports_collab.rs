//! A report shared with a team, in three real browsers on one daemon behind a public URL: an owner,
//! an annotator and a viewer, each through their own share link. The annotator sees "olga is
//! editing" on the block the owner opens, then her saved text live, has no edit controls and
//! comments on the block (the comment reaches the owner live). The viewer's list holds only the
//! published report, an unpublished report's page shows nothing of it, the published report shows
//! its published copy (not the owner's newer draft) with no edit controls and no comment box, and
//! the owner's next Publish reaches the viewer live.

use crate::common::*;
use crate::web::*;
use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use std::time::Duration;

const T: Duration = Duration::from_secs(30);
const BLOCK: &str = "[data-testid=report-block][data-block=b1]";
const BADGE: &str = "[data-testid=report-block][data-block=b1] [data-testid=editing-badge]";
const COMMENTS: &str = "[data-testid=report-block][data-block=b1] [data-testid=block-comments]";

/// A share link of `scope` for `label` through the daemon's local address, and its token.
fn link(dir: &std::path::Path, scope: &str, label: &str) -> (String, String) {
    let url = local_share_link(dir, scope, label);
    let token = url.rsplit("#t=").next().unwrap().to_owned();
    (url, token)
}

/// Sends one annotation op as the owner's token; it must commit.
async fn commit(d: &Daemon, token: &str, op_id: &str, op: Value) {
    let resp = reqwest::Client::new()
        .post(d.url("/api/projects/rc/annotations/ops"))
        .bearer_auth(token)
        .header("origin", d.url("").trim_end_matches('/'))
        .header("content-type", "application/json")
        .body(json!({"client_id": "it", "op_id": op_id, "op": op}).to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    assert!(
        status.is_success() && body["outcome"] == "committed",
        "{op_id}: {status} {body}"
    );
}

fn markdown(id: &str, text: &str) -> Value {
    json!({"id": id, "content": {"kind": "markdown", "text": text}})
}

/// The text of block b1 as shown.
async fn block_text(c: &Client) -> String {
    texts(c, BLOCK).await.join(" ")
}

async fn wait_text(c: &Client, what: &str, pred: impl Fn(&String) -> bool) -> String {
    eventually(what, T, || block_text(c), pred).await
}

#[tokio::test]
async fn owner_annotator_and_viewer_see_what_their_link_allows_live() {
    let root = tempfile::tempdir().unwrap();
    let profiles: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut w = RunWriter::create(root.path(), "rc", "r1");
    w.log_rows(20, |s| format!("{}", 1.0 / (s as f64 + 1.0)));
    let d = Daemon::start_with(root.path(), &["--public-url", "https://team.example"]);
    require_web(&d).await;
    let (owner_link, owner_token) = link(root.path(), "owner", "olga");
    let (annotator_link, _) = link(root.path(), "annotator", "anna");
    let (viewer_link, _) = link(root.path(), "viewer", "vic");

    // A published report whose draft then moves on, and a report never published.
    commit(
        &d,
        &owner_token,
        "1",
        json!({"kind": "report_create", "report": "rep", "title": "Shared findings",
               "blocks": [markdown("b1", "# Findings\npublished words")]}),
    )
    .await;
    commit(
        &d,
        &owner_token,
        "2",
        json!({"kind": "report_publish", "report": "rep"}),
    )
    .await;
    commit(
        &d,
        &owner_token,
        "3",
        json!({"kind": "block_set", "report": "rep", "block": "b1", "base_rev": 1,
               "content": {"kind": "markdown", "text": "# Findings\ndraft words"}}),
    )
    .await;
    commit(
        &d,
        &owner_token,
        "4",
        json!({"kind": "report_create", "report": "hidden", "title": "Unfinished",
               "blocks": [markdown("h1", "secret draft")]}),
    )
    .await;

    let driver = Driver::start();
    let owner = browser(&driver, profiles[0].path()).await;
    let annotator = browser(&driver, profiles[1].path()).await;
    let viewer = browser(&driver, profiles[2].path()).await;
    let result = async {
        // The viewer: only the published report, as published, read-only.
        open_link(&viewer, &d, &viewer_link, "/projects/rc/reports").await;
        let titles = eventually(
            "the viewer's report list",
            T,
            || texts(&viewer, "[data-testid=report-row]"),
            |t: &Vec<String>| !t.is_empty(),
        )
        .await;
        assert_eq!(titles.len(), 1, "{titles:?}");
        assert!(titles[0].contains("Shared findings"), "{titles:?}");
        viewer.goto(&d.url("/projects/rc/reports/hidden")).await?;
        viewer
            .wait()
            .at_most(T)
            .for_element(Locator::Css("[data-testid=report-missing]"))
            .await?;
        let page = js(&viewer, "return document.body.textContent;", vec![]).await;
        assert!(
            !page.as_str().unwrap_or_default().contains("secret draft")
                && !page.as_str().unwrap_or_default().contains("Unfinished"),
            "nothing of an unpublished report reaches a viewer: {page}"
        );
        viewer.goto(&d.url("/projects/rc/reports/rep")).await?;
        wait_text(&viewer, "the published copy", |t| {
            t.contains("published words")
        })
        .await;
        let page = js(&viewer, "return document.body.textContent;", vec![]).await;
        assert!(
            !page.as_str().unwrap_or_default().contains("draft words"),
            "the viewer sees the published copy, not the draft: {page}"
        );
        for control in [
            "block-edit",
            "block-drag",
            "block-delete",
            "report-publish",
            "report-delete",
            "add-markdown-block",
            "report-title-edit",
        ] {
            assert_eq!(
                count(&viewer, &format!("[data-testid={control}]")).await,
                0,
                "a viewer has no {control}"
            );
        }
        viewer.find(Locator::Css(COMMENTS)).await?.click().await?;
        viewer
            .wait()
            .at_most(T)
            .for_element(Locator::Css("[data-testid=block-threads]"))
            .await?;
        assert_eq!(
            count(&viewer, "[data-testid=block-thread-input]").await,
            0,
            "a viewer has no comment box"
        );

        // The owner and the annotator on the report's draft.
        open_link(&owner, &d, &owner_link, "/projects/rc/reports/rep").await;
        open_link(&annotator, &d, &annotator_link, "/projects/rc/reports/rep").await;
        for c in [&owner, &annotator] {
            wait_text(c, "the draft", |t| t.contains("draft words")).await;
        }
        for control in ["block-edit", "block-drag", "report-publish"] {
            assert_eq!(
                count(&annotator, &format!("[data-testid={control}]")).await,
                0,
                "an annotator has no {control}"
            );
        }

        // The owner opens the block's editor: the annotator sees who is editing it.
        owner
            .find(Locator::Css(&format!("{BLOCK} [data-testid=block-edit]")))
            .await?
            .click()
            .await?;
        let badge = eventually(
            "the annotator sees olga editing the block",
            T,
            || attr(&annotator, BADGE, "data-labels"),
            |l: &Option<String>| l.is_some(),
        )
        .await;
        assert_eq!(badge.as_deref(), Some("olga"));

        // She saves: the annotator sees the text live, and the badge goes.
        let input = owner
            .find(Locator::Css(&format!("{BLOCK} [data-testid=block-input]")))
            .await?;
        input.clear().await?;
        input.send_keys("# Findings\nlive words from olga").await?;
        owner
            .find(Locator::Css(&format!("{BLOCK} [data-testid=block-save]")))
            .await?
            .click()
            .await?;
        wait_text(&annotator, "the saved text, live", |t| {
            t.contains("live words from olga")
        })
        .await;
        eventually(
            "the editing badge gone once she saved",
            T,
            || count(&annotator, BADGE),
            |n: &usize| *n == 0,
        )
        .await;

        // The annotator comments on the block: the owner sees the thread live.
        annotator
            .find(Locator::Css(COMMENTS))
            .await?
            .click()
            .await?;
        annotator
            .wait()
            .at_most(T)
            .for_element(Locator::Css("[data-testid=block-thread-input]"))
            .await?
            .send_keys("does this hold for lr 0.1?")
            .await?;
        annotator
            .find(Locator::Css("[data-testid=block-thread-send]"))
            .await?
            .click()
            .await?;
        eventually(
            "the comment counted on the owner's block",
            T,
            || attr(&owner, COMMENTS, "data-count"),
            |n: &Option<String>| n.as_deref() == Some("1"),
        )
        .await;

        // The viewer still reads the old published copy; the owner's Publish reaches them live.
        assert!(block_text(&viewer).await.contains("published words"));
        owner
            .find(Locator::Css("[data-testid=report-publish]"))
            .await?
            .click()
            .await?;
        wait_text(&viewer, "the new published copy, live", |t| {
            t.contains("live words from olga")
        })
        .await;
        for c in [&owner, &annotator, &viewer] {
            let errors = page_errors(c, &driver).await;
            assert!(errors.is_empty(), "{errors:?}");
        }
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    if result.is_err() {
        for (c, name) in [
            (&owner, "reports-collab-owner"),
            (&annotator, "reports-collab-annotator"),
            (&viewer, "reports-collab-viewer"),
        ] {
            screenshot(c, name).await;
        }
    }
    for c in [owner, annotator, viewer] {
        c.close().await.ok();
    }
    result.unwrap();
}
