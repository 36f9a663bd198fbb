//! The series query: several runs' points of one metric, decimated per pixel column over one shared
//! x window (see `docs/api.md`).

use super::decimate;
use crate::error::{Error, Result};
use crate::store::Store;
use crate::store::series::Series;
use std::borrow::Cow;
use trackline_shared::{Buckets, MAX_SERIES_RUNS, RunSeries, SeriesQuery, SeriesResponse, XAxis};

pub const MAX_WIDTH: u32 = 16_384;

pub fn series(store: &Store, project: &str, q: &SeriesQuery) -> Result<SeriesResponse> {
    if q.width == 0 || q.width > MAX_WIDTH {
        return Err(Error::BadRequest(format!(
            "width must be 1..={MAX_WIDTH}, not {}",
            q.width
        )));
    }
    let ids: Vec<&str> = q
        .runs
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if ids.is_empty() || ids.len() > MAX_SERIES_RUNS {
        return Err(Error::BadRequest(format!(
            "runs must name 1..={MAX_SERIES_RUNS} run ids"
        )));
    }
    for bound in [q.x_min, q.x_max].into_iter().flatten() {
        if !bound.is_finite() {
            return Err(Error::BadRequest(
                "x_min and x_max must be finite numbers".into(),
            ));
        }
    }
    if q.x_log
        && let Some(a) = q.x_min
        && a <= 0.0
    {
        return Err(Error::BadRequest(format!(
            "x_min ({a}) must be above zero on a log x axis (x_log)"
        )));
    }
    let scale = if q.x_log {
        decimate::Scale::Log
    } else {
        decimate::Scale::Linear
    };
    if let (Some(a), Some(b)) = (q.x_min, q.x_max)
        && a > b
    {
        return Err(Error::BadRequest(format!(
            "x_min ({a}) is larger than x_max ({b})"
        )));
    }
    let found = ids
        .iter()
        .map(|id| super::run(store, project, id))
        .collect::<Result<Vec<_>>>()?;
    if let Some(cache) = store.series_cache() {
        cache.note_viewed(project);
    }
    store.ensure_loaded_all(&found)?;
    let runs: Vec<_> = found
        .into_iter()
        .map(|run| {
            let origin = run.meta().info.created_at_secs;
            (run, origin)
        })
        .collect();

    // Each run's points of `key`, against the x axis asked for. Against another metric (`x_key`),
    // the points are joined by step into a series of their own.
    let guards: Vec<_> = runs.iter().map(|(run, _)| run.history.lock()).collect();
    let (axis, sources): (XAxis, Vec<Option<Cow<'_, Series>>>) = match &q.x_key {
        None => (
            q.x,
            guards
                .iter()
                .map(|h| h.series_by_key(&q.key).map(Cow::Borrowed))
                .collect(),
        ),
        Some(x_key) => (
            XAxis::Step,
            guards
                .iter()
                .map(
                    |h| match (h.series_by_key(&q.key), h.series_by_key(x_key)) {
                        (Some(y), Some(x)) => Some(Cow::Owned(join_by_step(y, x))),
                        _ => None,
                    },
                )
                .collect(),
        ),
    };
    let origin = |i: usize| if q.x_key.is_some() { 0.0 } else { runs[i].1 };

    // The window: what was asked, completed by the union of the runs' extents.
    let mut extent: Option<(f64, f64)> = None;
    if q.x_min.is_none() || q.x_max.is_none() {
        for (i, source) in sources.iter().enumerate() {
            if let Some(s) = source
                && let Some((lo, hi)) = decimate::extent_on(s, axis, origin(i), scale)
            {
                extent = Some(match extent {
                    Some((a, b)) => (a.min(lo), b.max(hi)),
                    None => (lo, hi),
                });
            }
        }
    }
    let window = match (q.x_min, q.x_max, extent) {
        (Some(a), Some(b), _) => Some((a, b)),
        (Some(a), None, Some((_, hi))) => Some((a, hi.max(a))),
        (None, Some(b), Some((lo, _))) => Some((lo.min(b), b)),
        (None, None, e) => e,
        _ => None,
    };

    let decimate_run = |i: usize| match (&sources[i], window) {
        (Some(s), Some(w)) => decimate::decimate_on(s, axis, origin(i), w, q.width, scale),
        _ => Buckets::default(),
    };
    let points: usize = sources.iter().flatten().map(|s| s.len()).sum();
    let buckets = on_cores(runs.len(), points, decimate_run)?;
    let mut out = Vec::with_capacity(runs.len());
    for ((i, (run, _)), buckets) in runs.iter().enumerate().zip(buckets) {
        out.push(RunSeries {
            run: run.key.run.clone(),
            // Against `x_key`, the joined points: what a subscription with that `x_key` counts.
            total_points: sources[i].as_ref().map_or(0, |s| s.len() as u64),
            buckets,
        });
    }
    Ok(SeriesResponse {
        key: q.key.clone(),
        x: q.x,
        x_key: q.x_key.clone(),
        window,
        width: q.width,
        x_log: q.x_log,
        runs: out,
    })
}

