//! The table's header: sortable, draggable, resizable column headers, the select-all box, and
//! the `<col>`s that size the columns.

use leptos::ev;
use leptos::prelude::*;

use super::editor::SettingsEditor;
use super::picks::RunPicks;
use super::rows::TableRows;
use super::{column_class, header_kind};
use crate::table::columns::Field;
use crate::table::settings::{MAX_WIDTH, MIN_WIDTH};

/// A column being resized or dragged by the mouse.
#[derive(Clone, Copy, Debug)]
pub(super) struct ColumnDrag {
    /// (column id, mouse x at the start, width at the start) while resizing.
    resizing: StoredValue<Option<(String, f64, f64)>>,
    /// When the last resize ended (ms): the click that ends it must not sort.
    resize_end: StoredValue<f64>,
    /// The id of the column being dragged to a new place.
    dragging: StoredValue<Option<String>>,
}

/// Window listeners that resize a column while the mouse moves after a press on its edge.
pub(super) fn use_column_drag(editor: SettingsEditor) -> ColumnDrag {
    let drag = ColumnDrag {
        resizing: StoredValue::new(None),
        resize_end: StoredValue::new(0.0),
        dragging: StoredValue::new(None),
    };
    let move_handle = window_event_listener(ev::mousemove, move |e| {
        let Some((id, x0, w0)) = drag.resizing.try_get_value().flatten() else {
            return;
        };
        let w = (w0 + f64::from(e.client_x()) - x0)
            .clamp(MIN_WIDTH, MAX_WIDTH)
            .round();
        editor.settings.update(|s| {
            s.widths.insert(id, w);
        });
    });
    let up_handle = window_event_listener(ev::mouseup, move |_| {
        if drag
            .resizing
            .try_update_value(|r| r.take())
            .flatten()
            .is_some()
        {
            editor.mark_edited();
            drag.resize_end.set_value(js_sys::Date::now());
            editor.schedule_save();
        }
    });
    on_cleanup(move || {
        move_handle.remove();
        up_handle.remove();
    });
    drag
}

/// The header row: the select-all box, then one header per shown column.
pub(super) fn header_row(
    table: TableRows,
    picks: RunPicks,
    editor: SettingsEditor,
    drag: ColumnDrag,
) -> impl IntoView {
    let cols = table.shown.get();
    let nums = table.numeric.get();
    let last_pin = cols.iter().rposition(|(_, p)| *p);
    let coverage = picks.coverage;
    let all_checked = move || coverage.with(|(n, all)| *all > 0 && n == all);
    let some_checked = move || coverage.with(|(n, all)| *n > 0 && n < all);
    let headers = cols
        .into_iter()
        .enumerate()
        .map(|(i, (f, p))| {
            let num = nums.get(i).copied().unwrap_or(false);
            let class = column_class(i, p, num, header_kind(&f), last_pin == Some(i));
            column_header(class, f, num, table, editor, drag)
        })
        .collect_view();
    view! {
        <tr>
            <th class="rt-sel pin">
                <input
                    type="checkbox"
                    data-testid="select-all"
                    title="Select all filtered runs, or none"
                    prop:checked=all_checked
                    prop:indeterminate=some_checked
                    on:change=move |_| picks.select_all(!all_checked())
                />
            </th>
            {headers}
        </tr>
    }
}

/// One column's header: click to sort, drag to move, drag its edge to resize.
fn column_header(
    class: String,
    f: Field,
    num: bool,
    table: TableRows,
    editor: SettingsEditor,
    drag: ColumnDrag,
) -> impl IntoView {
    let id = f.id();
    let sort_spec = table.sort_spec;
    let sort_numeric =
        num || matches!(f, Field::Created | Field::Runtime) || matches!(f, Field::Summary(_));
    let indicator = {
        let f = f.clone();
        move || sort_spec.with(|(sf, desc)| (*sf == f).then_some(if *desc { "▼" } else { "▲" }))
    };
    let sorted_attr = {
        let f = f.clone();
        move || {
            sort_spec.with(|(sf, desc)| (*sf == f).then_some(if *desc { "desc" } else { "asc" }))
        }
    };
    let (id_click, id_drag, id_drop, id_resize) = (id.clone(), id.clone(), id.clone(), id.clone());
    let f_resize = f.clone();
    view! {
        <th
            class=class
            data-testid="col-header"
            data-col=id.clone()
            data-sort=sorted_attr
            title=id.clone()
            draggable="true"
            on:click=move |_| {
                if js_sys::Date::now() - drag.resize_end.get_value() < 300.0 {
                    return;
                }
                let start = crate::browser::perf_now();
                editor.edit(&|s| s.click_sort(&id_click, sort_numeric));
                table.measure_change("tl:table:sort", start);
            }
            on:dragstart=move |e: ev::DragEvent| {
                drag.dragging.set_value(Some(id_drag.clone()));
                if let Some(dt) = e.data_transfer() {
                    let _ = dt.set_data("text/plain", &id_drag);
                    dt.set_effect_allowed("move");
                }
            }
            on:dragover=move |e: ev::DragEvent| e.prevent_default()
            on:drop=move |e: ev::DragEvent| {
                e.prevent_default();
                if let Some(from) = drag.dragging.try_update_value(|d| d.take()).flatten() {
                    let shown_now = table.shown_fields();
                    editor.edit(&|s| s.move_before(&shown_now, &from, Some(&id_drop)));
                }
            }
        >
            <span class="rt-label">{f.label()}</span>
            <span class="sort-ind">{indicator}</span>
            <span
                class="rt-resize"
                data-testid="col-resize"
                title="Drag to resize"
                on:mousedown=move |e: ev::MouseEvent| {
                    e.prevent_default();
                    e.stop_propagation();
                    let w = editor.settings.with_untracked(|s| s.width(&f_resize));
                    drag.resizing.set_value(Some((id_resize.clone(), f64::from(e.client_x()), w)));
                }
                on:click=move |e: ev::MouseEvent| e.stop_propagation()
            ></span>
        </th>
    }
}

/// One `<col>` per column (widths come from the table's style sheet).
pub(super) fn colgroup(table: TableRows) -> impl IntoView {
    let n = table.shown.with(Vec::len);
    let cols = (0..n)
        .map(|i| view! { <col class=format!("k{i}") /> })
        .collect_view();
    view! {
        <col class="rt-sel" />
        {cols}
    }
}
