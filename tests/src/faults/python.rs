//! Python clients (`python/trackline`) as child processes: a streaming script that logs until told
//! to stop, and one that logs until it is killed. Both log `loss = value_at(step)`.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// Logs 5 points every 10 ms until the file argv[2] exists, then finishes and says how many.
pub const UNTIL_STOPPED: &str = r#"
import os, sys, time, trackline
project, stop = sys.argv[1], sys.argv[2]
run = trackline.init(project=project, config={"scenario": project})
print("run", run.id, run.dir, flush=True)
i = 0
while not os.path.exists(stop):
    for _ in range(5):
        trackline.log({"loss": i * 0.5 + 0.25})
        i += 1
    time.sleep(0.01)
trackline.finish()
print("logged", i, flush=True)
"#;

/// Logs as fast as it can (a short pause every 5 points) until it is killed.
pub const UNTIL_KILLED: &str = r#"
import sys, time, trackline
run = trackline.init(project=sys.argv[1])
print("run", run.id, run.dir, flush=True)
i = 0
while True:
    trackline.log({"loss": i * 0.5 + 0.25})
    i += 1
    if i % 5 == 0:
        time.sleep(0.002)
"#;

/// Where a client writes: its own files only, or streaming to a daemon.
#[derive(Debug, Clone)]
pub enum Mode {
    Local,
    Remote { url: String, token: String },
}

/// A running Python client; killed when dropped.
#[derive(Debug)]
pub struct Client {
    pub child: Child,
    pub run_id: String,
    pub run_dir: PathBuf,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl Client {
    /// Starts `script` with `args`, writing run folders under `dir`; waits for its `run` line.
    pub async fn start(
        repo_root: &Path,
        dir: &Path,
        mode: &Mode,
        script: &str,
        args: &[&str],
        stderr: &Path,
    ) -> anyhow::Result<Client> {
        let mut cmd = Command::new("python3");
        cmd.arg("-c")
            .arg(script)
            .args(args)
            .env("PYTHONPATH", repo_root.join("python"))
            .env("PYTHONUNBUFFERED", "1")
            .env("TRACKLINE_DIR", dir)
            .env("TRACKLINE_DISABLE_SYSTEM", "1")
            .env("TRACKLINE_CONSOLE", "off")
            .env("TRACKLINE_UPLOAD_TIMEOUT", "120")
            .env_remove("TRACKLINE_URL")
            .env_remove("TRACKLINE_API_KEY")
            .env_remove("TRACKLINE_MODE")
            .env_remove("WANDB_MODE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(stderr)?,
            )
            .kill_on_drop(true);
        if let Mode::Remote { url, token } = mode {
            cmd.env("TRACKLINE_URL", url)
                .env("TRACKLINE_API_KEY", token);
        }
        let mut child = cmd.spawn().context("cannot start python3")?;
        let mut stdout = BufReader::new(child.stdout.take().context("no stdout")?).lines();
        let first = tokio::time::timeout(Duration::from_secs(60), stdout.next_line())
            .await
            .context("the Python client did not start within 60 s")??
            .with_context(|| {
                format!(
                    "the Python client exited before init(); see {}",
                    stderr.display()
                )
            })?;
        let mut parts = first.splitn(3, ' ');
        let (Some("run"), Some(id), Some(dir)) = (parts.next(), parts.next(), parts.next()) else {
            bail!("unexpected first line from the client: {first:?}");
        };
        Ok(Client {
            child,
            run_id: id.to_owned(),
            run_dir: PathBuf::from(dir),
            stdout,
        })
    }

    /// SIGKILL.
    pub async fn kill9(&mut self) {
        let _ = self.child.kill().await;
    }

    /// Waits for the `logged N` line of `UNTIL_STOPPED` and the exit.
    pub async fn logged(&mut self, timeout: Duration) -> anyhow::Result<u64> {
        let read = async {
            while let Some(line) = self.stdout.next_line().await? {
                if let Some(n) = line.strip_prefix("logged ") {
                    return Ok(n.trim().parse()?);
                }
            }
            bail!("the client exited without saying how much it logged")
        };
        let n = tokio::time::timeout(timeout, read)
            .await
            .context("the client did not finish in time")??;
        let status = self.child.wait().await?;
        anyhow::ensure!(status.success(), "the client exited with {status}");
        Ok(n)
    }

    pub fn history(&self) -> PathBuf {
        self.run_dir.join("history.jsonl")
    }
}

/// Whether `python3` can import the client at all.
pub fn available(repo_root: &Path) -> bool {
    std::process::Command::new("python3")
        .args(["-c", "import trackline"])
        .env("PYTHONPATH", repo_root.join("python"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
