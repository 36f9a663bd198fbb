//! What a chart scrolled out of view keeps: its pixels and frame go at once (a full frame is
//! rebuilt in milliseconds when it comes back), its points while the charts out of view hold
//! under [`OFFSCREEN_BUDGET_BYTES`] together, the least recently seen released first (it fetches
//! again when scrolled back). A workspace of 500 panels × 50 runs held ~2.4 GB of WASM memory
//! once every panel had been seen; now what it holds is the panels in view plus the budget.

use super::*;
use std::cell::RefCell;

/// Bytes of points the charts out of view may hold together (a test sets another with
/// `window.__trackline_offscreen_budget`).
pub(super) const OFFSCREEN_BUDGET_BYTES: usize = 192 << 20;

fn budget() -> usize {
    js_sys::Reflect::get(
        &window(),
        &JsValue::from_str("__trackline_offscreen_budget"),
    )
    .ok()
    .and_then(|v| v.as_f64())
    .map_or(OFFSCREEN_BUDGET_BYTES, |b| b.max(0.0) as usize)
}

/// Bytes one decimated column of one run takes (counts, x, first/last/min/max, where the
/// extremes are).
const BYTES_PER_COLUMN: usize = 3 * 4 + 6 * 8 + 2 * 16;

thread_local! {
    /// The charts out of view that still hold points, least recently seen first, with the
    /// bytes they held when they left.
    static OUT_OF_VIEW: RefCell<Vec<(u64, ChartHandle, usize)>> = const { RefCell::new(Vec::new()) };
}

impl ChartHandle {
    /// The chart left the view: drops its pixels now, and the points of the charts out of view
    /// longest while they hold more than the budget.
    pub(super) fn left_view(self) {
        self.release(false);
        let bytes = self.held_bytes();
        let budget = budget();
        let evicted = OUT_OF_VIEW.with(|q| {
            let mut q = q.borrow_mut();
            q.retain(|(id, _, _)| *id != self.id);
            q.push((self.id, self, bytes));
            let mut total: usize = q.iter().map(|(_, _, b)| b).sum();
            let mut evicted = Vec::new();
            while total > budget && !q.is_empty() {
                let (_, chart, b) = q.remove(0);
                total -= b;
                evicted.push(chart);
            }
            evicted
        });
        for chart in evicted {
            if chart.alive() {
                chart.release(true);
            }
        }
    }

    /// The chart is in view again (or gone): it is no longer counted out of view.
    pub(super) fn forget_out_of_view(self) {
        OUT_OF_VIEW.with(|q| q.borrow_mut().retain(|(id, _, _)| *id != self.id));
    }

    fn held_bytes(self) -> usize {
        self.st
            .try_with_value(|st| {
                st.data
                    .slots
                    .iter()
                    .map(|s| s.data.buckets.len() * BYTES_PER_COLUMN + s.data.tail_len() * 16)
                    .sum()
            })
            .unwrap_or(0)
    }

    /// Drops the chart's pixels and frame and, with `points`, its points and live
    /// subscriptions (the next time it is in view it fetches them again; its zoom is kept).
    pub(super) fn release(self, points: bool) {
        let mut unsub = Vec::new();
        let released = self.st.try_update_value(|st| {
            st.view.raster = Raster::default();
            st.view.frame = None;
            st.view.frame_slots = Vec::new();
            st.view.groups = Vec::new();
            st.schedule.full = true;
            st.schedule.dirty = true;
            if points && st.data.started {
                for s in &mut st.data.slots {
                    unsub.extend(s.sub.take());
                    s.data = SeriesState::default();
                    s.drawn_tail = 0;
                }
                st.data.epoch += 1;
                st.data.generation += 1;
                st.data.started = false;
                st.view.auto_x = None;
            }
        });
        if released.is_none() {
            return;
        }
        for id in unsub {
            ws::unsubscribe(id);
        }
        // The canvas's own pixels (the browser's memory) too: it is sized again when drawn. The
        // previews' copy of the plot goes with them (taken again at the next preview).
        if let Some(canvas) = self.canvas.get_untracked() {
            canvas.set_width(0);
            canvas.set_height(0);
        }
        self.drop_snapshot();
        if points {
            self.phase.set(Phase::Loading);
            self.update_points();
        }
    }
}
