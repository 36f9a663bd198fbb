//! The series query: several runs' points of one metric, decimated per pixel column over one shared
//! x window (see `docs/api.md`).

use super::decimate;
use crate::error::{Error, Result};
use crate::store::Store;
use trackline_shared::{Buckets, RunSeries, SeriesQuery, SeriesResponse};

pub const MAX_WIDTH: u32 = 16_384;
pub const MAX_RUNS: usize = 1_000;

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
    if ids.is_empty() || ids.len() > MAX_RUNS {
        return Err(Error::BadRequest(format!(
            "runs must name 1..={MAX_RUNS} run ids"
        )));
    }
    for bound in [q.x_min, q.x_max].into_iter().flatten() {
        if !bound.is_finite() {
            return Err(Error::BadRequest(
                "x_min and x_max must be finite numbers".into(),
            ));
        }
    }
    if let (Some(a), Some(b)) = (q.x_min, q.x_max)
        && a > b
    {
        return Err(Error::BadRequest(format!(
            "x_min ({a}) is larger than x_max ({b})"
        )));
    }
    let mut runs = Vec::with_capacity(ids.len());
    for id in &ids {
        let run = super::run(store, project, id)?;
        store.ensure_loaded(&run)?;
        let origin = run.meta().info.created_at_secs;
        runs.push((run, origin));
    }

    // The window: what was asked, completed by the union of the runs' extents.
    let mut extent: Option<(f64, f64)> = None;
    if q.x_min.is_none() || q.x_max.is_none() {
        for (run, origin) in &runs {
            let h = run.history.lock();
            if let Some(s) = h.series_by_key(&q.key)
                && let Some((lo, hi)) = decimate::extent(s, q.x, *origin)
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

    let mut out = Vec::with_capacity(runs.len());
    for (run, origin) in &runs {
        let h = run.history.lock();
        let series = h.series_by_key(&q.key);
        let buckets = match (series, window) {
            (Some(s), Some(w)) => decimate::decimate(s, q.x, *origin, w, q.width),
            _ => Buckets::default(),
        };
        out.push(RunSeries {
            run: run.key.run.clone(),
            total_points: series.map_or(0, |s| s.len() as u64),
            buckets,
        });
    }
    Ok(SeriesResponse {
        key: q.key.clone(),
        x: q.x,
        window,
        width: q.width,
        runs: out,
    })
}
