//! `/projects/:project/sweeps/:sweep`: one sweep, live on the `sweep` topic: its state and the
//! owner's controls (pause, resume, stop, cancel after a question, the run cap), the agent
//! command, parallel coordinates whose brushes filter the runs table, parameter importance
//! (refetched when another run gets its metric), the metric over time with the best so far,
//! and each parameter against the metric.
//!
//! Test ids: `sweep-page`, `sweep-state` (with `data-state`), `sweep-pause`, `sweep-resume`,
//! `sweep-stop`, `sweep-cancel` (a [`ConfirmButton`]), `sweep-run-cap`, `sweep-run-cap-set`,
//! `sweep-agent-command`, `sweep-run-row` (with `data-run`), `sweep-brush-count`,
//! `importance-row` (with `data-name`), `sweep-error`.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use trackline_shared::sweeps::{SweepControl, SweepDetail, SweepImportance, SweepRunState};
use trackline_shared::ws::{ServerMsg, Topic};

use super::parcoords::{Brushes, ParallelCoords, axes, flat, passes, run_positions};
use super::plots::{MetricOverTime, Scatters};
use super::{control, detail_url, ensure_style, fmt_metric, importance_url, sweeps_path};
use crate::api;
use crate::browser::href;
use crate::components::{ConfirmButton, ErrorBox};
use crate::live::{Live, live, load};

#[component]
pub fn SweepPage() -> impl IntoView {
    let params = use_params_map();
    let key = Memo::new(move |_| {
        let p = params.read();
        (
            p.get("project").unwrap_or_default(),
            p.get("sweep").unwrap_or_default(),
        )
    });
    move || {
        let (project, sweep) = key.get();
        view! { <SweepView project sweep /> }
    }
}

fn run_state_label(state: SweepRunState, early: bool) -> &'static str {
    match state {
        SweepRunState::Assigned => "assigned",
        SweepRunState::Running => "running",
        SweepRunState::Finished => "finished",
        SweepRunState::Failed => "failed",
        SweepRunState::Stopped if early => "stopped early",
        SweepRunState::Stopped => "stopped",
    }
}

