//! The series query: several runs' points of one metric, decimated per pixel column over one shared
//! x window (see `docs/api.md`).

use super::decimate;
use crate::error::{Error, Result};
use crate::store::series::Series;
use crate::store::{Run, Store};
use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;
use trackline_shared::{
    Buckets, MAX_SERIES_RUNS, RunSeries, SeriesQuery, SeriesResponse, XAxis, series_wire,
};

pub const MAX_WIDTH: u32 = 16_384;

pub fn series(store: &Store, project: &str, q: &SeriesQuery) -> Result<SeriesResponse> {
    with_plan(store, project, q, |p| {
        let buckets = on_cores(p.len(), p.points(), |i| p.decimate(i))?;
        let runs = buckets
            .into_iter()
            .enumerate()
            .map(|(i, buckets)| RunSeries {
                run: p.run_id(i).to_string(),
                total_points: p.total_points(i),
                buckets,
            })
            .collect();
        Ok(p.answer(runs))
    })
}

/// [`series`] in the binary form of [`series_wire`], as parts to send one after the other (the
/// header, then the runs' bodies). Each core decimates a slice of the runs and encodes each run as
/// soon as it is decimated, so no run's columns outlive their encoding and the answer is not copied
/// into one buffer: a 1,000-run answer is ~58 MB, and every buffer is memory freshly mapped
/// and zeroed. `None` when a width does not fit the binary form.
pub fn series_binary(
    store: &Store,
    project: &str,
    q: &SeriesQuery,
) -> Result<Option<Vec<Vec<u8>>>> {
    with_plan(store, project, q, |p| {
        let parts = on_cores_slices(p.len(), p.points(), |slice| {
            let mut runs =
                series_wire::RunsEncoder::after(slice.start.checked_sub(1).map(|i| p.decimate(i)));
            for i in slice {
                runs.push(p.run_id(i), p.total_points(i), p.decimate(i))?;
            }
            Some(runs.finish())
        })?;
        let Some(parts) = parts.into_iter().collect::<Option<Vec<_>>>() else {
            return Ok(None);
        };
        let Some(head) = series_wire::head(&p.answer(Vec::new()), &parts) else {
            return Ok(None);
        };
        Ok(Some(
            std::iter::once(head)
                .chain(parts.into_iter().map(|part| part.body))
                .collect(),
        ))
    })
}

/// A checked query over its runs' series: what [`series`] and [`series_binary`] decimate.
struct Plan<'a> {
    q: &'a SeriesQuery,
    runs: &'a [(Arc<Run>, f64)],
    axis: XAxis,
    scale: decimate::Scale,
    sources: Vec<Option<Cow<'a, Series>>>,
    window: Option<(f64, f64)>,
}

impl Plan<'_> {
    fn len(&self) -> usize {
        self.runs.len()
    }

    /// Points of all the runs' series.
    fn points(&self) -> usize {
        self.sources.iter().flatten().map(|s| s.len()).sum()
    }

    fn run_id(&self, i: usize) -> &str {
        &self.runs[i].0.key.run
    }

    /// Against `x_key`, the joined points: what a subscription with that `x_key` counts.
    fn total_points(&self, i: usize) -> u64 {
        self.sources[i].as_ref().map_or(0, |s| s.len() as u64)
    }

    /// The x origin of run `i` (its creation time for relative time; none against `x_key`).
    fn origin(&self, i: usize) -> f64 {
        if self.q.x_key.is_some() {
            0.0
        } else {
            self.runs[i].1
        }
    }

    fn decimate(&self, i: usize) -> Buckets {
        match (&self.sources[i], self.window) {
            (Some(s), Some(w)) => {
                decimate::decimate_on(s, self.axis, self.origin(i), w, self.q.width, self.scale)
            }
            _ => Buckets::default(),
        }
    }

    /// The answer holding `runs`.
    fn answer(&self, runs: Vec<RunSeries>) -> SeriesResponse {
        SeriesResponse {
            key: self.q.key.clone(),
            x: self.q.x,
            x_key: self.q.x_key.clone(),
            window: self.window,
            width: self.q.width,
            x_log: self.q.x_log,
            runs,
        }
    }
}

