//! Virtual scrolling: only the rows in (and just around) the viewport are rendered.

use leptos::ev;
use leptos::prelude::*;
use std::sync::Arc;
use trackline_shared::api::RunInfo;

use super::rows::TableRows;
use super::{OVERSCAN, ROW_H, RunRef, VisRow};
use crate::table::group::Row;
use crate::table::virt;

/// The scroll area and the window of rows it shows.
#[derive(Clone, Copy, Debug)]
pub(super) struct RowWindow {
    pub scroller: NodeRef<leptos::html::Div>,
    pub scroll_top: RwSignal<f64>,
    viewport_h: RwSignal<f64>,
    pub win: Memo<virt::Window>,
    /// The rows to render, from `win.start` to `win.end`.
    pub visible: Memo<Vec<VisRow>>,
}

impl RowWindow {
    /// Reads the scroll area's height again (after a scroll or a window resize).
    pub fn measure(self) {
        let client = self
            .scroller
            .get_untracked()
            .map_or(0.0, |el| f64::from(el.client_height()));
        let h = client.max(max_height());
        if self.viewport_h.try_get_untracked().is_some_and(|v| v != h) {
            self.viewport_h.set(h);
        }
    }
}

/// The scroll area's height: its CSS max-height (min(62vh, 720px)), or more if it was made
/// taller. When it is shorter than that, all rows fit anyway, so this never renders too few.
fn max_height() -> f64 {
    window()
        .inner_height()
        .ok()
        .and_then(|v| v.as_f64())
        .map_or(720.0, |h| (h * 0.62).min(720.0))
}

pub(super) fn use_row_window(runs: RwSignal<Vec<Arc<RunInfo>>>, table: TableRows) -> RowWindow {
    let rows = table.rows;
    let scroller = NodeRef::<leptos::html::Div>::new();
    let scroll_top = RwSignal::new(0.0f64);
    let viewport_h = RwSignal::new(max_height());
    let win = Memo::new(move |_| {
        virt::window(
            rows.with(Vec::len),
            ROW_H,
            scroll_top.get(),
            viewport_h.get(),
            OVERSCAN,
        )
    });
    let visible = Memo::new(move |_| {
        let w = win.get();
        rows.with(|rows| {
            runs.with(|l| {
                rows[w.start..w.end]
                    .iter()
                    .map(|r| match r {
                        Row::Group {
                            value,
                            count,
                            collapsed,
                        } => VisRow::Group {
                            value: value.clone(),
                            count: *count,
                            collapsed: *collapsed,
                        },
                        Row::Run(i) => VisRow::Run(RunRef(l[*i as usize].clone())),
                    })
                    .collect::<Vec<VisRow>>()
            })
        })
    });
    let window_rows = RowWindow {
        scroller,
        scroll_top,
        viewport_h,
        win,
        visible,
    };
    let resize_handle = window_event_listener(ev::resize, move |_| window_rows.measure());
    on_cleanup(move || resize_handle.remove());
    // A new filter, sort or grouping starts at the top.
    let (active, sort_spec, group_by) = (table.active, table.sort_spec, table.group_by);
    Effect::new(move |first: Option<()>| {
        active.track();
        sort_spec.track();
        group_by.track();
        if first.is_some()
            && let Some(el) = scroller.get_untracked()
        {
            el.set_scroll_top(0);
            scroll_top.set(0.0);
        }
    });
    window_rows
}
