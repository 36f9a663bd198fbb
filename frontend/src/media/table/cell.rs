//! One cell of the table view: text (numbers right-aligned), an image thumbnail, a small audio
//! player, a histogram sparkline, or what another media value is; each with a copy button.
//! Everything user-written goes in as text nodes or attributes, never as HTML.

use leptos::prelude::*;
use trackline_shared::media::MediaValue;
use trackline_shared::media_table::{Cell, Column};
use wasm_bindgen::JsValue;

use crate::media::file_url;

/// The SVG path of a histogram's bars in a `n × 1` box (`n` bins), tallest bar full height.
pub fn sparkline_path(values: &[f64]) -> String {
    let top = values
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let mut d = String::new();
    if top <= 0.0 {
        return d;
    }
    for (i, v) in values.iter().enumerate() {
        let h = if v.is_finite() {
            (v / top).clamp(0.0, 1.0)
        } else {
            0.0
        };
        if h > 0.0 {
            d.push_str(&format!("M{i} 1V{:.3}h0.9V1z", 1.0 - h));
        }
    }
    d
}

/// Copies `text` to the clipboard (`navigator.clipboard.writeText`); false where the page
/// cannot.
pub fn copy_text(text: &str) -> bool {
    let Ok(nav) = js_sys::Reflect::get(&window(), &"navigator".into()) else {
        return false;
    };
    let Ok(clip) = js_sys::Reflect::get(&nav, &"clipboard".into()) else {
        return false;
    };
    let Ok(write) = js_sys::Reflect::get(&clip, &"writeText".into()) else {
        return false;
    };
    let Ok(write) = wasm_bindgen::JsCast::dyn_into::<js_sys::Function>(write) else {
        return false;
    };
    write.call1(&clip, &JsValue::from_str(text)).is_ok()
}

/// The content of cell `row` of column `c`; `run` owns the media files it names.
pub fn cell_content(project: &str, run: &str, c: &Column, row: usize, thumb_px: f64) -> AnyView {
    if let Some(m) = c.media(row) {
        return media_content(project, run, m, thumb_px, c.display(row).into_owned());
    }
    let text = c.display(row).into_owned();
    match c.cell(row) {
        Cell::Null | Cell::Missing => view! { <span class="faint">{text}</span> }.into_any(),
        _ => view! { <span class="mt-text">{text}</span> }.into_any(),
    }
}

fn media_content(project: &str, run: &str, m: MediaValue, thumb_px: f64, what: String) -> AnyView {
    match m {
        MediaValue::Images(images) => {
            let n = images.len();
            let first = images.into_iter().next();
            let Some(img) = first else {
                return ().into_any();
            };
            let src = file_url(project, run, &img.file.path);
            let href = src.clone();
            let title = img.caption.clone().unwrap_or_else(|| what.clone());
            // Images smaller than the thumbnail are enlarged with sharp pixels (masks, digits).
            let small = img.height.is_some_and(|h| f64::from(h) < thumb_px);
            view! {
                <a class="mt-media" href=href target="_blank" rel="noopener" title=title>
                    <img class="mt-thumb" class:pixelated=small data-testid="media-table-image" src=src loading="lazy"
                        alt=what style=format!("height:{thumb_px}px;width:auto") />
                    {(n > 1).then(|| view! { <span class="faint">{format!("+{}", n - 1)}</span> })}
                </a>
            }
            .into_any()
        }
        MediaValue::Audio(clips) => match clips.into_iter().next() {
            Some(a) => {
                let src = file_url(project, run, &a.file.path);
                view! {
                    <audio class="mt-audio" data-testid="media-table-audio" controls preload="none"
                        src=src title=what></audio>
                }
                .into_any()
            }
            None => ().into_any(),
        },
        MediaValue::Histogram { values, .. } => {
            let n = values.len().max(1);
            view! {
                <svg class="mt-spark" data-testid="media-table-histogram" viewBox=format!("0 0 {n} 1")
                    preserveAspectRatio="none" style=format!("height:{}px", thumb_px.min(28.0))>
                    <title>{what}</title>
                    <path d=sparkline_path(&values) />
                </svg>
            }
            .into_any()
        }
        other => {
            let href = other
                .files()
                .first()
                .map(|f| file_url(project, run, &f.path))
                .unwrap_or_default();
            view! { <a class="mt-text" href=href target="_blank" rel="noopener">{what}</a> }
                .into_any()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_bars_scale_to_the_tallest() {
        assert_eq!(
            sparkline_path(&[1.0, 0.0, 2.0]),
            "M0 1V0.500h0.9V1zM2 1V0.000h0.9V1z"
        );
        assert_eq!(sparkline_path(&[0.0, f64::NAN]), "");
        assert_eq!(sparkline_path(&[]), "");
    }
}
