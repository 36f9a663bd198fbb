//! The one painter of the drawn media views: a [`Rendered`] frame (shapes from
//! [`crate::charts::figure`]) painted on a canvas with the 2-D API at the screen's pixel ratio,
//! and [`ShapeCanvas`], a canvas that sizes itself to its box, redraws when its frame's inputs
//! change and shows the hover read-out of the target under the pointer.

use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ResizeObserver};

use crate::charts::figure::{Align, HoverTarget, Rendered, Shape, hover_at};

/// Sizes `canvas` to `w` × `h` CSS pixels at the device pixel ratio and returns its context,
/// scaled so shapes are given in CSS pixels.
pub fn prepare(canvas: &HtmlCanvasElement, w: f64, h: f64) -> Option<CanvasRenderingContext2d> {
    let dpr = window().device_pixel_ratio().clamp(1.0, 3.0);
    crate::browser::size_canvas(canvas, (w * dpr).round() as u32, (h * dpr).round() as u32);
    let ctx = crate::browser::context_2d(canvas)?;
    let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
    Some(ctx)
}

/// Sets the fill style unless it is already `css` (the same style is set for runs of shapes).
fn set_fill(ctx: &CanvasRenderingContext2d, fill: &mut String, css: String) {
    if css != *fill {
        ctx.set_fill_style_str(&css);
        *fill = css;
    }
}

/// Paints every shape in order.
pub fn paint(ctx: &CanvasRenderingContext2d, frame: &Rendered) {
    let mut fill = String::new();
    let dash = js_sys::Array::of2(&JsValue::from(4.0), &JsValue::from(3.0));
    let solid = js_sys::Array::new();
    for s in &frame.shapes {
        match s {
            Shape::Rect { x, y, w, h, color } => {
                set_fill(ctx, &mut fill, color.css());
                ctx.fill_rect(*x, *y, *w, *h);
            }
            Shape::Fill { pts, color } => {
                if pts.len() < 3 {
                    continue;
                }
                set_fill(ctx, &mut fill, color.css());
                ctx.begin_path();
                ctx.move_to(pts[0].0, pts[0].1);
                for p in &pts[1..] {
                    ctx.line_to(p.0, p.1);
                }
                ctx.close_path();
                ctx.fill();
            }
            Shape::Line {
                pts,
                color,
                width,
                dash: dashed,
            } => {
                if pts.len() < 2 {
                    continue;
                }
                ctx.set_stroke_style_str(&color.css());
                ctx.set_line_width(*width);
                let _ = ctx.set_line_dash(if *dashed { &dash } else { &solid });
                ctx.begin_path();
                ctx.move_to(pts[0].0, pts[0].1);
                for p in &pts[1..] {
                    ctx.line_to(p.0, p.1);
                }
                ctx.stroke();
            }
            Shape::Dot { x, y, r, color } => {
                set_fill(ctx, &mut fill, color.css());
                ctx.begin_path();
                let _ = ctx.arc(*x, *y, *r, 0.0, std::f64::consts::TAU);
                ctx.fill();
            }
            Shape::Text {
                x,
                y,
                text,
                color,
                align,
                size,
                vertical,
            } => {
                set_fill(ctx, &mut fill, color.css());
                ctx.set_font(&format!("{size}px system-ui, -apple-system, sans-serif"));
                ctx.set_text_align(match align {
                    Align::Left => "left",
                    Align::Center => "center",
                    Align::Right => "right",
                });
                ctx.set_text_baseline("middle");
                if *vertical {
                    ctx.save();
                    let _ = ctx.translate(*x, *y);
                    let _ = ctx.rotate(-std::f64::consts::FRAC_PI_2);
                    let _ = ctx.fill_text(text, 0.0, 0.0);
                    ctx.restore();
                } else {
                    let _ = ctx.fill_text(text, *x, *y);
                }
            }
            Shape::Clip { x, y, w, h } => {
                ctx.save();
                ctx.begin_path();
                ctx.rect(*x, *y, *w, *h);
                ctx.clip();
            }
            Shape::Unclip => {
                ctx.restore();
                // `restore` brought back the fill style saved with the clip.
                fill.clear();
            }
        }
    }
    let _ = ctx.set_line_dash(&solid);
}

