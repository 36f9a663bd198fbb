//! `trackline serve --share cloudflared|ngrok|ssh:HOST` against fake tools: small scripts put first
//! on `PATH` that print what the real ones print (and forward nothing). The daemon takes the URL
//! as a public URL (sharing on, its Host allowed), prints the owner link through it, opens it with
//! `--open`, stops the tool with itself (also after `kill -9`), and refuses to start with a clear
//! error when the tool is missing, fails, or prints no URL.

use crate::common::BIN;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// cloudflared's quick-tunnel log, as it writes it to stderr.
const CLOUDFLARED: &str = r#"cat >&2 <<'EOF'
2026-08-31T12:00:00Z INF Thank you for trying Cloudflare Tunnel. Doing so, without a Cloudflare account, is a quick way to experiment and try it out. However, be aware that these account-less Tunnels have no uptime guarantee. If you intend to use Tunnels in production you should use a pre-created named tunnel by following: https://developers.cloudflare.com/cloudflare-one/connections/connect-apps
2026-08-31T12:00:00Z INF Requesting new quick Tunnel on trycloudflare.com...
2026-08-31T12:00:01Z INF +--------------------------------------------------------------------------------------------+
2026-08-31T12:00:01Z INF |  Your quick Tunnel has been created! Visit it at (it may take some time to be reachable):  |
2026-08-31T12:00:01Z INF |  https://seasonal-ride-brief-hobbies.trycloudflare.com                                     |
2026-08-31T12:00:01Z INF +--------------------------------------------------------------------------------------------+
2026-08-31T12:00:01Z INF Version 2026.8.0 (Checksum 0123)
EOF
"#;

/// ngrok's JSON log on stdout (`--log stdout --log-format json`).
const NGROK: &str = r#"cat <<'EOF'
{"lvl":"info","msg":"no configuration paths supplied","t":"2026-09-30T02:40:00Z"}
{"addr":"127.0.0.1:4040","lvl":"info","msg":"starting web service","obj":"web","t":"2026-09-30T02:40:00Z"}
{"addr":"http://127.0.0.1:9","lvl":"info","msg":"started tunnel","name":"command_line","obj":"tunnels","t":"2026-09-30T02:40:01Z","url":"https://ab12-203-0-113-7.ngrok-free.app"}
EOF
"#;

/// localhost.run's banner, as `ssh -R 80:… nokey@localhost.run` prints it.
const LOCALHOST_RUN: &str = r#"cat <<'EOF'
===============================================================================
Welcome to localhost.run!

To set up and manage custom domains go to https://admin.localhost.run/

To explore using localhost.run visit the documentation site:
https://localhost.run/docs/

===============================================================================

** your connection id is 1a2b, please mention it if you send me a message about an issue. **

3f2a9c0e1d.lhr.life tunneled with tls termination, https://3f2a9c0e1d.lhr.life
EOF
"#;

/// A folder of fake tools; each records its pid and arguments, prints `output` and then waits
/// (forwarding nothing) unless `tail` says otherwise.
struct Fakes {
    dir: tempfile::TempDir,
}

