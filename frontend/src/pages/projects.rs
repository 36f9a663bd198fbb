//! `/`: every project with its run counts and last activity, live via the `projects` topic.

use leptos::prelude::*;
use trackline_shared::api::ProjectInfo;
use trackline_shared::ws::{ServerMsg, Topic};

use crate::browser::Clock;
use crate::browser::{href, local_datetime};
use crate::components::ErrorBox;
use crate::live::{Live, live};
use crate::{api, util};

fn sorted(mut p: Vec<ProjectInfo>) -> Vec<ProjectInfo> {
    p.sort_by(|a, b| {
        b.last_activity_secs
            .total_cmp(&a.last_activity_secs)
            .then_with(|| a.name.cmp(&b.name))
    });
    p
}

#[component]
pub fn ProjectsPage() -> impl IntoView {
    crate::browser::mark("trackline:projects");
    crate::browser::set_title("Projects");
    let projects = RwSignal::new(None::<Vec<ProjectInfo>>);
    let error = RwSignal::new(None::<String>);
    let clock = expect_context::<Clock>();

    live(
        api::projects(),
        Topic::Projects,
        move |update| match update {
            Live::Snapshot(Ok(p)) => {
                // The live list may have arrived first; it is at least as new.
                if projects.get_untracked().is_none() {
                    projects.set(Some(sorted(p)));
                }
                error.set(None);
            }
            Live::Snapshot(Err(e)) => error.set(Some(format!("Could not load projects: {e}"))),
            Live::Msg(ServerMsg::Projects { projects: p, .. }) => {
                projects.try_set(Some(sorted(p)));
                error.try_set(None);
            }
            Live::Msg(ServerMsg::Error { message, .. }) => {
                error.try_set(Some(format!("Live updates failed: {message}")));
            }
            Live::Msg(_) => {}
        },
    );

    let rows = move || {
        projects.get().map(|list| {
            if list.is_empty() {
                return view! {
                    <div class="empty">
                        "No projects yet. Runs logged with the Python client (" <code>"trackline.init(project=…)"</code>
                        ") show up here."
                    </div>
                }
                .into_any();
            }
            view! {
                <div class="table-wrap">
                    <table class="grid">
                        <thead>
                            <tr>
                                <th>"Project"</th>
                                <th class="num">"Runs"</th>
                                <th class="num">"Running"</th>
                                <th>"Last activity"</th>
                                <th class="fill"></th>
                            </tr>
                        </thead>
                        <tbody>
                            {list
                                .into_iter()
                                .map(|p| {
                                    let last = p.last_activity_secs;
                                    let link = href(&util::project_path(&p.name));
                                    view! {
                                        <tr data-testid="project-row" data-project=p.name.clone()>
                                            <td>
                                                <a href=link data-testid="project-link">
                                                    {p.name.clone()}
                                                </a>
                                            </td>
                                            <td class="num">{p.run_count}</td>
                                            <td class="num">
                                                {if p.running_count > 0 {
                                                    view! { <span class="badge running">{p.running_count}</span> }
                                                        .into_any()
                                                } else {
                                                    view! { <span class="faint">"0"</span> }.into_any()
                                                }}
                                            </td>
                                            <td title=local_datetime(p.last_activity_secs)>
                                                {move || util::ago(clock.0.get(), last)}
                                            </td>
                                            <td class="fill"></td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                </div>
            }
            .into_any()
        })
    };

    view! {
        <h1>"Projects"</h1>
        {move || error.get().map(|e| view! { <ErrorBox message=e /> })}
        <div class="panel">
            {move || {
                if projects.with(Option::is_none) && error.with(Option::is_none) {
                    Some(view! { <div class="loading panel-body">"Loading projects…"</div> })
                } else {
                    None
                }
            }}
            {rows}
        </div>
    }
}
