//! The workspace's saved part (`layout.workspace`) and how metric keys fall into sections:
//! plain data and functions, tested on the host.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use trackline_shared::api::RunInfo;

use super::layout::Part;
use crate::charts::settings::ChartSettings;
use crate::util;

/// The section of keys without a prefix.
pub const DEFAULT_SECTION: &str = "Charts";
/// The section of `system/…` keys (hardware metrics), kept apart and last.
pub const SYSTEM_SECTION: &str = "System";

/// The workspace part of the saved layout (`layout.workspace`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default)]
pub struct WorkspaceLayout {
    pub version: u32,
    /// Settings of every panel that has no override.
    pub settings: ChartSettings,
    /// Per section name.
    pub sections: BTreeMap<String, SectionState>,
    /// Per metric key.
    pub panels: BTreeMap<String, PanelState>,
    /// The panel filter.
    pub search: String,
}

impl Default for WorkspaceLayout {
    fn default() -> Self {
        WorkspaceLayout {
            version: 1,
            settings: ChartSettings::default(),
            sections: BTreeMap::new(),
            panels: BTreeMap::new(),
            search: String::new(),
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct SectionState {
    pub collapsed: bool,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct PanelState {
    /// This panel's own settings instead of the workspace's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings: Option<ChartSettings>,
    /// Spans the whole row.
    pub wide: bool,
}

/// Saved under `layout.workspace` (`WorkspaceLayout::from_layout` reads it; `layout::save` writes
/// it, keeping the table's part).
impl Part for WorkspaceLayout {
    const KEY: &'static str = "workspace";
}

impl WorkspaceLayout {
    /// The settings a panel draws with.
    pub fn panel_settings(&self, key: &str) -> ChartSettings {
        self.panels
            .get(key)
            .and_then(|p| p.settings.clone())
            .unwrap_or_else(|| self.settings.clone())
    }
}

/// The section a key belongs to.
pub fn section_of(key: &str) -> &str {
    if key.starts_with("system/") {
        return SYSTEM_SECTION;
    }
    match key.split_once('/') {
        Some((prefix, _)) if !prefix.is_empty() => prefix,
        _ => DEFAULT_SECTION,
    }
}

/// Keys matching `search` (case-insensitive substring; empty matches all) in sections: the default
/// section first, then prefixes alphabetically, "System" last. Keys keep their given order.
pub fn sections(keys: &[String], search: &str) -> Vec<(String, Vec<String>)> {
    let needle = search.trim().to_lowercase();
    let mut map: BTreeMap<(u8, String), Vec<String>> = BTreeMap::new();
    for k in keys {
        if !needle.is_empty() && !k.to_lowercase().contains(&needle) {
            continue;
        }
        let s = section_of(k);
        let rank = match s {
            DEFAULT_SECTION => 0,
            SYSTEM_SECTION => 2,
            _ => 1,
        };
        map.entry((rank, s.to_string()))
            .or_default()
            .push(k.clone());
    }
    map.into_iter().map(|((_, s), v)| (s, v)).collect()
}

/// Group-by choices: run fields and the config keys present in at least half the runs.
pub fn group_choices(runs: &[RunInfo]) -> Vec<String> {
    let mut out: Vec<String> = util::common_keys(runs.iter().map(|r| &r.config), 40)
        .into_iter()
        .map(|k| format!("config.{k}"))
        .collect();
    out.sort();
    if runs.iter().any(|r| r.group.is_some()) {
        out.insert(0, "group".into());
    }
    if runs.iter().any(|r| r.job_type.is_some()) {
        out.push("job_type".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::layout::merged_layout;
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn keys_fall_into_sections() {
        let keys: Vec<String> = [
            "loss",
            "lr",
            "system/cpu",
            "system/gpu.0.util",
            "train/acc",
            "train/loss",
            "val/loss",
            "/odd",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let s = sections(&keys, "");
        let names: Vec<&str> = s.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["Charts", "train", "val", "System"]);
        assert_eq!(s[0].1, ["loss", "lr", "/odd"]);
        assert_eq!(s[3].1, ["system/cpu", "system/gpu.0.util"]);
        let f = sections(&keys, "LOSS");
        assert_eq!(
            f,
            vec![
                ("Charts".to_string(), vec!["loss".to_string()]),
                ("train".to_string(), vec!["train/loss".to_string()]),
                ("val".to_string(), vec!["val/loss".to_string()]),
            ]
        );
        assert!(sections(&keys, "nothing").is_empty());
    }

    #[test]
    fn layout_round_trips_and_keeps_the_table_key() {
        let mut ws = WorkspaceLayout::default();
        ws.sections
            .insert("train".into(), SectionState { collapsed: true });
        ws.panels.insert(
            "loss".into(),
            PanelState {
                settings: Some(ChartSettings {
                    y_log: true,
                    ..Default::default()
                }),
                wide: true,
            },
        );
        ws.search = "acc".into();
        let base = WorkspaceLayout::default();
        let (saved, _) = merged_layout(
            &json!({"table": {"columns": ["name"]}, "workspace": 3}),
            &base,
            &ws,
        );
        assert_eq!(saved["table"]["columns"][0], "name");
        assert_eq!(saved["workspace"]["sections"]["train"]["collapsed"], true);
        assert_eq!(WorkspaceLayout::from_layout(&saved), ws);
        assert!(ws.panel_settings("loss").y_log);
        assert!(!ws.panel_settings("acc").y_log);
        // Absent or malformed: defaults.
        assert_eq!(
            WorkspaceLayout::from_layout(&Value::Null),
            WorkspaceLayout::default()
        );
        assert_eq!(
            WorkspaceLayout::from_layout(&json!({"workspace": "junk"})),
            WorkspaceLayout::default()
        );
    }

    #[test]
    fn a_save_keeps_what_a_teammate_saved_meanwhile() {
        // Both opened the same layout; a teammate made `val/loss` wide and set the smoothing,
        // then this page folded `train`.
        let base = WorkspaceLayout::default();
        let mut theirs = base.clone();
        theirs.panels.entry("val/loss".into()).or_default().wide = true;
        theirs.settings.smoothing = trackline_shared::smooth::Smoothing::Ema(0.9);
        let stored = json!({"workspace": serde_json::to_value(&theirs).unwrap()});
        let mut ours = base.clone();
        ours.sections
            .insert("train".into(), SectionState { collapsed: true });
        let (saved, _) = merged_layout(&stored, &base, &ours);
        let merged = WorkspaceLayout::from_layout(&saved);
        assert!(merged.sections["train"].collapsed);
        assert!(merged.panels["val/loss"].wide);
        assert_eq!(merged.settings.smoothing, theirs.settings.smoothing);
    }

    #[test]
    fn group_choices_list_common_config_keys() {
        let mk = |cfg: Value, group: Option<&str>| RunInfo {
            config: cfg.as_object().unwrap().clone(),
            group: group.map(String::from),
            ..Default::default()
        };
        let runs = vec![
            mk(json!({"lr": 0.1, "opt": {"name": "adam"}}), Some("g")),
            mk(json!({"lr": 0.2, "opt": {"name": "sgd"}}), None),
        ];
        assert_eq!(
            group_choices(&runs),
            ["group", "config.lr", "config.opt.name"]
        );
    }
}