/// Says what is at `(x, y)` of a canvas `width` × `height` CSS pixels, when anything.
pub type HoverText = Callback<(f64, f64, f64, f64), Option<String>>;

type Observer = (ResizeObserver, Closure<dyn FnMut(js_sys::Array)>);

/// Watches `el`'s width into `width` for as long as the view lives.
pub fn track_width(el: NodeRef<html::Div>, width: RwSignal<f64>) {
    let observer: StoredValue<Option<Observer>, LocalStorage> = StoredValue::new_local(None);
    Effect::new(move |_| {
        let Some(el) = el.get() else { return };
        if observer.with_value(Option::is_some) {
            return;
        }
        width.set(el.get_bounding_client_rect().width());
        let target = el.clone();
        let cb = Closure::<dyn FnMut(js_sys::Array)>::new(move |_entries: js_sys::Array| {
            let w = target.get_bounding_client_rect().width();
            if width
                .try_get_untracked()
                .is_some_and(|old| (old - w).abs() >= 1.0)
            {
                width.try_set(w);
            }
        });
        if let Ok(ro) = ResizeObserver::new(cb.as_ref().unchecked_ref()) {
            ro.observe(&el);
            observer.set_value(Some((ro, cb)));
        }
    });
    on_cleanup(move || {
        observer.with_value(|o| {
            if let Some((ro, _)) = o {
                ro.disconnect();
            }
        });
    });
}

/// The pointer's place on a canvas in CSS pixels.
pub fn pointer(ev: &web_sys::MouseEvent) -> (f64, f64) {
    (f64::from(ev.offset_x()), f64::from(ev.offset_y()))
}

/// A canvas as wide as its box and `height` tall, drawing `frame(width, height)` again whenever
/// what `frame` reads changes or the box is resized; the hover read-out names the target under
/// the pointer, or else what `hover(x, y, width, height)` says (for views with too many cells to
/// list as targets). `on_pointer` hears `(x, y, width)` as the pointer moves and `None` as it
/// leaves.
#[component]
pub fn ShapeCanvas(
    frame: impl Fn(f64, f64) -> Rendered + 'static,
    #[prop(into, default = Signal::stored(300.0))] height: Signal<f64>,
    #[prop(optional, into)] on_pointer: Option<Callback<Option<(f64, f64, f64)>>>,
    #[prop(optional, into)] hover: Option<HoverText>,
    #[prop(into)] testid: String,
) -> impl IntoView {
    let body = NodeRef::<html::Div>::new();
    let canvas = NodeRef::<html::Canvas>::new();
    let width = RwSignal::new(0.0);
    let targets = StoredValue::new(Vec::<HoverTarget>::new());
    let readout = RwSignal::new(String::new());
    track_width(body, width);
    Effect::new(move |_| {
        let (w, height) = (width.get(), height.get());
        let r = frame(w, height);
        let Some(c) = canvas.get() else { return };
        if w < 10.0 {
            return;
        }
        if let Some(ctx) = prepare(&c, w, height) {
            paint(&ctx, &r);
        }
        targets.set_value(r.hover);
    });
    let on_move = move |ev: web_sys::MouseEvent| {
        let (x, y) = pointer(&ev);
        let text = targets
            .with_value(|t| hover_at(t, x, y, 10.0).map(|t| t.text.clone()))
            .or_else(|| {
                hover.and_then(|h| h.run((x, y, width.get_untracked(), height.get_untracked())))
            });
        readout.set(text.unwrap_or_default());
        if let Some(cb) = on_pointer {
            cb.run(Some((x, y, width.get_untracked())));
        }
    };
    let on_leave = move |_| {
        readout.set(String::new());
        if let Some(cb) = on_pointer {
            cb.run(None);
        }
    };
    view! {
        <div class="media-canvas" node_ref=body style=move || format!("position:relative;height:{}px", height.get())>
            <canvas
                node_ref=canvas
                data-testid=testid
                style="display:block;width:100%;height:100%;cursor:crosshair"
                on:mousemove=on_move
                on:mouseleave=on_leave
            ></canvas>
        </div>
        <div class="chart-readout" data-testid="media-readout" style="min-height:16px;margin-left:0">
            {move || readout.get()}
        </div>
    }
}
