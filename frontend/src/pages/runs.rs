//! `/projects/:project`: the project's runs as a sortable table, live via the `project` topic.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use serde_json::{Map, Value};
use std::cmp::Ordering;
use trackline_shared::api::{RunInfo, RunState};
use trackline_shared::ws::{ServerMsg, Topic};

use crate::browser::{href, local_datetime};
use crate::components::{ErrorBox, StateBadge};
use crate::{Clock, api, util, ws};

#[component]
pub fn RunsPage() -> impl IntoView {
    let params = use_params_map();
    let project = Memo::new(move |_| params.read().get("project").unwrap_or_default());
    // A different project is a different view: rebuild it (and its subscription) from scratch.
    move || view! { <RunsView project=project.get() /> }
}

#[derive(Clone, Debug, PartialEq)]
enum SortCol {
    Name,
    State,
    Created,
    Runtime,
    Config(String),
    Summary(String),
}

/// Inserts or replaces runs by id (a newer `version` wins; an equal one replaces too).
pub fn upsert(list: &mut Vec<RunInfo>, runs: Vec<RunInfo>) {
    for r in runs {
        match list.iter_mut().find(|x| x.id == r.id) {
            Some(x) => {
                if r.version >= x.version {
                    *x = r;
                }
            }
            None => list.push(r),
        }
    }
}

/// A live change to the runs list.
#[derive(Clone, Debug)]
pub enum Change {
    Upsert(Vec<RunInfo>),
    Remove(String),
}

const BATCH: std::time::Duration = std::time::Duration::from_millis(100);

/// Applies changes in the order they came.
pub fn apply(list: &mut Vec<RunInfo>, changes: Vec<Change>) {
    for c in changes {
        match c {
            Change::Upsert(runs) => upsert(list, runs),
            Change::Remove(id) => list.retain(|r| r.id != id),
        }
    }
}

fn state_rank(s: RunState) -> u8 {
    match s {
        RunState::Running => 0,
        RunState::Crashed => 1,
        RunState::Failed => 2,
        RunState::Finished => 3,
    }
}

/// Compares JSON cells: numbers numerically before strings; missing values always last.
fn cmp_values(a: Option<&Value>, b: Option<&Value>, asc: bool) -> Ordering {
    let ord = match (a, b) {
        (None, None) => return Ordering::Equal,
        (None, Some(_)) => return Ordering::Greater,
        (Some(_), None) => return Ordering::Less,
        (Some(a), Some(b)) => match (util::sort_number(a), util::sort_number(b)) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => util::value(a).cmp(&util::value(b)),
        },
    };
    if asc { ord } else { ord.reverse() }
}

fn sort_runs(list: &mut [RunInfo], col: &SortCol, asc: bool, now: f64) {
    let dir = |o: Ordering| if asc { o } else { o.reverse() };
    list.sort_by(|a, b| {
        let primary = match col {
            SortCol::Name => dir(a.name.to_lowercase().cmp(&b.name.to_lowercase())),
            SortCol::State => dir(state_rank(a.state).cmp(&state_rank(b.state))),
            SortCol::Created => dir(a.created_at_secs.total_cmp(&b.created_at_secs)),
            SortCol::Runtime => {
                dir(util::live_runtime(a, now).total_cmp(&util::live_runtime(b, now)))
            }
            SortCol::Config(k) => {
                cmp_values(util::lookup(&a.config, k), util::lookup(&b.config, k), asc)
            }
            SortCol::Summary(k) => cmp_values(
                util::lookup(&a.summary, k),
                util::lookup(&b.summary, k),
                asc,
            ),
        };
        primary
            .then_with(|| b.created_at_secs.total_cmp(&a.created_at_secs))
            .then_with(|| a.id.cmp(&b.id))
    });
}

fn cell(map: &Map<String, Value>, key: &str) -> AnyView {
    match util::lookup(map, key) {
        None => view! { <td class="faint">"–"</td> }.into_any(),
        Some(v) => {
            let text = util::value(v);
            let class = match (util::is_numeric(v), util::is_nonfinite(v)) {
                (true, true) => "num bad-val",
                (true, false) => "num",
                _ => "",
            };
            let title = text.clone();
            view! { <td class=class title=title>{text}</td> }.into_any()
        }
    }
}

