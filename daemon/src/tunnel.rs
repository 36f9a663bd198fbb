//! `serve --share cloudflared|ngrok|ssh:HOST`: starts the tunnel tool installed on this machine
//! (never downloads one), reads the public URL it prints, and hands it to the daemon as one more
//! public URL (sharing mode, Host allow-list, Origin checks). What each tool is asked and where its
//! URL is found:
//!
//! | tool | command | the URL |
//! |---|---|---|
//! | `cloudflared` | `cloudflared tunnel --url http://127.0.0.1:PORT --no-autoupdate` | its log on stderr: a box around `https://<words>.trycloudflare.com` |
//! | `ngrok` | `ngrok http 127.0.0.1:PORT --log stdout --log-format json` | the JSON line `{"msg":"started tunnel", …, "url":"https://…"}` |
//! | `ssh:HOST` | `ssh -T -o BatchMode=yes -o ExitOnForwardFailure=yes -o ServerAliveInterval=30 -R 80:127.0.0.1:PORT HOST` | the first `https://<host>` with no path it prints (localhost.run: `… tunneled with tls termination, https://<id>.lhr.life`; serveo: `Forwarding HTTP traffic from https://…`) |
//!
//! The tool runs under a small `sh` watchdog whose standard input is a pipe only the daemon holds:
//! when the daemon ends, however it ends (also `kill -9`), the pipe closes and the watchdog stops
//! the tool (TERM, then KILL after 3 s). Nothing unsafe (no `pre_exec`) is needed for that, and the
//! watchdog is in its own process group, so a Ctrl-C reaches the daemon, which then stops the tool
//! itself. The tool's output is read line by line (at most [`MAX_LINE_BYTES`] a line), kept (the
//! last [`KEPT_LINES`]) to explain a failure, and logged at debug level.

use crate::auth::sharing::PublicUrl;
use anyhow::{Context, anyhow};
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::{oneshot, watch};

/// How long a tool may take to print its public URL, unless `--share-timeout-secs` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest line of a tool's output read as one line (a longer one is cut).
pub const MAX_LINE_BYTES: u64 = 16 * 1024;
/// Lines of a tool's output kept to explain why it failed.
pub const KEPT_LINES: usize = 12;
/// How long a stopping tool may take to exit before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Runs `"$@"` (the tool) and stops it when this shell's standard input closes: that is the
/// daemon's pipe, closed when the daemon ends in any way. Exits with the tool's status.
const WATCHDOG: &str = r#"exec 3<&0
"$@" <&3 3<&- &
tool=$!
(
  exec >/dev/null 2>&1
  while read -r _; do :; done
  kill -TERM "$tool"
  sleep 3
  kill -KILL "$tool"
) <&3 3<&- &
watcher=$!
exec 3<&-
wait "$tool"
status=$?
kill "$watcher" 2>/dev/null
exit "$status"
"#;

/// A tunnel tool `serve --share` can start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provider {
    Cloudflared,
    Ngrok,
    /// `ssh -R` to a host that prints an https URL (localhost.run, serveo, your own).
    Ssh {
        host: String,
    },
}

impl std::str::FromStr for Provider {
    type Err = String;

    fn from_str(text: &str) -> Result<Provider, String> {
        match text {
            "cloudflared" => Ok(Provider::Cloudflared),
            "ngrok" => Ok(Provider::Ngrok),
            _ => match text.strip_prefix("ssh:") {
                Some(host)
                    if !host.is_empty()
                        && !host.starts_with('-')
                        && !host.contains(|c: char| c.is_whitespace() || c.is_control()) =>
                {
                    Ok(Provider::Ssh {
                        host: host.to_owned(),
                    })
                }
                Some(_) => Err(format!(
                    "'{text}': ssh:HOST needs a host (e.g. ssh:nokey@localhost.run), not starting \
                     with '-' and without spaces"
                )),
                None => Err(format!(
                    "'{text}' is not a tunnel: use cloudflared, ngrok or ssh:HOST"
                )),
            },
        }
    }
}

