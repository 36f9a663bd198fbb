//! Masks and boxes over a logged image (W&B's `masks` and `boxes`): reading a `boxes2D` file,
//! the colour of a class, and painting both onto a canvas the size of the image, with classes
//! toggled, an opacity and a least box score chosen in the panel.

use leptos::prelude::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use trackline_shared::chart::PALETTE;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, HtmlImageElement, ImageData};

/// The overlay choices of one media panel, shared by every image in it.
#[derive(Clone, Copy)]
pub struct OverlayOptions {
    pub show_masks: RwSignal<bool>,
    pub show_boxes: RwSignal<bool>,
    /// Mask opacity, 0..1.
    pub opacity: RwSignal<f64>,
    /// Boxes with a score below this (any of their scores) are hidden.
    pub min_score: RwSignal<f64>,
    /// (layer, class id) hidden by the user.
    pub hidden: RwSignal<BTreeSet<(String, i64)>>,
    /// Classes seen so far, by layer: class id → label.
    pub classes: RwSignal<BTreeMap<String, BTreeMap<i64, String>>>,
}

impl OverlayOptions {
    pub fn new() -> Self {
        OverlayOptions {
            show_masks: RwSignal::new(true),
            show_boxes: RwSignal::new(true),
            opacity: RwSignal::new(0.5),
            min_score: RwSignal::new(0.0),
            hidden: RwSignal::new(BTreeSet::new()),
            classes: RwSignal::new(BTreeMap::new()),
        }
    }

    /// Notes the classes of `layer` (ids with labels; a label already known is kept).
    pub fn learn(&self, layer: &str, labels: impl IntoIterator<Item = (i64, String)>) {
        let labels: Vec<_> = labels.into_iter().collect();
        let new = self.classes.with_untracked(|c| {
            labels
                .iter()
                .any(|(id, _)| c.get(layer).is_none_or(|l| !l.contains_key(id)))
        });
        if new {
            self.classes.update(|c| {
                let known = c.entry(layer.to_string()).or_default();
                for (id, label) in labels {
                    known.entry(id).or_insert(label);
                }
            });
        }
    }
}

impl Default for OverlayOptions {
    fn default() -> Self {
        Self::new()
    }
}

/// The colour of class `id`.
pub fn class_color(id: i64) -> &'static str {
    PALETTE[id.rem_euclid(PALETTE.len() as i64) as usize]
}

/// RGB of a `#rrggbb` colour.
fn rgb(hex: &str) -> [u8; 3] {
    let h = hex.trim_start_matches('#');
    let byte = |i: usize| u8::from_str_radix(h.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0);
    [byte(0), byte(2), byte(4)]
}

/// One box of a `boxes2D` file, in pixels of the image.
#[derive(Clone, Debug, PartialEq)]
pub struct Box2d {
    pub min_x: f64,
    pub min_y: f64,
    pub max_x: f64,
    pub max_y: f64,
    pub class_id: i64,
    pub caption: Option<String>,
    pub scores: Vec<(String, f64)>,
}