impl Fakes {
    fn new() -> Fakes {
        Fakes {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn add(&self, name: &str, output: &str, tail: &str) {
        let path = self.dir.path().join(name);
        let pid = self.dir.path().join(format!("{name}.pid"));
        let args = self.dir.path().join(format!("{name}.args"));
        let script = format!(
            "#!/bin/sh\necho $$ > '{}'\necho \"$@\" > '{}'\n{output}{tail}\n",
            pid.display(),
            args.display()
        );
        std::fs::write(&path, script).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn pid(&self, name: &str) -> u32 {
        let path = self.dir.path().join(format!("{name}.pid"));
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Ok(text) = std::fs::read_to_string(&path)
                && let Ok(pid) = text.trim().parse()
            {
                return pid;
            }
            assert!(Instant::now() < deadline, "{name} never ran");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn args(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{name}.args")))
            .unwrap()
            .trim()
            .to_owned()
    }

    /// `PATH` with the fakes first.
    fn path(&self) -> std::ffi::OsString {
        let mut dirs = vec![self.dir.path().to_owned()];
        dirs.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        std::env::join_paths(dirs).unwrap()
    }
}

/// Waits until no process `pid` exists (reaped), or panics.
fn wait_gone(pid: u32, within: Duration) {
    let deadline = Instant::now() + within;
    while Path::new(&format!("/proc/{pid}")).exists() {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // A zombie has exited; only its parent has not reaped it yet.
        if state.split(") ").nth(1).is_some_and(|s| s.starts_with('Z')) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the tunnel tool (pid {pid}) outlived the daemon"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A `trackline serve --share …` process and the lines it printed up to the owner link through
/// the tunnel.
struct Shared {
    child: Child,
    port: u16,
    lines: Vec<String>,
}

impl Shared {
    fn start(dir: &Path, path: &std::ffi::OsStr, extra: &[&str], env: &[(&str, &Path)]) -> Shared {
        let mut command = Command::new(BIN);
        command
            .args(["serve", "--port", "0", "--dir"])
            .arg(dir)
            .args(extra)
            .env("PATH", path)
            .env("TRACKLINE_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("spawn the daemon");
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let n = reader.read_line(&mut line).unwrap();
            assert!(n > 0, "the daemon's output ended: {lines:?}");
            lines.push(line.trim_end().to_owned());
            if line.contains("the same through") {
                break;
            }
        }
        let port = lines[0]
            .rsplit(':')
            .next()
            .and_then(|p| p.trim_end_matches('/').parse().ok())
            .unwrap_or_else(|| panic!("no port in {lines:?}"));
        // Keep reading (and dropping) the rest so the daemon never blocks on a full pipe.
        std::thread::spawn(move || for _ in reader.lines() {});
        Shared { child, port, lines }
    }

    /// The owner link's token, from the line through `public`.
    fn owner_token(&self, public: &str) -> String {
        let line = self
            .lines
            .iter()
            .find(|l| l.contains(&format!("the same through {public}: {public}/#t=tl_")))
            .unwrap_or_else(|| panic!("no owner link through {public}: {:?}", self.lines));
        line.rsplit("#t=").next().unwrap().to_owned()
    }

    fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `trackline serve --share …` that must fail: its exit status and what it wrote to stderr.
fn serve_failing(dir: &Path, path: &std::ffi::OsStr, extra: &[&str]) -> (bool, String) {
    let out = Command::new(BIN)
        .args(["serve", "--port", "0", "--dir"])
        .arg(dir)
        .args(extra)
        .env("PATH", path)
        .env("TRACKLINE_LOG", "warn")
        .output()
        .expect("run the daemon");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn get(port: u16, path: &str, host: &str, token: Option<&str>) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}{path}"))
        .header("host", host);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let resp = request.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or_default())
}

#[tokio::test]
async fn cloudflared_s_url_becomes_a_public_url_with_the_owner_link_and_the_tool_dies_with_the_daemon()
 {
    let root = tempfile::tempdir().unwrap();
    let fakes = Fakes::new();
    fakes.add("cloudflared", CLOUDFLARED, "exec sleep 300");
    let opened = root.path().join("opened");
    let browser = fakes.dir.path().join("browser");
    std::fs::write(
        &browser,
        format!("#!/bin/sh\nprintf '%s' \"$1\" > '{}'\n", opened.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();

    let d = Shared::start(
        root.path(),
        &fakes.path(),
        &["--share", "cloudflared", "--open"],
        &[("BROWSER", &browser)],
    );
    let public = "https://seasonal-ride-brief-hobbies.trycloudflare.com";
    assert_eq!(
        fakes.args("cloudflared"),
        format!("tunnel --url http://127.0.0.1:{} --no-autoupdate", d.port)
    );
    let token = d.owner_token(public);
    let local = format!("http://127.0.0.1:{}/#t={token}", d.port);
    assert!(
        d.lines
            .iter()
            .any(|l| l.contains("your owner link") && l.ends_with(&local)),
        "{:?}",
        d.lines
    );

    // Sharing is on: the tunnel's Host is allowed with a link, nothing works without one, and a
    // foreign Host is refused.
    let tunnel_host = "seasonal-ride-brief-hobbies.trycloudflare.com";
    let (status, me) = get(d.port, "/api/me", tunnel_host, Some(&token)).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["scope"], "owner");
    assert_eq!(me["sharing"], true);
    assert_eq!(me["public_urls"], serde_json::json!([public]));
    assert_eq!(get(d.port, "/api/projects", tunnel_host, None).await.0, 401);
    assert_eq!(
        get(d.port, "/api/projects", "evil.example", Some(&token))
            .await
            .0,
        403
    );

    // `trackline share` meanwhile hands out links through the tunnel, not the loopback address.
    let made = Command::new(BIN)
        .args(["share", "--label", "bob", "--dir"])
        .arg(root.path())
        .env("TRACKLINE_LOG", "warn")
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let made = String::from_utf8(made.stdout).unwrap();
    let first = made.lines().find(|l| l.contains("#t=")).unwrap();
    assert!(first.starts_with(&format!("{public}/#t=tl_")), "{made}");

    // `--open` handed the local owner link to $BROWSER.
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::fs::read_to_string(&opened).unwrap_or_default() != local {
        assert!(
            Instant::now() < deadline,
            "the browser was not opened with {local}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // kill -9 of the daemon: the tool goes too.
    let tool = fakes.pid("cloudflared");
    let mut d = d;
    d.child.kill().unwrap();
    d.child.wait().unwrap();
    wait_gone(tool, Duration::from_secs(5));
}

#[tokio::test]
async fn ngrok_s_json_log_gives_the_url_and_ctrl_c_stops_the_tool() {
    let root = tempfile::tempdir().unwrap();
    let fakes = Fakes::new();
    // A tool that ignores TERM is killed all the same.
    fakes.add("ngrok", NGROK, "trap '' TERM\nwhile :; do sleep 1; done");
    let mut d = Shared::start(root.path(), &fakes.path(), &["--share", "ngrok"], &[]);
    assert_eq!(
        fakes.args("ngrok"),
        format!("http 127.0.0.1:{} --log stdout --log-format json", d.port)
    );
    let token = d.owner_token("https://ab12-203-0-113-7.ngrok-free.app");
    let (status, _) = get(
        d.port,
        "/api/projects",
        "ab12-203-0-113-7.ngrok-free.app",
        Some(&token),
    )
    .await;
    assert_eq!(status, 200);

    let tool = fakes.pid("ngrok");
    d.signal("INT");
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = d.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the daemon did not stop on Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    wait_gone(tool, Duration::from_secs(2));
}

#[tokio::test]
async fn ssh_to_localhost_run_gives_its_https_url_and_the_owner_link_is_stable() {
    let root = tempfile::tempdir().unwrap();
    let fakes = Fakes::new();
    fakes.add("ssh", LOCALHOST_RUN, "exec sleep 300");
    let public = "https://3f2a9c0e1d.lhr.life";
    let first = {
        let d = Shared::start(
            root.path(),
            &fakes.path(),
            &["--share", "ssh:nokey@localhost.run"],
            &[],
        );
        let args = fakes.args("ssh");
        assert!(
            args.ends_with(&format!("-R 80:127.0.0.1:{} nokey@localhost.run", d.port)),
            "{args}"
        );
        assert!(args.contains("BatchMode=yes"), "{args}");
        d.owner_token(public)
    };
    // The same owner link on the next start, not a second one.
    let d = Shared::start(
        root.path(),
        &fakes.path(),
        &["--share", "ssh:nokey@localhost.run"],
        &[],
    );
    assert_eq!(d.owner_token(public), first);
}

#[test]
fn a_missing_failing_or_silent_tool_stops_the_daemon_with_a_clear_error() {
    let root = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let nothing = std::env::join_paths([empty.path()]).unwrap();
    let (ok, err) = serve_failing(root.path(), &nothing, &["--share", "cloudflared"]);
    assert!(!ok);
    assert!(err.contains("`cloudflared` is not installed"), "{err}");
    assert!(err.contains("never downloads"), "{err}");
    assert!(err.contains("--public-url"), "{err}");

    let fakes = Fakes::new();
    fakes.add(
        "ngrok",
        r#"echo '{"lvl":"eror","msg":"command failed","err":"authentication failed: Usage of ngrok requires a verified account and authtoken."}'"#,
        "\nexit 1",
    );
    let (ok, err) = serve_failing(root.path(), &fakes.path(), &["--share", "ngrok"]);
    assert!(!ok);
    assert!(err.contains("`ngrok` exited"), "{err}");
    assert!(err.contains("authentication failed"), "{err}");

    fakes.add("cloudflared", "", "exec sleep 300");
    let started = Instant::now();
    let (ok, err) = serve_failing(
        root.path(),
        &fakes.path(),
        &["--share", "cloudflared", "--share-timeout-secs", "1"],
    );
    assert!(!ok);
    assert!(err.contains("printed no public URL within 1 s"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
    wait_gone(fakes.pid("cloudflared"), Duration::from_secs(5));

    let (ok, err) = serve_failing(
        root.path(),
        &fakes.path(),
        &["--share", "ssh:-oProxyCommand=x"],
    );
    assert!(!ok);
    assert!(err.contains("ssh:HOST"), "{err}");
}
