//! Topic `series`: the raw points of one metric of one run from an offset on, then every appended
//! point, in messages of at most [`MAX_POINTS_PER_MESSAGE`]; with an `x_key`, the metric against
//! another one, joined by step as the series query joins them (`query::series::join_by_step`), so
//! a chart on a custom x axis appends live points instead of fetching again. While subscribed, the
//! run's series are never evicted from memory.

use super::Subscription;
use crate::query::decimate;
use crate::store::history::History;
use crate::store::{Event, Run, Store};
use std::sync::Arc;
use trackline_shared::{MAX_POINTS_PER_MESSAGE, ServerMsg, SubId};

#[derive(Debug)]
pub struct Points {
    run: Arc<Run>,
    key: String,
    /// The key's index in the run's history, once it exists.
    key_idx: Option<usize>,
    /// Points sent (the next offset to send from): of the metric, or joined ones with an x key.
    sent: u64,
    join: Option<Join>,
}

/// Where the join with the x metric stands.
#[derive(Debug)]
struct Join {
    x_key: String,
    x_idx: Option<usize>,
    /// Points of the metric read so far (joined and sent, or left out).
    y_read: usize,
    /// Points of the x metric at steps up to the last one read.
    x_read: usize,
    /// The x at the last step read: the latest x logged at or before it.
    x_now: Option<f64>,
    /// Whether `y_read` has been placed after the `from` joined points the client holds.
    placed: bool,
}

impl Points {
    /// Subscribes to `key` of `run` from offset `from` (against `x_key` when given); holds the
    /// run in memory until dropped.
    pub fn new(run: Arc<Run>, key: String, from: u64, x_key: Option<String>) -> Self {
        run.history.lock().subscribers += 1;
        Points {
            run,
            key,
            key_idx: None,
            sent: from,
            join: x_key.map(|x_key| Join {
                x_key,
                x_idx: None,
                y_read: 0,
                x_read: 0,
                x_now: None,
                placed: false,
            }),
        }
    }

    /// The points joined since the last call, as `(x, wall, value)` columns; with `skip`, that
    /// many joined points are passed over first (they are what the client holds).
    fn joined(join: &mut Join, h: &History, y: usize, limit: usize) -> [Vec<f64>; 3] {
        let mut out = [Vec::new(), Vec::new(), Vec::new()];
        let (Some(xi), ys) = (join.x_idx, h.series(y)) else {
            return out;
        };
        let xs = h.series(xi);
        while join.y_read < ys.len() && out[0].len() < limit {
            let i = join.y_read;
            let step = ys.steps().get(i);
            while join.x_read < xs.len() && xs.steps().get(join.x_read) <= step {
                join.x_now = Some(xs.values()[join.x_read]);
                join.x_read += 1;
            }
            join.y_read += 1;
            if let Some(x) = join.x_now.filter(|x| x.is_finite()) {
                out[0].push(x);
                out[1].push(ys.wall().get(i));
                out[2].push(ys.values()[i]);
            }
        }
        out
    }
}

impl Subscription for Points {
    fn serve(&mut self, _store: &Store, id: SubId, _first: bool) -> Vec<ServerMsg> {
        let mut msgs = Vec::new();
        let h = self.run.history.lock();
        if self.key_idx.is_none() {
            self.key_idx = h.key_index(&self.key);
        }
        let Some(i) = self.key_idx else {
            return msgs;
        };
        let run = self.run.key.run.clone();
        let points = |start: u64, [step, wall_time, value]: [Vec<f64>; 3]| ServerMsg::Points {
            sub: id,
            run: run.clone(),
            key: self.key.clone(),
            start,
            step,
            wall_time,
            value,
        };
        match &mut self.join {
            None => {
                let series = h.series(i);
                while (self.sent as usize) < series.len() {
                    let (step, wall_time, value) =
                        decimate::points_since(series, self.sent as usize, MAX_POINTS_PER_MESSAGE);
                    let start = self.sent;
                    self.sent += value.len() as u64;
                    msgs.push(points(start, [step, wall_time, value]));
                }
            }
            Some(join) => {
                if join.x_idx.is_none() {
                    join.x_idx = h.key_index(&join.x_key);
                }
                if join.x_idx.is_none() {
                    return msgs;
                }
                if !join.placed {
                    // Past the joined points the client already holds (counted, not sent).
                    let mut skipped = 0u64;
                    while skipped < self.sent {
                        let limit = usize::try_from(self.sent - skipped).unwrap_or(usize::MAX);
                        let got = Self::joined(join, &h, i, limit.min(1 << 16));
                        if got[0].is_empty() {
                            break;
                        }
                        skipped += got[0].len() as u64;
                    }
                    // Fewer joined points than the client holds: it is ahead of the files (a
                    // history read again); it sends from what exists.
                    self.sent = skipped;
                    join.placed = true;
                }
                loop {
                    let got = Self::joined(join, &h, i, MAX_POINTS_PER_MESSAGE);
                    if got[0].is_empty() {
                        break;
                    }
                    let start = self.sent;
                    self.sent += got[0].len() as u64;
                    msgs.push(points(start, got));
                }
            }
        }
        msgs
    }

    fn on_event(&mut self, store: &Store, id: SubId, event: &Event) -> Vec<ServerMsg> {
        match event {
            // Another key of the run grew: nothing to read (the history stays unlocked). With an
            // x key, new x values alone join nothing until the metric's next point.
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