/// Checks `q`, loads its runs' histories and calls `f` with the plan of their decimation (the
/// runs' histories stay locked meanwhile).
fn with_plan<T>(
    store: &Store,
    project: &str,
    q: &SeriesQuery,
    f: impl FnOnce(&Plan<'_>) -> Result<T>,
) -> Result<T> {
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
    let mut plan = Plan {
        q,
        runs: &runs,
        axis,
        scale,
        sources,
        window: None,
    };

    // The window: what was asked, completed by the union of the runs' extents.
    let mut extent: Option<(f64, f64)> = None;
    if q.x_min.is_none() || q.x_max.is_none() {
        for (i, source) in plan.sources.iter().enumerate() {
            if let Some(s) = source
                && let Some((lo, hi)) = decimate::extent_on(s, axis, plan.origin(i), scale)
            {
                extent = Some(match extent {
                    Some((a, b)) => (a.min(lo), b.max(hi)),
                    None => (lo, hi),
                });
            }
        }
    }
    plan.window = match (q.x_min, q.x_max, extent) {
        (Some(a), Some(b), _) => Some((a, b)),
        (Some(a), None, Some((_, hi))) => Some((a, hi.max(a))),
        (None, Some(b), Some((lo, _))) => Some((lo.min(b), b)),
        (None, None, e) => e,
        _ => None,
    };
    f(&plan)
}

/// Points from which a query's runs are decimated on several cores: below, one thread's work is
/// shorter than starting the others.
const PARALLEL_POINTS: usize = 1 << 20;

/// `f(0..n)` in order, on up to as many threads as the machine has cores when the runs hold
/// `points` ≥ [`PARALLEL_POINTS`] in all (a panel of 1,000 runs × 100k steps took ~0.8 s on one).
fn on_cores<T: Send>(n: usize, points: usize, f: impl Fn(usize) -> T + Sync) -> Result<Vec<T>> {
    let slices = on_cores_slices(n, points, |slice| slice.map(&f).collect::<Vec<T>>())?;
    Ok(slices.into_iter().flatten().collect())
}

/// `f` of consecutive slices of `0..n`, in order: one slice a core when the runs hold `points` ≥
/// [`PARALLEL_POINTS`] in all, else `0..n` on the caller's thread.
fn on_cores_slices<T: Send>(
    n: usize,
    points: usize,
    f: impl Fn(Range<usize>) -> T + Sync,
) -> Result<Vec<T>> {
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    if cores < 2 || n < 2 || points < PARALLEL_POINTS {
        return Ok(vec![f(0..n)]);
    }
    let chunk = n.div_ceil(cores.min(n));
    let f = &f;
    std::thread::scope(|scope| {
        let parts: Vec<_> = (0..n)
            .step_by(chunk)
            .map(|start| scope.spawn(move || f(start..(start + chunk).min(n))))
            .collect();
        parts
            .into_iter()
            .map(|part| {
                part.join()
                    .map_err(|_| Error::Internal("decimating a run failed".into()))
            })
            .collect()
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

    /// The binary answer, decimated and encoded a slice of runs a core, is the bytes of the JSON
    /// answer's encoding, over enough points to use every core (runs of both kinds at the cuts:
    /// logged at the same steps as the run before, and not).
    #[test]
    fn the_binary_answer_encoded_on_several_cores_is_the_answers_encoding() {
        use crate::format::HISTORY_FILE;
        use crate::source::disk::DiskSource;
        use crate::store::{RunMeta, StoreSettings};
        use std::fmt::Write;
        use trackline_shared::RunState;

        let root = tempfile::tempdir().unwrap();
        let source = Arc::new(DiskSource::new(root.path().to_owned()));
        let store = Store::new(StoreSettings::default());
        let runs = 9;
        // Over PARALLEL_POINTS in all.
        let steps = PARALLEL_POINTS / 6 + 1000;
        for r in 0..runs {
            let key = crate::format::RunKey {
                project: "p".into(),
                run: format!("r{r}"),
            };
            let dir = source.run_dir(&key);
            std::fs::create_dir_all(&dir).unwrap();
            // Runs 3 and 7 log every other step: their columns are not the run before's. On two
            // cores the second slice starts at run 5, which shares run 4's.
            let every = if r % 4 == 3 { 2 } else { 1 };
            let mut rows = String::new();
            for s in (0..steps).step_by(every) {
                let v = (s as f64 * 0.001 + r as f64).sin()
                    + if s == 777 * (r + 1) { 9.0 } else { 0.0 };
                writeln!(
                    rows,
                    "{{\"_step\": {s}, \"_timestamp\": {}, \"loss\": {v}}}",
                    1.7e9 + s as f64 * 0.01
                )
                .unwrap();
            }
            std::fs::write(dir.join(HISTORY_FILE), rows).unwrap();
            let meta = RunMeta::of(&key, RunState::Finished);
            store.upsert(key, dir, source.clone(), meta, 1.0);
        }
        let ids: Vec<String> = (0..runs).map(|r| format!("r{r}")).collect();
        let all = SeriesQuery {
            runs: ids.join(","),
            key: "loss".into(),
            x: XAxis::Step,
            x_min: None,
            x_max: None,
            width: 300,
            x_key: None,
            x_log: false,
        };
        let zoomed = SeriesQuery {
            x_min: Some(1000.0),
            x_max: Some(5000.0),
            ..all.clone()
        };
        let relative = SeriesQuery {
            x: XAxis::RelativeTime,
            ..all.clone()
        };
        for q in [all, zoomed, relative] {
            let whole = series_wire::encode(&super::series(&store, "p", &q).unwrap()).unwrap();
            let parts = series_binary(&store, "p", &q).unwrap().unwrap();
            let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
            assert_eq!(parts.len(), 1 + cores, "the header and a part a core");
            assert!(parts.concat() == whole, "{q:?}");
        }
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