#[component]
fn SweepView(project: String, sweep: String) -> impl IntoView {
    ensure_style();
    crate::browser::set_title(&format!("Sweep {sweep} · {project}"));
    let detail = RwSignal::new(None::<SweepDetail>);
    let error = RwSignal::new(None::<String>);
    let importance = RwSignal::new(None::<SweepImportance>);
    let brushes = RwSignal::new(Brushes::new());
    let busy = RwSignal::new(false);
    let asking_cancel = RwSignal::new(false);
    let cap_text = RwSignal::new(String::new());
    let live_seen = StoredValue::new(false);
    let url = detail_url(&project, &sweep);
    live(
        async move { api::get_json::<SweepDetail>(&url).await },
        Topic::Sweep {
            project: project.clone(),
            sweep: sweep.clone(),
        },
        move |update| match update {
            Live::Snapshot(Ok(d)) if !live_seen.get_value() => detail.set(Some(d)),
            Live::Snapshot(Ok(_)) => {}
            Live::Snapshot(Err(e)) => error.set(Some(e.to_string())),
            Live::Msg(ServerMsg::Sweep { detail: d, .. }) => {
                live_seen.set_value(true);
                detail.set(Some(*d));
            }
            Live::Msg(ServerMsg::Error { message, .. }) => {
                error.set(Some(format!("Live updates failed: {message}")));
            }
            Live::Msg(_) => {}
        },
    );
    // Importance, again whenever another run has its metric.
    let with_metric = Memo::new(move |_| {
        detail.with(|d| {
            d.as_ref()
                .map_or(0, |d| d.runs.iter().filter(|r| r.metric.is_some()).count())
        })
    });
    let imp_url = StoredValue::new(importance_url(&project, &sweep));
    Effect::new(move |_| {
        let n = with_metric.get();
        if n == 0 {
            return;
        }
        let url = imp_url.get_value();
        load(
            async move { api::get_json::<SweepImportance>(&url).await },
            move |res| {
                if let Ok(i) = res {
                    importance.set(Some(i));
                }
            },
        );
    });
    let sweep_id = StoredValue::new(sweep.clone());
    let act = move |body: SweepControl| {
        busy.set(true);
        let id = sweep_id.get_value();
        load(async move { control(&id, &body).await }, move |res| {
            busy.set(false);
            asking_cancel.set(false);
            match res {
                Ok(info) => detail.update(|d| {
                    if let Some(d) = d {
                        d.info = info;
                    }
                }),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let project_s = StoredValue::new(project.clone());
    let header = move || {
        let d = detail.get()?;
        let state = d.info.state.as_str();
        let metric = d
            .info
            .metric
            .as_ref()
            .map(|m| format!("{} ({})", m.name, m.goal))
            .unwrap_or_else(|| "no metric".into());
        let best = d.info.best.as_ref().map(|b| {
            let link = href(&format!(
                "/projects/{}/runs/{}",
                crate::util::encode(&project_s.get_value()),
                crate::util::encode(&b.run)
            ));
            view! { " · best " <a href=link>{fmt_metric(Some(b.value))}</a> }
        });
        let runs = match d.info.run_cap {
            Some(cap) => format!("{} / {cap} runs", d.info.run_count),
            None => format!("{} runs", d.info.run_count),
        };
        Some(view! {
            <h1>{d.info.name.clone()}</h1>
            <div class="muted">
                <span class=format!("sw-state {state}") data-testid="sweep-state" data-state=state>{state}</span>
                " · " {d.info.method.clone()} " · " {metric} {best} " · " {runs}
                " · " {d.info.running_count} " running · " {d.info.agent_count} " agents"
            </div>
        })
    };
    let command = format!("trackline agent {project}/{sweep}");
    let table = move || {
        let d = detail.get()?;
        let current = brushes.get();
        let ax = axes(&d);
        let positions = run_positions(&d, &ax);
        let mut names: Vec<String> = Vec::new();
        for r in &d.runs {
            for (n, _) in flat(&r.params) {
                if !names.contains(&n) {
                    names.push(n);
                }
            }
        }
        let kept: Vec<usize> = positions
            .iter()
            .enumerate()
            .filter(|(_, (_, p))| passes(&ax, p, &current))
            .map(|(i, _)| i)
            .collect();
        let count = format!("{} of {} runs", kept.len(), d.runs.len());
        let head = names
            .iter()
            .map(|n| view! { <th>{n.clone()}</th> })
            .collect_view();
        let project = project_s.get_value();
        let rows = kept
            .into_iter()
            .rev()
            .map(|i| {
                let r = &d.runs[i];
                let values: std::collections::HashMap<String, serde_json::Value> =
                    flat(&r.params).into_iter().collect();
                let cells = names
                    .iter()
                    .map(|n| {
                        let text = values.get(n).map_or(String::new(), |v| match v {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        });
                        view! { <td>{text}</td> }
                    })
                    .collect_view();
                let link = href(&format!(
                    "/projects/{}/runs/{}",
                    crate::util::encode(&project),
                    crate::util::encode(&r.run)
                ));
                view! {
                    <tr data-testid="sweep-run-row" data-run=r.run.clone()>
                        <td><a href=link>{r.run.clone()}</a></td>
                        <td>{run_state_label(r.state, r.early_terminated)}</td>
                        {cells}
                        <td class="num">{fmt_metric(r.metric)}</td>
                    </tr>
                }
            })
            .collect_view();
        Some(view! {
            <div class="muted" data-testid="sweep-brush-count">{count}
                {(!current.is_empty()).then(|| view! {
                    " · " <button class="btn small" on:click=move |_| brushes.set(Brushes::new())>"Clear brushes"</button>
                })}
            </div>
            <table class="grid">
                <thead><tr><th>"Run"</th><th>"State"</th>{head}<th class="num">"Metric"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        })
    };
    let importance_view = move || {
        let imp = importance.get()?;
        if imp.params.is_empty() {
            return None;
        }
        let rows = imp
            .params
            .into_iter()
            .map(|p| {
                let corr = p.correlation.map_or(("—".to_string(), ""), |c| {
                    (format!("{c:+.2}"), if c >= 0.0 { "sw-corr pos" } else { "sw-corr neg" })
                });
                view! {
                    <tr data-testid="importance-row" data-name=p.name.clone()>
                        <td>{p.name.clone()}</td>
                        <td style="min-width: 90px">
                            <div class="sw-bar" style=format!("width: {:.0}%", p.importance * 100.0)></div>
                        </td>
                        <td class=corr.1>{corr.0}</td>
                    </tr>
                }
            })
            .collect_view();
        Some(view! {
            <div class="panel">
                <h2>"Parameter importance"</h2>
                <div class="muted">"with respect to " {imp.metric} ", over " {imp.run_count} " runs"</div>
                <table class="grid">
                    <thead><tr><th>"Parameter"</th><th>"Importance"</th><th>"Correlation"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        })
    };
    let state = Memo::new(move |_| detail.with(|d| d.as_ref().map(|d| d.info.state)));
    let controls = move || {
        use trackline_shared::sweeps::SweepState as S;
        let s = state.get()?;
        let ended = matches!(s, S::Finished | S::Cancelled);
        Some(view! {
            <div class="sw-controls">
                {(s == S::Running).then(|| view! {
                    <button class="btn small" data-testid="sweep-pause" disabled=move || busy.get()
                        on:click=move |_| act(SweepControl::Pause)>"Pause"</button>
                })}
                {matches!(s, S::Paused | S::Stopped).then(|| view! {
                    <button class="btn small" data-testid="sweep-resume" disabled=move || busy.get()
                        on:click=move |_| act(SweepControl::Resume)>"Resume"</button>
                })}
                {matches!(s, S::Running | S::Paused).then(|| view! {
                    <button class="btn small" data-testid="sweep-stop" disabled=move || busy.get()
                        on:click=move |_| act(SweepControl::Stop)>"Stop"</button>
                })}
                {(!ended).then(|| view! {
                    <ConfirmButton
                        testid="sweep-cancel"
                        label="Cancel"
                        question=Signal::derive(|| "Cancel the sweep and stop its running runs?".to_string())
                        asking=asking_cancel
                        busy=busy
                        on_yes=Callback::new(move |_| act(SweepControl::Cancel))
                    />
                    <input data-testid="sweep-run-cap" placeholder="run cap" prop:value=move || cap_text.get()
                        on:input=move |ev| cap_text.set(event_target_value(&ev)) />
                    <button class="btn small" data-testid="sweep-run-cap-set" disabled=move || busy.get()
                        on:click=move |_| {
                            let text = cap_text.get_untracked();
                            let run_cap = text.trim().parse::<u64>().ok().filter(|n| *n > 0);
                            if run_cap.is_none() && !text.trim().is_empty() {
                                error.set(Some("the run cap is a whole number above 0 (empty: none)".into()));
                                return;
                            }
                            act(SweepControl::RunCap { run_cap });
                        }>"Set run cap"</button>
                })}
            </div>
        })
    };
    view! {
        <nav class="crumbs-line muted">
            <a href=href("/")>"Projects"</a>
            " / "
            <a href=href(&format!("/projects/{}", crate::util::encode(&project)))>{project.clone()}</a>
            " / "
            <a href=href(&sweeps_path(&project))>"Sweeps"</a>
        </nav>
        <div data-testid="sweep-page">
            {header}
            {move || error.get().map(|e| view! { <div data-testid="sweep-error"><ErrorBox message=e /></div> })}
            {controls}
            <div class="muted">"Run an agent: " <code class="sw-cmd" data-testid="sweep-agent-command">{command}</code></div>
            <div class="sw-grid">
                <div class="panel">
                    <h2>"Parallel coordinates"</h2>
                    <div class="muted">"Drag along an axis to keep a range of runs; click an axis to clear it."</div>
                    <ParallelCoords detail=detail.into() brushes />
                </div>
                {importance_view}
            </div>
            <div class="sw-grid">
                <MetricOverTime detail=detail.into() />
                <Scatters detail=detail.into() />
            </div>
            <div class="panel">
                <h2>"Runs"</h2>
                {table}
            </div>
        </div>
    }
}
