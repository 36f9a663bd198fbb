//! A panel grid block: its run set evaluated against the project's live runs (again whenever a
//! run arrives or changes, so a new matching run joins the charts), a line saying which runs it
//! shows, and its panels. Owners edit the run set ([`super::runset_editor`]) and add panels: a
//! line chart of a metric key, a runs table, a comparison.
//!
//! Test ids: `grid-runs` (with `data-count` and `data-runs`: the ids, comma-separated),
//! `grid-filter-error`, `grid-edit-runset`, `grid-add-panel`, `add-line-key`, `add-line`,
//! `add-runs-table`, `add-compare`, `grid-panels`.

use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::BTreeSet;
use std::sync::Arc;
use trackline_shared::MAX_SERIES_RUNS;
use trackline_shared::api::RunInfo;
use trackline_shared::chart::ChartSettings;
use trackline_shared::reports::{BlockContent, MAX_GRID_PANELS, Panel, PanelGrid};

use super::panels::PanelView;
use super::runset;
use super::runset_editor::RunSetEditor;
use super::use_report;
use crate::api;
use crate::components::RunRef;

/// Most runs whose metric keys are fetched to offer keys for new line panels and x axes.
const KEY_RUNS: usize = 10;

/// What a grid's panels share.
#[derive(Clone, Copy)]
pub struct GridCtx {
    pub block: StoredValue<String>,
    pub grid: Memo<PanelGrid>,
    /// The runs the run set selects, in its order.
    pub runs: Memo<Vec<RunInfo>>,
    /// The same as charts take them (at most `MAX_SERIES_RUNS`).
    pub chart_runs: Memo<Vec<RunRef>>,
    /// Metric keys of the first runs, for the key and x-axis pickers.
    pub keys: RwSignal<BTreeSet<String>>,
    pub hidden: RwSignal<BTreeSet<String>>,
    pub highlighted: RwSignal<Option<String>>,
}