/// Reads a `boxes2D` file (`{"box_data": [...], "class_labels": {...}}`) for an image of
/// `width` × `height` pixels: positions as `minX/maxX/minY/maxY` or `middle` + `width`/`height`,
/// fractions of the image unless `"domain": "pixel"`. Boxes it cannot read are skipped.
pub fn parse_boxes(file: &Value, width: f64, height: f64) -> (Vec<Box2d>, Vec<(i64, String)>) {
    let labels = class_labels(file.get("class_labels"));
    let boxes = file
        .get("box_data")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|b| {
                    let pos = b.get("position")?;
                    let num = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64);
                    let (x0, y0, x1, y1) = match pos.get("middle").and_then(Value::as_array) {
                        Some(m) => {
                            let (mx, my) = (m.first()?.as_f64()?, m.get(1)?.as_f64()?);
                            let (w, h) = (num(pos, "width")?, num(pos, "height")?);
                            (mx - w / 2.0, my - h / 2.0, mx + w / 2.0, my + h / 2.0)
                        }
                        None => (
                            num(pos, "minX")?,
                            num(pos, "minY")?,
                            num(pos, "maxX")?,
                            num(pos, "maxY")?,
                        ),
                    };
                    let (sx, sy) = if b.get("domain").and_then(Value::as_str) == Some("pixel") {
                        (1.0, 1.0)
                    } else {
                        (width, height)
                    };
                    let scores = b
                        .get("scores")
                        .and_then(Value::as_object)
                        .map(|s| {
                            s.iter()
                                .filter_map(|(k, v)| Some((k.clone(), v.as_f64()?)))
                                .collect()
                        })
                        .unwrap_or_default();
                    Some(Box2d {
                        min_x: x0 * sx,
                        min_y: y0 * sy,
                        max_x: x1 * sx,
                        max_y: y1 * sy,
                        class_id: b.get("class_id").and_then(Value::as_i64).unwrap_or(0),
                        caption: b
                            .get("box_caption")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                        scores,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    (boxes, labels)
}

/// `{"1": "cat", ...}` as (id, label) pairs.
pub fn class_labels(v: Option<&Value>) -> Vec<(i64, String)> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.parse().ok()?, v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a box is shown: its class is not hidden and every score reaches `min_score`.
pub fn box_shown(b: &Box2d, layer: &str, hidden: &BTreeSet<(String, i64)>, min_score: f64) -> bool {
    !hidden.contains(&(layer.to_string(), b.class_id))
        && b.scores.iter().all(|(_, s)| *s >= min_score)
}

/// Colours the pixels of a mask (one class id per pixel, in the red channel of `mask`, RGBA)
/// into `out` (RGBA of the same size): each shown class in its colour at `opacity`, hidden
/// classes transparent.
pub fn colour_mask(mask: &[u8], out: &mut [u8], hidden: &dyn Fn(i64) -> bool, opacity: f64) {
    let alpha = (opacity.clamp(0.0, 1.0) * 255.0).round() as u8;
    let mut lut = [[0u8; 4]; 256];
    for (id, slot) in lut.iter_mut().enumerate() {
        if !hidden(id as i64) {
            let [r, g, b] = rgb(class_color(id as i64));
            *slot = [r, g, b, alpha];
        }
    }
    for (px, o) in mask.chunks_exact(4).zip(out.chunks_exact_mut(4)) {
        o.copy_from_slice(&lut[px[0] as usize]);
    }
}

/// A loaded mask layer: its name and image.
pub type MaskImage = (String, HtmlImageElement);
/// A loaded box layer: its name and boxes.
pub type BoxLayer = (String, Vec<Box2d>);

/// Paints `masks` and `boxes` onto `canvas` (sized to the image: `width` × `height`).
pub fn paint(
    canvas: &HtmlCanvasElement,
    (width, height): (u32, u32),
    masks: &[MaskImage],
    boxes: &[BoxLayer],
    opts: OverlayOptions,
) {
    crate::browser::size_canvas(canvas, width, height);
    let Some(ctx) = crate::browser::context_2d(canvas) else {
        return;
    };
    ctx.clear_rect(0.0, 0.0, f64::from(width), f64::from(height));
    let hidden = opts.hidden.get_untracked();
    if opts.show_masks.get_untracked() {
        let opacity = opts.opacity.get_untracked();
        for (layer, img) in masks {
            paint_mask(
                &ctx,
                img,
                (width, height),
                &|id| hidden.contains(&(layer.clone(), id)),
                opacity,
            );
        }
    }
    if opts.show_boxes.get_untracked() {
        let min_score = opts.min_score.get_untracked();
        let line = (f64::from(width.max(height)) / 200.0).max(1.0);
        ctx.set_line_width(line);
        ctx.set_font(&format!("{}px sans-serif", (line * 10.0).round()));
        for (layer, items) in boxes {
            for b in items
                .iter()
                .filter(|b| box_shown(b, layer, &hidden, min_score))
            {
                let color = class_color(b.class_id);
                ctx.set_stroke_style_str(color);
                ctx.stroke_rect(b.min_x, b.min_y, b.max_x - b.min_x, b.max_y - b.min_y);
                if let Some(c) = &b.caption {
                    ctx.set_fill_style_str(color);
                    let _ = ctx.fill_text(c, b.min_x + line, (b.min_y - line).max(line * 10.0));
                }
            }
        }
    }
}

fn paint_mask(
    ctx: &CanvasRenderingContext2d,
    img: &HtmlImageElement,
    (width, height): (u32, u32),
    hidden: &dyn Fn(i64) -> bool,
    opacity: f64,
) {
    // The mask's pixels, read through a scratch canvas of the image's size.
    let Some(scratch) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("canvas").ok())
        .and_then(|e| e.dyn_into::<HtmlCanvasElement>().ok())
    else {
        return;
    };
    scratch.set_width(width);
    scratch.set_height(height);
    let Some(sctx) = crate::browser::context_2d(&scratch) else {
        return;
    };
    sctx.set_image_smoothing_enabled(false);
    let (w, h) = (f64::from(width), f64::from(height));
    if sctx
        .draw_image_with_html_image_element_and_dw_and_dh(img, 0.0, 0.0, w, h)
        .is_err()
    {
        return;
    }
    let Ok(data) = sctx.get_image_data(0.0, 0.0, w, h) else {
        return;
    };
    let mask = data.data();
    let mut out = vec![0u8; mask.len()];
    colour_mask(&mask, &mut out, hidden, opacity);
    if let Ok(colored) = ImageData::new_with_u8_clamped_array_and_sh(Clamped(&out), width, height) {
        sctx.put_image_data(&colored, 0.0, 0.0).ok();
        ctx.draw_image_with_html_canvas_element(&scratch, 0.0, 0.0)
            .ok();
    }
}

/// The panel's overlay controls: masks and boxes on/off, opacity, least score, and a toggle per
/// class of each layer (shown once any image of the panel has overlays).
#[component]
pub fn OverlayControls(opts: OverlayOptions) -> impl IntoView {
    let any = Memo::new(move |_| opts.classes.with(|c| !c.is_empty()));
    move || {
        any.get().then(|| {
            view! {
                <div class="media-overlays" data-testid="media-overlays">
                    <label>
                        <input type="checkbox" data-testid="media-show-masks"
                            prop:checked=move || opts.show_masks.get()
                            on:change=move |ev| opts.show_masks.set(event_target_checked(&ev)) />
                        " masks"
                    </label>
                    <label>
                        <input type="checkbox" data-testid="media-show-boxes"
                            prop:checked=move || opts.show_boxes.get()
                            on:change=move |ev| opts.show_boxes.set(event_target_checked(&ev)) />
                        " boxes"
                    </label>
                    <label title="Mask opacity">
                        "opacity "
                        <input type="range" min="0" max="1" step="0.05" data-testid="media-opacity"
                            prop:value=move || opts.opacity.get().to_string()
                            on:input=move |ev| {
                                if let Ok(v) = event_target_value(&ev).parse() {
                                    opts.opacity.set(v);
                                }
                            } />
                    </label>
                    <label title="Hide boxes with a score below this">
                        "min score "
                        <input type="number" step="0.05" class="media-score" data-testid="media-min-score"
                            prop:value=move || opts.min_score.get().to_string()
                            on:change=move |ev| {
                                if let Ok(v) = event_target_value(&ev).parse() {
                                    opts.min_score.set(v);
                                }
                            } />
                    </label>
                    {move || {
                        opts.classes.get().into_iter().map(|(layer, classes)| {
                            let chips = classes.into_iter().map(|(id, label)| {
                                let layer_c = layer.clone();
                                let key = (layer.clone(), id);
                                let key2 = key.clone();
                                let text = label.clone();
                                view! {
                                    <button
                                        class="media-class"
                                        data-testid="media-class"
                                        data-class=label.clone()
                                        data-layer=layer_c.clone()
                                        class:off=move || opts.hidden.with(|h| h.contains(&key))
                                        style=format!("--class-color: {}", class_color(id))
                                        title=format!("{layer_c}: class {id}")
                                        on:click=move |_| opts.hidden.update(|h| {
                                            if !h.remove(&key2) {
                                                h.insert(key2.clone());
                                            }
                                        })
                                    >
                                        {text}
                                    </button>
                                }
                            }).collect_view();
                            view! { <span class="media-layer"><span class="faint">{layer}": "</span>{chips}</span> }
                        }).collect_view()
                    }}
                </div>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_boxes_in_fractions_pixels_and_middles() {
        let file = json!({"box_data": [
            {"position": {"minX": 0.1, "maxX": 0.5, "minY": 0.2, "maxY": 0.4}, "class_id": 1,
             "box_caption": "cat", "scores": {"acc": 0.9}},
            {"position": {"middle": [50, 50], "width": 20, "height": 10}, "domain": "pixel", "class_id": 2},
            {"position": {"minX": 1}}],
            "class_labels": {"1": "cat", "2": "dog"}});
        let (boxes, labels) = parse_boxes(&file, 200.0, 100.0);
        assert_eq!(boxes.len(), 2);
        assert_eq!(
            (
                boxes[0].min_x,
                boxes[0].max_x,
                boxes[0].min_y,
                boxes[0].max_y
            ),
            (20.0, 100.0, 20.0, 40.0)
        );
        assert_eq!((boxes[1].min_x, boxes[1].max_y), (40.0, 55.0));
        assert_eq!(labels, vec![(1, "cat".into()), (2, "dog".into())]);
        let hidden = BTreeSet::from([("gt".to_string(), 2)]);
        assert!(box_shown(&boxes[0], "gt", &hidden, 0.5));
        assert!(
            !box_shown(&boxes[0], "gt", &hidden, 0.95),
            "below the least score"
        );
        assert!(
            !box_shown(&boxes[1], "gt", &hidden, 0.0),
            "its class is hidden"
        );
    }

    #[test]
    fn masks_colour_shown_classes_only() {
        let mask = [1, 1, 1, 255, 2, 2, 2, 255];
        let mut out = [0u8; 8];
        colour_mask(&mask, &mut out, &|id| id == 2, 1.0);
        assert_eq!(
            &out[..4],
            &[
                rgb(class_color(1))[0],
                rgb(class_color(1))[1],
                rgb(class_color(1))[2],
                255
            ]
        );
        assert_eq!(&out[4..], &[0, 0, 0, 0]);
    }
}
