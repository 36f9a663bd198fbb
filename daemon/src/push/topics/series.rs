//! Topic `series`: the raw points of one metric of one run from an offset on, then every appended
//! point, in messages of at most [`MAX_POINTS_PER_MESSAGE`]. While subscribed, the run's series
//! are never evicted from memory.

use super::Subscription;
use crate::query::decimate;
use crate::store::{Event, Run, Store};
use std::sync::Arc;
use trackline_shared::{MAX_POINTS_PER_MESSAGE, ServerMsg, SubId};

#[derive(Debug)]
pub struct Points {
    run: Arc<Run>,
    key: String,
    /// The key's index in the run's history, once it exists.
    key_idx: Option<usize>,
    /// Points sent (the next offset to send from).
    sent: u64,
}

impl Points {
    /// Subscribes to `key` of `run` from offset `from`; holds the run in memory until dropped.
    pub fn new(run: Arc<Run>, key: String, from: u64) -> Self {
        run.history.lock().subscribers += 1;
        Points {
            run,
            key,
            key_idx: None,
            sent: from,
        }
    }
}

impl Subscription for Points {
    fn serve(&mut self, _store: &Store, id: SubId, _first: bool) -> Vec<ServerMsg> {
        let mut msgs = Vec::new();
        let h = self.run.history.lock();
        if self.key_idx.is_none() {
            self.key_idx = h.key_index(&self.key);
        }
        if let Some(i) = self.key_idx {
            let series = h.series(i);
            while (self.sent as usize) < series.len() {
                let (step, wall_time, value) =
                    decimate::points_since(series, self.sent as usize, MAX_POINTS_PER_MESSAGE);
                let start = self.sent;
                self.sent += value.len() as u64;
                msgs.push(ServerMsg::Points {
                    sub: id,
                    run: self.run.key.run.clone(),
                    key: self.key.clone(),
                    start,
                    step,
                    wall_time,
                    value,
                });
            }
        }
        msgs
    }

    fn on_event(&mut self, store: &Store, id: SubId, event: &Event) -> Vec<ServerMsg> {
        match event {
            // Another key of the run grew: nothing to read (the history stays unlocked).
            Event::Points { run, grown }
                if Arc::ptr_eq(&self.run, run)
                    && self
                        .key_idx
                        .is_none_or(|k| grown.iter().any(|&(g, _)| g == k)) =>
            {
                self.serve(store, id, false)
            }
            _ => Vec::new(),
        }
    }

    fn points_of(&self) -> Option<&crate::store::RunKey> {
        Some(&self.run.key)
    }
}

impl Drop for Points {
    /// The run may be evicted again once nobody follows it.
    fn drop(&mut self) {
        let mut h = self.run.history.lock();
        h.subscribers = h.subscribers.saturating_sub(1);
    }
}
