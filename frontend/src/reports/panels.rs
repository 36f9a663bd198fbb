//! One panel of a grid: a live line chart (the workspace's [`LineChart`] with the panel's chart
//! settings, run colours as everywhere, grouped by the panel's or the run set's group-by), a runs
//! table with chosen columns, or a config/summary comparison. Owners change a line panel's
//! settings with the workspace's settings bar, pick a table's columns or a comparison's keys, and
//! remove panels.
//!
//! Test ids: `report-panel` (with `data-kind` and, for lines, `data-key`), `panel-settings`,
//! `panel-remove`, `report-runs-table` (rows `data-run`), `table-columns` (checkboxes
//! `column-choice` with `data-column`), `report-compare`, `compare-keys`.

use leptos::prelude::*;
use serde_json::{Map, Value};
use std::sync::Arc;
use trackline_shared::chart::ChartSettings;
use trackline_shared::reports::{MAX_PANEL_COLUMNS, Panel, PanelGrid};
use trackline_shared::runset::differing_config_keys;

use super::grid::GridCtx;
use super::use_report;
use crate::browser::href;
use crate::components::{ChartSettingsBar, LineChart};
use crate::table::columns::{self, Field};
use crate::table::compare;
use crate::util;
use crate::workspace::group_choices;

/// Most runs a comparison shows side by side.
const MAX_COMPARED: usize = 20;

/// Removes the panel `orig` (at `index` when it is still there, else wherever it is now).
pub fn remove_panel(g: &mut PanelGrid, index: usize, orig: &Panel) {
    let at = if g.panels.get(index) == Some(orig) {
        Some(index)
    } else {
        g.panels.iter().position(|p| p == orig)
    };
    if let Some(i) = at {
        g.panels.remove(i);
    }
}

/// Changes the panel at `index` if it is still of the same kind (and key, for lines).
pub fn change_panel(g: &mut PanelGrid, index: usize, like: &Panel, f: &dyn Fn(&mut Panel)) {
    let same = |p: &Panel| match (p, like) {
        (Panel::Line { key: a, .. }, Panel::Line { key: b, .. }) => a == b,
        (Panel::RunsTable { .. }, Panel::RunsTable { .. }) => true,
        (Panel::Compare { .. }, Panel::Compare { .. }) => true,
        _ => false,
    };
    if let Some(p) = g.panels.get_mut(index).filter(|p| same(p)) {
        f(p);
    }
}

