//! `daemon-kill`: Python clients stream runs to a daemon that is killed with SIGKILL at random
//! moments and restarted on the same port and data dir; at the end every point each client logged
//! is in the daemon's history.jsonl exactly once, and its REST API agrees.

use crate::daemon::Daemon;
use crate::faults::Settings;
use crate::faults::ledger::{self, Tally};
use crate::faults::outcome::{Outcome, Verdict};
use crate::faults::python::{self, Client, Mode};
use crate::faults::rng::Rng;
use std::time::Duration;

const PROJECT: &str = "daemon-kill";

pub async fn run(s: &Settings, out: &mut Outcome) -> anyhow::Result<()> {
    if !python::available(&s.repo_root) {
        out.verdict = Verdict::Skipped("python3 cannot import python/trackline".into());
        return Ok(());
    }
    let kills = s.count(100, 5);
    let clients = 4;
    let tmp = super::scratch("daemon-kill")?;
    let (served, spool) = (tmp.path().join("served"), tmp.path().join("client"));
    std::fs::create_dir_all(&served)?;
    let log = tmp.path().join("daemon.log");
    let stop = tmp.path().join("stop");
    let mut d = Daemon::start(&s.daemon_bin, &served, 0, &log)?;
    let port = d.port;
    let mode = Mode::Remote {
        url: d.url(""),
        token: d.token()?,
    };
    let stop_arg = stop.to_string_lossy().into_owned();
    let mut running = Vec::new();
    for _ in 0..clients {
        running.push(
            Client::start(
                &s.repo_root,
                &spool,
                &mode,
                python::UNTIL_STOPPED,
                &[PROJECT, &stop_arg],
                &tmp.path().join("client.log"),
            )
            .await?,
        );
    }
    println!(
        "  {clients} Python clients stream to a daemon killed {kills} times at random moments \
         (up 0.3-2 s, down 0-0.3 s)"
    );
    let mut rng = Rng::new(s.seed);
    for k in 0..kills {
        tokio::time::sleep(rng.millis(300, 2000)).await;
        out.peak(d.kill9());
        tokio::time::sleep(rng.millis(0, 300)).await;
        d = Daemon::start(&s.daemon_bin, &served, port, &log)?;
        if (k + 1) % 25 == 0 {
            println!("  {} kills", k + 1);
        }
    }
    std::fs::write(&stop, b"")?;
    let http = reqwest::Client::new();
    for c in &mut running {
        let n = c.logged(Duration::from_secs(180)).await?;
        let logged = ledger::logged(n);
        let local = ledger::read_file(&c.history());
        let own = Tally::of(&logged, &local.rows);
        if !own.exact() {
            out.fail(format!(
                "client {} wrote its own spool wrongly: {}",
                c.run_id,
                own.line()
            ));
        }
        let disk_path = served.join(PROJECT).join(&c.run_id).join("history.jsonl");
        let disk = ledger::wait_for_file(&disk_path, n as usize, Duration::from_secs(30)).await;
        let on_disk = Tally::of(&logged, &disk.rows);
        let rest = ledger::rest_tally(
            &http,
            &d,
            PROJECT,
            &c.run_id,
            &logged,
            Duration::from_secs(30),
        )
        .await?;
        println!(
            "  run {}: on disk {}; REST {}",
            c.run_id,
            on_disk.line(),
            rest.line()
        );
        if disk.unreadable > 0 || disk.tail_bytes > 0 {
            out.fail(format!(
                "run {}: {} unreadable lines and {} torn bytes on disk",
                c.run_id, disk.unreadable, disk.tail_bytes
            ));
        }
        if rest != on_disk {
            out.fail(format!(
                "run {}: the REST API disagrees with the disk",
                c.run_id
            ));
        }
        out.tally.add(on_disk);
    }
    out.peak(d.peak_rss_kib());
    out.figures = format!("{kills} kills, {clients} clients");
    Ok(())
}
