//! A sweep's small charts: each run's metric against the time it ended (or was handed out) with
//! the best so far as a step line, and a scatter of each parameter that varies against the
//! metric. SVG, drawn from the sweep's detail; positions come from [`super::parcoords`].
//!
//! Test ids: `sweep-metric-time` (its `sweep-metric-point`s and `sweep-best-line`),
//! `sweep-scatter` (with `data-name`, its `sweep-scatter-point`s).

use leptos::prelude::*;
use trackline_shared::sweeps::SweepDetail;

use super::parcoords::{axes, run_positions};

const W: f64 = 420.0;
const H: f64 = 200.0;
const PAD: f64 = 30.0;

fn sx(p: f64, w: f64) -> f64 {
    PAD + p * (w - 2.0 * PAD)
}

fn sy(p: f64, h: f64) -> f64 {
    h - PAD - p * (h - 2.0 * PAD)
}

/// `(time, value)` points.
pub type Points = Vec<(f64, f64)>;

/// `(time, metric)` of each run with a metric, by time, and the best so far after each.
pub fn over_time(detail: &SweepDetail) -> (Points, Points) {
    let maximize = detail
        .info
        .metric
        .as_ref()
        .is_some_and(|m| m.goal == "maximize");
    let mut points: Points = detail
        .runs
        .iter()
        .filter_map(|r| r.metric.map(|m| (r.ended_at.unwrap_or(r.assigned_at), m)))
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut best: Points = Vec::new();
    for &(t, m) in &points {
        let better = best
            .last()
            .is_none_or(|&(_, b)| if maximize { m > b } else { m < b });
        let value = if better {
            m
        } else {
            best.last().map_or(m, |b| b.1)
        };
        best.push((t, value));
    }
    (points, best)
}

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if lo < hi {
        (lo, hi)
    } else {
        (lo - 0.5, hi + 0.5)
    }
}

#[component]
pub fn MetricOverTime(detail: Signal<Option<SweepDetail>>) -> impl IntoView {
    move || {
        let d = detail.get()?;
        let (points, best) = over_time(&d);
        if points.is_empty() {
            return None;
        }
        let (t0, t1) = range(points.iter().map(|p| p.0));
        let (m0, m1) = range(points.iter().map(|p| p.1));
        let at = |t: f64, m: f64| (sx((t - t0) / (t1 - t0), W), sy((m - m0) / (m1 - m0), H));
        let dots = points
            .iter()
            .map(|&(t, m)| {
                let (x, y) = at(t, m);
                view! { <circle data-testid="sweep-metric-point" cx=x cy=y r=3.5 fill="#2f5fd0" /> }
            })
            .collect_view();
        let mut line = String::new();
        let mut last: Option<(f64, f64)> = None;
        for &(t, b) in &best {
            let (x, y) = at(t, b);
            if let Some((_, ly)) = last {
                line.push_str(&format!(" {x:.1},{ly:.1}"));
            }
            line.push_str(&format!(" {x:.1},{y:.1}"));
            last = Some((x, y));
        }
        let name = d.info.metric.map(|m| m.name).unwrap_or_default();
        Some(view! {
            <div class="panel">
                <h2>"Metric over time"</h2>
                <svg class="sw-pc" data-testid="sweep-metric-time" viewBox=format!("0 0 {W} {H}")>
                    <line x1=PAD y1=H - PAD x2=W - PAD y2=H - PAD stroke="#8892a6" />
                    <line x1=PAD y1=PAD x2=PAD y2=H - PAD stroke="#8892a6" />
                    <text x=PAD y=PAD - 8.0 font-size="11">{name} " (best so far: line)"</text>
                    <text x=2.0 y=PAD + 4.0 font-size="10">{super::fmt_metric(Some(m1))}</text>
                    <text x=2.0 y=H - PAD font-size="10">{super::fmt_metric(Some(m0))}</text>
                    {dots}
                    <polyline data-testid="sweep-best-line" points=line fill="none" stroke="#d0482f" stroke-width="2" />
                </svg>
            </div>
        })
    }
}

#[component]
pub fn Scatters(detail: Signal<Option<SweepDetail>>) -> impl IntoView {
    move || {
        let d = detail.get()?;
        let ax = axes(&d);
        let metric = ax.iter().position(|a| a.is_metric)?;
        let positions = run_positions(&d, &ax);
        let (w, h) = (240.0, 160.0);
        let charts = ax
            .iter()
            .enumerate()
            .filter(|(_, a)| !a.is_metric)
            .map(|(i, a)| {
                let dots = positions
                    .iter()
                    .filter_map(|(_, p)| Some((p[i]?, p[metric]?)))
                    .map(|(x, y)| {
                        view! { <circle data-testid="sweep-scatter-point" cx=sx(x, w) cy=sy(y, h) r=3.0 fill="#2f5fd0" /> }
                    })
                    .collect_view();
                view! {
                    <svg class="sw-pc" style="max-width: 260px" data-testid="sweep-scatter" data-name=a.name.clone()
                        viewBox=format!("0 0 {w} {h}")>
                        <line x1=PAD y1=h - PAD x2=w - PAD y2=h - PAD stroke="#8892a6" />
                        <line x1=PAD y1=PAD x2=PAD y2=h - PAD stroke="#8892a6" />
                        <text x=PAD y=h - 8.0 font-size="11">{a.name.clone()}</text>
                        {dots}
                    </svg>
                }
            })
            .collect_view();
        Some(view! {
            <div class="panel">
                <h2>"Parameters against the metric"</h2>
                <div style="display: flex; flex-wrap: wrap; gap: 8px">{charts}</div>
            </div>
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn best_so_far_follows_the_goal() {
        let detail: SweepDetail = serde_json::from_value(json!({
            "info": {"id": "abcdefgh", "project": "p", "name": "s", "method": "random",
                     "metric": {"name": "loss", "goal": "minimize"}, "state": "running",
                     "run_count": 3, "running_count": 0, "agent_count": 0,
                     "created_at": 0.0, "updated_at": 0.0},
            "config": {},
            "runs": [
                {"run": "a", "params": {}, "state": "finished", "metric": 2.0, "agent": "x", "assigned_at": 0.0, "ended_at": 3.0},
                {"run": "b", "params": {}, "state": "finished", "metric": 1.0, "agent": "x", "assigned_at": 0.0, "ended_at": 1.0},
                {"run": "c", "params": {}, "state": "finished", "metric": 0.5, "agent": "x", "assigned_at": 0.0, "ended_at": 5.0},
                {"run": "d", "params": {}, "state": "running", "agent": "x", "assigned_at": 4.0}
            ]
        }))
        .unwrap();
        let (points, best) = over_time(&detail);
        assert_eq!(points, vec![(1.0, 1.0), (3.0, 2.0), (5.0, 0.5)]);
        assert_eq!(best, vec![(1.0, 1.0), (3.0, 1.0), (5.0, 0.5)]);
    }
}
