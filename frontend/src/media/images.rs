//! Logged images of one run at one step: each with its caption, masks and boxes drawn over it,
//! pixelated or smooth scaling, and a click to zoom (with the panel's step controls at hand).

use leptos::html::Canvas;
use leptos::prelude::*;
use leptos::task::spawn_local;
use trackline_shared::media::ImageRef;
use web_sys::HtmlImageElement;

use super::file_url;
use super::overlays::{self, BoxLayer, MaskImage, OverlayOptions};
use crate::api;

/// The image choices of one media panel.
#[derive(Clone, Copy)]
pub struct ImageOptions {
    /// Nearest-neighbour scaling (pixels stay sharp), else smooth.
    pub pixelated: RwSignal<bool>,
    pub overlays: OverlayOptions,
    /// Moves the panel's step by one logged step (−1 back, +1 on): the zoomed view's arrows.
    pub nav: Callback<isize>,
}

/// The images of one value (one, or a list logged under one key).
#[component]
pub fn ImageGrid(
    project: String,
    run: String,
    images: Vec<ImageRef>,
    opts: ImageOptions,
) -> impl IntoView {
    images
        .into_iter()
        .map(|image| view! { <ImageFigure project=project.clone() run=run.clone() image opts /> })
        .collect_view()
}

#[component]
fn ImageFigure(project: String, run: String, image: ImageRef, opts: ImageOptions) -> impl IntoView {
    let src = file_url(&project, &run, &image.file.path);
    let zoomed = RwSignal::new(false);
    let size = RwSignal::new(image.width.zip(image.height));
    let has_overlays = !image.masks.is_empty() || !image.boxes.is_empty();
    let canvas = NodeRef::<Canvas>::new();
    let masks = RwSignal::new_local(Vec::<MaskImage>::new());
    let boxes = RwSignal::new_local(Vec::<BoxLayer>::new());
    if has_overlays {
        let labels = class_labels_of(&image);
        for (layer, _) in image.masks.iter().chain(&image.boxes) {
            opts.overlays.learn(layer, labels.clone());
        }
        load_masks(&project, &run, &image, masks);
        load_boxes(&project, &run, &image, boxes, opts.overlays);
    }
    Effect::new(move |_| {
        let o = opts.overlays;
        // Track every choice that changes the drawing.
        o.show_masks.track();
        o.show_boxes.track();
        o.opacity.track();
        o.min_score.track();
        o.hidden.track();
        let (Some(c), Some(wh)) = (canvas.get(), size.get()) else {
            return;
        };
        masks.with(|m| boxes.with(|b| overlays::paint(&c, wh, m, b, o)));
    });
    let caption = image.caption.clone();
    let title = caption.clone().unwrap_or_default();
    view! {
        <figure
            class="media-item media-image"
            class:zoomed=move || zoomed.get()
            data-testid="media-image"
        >
            <div class="media-frame">
                <img
                    src=src
                    fetchpriority="high"
                    alt=title
                    class:pixelated=move || opts.pixelated.get()
                    title="Click to zoom"
                    on:click=move |_| zoomed.update(|z| *z = !*z)
                    on:load=move |ev| {
                        let img: HtmlImageElement = event_target(&ev);
                        if size.get_untracked().is_none() {
                            size.set(Some((img.natural_width(), img.natural_height())));
                        }
                    }
                />
                {has_overlays.then(|| view! { <canvas class="media-overlay" node_ref=canvas></canvas> })}
            </div>
            <figcaption>{caption}</figcaption>
            <Show when=move || zoomed.get()>
                <div class="media-zoom-bar">
                    <button data-testid="media-zoom-prev" title="Previous step" on:click=move |_| opts.nav.run(-1)>"←"</button>
                    <button data-testid="media-zoom-next" title="Next step" on:click=move |_| opts.nav.run(1)>"→"</button>
                    <button data-testid="media-zoom-close" title="Close" on:click=move |_| zoomed.set(false)>"✕"</button>
                </div>
            </Show>
        </figure>
    }
}

