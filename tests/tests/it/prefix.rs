//! The app served at `/` and under `/a/b/` (issue 9): directly, behind a reverse proxy that strips
//! the prefix and behind one that keeps it (`trackline_tests::proxy`, standing in for a tunnel).
//! In a real browser the runs page of a live run draws and stays live over its WebSocket, a deep
//! link survives a reload, no request leaves the prefix and nothing is logged as an error. Shared
//! through such a proxy (`serve --public-url http://…/a/b`), the printed links, the `#t=` trade
//! and the session cookie's `Path` carry the prefix.

use crate::common::*;
use crate::web::*;
use fantoccini::Client;
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use trackline_tests::proxy::{Mode, Proxy, ProxyListener};

const PREFIX: &str = "/a/b";
const WAIT: Duration = Duration::from_secs(30);
/// The loss chart of the runs page's workspace, and of the run page.
const RUNS_CHART: &str = "[data-testid=panel][data-key=loss] canvas[data-testid=chart]";
const RUN_CHART: &str = "canvas[data-testid=chart][data-key=loss]";

/// How the browser reaches the daemon.
struct Setup {
    name: &'static str,
    /// The daemon's `--base-path`, if any.
    base_path: Option<&'static str>,
    /// A proxy in front of it, if any.
    proxy: Option<Mode>,
    /// The path the browser opens pages under (the daemon may move it under its base path).
    open_under: &'static str,
    /// The path every request of the page must stay under.
    stay_under: &'static str,
}

const SETUPS: [Setup; 4] = [
    Setup {
        name: "direct at /",
        base_path: None,
        proxy: None,
        open_under: "",
        stay_under: "",
    },
    Setup {
        name: "behind a proxy that strips /a/b",
        base_path: Some(PREFIX),
        proxy: Some(Mode::Strip),
        open_under: PREFIX,
        stay_under: PREFIX,
    },
    Setup {
        name: "behind a proxy that keeps /a/b",
        base_path: Some(PREFIX),
        proxy: Some(Mode::Keep),
        open_under: PREFIX,
        stay_under: PREFIX,
    },
    Setup {
        name: "direct to a daemon under /a/b, opened without the prefix",
        base_path: Some(PREFIX),
        proxy: None,
        open_under: "",
        stay_under: PREFIX,
    },
];

