//! `/projects/:project`: the project's runs table (filter, sort, group, select) above the workspace
//! panels, live via the `project` topic. The page provides the [`Selection`] both share.

use leptos::prelude::*;

use leptos_router::hooks::use_params_map;
use std::collections::HashMap;
use std::sync::Arc;
use trackline_shared::annotations::NoteTarget;
use trackline_shared::api::{RunInfo, RunState};
use trackline_shared::ws::{ServerMsg, Topic};

use crate::annotations::{NoteEditor, provide_annotations};
use crate::browser::href;
use crate::components::ErrorBox;
use crate::live::load;
use crate::selection::Selection;
use crate::table::view::RunsTable;
use crate::workspace::Workspace;
use crate::{api, ws};

#[component]
pub fn RunsPage() -> impl IntoView {
    let params = use_params_map();
    let project = Memo::new(move |_| params.read().get("project").unwrap_or_default());
    // A different project is a different view: rebuild it (and its subscription) from scratch.
    move || view! { <RunsView project=project.get() /> }
}

/// The project's runs, provided as context on the project page (the workspace panels may read
/// names and states from it instead of fetching them again).
#[derive(Clone, Copy, Debug)]
pub struct ProjectRuns(pub RwSignal<Vec<Arc<RunInfo>>>);

/// Inserts or replaces runs by id (a newer `version` wins; an equal one replaces too).
pub fn upsert(list: &mut Vec<Arc<RunInfo>>, runs: Vec<RunInfo>) {
    let mut index: HashMap<String, usize> = list
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.clone(), i))
        .collect();
    for r in runs {
        match index.get(&r.id) {
            Some(&i) => {
                if r.version >= list[i].version {
                    list[i] = Arc::new(r);
                }
            }
            None => {
                index.insert(r.id.clone(), list.len());
                list.push(Arc::new(r));
            }
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
pub fn apply(list: &mut Vec<Arc<RunInfo>>, changes: Vec<Change>) {
    for c in changes {
        match c {
            Change::Upsert(runs) => upsert(list, runs),
            Change::Remove(id) => list.retain(|r| r.id != id),
        }
    }
}

#[component]
fn RunsView(project: String) -> impl IntoView {
    crate::browser::mark("trackline:runs");
    crate::browser::set_title(&project);
    let runs = RwSignal::new(Vec::<Arc<RunInfo>>::new());
    let loaded = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let live_error = RwSignal::new(None::<String>);
    // Shared by the runs table (writes the selection) and the workspace panels (draw it).
    provide_context(Selection::new());
    provide_context(ProjectRuns(runs));
    // The notepad, and pins on the workspace's charts, live.
    provide_annotations(&project);
    // The table's filter, for the workspace panels' "Add to report".
    crate::reports::CurrentTable::provide();

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
        let fetch = {
            let project = project.clone();
            async move { api::runs(&project).await }
        };
        let project = project.clone();
        load(fetch, move |res| {
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
            // Live from just after what the list showed: no gap, no duplicate. Under the
            // view's owner ([`load`]), so the subscription ends with the view.
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
            );
        });
    }

    // Only a change between "no runs" and "some runs" rebuilds the table.
    let has_runs = Memo::new(move |_| !runs.with(Vec::is_empty));
    let table_project = project.clone();
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
        view! { <RunsTable project=table_project.clone() runs=runs /> }.into_any()
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
            <a class="btn" data-testid="reports-link" href=href(&crate::reports::list_path(&project))>
                "Reports"
            </a>
            <a class="btn" data-testid="artifacts-link" href=href(&crate::artifacts::artifacts_path(&project))>
                "Artifacts"
            </a>
            <a class="btn" data-testid="sweeps-link" href=href(&crate::sweeps::sweeps_path(&project))>
                "Sweeps"
            </a>
        </div>
        {move || error.get().map(|e| view! { <ErrorBox message=e /> })}
        {move || {
            // The page's own error says more; a failing subscription for the same reason is noise.
            if error.with(Option::is_some) {
                return None;
            }
            live_error.get().map(|e| view! { <ErrorBox message=e /> })
        }}
        <NoteEditor
            target=NoteTarget::Project
            title="Notepad"
            testid="notepad"
            empty="Notes about this project's runs: which ones matter, what was tried."
        />
        <div class="panel runs-panel">{table}</div>
        // The chart panels of the runs selected above (same Selection context).
        <Workspace project=project.clone() />
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut l = vec![Arc::new(run("a", 3, 1.0))];
        upsert(&mut l, vec![run("a", 2, 9.0), run("b", 1, 2.0)]);
        assert_eq!(l.len(), 2);
        assert_eq!(
            l[0].created_at_secs, 1.0,
            "an older version never replaces a newer one"
        );
        upsert(
            &mut l,
            vec![run("a", 5, 7.0), run("c", 1, 1.0), run("c", 2, 2.0)],
        );
        assert_eq!(l[0].created_at_secs, 7.0);
        assert_eq!(l.len(), 3, "a run twice in one batch is one run");
        assert_eq!(l[2].version, 2);
    }

    #[test]
    fn changes_apply_in_order() {
        let mut l = vec![Arc::new(run("a", 1, 1.0))];
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
}
