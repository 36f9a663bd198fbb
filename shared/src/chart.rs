//! A line chart's settings as the web app saves them in a workspace layout and a report saves
//! them in a panel: x axis, smoothing, scales, outliers and grouping. Unknown or missing fields
//! take their defaults, so older layouts keep loading.

use crate::api::XAxis;
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
