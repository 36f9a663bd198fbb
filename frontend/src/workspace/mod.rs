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
mod model;
mod panel;
pub mod step_metric;

pub use model::{
    DEFAULT_SECTION, PanelState, SYSTEM_SECTION, SectionState, WorkspaceLayout, group_choices,
    section_of, sections,
};
use panel::Panel;

use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use trackline_shared::api::RunInfo;
use trackline_shared::ws::{ServerMsg, Topic};

use crate::api;
use crate::components::{ChartSettingsBar, RunRef};
use crate::live::{Live, live, load};
use crate::media::MediaSections;
use crate::run_feed;
use crate::selection::Selection;
use crate::util;
use layout::Saver;
use step_metric::common_step_metric;

const SAVE_DEBOUNCE: Duration = Duration::from_millis(400);
/// How long a charted run's keys may take to come over the WebSocket before they are fetched.
const KEYS_FALLBACK_AFTER: Duration = Duration::from_millis(1500);
/// How long the keys of a run wait for other runs' keys, to be applied with them.
const KEYS_BATCH: Duration = Duration::from_millis(8);

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
    // Whether the saved layout's load ended (loaded or failed): panels wait for it, so none fetches
    // at a provisional width or with settings about to change.
    let layout_known = RwSignal::new(false);
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

    // Keys of each charted run: live from the `run` topic (its first message has them all).
    let key_subs = StoredValue::new(BTreeMap::<String, run_feed::WatchId>::new());
    // Keys that came and are not applied yet. Each change of `run_keys` recomputes every
    // charted run's key union and the panels' step metrics (runs × keys), so the first messages
    // of fifty runs applied one by one cost the page ~50 × 3–7 ms before a chart could fetch;
    // those that come within `KEYS_BATCH` of each other are applied as one change.
    let pending_keys = StoredValue::new(Vec::<(String, Vec<String>)>::new());
    let apply_pending = move || {
        let Some(batch) = pending_keys.try_update_value(std::mem::take) else {
            return;
        };
        if batch.is_empty() {
            return;
        }
        let t0 = crate::browser::perf_now();
        run_keys.try_update(|m| {
            for (run, keys) in &batch {
                m.entry(run.clone())
                    .or_default()
                    .extend(keys.iter().cloned());
            }
        });
        let runs: Vec<&str> = batch.iter().map(|(r, _)| r.as_str()).collect();
        crate::browser::measure(
            "tl:workspace:keys",
            t0,
            crate::browser::perf_now(),
            &runs.join(","),
        );
    };
    Effect::new(move |_| {
        let charted = chart_ids.get();
        for run in charted {
            if key_subs.with_value(|m| m.contains_key(&run)) {
                continue;
            }
            let project = project_s.get_value();
            let r2 = run.clone();
            let id = run_feed::watch(&project, &run, move |msg| {
                if let ServerMsg::Keys { keys, .. } = msg {
                    let new = run_keys
                        .try_with_untracked(|m| {
                            m.get(&r2)
                                .is_none_or(|have| keys.iter().any(|k| !have.contains(k)))
                        })
                        .unwrap_or(false);
                    if new {
                        let first = pending_keys
                            .try_update_value(|p| {
                                p.push((r2.clone(), keys.clone()));
                                p.len() == 1
                            })
                            .unwrap_or(false);
                        if first {
                            set_timeout(apply_pending, KEYS_BATCH);
                        }
                    }
                }
            });
            key_subs.update_value(|m| {
                m.insert(run.clone(), id);
            });
            // The topic's first message carries the keys; they are fetched over HTTP only when
            // it has not come in a moment (no WebSocket through a proxy, a reconnect): a
            // workspace of 1,000 runs makes no 1,000 requests beside its charts' own.
            set_timeout(
                move || {
                    if run_keys
                        .try_with_untracked(|m| m.contains_key(&run))
                        .unwrap_or(true)
                    {
                        return;
                    }
                    spawn_local(async move {
                        if let Ok(keys) = api::keys(&project, &run).await {
                            run_keys.try_update(|m| {
                                m.entry(run.clone())
                                    .or_default()
                                    .extend(keys.into_iter().map(|k| k.key))
                            });
                        }
                    });
                },
                KEYS_FALLBACK_AFTER,
            );
        }
    });
    on_cleanup(move || {
        if let Some(ids) = key_subs.try_with_value(|m| m.values().copied().collect::<Vec<_>>()) {
            for id in ids {
                run_feed::unwatch(id);
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
            layout_known.set(true);
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
            <For
                each=move || if layout_known.get() { section_names.get() } else { Vec::new() }
                key=|n| n.clone()
                children=section_view
            />
            <MediaSections project=project_s.get_value() runs=run_refs />
        </div>
    }
}