/// Points from which a query's runs are decimated on several cores: below, one thread's work is
/// shorter than starting the others.
const PARALLEL_POINTS: usize = 1 << 20;

/// `f(0..n)` in order, on up to as many threads as the machine has cores when the runs hold
/// `points` ≥ [`PARALLEL_POINTS`] in all (a panel of 1,000 runs × 100k steps took ~0.8 s on one).
fn on_cores<T: Send>(n: usize, points: usize, f: impl Fn(usize) -> T + Sync) -> Result<Vec<T>> {
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    if cores < 2 || n < 2 || points < PARALLEL_POINTS {
        return Ok((0..n).map(f).collect());
    }
    let chunk = n.div_ceil(cores.min(n));
    let f = &f;
    std::thread::scope(|scope| {
        let parts: Vec<_> = (0..n)
            .step_by(chunk)
            .map(|start| scope.spawn(move || (start..(start + chunk).min(n)).map(f).collect()))
            .collect();
        let mut out = Vec::with_capacity(n);
        for part in parts {
            let part: Vec<T> = part
                .join()
                .map_err(|_| Error::Internal("decimating a run failed".into()))?;
            out.extend(part);
        }
        Ok(out)
    })
}

/// `y` against `x`: each point of `y` takes as its x the value `x` had at the same step, or at the
/// latest step before it (a metric logged less often, like `epoch`). Points before the first `x`,
/// or whose x is not finite, are left out. The result is sorted by x (stable), as decimation needs;
/// its "steps" are those x values.
pub fn join_by_step(y: &Series, x: &Series) -> Series {
    let (xs_step, xs_val) = (x.steps(), x.values());
    let mut pairs: Vec<(f64, f64, f64)> = Vec::with_capacity(y.len());
    let mut j = 0;
    for i in 0..y.len() {
        let step = y.steps().get(i);
        while j < xs_step.len() && xs_step.get(j) <= step {
            j += 1;
        }
        if j == 0 {
            continue;
        }
        let xv = xs_val[j - 1];
        if xv.is_finite() {
            pairs.push((xv, y.wall().get(i), y.values()[i]));
        }
    }
    if !pairs.is_sorted_by(|a, b| a.0 <= b.0) {
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let mut out = Series::new();
    for (xv, wall, v) in pairs {
        out.push(xv, wall, v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(points: &[(f64, f64)]) -> Series {
        let mut s = Series::new();
        for &(step, v) in points {
            s.push(step, step, v);
        }
        s
    }

    #[test]
    fn joins_on_the_latest_x_at_or_before_each_step() {
        let loss = series(&[(0.0, 10.0), (1.0, 9.0), (2.0, 8.0), (3.0, 7.0), (4.0, 6.0)]);
        let epoch = series(&[(1.0, 0.0), (3.0, 1.0)]);
        let j = join_by_step(&loss, &epoch);
        assert_eq!(j.steps().to_vec(), [0.0, 0.0, 1.0, 1.0]);
        assert_eq!(j.values(), &[9.0, 8.0, 7.0, 6.0]);
        // A decreasing x (a learning-rate schedule) comes out sorted.
        let lr = series(&[(0.0, 0.3), (2.0, 0.2), (4.0, 0.1)]);
        let j = join_by_step(&loss, &lr);
        assert_eq!(j.steps().to_vec(), [0.1, 0.2, 0.2, 0.3, 0.3]);
        assert_eq!(j.values(), &[6.0, 8.0, 7.0, 10.0, 9.0]);
    }

    #[test]
    fn work_on_several_cores_comes_back_in_order_and_a_panic_is_an_error() {
        let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
        let threads = std::sync::Mutex::new(std::collections::HashSet::new());
        let out = on_cores(1001, PARALLEL_POINTS, |i| {
            threads.lock().unwrap().insert(std::thread::current().id());
            i * 2
        })
        .unwrap();
        assert_eq!(out, (0..1001).map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(threads.lock().unwrap().len(), cores.min(1001));
        // Few points: on the caller's thread.
        let caller = std::thread::current().id();
        assert!(
            on_cores(3, 10, |_| std::thread::current().id())
                .unwrap()
                .iter()
                .all(|t| *t == caller)
        );
        let failed = on_cores(8, PARALLEL_POINTS, |i| {
            assert!(i != 5, "run 5 is damaged");
            i
        });
        assert!(failed.is_err());
    }
}
