//! `/projects/:project/runs/:run`: metadata, config, summary, and one live chart per metric key.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use trackline_shared::annotations::NoteTarget;
use trackline_shared::api::RunInfo;
use trackline_shared::ws::{ServerMsg, Topic};

use crate::annotations::{NoteEditor, RunLabelEditor, ThreadList, provide_annotations};
use crate::browser::Clock;
use crate::browser::{href, local_datetime};
use crate::charts::settings::ChartSettings;
use crate::components::{
    ChartSettingsBar, ConsoleLog, ErrorBox, JsonTable, LineChart, RunRef, StateBadge,
};
use crate::live::{Live, live, load};
use crate::media::MediaSections;
use crate::workspace::step_metric::{step_metric_for, with_step_metric};
use crate::{api, util};

#[component]
pub fn RunPage() -> impl IntoView {
    let params = use_params_map();
    let ids = Memo::new(move |_| {
        params.with(|p| {
            (
                p.get("project").unwrap_or_default(),
                p.get("run").unwrap_or_default(),
            )
        })
    });
    move || {
        let (project, run) = ids.get();
        view! { <RunView project run /> }
    }
}

/// Merges metric keys into a sorted, duplicate-free list; returns whether it changed.
pub fn merge_keys(list: &mut Vec<String>, keys: impl IntoIterator<Item = String>) -> bool {
    let before = list.len();
    for k in keys {
        if let Err(i) = list.binary_search(&k) {
            list.insert(i, k);
        }
    }
    list.len() != before
}

