//! Parallel coordinates of a sweep: an axis per parameter that varies (numbers linear, or log
//! when the config's distribution is a log one; categories evenly spaced) and one for the
//! metric, a line per run coloured by its metric. Dragging along an axis brushes a range: runs
//! outside any brush dim, and the page's table shows only the others; a click on an axis
//! clears its brush. The model ([`axes`], [`position`], [`passes`]) is plain Rust.
//!
//! Test ids: `parcoords`, `parcoords-axis` (with `data-name`), `parcoords-line` (with
//! `data-run` and `data-dim`).

use leptos::prelude::*;
use serde_json::Value;
use std::collections::HashMap;
use trackline_shared::sweeps::SweepDetail;
use wasm_bindgen::JsCast;

/// One axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The parameter's dotted name, or the metric's name.
    pub name: String,
    pub is_metric: bool,
    pub scale: Scale,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Scale {
    Linear {
        min: f64,
        max: f64,
    },
    Log {
        min: f64,
        max: f64,
    },
    /// Values in the order first seen, as their JSON text.
    Categories(Vec<String>),
}

/// Brushes by axis name: a range of positions, 0 (bottom) to 1 (top).
pub type Brushes = HashMap<String, (f64, f64)>;

/// Flattens nested parameters to dotted names.
pub fn flat(params: &serde_json::Map<String, Value>) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (k, v) in params {
        match v {
            Value::Object(inner) => {
                for (ik, iv) in flat(inner) {
                    out.push((format!("{k}.{ik}"), iv));
                }
            }
            other => out.push((k.clone(), other.clone())),
        }
    }
    out
}

/// Whether the config gives `name` a log distribution.
fn is_log(config: &Value, name: &str) -> bool {
    let mut node = config.get("parameters");
    let parts: Vec<&str> = name.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        node = node.and_then(|n| n.get(*part));
        if i + 1 < parts.len() {
            node = node.and_then(|n| n.get("parameters"));
        }
    }
    node.and_then(|n| n.get("distribution"))
        .and_then(Value::as_str)
        .is_some_and(|d| d.contains("log"))
}

fn scale_of(config: &Value, name: &str, values: &[Value]) -> Option<Scale> {
    let numbers: Vec<f64> = values.iter().filter_map(Value::as_f64).collect();
    if !values.is_empty() && numbers.len() == values.len() {
        let min = numbers.iter().copied().fold(f64::INFINITY, f64::min);
        let max = numbers.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if min.partial_cmp(&max) != Some(std::cmp::Ordering::Less) {
            return None;
        }
        return Some(if is_log(config, name) && min > 0.0 {
            Scale::Log { min, max }
        } else {
            Scale::Linear { min, max }
        });
    }
    let mut seen: Vec<String> = Vec::new();
    for v in values {
        let text = v.to_string();
        if !seen.contains(&text) {
            seen.push(text);
        }
    }
    (seen.len() > 1).then_some(Scale::Categories(seen))
}

/// The axes of a sweep: its varying parameters, then its metric.
pub fn axes(detail: &SweepDetail) -> Vec<Axis> {
    let mut by_name: Vec<(String, Vec<Value>)> = Vec::new();
    for run in &detail.runs {
        for (name, value) in flat(&run.params) {
            match by_name.iter_mut().find(|(n, _)| *n == name) {
                Some((_, values)) => values.push(value),
                None => by_name.push((name, vec![value])),
            }
        }
    }
    let mut out: Vec<Axis> = by_name
        .into_iter()
        .filter_map(|(name, values)| {
            Some(Axis {
                scale: scale_of(&detail.config, &name, &values)?,
                name,
                is_metric: false,
            })
        })
        .collect();
    if let Some(metric) = &detail.info.metric {
        let values: Vec<Value> = detail
            .runs
            .iter()
            .filter_map(|r| r.metric.map(Value::from))
            .collect();
        if let Some(scale) = scale_of(&Value::Null, &metric.name, &values) {
            out.push(Axis {
                name: metric.name.clone(),
                is_metric: true,
                scale,
            });
        }
    }
    out
}

/// Where `value` sits on `axis`, 0 (bottom) to 1 (top).
pub fn position(axis: &Axis, value: Option<&Value>) -> Option<f64> {
    let value = value?;
    Some(match &axis.scale {
        Scale::Linear { min, max } => (value.as_f64()? - min) / (max - min),
        Scale::Log { min, max } => (value.as_f64()?.ln() - min.ln()) / (max.ln() - min.ln()),
        Scale::Categories(values) => {
            let text = value.to_string();
            let i = values.iter().position(|v| *v == text)?;
            if values.len() == 1 {
                0.5
            } else {
                i as f64 / (values.len() - 1) as f64
            }
        }
    })
}