/// How many logged steps on each side of the shown one have their images fetched ahead, so that
/// scrubbing, playing or stepping with the arrow keys shows them from the browser's cache (media
/// files are immutable).
pub const PREFETCH_STEPS: usize = 4;

/// The image URLs of the values logged around index `at` of `entries` (the shown value's),
/// nearest first.
pub fn images_around(
    project: &str,
    run: &str,
    entries: &[trackline_shared::media::MediaEntry],
    at: usize,
) -> Vec<String> {
    let around = (1..=PREFETCH_STEPS).flat_map(|d| [at.checked_add(d), at.checked_sub(d)]);
    let mut urls = Vec::new();
    for i in around.flatten() {
        if let Some(trackline_shared::media::MediaValue::Images(images)) = entries
            .get(i)
            .and_then(|e| trackline_shared::media::MediaValue::parse(&e.value))
        {
            urls.extend(
                images
                    .iter()
                    .map(|image| file_url(project, run, &image.file.path)),
            );
        }
    }
    urls
}

/// The images being fetched ahead of the shown step, at low priority: each move asks for the
/// new neighbours and cancels the loads no longer wanted, so after a jump the shown images do
/// not queue behind the previous neighbours on the daemon's few HTTP/1.1 connections.
#[derive(Default)]
pub struct Prefetch {
    images: std::collections::HashMap<String, HtmlImageElement>,
}

impl Prefetch {
    /// Wants exactly `urls` (nearest first).
    pub fn want(&mut self, urls: &[String]) {
        self.images.retain(|url, img| {
            let keep = urls.contains(url);
            if !keep && !img.complete() {
                // An empty `src` aborts the load in flight.
                img.set_src("");
            }
            keep
        });
        for url in urls {
            if self.images.contains_key(url) {
                continue;
            }
            if let Ok(img) = HtmlImageElement::new() {
                let _ = img.set_attribute("fetchpriority", "low");
                img.set_src(url);
                self.images.insert(url.clone(), img);
            }
        }
    }
}

/// The class labels an image's reference carries (the client copies the masks' and boxes'
/// labels there), as (id, label).
fn class_labels_of(image: &ImageRef) -> Vec<(i64, String)> {
    image
        .class_labels
        .iter()
        .filter_map(|(k, v)| Some((k.parse().ok()?, v.clone())))
        .collect()
}

fn load_masks(
    project: &str,
    run: &str,
    image: &ImageRef,
    into: RwSignal<Vec<MaskImage>, LocalStorage>,
) {
    for (layer, file) in &image.masks {
        let Ok(img) = HtmlImageElement::new() else {
            continue;
        };
        let layer = layer.clone();
        let loaded = img.clone();
        let on_load = wasm_bindgen::closure::Closure::once_into_js(move || {
            into.try_update(|m| m.push((layer, loaded)));
        });
        img.set_onload(Some(wasm_bindgen::JsCast::unchecked_ref(&on_load)));
        img.set_src(&file_url(project, run, &file.path));
    }
}

fn load_boxes(
    project: &str,
    run: &str,
    image: &ImageRef,
    into: RwSignal<Vec<BoxLayer>, LocalStorage>,
    opts: OverlayOptions,
) {
    let (w, h) = (
        f64::from(image.width.unwrap_or(1)),
        f64::from(image.height.unwrap_or(1)),
    );
    for (layer, file) in &image.boxes {
        let url = file_url(project, run, &file.path);
        let layer = layer.clone();
        spawn_local(async move {
            let Ok(json) = api::get_python_json(&url).await else {
                return;
            };
            let (items, labels) = overlays::parse_boxes(&json, w, h);
            let mut classes: Vec<(i64, String)> = labels;
            classes.extend(
                items
                    .iter()
                    .map(|b| (b.class_id, format!("class {}", b.class_id))),
            );
            opts.learn(&layer, classes);
            into.try_update(|b| b.push((layer, items)));
        });
    }
}