#[component]
pub fn GridBlock(id: String) -> impl IntoView {
    let ctx = use_report();
    let block = StoredValue::new(id);
    let grid = Memo::new(
        move |_| match ctx.block(&block.get_value()).map(|b| b.content) {
            Some(BlockContent::PanelGrid(g)) => g,
            _ => PanelGrid::default(),
        },
    );
    let selected = Memo::new(move |_| {
        let set = grid.with(|g| g.runset.clone());
        ctx.runs.with(|runs| {
            runset::select(runs, &set, crate::browser::now_secs())
                .map(|l| l.into_iter().cloned().collect::<Vec<_>>())
                .map_err(|e| e.to_string())
        })
    });
    let runs = Memo::new(move |_| selected.with(|s| s.clone().unwrap_or_default()));
    let chart_runs = Memo::new(move |_| {
        runs.with(|l| {
            l.iter()
                .take(MAX_SERIES_RUNS)
                .map(|r| RunRef::new(Arc::new(r.clone())))
                .collect::<Vec<_>>()
        })
    });
    let g = GridCtx {
        block,
        grid,
        runs,
        chart_runs,
        keys: RwSignal::new(BTreeSet::new()),
        hidden: RwSignal::new(BTreeSet::new()),
        highlighted: RwSignal::new(None),
    };
    provide_context(g);
    // Keys of the first runs, each fetched once.
    let fetched = StoredValue::new(BTreeSet::<String>::new());
    Effect::new(move |_| {
        let first: Vec<String> =
            runs.with(|l| l.iter().take(KEY_RUNS).map(|r| r.id.clone()).collect());
        for run in first {
            if fetched.with_value(|f| f.contains(&run)) {
                continue;
            }
            fetched.update_value(|f| {
                f.insert(run.clone());
            });
            let project = ctx.project();
            spawn_local(async move {
                if let Ok(keys) = api::keys(&project, &run).await {
                    g.keys
                        .try_update(|k| k.extend(keys.into_iter().map(|k| k.key)));
                }
            });
        }
    });
    let editing_set = RwSignal::new(false);
    let adding = RwSignal::new(false);
    let panel_keys = Memo::new(move |_| {
        grid.with(|g| {
            g.panels
                .iter()
                .enumerate()
                .map(|(i, p)| match p {
                    Panel::Line { key, .. } => format!("{i}:line:{key}"),
                    Panel::RunsTable { .. } => format!("{i}:runs_table"),
                    Panel::Compare { .. } => format!("{i}:compare"),
                })
                .collect::<Vec<_>>()
        })
    });
    let summary = move || {
        let set = grid.with(|g| g.runset.clone());
        let n = runs.with(Vec::len);
        let mut s = format!("{} run{}", n, if n == 1 { "" } else { "s" });
        if !set.filter.trim().is_empty() {
            s.push_str(&format!(" where {}", set.filter.trim()));
        }
        if !set.runs.is_empty() {
            s.push_str(&format!(" among {} chosen", set.runs.len()));
        }
        if let Some(sort) = &set.sort {
            s.push_str(&format!(
                ", by {}{}",
                sort.key,
                if sort.desc { " ↓" } else { " ↑" }
            ));
        }
        if let Some(l) = set.limit {
            s.push_str(&format!(", first {l}"));
        }
        if let Some(gb) = &set.group_by {
            s.push_str(&format!(", grouped by {gb}"));
        }
        s
    };
    view! {
        <div class="rp-grid">
            <div class="rp-grid-head">
                <span
                    class="muted"
                    data-testid="grid-runs"
                    data-count=move || runs.with(Vec::len).to_string()
                    data-runs=move || runs.with(|l| l.iter().map(|r| r.id.clone()).collect::<Vec<_>>().join(","))
                >
                    {summary}
                </span>
                <span class="spacer"></span>
                <Show when=move || ctx.can_edit()>
                    <button
                        class="lc-btn"
                        class:on=move || editing_set.get()
                        data-testid="grid-edit-runset"
                        on:click=move |_| editing_set.update(|o| *o = !*o)
                    >
                        "Run set"
                    </button>
                    <button
                        class="lc-btn"
                        class:on=move || adding.get()
                        data-testid="grid-add-panel"
                        on:click=move |_| adding.update(|o| *o = !*o)
                    >
                        "+ Panel"
                    </button>
                </Show>
            </div>
            {move || selected.with(|s| s.as_ref().err().cloned()).map(|e| view! {
                <div class="rt-filter-error" data-testid="grid-filter-error" role="alert">
                    {format!("The run set's filter does not parse: {e}")}
                </div>
            })}
            <Show when=move || editing_set.get() && ctx.can_edit()>
                <RunSetEditor on_done=Callback::new(move |_: ()| editing_set.set(false)) />
            </Show>
            <Show when=move || adding.get() && ctx.can_edit()>
                <PanelAdder />
            </Show>
            <div class="ws-grid rp-panels" data-testid="grid-panels">
                <For
                    each=move || panel_keys.get().into_iter().enumerate()
                    key=|(_, k)| k.clone()
                    children=move |(i, _)| view! { <PanelView index=i /> }
                />
            </div>
            <Show when=move || grid.with(|g| g.panels.is_empty())>
                <div class="empty">"No panels yet."</div>
            </Show>
        </div>
    }
}

/// Adds a line chart by metric key, a runs table or a comparison to the grid.
#[component]
fn PanelAdder() -> impl IntoView {
    let ctx = use_report();
    let g = expect_context::<GridCtx>();
    let key = RwSignal::new(String::new());
    let add = move |p: Panel| {
        if g.grid.with_untracked(|gr| gr.panels.len()) >= MAX_GRID_PANELS {
            ctx.error.set(Some(format!(
                "A grid holds at most {MAX_GRID_PANELS} panels."
            )));
            return;
        }
        ctx.edit_grid(g.block.get_value(), move |gr| gr.panels.push(p.clone()));
    };
    let list_id = format!("keys-{}", g.block.get_value());
    view! {
        <div class="rp-adder">
            <input
                class="rp-key"
                data-testid="add-line-key"
                placeholder="metric key, e.g. loss"
                list=list_id.clone()
                prop:value=move || key.get()
                on:input=move |ev| key.set(event_target_value(&ev))
            />
            <datalist id=list_id>
                {move || g.keys.get().into_iter().map(|k| view! { <option value=k></option> }).collect_view()}
            </datalist>
            <button
                class="btn small"
                data-testid="add-line"
                on:click=move |_| {
                    let k = key.get_untracked().trim().to_string();
                    if !k.is_empty() {
                        add(Panel::Line { key: k, settings: ChartSettings::default(), wide: false });
                        key.set(String::new());
                    }
                }
            >
                "Add line chart"
            </button>
            <button class="btn small" data-testid="add-runs-table" on:click=move |_| add(Panel::RunsTable { columns: vec![] })>
                "Add runs table"
            </button>
            <button class="btn small" data-testid="add-compare" on:click=move |_| add(Panel::Compare { keys: vec![] })>
                "Add comparison"
            </button>
        </div>
    }
}
