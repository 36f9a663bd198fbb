//! `/projects/:project/sweeps`: the project's sweeps, newest first (name, id, method, state,
//! metric and best value, runs, agents, created), live on the `sweeps` topic.
//!
//! Test ids: `sweeps-page`, `sweep-row` (with `data-id`), `sweeps-empty`.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use trackline_shared::sweeps::SweepInfo;
use trackline_shared::ws::{ServerMsg, Topic};

use super::{ensure_style, fmt_metric, list_url, sweep_path};
use crate::api;
use crate::browser::{href, local_datetime};
use crate::components::ErrorBox;
use crate::live::{Live, live};

#[component]
pub fn SweepsPage() -> impl IntoView {
    let params = use_params_map();
    let project = Memo::new(move |_| params.read().get("project").unwrap_or_default());
    move || view! { <SweepsView project=project.get() /> }
}

#[component]
fn SweepsView(project: String) -> impl IntoView {
    ensure_style();
    crate::browser::set_title(&format!("Sweeps · {project}"));
    let sweeps = RwSignal::new(None::<Vec<SweepInfo>>);
    let error = RwSignal::new(None::<String>);
    let live_seen = StoredValue::new(false);
    let url = list_url(&project);
    live(
        async move { api::get_json::<Vec<SweepInfo>>(&url).await },
        Topic::Sweeps {
            project: project.clone(),
        },
        move |update| match update {
            Live::Snapshot(Ok(list)) if !live_seen.get_value() => sweeps.set(Some(list)),
            Live::Snapshot(Ok(_)) => {}
            Live::Snapshot(Err(e)) => error.set(Some(e.to_string())),
            Live::Msg(ServerMsg::Sweeps { sweeps: list, .. }) => {
                live_seen.set_value(true);
                sweeps.set(Some(list));
            }
            Live::Msg(ServerMsg::Error { message, .. }) => {
                error.set(Some(format!("Live updates failed: {message}")));
            }
            Live::Msg(_) => {}
        },
    );
    let p = StoredValue::new(project.clone());
    let rows = move || {
        let list = sweeps.get()?;
        if list.is_empty() {
            return Some(
                view! {
                    <div class="empty" data-testid="sweeps-empty">
                        "No sweeps in this project yet. Start one with "
                        <code>"trackline sweep sweep.yaml --project " {p.get_value()}</code>
                        ", or select runs in the runs table and choose New sweep."
                    </div>
                }
                .into_any(),
            );
        }
        let body = list
            .into_iter()
            .map(|s| {
                let link = href(&sweep_path(&p.get_value(), &s.id));
                let metric = s
                    .metric
                    .as_ref()
                    .map(|m| format!("{} ({})", m.name, m.goal))
                    .unwrap_or_else(|| "—".into());
                let best = fmt_metric(s.best.as_ref().map(|b| b.value));
                let runs = match s.run_cap {
                    Some(cap) => format!("{} running · {} / {cap}", s.running_count, s.run_count),
                    None => format!("{} running · {}", s.running_count, s.run_count),
                };
                let state = s.state.as_str();
                view! {
                    <tr data-testid="sweep-row" data-id=s.id.clone()>
                        <td><a href=link>{s.name.clone()}</a><div class="muted">{s.id.clone()}</div></td>
                        <td>{s.method.clone()}</td>
                        <td><span class=format!("sw-state {state}")>{state}</span></td>
                        <td>{metric}</td>
                        <td class="num">{best}</td>
                        <td>{runs}</td>
                        <td class="num">{s.agent_count}</td>
                        <td>{local_datetime(s.created_at)}</td>
                    </tr>
                }
            })
            .collect_view();
        Some(
            view! {
                <table class="grid">
                    <thead>
                        <tr>
                            <th>"Sweep"</th><th>"Method"</th><th>"State"</th><th>"Metric"</th>
                            <th class="num">"Best"</th><th>"Runs"</th><th class="num">"Agents"</th>
                            <th>"Created"</th>
                        </tr>
                    </thead>
                    <tbody>{body}</tbody>
                </table>
            }
            .into_any(),
        )
    };
    view! {
        <nav class="crumbs-line muted">
            <a href=href("/")>"Projects"</a>
            " / "
            <a href=href(&format!("/projects/{}", crate::util::encode(&project)))>{project.clone()}</a>
        </nav>
        <div data-testid="sweeps-page">
            <h1>"Sweeps"</h1>
            {move || error.get().map(|e| view! { <ErrorBox message=e /> })}
            {rows}
        </div>
    }
}
