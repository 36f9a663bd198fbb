//! Pins on a chart (issue 9): the comment threads anchored to this chart's metric whose x axis is
//! the chart's, drawn as DOM markers (a point) or shaded bands (a range) over the canvas, placed
//! by [`crate::charts::pins`]. Clicking a marker's head, or the plot near it, opens its thread.
//! The Pin button arms pin mode: a click on the plot pins a point (snapped to the nearest drawn
//! point), a drag pins a range; a "new comment" box then sends `ThreadCreate`.
//!
//! Cost: without annotations in context (or without pins of this chart) a frame does one
//! `is_empty` check; pins never touch the chart's data or cause a refetch. With pins, a full frame
//! updates one geometry signal when the plot box or x window changed, and the markers follow.
//!
//! Test ids: `pin-mode` (the Pin button), `pin-marker` / `pin-band` (`data-thread`, `data-run`,
//! `data-x0`, `data-x1`), `pin-head`, `pin-thread` (the open thread), `pin-new`, `pin-run`,
//! `pin-x0`, `pin-x1`, `pin-text`, `pin-save`, `pin-cancel`, `pin-error`.

use super::*;
use crate::annotations::model::Pin;
use crate::annotations::store::new_id;
use crate::annotations::{Annotations, ThreadCard, use_annotations};
use crate::charts::pins::{self as geo, PlotGeom, Shape};
use trackline_shared::annotations::{Anchor, Op};

/// The "new comment" box of a pin being made.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct NewPin {
    run: String,
    x0: String,
    x1: String,
    /// Where the box opens (CSS px from the chart's left).
    at_px: f64,
}

/// A chart's pins: what to draw, where, and the boxes open.
#[derive(Clone, Copy)]
pub(super) struct Pins {
    store: Option<Annotations>,
    list: Memo<Vec<Pin>>,
    geom: RwSignal<Option<PlotGeom>>,
    pub(super) mode: RwSignal<bool>,
    new: RwSignal<Option<NewPin>>,
    open: RwSignal<Option<(String, f64)>>,
    /// The run page's artifact checkpoints, placed with the same geometry.
    checkpoints: Option<crate::artifacts::checkpoints::Checkpoints>,
}

impl Pins {
    /// The pins of `key` on runs shown (not hidden) in this chart, on its x axis.
    pub(super) fn new(
        key: String,
        runs: Signal<Vec<RunRef>>,
        settings: Signal<ChartSettings>,
        hidden: RwSignal<BTreeSet<String>>,
    ) -> Pins {
        let store = use_annotations();
        let list = Memo::new(move |_| {
            let Some(a) = store else { return Vec::new() };
            let mut pins = a.model.with(|m| m.pins_of_key(&key));
            if pins.is_empty() {
                return pins;
            }
            let axis = settings.with(geo::axis_of);
            runs.with(|rs| {
                hidden.with(|h| {
                    pins.retain(|p| {
                        p.x_axis == axis && !h.contains(&p.run) && rs.iter().any(|r| r.id == p.run)
                    })
                })
            });
            pins
        });
        Pins {
            store,
            list,
            geom: RwSignal::new(None),
            mode: RwSignal::new(false),
            new: RwSignal::new(None),
            open: RwSignal::new(None),
            checkpoints: crate::artifacts::checkpoints::use_checkpoints(),
        }
    }

    /// Whether anything pin-related is on this chart (checked once per full frame).
    fn active(&self) -> bool {
        self.list.with_untracked(|l| !l.is_empty())
            || self.new.with_untracked(Option::is_some)
            || self.open.with_untracked(Option::is_some)
            || self.checkpoints.is_some_and(|c| c.any_untracked())
    }
}

impl ChartHandle {
    /// After a full frame: moves the pins with the plot (nothing to do without pins).
    pub(super) fn pins_after_frame(self) {
        if !self.pins.active() {
            return;
        }
        self.update_pin_geom();
    }

    fn update_pin_geom(self) {
        let g = self.with_frame(PlotGeom::of);
        if self.pins.geom.with_untracked(|old| *old != g) {
            self.pins.geom.set(g);
        }
    }

    /// Pins that appear after the frame was drawn are placed on it at once.
    pub(super) fn watch_pins(self) {
        let checkpoints = self.pins.checkpoints;
        if self.pins.store.is_none() && checkpoints.is_none() {
            return;
        }
        Effect::new(move |_| {
            let marks = checkpoints.is_some_and(|c| c.marks.with(|m| !m.is_empty()));
            if (self.pins.list.with(|l| !l.is_empty()) || marks) && self.alive() {
                self.update_pin_geom();
            }
        });
    }

