//! The table's body: spacer rows around the rendered window, group headers that fold, and run
//! rows with their selection box, colour swatch and cells.

use leptos::prelude::*;
use std::sync::Arc;
use trackline_shared::api::{RunInfo, RunState};

use super::picks::RunPicks;
use super::rows::TableRows;
use super::scroll::RowWindow;
use super::{ROW_H, RunRef, VisRow, column_class};
use crate::browser::{Clock, href, local_datetime};
use crate::components::StateBadge;
use crate::selection::run_color;
use crate::table::columns::{self, Field};
use crate::table::group;
use crate::util;

/// The body rows of the current window, between two spacers that stand for the rest.
pub(super) fn body_rows(
    project: StoredValue<String>,
    table: TableRows,
    picks: RunPicks,
    window: RowWindow,
) -> impl IntoView {
    let clock = expect_context::<Clock>();
    let cols = table.shown.get();
    let nums = table.numeric.get();
    let ncols = cols.len() + 1;
    let last_pin = cols.iter().rposition(|(_, p)| *p);
    let selection = picks.selection;
    let render = move |row: VisRow| match row {
        VisRow::Group {
            value,
            count,
            collapsed: shut,
        } => {
            let text = table
                .group_by
                .get_untracked()
                .map(|f| group::header(&f, &value, count))
                .unwrap_or_default();
            let v2 = value.clone();
            view! {
                <tr
                    class="rt-group"
                    data-testid="group-row"
                    data-group=value.clone()
                    data-collapsed=shut.to_string()
                    on:click=move |_| table.toggle_fold(&v2)
                >
                    <td colspan=ncols>
                        <span class="rt-group-head">
                            <span class="rt-caret">{if shut { "▸" } else { "▾" }}</span>
                            <span data-testid="group-label">{text}</span>
                        </span>
                    </td>
                </tr>
            }
            .into_any()
        }
        VisRow::Run(RunRef(r)) => {
            let id = r.id.clone();
            let (id_sel, id_toggle, id_enter) = (id.clone(), id.clone(), id.clone());
            let is_sel = Memo::new(move |_| selection.selected.with(|s| s.contains(&id_sel)));
            let cells = cols
                .iter()
                .enumerate()
                .map(|(i, (f, p))| {
                    let num = nums.get(i).copied().unwrap_or(false);
                    let class = column_class(i, *p, num, "", last_pin == Some(i));
                    cell(class, f, &r, project, clock)
                })
                .collect_view();
            view! {
                <tr
                    data-testid="run-row"
                    data-run-id=id.clone()
                    data-selected=move || is_sel.get().to_string()
                    class:selected=is_sel
                    on:mouseenter=move |_| selection.highlighted.set(Some(id_enter.clone()))
                    on:mouseleave=move |_| selection.highlighted.set(None)
                >
                    <td class="rt-sel pin">
                        <input
                            type="checkbox"
                            data-testid="row-select"
                            title="Show in charts"
                            prop:checked=is_sel
                            on:change=move |_| picks.toggle(id_toggle.clone())
                        />
                        <span class="rt-swatch" style:background=run_color(&id)></span>
                    </td>
                    {cells}
                </tr>
            }
            .into_any()
        }
    };
    let (win, visible, rows) = (window.win, window.visible, table.rows);
    view! {
        <tr class="rt-spacer" style:height=move || format!("{}px", win.get().top_px(ROW_H))>
            <td colspan=ncols></td>
        </tr>
        <For each=move || visible.get() key=VisRow::key children=render />
        <tr
            class="rt-spacer"
            style:height=move || { format!("{}px", win.get().bottom_px(rows.with(Vec::len), ROW_H)) }
        >
            <td colspan=ncols></td>
        </tr>
    }
}

/// One cell of run `r` in column `f`.
fn cell(
    class: String,
    f: &Field,
    r: &Arc<RunInfo>,
    project: StoredValue<String>,
    clock: Clock,
) -> AnyView {
    match f {
        Field::Name => {
            let link = href(&util::run_path(&project.get_value(), &r.id));
            view! {
                <td class=class title=r.name.clone()>
                    <a href=link>{r.name.clone()}</a>
                </td>
            }
            .into_any()
        }
        Field::State => view! {
            <td class=class>
                <StateBadge state=r.state />
            </td>
        }
        .into_any(),
        Field::Created => {
            let created = r.created_at_secs;
            view! {
                <td class=class title=util::ago(clock.0.get_untracked(), created)>
                    {local_datetime(created)}
                </td>
            }
            .into_any()
        }
        Field::Runtime => {
            let run = r.clone();
            if r.state == RunState::Running {
                view! {
                    <td class=class>
                        {move || util::duration(util::live_runtime(&run, clock.0.get()))}
                    </td>
                }
                .into_any()
            } else {
                view! { <td class=class>{util::duration(run.runtime_secs)}</td> }.into_any()
            }
        }
        Field::Tags => {
            let tags = r.tags.clone();
            let title = tags.join(", ");
            view! {
                <td class=class title=title>
                    {tags
                        .into_iter()
                        .map(|t| view! { <span class="tag">{t}</span> })
                        .collect_view()}
                </td>
            }
            .into_any()
        }
        other => {
            let v = columns::get(r, other, 0.0);
            match v.text() {
                None => view! { <td class=format!("{class} faint")>"–"</td> }.into_any(),
                Some(t) => {
                    let bad = v.number().is_some_and(|x| !x.is_finite());
                    let class = if bad {
                        format!("{class} bad-val")
                    } else {
                        class
                    };
                    let t = t.into_owned();
                    let title = t.clone();
                    view! {
                        <td class=class title=title>
                            {t}
                        </td>
                    }
                    .into_any()
                }
            }
        }
    }
}