/// Each run's positions on `axes` (None where it has no value).
pub fn run_positions(detail: &SweepDetail, axes: &[Axis]) -> Vec<(String, Vec<Option<f64>>)> {
    detail
        .runs
        .iter()
        .map(|run| {
            let params: HashMap<String, Value> = flat(&run.params).into_iter().collect();
            let at = axes
                .iter()
                .map(|a| {
                    if a.is_metric {
                        position(a, run.metric.map(Value::from).as_ref())
                    } else {
                        position(a, params.get(&a.name))
                    }
                })
                .collect();
            (run.run.clone(), at)
        })
        .collect()
}

/// Whether a run's positions fall inside every brush (a run without a value on a brushed axis
/// does not).
pub fn passes(axes: &[Axis], positions: &[Option<f64>], brushes: &Brushes) -> bool {
    axes.iter()
        .zip(positions)
        .all(|(axis, p)| match brushes.get(&axis.name) {
            None => true,
            Some((lo, hi)) => p.is_some_and(|p| p >= *lo - 1e-9 && p <= *hi + 1e-9),
        })
}

const W: f64 = 820.0;
const H: f64 = 300.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 36.0;
const SIDE: f64 = 60.0;

fn axis_x(i: usize, n: usize) -> f64 {
    if n <= 1 {
        W / 2.0
    } else {
        SIDE + i as f64 * (W - 2.0 * SIDE) / (n - 1) as f64
    }
}

fn y_of(p: f64) -> f64 {
    TOP + (1.0 - p) * (H - TOP - BOTTOM)
}

/// A position from a y in the drawing's units.
fn p_of(y: f64) -> f64 {
    (1.0 - (y - TOP) / (H - TOP - BOTTOM)).clamp(0.0, 1.0)
}

/// The colour of a run by its metric position (0 blue … 1 red); grey without one.
fn colour(p: Option<f64>) -> String {
    match p {
        Some(p) => {
            let r = (47.0 + p * (208.0 - 47.0)) as u8;
            let g = (95.0 - p * 50.0) as u8;
            let b = (208.0 - p * (208.0 - 60.0)) as u8;
            format!("rgb({r},{g},{b})")
        }
        None => "#9aa5b8".into(),
    }
}

fn label(axis: &Axis, p: f64) -> String {
    match &axis.scale {
        Scale::Linear { min, max } => super::fmt_metric(Some(min + p * (max - min))),
        Scale::Log { min, max } => {
            super::fmt_metric(Some((min.ln() + p * (max.ln() - min.ln())).exp()))
        }
        Scale::Categories(values) => {
            let i = (p * (values.len().max(2) - 1) as f64).round() as usize;
            values.get(i).cloned().unwrap_or_default()
        }
    }
}

/// The y of a pointer event in the drawing's units.
fn event_y(ev: &web_sys::PointerEvent) -> Option<f64> {
    let target = ev.current_target()?.dyn_into::<web_sys::Element>().ok()?;
    // The drawing's box, whichever of its parts (an axis, the drawing) has the handler.
    let svg = target.closest("svg").ok().flatten().unwrap_or(target);
    let rect = svg.get_bounding_client_rect();
    (rect.height() > 0.0).then(|| (ev.client_y() as f64 - rect.top()) * H / rect.height())
}

