//! Annotations in two real browsers on one daemon, both through one annotator share link (`#t=`):
//! A pins step 1200 of `loss` and B sees the marker and its thread within 500 ms (the latency is
//! printed); A and B edit the project notepad at once, one commits and the other is shown the
//! conflict with both texts, merges and saves; a comment with raw HTML and a `javascript:` link
//! shows the HTML as text and the link without its destination; resolving, editing and deleting
//! one's own comment reach the other browser.

use crate::common::*;
use crate::web::*;
use fantoccini::{Client, Locator};
use serde_json::json;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);
const LOSS: &str = "canvas[data-testid=chart][data-key=loss]";

/// Waits for the loss chart to be drawn with all its points, scrolled into view.
async fn loss_chart_drawn(c: &Client, points: &str) {
    c.wait()
        .at_most(T)
        .for_element(Locator::Css(LOSS))
        .await
        .unwrap();
    js(
        c,
        &format!("document.querySelector('{LOSS}').scrollIntoView();"),
        vec![],
    )
    .await;
    eventually(
        "the loss chart drawn with its points",
        T,
        || async {
            (
                attr(c, LOSS, "data-points").await,
                attr(c, LOSS, "data-frames").await,
            )
        },
        |(p, f)| p.as_deref() == Some(points) && f.as_deref().is_some_and(|f| f != "0"),
    )
    .await;
}

/// Clicks `css` from script and answers the page's `Date.now()` just before the click.
async fn click_at(c: &Client, css: &str) -> f64 {
    js(
        c,
        "const e = document.querySelector(arguments[0]); const t = Date.now(); e.click(); return t;",
        vec![json!(css)],
    )
    .await
    .as_f64()
    .unwrap_or_else(|| panic!("no {css}"))
}