    /// A click (no drag) on the plot: opens the thread of the pin under it. Returns whether one
    /// was hit.
    pub(super) fn pin_click(self, px: f64, py: f64) -> bool {
        let Some(g) = self.pins.geom.get_untracked() else {
            return false;
        };
        let pins = self.pins.list.get_untracked();
        let placed: Vec<(usize, Shape)> = pins
            .iter()
            .enumerate()
            .filter_map(|(i, p)| geo::place(p.x0, p.x1, &g).map(|s| (i, s)))
            .collect();
        let shapes: Vec<Shape> = placed.iter().map(|(_, s)| *s).collect();
        let Some(k) = geo::hit(&shapes, px, py, &g) else {
            return false;
        };
        self.open_thread(pins[placed[k].0].thread.clone(), px);
        true
    }

    fn open_thread(self, thread: String, px: f64) {
        self.pins.new.set(None);
        if let Some(a) = self.pins.store {
            let n = a
                .focus
                .with_untracked(|f| f.as_ref().map_or(0, |f| f.1 + 1));
            a.focus.set(Some((thread.clone(), n)));
        }
        self.pins.open.set(Some((thread, px)));
        self.update_pin_geom();
    }

    /// The end of a gesture in pin mode: a click pins a point, a drag a range.
    pub(super) fn pin_gesture(self, px0: f64, py0: f64, px1: f64) {
        self.pins.mode.set(false);
        let step_axis = self.settings.with_untracked(|s| geo::axis_of(s) == "_step");
        let picked = self.with_frame(|f| {
            let g = PlotGeom::of(f);
            // The run drawn nearest the pointer, and its point's x for a click.
            let near = plot::hover(f, px0, 4)
                .into_iter()
                .filter(|r| r.y_px.is_some())
                .min_by(|a, b| {
                    let da = (a.y_px.unwrap_or(0.0) - py0).abs();
                    let db = (b.y_px.unwrap_or(0.0) - py0).abs();
                    da.total_cmp(&db)
                });
            let run = near.as_ref().map(|r| f.runs[r.run].id.clone());
            let xs = geo::gesture_x(px0, px1, &g, near.map(|r| r.x), step_axis);
            (run, xs)
        });
        let Some((run, Some((x0, x1)))) = picked else {
            return;
        };
        let run = run.or_else(|| {
            let hidden = self.hidden.get_untracked();
            self.runs
                .get_untracked()
                .into_iter()
                .find(|r| !hidden.contains(&r.id))
                .map(|r| r.id)
        });
        let Some(run) = run else { return };
        self.pins.open.set(None);
        self.pins.new.set(Some(NewPin {
            run,
            x0: geo::format_x(x0),
            x1: x1.map(geo::format_x).unwrap_or_default(),
            at_px: px0.min(px1),
        }));
        self.update_pin_geom();
    }

    /// The chart header's Pin button (only where annotations are loaded).
    pub(super) fn pin_button(self) -> impl IntoView {
        let mode = self.pins.mode;
        self.pins.store.map(|a| {
            view! {
                <button
                    class="lc-btn"
                    class:ann-off=move || !a.writer.get()
                    class:active=move || mode.get()
                    data-testid="pin-mode"
                    title="Pin a comment: click a point or drag a range on the chart"
                    on:click=move |_| mode.update(|m| *m = !*m)
                >
                    "Pin"
                </button>
            }
        })
    }

    /// The run's checkpoint markers (on a step axis), over the canvas.
    pub(super) fn checkpoints_view(self) -> impl IntoView {
        let settings = self.settings;
        let step_axis = Signal::derive(move || settings.with(|s| geo::axis_of(s) == "_step"));
        self.pins.checkpoints.map(|checkpoints| {
            view! {
                <crate::artifacts::checkpoints::CheckpointMarks
                    checkpoints
                    geom=self.pins.geom
                    step_axis
                    runs=self.runs
                />
            }
        })
    }

