//! `/projects/:project/compare?runs=a,b,c`: config and summary of two or more runs side by side,
//! differing keys highlighted, the best value of loss- and accuracy-like summary keys marked. Live:
//! each run's `run` topic keeps its column current.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde_json::{Map, Value};
use trackline_shared::api::RunInfo;
use trackline_shared::ws::{ServerMsg, Topic};

use crate::browser::href;
use crate::components::{ErrorBox, StateBadge};
use crate::live::{Live, live};
use crate::selection::run_color;
use crate::table::compare::{self, Better};
use crate::{api, util};

#[component]
pub fn ComparePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let key = Memo::new(move |_| {
        (
            params.read().get("project").unwrap_or_default(),
            query.read().get("runs").unwrap_or_default(),
        )
    });
    move || {
        let (project, runs) = key.get();
        view! { <CompareView project ids=compare::parse_ids(&runs) /> }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Section {
    Config,
    Summary,
}

#[component]
fn CompareView(project: String, ids: Vec<String>) -> impl IntoView {
    crate::browser::set_title(&format!("Compare · {project}"));
    let n = ids.len();
    // One slot per requested run, in the order asked for.
    let runs = RwSignal::new(vec![None::<RunInfo>; n]);
    let errors = RwSignal::new(Vec::<String>::new());
    let pending = RwSignal::new(n);
    let only_diff = RwSignal::new(false);

    let put = move |slot: usize, r: RunInfo| {
        runs.try_update(|l| {
            if l[slot].as_ref().is_none_or(|old| old.version <= r.version) {
                l[slot] = Some(r);
            }
        });
    };
    for (slot, id) in ids.iter().enumerate() {
        let fetch = {
            let (p, id) = (project.clone(), id.clone());
            async move { api::run(&p, &id).await }
        };
        let topic = Topic::Run {
            project: project.clone(),
            run: id.clone(),
        };
        let id = id.clone();
        live(fetch, topic, move |update| match update {
            Live::Snapshot(res) => {
                match res {
                    Ok(r) => put(slot, r),
                    Err(e) => {
                        errors.try_update(|v| v.push(format!("Run '{id}': {e}")));
                    }
                }
                pending.try_update(|c| *c = c.saturating_sub(1));
            }
            Live::Msg(ServerMsg::Runs { runs: changed, .. }) => {
                if let Some(r) = changed.into_iter().rev().find(|r| r.id == id) {
                    put(slot, r);
                }
            }
            Live::Msg(_) => {}
        });
    }

    let project_sv = StoredValue::new(project.clone());
    let table = move |section: Section| {
        let loaded: Vec<RunInfo> = runs.with(|l| l.iter().flatten().cloned().collect());
        let maps: Vec<&Map<String, Value>> = loaded
            .iter()
            .map(|r| match section {
                Section::Config => &r.config,
                Section::Summary => &r.summary,
            })
            .collect();
        let rows = compare::rows(&maps, section == Section::Summary);
        let total = rows.len();
        let differing = rows.iter().filter(|r| r.differs).count();
        let only = only_diff.get();
        let (title, testid, empty) = match section {
            Section::Config => ("Config", "compare-config", "No config values."),
            Section::Summary => ("Summary", "compare-summary", "No summary values."),
        };
        let heads = loaded
            .iter()
            .map(|r| {
                let link = href(&util::run_path(&project_sv.get_value(), &r.id));
                view! {
                    <th class="cmp-run" title=r.id.clone()>
                        <span class="rt-swatch" style:background=run_color(&r.id)></span>
                        <a href=link>{r.name.clone()}</a>
                        " "
                        <StateBadge state=r.state />
                    </th>
                }
            })
            .collect_view();
        let body = rows
            .into_iter()
            .filter(|r| !only || r.differs)
            .map(|row| {
                let dir = (section == Section::Summary)
                    .then(|| compare::better(&row.key))
                    .flatten();
                let marker_title = match dir {
                    Some(Better::Min) => "lowest (a loss: lower is better)",
                    Some(Better::Max) => "highest (an accuracy: higher is better)",
                    None => "",
                };
                let cells = row
                    .cells
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let best = row.best.contains(&i);
                        match c {
                            None => view! { <td class="faint">"–"</td> }.into_any(),
                            Some(v) => {
                                let text = util::value(v);
                                let mut class = String::new();
                                if util::is_numeric(v) {
                                    class.push_str("num");
                                }
                                if util::is_nonfinite(v) {
                                    class.push_str(" bad-val");
                                }
                                if best {
                                    class.push_str(" best");
                                }
                                let title = if best {
                                    format!("{text}: {marker_title}")
                                } else {
                                    text.clone()
                                };
                                view! {
                                    <td class=class title=title data-best=best.then_some("true")>
                                        {best.then(|| view! { <span class="best-mark">"★"</span> })}
                                        {text}
                                    </td>
                                }
                                .into_any()
                            }
                        }
                    })
                    .collect_view();
                let (key, key_attr, key_title) = (row.key.clone(), row.key.clone(), row.key);
                view! {
                    <tr
                        class:diff=row.differs
                        data-testid="compare-row"
                        data-key=key_attr
                        data-differs=row.differs.to_string()
                    >
                        <th class="cmp-key" title=key_title>
                            {key}
                        </th>
                        {cells}
                    </tr>
                }
            })
            .collect_view();
        view! {
            <div class="panel cmp-panel" data-testid=testid>
                <h2>
                    {title} <span class="muted cmp-count">
                        {format!("{differing} of {total} keys differ")}
                    </span>
                </h2>
                {if total == 0 {
                    view! { <p class="faint panel-body">{empty}</p> }.into_any()
                } else {
                    view! {
                        <div class="table-wrap">
                            <table class="grid cmp">
                                <thead>
                                    <tr>
                                        <th class="cmp-key">"Key"</th>
                                        {heads}
                                    </tr>
                                </thead>
                                <tbody>{body}</tbody>
                            </table>
                        </div>
                    }
                    .into_any()
                }}
            </div>
        }
    };

    let stacked = n > 3;
    let back = href(&util::project_path(&project));
    view! {
        <nav class="crumbs-line muted">
            <a href=href("/")>"Projects"</a>
            <span class="sep">" / "</span>
            <a href=back.clone()>{project.clone()}</a>
        </nav>
        <div class="run-head">
            <h1>{format!("Compare {n} runs")}</h1>
            <label class="cmp-toggle">
                <input
                    type="checkbox"
                    data-testid="only-diff"
                    prop:checked=move || only_diff.get()
                    on:change=move |e| only_diff.set(event_target_checked(&e))
                />
                " Only differing keys"
            </label>
        </div>
        {move || errors.get().into_iter().map(|e| view! { <ErrorBox message=e /> }).collect_view()}
        {(n < 2)
            .then(|| {
                view! {
                    <p class="muted">
                        "Select two or more runs in the " <a href=back.clone()>"runs table"</a>
                        " and press Compare."
                    </p>
                }
            })}
        {move || {
            if pending.get() > 0 && runs.with(|l| l.iter().all(Option::is_none)) {
                return view! { <div class="loading">"Loading runs…"</div> }.into_any();
            }
            view! {
                // Side by side for a few runs; one above the other when they are many.
                <div class="cmp-cols" class:stacked=stacked>
                    {move || table(Section::Config)}
                    {move || table(Section::Summary)}
                </div>
            }
            .into_any()
        }}
    }
}
