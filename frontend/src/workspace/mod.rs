//! The project's chart workspace, under the runs table: one panel per metric key of the selected
//! runs, in collapsible sections by key prefix (`train/…`, `val/…`; keys without `/` in "Charts";
//! `system/…` in "System", last), a search box filtering panels by name, workspace-wide chart
//! settings and per-panel overrides.
//!
//! The layout (sections folded, panel settings, widths, search) is saved in the daemon under
//! `layout.workspace` of `PUT api/projects/{p}/workspace`, so a teammate opening the project sees
//! the same workspace (docs/frontend.md has the schema). The runs table keeps its own settings under
//! `layout.table`; each side rewrites only its key.
//!
//! Runs come from the page's [`Selection`] (written by the runs table); keys are the union of the
//! selected runs' keys (`GET …/runs/{r}/keys`, then the `run` topic's `keys` messages).

pub mod layout;
pub mod step_metric;

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use trackline_shared::api::RunInfo;
use trackline_shared::ws::{ServerMsg, SubId, Topic};

use crate::api;
use crate::charts::settings::{ChartSettings, group_label};
use crate::components::{ChartSettingsBar, LineChart, RunRef};
use crate::live::{Live, live, load};
use crate::selection::Selection;
use crate::util;
use crate::ws;
use layout::{Part, Saver};
use step_metric::{common_step_metric, with_step_metric};

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

const SAVE_DEBOUNCE: Duration = Duration::from_millis(400);