#[component]
pub fn PanelView(index: usize) -> impl IntoView {
    let ctx = use_report();
    let g = expect_context::<GridCtx>();
    let panel = Memo::new(move |_| g.grid.with(|gr| gr.panels.get(index).cloned()));
    let open = RwSignal::new(false);
    let edit = move |f: Arc<dyn Fn(&mut Panel) + Send + Sync>| {
        let Some(like) = panel.get_untracked() else {
            return;
        };
        ctx.edit_grid(g.block.get_value(), move |gr| {
            change_panel(gr, index, &like, &*f)
        });
    };
    let remove = move |_| {
        let Some(orig) = panel.get_untracked() else {
            return;
        };
        ctx.edit_grid(g.block.get_value(), move |gr| {
            remove_panel(gr, index, &orig)
        });
    };
    let controls = move || {
        view! {
            <Show when=move || ctx.can_edit()>
                <button
                    class="lc-btn"
                    class:on=move || open.get()
                    data-testid="panel-settings"
                    title="This panel's settings"
                    on:click=move |_| open.update(|o| *o = !*o)
                >
                    "⚙"
                </button>
                <button class="lc-btn" data-testid="panel-remove" title="Remove this panel" on:click=remove>
                    "✕"
                </button>
            </Show>
        }
    };
    move || {
        let Some(p) = panel.get() else {
            return ().into_any();
        };
        match p {
            Panel::Line { key, wide, .. } => {
                let settings = Signal::derive(move || {
                    let own = match panel.get() {
                        Some(Panel::Line { settings, .. }) => settings,
                        _ => ChartSettings::default(),
                    };
                    let mut s = own;
                    if s.group_by.is_none() {
                        s.group_by = g.grid.with(|gr| gr.runset.group_by.clone());
                    }
                    s
                });
                let x_keys =
                    Signal::derive(move || g.keys.with(|k| k.iter().cloned().collect::<Vec<_>>()));
                let group_keys = Signal::derive(move || g.runs.with(|r| group_choices(r)));
                let header: ChildrenFn = Arc::new(move || controls().into_any());
                view! {
                    <div class="chart-card ws-panel" class:wide=wide data-testid="report-panel" data-kind="line" data-key=key.clone()>
                        <Show when=move || open.get()>
                            <div class="ws-panel-settings">
                                <ChartSettingsBar
                                    settings=settings
                                    on_change=Callback::new(move |s: ChartSettings| {
                                        edit(Arc::new(move |p| {
                                            if let Panel::Line { settings, .. } = p {
                                                *settings = s.clone();
                                            }
                                        }))
                                    })
                                    x_keys=x_keys
                                    group_keys=group_keys
                                />
                                <button
                                    class="lc-btn"
                                    on:click=move |_| edit(Arc::new(|p| {
                                        if let Panel::Line { wide, .. } = p {
                                            *wide = !*wide;
                                        }
                                    }))
                                >
                                    {if wide { "narrow" } else { "full width" }}
                                </button>
                            </div>
                        </Show>
                        <LineChart
                            project=ctx.project()
                            key=key.clone()
                            runs=g.chart_runs
                            settings=settings
                            hidden=g.hidden
                            highlighted=g.highlighted
                            header=header
                        />
                    </div>
                }
                .into_any()
            }
            Panel::RunsTable { columns } => {
                let chosen = columns.clone();
                view! {
                    <div class="chart-card ws-panel wide rp-table-panel" data-testid="report-panel" data-kind="runs_table">
                        <div class="rp-panel-head">
                            <span class="muted">"Runs"</span>
                            <span class="spacer"></span>
                            {controls}
                        </div>
                        <Show when=move || open.get()>
                            <ColumnPicker chosen=chosen.clone() edit=Callback::new(move |cols: Vec<String>| {
                                edit(Arc::new(move |p| {
                                    if let Panel::RunsTable { columns } = p {
                                        *columns = cols.clone();
                                    }
                                }))
                            }) />
                        </Show>
                        <RunsTablePanel columns=columns />
                    </div>
                }
                .into_any()
            }
            Panel::Compare { keys } => {
                let text = RwSignal::new(keys.join(", "));
                view! {
                    <div class="chart-card ws-panel wide rp-table-panel" data-testid="report-panel" data-kind="compare">
                        <div class="rp-panel-head">
                            <span class="muted">"Comparison"</span>
                            <span class="spacer"></span>
                            {controls}
                        </div>
                        <Show when=move || open.get()>
                            <div class="rp-adder">
                                <input
                                    class="rp-keys"
                                    data-testid="compare-keys"
                                    placeholder="config.lr, summary.loss (empty: what differs)"
                                    prop:value=move || text.get()
                                    on:input=move |ev| text.set(event_target_value(&ev))
                                />
                                <button
                                    class="btn small"
                                    on:click=move |_| {
                                        let keys: Vec<String> = text
                                            .get_untracked()
                                            .split(',')
                                            .map(|k| k.trim().to_string())
                                            .filter(|k| !k.is_empty())
                                            .take(MAX_PANEL_COLUMNS)
                                            .collect();
                                        edit(Arc::new(move |p| {
                                            if let Panel::Compare { keys: k } = p {
                                                *k = keys.clone();
                                            }
                                        }))
                                    }
                                >
                                    "Apply"
                                </button>
                            </div>
                        </Show>
                        <ComparePanel keys=keys />
                    </div>
                }
                .into_any()
            }
        }
    }
}

