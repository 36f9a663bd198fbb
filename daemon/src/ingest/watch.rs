//! The ingest thread: file-system events (notify) for low latency, plus a periodic full scan as a
//! safety net for anything the events missed (network file systems, overflowed queues, races).

use super::Ingest;
use notify::{RecursiveMode, Watcher};
use std::collections::BTreeMap;
use std::path::{Component, Path};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

/// What an event says needs re-reading in one run.
#[derive(Debug, Default, Clone, Copy)]
struct Dirty {
    meta: bool,
    history: bool,
}

/// Runs the ingest loop on a named thread until `stop` is set. The initial scan has already run.
pub fn spawn(
    mut ingest: Ingest,
    rescan_interval: Duration,
    stop: Arc<AtomicBool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("trackline-ingest".into())
        .spawn(move || run_loop(&mut ingest, rescan_interval, &stop))
}

fn run_loop(ingest: &mut Ingest, rescan_interval: Duration, stop: &AtomicBool) {
    let (tx, rx) = mpsc::channel::<notify::Result<notify::Event>>();
    let root = ingest.root().to_owned();
    let _watcher = match notify::recommended_watcher(tx) {
        Ok(mut w) => match w.watch(&root, RecursiveMode::Recursive) {
            Ok(()) => Some(w),
            Err(e) => {
                tracing::warn!(
                    "cannot watch {}: {e}; relying on periodic rescans",
                    root.display()
                );
                None
            }
        },
        Err(e) => {
            tracing::warn!("no file watcher: {e}; relying on periodic rescans");
            None
        }
    };
    let mut next_scan = Instant::now() + rescan_interval;
    while !stop.load(Ordering::Relaxed) {
        let wait = next_scan
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(250));
        let mut dirty: BTreeMap<(String, String), Dirty> = BTreeMap::new();
        let mut rescan = false;
        match rx.recv_timeout(wait) {
            Ok(first) => {
                let mut handle = |ev: notify::Result<notify::Event>| match ev {
                    // Opening or reading a file changes nothing, and the daemon's own reads
                    // would otherwise wake it forever. A writer closing its file does count.
                    Ok(ev) if is_read_only(&ev.kind) => {}
                    Ok(ev) => {
                        for path in &ev.paths {
                            classify(&root, path, &mut dirty, &mut rescan);
                        }
                        if ev.need_rescan() {
                            rescan = true;
                        }
                    }
                    Err(e) => {
                        tracing::debug!("watch error: {e}");
                        rescan = true;
                    }
                };
                handle(first);
                // Take everything already queued so a burst of appends is read once.
                while let Ok(ev) = rx.try_recv() {
                    handle(ev);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                std::thread::sleep(wait);
            }
        }
        for ((project, run), d) in dirty {
            if d.meta {
                ingest.refresh_run(&project, &run);
            }
            if d.history {
                ingest.refresh_history(&project, &run);
            }
        }
        if rescan || Instant::now() >= next_scan {
            if let Err(e) = ingest.scan(false) {
                tracing::warn!("rescan failed: {e}");
            }
            next_scan = Instant::now() + rescan_interval;
        }
    }
}

fn is_read_only(kind: &notify::EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode};
    matches!(kind, notify::EventKind::Access(a) if *a != AccessKind::Close(AccessMode::Write))
}

/// Maps a changed path to the run it belongs to and what to re-read.
fn classify(
    root: &Path,
    path: &Path,
    dirty: &mut BTreeMap<(String, String), Dirty>,
    rescan: &mut bool,
) {
    let Ok(rel) = path.strip_prefix(root) else {
        return;
    };
    let parts: Vec<&str> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect();
    match parts.as_slice() {
        [] | [_] => *rescan = true,
        [project, run, rest @ ..] => {
            if !super::valid_project_name(project) || !super::valid_run_id(run) {
                return;
            }
            let entry = dirty
                .entry(((*project).to_owned(), (*run).to_owned()))
                .or_default();
            match rest {
                [] => entry.meta = true,
                [file]
                    if *file == super::meta::HISTORY_FILE || *file == super::meta::SYSTEM_FILE =>
                {
                    entry.history = true
                }
                [file] if file.starts_with('.') => {}
                [file] if file.ends_with(".json") => entry.meta = true,
                _ => {}
            }
        }
    }
}