/// The chart workspace of `project` (rendered by the project page, under the runs table).
#[component]
pub fn Workspace(project: String) -> impl IntoView {
    let selection = use_context::<Selection>().unwrap_or_else(|| {
        let s = Selection::new();
        provide_context(s);
        s
    });
    let infos = RwSignal::new(BTreeMap::<String, Arc<RunInfo>>::new());
    let run_keys = RwSignal::new(BTreeMap::<String, BTreeSet<String>>::new());
    let layout = RwSignal::new(WorkspaceLayout::default());
    let loaded = RwSignal::new(false);
    let save_error = RwSignal::new(None::<String>);
    let project_s = StoredValue::new(project.clone());

    // Runs (names, colours, configs for grouping), live.
    let upsert = move |runs: Vec<RunInfo>| {
        infos.try_update(|m| {
            for r in runs {
                let newer = m.get(&r.id).is_none_or(|o| o.version <= r.version);
                if newer {
                    m.insert(r.id.clone(), Arc::new(r));
                }
            }
        });
    };
    let fetch = {
        let project = project.clone();
        async move { api::runs(&project).await }
    };
    let topic = Topic::Project {
        project: project.clone(),
        since: 0,
    };
    live(fetch, topic, move |update| match update {
        Live::Snapshot(Ok(runs)) | Live::Msg(ServerMsg::Runs { runs, .. }) => upsert(runs),
        Live::Msg(ServerMsg::RunRemoved { run, .. }) => {
            infos.try_update(|m| {
                m.remove(&run);
            });
        }
        _ => {}
    });

    // The selected runs the charts draw: all of them, or the first `MAX_SERIES_RUNS` in the table's
    // order (a series query may name no more).
    let chart_ids = Memo::new(move |_| selection.chart_runs());

    // Keys of each charted run: fetched once, then live from the `run` topic.
    let key_subs = StoredValue::new(BTreeMap::<String, SubId>::new());
    Effect::new(move |_| {
        let charted = chart_ids.get();
        for run in charted {
            if key_subs.with_value(|m| m.contains_key(&run)) {
                continue;
            }
            let project = project_s.get_value();
            let r2 = run.clone();
            let id = ws::subscribe(
                Topic::Run {
                    project: project.clone(),
                    run: run.clone(),
                },
                move |msg| {
                    if let ServerMsg::Keys { keys, .. } = msg {
                        let new = run_keys
                            .try_with_untracked(|m| {
                                m.get(&r2)
                                    .is_none_or(|have| keys.iter().any(|k| !have.contains(k)))
                            })
                            .unwrap_or(false);
                        if new {
                            run_keys.try_update(|m| m.entry(r2.clone()).or_default().extend(keys));
                        }
                    }
                },
            );
            key_subs.update_value(|m| {
                m.insert(run.clone(), id);
            });
            spawn_local(async move {
                if let Ok(keys) = api::keys(&project, &run).await {
                    run_keys.try_update(|m| {
                        m.entry(run.clone())
                            .or_default()
                            .extend(keys.into_iter().map(|k| k.key))
                    });
                }
            });
        }
    });
    on_cleanup(move || {
        if let Some(ids) = key_subs.try_with_value(|m| m.values().copied().collect::<Vec<_>>()) {
            for id in ids {
                ws::unsubscribe(id);
            }
        }
    });

    // The saved layout; saving starts after it loaded (never overwrite with defaults first).
    // Saves merge only this page's changes onto the layout as stored, so a teammate's are kept
    // (and shown here once saved).
    let saver = Saver::new(project.clone(), layout, save_error, "workspace");
    {
        load(saver.load(), move |res| {
            // Only a layout that loaded may be saved over: a failed load must not let the
            // defaults overwrite what a teammate saved.
            match res {
                Ok(ws) => {
                    if let Some(g) = ws.settings.group_by.clone()
                        && selection.group_by.with_untracked(Option::is_none)
                    {
                        selection.group_by.set(Some(g));
                    }
                    saver.loaded(ws.clone());
                    layout.set(ws);
                    loaded.set(true);
                }
                Err(e) => save_error.set(Some(format!(
                    "Could not load the saved workspace; changes are not saved: {e}"
                ))),
            }
        });
    }
    let save_gen = StoredValue::new(0u64);
    Effect::new(move |_| {
        let changed = layout.with(|l| !saver.is_saved(l));
        if !loaded.get() || !changed {
            return;
        }
        let generation = save_gen.get_value() + 1;
        save_gen.set_value(generation);
        set_timeout(
            move || {
                if save_gen.try_get_value() == Some(generation) {
                    saver.save();
                }
            },
            SAVE_DEBOUNCE,
        );
    });
    // The table's group-by and the workspace's stay the same.
    Effect::new(move |_| {
        let g = selection.group_by.get();
        if loaded.get_untracked() && layout.with_untracked(|l| l.settings.group_by != g) {
            layout.update(|l| l.settings.group_by = g);
        }
    });
    Effect::new(move |_| {
        let g = layout.with(|l| l.settings.group_by.clone());
        if loaded.get_untracked() && selection.group_by.with_untracked(|s| *s != g) {
            selection.group_by.set(g);
        }
    });

    let run_refs = Memo::new(move |_| {
        let sel = chart_ids.get();
        infos.with(|m| {
            sel.iter()
                .filter_map(|id| m.get(id).map(|i| RunRef::new(i.clone())))
                .collect::<Vec<_>>()
        })
    });
    let keys = Memo::new(move |_| {
        let sel = chart_ids.get();
        run_keys.with(|m| {
            let mut all = BTreeSet::new();
            for r in &sel {
                if let Some(k) = m.get(r) {
                    all.extend(k.iter().cloned());
                }
            }
            all.into_iter().collect::<Vec<_>>()
        })
    });
    // Per key, the x metric its runs agree on (`define_metric(key, step_metric=…)` in every run
    // that logs it): a panel without settings of its own is drawn against it, as on the run page.
    let step_metrics = Memo::new(move |_| {
        run_refs.with(|runs| {
            run_keys.with(|logged| {
                keys.with(|keys| {
                    keys.iter()
                        .filter_map(|k| {
                            let defs = runs
                                .iter()
                                .filter(|r| logged.get(&r.id).is_some_and(|l| l.contains(k)))
                                .map(|r| &r.info.metrics);
                            common_step_metric(defs, k).map(|m| (k.clone(), m))
                        })
                        .collect::<BTreeMap<String, String>>()
                })
            })
        })
    });
    let group_keys = Memo::new(move |_| {
        infos.with(|m| group_choices(&m.values().map(|r| (**r).clone()).collect::<Vec<_>>()))
    });
    let search = Memo::new(move |_| layout.with(|l| l.search.clone()));
    let sections_memo = Memo::new(move |_| keys.with(|k| sections(k, &search.get())));
    let section_names = Memo::new(move |_| {
        sections_memo.with(|s| s.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>())
    });
    let ws_settings = Signal::derive(move || layout.with(|l| l.settings.clone()));

    let section_view = move |name: String| {
        let name_s = StoredValue::new(name.clone());
        let section_keys = Memo::new(move |_| {
            sections_memo.with(|s| {
                s.iter()
                    .find(|(n, _)| *n == name_s.get_value())
                    .map(|(_, k)| k.clone())
                    .unwrap_or_default()
            })
        });
        let collapsed = Memo::new(move |_| {
            layout.with(|l| {
                l.sections
                    .get(&name_s.get_value())
                    .is_some_and(|s| s.collapsed)
            })
        });
        view! {
            <section class="ws-section" data-testid="section" data-section=name.clone()>
                <button
                    class="ws-section-head"
                    data-testid="section-toggle"
                    on:click=move |_| {
                        layout.update(|l| {
                            let s = l.sections.entry(name_s.get_value()).or_default();
                            s.collapsed = !s.collapsed;
                        })
                    }
                >
                    <span class="ws-caret">{move || if collapsed.get() { "▸" } else { "▾" }}</span>
                    <span class="ws-section-name">{name.clone()}</span>
                    <span class="muted">{move || format!("{} panels", section_keys.with(Vec::len))}</span>
                </button>
                <Show when=move || !collapsed.get()>
                    <div class="ws-grid">
                        <For
                            each=move || section_keys.get()
                            key=|k| k.clone()
                            children=move |k| {
                                view! {
                                    <Panel
                                        project=project_s.get_value()
                                        key=k
                                        layout=layout
                                        runs=run_refs
                                        x_keys=keys
                                        group_keys=group_keys
                                        step_metrics=step_metrics
                                        selection=selection
                                    />
                                }
                            }
                        />
                    </div>
                </Show>
            </section>
        }
    };

    view! {
        <div class="ws" data-testid="workspace">
            <div class="ws-head">
                <h2>"Charts"</h2>
                <input
                    class="ws-search"
                    type="search"
                    placeholder="Filter panels by name"
                    data-testid="panel-search"
                    prop:value=move || search.get()
                    on:input=move |ev| {
                        let v = event_target_value(&ev);
                        layout.update(|l| l.search = v);
                    }
                />
                <span class="muted" data-testid="workspace-counts">
                    {move || {
                        let panels: usize = sections_memo.with(|s| s.iter().map(|(_, k)| k.len()).sum());
                        format!("{panels} panels · {} runs", run_refs.with(Vec::len))
                    }}
                </span>
                {move || {
                    let selected = selection.selected.with(BTreeSet::len);
                    let charted = chart_ids.with(Vec::len);
                    (selected > charted)
                        .then(|| {
                            view! {
                                <span
                                    class="ws-capped"
                                    data-testid="charts-capped"
                                    title="A chart draws at most this many runs; they are the first selected ones in the table's order."
                                >
                                    {format!(
                                        "Charts show {} of {} selected runs",
                                        util::count(charted),
                                        util::count(selected),
                                    )}
                                </span>
                            }
                        })
                }}
                {move || save_error.get().map(|e| view! { <span class="bad-val">{e}</span> })}
            </div>
            <ChartSettingsBar
                settings=ws_settings
                on_change=Callback::new(move |s| layout.update(|l| l.settings = s))
                x_keys=keys
                group_keys=group_keys
            />
            {move || {
                if run_refs.with(Vec::is_empty) {
                    Some(view! { <div class="empty">"Select runs in the table to chart them."</div> })
                } else if keys.with(Vec::is_empty) {
                    Some(view! { <div class="empty">"No metrics logged yet."</div> })
                } else {
                    None
                }
            }}
            <For each=move || section_names.get() key=|n| n.clone() children=section_view />
        </div>
    }
}