impl Provider {
    /// The program run.
    pub fn program(&self) -> &'static str {
        match self {
            Provider::Cloudflared => "cloudflared",
            Provider::Ngrok => "ngrok",
            Provider::Ssh { .. } => "ssh",
        }
    }

    /// Its arguments, to forward to `target`.
    pub fn args(&self, target: SocketAddr) -> Vec<String> {
        let port = target.port();
        let ip = target.ip();
        match self {
            Provider::Cloudflared => vec![
                "tunnel".into(),
                "--url".into(),
                format!("http://{target}"),
                "--no-autoupdate".into(),
            ],
            Provider::Ngrok => vec![
                "http".into(),
                target.to_string(),
                "--log".into(),
                "stdout".into(),
                "--log-format".into(),
                "json".into(),
            ],
            Provider::Ssh { host } => vec![
                "-T".into(),
                "-o".into(),
                "BatchMode=yes".into(),
                "-o".into(),
                "ExitOnForwardFailure=yes".into(),
                "-o".into(),
                "ServerAliveInterval=30".into(),
                "-R".into(),
                match ip {
                    std::net::IpAddr::V6(v6) => format!("80:[{v6}]:{port}"),
                    std::net::IpAddr::V4(v4) => format!("80:{v4}:{port}"),
                },
                host.clone(),
            ],
        }
    }

    /// How to install it, for the error when it is missing.
    pub fn install_hint(&self) -> &'static str {
        match self {
            Provider::Cloudflared => {
                "install it from https://developers.cloudflare.com/cloudflare-one/connections/\
                 connect-networks/downloads/ (e.g. `brew install cloudflared`, or the .deb/.rpm of \
                 its GitHub releases)"
            }
            Provider::Ngrok => {
                "install it from https://ngrok.com/download and run `ngrok config add-authtoken \
                 <token>` once"
            }
            Provider::Ssh { .. } => "install an OpenSSH client (e.g. `apt install openssh-client`)",
        }
    }

    /// The public URL a line of the tool's output announces, if it does.
    pub fn url_in(&self, line: &str) -> Option<String> {
        match self {
            Provider::Cloudflared => https_hosts(line)
                .find(|(host, _)| host.ends_with(".trycloudflare.com"))
                .map(|(host, _)| format!("https://{host}")),
            Provider::Ngrok => ngrok_url(line),
            Provider::Ssh { .. } => https_hosts(line)
                .find(|(host, bare)| *bare && host.contains('.'))
                .map(|(host, _)| format!("https://{host}")),
        }
    }
}

/// Each `https://host` in `line`, with whether the URL ends at the host (no path, not even `/`).
fn https_hosts(line: &str) -> impl Iterator<Item = (&str, bool)> {
    line.match_indices("https://").map(move |(at, scheme)| {
        let rest = &line[at + scheme.len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
            .unwrap_or(rest.len());
        let host = rest[..end].trim_end_matches('.');
        let after = rest[end..].chars().next();
        let bare = matches!(after, None | Some(' ' | '\t' | ',' | ';' | ')' | '"' | '|'));
        (host, bare && !host.is_empty())
    })
}

/// The `url` of ngrok's `started tunnel` log record, in JSON (`--log-format json`) or logfmt.
fn ngrok_url(line: &str) -> Option<String> {
    let line = line.trim();
    if line.starts_with('{') {
        let record: serde_json::Value = serde_json::from_str(line).ok()?;
        if record.get("msg")?.as_str()? != "started tunnel" {
            return None;
        }
        let url = record.get("url")?.as_str()?;
        return url.starts_with("https://").then(|| url.to_owned());
    }
    if !line.contains(r#"msg="started tunnel""#) {
        return None;
    }
    let url = line
        .split_whitespace()
        .find_map(|f| f.strip_prefix("url="))?;
    url.starts_with("https://").then(|| url.to_owned())
}

/// The program's path: `name` itself if it has a `/`, else the first executable file called
/// `name` in a folder of `PATH`.
pub fn find_program(name: &str, path_var: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    let executable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                m.is_file() && m.permissions().mode() & 0o111 != 0
            }
            #[cfg(not(unix))]
            {
                m.is_file()
            }
        })
    };
    if name.contains('/') {
        let p = PathBuf::from(name);
        return executable(&p).then_some(p);
    }
    std::env::split_paths(path_var?)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(name))
        .find(|p| executable(p))
}

