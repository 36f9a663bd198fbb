//! The table's grid: a sticky header (click to sort ascending, descending, off; drag the right
//! edge to resize) and only the rows in view (virtual scrolling with
//! [`crate::table::virt::window`]), group rows with counts and aggregates when grouped.

use leptos::ev;
use leptos::prelude::*;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use trackline_shared::media_table::{Change, ColumnKind, Group, format_number};

use super::cell::{cell_content, copy_text};
use super::{Rows, Shown};
use crate::table::virt;

/// Height of the scroll area.
const VIEW_H: f64 = 480.0;
/// Rows rendered beyond the viewport on each side.
const OVERSCAN: usize = 12;

/// One line of the grid: a row of the table, or the header of a group (index into the groups).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Line {
    Row(u32),
    Group(u32),
}

/// Row height: taller when a column holds media.
fn row_height(kinds: &[ColumnKind]) -> f64 {
    if kinds.contains(&ColumnKind::Media) {
        64.0
    } else {
        30.0
    }
}

/// A column's default width in CSS pixels.
fn default_width(kind: ColumnKind) -> f64 {
    match kind {
        ColumnKind::Number => 110.0,
        ColumnKind::Bool => 80.0,
        ColumnKind::Text => 180.0,
        ColumnKind::Media => 120.0,
        ColumnKind::Other => 200.0,
    }
}

/// What every cell of a render needs.
#[derive(Clone)]
struct Ctx {
    project: Arc<str>,
    run: Arc<str>,
    widths: RwSignal<HashMap<String, f64>>,
    kinds: Arc<Vec<ColumnKind>>,
    copied: RwSignal<Option<String>>,
    expanded: RwSignal<HashSet<String>>,
    row_h: f64,
}

impl Ctx {
    fn width_style(&self, col: usize, name: &str) -> impl Fn() -> String + use<> {
        let (widths, name) = (self.widths, name.to_string());
        let default = default_width(self.kinds.get(col).copied().unwrap_or(ColumnKind::Other));
        move || {
            let w = widths.with(|m| m.get(&name).copied()).unwrap_or(default);
            format!("width:{w}px")
        }
    }
}

