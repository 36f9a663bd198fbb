//! `disk-full`: a daemon whose data dir is a 16 MiB tmpfs, under remote ingest until the disk
//! fills; then space is freed and the writers resume. Nothing acknowledged may be lost; the
//! answers the writers got during the full window are counted by status.

use crate::daemon::Daemon;
use crate::faults::Settings;
use crate::faults::ledger::{self, Tally};
use crate::faults::outcome::{Outcome, Verdict};
use crate::faults::python::{self, Client, Mode};
use crate::faults::writer::{Push, RemoteWriter, statuses_line};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const PROJECT: &str = "disk-full";
const WRITERS: usize = 3;

/// A tmpfs mounted for the scenario, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(at).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=16m", "tmpfs"])
            .arg(at)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if out.status.success() {
            Ok(Tmpfs(at.to_owned()))
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// One round of pushes from every writer that has something pending; true when any got a 200.
async fn round(writers: &mut [RemoteWriter]) -> bool {
    let mut progressed = false;
    let mut wait = Duration::ZERO;
    for w in writers.iter_mut() {
        let before = w.acked;
        match w.push().await {
            Push::Wait(d) => wait = wait.max(d),
            Push::Progress | Push::Done => progressed |= w.acked > before,
        }
    }
    if !progressed {
        tokio::time::sleep(wait.max(Duration::from_millis(20))).await;
    }
    progressed
}

pub async fn run(s: &Settings, out: &mut Outcome) -> anyhow::Result<()> {
    let tmp = super::scratch("disk-full")?;
    let disk = tmp.path().join("disk");
    let _tmpfs = match Tmpfs::mount(&disk) {
        Ok(t) => t,
        Err(why) => {
            out.verdict = Verdict::Skipped(format!("cannot mount a tmpfs: {why}"));
            return Ok(());
        }
    };
    let data = disk.join("data");
    std::fs::create_dir_all(&data)?;
    // Ballast freed later to make room again.
    let ballast = disk.join("ballast");
    std::fs::write(&ballast, vec![7u8; 4 << 20])?;
    let log = tmp.path().join("daemon.log");
    let mut d = Daemon::start(&s.daemon_bin, &data, 0, &log)?;
    let port = d.port;
    let token = d.token()?;
    let http = reqwest::Client::new();
    let mut writers: Vec<RemoteWriter> = (0..WRITERS)
        .map(|i| {
            let mut w =
                RemoteWriter::new(http.clone(), &d.url(""), &token, PROJECT, &format!("w{i}"));
            w.pad = 400;
            w
        })
        .collect();
    // A Python client streams alongside, to see the real client back off and resume.
    let py = if python::available(&s.repo_root) {
        let mode = Mode::Remote {
            url: d.url(""),
            token: token.clone(),
        };
        let stop = tmp.path().join("stop").to_string_lossy().into_owned();
        Some(
            Client::start(
                &s.repo_root,
                &tmp.path().join("client"),
                &mode,
                python::UNTIL_STOPPED,
                &[PROJECT, &stop],
                &tmp.path().join("client.log"),
            )
            .await?,
        )
    } else {
        None
    };
    println!(
        "  {WRITERS} protocol writers (rows of ~450 bytes, 200 a batch) and a Python client fill \
         a 16 MiB tmpfs"
    );
    // Fill until the first refusal (120 s at most), then keep pushing through a full window,
    // waiting as long as each answer's Retry-After says.
    let started = Instant::now();
    let window = Duration::from_secs(s.count(10, 4));
    let mut full_since: Option<Instant> = None;
    while full_since.is_none_or(|t| t.elapsed() < window)
        && started.elapsed() < Duration::from_secs(120)
    {
        for w in writers.iter_mut() {
            if w.pending() < 200 * 500 {
                w.produce(200);
            }
        }
        round(&mut writers).await;
        if full_since.is_none() && writers.iter().any(|w| w.statuses.keys().any(|&s| s != 200)) {
            full_since = Some(Instant::now());
            println!(
                "  first refusal after {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    if full_since.is_none() {
        out.fail("the disk never filled within 120 s");
    }
    let full_statuses = merged(&writers);
    let daemon_survived = d.alive();
    let refusals: std::collections::BTreeSet<&String> =
        writers.iter().flat_map(|w| &w.refusals).collect();
    let retry_max = writers
        .iter()
        .map(|w| w.retry_after_max_secs)
        .fold(0.0, f64::max);
    println!(
        "  after a {} s full window, answers: {}; refusals {refusals:?}; longest Retry-After \
         {retry_max} s; daemon {}",
        window.as_secs(),
        statuses_line(&full_statuses.0, full_statuses.1),
        if daemon_survived { "alive" } else { "EXITED" }
    );
    out.peak(d.peak_rss_kib());
    if !daemon_survived {
        out.fail("the daemon exited when the disk filled");
        d = Daemon::start(&s.daemon_bin, &data, port, &log)?;
    }
    // Free space; everything produced must now go up.
    std::fs::remove_file(&ballast)?;
    let freed = Instant::now();
    for w in writers.iter_mut() {
        w.produce(100);
    }
    let mut drained = true;
    for w in writers.iter_mut() {
        drained &= w.drain(Duration::from_secs(60)).await;
    }
    println!(
        "  after freeing 4 MiB every writer resumed{} in {:.1} s",
        if drained { "" } else { " (NOT all drained)" },
        freed.elapsed().as_secs_f64()
    );
    if !drained {
        out.fail("writers could not upload everything after space was freed");
    }
    for w in &writers {
        let (t, bytes_agree) = w.check_disk(&data);
        if !bytes_agree {
            out.fail(format!(
                "{}: the bytes on disk differ from those sent",
                w.run
            ));
        }
        let rest = ledger::rest_tally(
            &http,
            &d,
            PROJECT,
            &w.run,
            &w.acked_rows(),
            Duration::from_secs(30),
        )
        .await?;
        if rest != t {
            out.fail(format!(
                "{}: REST {} but disk {}",
                w.run,
                rest.line(),
                t.line()
            ));
        }
        out.tally.add(t);
    }
    if let Some(mut c) = py {
        std::fs::write(tmp.path().join("stop"), b"")?;
        let n = c.logged(Duration::from_secs(180)).await?;
        let logged = ledger::logged(n);
        let path = data.join(PROJECT).join(&c.run_id).join("history.jsonl");
        let t = Tally::of(
            &logged,
            &ledger::wait_for_file(&path, n as usize, Duration::from_secs(30))
                .await
                .rows,
        );
        println!("  Python client: {}", t.line());
        // What the real client told its user while the disk was full.
        let said = std::fs::read_to_string(tmp.path().join("client.log")).unwrap_or_default();
        let mut lines: Vec<&str> = said
            .lines()
            .filter(|l| l.starts_with("trackline:"))
            .collect();
        lines.dedup();
        for l in lines.iter().take(4) {
            println!("  Python client said: {l}");
        }
        out.tally.add(t);
    }
    let (statuses, retry_after) = merged(&writers);
    out.peak(d.peak_rss_kib());
    out.figures = format!(
        "answers {}, longest Retry-After {retry_max} s",
        statuses_line(&statuses, retry_after)
    );
    Ok(())
}

fn merged(writers: &[RemoteWriter]) -> (BTreeMap<u16, u64>, u64) {
    let mut all = BTreeMap::new();
    let mut retry = 0;
    for w in writers {
        for (s, n) in &w.statuses {
            *all.entry(*s).or_default() += n;
        }
        retry += w.retry_after;
    }
    (all, retry)
}