#[tokio::test]
async fn two_browsers_pin_edit_the_notepad_and_comment_safely() {
    let root = tempfile::tempdir().unwrap();
    let (pa, pb) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut w = RunWriter::create(root.path(), "ann", "r1");
    w.log_rows(2000, |s| format!("{}", 1.0 / (s as f64 + 1.0)));
    let d = Daemon::start_with(root.path(), &["--public-url", "https://team.example"]);
    require_web(&d).await;
    let link = local_share_link(root.path(), "annotator", "team");
    let driver = Driver::start();
    let a = browser(&driver, pa.path()).await;
    let b = browser(&driver, pb.path()).await;
    let result = async {
        // Both on the run page, the loss chart drawn.
        for c in [&a, &b] {
            open_link(c, &d, &link, "/projects/ann/runs/r1").await;
            loss_chart_drawn(c, "2000").await;
        }
        // B notes when a marker at step 1200 first appears, and when its thread does.
        js(
            &b,
            "window.__pin = null; window.__thread = null;
             new MutationObserver(() => {
               const now = Date.now();
               if (!window.__pin && document.querySelector('[data-testid=pin-marker][data-x0=\"1200\"]')) window.__pin = now;
               if (!window.__thread && [...document.querySelectorAll('[data-testid=thread-anchor]')]
                    .some(e => e.textContent.includes('loss at step 1200'))) window.__thread = now;
             }).observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});",
            vec![],
        )
        .await;

        // A: the chart's pin button, a click on the plot, then step 1200 and a comment.
        a.find(Locator::Css(".lc:has(canvas[data-key=loss]) [data-testid=pin-mode]"))
            .await?
            .click()
            .await?;
        a.find(Locator::Css(LOSS)).await?.click().await?;
        a.wait()
            .at_most(T)
            .for_element(Locator::Css("[data-testid=pin-new]"))
            .await?;
        let suggested = attr(&a, "[data-testid=pin-x0]", "value").await.unwrap_or_default();
        assert!(
            suggested.parse::<f64>().is_ok_and(|x| x.fract() == 0.0 && (0.0..2000.0).contains(&x)),
            "a click on the step axis suggests a whole step: {suggested:?}"
        );
        set_value(&a, "[data-testid=pin-x0]", "1200").await;
        set_value(&a, "[data-testid=pin-text]", "loss spikes **here**").await;
        let sent = click_at(&a, "[data-testid=pin-save]").await;
        let (pin, thread) = eventually(
            "B to see A's pin and its thread",
            T,
            || async {
                let v = js(&b, "return [window.__pin, window.__thread];", vec![]).await;
                (v[0].as_f64(), v[1].as_f64())
            },
            |(p, t)| p.is_some() && t.is_some(),
        )
        .await;
        let (pin_ms, thread_ms) = (pin.unwrap() - sent, thread.unwrap() - sent);
        eprintln!("pin latency A→B: marker {pin_ms:.0} ms, thread {thread_ms:.0} ms");
        assert!(pin_ms <= 500.0, "B saw the marker {pin_ms} ms after A's save");
        assert!(thread_ms <= 500.0, "B saw the thread {thread_ms} ms after A's save");
        // A sees its own marker; B opens the thread from its marker.
        a.wait()
            .at_most(T)
            .for_element(Locator::Css("[data-testid=pin-marker][data-x0=\"1200\"]"))
            .await?;
        click_at(&b, "[data-testid=pin-marker][data-x0=\"1200\"] [data-testid=pin-head]").await;
        let shown = eventually(
            "the pin's thread opened on B's chart",
            T,
            || texts(&b, "[data-testid=pin-thread] [data-testid=comment-body]"),
            |t| !t.is_empty(),
        )
        .await;
        assert_eq!(shown, ["loss spikes here"]);
        assert_eq!(
            count(&b, "[data-testid=pin-thread] [data-testid=comment-body] strong").await,
            1
        );
        let author = texts(&b, "[data-testid=pin-thread] [data-testid=comment-author]").await;
        assert_eq!(author, ["team"], "the link's label is the author");

        // The notepad: both open the editor, A saves first.
        for c in [&a, &b] {
            c.goto(&d.url("/projects/ann")).await?;
            c.wait()
                .at_most(T)
                .for_element(Locator::Css("[data-testid=notepad-edit]"))
                .await?
                .click()
                .await?;
            c.wait()
                .at_most(T)
                .for_element(Locator::Css("[data-testid=notepad-input]"))
                .await?;
        }
        set_value(&a, "[data-testid=notepad-input]", "A: runs 1-11 were debugging").await;
        set_value(&b, "[data-testid=notepad-input]", "B: r1 is the baseline").await;
        click_at(&a, "[data-testid=notepad-save]").await;
        eventually(
            "A's notepad saved",
            T,
            || texts(&a, "[data-testid=notepad-text]"),
            |t| t.iter().any(|s| s.contains("runs 1-11 were debugging")),
        )
        .await;
        // B is told while still editing, and its draft stays.
        let remote = eventually(
            "B told of A's save while editing",
            T,
            || texts(&b, "[data-testid=notepad-remote]"),
            |t| !t.is_empty(),
        )
        .await;
        assert!(remote[0].contains("updated by team while you were editing"), "{remote:?}");
        let draft = js(&b, "return document.querySelector('[data-testid=notepad-input]').value;", vec![]).await;
        assert_eq!(draft, json!("B: r1 is the baseline"));
        // B saves on a stale rev: refused, both texts shown.
        click_at(&b, "[data-testid=notepad-save]").await;
        let conflict = eventually(
            "B's conflict",
            T,
            || texts(&b, "[data-testid=notepad-conflict]"),
            |t| !t.is_empty(),
        )
        .await;
        assert!(conflict[0].contains("changed by team"), "{conflict:?}");
        assert_eq!(texts(&b, "[data-testid=notepad-mine]").await, ["B: r1 is the baseline"]);
        assert_eq!(
            texts(&b, "[data-testid=notepad-theirs]").await,
            ["A: runs 1-11 were debugging"]
        );
        // Merge by hand, then save: both texts end up in the notepad, for A too.
        click_at(&b, "[data-testid=notepad-merge]").await;
        let merged = js(&b, "return document.querySelector('[data-testid=notepad-input]').value;", vec![]).await;
        let merged = merged.as_str().unwrap_or_default().to_owned();
        assert!(
            merged.contains("runs 1-11 were debugging") && merged.contains("r1 is the baseline"),
            "{merged:?}"
        );
        set_value(&b, "[data-testid=notepad-input]", "A: runs 1-11 were debugging\nB: r1 is the baseline").await;
        click_at(&b, "[data-testid=notepad-save]").await;
        for c in [&a, &b] {
            eventually(
                "the merged notepad on both pages",
                T,
                || texts(c, "[data-testid=notepad-text]"),
                |t| t.iter().any(|s| s.contains("debugging") && s.contains("baseline")),
            )
            .await;
        }

        // A hostile comment on the run: raw HTML is text, the javascript: link loses its href.
        a.goto(&d.url("/projects/ann/runs/r1")).await?;
        b.goto(&d.url("/projects/ann/runs/r1")).await?;
        let hostile = "<img src=x onerror=\"window.__xss=1\"> [click me](javascript:window.__xss=2) [docs](https://example.com/x)";
        a.wait()
            .at_most(T)
            .for_element(Locator::Css("[data-testid=new-thread-input]"))
            .await?;
        set_value(&a, "[data-testid=new-thread-input]", hostile).await;
        click_at(&a, "[data-testid=new-thread-send]").await;
        for c in [&a, &b] {
            let bodies = eventually(
                "the hostile comment shown",
                T,
                || texts(c, "[data-testid=comment-body]"),
                |t| t.iter().any(|s| s.contains("click me")),
            )
            .await;
            let body = bodies.iter().find(|s| s.contains("click me")).unwrap();
            assert!(body.contains("<img src=x onerror=\"window.__xss=1\">"), "{body}");
            assert_eq!(count(c, "[data-testid=comment-body] img").await, 0);
            assert_eq!(count(c, "a[href^='javascript' i]").await, 0);
            assert_eq!(
                attrs(c, "[data-testid=comment-body] a", "href").await,
                ["https://example.com/x"]
            );
            let xss = js(c, "return window.__xss === undefined;", vec![]).await;
            assert_eq!(xss, json!(true), "a script of the comment ran");
        }
        // A resolves the pin's thread, edits its own comment and deletes it: B sees each.
        let resolve = js(
            &a,
            "const t = [...document.querySelectorAll('[data-testid=thread]')]
               .find(t => t.textContent.includes('loss at step 1200'));
             t.querySelector('[data-testid=thread-resolve]').click();
             return t.getAttribute('data-thread');",
            vec![],
        )
        .await;
        let thread_id = resolve.as_str().expect("the pin's thread").to_owned();
        let resolved = format!("[data-testid=thread][data-thread='{thread_id}']");
        eventually(
            "B sees the thread resolved",
            T,
            || attr(&b, &resolved, "data-resolved"),
            |r| r.as_deref() == Some("true"),
        )
        .await;
        let comment = format!("{resolved} [data-testid=comment]");
        let body = format!("{comment} [data-testid=comment-body]");
        click_at(&a, &format!("{comment} [data-testid=comment-edit]")).await;
        set_value(&a, "[data-testid=comment-edit-input]", "loss spikes at 1200, _fixed_ by warmup").await;
        click_at(&a, "[data-testid=comment-edit-save]").await;
        eventually(
            "B sees the edited comment",
            T,
            || texts(&b, &body),
            |t| t.first().is_some_and(|s| s.contains("fixed by warmup")),
        )
        .await;
        click_at(&a, &format!("{comment} [data-testid=comment-delete]")).await;
        eventually(
            "B sees the comment deleted",
            T,
            || attr(&b, &comment, "data-deleted"),
            |d| d.as_deref() == Some("true"),
        )
        .await;
        for c in [&a, &b] {
            let errors = page_errors(c, &driver).await;
            assert!(errors.is_empty(), "{errors:?}");
        }
        Ok::<(), fantoccini::error::CmdError>(())
    }
    .await;
    if result.is_err() {
        screenshot(&a, "annotate-a").await;
        screenshot(&b, "annotate-b").await;
    }
    let _ = a.close().await;
    let _ = b.close().await;
    result.expect("browser steps");
}
