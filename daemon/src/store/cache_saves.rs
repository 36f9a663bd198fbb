//! Series cache saves off the request path: a history loaded for a chart is answered first and
//! saved to the cache afterwards by a thread of its own, so the first chart over runs never read
//! before waits for their parsing only (saving a run of 1M points is ~55 ms of encoding and
//! writing, under the run's lock). Without that thread (tests, one-shot tools) a save happens
//! where it is asked for, as before.

use super::{Run, Store, history};
use parking_lot::{Condvar, Mutex};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How often the saving thread looks at the stop flag while idle.
const IDLE_WAKE: Duration = Duration::from_millis(250);

/// Runs waiting to be saved, and whether a thread saves them.
#[derive(Debug, Default)]
pub(super) struct SaveQueue {
    queue: Mutex<Queue>,
    ready: Condvar,
}

#[derive(Debug, Default)]
struct Queue {
    /// Whether [`spawn`]'s thread takes saves; otherwise they are made at once.
    deferring: bool,
    runs: VecDeque<Arc<Run>>,
}

impl Store {
    /// Saves `run`'s history to the cache if it is behind: later, on the saving thread, when one
    /// runs; at once otherwise.
    pub(super) fn save_to_cache_soon(&self, run: &Arc<Run>) {
        {
            let mut q = self.saves.queue.lock();
            if q.deferring {
                if !q.runs.iter().any(|r| Arc::ptr_eq(r, run)) {
                    q.runs.push_back(run.clone());
                    self.saves.ready.notify_one();
                }
                return;
            }
        }
        self.save_if_behind(run);
    }

    /// Saves `run` if its history is loaded and the cache is behind (a run removed while it
    /// waited was unloaded, so it is not saved again). The run's lock is held while the history
    /// is encoded, not while the file is written: on the saving thread's lower priority, with
    /// training on the other core, a reader of the run would otherwise wait for the disk at the
    /// CPU share such a thread gets.
    fn save_if_behind(&self, run: &Run) {
        let Some(cache) = self.series_cache() else {
            return;
        };
        let snapshot = {
            let mut h = run.history.lock();
            if !h.cache_is_behind() {
                return;
            }
            history::snapshot_for_cache(run, &mut h, cache)
        };
        if let Some(snapshot) = snapshot {
            snapshot.write(run, cache);
        }
    }
}

/// Starts the thread that saves loaded histories to the cache (below normal priority, like the
/// warm-up); it ends when `stop` is set.
pub fn spawn(
    store: Arc<Store>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    store.saves.queue.lock().deferring = true;
    std::thread::Builder::new()
        .name("cache-saves".into())
        .spawn(move || save_queued(&store, &stop))
}

fn save_queued(store: &Store, stop: &AtomicBool) {
    super::warm::lower_priority();
    while !stop.load(Ordering::Relaxed) {
        let next = {
            let mut q = store.saves.queue.lock();
            if q.runs.is_empty() {
                store.saves.ready.wait_for(&mut q, IDLE_WAKE);
            }
            q.runs.pop_front()
        };
        if let Some(run) = next {
            store.save_if_behind(&run);
        }
    }
    // Saves not made are only a slower first chart after the next start.
    store.saves.queue.lock().deferring = false;
}

#[cfg(test)]
impl Store {
    /// Queues saves from now on without a thread taking them (tests hold the saving back).
    pub(super) fn defer_cache_saves(&self) {
        self.saves.queue.lock().deferring = true;
    }

    /// Runs waiting to be saved.
    pub(super) fn queued_cache_saves(&self) -> usize {
        self.saves.queue.lock().runs.len()
    }
}