#[component]
fn RunsView(project: String) -> impl IntoView {
    crate::browser::mark("trackline:runs");
    crate::browser::set_title(&project);
    let runs = RwSignal::new(Vec::<RunInfo>::new());
    let loaded = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let live_error = RwSignal::new(None::<String>);
    let sort = RwSignal::new((SortCol::Created, false));
    let clock = expect_context::<Clock>();

    // Live changes are applied in batches (at most ten a second), so a project with many running
    // runs heartbeating does not re-sort the table for every message.
    let pending = StoredValue::new(Vec::<Change>::new());
    let queue = move |c: Change| {
        if pending.is_disposed() {
            return;
        }
        let first = pending.with_value(Vec::is_empty);
        pending.update_value(|p| p.push(c));
        if first {
            set_timeout(
                move || {
                    let Some(changes) = pending.try_update_value(std::mem::take) else {
                        return;
                    };
                    runs.try_update(|l| apply(l, changes));
                },
                BATCH,
            );
        }
    };

    {
        let project = project.clone();
        let owner = Owner::current();
        spawn_local(async move {
            let res = api::runs(&project).await;
            if runs.is_disposed() {
                return;
            }
            let since = match res {
                Ok(list) => {
                    let since = list.iter().map(|r| r.version).max().unwrap_or(0);
                    runs.update(|l| upsert(l, list));
                    since
                }
                Err(e) => {
                    error.set(Some(if e.is_not_found() {
                        format!("Not found: {}", e.message)
                    } else {
                        format!("Could not load runs: {e}")
                    }));
                    0
                }
            };
            loaded.set(true);
            // Live from just after what the list showed: no gap, no duplicate.
            let subscribe = move || {
                ws::use_subscription(
                    Topic::Project {
                        project: project.clone(),
                        since,
                    },
                    move |msg| match msg {
                        ServerMsg::Runs { runs: changed, .. } => {
                            queue(Change::Upsert(changed));
                            if loaded.get_untracked() {
                                error.try_set(None);
                            }
                            live_error.try_set(None);
                        }
                        ServerMsg::RunRemoved { run, .. } => queue(Change::Remove(run)),
                        ServerMsg::Error { message, .. } => {
                            live_error.try_set(Some(format!("Live updates failed: {message}")));
                        }
                        _ => {}
                    },
                )
            };
            // Under the view's owner, so the subscription ends with the view.
            if let Some(owner) = owner {
                owner.with(subscribe);
            }
        });
    }

    let columns = Memo::new(move |_| runs.with(|r| util::table_columns(r)));
    let sorted = Memo::new(move |_| {
        let (col, asc) = sort.get();
        // Runtime sorting follows the clock only when sorting by runtime.
        let now = if col == SortCol::Runtime {
            clock.0.get()
        } else {
            clock.0.get_untracked()
        };
        let mut list = runs.get();
        sort_runs(&mut list, &col, asc, now);
        list
    });

    let header = move |label: String, col: SortCol, class: &'static str| {
        let col2 = col.clone();
        let indicator = move || {
            let (c, asc) = sort.get();
            (c == col2).then_some(if asc { " ▲" } else { " ▼" })
        };
        let title = label.clone();
        view! {
            <th
                class=format!("sortable {class}")
                title=title
                on:click=move |_| {
                    sort.update(|(c, asc)| {
                        if *c == col {
                            *asc = !*asc;
                        } else {
                            *c = col.clone();
                            *asc = matches!(col, SortCol::Name);
                        }
                    })
                }
            >
                {label}
                <span class="sort-ind">{indicator}</span>
            </th>
        }
    };

    let project_for_rows = StoredValue::new(project.clone());
    let row = move |r: RunInfo| {
        let link = href(&util::run_path(&project_for_rows.get_value(), &r.id));
        let created = r.created_at_secs;
        let r_for_runtime = r.clone();
        let config = r.config.clone();
        let summary = r.summary.clone();
        view! {
            <tr data-testid="run-row" data-run-id=r.id.clone()>
                <td>
                    <a href=link title=r.id.clone()>
                        {r.name.clone()}
                    </a>
                </td>
                <td>
                    <StateBadge state=r.state />
                </td>
                <td title=move || util::ago(clock.0.get(), created)>{local_datetime(created)}</td>
                <td class="num">{move || util::duration(util::live_runtime(&r_for_runtime, clock.0.get()))}</td>
                {move || columns.get().0.iter().map(|k| cell(&config, k)).collect_view()}
                {move || columns.get().1.iter().map(|k| cell(&summary, k)).collect_view()}
                <td class="fill"></td>
            </tr>
        }
    };

    // Only a change between "no runs" and "some runs" rebuilds the table; <For> handles the rest.
    let has_runs = Memo::new(move |_| !runs.with(Vec::is_empty));
    let table = move || {
        if !loaded.get() {
            return view! { <div class="loading panel-body">"Loading runs…"</div> }.into_any();
        }
        if !has_runs.get() {
            if error.with(Option::is_some) {
                return ().into_any();
            }
            return view! { <div class="empty">"No runs in this project yet."</div> }.into_any();
        }
        view! {
            <div class="table-wrap">
                <table class="grid" data-testid="runs-table">
                    <thead>
                        <tr>
                            {header("Name".into(), SortCol::Name, "")}
                            {header("State".into(), SortCol::State, "")}
                            {header("Created".into(), SortCol::Created, "")}
                            {header("Runtime".into(), SortCol::Runtime, "num")}
                            {move || {
                                let (config, summary) = columns.get();
                                // Right-align the headers of columns whose values are numbers.
                                let numeric = |cfg: bool, k: &str| {
                                    runs.with_untracked(|l| {
                                        let (mut num, mut all) = (0, 0);
                                        for r in l {
                                            let m = if cfg { &r.config } else { &r.summary };
                                            if let Some(v) = util::lookup(m, k) {
                                                all += 1;
                                                num += usize::from(util::is_numeric(v));
                                            }
                                        }
                                        num * 2 > all
                                    })
                                };
                                let c = config
                                    .into_iter()
                                    .map(|k| {
                                        let class = if numeric(true, &k) { "group-config num" } else { "group-config" };
                                        header(k.clone(), SortCol::Config(k), class)
                                    })
                                    .collect_view();
                                let s = summary
                                    .into_iter()
                                    .map(|k| {
                                        let class = if numeric(false, &k) { "group-summary num" } else { "group-summary" };
                                        header(k.clone(), SortCol::Summary(k), class)
                                    })
                                    .collect_view();
                                (c, s)
                            }}
                            <th class="fill"></th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || sorted.get() key=|r| (r.id.clone(), r.version) children=row />
                    </tbody>
                </table>
            </div>
        }
        .into_any()
    };

    let counts = move || {
        runs.with(|l| {
            let running = l.iter().filter(|r| r.state == RunState::Running).count();
            if l.is_empty() {
                String::new()
            } else {
                format!("{} runs · {} running", l.len(), running)
            }
        })
    };

    view! {
        <nav class="crumbs-line muted">
            <a href=href("/")>"Projects"</a>
        </nav>
        <div class="run-head">
            <h1>{project.clone()}</h1>
            <span class="muted">{counts}</span>
        </div>
        {move || error.get().map(|e| view! { <ErrorBox message=e /> })}
        {move || {
            // The page's own error says more; a failing subscription for the same reason is noise.
            if error.with(Option::is_some) {
                return None;
            }
            live_error.get().map(|e| view! { <ErrorBox message=e /> })
        }}
        <div class="panel">{table}</div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(id: &str, version: u64, created: f64) -> RunInfo {
        RunInfo {
            id: id.into(),
            name: id.into(),
            version,
            created_at_secs: created,
            ..Default::default()
        }
    }

    #[test]
    fn upsert_keeps_newest() {
        let mut l = vec![run("a", 3, 1.0)];
        upsert(&mut l, vec![run("a", 2, 9.0), run("b", 1, 2.0)]);
        assert_eq!(l.len(), 2);
        assert_eq!(
            l[0].created_at_secs, 1.0,
            "an older version never replaces a newer one"
        );
        upsert(&mut l, vec![run("a", 5, 7.0)]);
        assert_eq!(l[0].created_at_secs, 7.0);
    }

    #[test]
    fn changes_apply_in_order() {
        let mut l = vec![run("a", 1, 1.0)];
        apply(
            &mut l,
            vec![
                Change::Remove("a".into()),
                Change::Upsert(vec![run("a", 2, 2.0)]),
                Change::Upsert(vec![run("b", 3, 3.0)]),
                Change::Remove("b".into()),
            ],
        );
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].version, 2);
    }

    #[test]
    fn sorting() {
        let mut l = vec![run("a", 1, 1.0), run("b", 1, 3.0), run("c", 1, 2.0)];
        l[0].config = json!({"lr": 0.1}).as_object().unwrap().clone();
        l[1].config = json!({"lr": "NaN"}).as_object().unwrap().clone();
        sort_runs(&mut l, &SortCol::Created, false, 0.0);
        assert_eq!(
            l.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["b", "c", "a"]
        );
        sort_runs(&mut l, &SortCol::Config("lr".into()), true, 0.0);
        // NaN sorts after numbers (total order), missing last whatever the direction.
        assert_eq!(
            l.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
        sort_runs(&mut l, &SortCol::Config("lr".into()), false, 0.0);
        assert_eq!(
            l.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["b", "a", "c"]
        );
    }
}
