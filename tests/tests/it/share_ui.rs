//! Sharing from the web app, in two real browsers: the owner opens the owner link `serve` printed,
//! makes a viewer link in the Share dialog, a second browser opens it and sees the runs, the owner
//! revokes it, and the second browser shows the 401 page within a few seconds. The token never
//! stays in the address bar; a browser with no link is told to open the one it was given.

use crate::common::*;
use crate::web::{Driver, browser, count, eventually, js, screenshot, set_value, texts};
use fantoccini::{Client, Locator};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// `serve --public-url http://127.0.0.1:PORT` on a free port: the daemon and its owner link.
fn serve_shared(dir: &std::path::Path) -> (Child, u16, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(BIN)
        .args(["serve", "--port", &port.to_string(), "--dir"])
        .arg(dir)
        .args(["--public-url", &format!("http://127.0.0.1:{port}")])
        .env("TRACKLINE_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the daemon");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let owner = lines
        .find_map(|l| {
            let l = l.unwrap();
            l.contains("your owner link")
                .then(|| l.rsplit(": ").next().unwrap().to_owned())
        })
        .expect("an owner link");
    std::thread::spawn(move || for _ in lines {});
    (child, port, owner)
}

/// Kills the daemon when the test ends, also when it fails.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn current_url(c: &Client) -> String {
    c.current_url().await.unwrap().to_string()
}

#[tokio::test]
async fn an_owner_shares_a_viewer_link_from_the_dialog_and_revokes_it() {
    let root = tempfile::tempdir().unwrap();
    let mut run = RunWriter::create(root.path(), "p", "r1");
    run.log_rows(5, |s| s.to_string());
    run.set("state", "finished".into());
    let (daemon, port, owner_link) = serve_shared(root.path());
    let _daemon = Killed(daemon);
    assert!(owner_link.starts_with(&format!("http://127.0.0.1:{port}/#t=tl_")));

    let driver = Driver::start();
    let (profile_a, profile_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = browser(&driver, profile_a.path()).await;
    let b = browser(&driver, profile_b.path()).await;
    let result = async {
        // The owner opens the owner link: the token leaves the address bar, the Share button shows.
        a.goto(&owner_link).await?;
        a.wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("[data-testid=share-button]"))
            .await?
            .click()
            .await?;
        assert!(!current_url(&a).await.contains("#t="), "{}", current_url(&a).await);
        a.wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("[data-testid=share-links]"))
            .await?;
        set_value(&a, "[data-testid=share-label]", "bob").await;
        set_value(&a, "[data-testid=share-scope]", "viewer").await;
        a.find(Locator::Css("[data-testid=share-create]"))
            .await?
            .click()
            .await?;
        let link = eventually(
            "the new link in the dialog",
            Duration::from_secs(10),
            || js(&a, "const e = document.querySelector('[data-testid=share-new-link]'); return e ? e.value : '';", vec![]),
            |v| v.as_str().is_some_and(|s| s.contains("#t=tl_")),
        )
        .await
        .as_str()
        .unwrap()
        .to_owned();
        assert!(link.starts_with(&format!("http://127.0.0.1:{port}/#t=tl_")), "{link}");
        assert_ne!(link, owner_link);
        eventually(
            "bob in the list",
            Duration::from_secs(10),
            || texts(&a, "[data-testid=share-link-row]"),
            |rows| rows.iter().any(|r| r.contains("bob") && r.contains("viewer")),
        )
        .await;

        // A second browser opens bob's link and sees the runs; it has no Share button.
        b.goto(&link).await?;
        b.wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("[data-testid=project-link]"))
            .await?
            .click()
            .await?;
        b.wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("[data-run-id=r1]"))
            .await?;
        let b_url = current_url(&b).await;
        assert!(!b_url.contains("#t=") && !b_url.contains("tl_"), "{b_url}");
        assert_eq!(count(&b, "[data-testid=share-button]").await, 0);
        assert_eq!(count(&b, "[data-testid=unauthorized-page]").await, 0);

        // The owner revokes it: bob's page says so within a few seconds.
        let clicked = js(
            &a,
            "const row = [...document.querySelectorAll('[data-testid=share-link-row]')]
                 .find(r => r.textContent.includes('bob'));
             const button = row && row.querySelector('[data-testid=share-revoke]');
             if (!button) return false;
             button.click();
             return true;",
            vec![],
        )
        .await;
        assert_eq!(clicked, json!(true));
        let title = eventually(
            "the 401 page in bob's browser",
            Duration::from_secs(5),
            || texts(&b, "[data-testid=unauthorized-title]"),
            |t| !t.is_empty(),
        )
        .await;
        assert_eq!(title, ["This share link was revoked or has expired"]);
        eventually(
            "bob's link shown revoked",
            Duration::from_secs(10),
            || texts(&a, "[data-testid=share-link-row]"),
            |rows| rows.iter().any(|r| r.contains("bob") && r.contains("revoked")),
        )
        .await;

        // A browser with no link at all is told to open the one it was given.
        b.delete_all_cookies().await?;
        b.goto(&format!("http://127.0.0.1:{port}/")).await?;
        let title = eventually(
            "the 401 page without a link",
            Duration::from_secs(20),
            || texts(&b, "[data-testid=unauthorized-title]"),
            |t| !t.is_empty(),
        )
        .await;
        assert_eq!(title, ["This Trackline needs a share link"]);
        let page = texts(&b, "[data-testid=unauthorized-page]").await.join(" ");
        assert!(page.contains("including the part after #"), "{page}");
        Ok::<(), fantoccini::error::CmdError>(())
    }
    .await;
    if result.is_err() {
        screenshot(&a, "share-ui-owner").await;
        screenshot(&b, "share-ui-viewer").await;
    }
    let _ = a.close().await;
    let _ = b.close().await;
    result.unwrap();
}