/// Checkboxes of every column the grid's runs offer.
#[component]
fn ColumnPicker(chosen: Vec<String>, edit: Callback<Vec<String>>) -> impl IntoView {
    let g = expect_context::<GridCtx>();
    let chosen = StoredValue::new(chosen);
    let available = Memo::new(move |_| g.runs.with(|r| columns::available(r.iter())));
    view! {
        <div class="rp-columns" data-testid="table-columns">
            {move || {
                available
                    .get()
                    .into_iter()
                    .map(|f| {
                        let id = f.id();
                        let on = chosen.with_value(|c| c.contains(&id));
                        let id2 = id.clone();
                        view! {
                            <label class="rp-column">
                                <input
                                    type="checkbox"
                                    data-testid="column-choice"
                                    data-column=id.clone()
                                    prop:checked=on
                                    on:change=move |_| {
                                        chosen.update_value(|c| {
                                            if let Some(p) = c.iter().position(|x| *x == id2) {
                                                c.remove(p);
                                            } else if c.len() < MAX_PANEL_COLUMNS {
                                                c.push(id2.clone());
                                            }
                                        });
                                        edit.run(chosen.get_value());
                                    }
                                />
                                {f.label()}
                            </label>
                        }
                    })
                    .collect_view()
            }}
        </div>
    }
}

fn cell(r: &trackline_shared::api::RunInfo, f: &Field, now: f64) -> String {
    match f {
        Field::Created => crate::browser::local_datetime(r.created_at_secs),
        Field::Runtime => util::duration(util::live_runtime(r, now)),
        _ => columns::get(r, f, now)
            .text()
            .map_or_else(|| "–".to_string(), |t| t.into_owned()),
    }
}

