//! A report's line chart as exported data: each run's series of the metric, decimated per column
//! by the daemon's series query over one shared window, smoothed like the web app smooths (each
//! column's last point), or, when grouped, one line per group (mean or median per column) with its
//! band (min–max or ± one standard deviation), as `frontend/src/charts/groups.rs` computes them.

use crate::error::Result;
use crate::query::series::series;
use crate::store::Store;
use serde::Serialize;
use trackline_shared::chart::{Agg, Band, ChartSettings};
use trackline_shared::chart::{group_value, run_color};
use trackline_shared::{Buckets, MAX_SERIES_RUNS, RunInfo, SeriesQuery, XAxis};

/// One chart, as the HTML page's script and the SVG writer read it.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Chart {
    pub key: String,
    /// The x axis for people (`step`, `wall time`, a metric's name).
    pub x_name: String,
    /// x values are unix seconds (shown as dates).
    pub x_time: bool,
    pub x_log: bool,
    pub y_log: bool,
    /// The decimated window (`None` when no run has a point of `key`).
    pub window: Option<(f64, f64)>,
    /// The group-by column when grouped.
    pub group_by: Option<String>,
    pub lines: Vec<Line>,
    /// Runs the run set selected; only the first [`MAX_SERIES_RUNS`] are drawn.
    pub runs: usize,
}

/// A run's line or a group's line; `x` ascending, the y columns as long as `x`, `null` where
/// there is nothing to draw (a non-finite value, or ≤ 0 on a log y axis).
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Line {
    pub label: String,
    pub color: &'static str,
    pub group: bool,
    pub x: Vec<f64>,
    /// A run: each column's last value; a group: its mean or median.
    pub y: Vec<Option<f64>>,
    /// A run: each column's min and max; a group: its band (empty without one).
    pub lo: Vec<Option<f64>>,
    pub hi: Vec<Option<f64>>,
    /// `y` smoothed (empty without smoothing).
    pub smooth: Vec<Option<f64>>,
}

impl Line {
    /// The value a reader is shown at index `i`: smoothed when smoothing is on.
    pub fn shown(&self, i: usize) -> Option<f64> {
        if self.smooth.is_empty() {
            self.y[i]
        } else {
            self.smooth[i]
        }
    }
}

/// The chart of metric `key` over `runs` with the panel's `settings`; grouped by the panel's
/// `group_by`, else by the run set's (`runset_group_by`).
pub fn line(
    store: &Store,
    project: &str,
    runs: &[&RunInfo],
    key: &str,
    settings: &ChartSettings,
    runset_group_by: Option<&str>,
    width: u32,
) -> Result<Chart> {
    let drawn = &runs[..runs.len().min(MAX_SERIES_RUNS)];
    let group_by = settings
        .group_by
        .clone()
        .or_else(|| runset_group_by.map(str::to_string));
    let mut chart = Chart {
        key: key.to_string(),
        x_name: settings.x_name(),
        x_time: settings.x_key.is_none() && settings.x == XAxis::WallTime,
        x_log: settings.x_log,
        y_log: settings.y_log,
        window: None,
        group_by: group_by.clone(),
        lines: Vec::new(),
        runs: runs.len(),
    };
    if drawn.is_empty() {
        return Ok(chart);
    }
    let answer = series(
        store,
        project,
        &SeriesQuery {
            runs: drawn
                .iter()
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>()
                .join(","),
            key: key.to_string(),
            x: settings.x,
            x_min: None,
            x_max: None,
            width,
            x_key: settings.x_key.clone(),
            x_log: settings.x_log,
        },
    )?;
    chart.window = answer.window;
    let y_log = settings.y_log;
    let per_run: Vec<RunLine> = answer
        .runs
        .iter()
        .map(|rs| RunLine::from_buckets(&rs.buckets, settings))
        .collect();
    match (&group_by, answer.window) {
        (Some(gk), Some(window)) => {
            let groups = groups_by(drawn.iter().map(|r| group_value(r, gk)));
            for (name, members) in groups {
                let members: Vec<&RunLine> = members.iter().map(|&i| &per_run[i]).collect();
                chart
                    .lines
                    .push(group_line(name, &members, settings, window, width, y_log));
            }
        }
        _ => {
            for (run, line) in drawn.iter().zip(per_run) {
                // Columns of one point each need no min–max span: leave them out of the file.
                let spans = line
                    .lo
                    .iter()
                    .zip(&line.hi)
                    .zip(&line.y)
                    .any(|((lo, hi), y)| *lo != Some(*y) || *hi != Some(*y));
                let (lo, hi) = if spans {
                    (line.lo, line.hi)
                } else {
                    (Vec::new(), Vec::new())
                };
                chart.lines.push(Line {
                    label: run.name.clone(),
                    color: run_color(&run.id),
                    group: false,
                    x: line.x,
                    y: line.y.iter().map(|&v| drawable(v, y_log)).collect(),
                    lo: lo
                        .iter()
                        .map(|&v| v.and_then(|v| drawable(v, y_log)))
                        .collect(),
                    hi: hi
                        .iter()
                        .map(|&v| v.and_then(|v| drawable(v, y_log)))
                        .collect(),
                    smooth: line.smooth.iter().map(|&v| drawable(v, y_log)).collect(),
                });
            }
        }
    }
    Ok(chart)
}

/// One run's decimated columns: x (each column's last point), last, min, max, smoothed last.
struct RunLine {
    column: Vec<u32>,
    x: Vec<f64>,
    y: Vec<f64>,
    lo: Vec<Option<f64>>,
    hi: Vec<Option<f64>>,
    smooth: Vec<f64>,
}