async fn points(c: &Client, css: &str) -> u64 {
    attr(c, css, "data-points")
        .await
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn wait_points(c: &Client, css: &str, n: u64) {
    eventually("chart points", WAIT, || points(c, css), |&p| p >= n).await;
}

async fn ws_status(c: &Client) -> String {
    texts(c, "[data-testid=ws-status]")
        .await
        .into_iter()
        .next()
        .unwrap_or_default()
}

/// Every URL the page loaded (its resource entries) and its own address.
async fn page_urls(c: &Client) -> Vec<String> {
    let urls = js(
        c,
        "return performance.getEntriesByType('resource').map(e => e.name).concat([location.href]);",
        vec![],
    )
    .await;
    serde_json::from_value(urls).expect("a list of URLs")
}

/// Asserts every URL is under `origin_and_prefix` + `/`.
fn all_under(urls: &[String], origin_and_prefix: &str, what: &str) {
    let under = format!("{origin_and_prefix}/");
    let outside: Vec<&String> = urls.iter().filter(|u| !u.starts_with(&under)).collect();
    assert!(
        outside.is_empty(),
        "{what}: requests outside {under}: {outside:?}"
    );
}

/// The page that any setup serves at `stay_under`: its `<base href>` names the prefix.
async fn check_base_href(page_url: &str, prefix: &str) {
    let html = reqwest::get(page_url).await.unwrap().text().await.unwrap();
    let want = format!(r#"<base href="{prefix}/">"#);
    assert!(html.contains(&want), "{page_url} lacks {want}");
}

#[tokio::test]
async fn the_app_works_at_the_root_and_under_a_prefix_behind_stripping_and_keeping_proxies() {
    let driver = Driver::start();
    for setup in &SETUPS {
        let root = tempfile::tempdir().unwrap();
        let profile = tempfile::tempdir().unwrap();
        let mut run = RunWriter::create(root.path(), "p", "r1");
        run.log_rows(40, |s| (1.0 / (s as f64 + 1.0)).to_string());
        let args: Vec<&str> = setup
            .base_path
            .map(|base| vec!["--base-path", base])
            .unwrap_or_default();
        let d = Daemon::start_with(root.path(), &args);
        require_web(&d).await;
        let proxy = match setup.proxy {
            Some(mode) => Some(Proxy::start(d.port, PREFIX, mode).await.unwrap()),
            None => None,
        };
        let origin = match &proxy {
            Some(proxy) => proxy.url(""),
            None => d.url(""),
        };
        let open = format!("{origin}{}", setup.open_under);
        let stay = format!("{origin}{}", setup.stay_under);
        check_base_href(&format!("{stay}/"), setup.stay_under).await;

        let c = browser(&driver, profile.path()).await;
        let steps = async {
            // The runs page of a live run: the chart draws, the WebSocket is live and brings the
            // points logged after the page loaded.
            c.goto(&format!("{open}/projects/p")).await?;
            wait_points(&c, RUNS_CHART, 40).await;
            eventually("a live WebSocket", WAIT, || ws_status(&c), |s| s == "live").await;
            run.log_rows(25, |s| (1.0 / (s as f64 + 1.0)).to_string());
            wait_points(&c, RUNS_CHART, 65).await;
            let brand = attr(&c, "a.brand", "href").await.unwrap_or_default();
            assert_eq!(brand, format!("{}/", setup.stay_under), "{}", setup.name);
            all_under(&page_urls(&c).await, &stay, setup.name);

            // A deep link, and its reload.
            c.goto(&format!("{open}/projects/p/runs/r1")).await?;
            wait_points(&c, RUN_CHART, 65).await;
            c.refresh().await?;
            wait_points(&c, RUN_CHART, 65).await;
            let state = texts(&c, "[data-testid=run-state]").await;
            assert_eq!(
                state.first().map(String::as_str),
                Some("running"),
                "{}",
                setup.name
            );
            let path = js(&c, "return location.pathname;", vec![]).await;
            assert_eq!(
                path,
                json!(format!("{}/projects/p/runs/r1", setup.stay_under)),
                "{}",
                setup.name
            );
            eventually("a live WebSocket", WAIT, || ws_status(&c), |s| s == "live").await;
            all_under(&page_urls(&c).await, &stay, setup.name);
            assert_eq!(
                page_errors(&c, &driver).await,
                Vec::<String>::new(),
                "{}",
                setup.name
            );
            Ok::<(), fantoccini::error::CmdError>(())
        }
        .await;
        if steps.is_err() {
            screenshot(&c, "prefix").await;
        }
        let _ = c.close().await;
        steps.unwrap_or_else(|e| panic!("{}: {e}", setup.name));

        if let Some(proxy) = &proxy {
            // The proxy forwards only what is under its prefix (404 otherwise): everything the
            // page asked for, the WebSocket and the wasm module included, was under it.
            let paths = proxy.paths();
            let outside: Vec<&String> = paths
                .iter()
                .filter(|p| !p.starts_with(&format!("{PREFIX}/")))
                .collect();
            assert!(outside.is_empty(), "{}: {outside:?}", setup.name);
            for needed in [
                "/a/b/api/ws",
                "/a/b/assets/app_bg.wasm",
                "/a/b/assets/boot.js",
            ] {
                assert!(
                    paths.iter().any(|p| p == needed),
                    "{}: the proxy never saw {needed}: {paths:?}",
                    setup.name
                );
            }
        }
    }
}

/// Without a browser: the API and the WebSocket answer through both proxies, with and without the
/// prefix at the daemon, and the bare prefix is redirected to itself with a slash.
#[tokio::test]
async fn the_api_and_the_websocket_answer_through_both_proxies() {
    let root = tempfile::tempdir().unwrap();
    let mut run = RunWriter::create(root.path(), "p", "r1");
    run.log_rows(3, |s| s.to_string());
    let d = Daemon::start_with(root.path(), &["--base-path", "a/b/"]);
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // The daemon itself answers with and without the prefix.
    for path in ["/a/b/api/projects", "/api/projects"] {
        let projects = d.get_ok(path).await;
        assert_eq!(projects[0]["name"], "p", "{path}: {projects}");
    }
    for mode in [Mode::Strip, Mode::Keep] {
        let proxy = Proxy::start(d.port, PREFIX, mode).await.unwrap();
        let projects: Value = reqwest::get(proxy.url("/a/b/api/projects?x=1"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(projects[0]["name"], "p", "{mode:?}: {projects}");
        let outside = reqwest::get(proxy.url("/api/projects")).await.unwrap();
        assert_eq!(outside.status(), 404, "{mode:?}");

        let url = format!("ws://127.0.0.1:{}/a/b/api/ws", proxy.port);
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let hello = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a hello within 10 s")
            .unwrap()
            .unwrap();
        assert!(hello.to_text().unwrap().contains("hello"), "{hello:?}");

        let bare = no_redirects.get(proxy.url(PREFIX)).send().await.unwrap();
        match mode {
            // The daemon sees `/` and answers the page.
            Mode::Strip => assert_eq!(bare.status(), 200),
            Mode::Keep => {
                assert_eq!(bare.status(), 307);
                assert_eq!(bare.headers()["location"], "/a/b/");
            }
        }
        assert_eq!(
            proxy.paths(),
            ["/a/b/api/projects", "/api/projects", "/a/b/api/ws", "/a/b"],
            "{mode:?}"
        );
    }
}

/// A daemon whose public URL has a path can only be started with the same base path.
#[test]
fn public_urls_under_different_paths_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--port", "0", "--dir"])
        .arg(root.path())
        .args(["--public-url", "https://x.example/a/b"])
        .args(["--public-url", "https://y.example/c"])
        .env("TRACKLINE_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("one base path"), "{stderr}");
}

/// `serve --public-url http://127.0.0.1:<proxy>/a/b` behind a proxy that strips the prefix: the
/// links printed carry the prefix, the page trades the link's `#t=` through the proxy, and the
/// session cookie's `Path` is the prefix.
#[tokio::test]
async fn a_shared_daemon_behind_a_stripping_proxy_trades_its_link_under_the_prefix() {
    let root = tempfile::tempdir().unwrap();
    let profile = tempfile::tempdir().unwrap();
    let mut run = RunWriter::create(root.path(), "p", "r1");
    run.log_rows(30, |s| s.to_string());
    let listener = ProxyListener::bind().await.unwrap();
    let public = format!("http://127.0.0.1:{}{PREFIX}", listener.port);
    let mut child = Command::new(BIN)
        .args(["serve", "--port", "0", "--dir"])
        .arg(root.path())
        .args(["--public-url", &public])
        .env("TRACKLINE_LOG", "warn")
        .env_remove("TRACKLINE_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut printed = Vec::new();
    let deadline = Instant::now() + WAIT;
    while !printed
        .iter()
        .any(|l: &String| l.contains("the same through"))
    {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no link printed: {printed:?}"));
        printed.push(line);
    }
    let port: u16 = printed[0]
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .unwrap_or_else(|| panic!("no port in {printed:?}"));
    let d = Daemon { child, port };
    require_web(&d).await;
    let proxy = listener.start(d.port, PREFIX, Mode::Strip);

    let local = format!("http://127.0.0.1:{}{PREFIX}/", d.port);
    assert!(
        printed
            .iter()
            .any(|l| l.ends_with(&format!("under {local}"))),
        "{printed:?}"
    );
    let owner = printed
        .iter()
        .find(|l| l.contains("your owner link"))
        .expect("an owner link");
    assert!(owner.contains(&format!("{local}#t=tl_")), "{owner}");
    let through = printed.last().unwrap();
    let link = through.rsplit(": ").next().unwrap().to_owned();
    assert!(link.starts_with(&format!("{public}/#t=tl_")), "{through}");

    // Through the proxy, the API wants the link as it does directly.
    let refused = reqwest::get(proxy.url("/a/b/api/projects")).await.unwrap();
    assert_eq!(refused.status(), 401);

    let driver = Driver::start();
    let c = browser(&driver, profile.path()).await;
    let steps = async {
        c.goto(&link).await?;
        eventually(
            "the projects page",
            WAIT,
            || count(&c, "[data-testid=project-link]"),
            |&n| n == 1,
        )
        .await;
        let href = js(&c, "return location.href;", vec![]).await;
        assert_eq!(
            href,
            json!(format!("{public}/")),
            "the token left in the address bar"
        );
        let cookies = c.get_all_cookies().await?;
        let session = cookies
            .iter()
            .find(|k| k.name().starts_with("tl_session_"))
            .unwrap_or_else(|| panic!("no session cookie: {cookies:?}"));
        assert_eq!(session.path(), Some(PREFIX));
        assert_eq!(session.http_only(), Some(true));

        c.goto(&format!("{public}/projects/p/runs/r1")).await?;
        wait_points(&c, RUN_CHART, 30).await;
        eventually("a live WebSocket", WAIT, || ws_status(&c), |s| s == "live").await;
        all_under(&page_urls(&c).await, &public, "shared");
        assert_eq!(page_errors(&c, &driver).await, Vec::<String>::new());
        Ok::<(), fantoccini::error::CmdError>(())
    }
    .await;
    if steps.is_err() {
        screenshot(&c, "prefix-shared").await;
    }
    let _ = c.close().await;
    steps.expect("browser steps");

    let paths = proxy.paths();
    assert!(
        paths.iter().all(|p| p.starts_with(&format!("{PREFIX}/"))),
        "{paths:?}"
    );
    for needed in ["/a/b/api/session", "/a/b/api/ws"] {
        assert!(paths.iter().any(|p| p == needed), "{needed}: {paths:?}");
    }
}