/// The grid's runs as a table of `columns` (empty: the runs table's default columns).
#[component]
fn RunsTablePanel(columns: Vec<String>) -> impl IntoView {
    let ctx = use_report();
    let g = expect_context::<GridCtx>();
    let fields = Memo::new(move |_| {
        let parsed: Vec<Field> = columns.iter().filter_map(|c| Field::parse(c)).collect();
        if parsed.is_empty() {
            // The contract's default: name, state, created and the config keys that differ.
            let differ = g
                .runs
                .with(|r| differing_config_keys(&r.iter().collect::<Vec<_>>()));
            [Field::Name, Field::State, Field::Created]
                .into_iter()
                .chain(differ.into_iter().map(Field::Config))
                .collect()
        } else {
            parsed
        }
    });
    let project = ctx.project();
    view! {
        <div class="rp-table-wrap">
            <table class="kv rp-table" data-testid="report-runs-table">
                <thead>
                    <tr>
                        <th></th>
                        {move || fields.get().into_iter().map(|f| view! { <th>{f.label()}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        let now = crate::browser::now_secs();
                        let fields = fields.get();
                        g.runs
                            .get()
                            .into_iter()
                            .map(|r| {
                                let link = href(&util::run_path(&project, &r.id));
                                let color = crate::selection::run_color(&r.id);
                                let cells = fields
                                    .iter()
                                    .map(|f| {
                                        let text = cell(&r, f, now);
                                        if *f == Field::Name {
                                            view! { <td><a href=link.clone()>{text}</a></td> }.into_any()
                                        } else {
                                            view! { <td>{text}</td> }.into_any()
                                        }
                                    })
                                    .collect_view();
                                view! {
                                    <tr data-run=r.id.clone()>
                                        <td><span class="swatch" style=format!("background:{color}")></span></td>
                                        {cells}
                                    </tr>
                                }
                            })
                            .collect_view()
                    }}
                </tbody>
            </table>
        </div>
    }
}

/// The grid's first runs side by side: `keys` (column ids), or the config keys that differ and
/// then the summary keys.
#[component]
fn ComparePanel(keys: Vec<String>) -> impl IntoView {
    let g = expect_context::<GridCtx>();
    let keys = StoredValue::new(keys);
    let table = Memo::new(move |_| {
        g.runs.with(|runs| {
            let runs: Vec<_> = runs.iter().take(MAX_COMPARED).collect();
            let configs: Vec<&Map<String, Value>> = runs.iter().map(|r| &r.config).collect();
            let summaries: Vec<&Map<String, Value>> = runs.iter().map(|r| &r.summary).collect();
            let config = compare::rows(&configs, false);
            let summary = compare::rows(&summaries, true);
            let wanted = keys.get_value();
            let rows: Vec<(String, compare::Row)> = if wanted.is_empty() {
                config
                    .into_iter()
                    .filter(|r| r.differs)
                    .map(|r| (format!("config.{}", r.key), r))
                    .chain(
                        summary
                            .into_iter()
                            .map(|r| (format!("summary.{}", r.key), r)),
                    )
                    .collect()
            } else {
                let all: Vec<(String, compare::Row)> = config
                    .into_iter()
                    .map(|r| (format!("config.{}", r.key), r))
                    .chain(
                        summary
                            .into_iter()
                            .map(|r| (format!("summary.{}", r.key), r)),
                    )
                    .collect();
                wanted
                    .iter()
                    .filter_map(|k| all.iter().find(|(id, _)| id == k).cloned())
                    .collect()
            };
            let heads: Vec<(String, String)> = runs
                .iter()
                .map(|r| {
                    (
                        r.name.clone(),
                        crate::selection::run_color(&r.id).to_string(),
                    )
                })
                .collect();
            (heads, rows)
        })
    });
    view! {
        <div class="rp-table-wrap">
            <table class="kv rp-table" data-testid="report-compare">
                {move || {
                    let (heads, rows) = table.get();
                    view! {
                        <thead>
                            <tr>
                                <th></th>
                                {heads.into_iter().map(|(name, color)| view! {
                                    <th><span class="swatch" style=format!("background:{color}")></span>{name}</th>
                                }).collect_view()}
                            </tr>
                        </thead>
                        <tbody>
                            {rows.into_iter().map(|(id, row)| {
                                let best = row.best.clone();
                                let data_key = id.clone();
                                view! {
                                    <tr class:differs=row.differs data-key=data_key>
                                        <th>{id}</th>
                                        {row.cells.iter().enumerate().map(|(i, c)| {
                                            let text = c.as_ref().map_or_else(|| "–".to_string(), util::value);
                                            view! { <td class:best=best.contains(&i)>{text}</td> }
                                        }).collect_view()}
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    }
                }}
            </table>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(key: &str) -> Panel {
        Panel::Line {
            key: key.into(),
            settings: ChartSettings::default(),
            wide: false,
        }
    }

    #[test]
    fn panels_are_changed_where_they_are_now() {
        let mut g = PanelGrid {
            panels: vec![line("a"), line("b"), Panel::Compare { keys: vec![] }],
            ..Default::default()
        };
        // A teammate inserted a panel first: "b" moved to index 2.
        g.panels.insert(0, line("z"));
        remove_panel(&mut g, 1, &line("b"));
        assert_eq!(
            g.panels,
            vec![line("z"), line("a"), Panel::Compare { keys: vec![] }]
        );
        change_panel(&mut g, 1, &line("x"), &|p| {
            if let Panel::Line { wide, .. } = p {
                *wide = true;
            }
        });
        assert_eq!(g.panels[1], line("a"), "another key is not changed");
        change_panel(&mut g, 2, &Panel::Compare { keys: vec![] }, &|p| {
            *p = Panel::Compare {
                keys: vec!["config.lr".into()],
            }
        });
        assert_eq!(
            g.panels[2],
            Panel::Compare {
                keys: vec!["config.lr".into()]
            }
        );
    }
}
