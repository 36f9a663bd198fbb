//! A chart's settings (the type is `trackline_shared::chart::ChartSettings`, saved in workspace
//! layouts and report panels) and the web app's helpers around them: x formatting, group values,
//! the smoothing slider.

use super::plot::XFormat;
use trackline_shared::api::XAxis;
use trackline_shared::smooth::Smoothing;

pub use trackline_shared::chart::{ChartSettings, DataKey, group_value};

/// How x values read on a chart with `settings`; `tz_offset_min` is the local time zone's offset.
pub fn x_format(settings: &ChartSettings, tz_offset_min: i64) -> XFormat {
    if settings.x_key.is_some() {
        return XFormat::Number;
    }
    match settings.x {
        XAxis::Step => XFormat::Step,
        XAxis::WallTime => XFormat::WallTime(tz_offset_min),
        XAxis::RelativeTime => XFormat::Duration,
    }
}

/// A group-by id for people: `config.lr` → `lr`.
pub fn group_label(id: &str) -> &str {
    id.strip_prefix("config.").unwrap_or(id)
}

/// Smoothing kinds offered in the UI, with their names and parameter ranges.
pub const SMOOTHING_KINDS: [(&str, &str); 5] = [
    ("none", "No smoothing"),
    ("twema", "Time-weighted EMA (W&B)"),
    ("ema", "EMA, debiased (TensorBoard)"),
    ("gaussian", "Gaussian"),
    ("running", "Running average"),
];

/// The UI name of a smoothing's kind.
pub fn smoothing_kind(s: Smoothing) -> &'static str {
    match s {
        Smoothing::None => "none",
        Smoothing::TimeWeightedEma(_) => "twema",
        Smoothing::Ema(_) => "ema",
        Smoothing::Gaussian(_) => "gaussian",
        Smoothing::RunningAverage(_) => "running",
    }
}

/// The slider's value for a smoothing: the weight (0..0.99) or the window / σ in samples.
pub fn smoothing_param(s: Smoothing) -> f64 {
    match s {
        Smoothing::None => 0.0,
        Smoothing::TimeWeightedEma(w) | Smoothing::Ema(w) => w,
        Smoothing::Gaussian(s) => s,
        Smoothing::RunningAverage(n) => n as f64,
    }
}

/// Slider range and step for a kind: EMAs 0..0.99, gaussian σ 0..50, running window 1..101.
pub fn slider_range(kind: &str) -> (f64, f64, f64) {
    match kind {
        "twema" | "ema" => (0.0, 0.99, 0.01),
        "gaussian" => (0.0, 50.0, 0.5),
        "running" => (1.0, 101.0, 2.0),
        _ => (0.0, 1.0, 0.01),
    }
}

/// A smoothing from the UI's kind and slider value.
pub fn make_smoothing(kind: &str, param: f64) -> Smoothing {
    let p = if param.is_finite() { param } else { 0.0 };
    match kind {
        "twema" => Smoothing::TimeWeightedEma(p.clamp(0.0, 0.99)),
        "ema" => Smoothing::Ema(p.clamp(0.0, 0.99)),
        "gaussian" => Smoothing::Gaussian(p.clamp(0.0, 50.0)),
        "running" => Smoothing::RunningAverage(p.clamp(1.0, 1001.0).round() as usize),
        _ => Smoothing::None,
    }
}

/// The slider's value for people: `0.60`, `σ 3`, `9 pts`.
pub fn smoothing_label(param: f64, kind: &str) -> String {
    match kind {
        "twema" | "ema" => format!("{param:.2}"),
        "gaussian" => format!("σ {param}"),
        "running" => format!("{} pts", param.round()),
        _ => String::new(),
    }
}

/// A sensible slider value when switching to `kind`.
pub fn default_param(kind: &str) -> f64 {
    match kind {
        "twema" | "ema" => 0.6,
        "gaussian" => 3.0,
        "running" => 9.0,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_labels() {
        assert_eq!(group_label("config.opt.lr"), "opt.lr");
    }

    #[test]
    fn smoothing_ui_round_trip() {
        for (kind, _) in SMOOTHING_KINDS {
            let s = make_smoothing(kind, default_param(kind));
            assert_eq!(smoothing_kind(s), kind);
            let (lo, hi, _) = slider_range(kind);
            let p = smoothing_param(s);
            assert!(kind == "none" || (p >= lo && p <= hi));
        }
        assert_eq!(make_smoothing("ema", 2.0), Smoothing::Ema(0.99));
    }
}
