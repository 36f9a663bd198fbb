//! A line chart's settings as the web app saves them in a workspace layout and a report saves
//! them in a panel: x axis, smoothing, scales, outliers and grouping (unknown or missing fields
//! take their defaults, so older layouts keep loading); and what every drawing of a chart, in the
//! web app or an exported report, shares: a run's colour and its group.

use crate::api::{RunInfo, XAxis};
use crate::columns::{lookup, value};
use crate::smooth::Smoothing;
use serde::{Deserialize, Serialize};

/// How runs of a group are summarised.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Agg {
    #[default]
    Mean,
    Median,
}

/// The band drawn around a group's line.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    #[default]
    MinMax,
    Std,
    None,
}

/// What decides a chart's query: x axis, x metric, log x.
pub type DataKey = (XAxis, Option<String>, bool);

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct ChartSettings {
    /// `step`, `wall_time` or `relative_time` (ignored when `x_key` is set).
    pub x: XAxis,
    /// Plot against this metric instead (e.g. `epoch`); the daemon joins by step.
    pub x_key: Option<String>,
    pub smoothing: Smoothing,
    pub x_log: bool,
    pub y_log: bool,
    pub ignore_outliers: bool,
    /// Group runs by this config key (flattened `a.b`): one line and band per group.
    pub group_by: Option<String>,
    pub agg: Agg,
    pub band: Band,
}

impl ChartSettings {
    /// Name of the x axis for people and CSV headers.
    pub fn x_name(&self) -> String {
        match &self.x_key {
            Some(k) => k.clone(),
            None => match self.x {
                XAxis::Step => "step".into(),
                XAxis::WallTime => "wall time".into(),
                XAxis::RelativeTime => "relative time (s)".into(),
            },
        }
    }

    /// The settings that decide which data is fetched (a change means a new query): the x axis,
    /// and whether it is log-scaled (the daemon's columns follow the scale).
    pub fn data_key(&self) -> DataKey {
        (self.x, self.x_key.clone(), self.x_log)
    }
}

/// A run's group for a group-by id as the runs table names columns: `config.<key>` (nested keys
/// joined by `.`), `summary.<key>`, or a run field (`group`, `job_type`, `host`, `state`, `tags`,
/// `name`). Runs without a value fall in the group `–`.
pub fn group_value(run: &RunInfo, id: &str) -> String {
    let text = if let Some(k) = id.strip_prefix("config.") {
        lookup(&run.config, k).map(value)
    } else if let Some(k) = id.strip_prefix("summary.") {
        lookup(&run.summary, k).map(value)
    } else {
        match id {
            "group" => run.group.clone(),
            "job_type" => run.job_type.clone(),
            "host" => run.host.clone(),
            "state" => Some(run.state.as_str().to_string()),
            "tags" => Some(run.tags.join(", ")),
            "name" => Some(run.name.clone()),
            // A bare key: a config key, as older layouts saved it.
            k => lookup(&run.config, k).map(value),
        }
    };
    text.filter(|t| !t.is_empty() && t != "–")
        .unwrap_or_else(|| "–".to_string())
}

/// A palette of 20 distinguishable colours (Tableau 20 order: dark then light of each hue).
pub const PALETTE: [&str; 20] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
    "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
];

/// The stable colour of a run (or a group): FNV-1a of its id into the palette.
pub fn run_color(run_id: &str) -> &'static str {
    let mut h: u32 = 0x811c_9dc5;
    for b in run_id.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    PALETTE[(h as usize) % PALETTE.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smooth::Smoothing;

    #[test]
    fn settings_json_is_stable_and_lenient() {
        let s = ChartSettings {
            x: XAxis::WallTime,
            smoothing: Smoothing::TimeWeightedEma(0.5),
            y_log: true,
            group_by: Some("lr".into()),
            ..Default::default()
        };
        let j = serde_json::to_value(&s).unwrap();
        assert_eq!(j["x"], "wall_time");
        assert_eq!(j["smoothing"]["kind"], "time_weighted_ema");
        assert_eq!(j["agg"], "mean");
        assert_eq!(j["band"], "min_max");
        let back: ChartSettings = serde_json::from_value(j).unwrap();
        assert_eq!(back, s);
        let partial: ChartSettings =
            serde_json::from_str(r#"{"y_log": true, "future": 1}"#).unwrap();
        assert!(partial.y_log && partial.x == XAxis::Step);
    }

    #[test]
    fn group_values() {
        let run = RunInfo {
            config: serde_json::json!({"opt": {"lr": 0.1}, "bs": 32})
                .as_object()
                .unwrap()
                .clone(),
            group: Some("sweep-1".into()),
            ..Default::default()
        };
        assert_eq!(group_value(&run, "config.opt.lr"), "0.1");
        assert_eq!(group_value(&run, "bs"), "32");
        assert_eq!(group_value(&run, "group"), "sweep-1");
        assert_eq!(group_value(&run, "config.missing"), "–");
        assert_eq!(group_value(&run, "job_type"), "–");
    }

    #[test]
    fn colours_are_stable_and_spread() {
        assert_eq!(run_color("k3x9q2ab"), run_color("k3x9q2ab"));
        let distinct: std::collections::BTreeSet<_> =
            (0..50).map(|i| run_color(&format!("run{i}"))).collect();
        assert!(distinct.len() >= 12, "{distinct:?}");
    }
}