#[component]
pub fn ParallelCoords(
    detail: Signal<Option<SweepDetail>>,
    brushes: RwSignal<Brushes>,
) -> impl IntoView {
    // The axis being brushed and where the drag started (a position).
    let dragging = RwSignal::new(None::<(String, f64, f64)>);
    let model = Memo::new(move |_| {
        detail.with(|d| {
            d.as_ref().map(|d| {
                let axes = axes(d);
                let positions = run_positions(d, &axes);
                (axes, positions)
            })
        })
    });
    let on_move = move |ev: web_sys::PointerEvent| {
        if let (Some((name, start, _)), Some(y)) = (dragging.get_untracked(), event_y(&ev)) {
            dragging.set(Some((name, start, p_of(y))));
        }
    };
    let on_up = move |_ev: web_sys::PointerEvent| {
        if let Some((name, start, end)) = dragging.get_untracked() {
            dragging.set(None);
            brushes.update(|b| {
                if (start - end).abs() < 0.01 {
                    b.remove(&name);
                } else {
                    b.insert(name, (start.min(end), start.max(end)));
                }
            });
        }
    };
    view! {
        <svg
            class="sw-pc"
            data-testid="parcoords"
            viewBox=format!("0 0 {W} {H}")
            on:pointermove=on_move
            on:pointerup=on_up
            on:pointerleave=on_up
        >
            {move || {
                let (axes, positions) = model.get()?;
                let n = axes.len();
                let metric_axis = axes.iter().position(|a| a.is_metric);
                let current = brushes.get();
                let lines = positions
                    .iter()
                    .map(|(run, at)| {
                        let points = at
                            .iter()
                            .enumerate()
                            .filter_map(|(i, p)| p.map(|p| format!("{:.1},{:.1}", axis_x(i, n), y_of(p))))
                            .collect::<Vec<_>>()
                            .join(" ");
                        let dim = !passes(&axes, at, &current);
                        let stroke = colour(metric_axis.and_then(|m| at[m]));
                        view! {
                            <polyline
                                data-testid="parcoords-line"
                                data-run=run.clone()
                                data-dim=if dim { "1" } else { "0" }
                                class=if dim { "dim" } else { "" }
                                points=points
                                style=format!("stroke: {stroke}")
                            />
                        }
                    })
                    .collect_view();
                let axis_views = axes
                    .iter()
                    .enumerate()
                    .map(|(i, axis)| {
                        let x = axis_x(i, n);
                        let name = axis.name.clone();
                        let brush = current.get(&axis.name).copied();
                        let drag = dragging.get().filter(|(d, _, _)| *d == axis.name);
                        let shown = drag.map(|(_, a, b)| (a.min(b), a.max(b))).or(brush);
                        let name_down = name.clone();
                        let on_down = move |ev: web_sys::PointerEvent| {
                            ev.prevent_default();
                            if let Some(y) = event_y(&ev) {
                                let p = p_of(y);
                                dragging.set(Some((name_down.clone(), p, p)));
                            }
                        };
                        view! {
                            <g class="axis" data-testid="parcoords-axis" data-name=name.clone()>
                                <line x1=x x2=x y1=TOP y2=H - BOTTOM />
                                <text x=x y=TOP - 10.0 text-anchor="middle">{name.clone()}</text>
                                <text x=x + 4.0 y=TOP + 4.0>{label(axis, 1.0)}</text>
                                <text x=x + 4.0 y=H - BOTTOM>{label(axis, 0.0)}</text>
                                {shown.map(|(lo, hi)| view! {
                                    <rect class="brush" x=x - 7.0 width=14.0 y=y_of(hi) height=(y_of(lo) - y_of(hi)).max(1.0) />
                                })}
                                <rect class="hit" x=x - 14.0 width=28.0 y=TOP - 4.0 height=H - TOP - BOTTOM + 8.0
                                    on:pointerdown=on_down />
                            </g>
                        }
                    })
                    .collect_view();
                Some(view! { <g>{lines}</g> <g>{axis_views}</g> })
            }}
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn detail() -> SweepDetail {
        serde_json::from_value(json!({
            "info": {"id": "abcdefgh", "project": "p", "name": "s", "method": "random",
                     "metric": {"name": "loss", "goal": "minimize"}, "state": "running",
                     "run_count": 3, "running_count": 0, "agent_count": 0,
                     "created_at": 0.0, "updated_at": 0.0},
            "config": {"parameters": {"lr": {"distribution": "log_uniform_values", "min": 0.001, "max": 1.0}}},
            "runs": [
                {"run": "a", "params": {"lr": 0.001, "opt": "adam", "k": 1, "n": {"d": 1}}, "state": "finished", "metric": 1.0, "agent": "x", "assigned_at": 0.0},
                {"run": "b", "params": {"lr": 0.1, "opt": "sgd", "k": 1, "n": {"d": 2}}, "state": "finished", "metric": 3.0, "agent": "x", "assigned_at": 0.0},
                {"run": "c", "params": {"lr": 1.0, "opt": "adam", "k": 1, "n": {"d": 3}}, "state": "running", "agent": "x", "assigned_at": 0.0}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn axes_skip_constants_use_logs_and_end_with_the_metric() {
        let d = detail();
        let a = axes(&d);
        let names: Vec<&str> = a.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(names, ["lr", "n.d", "opt", "loss"]);
        assert!(matches!(a[0].scale, Scale::Log { .. }));
        assert!(matches!(a[2].scale, Scale::Categories(_)));
        let pos = run_positions(&d, &a);
        assert!(
            (pos[1].1[0].unwrap() - 2.0 / 3.0).abs() < 1e-9,
            "log position of 0.1"
        );
        assert_eq!(pos[2].1[3], None, "no metric yet");
    }

    #[test]
    fn brushes_keep_runs_inside_every_range() {
        let d = detail();
        let a = axes(&d);
        let pos = run_positions(&d, &a);
        let mut brushes = Brushes::new();
        brushes.insert("lr".into(), (0.5, 1.0));
        let kept: Vec<&str> = pos
            .iter()
            .filter(|(_, p)| passes(&a, p, &brushes))
            .map(|(r, _)| r.as_str())
            .collect();
        assert_eq!(kept, ["b", "c"]);
        brushes.insert("loss".into(), (0.0, 1.0));
        let kept: Vec<&str> = pos
            .iter()
            .filter(|(_, p)| passes(&a, p, &brushes))
            .map(|(r, _)| r.as_str())
            .collect();
        assert_eq!(kept, ["b"], "a run without the metric fails a metric brush");
    }
}
