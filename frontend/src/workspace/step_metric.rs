//! A metric's default x axis from `define_metric(name, step_metric=…)` (the run's `metrics.json`,
//! `RunInfo::metrics`), as W&B draws it: such a metric is charted against its step metric unless
//! the user chose another x axis. The run page and the workspace panels both decide it here.

use serde_json::{Map, Value};

use crate::charts::settings::ChartSettings;
use trackline_shared::api::XAxis;

/// The `step_metric` that `metrics.json` defines for `key`: an exact name first, then the first
/// matching pattern (`*` matches anything, `/` included; `_`-keys never match a pattern).
pub fn step_metric_for(metrics: &Map<String, Value>, key: &str) -> Option<String> {
    let step_metric = |def: &Value| def["step_metric"].as_str().map(str::to_owned);
    if let Some(def) = metrics.get(key) {
        return step_metric(def);
    }
    if key.starts_with('_') {
        return None;
    }
    metrics
        .iter()
        .filter(|(pattern, _)| pattern.contains('*') && glob_match(pattern, key))
        .find_map(|(_, def)| step_metric(def))
}

/// The `step_metric` several runs agree on for `key`: every run defines the same one. `None` when
/// there are no runs, or one defines none or another (then the chart keeps step).
pub fn common_step_metric<'a>(
    runs: impl IntoIterator<Item = &'a Map<String, Value>>,
    key: &str,
) -> Option<String> {
    let mut runs = runs.into_iter();
    let first = step_metric_for(runs.next()?, key)?;
    runs.all(|m| step_metric_for(m, key).as_deref() == Some(first.as_str()))
        .then_some(first)
}

/// `settings` drawn against `step_metric` when they ask for the default x axis (step, no x metric);
/// any other choice of x axis is kept.
pub fn with_step_metric(mut settings: ChartSettings, step_metric: Option<String>) -> ChartSettings {
    if settings.x_key.is_none() && settings.x == XAxis::Step {
        settings.x_key = step_metric;
    }
    settings
}

/// `*`-only glob matching.
fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn step_metric_follows_exact_names_then_patterns() {
        let m = metrics(
            r#"{"val/*": {"step_metric": "epoch"}, "val/loss": {"step_metric": "val/step"}, "x": {"step_metric": null}}"#,
        );
        assert_eq!(step_metric_for(&m, "val/loss").as_deref(), Some("val/step"));
        assert_eq!(step_metric_for(&m, "val/acc").as_deref(), Some("epoch"));
        assert_eq!(step_metric_for(&m, "train/loss"), None);
        assert_eq!(step_metric_for(&m, "x"), None);
        assert!(glob_match("a*b*c", "a/x/b/y/c"));
        assert!(!glob_match("a*b", "ab/c"));
        assert!(glob_match("*", "anything"));
    }

    #[test]
    fn runs_must_agree_on_the_step_metric() {
        let epoch = metrics(r#"{"val/*": {"step_metric": "epoch"}}"#);
        let epoch_exact = metrics(r#"{"val/loss": {"step_metric": "epoch"}}"#);
        let other = metrics(r#"{"val/loss": {"step_metric": "val/step"}}"#);
        let none = Map::new();
        assert_eq!(
            common_step_metric([&epoch, &epoch_exact], "val/loss").as_deref(),
            Some("epoch")
        );
        assert_eq!(common_step_metric([&epoch, &other], "val/loss"), None);
        assert_eq!(common_step_metric([&epoch, &none], "val/loss"), None);
        assert_eq!(common_step_metric([&none, &epoch], "val/loss"), None);
        assert_eq!(common_step_metric([], "val/loss"), None);
        assert_eq!(common_step_metric([&epoch], "train/loss"), None);
    }

    #[test]
    fn only_the_default_x_axis_follows_the_step_metric() {
        let epoch = Some("epoch".to_string());
        let s = with_step_metric(ChartSettings::default(), epoch.clone());
        assert_eq!(s.x_key.as_deref(), Some("epoch"));
        let wall = ChartSettings {
            x: XAxis::WallTime,
            ..Default::default()
        };
        assert_eq!(with_step_metric(wall.clone(), epoch.clone()), wall);
        let other = ChartSettings {
            x_key: Some("lr".into()),
            ..Default::default()
        };
        assert_eq!(with_step_metric(other.clone(), epoch), other);
        assert_eq!(
            with_step_metric(ChartSettings::default(), None),
            ChartSettings::default()
        );
    }
}