/// Where `provider`'s tool is installed; an error saying how to install it when it is not.
pub fn installed(provider: &Provider) -> anyhow::Result<PathBuf> {
    let name = provider.program();
    find_program(name, std::env::var_os("PATH").as_deref()).ok_or_else(|| {
        anyhow!(
            "--share {name}: `{name}` is not installed (not found on PATH); {}. Trackline never \
             downloads a tunnel tool. Or run a tunnel yourself and pass its address with \
             --public-url",
            provider.install_hint()
        )
    })
}

/// A running tunnel tool and the public URL it reported.
#[derive(Debug)]
pub struct Tunnel {
    url: PublicUrl,
    program: &'static str,
    /// The watchdog's standard input: dropping it stops the tool.
    stdin: Option<ChildStdin>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Tunnel {
    /// Starts `provider`'s tool to forward to `target` and waits up to `timeout` for its public
    /// URL. Fails with a message naming the tool when it is not installed, exits, prints an error,
    /// or prints no URL in time (then it is stopped).
    pub async fn start(
        provider: &Provider,
        target: SocketAddr,
        timeout: Duration,
    ) -> anyhow::Result<Tunnel> {
        let name = provider.program();
        let program = installed(provider)?;
        let target = match target.ip() {
            ip if ip.is_unspecified() && ip.is_ipv4() => {
                SocketAddr::from(([127, 0, 0, 1], target.port()))
            }
            ip if ip.is_unspecified() => {
                SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, target.port()))
            }
            _ => target,
        };
        let mut command = Command::new("/bin/sh");
        command
            .arg("-c")
            .arg(WATCHDOG)
            .arg("trackline-tunnel")
            .arg(&program)
            .args(provider.args(target))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        #[cfg(unix)]
        command.process_group(0);
        let mut child = command
            .spawn()
            .with_context(|| format!("--share {name}: cannot start {}", program.display()))?;
        tracing::info!(
            tool = name,
            "started the tunnel tool; waiting for its public URL"
        );
        let stdin = child.stdin.take();
        let kept = Arc::new(Mutex::new(VecDeque::with_capacity(KEPT_LINES)));
        let (found_tx, mut found) = watch::channel(None::<String>);
        let found_tx = Arc::new(found_tx);
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            readers.push(tokio::spawn(read_lines(
                out,
                provider.clone(),
                kept.clone(),
                found_tx.clone(),
            )));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(tokio::spawn(read_lines(
                err,
                provider.clone(),
                kept.clone(),
                found_tx.clone(),
            )));
        }
        let explain = |what: String| {
            let lines: Vec<String> = kept.lock().iter().cloned().collect();
            if lines.is_empty() {
                anyhow!("--share {name}: {what}; it printed nothing")
            } else {
                anyhow!(
                    "--share {name}: {what}; its last output:\n  {}",
                    lines.join("\n  ")
                )
            }
        };
        let waited = tokio::time::timeout(timeout, async {
            tokio::select! {
                url = found.wait_for(Option::is_some) => Ok(url.ok().and_then(|u| u.clone())),
                status = child.wait() => Err(status),
            }
        })
        .await;
        let url = match waited {
            Ok(Ok(Some(url))) => url,
            Ok(Ok(None)) => {
                let _ = child.kill().await;
                return Err(explain(
                    "its output ended before it printed a public URL".into(),
                ));
            }
            Ok(Err(status)) => {
                // Let the readers take the last lines it wrote.
                for reader in readers {
                    let _ = tokio::time::timeout(Duration::from_secs(1), reader).await;
                }
                return Err(explain(match status {
                    Ok(status) => {
                        format!("`{name}` exited ({status}) before it printed a public URL")
                    }
                    Err(e) => format!("cannot wait for `{name}`: {e}"),
                }));
            }
            Err(_) => {
                drop(stdin);
                let _ = child.kill().await;
                return Err(explain(format!(
                    "`{name}` printed no public URL within {} s (raise it with \
                     --share-timeout-secs)",
                    timeout.as_secs()
                )));
            }
        };
        let url = PublicUrl::parse(&url)
            .map_err(|e| anyhow!("--share {name}: it printed a URL that is no public URL: {e}"))?;
        tracing::info!(tool = name, url = %url.url, "the tunnel is up");
        let (stop_tx, stop_rx) = oneshot::channel();
        let task = tokio::spawn(watch_tool(child, name, url.url.clone(), stop_rx));
        Ok(Tunnel {
            url,
            program: name,
            stdin,
            stop: Some(stop_tx),
            task: Some(task),
        })
    }

    /// The public URL the tool reported.
    pub fn url(&self) -> &PublicUrl {
        &self.url
    }

    /// Stops the tool and waits for it (killed after a few seconds).
    pub async fn stop(mut self) {
        drop(self.stdin.take());
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        tracing::info!(tool = self.program, "stopped the tunnel");
    }
}