#[component]
fn RunView(project: String, run: String) -> impl IntoView {
    crate::browser::mark("trackline:run");
    let info = RwSignal::new(None::<RunInfo>);
    let keys = RwSignal::new(Vec::<String>::new());
    let keys_loaded = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let live_error = RwSignal::new(None::<String>);
    let removed = RwSignal::new(false);
    let clock = expect_context::<Clock>();
    let run_title = run.clone();
    // Notes, threads and chart pins of this project, live (charts below read them as context).
    provide_annotations(&project);
    // Artifact versions this run logged, as checkpoint marks on its step charts.
    crate::artifacts::checkpoints::provide(&project, &run);

    {
        let (p, r) = (project.clone(), run.clone());
        let fetch = async move { api::run(&p, &r).await };
        let topic = Topic::Run {
            project: project.clone(),
            run: run.clone(),
        };
        let run = run.clone();
        live(fetch, topic, move |update| match update {
            Live::Snapshot(Ok(r)) => {
                // A live update may have come first; keep the newer one.
                if info.with_untracked(|i| i.as_ref().is_none_or(|i| i.version <= r.version)) {
                    info.set(Some(r));
                }
            }
            Live::Snapshot(Err(e)) => error.set(Some(if e.is_not_found() {
                format!("Not found: {}", e.message)
            } else {
                format!("Could not load the run: {e}")
            })),
            Live::Msg(ServerMsg::Runs { runs, .. }) => {
                if let Some(r) = runs.into_iter().rev().find(|r| r.id == run) {
                    info.try_update(|i| {
                        if i.as_ref().is_none_or(|i| i.version <= r.version) {
                            *i = Some(r);
                        }
                    });
                    error.try_set(None);
                    removed.try_set(false);
                }
            }
            Live::Msg(ServerMsg::Keys { keys: k, .. }) => {
                // Update only on change, so charts are not rebuilt.
                let changed =
                    keys.try_with_untracked(|l| k.iter().any(|x| l.binary_search(x).is_err()));
                if changed == Some(true) {
                    keys.try_update(|l| {
                        merge_keys(l, k);
                    });
                }
                keys_loaded.try_set(true);
            }
            Live::Msg(ServerMsg::RunRemoved { .. }) => {
                removed.try_set(true);
            }
            Live::Msg(ServerMsg::Error { message, .. }) => {
                live_error.try_set(Some(format!("Live updates failed: {message}")));
            }
            Live::Msg(_) => {}
        });
    }
    {
        let (project, run) = (project.clone(), run.clone());
        load(async move { api::keys(&project, &run).await }, move |res| {
            match res {
                Ok(k) => {
                    keys.update(|l| {
                        merge_keys(l, k.into_iter().map(|m| m.key));
                    });
                }
                Err(e) if e.is_not_found() => {}
                Err(e) => live_error.set(Some(format!("Could not load metric keys: {e}"))),
            }
            keys_loaded.set(true);
        });
    }

    {
        let project = project.clone();
        Effect::new(move |_| {
            let name = info.with(|i| i.as_ref().map(|r| r.name.clone()));
            crate::browser::set_title(&format!(
                "{} · {project}",
                name.as_deref().unwrap_or(&run_title)
            ));
        });
    }
    let project_link = href(&util::project_path(&project));
    let (project_s, run_s) = (
        StoredValue::new(project.clone()),
        StoredValue::new(run.clone()),
    );

    let head = move || {
        info.get().map(|r| {
            view! {
                <div class="run-head">
                    <h1 data-testid="run-name">{r.name.clone()}</h1>
                    <StateBadge state=r.state />
                    <span class="mono muted">{r.id.clone()}</span>
                </div>
            }
        })
    };

    let overview = move || {
        info.get().map(|r| {
            let created = r.created_at_secs;
            let r_rt = r.clone();
            let command = if r.command.is_empty() { "–".to_string() } else { r.command.join(" ") };
            let opt = |v: Option<String>| v.filter(|s| !s.is_empty()).unwrap_or_else(|| "–".into());
            let tags = if r.tags.is_empty() {
                view! { <span class="faint">"–"</span> }.into_any()
            } else {
                r.tags.iter().map(|t| view! { <span class="tag">{t.clone()}</span> }).collect_view().into_any()
            };
            let finished = r.finished_at_secs.map(local_datetime);
            view! {
                <table class="kv">
                    <tbody>
                        <tr>
                            <th>"ID"</th>
                            <td>{r.id.clone()}</td>
                        </tr>
                        <tr>
                            <th>"State"</th>
                            <td>
                                <StateBadge state=r.state />
                                {r.exit_code.map(|c| format!(" exit code {c}"))}
                            </td>
                        </tr>
                        <tr>
                            <th>"Host"</th>
                            <td>{opt(r.host.clone())} {r.pid.map(|p| format!(" (pid {p})"))}</td>
                        </tr>
                        <tr>
                            <th>"Command"</th>
                            <td>{command}</td>
                        </tr>
                        <tr>
                            <th>"Created"</th>
                            <td title=move || util::ago(clock.0.get(), created)>{local_datetime(created)}</td>
                        </tr>
                        {finished
                            .map(|f| {
                                view! {
                                    <tr>
                                        <th>"Finished"</th>
                                        <td>{f}</td>
                                    </tr>
                                }
                            })}
                        <tr>
                            <th>"Runtime"</th>
                            <td>{move || util::duration(util::live_runtime(&r_rt, clock.0.get()))}</td>
                        </tr>
                        <tr>
                            <th>"Group"</th>
                            <td>{opt(r.group.clone())}</td>
                        </tr>
                        <tr>
                            <th>"Job type"</th>
                            <td>{opt(r.job_type.clone())}</td>
                        </tr>
                        <tr>
                            <th>"Tags"</th>
                            <td>{tags}</td>
                        </tr>
                        <tr>
                            <th>"Notes"</th>
                            <td class="notes">{opt(r.notes.clone())}</td>
                        </tr>
                        <tr>
                            <th>"OS"</th>
                            <td>{opt(r.os.clone())}</td>
                        </tr>
                        <tr>
                            <th>"Python"</th>
                            <td>{opt(r.python.clone())}</td>
                        </tr>
                        <tr>
                            <th>"Git"</th>
                            <td class="mono" data-testid="run-git">{git_text(r.git.as_ref())}</td>
                        </tr>
                        <tr>
                            <th>"History rows"</th>
                            <td>{r.history_rows.map_or_else(|| "–".to_string(), |n| n.to_string())}</td>
                        </tr>
                    </tbody>
                </table>
            }
        })
    };

    let config = move || {
        info.get()
            .map(|r| view! { <JsonTable map=r.config empty="No config." /> })
    };
    let summary = move || {
        info.get()
            .map(|r| view! { <JsonTable map=r.summary empty="No summary yet." /> })
    };

    // Only a change between "no keys" and "some keys" rebuilds the grid; <For> handles the rest.
    let has_keys = Memo::new(move |_| !keys.with(Vec::is_empty));
    // The run as the charts need it (one run; its colour as in the project's workspace).
    let run_ref = Memo::new(move |_| {
        info.with(|i| {
            i.as_ref()
                .map(|r| RunRef::new(std::sync::Arc::new(r.clone())))
        })
    });
    let chart_runs = Signal::derive(move || run_ref.get().into_iter().collect::<Vec<_>>());
    let chart_settings = RwSignal::new(ChartSettings::default());
    // A metric defined with `define_metric(step_metric=…)` is drawn against that metric by default
    // (W&B's behaviour), unless the user picked another x axis. A memo, so run updates that leave
    // the definition alone don't make charts refetch.
    let settings_for = move |key: String| {
        Signal::from(Memo::new(move |_| {
            let step_metric =
                info.with(|i| i.as_ref().and_then(|r| step_metric_for(&r.metrics, &key)));
            with_step_metric(chart_settings.get(), step_metric)
        }))
    };
    // System metrics (system/…) are sampled on a timer, not per step: drawn apart, against time.
    let metric_keys = Memo::new(move |_| {
        keys.with(|k| {
            k.iter()
                .filter(|k| !is_system(k))
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let system_keys = Memo::new(move |_| {
        keys.with(|k| {
            k.iter()
                .filter(|k| is_system(k))
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let system_settings = RwSignal::new(ChartSettings {
        x: trackline_shared::api::XAxis::RelativeTime,
        ..ChartSettings::default()
    });
    let hidden = RwSignal::new(std::collections::BTreeSet::<String>::new());
    let highlighted = RwSignal::new(None::<String>);
    let charts = move || {
        if error.with(Option::is_some) && info.with(Option::is_none) {
            return ().into_any();
        }
        if !keys_loaded.get() {
            return view! { <p class="loading">"Loading metrics…"</p> }.into_any();
        }
        if !has_keys.get() {
            return view! { <p class="empty">"No metrics logged yet."</p> }.into_any();
        }
        let _ = run_s;
        view! {
            <ChartSettingsBar
                settings=chart_settings
                on_change=Callback::new(move |s| chart_settings.set(s))
                x_keys=keys
                group_keys=Signal::derive(Vec::new)
            />
            <div class="charts">
                <For
                    each=move || metric_keys.get()
                    key=|k| k.clone()
                    children=move |k| {
                        view! {
                            <div class="chart-card">
                                <LineChart
                                    project=project_s.get_value()
                                    key=k.clone()
                                    runs=chart_runs
                                    settings=settings_for(k)
                                    hidden=hidden
                                    highlighted=highlighted
                                />
                            </div>
                        }
                    }
                />
            </div>
            <Show when=move || system_keys.with(|k| !k.is_empty())>
                <div class="section-title" data-testid="system-section">
                    <h2>"System"</h2>
                    <span class="muted">"sampled by the client, against time since the run started"</span>
                </div>
                <div class="charts">
                    <For
                        each=move || system_keys.get()
                        key=|k| k.clone()
                        children=move |k| {
                            view! {
                                <div class="chart-card">
                                    <LineChart
                                        project=project_s.get_value()
                                        key=k
                                        runs=chart_runs
                                        settings=system_settings
                                        hidden=hidden
                                        highlighted=highlighted
                                    />
                                </div>
                            }
                        }
                    />
                </div>
            </Show>
        }
        .into_any()
    };
    let running = Signal::derive(move || {
        info.with(|i| {
            i.as_ref()
                .is_some_and(|r| r.state == trackline_shared::api::RunState::Running)
        })
    });
    let console = {
        let (project, run) = (project.clone(), run.clone());
        move || {
            let (project, run) = (project.clone(), run.clone());
            view! { <ConsoleLog project=project run=run live=running /> }
        }
    };

    view! {
        <nav class="crumbs-line muted">
            <a href=href("/")>"Projects"</a>
            <span class="sep">" / "</span>
            <a href=project_link>{project.clone()}</a>
        </nav>
        {head}
        <RunLabelEditor run=run.clone() info=info />
        <super::run_delete::RunDeleteButton project=project.clone() run=run.clone() info=info />
        {move || error.get().map(|e| view! { <ErrorBox message=e /> })}
        {move || {
            // The page's own error says more; a failing subscription for the same reason is noise.
            if error.with(Option::is_some) {
                return None;
            }
            live_error.get().map(|e| view! { <ErrorBox message=e /> })
        }}
        {move || {
            removed
                .get()
                .then(|| view! { <ErrorBox message="This run's directory was removed." /> })
        }}
        <Show when=move || info.with(Option::is_some)>
            <div class="run-cols">
                <section class="panel">
                    <h2>"Overview"</h2>
                    <div class="panel-body">{overview}</div>
                </section>
                <section class="panel">
                    <h2>"Config"</h2>
                    <div class="panel-body">{config}</div>
                </section>
                <section class="panel">
                    <h2>"Summary"</h2>
                    <div class="panel-body">{summary}</div>
                </section>
            </div>
        </Show>
        <Show when=move || info.with(Option::is_some)>
            <div class="run-notes">
                <NoteEditor
                    target=NoteTarget::Run { run: run_s.get_value() }
                    title="Note"
                    testid="run-note"
                    empty="No note yet: what makes this run special?"
                />
                <ThreadList run=run_s.get_value() />
            </div>
        </Show>
        <div
            class="section-title"
            style:display=move || {
                if error.with(Option::is_some) && info.with(Option::is_none) { "none" } else { "" }
            }
        >
            <h2>"Metrics"</h2>
            <span class="muted">
                {move || {
                    let n = keys.with(Vec::len);
                    if n > 0 { format!("{n} keys") } else { String::new() }
                }}
            </span>
        </div>
        {charts}
        <MediaSections project=project_s.get_value() runs=chart_runs />
        {console}
    }
}

/// `system/…` keys come from `system.jsonl` (docs/format.md).
fn is_system(key: &str) -> bool {
    key.starts_with("system/")
}

/// `9f1c2e0 on main (dirty)` from run.json's `git` object.
fn git_text(git: Option<&serde_json::Value>) -> String {
    let Some(g) = git else { return "–".into() };
    let commit: String = g["commit"]
        .as_str()
        .unwrap_or("")
        .chars()
        .take(10)
        .collect();
    if commit.is_empty() {
        return "–".into();
    }
    let mut out = commit;
    if let Some(b) = g["branch"].as_str().filter(|b| !b.is_empty()) {
        out.push_str(&format!(" on {b}"));
    }
    if g["dirty"].as_bool() == Some(true) {
        out.push_str(" (dirty)");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::merge_keys;

    #[test]
    fn keys_merge_sorted_without_duplicates() {
        let mut l = vec!["b".to_string()];
        assert!(merge_keys(
            &mut l,
            ["c".to_string(), "a".to_string(), "b".to_string()]
        ));
        assert_eq!(l, ["a", "b", "c"]);
        assert!(!merge_keys(&mut l, ["a".to_string()]));
    }
}