#[component]
pub fn Grid(
    project: String,
    run: String,
    shown: Memo<Option<Shown>>,
    rows: Memo<Option<Rows>>,
    sort: RwSignal<Option<(String, bool)>>,
    group_by: RwSignal<Option<String>>,
    expanded: RwSignal<HashSet<String>>,
    copied: RwSignal<Option<String>>,
) -> impl IntoView {
    let widths = RwSignal::new(HashMap::<String, f64>::new());
    let kinds = Memo::new(move |_| {
        shown.with(|s| {
            s.as_ref().map(|s| {
                (
                    s.generation,
                    Arc::new(s.table.columns.iter().map(|c| c.kind()).collect()),
                )
            })
        })
    });
    let ctx = Memo::new(move |_| {
        let kinds: Arc<Vec<ColumnKind>> = kinds.get().map(|(_, k)| k).unwrap_or_default();
        CtxKey(Ctx {
            project: Arc::from(project.as_str()),
            run: Arc::from(run.as_str()),
            widths,
            row_h: row_height(&kinds),
            kinds,
            copied,
            expanded,
        })
    });
    let scroller = NodeRef::<leptos::html::Div>::new();
    let scroll_top = RwSignal::new(0.0f64);
    // A new table, filter or sort starts at the top.
    Effect::new(move |_| {
        rows.track();
        if let Some(el) = scroller.get_untracked() {
            el.set_scroll_top(0);
        }
        scroll_top.set(0.0);
    });
    let win = Memo::new(move |_| {
        let total = rows.with(|r| r.as_ref().map_or(0, |r| r.lines.len()));
        virt::window(
            total,
            ctx.with(|c| c.0.row_h),
            scroll_top.get(),
            VIEW_H,
            OVERSCAN,
        )
    });
    let visible = Memo::new(move |_| {
        let w = win.get();
        let generation = shown.with(|s| s.as_ref().map_or(0, |s| s.generation));
        rows.with(|r| {
            r.as_ref()
                .map(|r| {
                    r.lines[w.start.min(r.lines.len())..w.end.min(r.lines.len())]
                        .iter()
                        .map(|l| (generation, *l))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    let header = move || {
        let Some(s) = shown.get() else {
            return ().into_any();
        };
        let c = ctx.get().0;
        s.table
            .names()
            .into_iter()
            .enumerate()
            .map(|(i, name)| header_cell(&c, i, name, sort))
            .collect_view()
            .into_any()
    };
    let row_view = move |(_, line): (u64, Line)| {
        let (Some(s), Some(r)) = (shown.get_untracked(), rows.get_untracked()) else {
            return ().into_any();
        };
        let c = ctx.get_untracked().0;
        match line {
            Line::Row(row) => data_row(&c, &s, row),
            Line::Group(g) => match r.groups.as_ref().and_then(|gs| gs.get(g as usize)) {
                Some(group) => group_row(&c, &s, group, group_by.get_untracked()),
                None => ().into_any(),
            },
        }
    };
    view! {
        <div
            class="mt-scroll"
            node_ref=scroller
            data-testid="media-table-scroll"
            data-first=move || win.get().start.to_string()
            style=format!("max-height:{VIEW_H}px")
            on:scroll=move |_| {
                if let Some(el) = scroller.get_untracked() {
                    scroll_top.set(f64::from(el.scroll_top()));
                }
            }
        >
            <div class="mt-inner">
                <div class="mt-head">{header}</div>
                <div style=move || format!("height:{}px", win.get().top_px(ctx.with(|c| c.0.row_h)))></div>
                <For each=move || visible.get() key=|k| *k children=row_view />
                <div style=move || {
                    let total = rows.with(|r| r.as_ref().map_or(0, |r| r.lines.len()));
                    format!("height:{}px", win.get().bottom_px(total, ctx.with(|c| c.0.row_h)))
                }></div>
            </div>
        </div>
    }
}

/// [`Ctx`] in a memo: equal when its data is (signals are compared by identity).
#[derive(Clone)]
struct CtxKey(Ctx);

impl PartialEq for CtxKey {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0.kinds, &other.0.kinds) && self.0.project == other.0.project
    }
}

fn header_cell(
    c: &Ctx,
    i: usize,
    name: String,
    sort: RwSignal<Option<(String, bool)>>,
) -> impl IntoView + use<> {
    let widths = c.widths;
    let numeric = c.kinds.get(i) == Some(&ColumnKind::Number);
    let drag = StoredValue::new(None::<(f64, f64)>);
    let (n_click, n_state, n_arrow, n_drag) =
        (name.clone(), name.clone(), name.clone(), name.clone());
    let default = default_width(c.kinds.get(i).copied().unwrap_or(ColumnKind::Other));
    view! {
        <div
            class="mt-th"
            class:mt-num=numeric
            data-testid=format!("media-table-header-{name}")
            data-sort=move || sort.with(|s| match s {
                Some((n, desc)) if *n == n_state => if *desc { "desc" } else { "asc" },
                _ => "",
            })
            style=c.width_style(i, &name)
            title=format!("Sort by {name}")
            on:click=move |_| {
                sort.update(|s| {
                    *s = match s.take() {
                        Some((n, false)) if n == n_click => Some((n, true)),
                        Some((n, true)) if n == n_click => None,
                        _ => Some((n_click.clone(), false)),
                    }
                })
            }
        >
            <span class="mt-th-name">{name.clone()}</span>
            <span class="mt-arrow">{move || sort.with(|s| match s {
                Some((n, desc)) if *n == n_arrow => if *desc { "▼" } else { "▲" },
                _ => "",
            })}</span>
            <span
                class="mt-resize"
                title="Drag to resize"
                on:click=|ev: ev::MouseEvent| ev.stop_propagation()
                on:pointerdown=move |ev: ev::PointerEvent| {
                    ev.stop_propagation();
                    let w = widths.with_untracked(|m| m.get(&n_drag).copied()).unwrap_or(default);
                    drag.set_value(Some((f64::from(ev.client_x()), w)));
                    let el = event_target::<web_sys::Element>(&ev);
                    let _ = el.set_pointer_capture(ev.pointer_id());
                }
                on:pointermove={
                    let name = name.clone();
                    move |ev: ev::PointerEvent| {
                        if let Some((x0, w0)) = drag.get_value() {
                            let w = (w0 + f64::from(ev.client_x()) - x0).clamp(40.0, 1200.0);
                            widths.update(|m| {
                                m.insert(name.clone(), w);
                            });
                        }
                    }
                }
                on:pointerup=move |_| drag.set_value(None)
            ></span>
        </div>
    }
}

/// The run whose files row `row` names: the row's run when runs are compared.
fn run_of(c: &Ctx, s: &Shown, row: u32) -> String {
    if s.runs.is_empty() {
        return c.run.to_string();
    }
    let label = s.table.columns[0].display(row as usize);
    s.runs
        .iter()
        .find(|(l, _, _)| *l == label)
        .map_or_else(|| c.run.to_string(), |(_, id, _)| id.clone())
}

fn data_row(c: &Ctx, s: &Shown, row: u32) -> AnyView {
    let run = run_of(c, s, row);
    let thumb = c.row_h - 8.0;
    let cells = s
        .table
        .columns
        .iter()
        .enumerate()
        .map(|(ci, col)| {
            let text = col.display(row as usize).into_owned();
            let changed = s
                .diff
                .as_ref()
                .is_some_and(|(d, _)| d.changed.contains(&(row, ci as u32)));
            let was = changed
                .then(|| {
                    let (d, old) = s.diff.as_ref()?;
                    let old_row = d.before.get(row as usize).copied().flatten()?;
                    let oc = old.columns.iter().find(|o| o.name == col.name)?;
                    Some(format!("was: {}", oc.display(old_row as usize)))
                })
                .flatten();
            let content = if ci == 0 && !s.runs.is_empty() {
                let color = s
                    .runs
                    .iter()
                    .find(|(l, _, _)| *l == text)
                    .map_or("transparent", |(_, _, c)| c);
                view! {
                    <span class="swatch" style=format!("background:{color}")></span>
                    <span class="mt-text" data-testid="media-table-run">{text.clone()}</span>
                }
                .into_any()
            } else if ci == 0 && s.diff.is_some() {
                view! {
                    <span class=format!("mt-change mt-change-{text}") data-testid="media-table-change">
                        {text.clone()}
                    </span>
                }
                .into_any()
            } else {
                cell_content(&c.project, &run, col, row as usize, thumb)
            };
            let numeric = c.kinds.get(ci) == Some(&ColumnKind::Number);
            let copied = c.copied;
            let copy = text.clone();
            view! {
                <div
                    class="mt-cell"
                    class:mt-num=numeric
                    class:mt-changed=changed
                    data-testid="media-table-cell"
                    data-col=col.name.clone()
                    title=was.unwrap_or_else(|| text.clone())
                    style=c.width_style(ci, &col.name)
                >
                    {content}
                    <button
                        class="mt-copy"
                        data-testid="media-table-copy"
                        title="Copy"
                        on:click=move |ev: ev::MouseEvent| {
                            ev.stop_propagation();
                            copy_text(&copy);
                            copied.set(Some(copy.clone()));
                        }
                    >
                        "⧉"
                    </button>
                </div>
            }
        })
        .collect_view();
    let change = s
        .diff
        .as_ref()
        .map(|_| s.table.columns[0].display(row as usize).into_owned());
    view! {
        <div
            class="mt-row"
            class:mt-removed=change.as_deref() == Some(Change::Removed.as_str())
            data-testid="media-table-row"
            data-row=row.to_string()
            style=format!("height:{}px", c.row_h)
        >
            {cells}
        </div>
    }
    .into_any()
}

fn group_row(c: &Ctx, s: &Shown, g: &Group, by: Option<String>) -> AnyView {
    let label = g.label.clone();
    let expanded = c.expanded;
    let open = {
        let label = label.clone();
        move || expanded.with(|e| e.contains(&label))
    };
    let cells = s
        .table
        .columns
        .iter()
        .enumerate()
        .map(|(ci, col)| {
            let content = if by.as_deref() == Some(col.name.as_str()) {
                let open = open.clone();
                let n = g.rows.len();
                view! {
                    <span class="mt-group-label">
                        {move || if open() { "▾ " } else { "▸ " }}
                        {g.label.clone()}
                        <span class="faint">{format!(" · {n} row{}", if n == 1 { "" } else { "s" })}</span>
                    </span>
                }
                .into_any()
            } else {
                match g.aggregates.get(ci).copied().flatten() {
                    Some(a) if a.count > 0 => {
                        let mean = a.mean().map(format_number).unwrap_or_default();
                        let title = format!(
                            "mean {mean} · min {} · max {} · sum {} · {} values",
                            format_number(a.min),
                            format_number(a.max),
                            format_number(a.sum),
                            a.count
                        );
                        view! { <span class="mt-text" title=title>{format!("μ {mean}")}</span> }
                            .into_any()
                    }
                    _ => ().into_any(),
                }
            };
            view! {
                <div class="mt-cell" class:mt-num=c.kinds.get(ci) == Some(&ColumnKind::Number)
                    style=c.width_style(ci, &col.name)>
                    {content}
                </div>
            }
        })
        .collect_view();
    let toggle = label.clone();
    view! {
        <div
            class="mt-row mt-group"
            data-testid="media-table-group-row"
            data-label=label
            data-count=g.rows.len().to_string()
            style=format!("height:{}px", c.row_h)
            on:click=move |_| expanded.update(|e| {
                if !e.remove(&toggle) {
                    e.insert(toggle.clone());
                }
            })
        >
            {cells}
        </div>
    }
    .into_any()
}
