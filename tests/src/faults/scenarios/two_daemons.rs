//! `two-daemons`: a second daemon started on a data dir another daemon serves. It should be
//! refused with a message naming the first; if it runs, a writer streams through each, and neither
//! may lose what it acknowledged.

use crate::daemon::{Daemon, Started};
use crate::faults::Settings;
use crate::faults::ledger;
use crate::faults::outcome::Outcome;
use crate::faults::writer::{Push, RemoteWriter};
use std::time::{Duration, Instant};

const PROJECT: &str = "two";

async fn stream(w: &mut RemoteWriter, secs: u64) {
    let until = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < until {
        w.produce(50);
        if let Push::Wait(d) = w.push().await {
            tokio::time::sleep(d).await;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub async fn run(s: &Settings, out: &mut Outcome) -> anyhow::Result<()> {
    let tmp = super::scratch("two-daemons")?;
    let dir = tmp.path().join("data");
    std::fs::create_dir_all(&dir)?;
    let log = tmp.path().join("daemon.log");
    let first = Daemon::start(&s.daemon_bin, &dir, 0, &log)?;
    let http = reqwest::Client::new();
    let token = first.token()?;
    let mut wa = RemoteWriter::new(http.clone(), &first.url(""), &token, PROJECT, "via-first");
    wa.produce(50);
    wa.drain(Duration::from_secs(10)).await;
    let second_log = tmp.path().join("second.log");
    let secs = s.count(5, 2);
    let (second, wb) = match Daemon::spawn(&s.daemon_bin, &dir, 0, &second_log)? {
        Started::Exited { status, stderr } => {
            // The last line, without the log's time and level prefix.
            let last = stderr.lines().last().unwrap_or("");
            let message = last
                .split_once(" ERROR ")
                .and_then(|(_, m)| m.split_once(": "))
                .map_or(last, |(_, m)| m)
                .to_owned();
            println!("  the second daemon was refused ({status}): {message}");
            out.figures = format!("second daemon refused: \"{message}\"; ");
            stream(&mut wa, secs).await;
            (None, None)
        }
        Started::Serving(second) => {
            println!(
                "  the second daemon was NOT refused: it serves the same dir on port {}",
                second.port
            );
            out.figures = "second daemon NOT refused; ".into();
            let mut wb =
                RemoteWriter::new(http.clone(), &second.url(""), &token, PROJECT, "via-second");
            tokio::join!(stream(&mut wa, secs), stream(&mut wb, secs));
            let drained = wb.drain(Duration::from_secs(30)).await;
            if !drained {
                out.fail("the writer to the second daemon could not finish");
            }
            (Some(second), Some(wb))
        }
    };
    if !wa.drain(Duration::from_secs(30)).await {
        out.fail("the writer to the first daemon could not finish");
    }
    if let Some(mut d) = second {
        out.peak(d.peak_rss_kib());
        d.kill9();
    }
    let writers: Vec<RemoteWriter> = std::iter::once(wa).chain(wb).collect();
    // Each writer's run, on disk and as the first daemon serves it.
    let mut lost = Vec::new();
    for w in &writers {
        let (t, bytes_agree) = w.check_disk(&dir);
        let rest = ledger::rest_tally(
            &http,
            &first,
            PROJECT,
            &w.run,
            &w.acked_rows(),
            Duration::from_secs(15),
        )
        .await?;
        println!(
            "  run {}: disk {}; first daemon's REST {}",
            w.run,
            t.line(),
            rest.line()
        );
        if !bytes_agree || !t.exact() {
            lost.push(w.run.clone());
        }
        if rest != t {
            out.fail(format!(
                "{}: the first daemon's REST disagrees with the disk",
                w.run
            ));
        }
        out.tally.add(t);
    }
    let (status, _) = first.get(&http, "/api/health").await?;
    if status != 200 {
        out.fail(format!(
            "the first daemon answers /api/health with {status}"
        ));
    }
    out.figures.push_str(if lost.is_empty() {
        "no data lost"
    } else {
        "DATA LOST"
    });
    out.peak(first.peak_rss_kib());
    Ok(())
}