    /// Markers, bands and the open boxes, over the canvas.
    pub(super) fn pins_view(self) -> impl IntoView {
        let Some(a) = self.pins.store else {
            return ().into_any();
        };
        let pins = self.pins;
        let marks = move || {
            let g = pins.geom.get()?;
            let list = pins.list.get();
            if list.is_empty() {
                return None;
            }
            let (top, h) = (g.plot.top, g.plot.height);
            Some(
                list.into_iter()
                    .filter_map(|p| geo::place(p.x0, p.x1, &g).map(|s| (p, s)))
                    .map(|(p, s)| {
                        let (class, testid, left, width) = match s {
                            Shape::Marker { px } => ("pin-marker", "pin-marker", px, 0.0),
                            Shape::Band { left, right, .. } => ("pin-band", "pin-band", left, right - left),
                        };
                        let thread = p.thread.clone();
                        let head_at = left;
                        view! {
                            <div
                                class=class
                                class:resolved=p.resolved
                                data-testid=testid
                                data-thread=p.thread.clone()
                                data-run=p.run.clone()
                                data-x0=geo::format_x(p.x0)
                                data-x1=p.x1.map(geo::format_x).unwrap_or_default()
                                style=format!("left:{left}px;width:{width}px;top:{top}px;height:{h}px")
                            >
                                <button
                                    class="pin-head"
                                    data-testid="pin-head"
                                    title=p.title.clone()
                                    aria-label="Open this pin's thread"
                                    on:click=move |_| self.open_thread(thread.clone(), head_at)
                                ></button>
                            </div>
                        }
                    })
                    .collect_view(),
            )
        };
        let width = move || self.st.with_value(|st| st.view.size.0);
        let place_box = move |px: f64| {
            let w = width();
            if px > w * 0.5 {
                format!("right:{}px", (w - px).max(0.0))
            } else {
                format!("left:{}px", px.max(0.0))
            }
        };
        let open = move || {
            pins.open.get().map(|(thread, px)| {
                view! {
                    <div class="pin-pop" data-testid="pin-thread" style=place_box(px)>
                        <button class="lc-btn pin-close" title="Close" on:click=move |_| pins.open.set(None)>
                            "×"
                        </button>
                        <ThreadCard id=thread />
                    </div>
                }
            })
        };
        let text = RwSignal::new(String::new());
        let error = RwSignal::new(None::<String>);
        let busy = RwSignal::new(false);
        let save = move |_| {
            let Some(n) = pins.new.get_untracked() else {
                return;
            };
            let x0 = n.x0.trim().parse::<f64>().ok().filter(|v| v.is_finite());
            let x1 = match n.x1.trim() {
                "" => Ok(None),
                s => s
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .map(Some)
                    .ok_or(()),
            };
            let (Some(x0), Ok(x1)) = (x0, x1) else {
                error.set(Some("x must be a number".into()));
                return;
            };
            let body = text.get_untracked();
            if body.trim().is_empty() || busy.get_untracked() {
                return;
            }
            let op = Op::ThreadCreate {
                thread: new_id('t'),
                anchor: Anchor::Pin {
                    run: n.run.clone(),
                    key: self.key.get_value(),
                    x_axis: self.settings.with_untracked(geo::axis_of),
                    x0,
                    x1: x1.filter(|&b| b != x0),
                    y: None,
                },
                comment: new_id('c'),
                text: body,
            };
            busy.set(true);
            error.set(None);
            spawn_local(async move {
                let res = a.send(op).await;
                busy.try_set(false);
                match res {
                    Ok(_) => {
                        text.try_set(String::new());
                        pins.new.try_set(None);
                    }
                    Err(e) => {
                        error.try_set(Some(format!("Not saved (your text is kept): {e}")));
                    }
                }
            });
        };
        let edit = move |f: fn(&mut NewPin, String)| {
            move |ev: web_sys::Event| {
                let v = event_target_value(&ev);
                pins.new.update_untracked(|n| {
                    if let Some(n) = n {
                        f(n, v);
                    }
                });
            }
        };
        let new_box = move || {
            let n = pins.new.get()?;
            let runs = self.runs.get_untracked();
            let choices = (runs.len() > 1).then(|| {
                let chosen = n.run.clone();
                view! {
                    <label class="muted">
                        "run "
                        <select data-testid="pin-run" on:change=edit(|n, v| n.run = v)>
                            {runs
                                .iter()
                                .map(|r| {
                                    view! {
                                        <option value=r.id.clone() selected=r.id == chosen>
                                            {r.name.clone()}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                    </label>
                }
            });
            let axis = geo::axis_label(&self.settings.with_untracked(geo::axis_of)).to_string();
            Some(view! {
                <div class="pin-pop pin-new" data-testid="pin-new" style=place_box(n.at_px)>
                    <div class="pin-new-head">
                        <strong>{format!("New comment on {}", self.key.get_value())}</strong>
                    </div>
                    {choices}
                    <div class="pin-new-x">
                        <label class="muted">
                            {format!("{axis} ")}
                            <input type="text" inputmode="decimal" data-testid="pin-x0" value=n.x0.clone() on:input=edit(|n, v| n.x0 = v) />
                        </label>
                        <label class="muted">
                            " to "
                            <input type="text" inputmode="decimal" data-testid="pin-x1" placeholder="(a point)" value=n.x1.clone() on:input=edit(|n, v| n.x1 = v) />
                        </label>
                    </div>
                    <textarea
                        class="comment-input"
                        data-testid="pin-text"
                        rows="3"
                        placeholder="What happened here? (markdown)"
                        prop:value=move || text.get()
                        on:input=move |ev| text.set(event_target_value(&ev))
                    ></textarea>
                    <div class="note-actions">
                        <button class="btn primary" data-testid="pin-save" disabled=move || busy.get() on:click=save>
                            "Pin"
                        </button>
                        <button class="btn" data-testid="pin-cancel" on:click=move |_| { pins.new.set(None); error.set(None); }>
                            "Cancel"
                        </button>
                    </div>
                    {move || error.get().map(|e| view! { <div class="note-error" data-testid="pin-error">{e}</div> })}
                </div>
            })
        };
        view! {
            {marks}
            {open}
            {new_box}
        }
        .into_any()
    }
}
