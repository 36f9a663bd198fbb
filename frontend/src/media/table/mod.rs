//! The logged-table view (W&B's table panel): the table of one run's key at the chosen step,
//! parsed once into typed columns ([`trackline_shared::media_table`]) and then sorted by any
//! column (click a header), filtered with the runs table's expression language over the table's
//! columns, grouped by a column with counts and numeric aggregates, scrolled virtually through
//! 100k rows, with images, audio and histograms in cells, resizable columns and a copy button
//! per cell; compared across the panel's runs (rows tagged by run colour) or across two steps
//! (rows added, removed, changed).
//!
//! `load.rs` fetches and parses, `compare.rs` loads the other runs' tables, `grid.rs` draws the
//! header and the visible rows, `cell.rs` one cell, `style.rs` the view's CSS. Sort and filter
//! are timed as `tl:media-table:sort` / `tl:media-table:filter` ([`crate::browser::measure`]).

mod cell;
mod compare;
mod grid;
mod load;
mod style;

use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::HashSet;
use std::sync::Arc;
use trackline_shared::media::MediaEntry;
use trackline_shared::media_table::{
    Group, StepDiff, Table, diff_key, diff_steps, group_rows, join_runs,
};

use crate::browser::{measure, perf_now as now_ms};
use crate::components::RunRef;
use compare::{Compare, RunTableSource, RunTables, default_other_step};
use grid::{Grid, Line};
use load::{files_at, use_table};

pub use cell::sparkline_path;

/// The table on screen, with what it was compared with.
#[derive(Clone)]
pub(crate) struct Shown {
    /// Changes whenever the table does (keys the rendered rows).
    pub generation: u64,
    pub table: Arc<Table>,
    /// Steps compared: the diff, and the older table its `before` rows index.
    pub diff: Option<(Arc<StepDiff>, Arc<Table>)>,
    /// Runs compared: each run label's run id and colour.
    pub runs: Arc<Vec<(String, String, &'static str)>>,
}

impl PartialEq for Shown {
    fn eq(&self, other: &Self) -> bool {
        self.generation == other.generation
    }
}

/// The rows to show, filtered and sorted, with the groups when grouped. Each computation is a
/// new value (compared by identity).
#[derive(Clone)]
pub(crate) struct Rows {
    pub lines: Arc<Vec<Line>>,
    pub groups: Option<Arc<Vec<Group>>>,
    /// Rows after the filter, of `total`.
    pub kept: usize,
    pub total: usize,
}

impl PartialEq for Rows {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.lines, &other.lines)
    }
}

