//! Presence on a chart: this chart's pointer is shared in data coordinates
//! ([`ChartHandle::share_cursor`]), and the pointers of other people on a chart of the same metric
//! and x axis are drawn over it ([`peer_cursors`]), wherever this chart's zoom puts them.
//!
//! Test id: `peer-cursor` (with `data-conn`, `data-label`, `data-x`, `data-y`: the data
//! coordinates).

use super::ChartHandle;
use crate::presence::{self, view::x_axis_name};
use leptos::prelude::*;
use trackline_shared::presence::Cursor;

impl ChartHandle {
    /// The axis name cursors of this chart are shared under.
    fn cursor_axis(self) -> String {
        self.settings
            .with_untracked(|s| x_axis_name(s.x, s.x_key.as_deref()))
    }

    /// The pointer is at CSS pixel (`x`, `y`) of the canvas: shared when inside the plot, else
    /// withdrawn.
    pub(super) fn share_cursor(self, x: f64, y: f64) {
        let at = self.with_frame(|f| {
            let inside =
                x >= f.plot.left && x <= f.plot.right() && y >= f.plot.top && y <= f.plot.bottom();
            inside.then(|| (f.x.from_px(x), f.y.from_px(y)))
        });
        let cursor = at.flatten().filter(|(x, y)| x.is_finite() && y.is_finite());
        presence::set_cursor(cursor.map(|(x, y)| Cursor {
            key: self.key.get_value(),
            x_axis: self.cursor_axis(),
            x,
            y,
        }));
    }
}

/// The other people's pointers on this chart's metric and x axis, as dots with their label.
pub(super) fn peer_cursors(c: ChartHandle) -> impl IntoView {
    let Some(p) = presence::presence() else {
        return ().into_any();
    };
    let key = c.key.get_value();
    let here = Memo::new(move |_| {
        let axis = c.settings.with(|s| x_axis_name(s.x, s.x_key.as_deref()));
        p.peers.with(|peers| {
            peers
                .values()
                .filter_map(|peer| {
                    let cur = peer.state.cursor.as_ref()?;
                    (cur.key == key && cur.x_axis == axis).then(|| {
                        (
                            peer.conn,
                            peer.label.clone(),
                            peer.color.clone(),
                            cur.x,
                            cur.y,
                        )
                    })
                })
                .collect::<Vec<_>>()
        })
    });
    (move || {
        // Redrawn frames (zoom, pan, resize, new data) move the dots.
        c.frames.track();
        here.get()
            .into_iter()
            .filter_map(|(conn, label, color, x, y)| {
                let (px, py) = c.with_frame(|f| {
                    let (px, py) = (f.x.to_px(x), f.y.to_px(y));
                    let inside = px >= f.plot.left
                        && px <= f.plot.right()
                        && py >= f.plot.top
                        && py <= f.plot.bottom();
                    inside.then_some((px, py))
                })??;
                Some(view! {
                    <div
                        class="peer-cursor"
                        data-testid="peer-cursor"
                        data-conn=conn.to_string()
                        data-label=label.clone()
                        data-x=x.to_string()
                        data-y=y.to_string()
                        style=format!(
                            "position:absolute;pointer-events:none;left:{}px;top:{}px;width:9px;height:9px;margin:-5px 0 0 -5px;border-radius:50%;border:2px solid #fff;background:{color}",
                            px, py,
                        )
                    >
                        <span style=format!(
                            "position:absolute;left:10px;top:-4px;white-space:nowrap;font-size:10px;line-height:14px;padding:0 3px;border-radius:3px;color:#fff;background:{color}",
                        )>{label.clone()}</span>
                    </div>
                })
            })
            .collect_view()
    })
    .into_any()
}
