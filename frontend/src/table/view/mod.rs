//! The runs table view: toolbar (filter, group-by, column picker, compare), a virtualised grid of
//! fixed-height rows with sticky header and pinned columns, resizable and reorderable headers, and
//! the per-row selection that the workspace charts show.
//!
//! [`RunsTable`] wires small parts, each a `use_*` function returning a struct of signals:
//! [`editor`] (the settings, loaded from and saved to the layout), [`rows`] (columns; rows
//! filtered, sorted, grouped), [`picks`] (which runs are charted), [`scroll`] (the rendered window)
//! and [`header`]'s column drag; the markup is in [`toolbar`], [`header`] and [`body`].

mod body;
mod editor;
mod header;
mod picker;
mod picks;
mod rows;
mod scroll;
mod toolbar;

use leptos::prelude::*;
use std::sync::Arc;
use trackline_shared::api::RunInfo;

use super::columns::Field;
use super::settings::TableSettings;

/// Height of every body row (CSS pixels); `index.html` sets the same.
pub const ROW_H: f64 = 30.0;
/// Rows rendered beyond each edge of the viewport.
const OVERSCAN: usize = 8;
/// Width of the leading column (checkbox and colour swatch).
const SEL_W: f64 = 52.0;
/// Runs selected before anyone chooses: the newest ones (W&B shows the first 10 too).
pub const DEFAULT_SELECTED: usize = 10;
/// Most runs the compare view is opened with.
pub const MAX_COMPARE: usize = 50;

/// A change to the settings, as the column picker hands it to the table.
type Edit = Arc<dyn Fn(&mut TableSettings) + Send + Sync>;

/// A run in a rendered row; equal when id and version are (a new version re-renders the row).
#[derive(Clone, Debug)]
struct RunRef(Arc<RunInfo>);

impl PartialEq for RunRef {
    fn eq(&self, o: &Self) -> bool {
        self.0.id == o.0.id && self.0.version == o.0.version
    }
}

#[derive(Clone, Debug, PartialEq)]
enum VisRow {
    Group {
        value: String,
        count: usize,
        collapsed: bool,
    },
    Run(RunRef),
}

impl VisRow {
    fn key(&self) -> String {
        match self {
            VisRow::Group {
                value,
                count,
                collapsed,
            } => format!("g\u{1}{value}\u{1}{count}\u{1}{collapsed}"),
            VisRow::Run(r) => format!("r\u{1}{}\u{1}{}", r.0.id, r.0.version),
        }
    }
}

/// Sizes of the grid's columns as a style sheet: widths through `<col>`, sticky offsets of pinned
/// columns, the table's total width.
fn grid_css(cols: &[(Field, bool)], s: &TableSettings) -> String {
    let mut css = String::new();
    let (mut left, mut total) = (SEL_W, SEL_W);
    for (i, (f, pinned)) in cols.iter().enumerate() {
        let w = s.width(f);
        css.push_str(&format!(".rt-grid col.k{i}{{width:{w}px}}"));
        if *pinned {
            css.push_str(&format!(".rt-grid .k{i}.pin{{left:{left}px}}"));
            left += w;
        }
        total += w;
    }
    css.push_str(&format!(
        ".rt-grid col.rt-sel{{width:{SEL_W}px}}.rt-grid{{width:{total}px}}"
    ));
    css
}

/// A cell's or header's classes: its column `k{i}`, pinned, numeric, `kind`, last pinned.
fn column_class(i: usize, pinned: bool, num: bool, kind: &str, last_pin: bool) -> String {
    format!(
        "k{i}{}{}{kind}{}",
        if pinned { " pin" } else { "" },
        if num { " num" } else { "" },
        if last_pin { " pin-last" } else { "" }
    )
}

/// A header's extra class by what the column holds.
fn header_kind(f: &Field) -> &'static str {
    match f {
        Field::Config(_) => " cfg",
        Field::Summary(_) => " sum",
        _ => "",
    }
}

/// The runs table of a project, writing the page's [`Selection`](crate::selection::Selection).
#[component]
pub fn RunsTable(project: String, runs: RwSignal<Vec<Arc<RunInfo>>>) -> impl IntoView {
    let editor = editor::use_settings_editor(&project);
    let table = rows::use_table_rows(&project, runs, editor);
    let picks = picks::use_run_picks(&project, runs, table);
    let window = scroll::use_row_window(runs, table);
    let drag = header::use_column_drag(editor);
    let project = StoredValue::new(project);
    let css = move || editor.settings.with(|s| grid_css(&table.shown.get(), s));

    view! {
        <style>{css}</style>
        {toolbar::toolbar(project, table, picks, editor)}
        <div
            class="rt-scroll"
            data-testid="runs-scroll"
            node_ref=window.scroller
            on:scroll=move |e| {
                let el = event_target::<web_sys::Element>(&e);
                window.scroll_top.set(f64::from(el.scroll_top()));
                window.measure();
            }
        >
            <table class="rt-grid" data-testid="runs-table">
                <colgroup>{move || header::colgroup(table)}</colgroup>
                <thead>{move || header::header_row(table, picks, editor, drag)}</thead>
                <tbody>{move || body::body_rows(project, table, picks, window)}</tbody>
            </table>
            {move || {
                (table.filtered.with(Vec::is_empty) && table.run_count.get() > 0)
                    .then(|| view! { <div class="empty">"No runs match the filter."</div> })
            }}
        </div>
    }
}
