//! `load`: 50 remote writers stream as fast as the daemon acknowledges while 100 WebSocket viewers
//! watch their series. Every point must reach each viewer of its run exactly once, in order, and
//! the disk exactly once; the figures are points/s, acknowledgement latency, delivery lag and RSS.

use crate::daemon::Daemon;
use crate::faults::Settings;
use crate::faults::ledger::{self, Tally};
use crate::faults::outcome::Outcome;
use crate::faults::viewer::{self, SentTimes};
use crate::faults::writer::{Push, RemoteWriter, percentile_ms, statuses_line};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const PROJECT: &str = "load";
const WRITERS: usize = 50;
const VIEWERS: usize = 100;
/// Rows per batch.
const BATCH: u64 = 20;

pub async fn run(s: &Settings, out: &mut Outcome) -> anyhow::Result<()> {
    let secs = s.count(60, 10);
    let tmp = super::scratch("load")?;
    let dir = tmp.path().join("data");
    std::fs::create_dir_all(&dir)?;
    let d = Daemon::start(&s.daemon_bin, &dir, 0, &tmp.path().join("daemon.log"))?;
    let token = d.token()?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(WRITERS)
        .build()?;
    println!(
        "  {WRITERS} writers ({BATCH} rows a batch, one batch in flight each) and {VIEWERS} \
         viewers (two per run) for {secs} s"
    );
    let sent: Vec<Arc<SentTimes>> = (0..WRITERS).map(|_| Arc::default()).collect();
    let targets: Vec<Arc<AtomicU64>> = (0..WRITERS)
        .map(|_| Arc::new(AtomicU64::new(u64::MAX)))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for (i, sent) in sent.iter().enumerate() {
        let mut w = RemoteWriter::new(
            http.clone(),
            &d.url(""),
            &token,
            PROJECT,
            &format!("w{i:02}"),
        );
        w.produce(1);
        sent.record(w.steps);
        anyhow::ensure!(
            w.drain(Duration::from_secs(30)).await,
            "run {} never created",
            w.run
        );
        writers.push(w);
    }
    let mut viewers = Vec::new();
    for v in 0..VIEWERS {
        let i = v % WRITERS;
        let (sent, target, stop) = (sent[i].clone(), targets[i].clone(), stop.clone());
        let (port, run) = (d.port, format!("w{i:02}"));
        viewers.push((
            i,
            tokio::spawn(
                async move { viewer::watch(port, PROJECT, &run, &sent, &target, &stop).await },
            ),
        ));
    }
    // Let the viewers subscribe before the flood.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let until = started + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for (i, mut w) in writers.into_iter().enumerate() {
        let sent = sent[i].clone();
        tasks.push(tokio::spawn(async move {
            w.ack_latencies.clear();
            let first = w.steps;
            while Instant::now() < until {
                if w.pending() == 0 {
                    w.produce(BATCH);
                    sent.record(w.steps);
                }
                if let Push::Wait(d) = w.push().await {
                    tokio::time::sleep(d).await;
                }
            }
            let in_window = w.acked_rows().len() as u64 - first;
            let drained = w.drain(Duration::from_secs(60)).await;
            (w, in_window, drained)
        }));
    }
    let mut writers = Vec::new();
    let mut in_window = 0;
    for t in tasks {
        let (w, n, drained) = t.await?;
        if !drained {
            out.fail(format!("writer {} could not upload everything", w.run));
        }
        in_window += n;
        writers.push(w);
    }
    let window = started.elapsed().as_secs_f64().min(secs as f64);
    for (i, w) in writers.iter().enumerate() {
        targets[i].store(w.steps, Ordering::Relaxed);
    }
    // Viewers get 60 s to catch up once the writers stopped.
    let catch_up = Instant::now();
    let mut viewer_tally = Tally::default();
    let (mut lags, mut discontinuities, mut closed) = (Vec::new(), 0, 0);
    for (i, handle) in viewers {
        let remaining = Duration::from_secs(60).saturating_sub(catch_up.elapsed());
        let seen = match tokio::time::timeout(remaining, handle).await {
            Ok(joined) => joined??,
            Err(_) => {
                stop.store(true, Ordering::Relaxed);
                out.fail("viewers did not catch up within 60 s");
                continue;
            }
        };
        viewer_tally.add(Tally::of(&ledger::logged(writers[i].steps), &seen.rows));
        lags.extend(seen.lags);
        discontinuities += seen.discontinuities;
        closed += u64::from(seen.closed);
    }
    let mut acks = Vec::new();
    let mut statuses = BTreeMap::new();
    let mut retry_after = 0;
    for w in &writers {
        let (t, bytes_agree) = w.check_disk(&dir);
        if !bytes_agree {
            out.fail(format!(
                "{}: the bytes on disk differ from those sent",
                w.run
            ));
        }
        out.tally.add(t);
        acks.extend_from_slice(&w.ack_latencies);
        for (s, n) in &w.statuses {
            *statuses.entry(*s).or_default() += n;
        }
        retry_after += w.retry_after;
    }
    let rate = in_window as f64 / window;
    println!(
        "  {in_window} points acknowledged in {window:.1} s: {rate:.0} points/s; answers {}",
        statuses_line(&statuses, retry_after)
    );
    println!(
        "  ack latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile_ms(&acks, 50.0),
        percentile_ms(&acks, 99.0),
        percentile_ms(&acks, 100.0)
    );
    println!(
        "  viewers: {}; {discontinuities} gaps or repeats; {closed} closed by the daemon; lag \
         sent->delivered p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        viewer_tally.line(),
        percentile_ms(&lags, 50.0),
        percentile_ms(&lags, 99.0),
        percentile_ms(&lags, 100.0)
    );
    if !viewer_tally.exact() || discontinuities > 0 || closed > 0 {
        out.fail(format!("viewers: {}", viewer_tally.line()));
    }
    out.peak(d.peak_rss_kib());
    out.figures = format!(
        "{rate:.0} points/s, ack p99 {:.1} ms, viewer lag p99 {:.1} ms, {} delivered to viewers \
         exactly once of {}",
        percentile_ms(&acks, 99.0),
        percentile_ms(&lags, 99.0),
        viewer_tally.once,
        viewer_tally.logged
    );
    Ok(())
}