/// One panel: a [`LineChart`] with the workspace's or its own settings, and a settings toggle.
#[component]
fn Panel(
    project: String,
    key: String,
    layout: RwSignal<WorkspaceLayout>,
    runs: Memo<Vec<RunRef>>,
    x_keys: Memo<Vec<String>>,
    group_keys: Memo<Vec<String>>,
    step_metrics: Memo<BTreeMap<String, String>>,
    selection: Selection,
) -> impl IntoView {
    let key_s = StoredValue::new(key.clone());
    let step_metric = Memo::new(move |_| step_metrics.with(|m| m.get(&key_s.get_value()).cloned()));
    let settings = Memo::new(move |_| {
        let own = layout.with(|l| {
            l.panels
                .get(&key_s.get_value())
                .and_then(|p| p.settings.clone())
        });
        // The panel's own settings are the user's word on it. Without them the workspace's apply,
        // drawn against the key's step metric if they leave x at its default, grouped like the
        // table.
        own.unwrap_or_else(|| {
            let ws = layout.with(|l| l.settings.clone());
            let mut s = with_step_metric(ws, step_metric.get());
            s.group_by = selection.group_by.get();
            s
        })
    });
    let own = Memo::new(move |_| {
        layout.with(|l| {
            l.panels
                .get(&key_s.get_value())
                .is_some_and(|p| p.settings.is_some())
        })
    });
    let wide = Memo::new(move |_| {
        layout.with(|l| l.panels.get(&key_s.get_value()).is_some_and(|p| p.wide))
    });
    let open = RwSignal::new(false);
    let header: ChildrenFn = Arc::new(move || {
        view! {
            <button
                class="lc-btn"
                class:on=move || open.get()
                data-testid="panel-settings-toggle"
                title="This panel's settings"
                on:click=move |_| open.update(|o| *o = !*o)
            >
                {move || if own.get() { "⚙ own" } else { "⚙" }}
            </button>
            <button
                class="lc-btn"
                data-testid="panel-wide"
                title="Full width"
                on:click=move |_| {
                    layout.update(|l| {
                        let p = l.panels.entry(key_s.get_value()).or_default();
                        p.wide = !p.wide;
                    })
                }
            >
                {move || if wide.get() { "⇤⇥" } else { "⇔" }}
            </button>
        }
        .into_any()
    });
    let group_labels = Signal::derive(move || group_keys.get());
    let _ = group_label;
    view! {
        <div class="chart-card ws-panel" class:wide=wide data-testid="panel" data-key=key.clone()>
            <Show when=move || open.get()>
                <div class="ws-panel-settings">
                    <ChartSettingsBar
                        settings=settings
                        on_change=Callback::new(move |s| {
                            layout.update(|l| l.panels.entry(key_s.get_value()).or_default().settings = Some(s))
                        })
                        x_keys=x_keys
                        group_keys=group_labels
                    />
                    <Show when=move || own.get()>
                        <button
                            class="lc-btn"
                            data-testid="panel-use-workspace"
                            on:click=move |_| {
                                layout.update(|l| {
                                    if let Some(p) = l.panels.get_mut(&key_s.get_value()) {
                                        p.settings = None;
                                    }
                                })
                            }
                        >
                            "use workspace settings"
                        </button>
                    </Show>
                </div>
            </Show>
            <LineChart
                project=project
                key=key_s.get_value()
                runs=runs
                settings=settings
                hidden=selection.hidden
                highlighted=selection.highlighted
                header=header
            />
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::layout::merged_layout;
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
