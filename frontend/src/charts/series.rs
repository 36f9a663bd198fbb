//! The data one chart holds: decimated history from the REST series query, plus the raw points
//! appended live by the WebSocket `series` topic after it.

use std::sync::atomic::{AtomicU64, Ordering};
use trackline_shared::api::{Buckets, RunSeries};

/// Versions for [`SeriesState::version`], unique across all states of the page.
static NEXT_VERSION: AtomicU64 = AtomicU64::new(1);

fn next_version() -> u64 {
    NEXT_VERSION.fetch_add(1, Ordering::Relaxed)
}

/// Decimated history followed by raw live points.
///
/// Offsets: the history covers points `0 .. total`; the tail holds points `total .. total + tail.len()`
/// exactly once each, in order. [`SeriesState::held`] is the offset of the next point wanted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeriesState {
    pub buckets: Buckets,
    /// The x window the buckets were decimated over (`None` when the history was empty).
    pub window: Option<(f64, f64)>,
    /// Columns the history was decimated into.
    pub width: u32,
    /// Whether those columns are equal in log10(x) (a log x axis) rather than in x.
    pub log: bool,
    /// Changes whenever the points held change (0 for an empty default state): a frame can reuse
    /// what it derived from the same version (the smoothed samples) instead of recomputing it.
    pub version: u64,
    /// `total_points` of the history answer: offset of the first tail point.
    pub total: u64,
    pub tail_x: Vec<f64>,
    pub tail_y: Vec<f64>,
}

/// What [`SeriesState::append`] did with a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendOutcome {
    /// This many new points were appended (0 when all were already held).
    Appended(usize),
    /// The message starts past the points held: points are missing; the history must be refetched.
    Gap,
}

impl SeriesState {
    /// A state holding the history answer `rs`, decimated over `window` into `width` columns.
    pub fn from_history(window: Option<(f64, f64)>, width: u32, rs: RunSeries) -> Self {
        SeriesState {
            buckets: rs.buckets,
            window,
            width,
            log: false,
            version: next_version(),
            total: rs.total_points,
            tail_x: Vec::new(),
            tail_y: Vec::new(),
        }
    }

    /// Replaces the history with a newer answer (after a resize or to fold a long tail back into
    /// buckets), keeping only the live points it does not cover, so no point is counted twice.
    pub fn replace_history(&mut self, window: Option<(f64, f64)>, width: u32, rs: RunSeries) {
        let new_total = rs.total_points;
        if new_total < self.total {
            // The series shrank (a rewritten history file): the old tail's offsets mean nothing now.
            self.tail_x.clear();
            self.tail_y.clear();
        } else {
            let covered = usize::try_from(new_total - self.total)
                .unwrap_or(usize::MAX)
                .min(self.tail_x.len());
            self.tail_x.drain(..covered);
            self.tail_y.drain(..covered);
        }
        self.version = next_version();
        self.buckets = rs.buckets;
        self.window = window;
        self.width = width;
        self.total = new_total;
    }

    /// Offset of the next point this state lacks.
    pub fn held(&self) -> u64 {
        self.total + self.tail_x.len() as u64
    }

    /// Raw points represented: bucket counts plus live points.
    pub fn points(&self) -> u64 {
        self.buckets.points() + self.tail_x.len() as u64
    }

    /// Live points held beyond the decimated history.
    pub fn tail_len(&self) -> usize {
        self.tail_x.len()
    }

    /// Appends points `start .. start + xs.len()`: those below [`held`](Self::held) are ignored,
    /// the rest appended; a message starting past `held` is a gap and nothing is appended.
    pub fn append(&mut self, start: u64, xs: &[f64], ys: &[f64]) -> AppendOutcome {
        let n = xs.len().min(ys.len());
        let held = self.held();
        if start > held {
            return AppendOutcome::Gap;
        }
        let skip = usize::try_from(held - start).unwrap_or(usize::MAX);
        if skip >= n {
            return AppendOutcome::Appended(0);
        }
        self.tail_x.extend_from_slice(&xs[skip..n]);
        self.tail_y.extend_from_slice(&ys[skip..n]);
        self.version = next_version();
        AppendOutcome::Appended(n - skip)
    }

    /// Whether the live tail has grown enough (beyond twice the column count) that the history
    /// should be fetched again, decimated, to keep drawing cheap.
    pub fn wants_compaction(&self) -> bool {
        self.tail_x.len() > 2 * (self.width.max(1) as usize)
    }
}