impl RunLine {
    fn from_buckets(b: &Buckets, settings: &ChartSettings) -> RunLine {
        let smooth = if settings.smoothing.is_active() {
            settings.smoothing.apply(&b.x_last, &b.last)
        } else {
            Vec::new()
        };
        RunLine {
            column: b.column.clone(),
            x: b.x_last.clone(),
            y: b.last.clone(),
            lo: b.min.clone(),
            hi: b.max.clone(),
            smooth,
        }
    }

    /// The value a group takes from this run in its `k`-th column.
    fn member_value(&self, k: usize) -> f64 {
        if self.smooth.is_empty() {
            self.y[k]
        } else {
            self.smooth[k]
        }
    }
}

/// A group's line: per column any member has, the centre of the members' finite values and the
/// band around it; the centre smoothed when smoothing is on. x is the column's middle.
fn group_line(
    name: String,
    members: &[&RunLine],
    settings: &ChartSettings,
    window: (f64, f64),
    width: u32,
    y_log: bool,
) -> Line {
    let mut cols: Vec<u32> = members
        .iter()
        .flat_map(|m| m.column.iter().copied())
        .collect();
    cols.sort_unstable();
    cols.dedup();
    let mut cursor = vec![0usize; members.len()];
    let (mut x, mut center, mut lo, mut hi) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut vals: Vec<f64> = Vec::new();
    for c in cols {
        vals.clear();
        for (j, m) in members.iter().enumerate() {
            if m.column.get(cursor[j]) == Some(&c) {
                let v = m.member_value(cursor[j]);
                if v.is_finite() {
                    vals.push(v);
                }
                cursor[j] += 1;
            }
        }
        if vals.is_empty() {
            continue;
        }
        let (c_val, l, h) = summarise(&mut vals, settings.agg, settings.band);
        x.push(column_middle(window, width, c, settings.x_log));
        center.push(c_val);
        lo.push(l);
        hi.push(h);
    }
    let smooth = if settings.smoothing.is_active() {
        settings.smoothing.apply(&x, &center)
    } else {
        Vec::new()
    };
    let band = settings.band != Band::None;
    let opt = |v: &[f64]| v.iter().map(|&v| drawable(v, y_log)).collect::<Vec<_>>();
    Line {
        color: run_color(&name),
        label: name,
        group: true,
        y: opt(&center),
        lo: if band { opt(&lo) } else { Vec::new() },
        hi: if band { opt(&hi) } else { Vec::new() },
        smooth: opt(&smooth),
        x,
    }
}

/// Centre (mean or median) and band (min–max, mean ± std, or none: the centre) of `vals`.
fn summarise(vals: &mut [f64], agg: Agg, band: Band) -> (f64, f64, f64) {
    let n = vals.len() as f64;
    let mean = vals.iter().sum::<f64>() / n;
    let center = match agg {
        Agg::Mean => mean,
        Agg::Median => {
            vals.sort_by(f64::total_cmp);
            let mid = (vals.len() - 1) as f64 * 0.5;
            let (a, b) = (vals[mid.floor() as usize], vals[mid.ceil() as usize]);
            a + (b - a) * (mid - mid.floor())
        }
    };
    let (lo, hi) = match band {
        Band::MinMax => vals
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            }),
        Band::Std => {
            let sd = (vals.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
            (mean - sd, mean + sd)
        }
        Band::None => (center, center),
    };
    (center, lo, hi)
}

/// The x in the middle of decimation column `c` of `width` over `window` (equal in log10 x on a
/// log axis).
fn column_middle(window: (f64, f64), width: u32, c: u32, log: bool) -> f64 {
    let f = (f64::from(c) + 0.5) / f64::from(width.max(1));
    if log && window.0 > 0.0 && window.1 > 0.0 {
        let (a, b) = (window.0.log10(), window.1.log10());
        10f64.powf(a + (b - a) * f)
    } else {
        window.0 + (window.1 - window.0) * f
    }
}

/// `v` when a chart can draw it: finite, and above zero on a log axis.
fn drawable(v: f64, log: bool) -> Option<f64> {
    (v.is_finite() && (!log || v > 0.0)).then_some(v)
}

/// Runs split by their group value, groups in order of first appearance.
fn groups_by(values: impl IntoIterator<Item = String>) -> Vec<(String, Vec<usize>)> {
    let mut out: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, name) in values.into_iter().enumerate() {
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, m)) => m.push(i),
            None => out.push((name, vec![i])),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_summarise_like_the_web_app() {
        let mut v = vec![3.0, 1.0, 2.0, 10.0];
        assert_eq!(summarise(&mut v, Agg::Mean, Band::MinMax), (4.0, 1.0, 10.0));
        let mut v = vec![3.0, 1.0, 2.0, 10.0];
        assert_eq!(summarise(&mut v, Agg::Median, Band::None), (2.5, 2.5, 2.5));
        let mut v = vec![1.0, 3.0];
        assert_eq!(summarise(&mut v, Agg::Mean, Band::Std), (2.0, 1.0, 3.0));
        assert_eq!(
            groups_by(["a".to_string(), "b".into(), "a".into()]),
            vec![("a".to_string(), vec![0, 2]), ("b".to_string(), vec![1])]
        );
        assert_eq!(column_middle((0.0, 100.0), 10, 0, false), 5.0);
        assert!((column_middle((1.0, 100.0), 2, 1, true) - 10f64.powf(1.5)).abs() < 1e-9);
        assert_eq!(drawable(-1.0, true), None);
        assert_eq!(drawable(f64::NAN, false), None);
    }
}