/// Waits for the tool: reports it if it stops by itself; stops it when told to.
async fn watch_tool(
    mut child: Child,
    name: &'static str,
    url: String,
    stop: oneshot::Receiver<()>,
) {
    tokio::select! {
        status = child.wait() => report_exit(name, &url, status),
        _ = stop => {
            if tokio::time::timeout(STOP_GRACE, child.wait()).await.is_err() {
                let _ = child.kill().await;
            }
        }
    }
}

fn report_exit(name: &str, url: &str, status: std::io::Result<ExitStatus>) {
    match status {
        Ok(status) => tracing::warn!(
            "the tunnel ({name}) stopped ({status}): {url} no longer reaches this daemon; the \
             local address still works"
        ),
        Err(e) => tracing::warn!("cannot wait for the tunnel ({name}): {e}"),
    }
}

/// Reads the tool's lines: keeps the last few, logs them at debug level, and reports the first
/// public URL.
async fn read_lines(
    stream: impl AsyncRead + Unpin,
    provider: Provider,
    kept: Arc<Mutex<VecDeque<String>>>,
    found: Arc<watch::Sender<Option<String>>>,
) {
    let mut reader = BufReader::new(stream);
    let mut bytes = Vec::new();
    loop {
        bytes.clear();
        match (&mut reader)
            .take(MAX_LINE_BYTES)
            .read_until(b'\n', &mut bytes)
            .await
        {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let line = String::from_utf8_lossy(&bytes);
        let line = line.trim_end();
        if line.is_empty() {
            continue;
        }
        tracing::debug!(tool = provider.program(), "{line}");
        {
            let mut kept = kept.lock();
            if kept.len() == KEPT_LINES {
                kept.pop_front();
            }
            kept.push_back(line.to_owned());
        }
        if let Some(url) = provider.url_in(line) {
            found.send_if_modified(|now| {
                let first = now.is_none();
                if first {
                    *now = Some(url);
                }
                first
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tunnels_parse_from_the_flag() {
        assert_eq!("cloudflared".parse(), Ok(Provider::Cloudflared));
        assert_eq!("ngrok".parse(), Ok(Provider::Ngrok));
        assert_eq!(
            "ssh:nokey@localhost.run".parse(),
            Ok(Provider::Ssh {
                host: "nokey@localhost.run".into()
            })
        );
        for bad in ["ssh:", "ssh:-oProxyCommand=x", "ssh:a b", "tailscale", ""] {
            assert!(bad.parse::<Provider>().is_err(), "{bad}");
        }
        let target: SocketAddr = "127.0.0.1:9000".parse().unwrap();
        assert_eq!(
            Provider::Cloudflared.args(target),
            [
                "tunnel",
                "--url",
                "http://127.0.0.1:9000",
                "--no-autoupdate"
            ]
        );
        assert_eq!(
            Provider::Ngrok.args(target)[..2],
            ["http".to_owned(), "127.0.0.1:9000".to_owned()]
        );
        let ssh = Provider::Ssh { host: "h".into() }.args(target);
        assert_eq!(
            ssh[ssh.len() - 2..],
            ["80:127.0.0.1:9000".to_owned(), "h".to_owned()]
        );
    }

    #[test]
    fn cloudflared_urls_are_found_in_its_banner_only() {
        let p = Provider::Cloudflared;
        // cloudflared's quick-tunnel log, as it writes it to stderr.
        let log = "\
2026-08-31T12:00:00Z INF Thank you for trying Cloudflare Tunnel. Doing so, without a Cloudflare account, is a quick way to experiment and try it out. However, be aware that these account-less Tunnels have no uptime guarantee, are subject to the Cloudflare Online Services Terms of Use (https://www.cloudflare.com/website-terms/), and Cloudflare reserves the right to investigate your use of Tunnels for violations of such terms. If you intend to use Tunnels in production you should use a pre-created named tunnel by following: https://developers.cloudflare.com/cloudflare-one/connections/connect-apps
2026-08-31T12:00:00Z INF Requesting new quick Tunnel on trycloudflare.com...
2026-08-31T12:00:01Z INF +--------------------------------------------------------------------------------------------+
2026-08-31T12:00:01Z INF |  Your quick Tunnel has been created! Visit it at (it may take some time to be reachable):  |
2026-08-31T12:00:01Z INF |  https://seasonal-ride-brief-hobbies.trycloudflare.com                                     |
2026-08-31T12:00:01Z INF +--------------------------------------------------------------------------------------------+";
        let urls: Vec<String> = log.lines().filter_map(|l| p.url_in(l)).collect();
        assert_eq!(
            urls,
            ["https://seasonal-ride-brief-hobbies.trycloudflare.com"]
        );
    }

    #[test]
    fn ngrok_urls_come_from_its_started_tunnel_record() {
        let p = Provider::Ngrok;
        let log = [
            r#"{"lvl":"info","msg":"no configuration paths supplied","t":"2026-09-30T02:40:00Z"}"#,
            r#"{"addr":"127.0.0.1:4040","lvl":"info","msg":"starting web service","obj":"web","t":"2026-09-30T02:40:00Z"}"#,
            r#"{"addr":"http://127.0.0.1:9000","lvl":"info","msg":"started tunnel","name":"command_line","obj":"tunnels","t":"2026-09-30T02:40:01Z","url":"https://ab12-203-0-113-7.ngrok-free.app"}"#,
        ];
        let urls: Vec<String> = log.iter().filter_map(|l| p.url_in(l)).collect();
        assert_eq!(urls, ["https://ab12-203-0-113-7.ngrok-free.app"]);
        assert_eq!(
            p.url_in(r#"t=2026-09-30T02:40:01+0000 lvl=info msg="started tunnel" obj=tunnels url=https://x.ngrok.app"#),
            Some("https://x.ngrok.app".into())
        );
        assert_eq!(
            p.url_in(r#"{"lvl":"eror","msg":"failed to start tunnel","err":"see https://ngrok.com/docs"}"#),
            None
        );
        assert_eq!(p.url_in("not json https://x.ngrok.app"), None);
    }

    #[test]
    fn ssh_urls_are_the_first_bare_https_host() {
        let p = Provider::Ssh {
            host: "nokey@localhost.run".into(),
        };
        let banner = "\
===============================================================================
Welcome to localhost.run!

Follow your favourite reverse tunnel at [https://twitter.com/localhost_run].

To set up and manage custom domains go to https://admin.localhost.run/

More details on custom domains (and how to enable subdomains of your custom
domain) at https://localhost.run/docs/custom-domains

To explore using localhost.run visit the documentation site:
https://localhost.run/docs/

===============================================================================

** your connection id is 1a2b, please mention it if you send me a message about an issue. **

3f2a9c0e1d.lhr.life tunneled with tls termination, https://3f2a9c0e1d.lhr.life";
        let urls: Vec<String> = banner.lines().filter_map(|l| p.url_in(l)).collect();
        assert_eq!(urls, ["https://3f2a9c0e1d.lhr.life"]);
        assert_eq!(
            p.url_in("Forwarding HTTP traffic from https://abc.serveo.net"),
            Some("https://abc.serveo.net".into())
        );
        assert_eq!(p.url_in("see https://localhost"), None);
    }

    #[test]
    fn programs_are_found_on_the_path_only_when_executable() {
        let dir = tempfile::tempdir().unwrap();
        let tool = dir.path().join("cloudflared");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        let path = std::env::join_paths([dir.path()]).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(find_program("cloudflared", Some(&path)), None);
            std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        assert_eq!(find_program("cloudflared", Some(&path)), Some(tool));
        assert_eq!(find_program("ngrok", Some(&path)), None);
        assert_eq!(find_program("ngrok", None), None);
    }
}