/// One run's logged table under a key, at the chosen step.
///
/// `key` and `runs` (the panel's runs) enable comparing across runs; without `runs` the
/// project's runs are offered.
#[component]
pub fn TableView(
    #[prop(into)] project: String,
    #[prop(into)] run: String,
    #[prop(into)] entries: Signal<Vec<MediaEntry>>,
    #[prop(into)] step: Signal<Option<f64>>,
    #[prop(optional, into)] key: Option<String>,
    #[prop(optional, into)] runs: Option<Signal<Vec<RunRef>>>,
) -> impl IntoView {
    style::ensure();
    let current = Memo::new(move |_| entries.with(|e| files_at(e, step.get())));
    let files = Memo::new(move |_| current.with(|c| c.as_ref().map(|(_, p)| p.clone())));
    let loaded = use_table(project.clone(), run.clone(), files);

    let compare = RwSignal::new(Compare::None);
    let other_step = RwSignal::new(None::<f64>);
    let other_files = Memo::new(move |_| {
        if compare.get() != Compare::Steps {
            return None;
        }
        let shown = current.with(|c| c.as_ref().map(|(s, _)| *s))?;
        let other = other_step
            .get()
            .or_else(|| entries.with(|e| default_other_step(e, shown)))?;
        entries.with(|e| files_at(e, Some(other)).map(|(s, p)| (s, shown, p)))
    });
    let other_loaded = use_table(
        project.clone(),
        run.clone(),
        Memo::new(move |_| other_files.with(|o| o.as_ref().map(|(_, _, p)| p.clone()))),
    );

    // Other runs (compare across runs).
    let panel_runs: Signal<Vec<RunRef>> = match runs {
        Some(r) => r,
        None => project_runs(project.clone()),
    };
    let run_tables = RwSignal::new(RunTables::new());

    let counter = StoredValue::new(0u64);
    let own_run = run.clone();
    let shown = Memo::new(move |_| {
        let own = loaded.with(|l| l.as_ref().and_then(|(_, t)| t.as_ref().ok().cloned()))?;
        counter.update_value(|g| *g += 1);
        let generation = counter.get_value();
        match compare.get() {
            Compare::None => Some(Shown {
                generation,
                table: own,
                diff: None,
                runs: Arc::default(),
            }),
            Compare::Steps => {
                let (other_step, shown_step, _) = other_files.get()?;
                let other = other_loaded
                    .with(|l| l.as_ref().and_then(|(_, t)| t.as_ref().ok().cloned()))?;
                let (old, new) = if other_step <= shown_step {
                    (other, own)
                } else {
                    (own, other)
                };
                let key = diff_key(&old, &new);
                let mut d = diff_steps(&old, &new, key.as_deref());
                let table = Arc::new(std::mem::take(&mut d.table));
                Some(Shown {
                    generation,
                    table,
                    diff: Some((Arc::new(d), old)),
                    runs: Arc::default(),
                })
            }
            Compare::Runs => {
                let me = panel_runs.with(|rs| rs.iter().find(|r| r.id == own_run).cloned());
                let mut parts: Vec<(RunRef, Arc<Table>)> = Vec::new();
                if let Some(me) = me {
                    parts.push((me, own));
                }
                run_tables.with(|m| {
                    for (r, t) in m.values() {
                        if let Some(t) = t {
                            parts.push((r.clone(), t.clone()));
                        }
                    }
                });
                let labels = run_labels(&parts);
                let joined = join_runs(
                    &labels
                        .iter()
                        .zip(&parts)
                        .map(|(l, (_, t))| (l.clone(), t.as_ref()))
                        .collect::<Vec<_>>(),
                );
                let runs = labels
                    .into_iter()
                    .zip(&parts)
                    .map(|(l, (r, _))| (l, r.id.clone(), r.color))
                    .collect();
                Some(Shown {
                    generation,
                    table: Arc::new(joined),
                    diff: None,
                    runs: Arc::new(runs),
                })
            }
        }
    });

    let filter_src = RwSignal::new(String::new());
    let sort = RwSignal::new(None::<(String, bool)>);
    let group_by = RwSignal::new(None::<String>);
    let expanded = RwSignal::new(HashSet::<String>::new());

    let filter_error = Memo::new(move |_| {
        let src = filter_src.get();
        shown.with(|s| {
            s.as_ref()
                .and_then(|s| s.table.filter(&src).err().map(|e| e.to_string()))
        })
    });

    let rows = Memo::new(move |_| {
        let s = shown.get()?;
        let t = &s.table;
        let src = filter_src.get();
        let all = t.all_rows();
        let t0 = now_ms();
        let mut order = match t.filter(&src) {
            Ok(f) if !f.is_empty() => {
                let kept = t.filter_rows(&all, &f);
                measure(
                    "tl:media-table:filter",
                    t0,
                    now_ms(),
                    &format!("{} of {} rows", kept.len(), t.nrows),
                );
                kept
            }
            _ => all,
        };
        if let Some((name, desc)) = sort.get()
            && let Some(col) = t.column_index(&name)
        {
            let t1 = now_ms();
            t.sort_rows(&mut order, col, desc);
            measure(
                "tl:media-table:sort",
                t1,
                now_ms(),
                &format!("{} rows by {name}", order.len()),
            );
        }
        let kept = order.len();
        let group_col = group_by.get().and_then(|g| t.column_index(&g));
        let (lines, groups) = match group_col {
            Some(col) => {
                let groups = group_rows(t, &order, col);
                let open = expanded.get();
                let mut lines = Vec::new();
                for (i, g) in groups.iter().enumerate() {
                    lines.push(Line::Group(i as u32));
                    if open.contains(&g.label) {
                        lines.extend(g.rows.iter().map(|&r| Line::Row(r)));
                    }
                }
                (lines, Some(Arc::new(groups)))
            }
            None => (order.into_iter().map(Line::Row).collect(), None),
        };
        Some(Rows {
            lines: Arc::new(lines),
            groups,
            kept,
            total: t.nrows,
        })
    });
    // Time to the first rows: from the value's arrival to the rows being known.
    Effect::new(move |_| {
        if rows.with(Option::is_some) {
            crate::browser::mark("tl:media-table:rows");
        }
    });

    let copied = RwSignal::new(None::<String>);
    let status = move || {
        if current.with(Option::is_none) {
            return Some("No table logged yet.".to_string());
        }
        if let Some(Err(e)) = loaded.with(|l| l.as_ref().map(|(_, r)| r.clone().map(|_| ()))) {
            return Some(e);
        }
        if let Some(Err(e)) = other_loaded.with(|l| l.as_ref().map(|(_, r)| r.clone().map(|_| ())))
        {
            return Some(e);
        }
        match compare.get() {
            Compare::Steps if other_files.with(Option::is_none) => {
                Some("Only one step of this table is logged.".to_string())
            }
            _ => shown.with(Option::is_none).then(|| "Loading…".to_string()),
        }
    };
    let count = move || {
        rows.with(|r| {
            r.as_ref().map(|r| {
                if r.kept == r.total {
                    format!("{} rows", r.total)
                } else {
                    format!("{} of {} rows", r.kept, r.total)
                }
            })
        })
    };
    let diff_summary = move || {
        shown.with(|s| {
            s.as_ref().and_then(|s| s.diff.as_ref()).map(|(d, _)| {
                let by = d
                    .key
                    .as_ref()
                    .map_or("by position".to_string(), |k| format!("by {k}"));
                format!(
                    "{} added · {} removed · {} changed ({by})",
                    d.added, d.removed, d.changed_rows
                )
            })
        })
    };
    let names =
        Memo::new(move |_| shown.with(|s| s.as_ref().map(|s| s.table.names()).unwrap_or_default()));
    let steps = Memo::new(move |_| entries.with(|e| e.iter().map(|e| e.step).collect::<Vec<_>>()));
    let can_compare_runs = key.is_some();
    let sources = {
        let (project, run) = (project.clone(), run.clone());
        move || {
            if compare.get() != Compare::Runs {
                return None;
            }
            let key = key.clone()?;
            let (project, run) = (project.clone(), run.clone());
            Some(view! {
                <For
                    each=move || {
                        panel_runs.get().into_iter().filter(|r| r.id != run).collect::<Vec<_>>()
                    }
                    key=|r| r.id.clone()
                    children=move |r| view! {
                        <RunTableSource project=project.clone() run=r key=key.clone() step into=run_tables />
                    }
                />
            })
        }
    };

    view! {
        <div
            class="media-table"
            data-testid="media-table"
            data-rows=move || rows.with(|r| r.as_ref().map(|r| r.kept.to_string()))
            data-total=move || rows.with(|r| r.as_ref().map(|r| r.total.to_string()))
            data-step=move || current.with(|c| c.as_ref().map(|(s, _)| s.to_string()))
            data-compare=move || compare.get().id()
            data-copied=move || copied.get()
        >
            <div class="mt-toolbar">
                <input
                    class="rt-filter mt-filter"
                    class:invalid=move || filter_error.with(Option::is_some)
                    data-testid="media-table-filter"
                    placeholder="Filter rows: score > 0.5 and label == \"cat\""
                    spellcheck="false"
                    prop:value=move || filter_src.get()
                    on:input=move |ev| filter_src.set(event_target_value(&ev))
                />
                <label class="faint">
                    "Group by "
                    <select
                        data-testid="media-table-group"
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            expanded.set(HashSet::new());
                            group_by.set((!v.is_empty()).then_some(v));
                        }
                    >
                        <option value="" selected=move || group_by.with(Option::is_none)>"none"</option>
                        {move || names.get().into_iter().map(|n| {
                            let selected = group_by.with(|g| g.as_deref() == Some(n.as_str()));
                            view! { <option value=n.clone() selected=selected>{n.clone()}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label class="faint">
                    "Compare "
                    <select
                        data-testid="media-table-compare"
                        on:change=move |ev| compare.set(Compare::from_id(&event_target_value(&ev)))
                    >
                        <option value="none">"nothing"</option>
                        <option value="steps">"another step"</option>
                        {can_compare_runs.then(|| view! { <option value="runs">"runs"</option> })}
                    </select>
                </label>
                {move || (compare.get() == Compare::Steps).then(|| view! {
                    <label class="faint">
                        "with step "
                        <select
                            data-testid="media-table-compare-step"
                            on:change=move |ev| other_step.set(event_target_value(&ev).parse().ok())
                        >
                            {move || {
                                let chosen = other_files.with(|o| o.as_ref().map(|(s, _, _)| *s));
                                steps.get().into_iter().map(|s| view! {
                                    <option value=s.to_string() selected=chosen == Some(s)>{s.to_string()}</option>
                                }).collect_view()
                            }}
                        </select>
                    </label>
                })}
                <span class="spacer"></span>
                <span class="faint" data-testid="media-table-diff">{diff_summary}</span>
                <span class="faint" data-testid="media-table-count">{count}</span>
            </div>
            {move || filter_error.get().map(|e| view! {
                <div class="rt-filter-error" data-testid="media-table-filter-error">{e}</div>
            })}
            {move || status().map(|s| view! {
                <div class="chart-readout" data-testid="media-table-status" style="margin-left:0">{s}</div>
            })}
            {sources}
            <Grid project=project run=run shown rows sort group_by expanded copied />
        </div>
    }
}

/// Labels for the runs of a comparison: their names, made unique with the id where two share one.
fn run_labels(parts: &[(RunRef, Arc<Table>)]) -> Vec<String> {
    parts
        .iter()
        .map(|(r, _)| {
            if parts.iter().filter(|(o, _)| o.name == r.name).count() > 1 {
                format!("{} ({})", r.name, r.id)
            } else {
                r.name.clone()
            }
        })
        .collect()
}

/// The project's runs, fetched once (for comparing across runs when no panel gave its runs).
fn project_runs(project: String) -> Signal<Vec<RunRef>> {
    let runs = RwSignal::new(Vec::<RunRef>::new());
    spawn_local(async move {
        if let Ok(infos) = crate::api::runs(&project).await {
            runs.try_set(
                infos
                    .into_iter()
                    .map(|i| RunRef::new(Arc::new(i)))
                    .collect(),
            );
        }
    });
    runs.into()
}
