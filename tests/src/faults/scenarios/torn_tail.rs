//! `torn-tail`: for every byte position of a history's last line, the file is cut there and a new
//! whole line is appended raw, as a writer that resumed after a crash would. Once with the daemon
//! starting on such files (`cold`), once with the daemon watching while the torn tail is written
//! and the line appended (`live`). The complete lines before the torn one and the appended line
//! are flushed data: each must be held exactly once. The torn line itself may go.

use crate::daemon::Daemon;
use crate::faults::Settings;
use crate::faults::ledger::{self, Row, Tally};
use crate::faults::outcome::Outcome;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

const PROJECT: &str = "torn";
/// Complete lines before the torn one.
const BEFORE: u64 = 9;

fn line(step: u64) -> String {
    format!(
        "{{\"_step\": {step}, \"_timestamp\": 1700000000.123456, \"_runtime\": {:.6}, \"{}\": {}}}\n",
        step as f64 * 0.1,
        ledger::KEY,
        ledger::value_at(step)
    )
}

/// The run folder of cut position `cut`, holding the lines before and `cut` bytes of the last.
fn make_run(root: &Path, name: &str, cut: usize) -> anyhow::Result<std::path::PathBuf> {
    let dir = root.join(PROJECT).join(name);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("run.json"),
        format!(
            r#"{{"format_version": 1, "id": "{name}", "name": "{name}", "project": "{PROJECT}", "state": "finished", "created_at": 1700000000.0, "heartbeat_at": 1700000001.0, "finished_at": 1700000001.0, "exit_code": 0, "tags": []}}"#
        ),
    )?;
    let mut text: String = (0..BEFORE).map(line).collect();
    text.push_str(&line(BEFORE)[..cut]);
    std::fs::write(dir.join("history.jsonl"), text)?;
    Ok(dir.join("history.jsonl"))
}

fn append(history: &Path) -> anyhow::Result<()> {
    let mut f = std::fs::OpenOptions::new().append(true).open(history)?;
    f.write_all(line(BEFORE + 1).as_bytes())?;
    Ok(())
}

/// What the daemon holds for each cut: (prior lines and appended line each exactly once, the torn
/// line kept too).
async fn judge(
    http: &reqwest::Client,
    d: &Daemon,
    names: &[String],
    out: &mut Outcome,
    phase: &str,
) -> anyhow::Result<()> {
    let mut logged = ledger::logged(BEFORE);
    logged.push(Row {
        step: BEFORE + 1,
        value: ledger::value_at(BEFORE + 1),
    });
    // Give the daemon up to 10 s to reach the full count on every run.
    let deadline = Instant::now() + Duration::from_secs(10);
    for name in names {
        while ledger::rest_count(http, d, PROJECT, name).await? < BEFORE + 1
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let (mut kept, mut torn_kept, mut prior_lost) = (0, 0, Vec::new());
    let mut lost_at = Vec::new();
    for (cut, name) in names.iter().enumerate() {
        let found = ledger::rest_rows(http, d, PROJECT, name, BEFORE + 1).await?;
        let (torn, found): (Vec<Row>, Vec<Row>) = found.into_iter().partition(|r| r.step == BEFORE);
        torn_kept += usize::from(!torn.is_empty());
        let t = Tally::of(&logged, &found);
        let prior = Tally::of(&logged[..BEFORE as usize], &found[..]);
        if prior.once != BEFORE {
            prior_lost.push(cut);
        }
        let appended = Tally::of(&logged[BEFORE as usize..], &found[..]);
        kept += usize::from(appended.once == 1);
        if !t.exact() {
            lost_at.push(cut);
        }
        out.tally.add(t);
    }
    println!(
        "  {phase}: the appended line is kept at {kept} of {} cut positions; the torn line's \
         step is kept at {torn_kept}; earlier lines lost at {} positions",
        names.len(),
        prior_lost.len()
    );
    if !lost_at.is_empty() {
        println!("  {phase}: data lost at cut positions {lost_at:?}");
    }
    if !out.figures.is_empty() {
        out.figures.push_str("; ");
    }
    out.figures.push_str(&format!(
        "{phase}: appended line kept at {kept}/{} cuts",
        names.len()
    ));
    Ok(())
}

pub async fn run(s: &Settings, out: &mut Outcome) -> anyhow::Result<()> {
    let width = line(BEFORE).len();
    println!(
        "  a last line of {width} bytes cut at each of its {width} positions (0 = at the line \
         boundary), then a whole line appended raw"
    );
    let http = reqwest::Client::new();
    let tmp = super::scratch("torn-tail")?;

    // cold: the files are torn and appended before the daemon starts.
    let cold = tmp.path().join("cold");
    let names: Vec<String> = (0..width).map(|cut| format!("cut{cut:03}")).collect();
    for (cut, name) in names.iter().enumerate() {
        append(&make_run(&cold, name, cut)?)?;
    }
    let d = Daemon::start(&s.daemon_bin, &cold, 0, &tmp.path().join("daemon.log"))?;
    judge(&http, &d, &names, out, "cold").await?;
    out.peak(d.peak_rss_kib());
    drop(d);

    // live: the daemon reads the torn tail first, then sees the line appended after it.
    let live = tmp.path().join("live");
    std::fs::create_dir_all(&live)?;
    let d = Daemon::start(&s.daemon_bin, &live, 0, &tmp.path().join("daemon.log"))?;
    let mut files = Vec::new();
    for (cut, name) in names.iter().enumerate() {
        files.push(make_run(&live, name, cut)?);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    for name in &names {
        while ledger::rest_count(&http, &d, PROJECT, name).await? < BEFORE
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for f in &files {
        append(f)?;
    }
    judge(&http, &d, &names, out, "live").await?;
    out.peak(d.peak_rss_kib());
    Ok(())
}
