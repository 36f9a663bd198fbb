//! The ingest thread: the source's changes (file-system events, for a disk) for low latency, plus a
//! periodic full scan as a safety net for anything the events missed (network file systems,
//! overflowed queues, races). An event after a quiet spell is handled at once; while events keep
//! coming, passes are at least [`MIN_PASS_INTERVAL`] apart, so a busy run is read once per pass
//! rather than once per append.

use super::Ingest;
use crate::format::{RunKey, is_metadata_file};
use crate::source::Change;
use crate::store::history::SeriesFile;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

/// The shortest time from the start of one pass over changed runs to the start of the next.
pub const MIN_PASS_INTERVAL: Duration = Duration::from_millis(5);

/// What an event says needs re-reading in one run.
#[derive(Debug, Default, Clone, Copy)]
struct Dirty {
    meta: bool,
    /// `history.jsonl` changed.
    history: bool,
    /// `system.jsonl` changed.
    system: bool,
}

impl Dirty {
    /// The series files to read what was appended to.
    fn series(self) -> Vec<SeriesFile> {
        let changed = [
            (self.history, SeriesFile::History),
            (self.system, SeriesFile::System),
        ];
        changed
            .into_iter()
            .filter(|(c, _)| *c)
            .map(|(_, f)| f)
            .collect()
    }
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
    let (tx, rx) = mpsc::channel::<Change>();
    let _watch = match ingest.source().watch(tx) {
        Ok(guard) => Some(guard),
        Err(e) => {
            tracing::warn!("{e}; relying on periodic rescans");
            None
        }
    };
    let mut next_scan = Instant::now() + rescan_interval;
    let mut last_pass: Option<Instant> = None;
    while !stop.load(Ordering::Relaxed) {
        let wait = next_scan
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(250));
        let mut dirty: BTreeMap<RunKey, Dirty> = BTreeMap::new();
        let mut rescan = false;
        match rx.recv_timeout(wait) {
            Ok(first) => {
                mark(first, &mut dirty, &mut rescan);
                // Busy: let more changes gather until the pass is due.
                if let Some(wait) = pass_delay(last_pass, Instant::now()) {
                    std::thread::sleep(wait);
                }
                // Take everything already queued so a burst of appends is read once.
                while let Ok(change) = rx.try_recv() {
                    mark(change, &mut dirty, &mut rescan);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                std::thread::sleep(wait);
            }
        }
        if !dirty.is_empty() {
            last_pass = Some(Instant::now());
        }
        for (key, d) in dirty {
            if d.meta {
                ingest.refresh_run(&key.project, &key.run);
            }
            let series = d.series();
            if !series.is_empty() {
                ingest.refresh_history(&key.project, &key.run, &series);
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

/// How long a pass must wait when the previous one started at `last_pass`: nothing when it was
/// [`MIN_PASS_INTERVAL`] ago or more (or there was none), so a quiet daemon reacts at once.
fn pass_delay(last_pass: Option<Instant>, now: Instant) -> Option<Duration> {
    let due = last_pass? + MIN_PASS_INTERVAL;
    (due > now).then(|| due - now)
}

/// Notes what a change means for its run: its metadata or its series need re-reading.
fn mark(change: Change, dirty: &mut BTreeMap<RunKey, Dirty>, rescan: &mut bool) {
    match change {
        Change::Rescan => *rescan = true,
        Change::Run(key) => dirty.entry(key).or_default().meta = true,
        Change::File(key, name) => {
            let entry = dirty.entry(key).or_default();
            if let Some(series) = SeriesFile::named(&name) {
                match series {
                    SeriesFile::History => entry.history = true,
                    SeriesFile::System => entry.system = true,
                }
            } else if is_metadata_file(&name) {
                entry.meta = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{CONSOLE_FILE, HISTORY_FILE, RUN_FILE, SYSTEM_FILE};

    #[test]
    fn passes_wait_only_when_the_last_one_was_recent() {
        let now = Instant::now();
        assert_eq!(pass_delay(None, now), None);
        assert_eq!(pass_delay(Some(now - MIN_PASS_INTERVAL), now), None);
        assert_eq!(pass_delay(Some(now - Duration::from_secs(1)), now), None);
        let soon = pass_delay(Some(now - Duration::from_millis(2)), now).unwrap();
        assert_eq!(soon, MIN_PASS_INTERVAL - Duration::from_millis(2));
        assert_eq!(pass_delay(Some(now), now), Some(MIN_PASS_INTERVAL));
    }

    #[test]
    fn changes_mark_what_to_reread() {
        let key = RunKey {
            project: "p".into(),
            run: "r".into(),
        };
        let mut dirty = BTreeMap::new();
        let mut rescan = false;
        for name in [HISTORY_FILE, ".run.json.tmp-1", CONSOLE_FILE] {
            mark(
                Change::File(key.clone(), name.into()),
                &mut dirty,
                &mut rescan,
            );
        }
        assert!(dirty[&key].history && !dirty[&key].meta && !rescan);
        // Only the series file that changed is read.
        assert_eq!(dirty[&key].series(), [SeriesFile::History]);
        mark(
            Change::File(key.clone(), SYSTEM_FILE.into()),
            &mut dirty,
            &mut rescan,
        );
        assert_eq!(
            dirty[&key].series(),
            [SeriesFile::History, SeriesFile::System]
        );
        mark(
            Change::File(key.clone(), RUN_FILE.into()),
            &mut dirty,
            &mut rescan,
        );
        assert!(dirty[&key].meta);
        mark(Change::Rescan, &mut dirty, &mut rescan);
        assert!(rescan);
    }
}
