//! Reordering blocks by HTML5 drag and drop: a block's handle starts the drag, a drop on the
//! upper or lower half of another block sends `block_move` with the `after` that puts it there
//! ([`super::order::drop_after`]). The up/down buttons of a block are the keyboard's way.
//!
//! Markers: the dragged block has class `dragging`; the block under the pointer `drop-above` or
//! `drop-below`.

use leptos::prelude::*;
use trackline_shared::annotations::Op;
use web_sys::DragEvent;

use super::{ReportCtx, order};

/// The drag in progress on one report page.
#[derive(Clone, Copy)]
pub struct Drag {
    pub dragging: RwSignal<Option<String>>,
    /// The block under the pointer, and whether the drop would go below it.
    pub over: RwSignal<Option<(String, bool)>>,
}

impl Drag {
    pub fn new() -> Drag {
        Drag {
            dragging: RwSignal::new(None),
            over: RwSignal::new(None),
        }
    }

    pub fn start(self, ev: &DragEvent, block: &str) {
        if let Some(dt) = ev.data_transfer() {
            let _ = dt.set_data("text/plain", block);
            dt.set_effect_allowed("move");
        }
        self.dragging.set(Some(block.to_string()));
    }

    pub fn end(self) {
        self.dragging.set(None);
        self.over.set(None);
    }

    /// Over `block`: a drop is allowed when another block is being dragged.
    pub fn over(self, ev: &DragEvent, block: &str) {
        let Some(dragged) = self.dragging.get_untracked() else {
            return;
        };
        ev.prevent_default();
        if dragged == block {
            self.over.set(None);
            return;
        }
        let below = below_half(ev);
        if self.over.get_untracked() != Some((block.to_string(), below)) {
            self.over.set(Some((block.to_string(), below)));
        }
    }

    /// Dropped on `block`: moves the dragged block above or below it.
    pub fn drop(self, ctx: ReportCtx, ev: &DragEvent, block: &str) {
        ev.prevent_default();
        let dragged = self.dragging.get_untracked();
        self.end();
        let Some(dragged) = dragged else { return };
        let ids: Vec<String> = ctx
            .report()
            .map(|r| r.blocks.iter().map(|b| b.id.clone()).collect())
            .unwrap_or_default();
        if let Some(after) = order::drop_after(&ids, &dragged, block, below_half(ev)) {
            move_block(ctx, dragged, after);
        }
    }
}

impl Default for Drag {
    fn default() -> Self {
        Drag::new()
    }
}

/// Sends `block_move`.
pub fn move_block(ctx: ReportCtx, block: String, after: Option<String>) {
    let op = Op::BlockMove {
        report: ctx.report.get_value(),
        block,
        after,
    };
    ctx.send(op, |_| {});
}

fn below_half(ev: &DragEvent) -> bool {
    use wasm_bindgen::JsCast;
    let Some(el) = ev
        .current_target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
    else {
        return true;
    };
    let r = el.get_bounding_client_rect();
    f64::from(ev.client_y()) > r.top() + r.height() / 2.0
}
