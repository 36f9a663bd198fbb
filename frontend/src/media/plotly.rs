//! Plotly figures (`plotly-file`, and matplotlib figures W&B converted to plotly) drawn on our own
//! canvas, with no plotly.js: the figure JSON is fetched from the run's files, read by
//! [`crate::charts::plotly_traces`] and painted by [`canvas`]. The title, legend (trace names
//! and colours) and the traces that are not drawn are page text; axis titles and ticks are on
//! the canvas; the read-out names the point, bar, cell or box under the pointer.

pub mod canvas;

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;
use trackline_shared::media::{MediaEntry, MediaValue};

use crate::api;
use crate::charts::figure::{Figure, render};
use crate::charts::plotly_traces::parse_figure;
use crate::util::count;

use super::{entry_at, file_url};
use canvas::ShapeCanvas;

/// A fetched figure: the path it came from, and the figure or why it is not shown.
type Loaded = Option<(String, Result<Figure, String>)>;

/// Fetches `path`'s JSON (Python's, `NaN` allowed) through `read` whenever `path` changes,
/// keeping only the answer for the latest path (a slow answer for an older step never replaces a
/// newer one).
pub fn fetch_on_change<T: Send + Sync + 'static>(
    path: Memo<Option<String>>,
    url_of: impl Fn(&str) -> String + 'static,
    read: impl Fn(Value) -> Result<T, String> + Copy + 'static,
) -> RwSignal<Option<(String, Result<T, String>)>> {
    let loaded = RwSignal::new(None::<(String, Result<T, String>)>);
    Effect::new(move |_| {
        let Some(p) = path.get() else {
            loaded.set(None);
            return;
        };
        if loaded.with_untracked(|l| l.as_ref().is_some_and(|(q, _)| *q == p)) {
            return;
        }
        let url = url_of(&p);
        spawn_local(async move {
            let result = match api::get_python_json(&url).await {
                Ok(v) => read(v),
                Err(e) => Err(format!("could not load {p}: {e}")),
            };
            if path.try_get_untracked().flatten().as_deref() == Some(p.as_str()) {
                loaded.try_set(Some((p, result)));
            }
        });
    });
    loaded
}

/// The bounds of a figure's own `layout.height`, in CSS pixels.
const MIN_FIGURE_HEIGHT: f64 = 160.0;
const MAX_FIGURE_HEIGHT: f64 = 1200.0;

/// The legend, the traces not drawn and the canvas of a figure.
#[component]
pub fn FigureView(
    #[prop(into)] figure: Signal<Option<Figure>>,
    #[prop(into)] testid: String,
    #[prop(default = 320.0)] height: f64,
) -> impl IntoView {
    let title = move || figure.with(|f| f.as_ref().and_then(|f| f.title.clone()));
    let legend = move || {
        figure.with(|f| {
            f.as_ref()
                .filter(|f| f.show_legend)
                .map(Figure::legend)
                .unwrap_or_default()
        })
    };
    let not_drawn =
        move || figure.with(|f| f.as_ref().map(|f| f.not_drawn.clone()).unwrap_or_default());
    let frame = move |w: f64, h: f64| {
        figure.with(|f| f.as_ref().map(|f| render(f, w, h)).unwrap_or_default())
    };
    // The figure's own `layout.height` when it sets one (within reason), else the view's.
    let height = Signal::derive(move || {
        figure
            .with(|f| f.as_ref().and_then(|f| f.height))
            .map_or(height, |h| h.clamp(MIN_FIGURE_HEIGHT, MAX_FIGURE_HEIGHT))
    });
    view! {
        <div class="media-figure" style="min-width:0" data-testid=testid.clone()>
            {move || title().map(|t| view! {
                <div class="chart-title" data-testid="figure-title" style="max-width:100%">{t}</div>
            })}
            <ShapeCanvas frame height testid=format!("{testid}-canvas") />
            <ul class="media-legend" data-testid="figure-legend"
                style="list-style:none;margin:2px 0 0;padding:0;display:flex;flex-wrap:wrap;gap:4px 12px;font-size:12px">
                <For
                    each=move || legend().into_iter().enumerate()
                    key=|(i, (name, c))| (*i, name.clone(), c.0)
                    let((_, (name, color)))
                >
                    <li data-testid="figure-legend-item">
                        <span style=format!(
                            "display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;background:{}",
                            color.css()
                        )></span>
                        {name}
                    </li>
                </For>
            </ul>
            <For
                each=move || not_drawn().into_iter().enumerate()
                key=|(i, line)| (*i, line.clone())
                let((_, line))
            >
                <div class="error-msg" data-testid="figure-not-drawn" style="font-size:12px">{line}</div>
            </For>
        </div>
    }
}

/// A key's plotly figures at the chosen step (the newest when none is chosen).
#[component]
pub fn PlotlyView(
    #[prop(into)] project: String,
    #[prop(into)] run: String,
    #[prop(into)] entries: Signal<Vec<MediaEntry>>,
    #[prop(into)] step: Signal<Option<f64>>,
) -> impl IntoView {
    let current = Memo::new(move |_| {
        entries.with(|e| {
            let entry = entry_at(e, step.get())?;
            match MediaValue::parse(&entry.value)? {
                MediaValue::Plotly(docs) => {
                    let d = docs.into_iter().next()?;
                    Some((entry.step, d.file.path, d.caption, e.len()))
                }
                _ => None,
            }
        })
    });
    let path = Memo::new(move |_| current.with(|c| c.as_ref().map(|c| c.1.clone())));
    let loaded: RwSignal<Loaded> = fetch_on_change(
        path,
        move |p| file_url(&project, &run, p),
        |v| parse_figure(&v).ok_or_else(|| "the file is not a plotly figure".to_string()),
    );
    let figure = Signal::derive(move || {
        loaded.with(|l| match l {
            Some((p, Ok(f))) if path.with(|q| q.as_deref() == Some(p.as_str())) => Some(f.clone()),
            _ => None,
        })
    });
    let status = move || {
        if current.with(Option::is_none) {
            return Some("No figure at this step.".to_string());
        }
        loaded.with(|l| match l {
            None => Some("Loading…".to_string()),
            Some((_, Err(e))) => Some(e.clone()),
            Some(_) => None,
        })
    };
    let head = move || {
        current.with(|c| {
            c.as_ref().map(|(s, _, caption, n)| {
                let mut t = format!("step {}", crate::charts::figure::fmt_value(*s));
                if *n > 1 {
                    t.push_str(&format!(" · {} logged", count(*n)));
                }
                (t, caption.clone())
            })
        })
    };
    view! {
        <div class="media-plotly" style="min-width:0" data-testid="plotly-view">
            {move || head().map(|(t, caption)| view! {
                <div class="chart-readout" style="margin-left:0" data-testid="plotly-step">{t}</div>
                {caption.map(|c| view! { <div class="media-caption">{c}</div> })}
            })}
            {move || status().map(|s| view! { <div class="chart-readout" style="margin-left:0">{s}</div> })}
            <FigureView figure testid="plotly-figure" />
        </div>
    }
}
