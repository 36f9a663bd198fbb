//! Histograms over time (`histogram` values, W&B's `wandb.Histogram` and `watch()`): a step ×
//! value heatmap (each step's bins re-binned onto one grid, colour = count), or ridgelines, or
//! TensorBoard-style quantile bands, with the chosen step marked, a read-out of the cell under the
//! pointer and a bar chart of one step's own bins (the hovered step, else the chosen one). The
//! maths is [`crate::charts::heatmap`] and [`crate::charts::quantiles`].

use leptos::prelude::*;
use trackline_shared::media::{MediaEntry, MediaValue};

use crate::charts::figure::Rendered;
use crate::charts::heatmap::{
    self, Heat, StepHist, column_at, column_of_step, heatmap_hover, render_heatmap,
    render_quantiles, render_ridgeline, render_slice,
};

use super::plotly::canvas::ShapeCanvas;

/// Most cells written to the `data-cells` attribute (tests read it); larger grids leave it out.
const MAX_CELLS_ATTR: usize = 50_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Heatmap,
    Ridgeline,
    Quantiles,
}

impl Mode {
    fn label(self) -> &'static str {
        match self {
            Mode::Heatmap => "Heatmap",
            Mode::Ridgeline => "Ridgeline",
            Mode::Quantiles => "Quantiles",
        }
    }
}

/// The histograms of `entries`, in step order.
fn step_hists(entries: &[MediaEntry]) -> Vec<StepHist> {
    let mut out: Vec<StepHist> = entries
        .iter()
        .filter_map(|e| match MediaValue::parse(&e.value)? {
            MediaValue::Histogram { bins, values } => Some(StepHist {
                step: e.step,
                bins,
                counts: values,
            }),
            _ => None,
        })
        .collect();
    out.sort_by(|a, b| a.step.total_cmp(&b.step));
    out
}

/// One run's histograms of one key.
#[component]
pub fn HistogramView(
    #[prop(into)] project: String,
    #[prop(into)] run: String,
    #[prop(into)] entries: Signal<Vec<MediaEntry>>,
    #[prop(into)] step: Signal<Option<f64>>,
) -> impl IntoView {
    let hists = Memo::new(move |_| entries.with(|e| step_hists(e)));
    let heat = Memo::new(move |_| hists.with(|h| heatmap::build(h, 0)));
    let mode = RwSignal::new(Mode::Heatmap);
    let hovered = RwSignal::new(None::<usize>);
    let selected = Memo::new(move |_| {
        let s = step.get();
        hists.with(|h| {
            let steps: Vec<f64> = h.iter().map(|x| x.step).collect();
            column_of_step(&steps, s)
        })
    });
    let frame = move |w: f64, h: f64| -> Rendered {
        let sel = selected.get();
        match mode.get() {
            Mode::Heatmap => heat.with(|heat| {
                heat.as_ref()
                    .map(|x| render_heatmap(x, w, h, sel))
                    .unwrap_or_default()
            }),
            Mode::Ridgeline => heat.with(|heat| {
                heat.as_ref()
                    .map(|x| render_ridgeline(x, w, h, sel))
                    .unwrap_or_default()
            }),
            Mode::Quantiles => hists.with(|hs| render_quantiles(hs, w, h, sel)),
        }
    };
    let on_pointer = Callback::new(move |p: Option<(f64, f64, f64)>| {
        let col = p.and_then(|(x, _, w)| {
            if mode.get_untracked() == Mode::Ridgeline {
                return None;
            }
            hists.with_untracked(|h| {
                let steps: Vec<f64> = h.iter().map(|x| x.step).collect();
                column_at(&steps, w, x)
            })
        });
        if hovered.get_untracked() != col {
            hovered.set(col);
        }
    });
    let hover = Callback::new(move |(x, y, w, h): (f64, f64, f64, f64)| {
        if mode.get_untracked() != Mode::Heatmap {
            return None;
        }
        heat.with_untracked(|heat| {
            heat.as_ref()
                .and_then(|heat| heatmap_hover(heat, w, h, x, y))
        })
    });
    let slice_frame = move |w: f64, h: f64| -> Rendered {
        let col = hovered.get().or(selected.get());
        hists.with(|hs| {
            col.and_then(|c| hs.get(c))
                .map(|x| render_slice(x, w, h))
                .unwrap_or_default()
        })
    };
    let cells = move || {
        heat.with(|h| {
            h.as_ref()
                .filter(|h: &&Heat| h.n * h.cells.len() <= MAX_CELLS_ATTR)
                .map(heatmap::cells_json)
        })
    };
    let steps_attr = move || {
        heat.with(|h| {
            h.as_ref()
                .map(|h| serde_json::to_string(&h.steps).unwrap_or_default())
        })
    };
    let grid_attr = move || heat.with(|h| h.as_ref().map(|h| format!("{},{},{}", h.lo, h.hi, h.n)));
    let empty = move || hists.with(Vec::is_empty);
    let buttons = [Mode::Heatmap, Mode::Ridgeline, Mode::Quantiles].map(|m| {
        view! {
            <button
                class:active=move || mode.get() == m
                aria-pressed=move || (mode.get() == m).to_string()
                data-testid=format!("histogram-mode-{}", m.label().to_lowercase())
                on:click=move |_| mode.set(m)
            >
                {m.label()}
            </button>
        }
    });
    view! {
        <div
            class="media-histogram"
            style="min-width:0"
            data-testid="histogram-view"
            data-project=project
            data-run=run
            data-cells=cells
            data-steps=steps_attr
            data-grid=grid_attr
            data-mode=move || mode.get().label().to_lowercase()
        >
            <div class="chart-head" style="gap:4px">{buttons}</div>
            <Show
                when=move || !empty()
                fallback=|| view! { <div class="chart-readout" style="margin-left:0">"No histogram logged."</div> }
            >
                <ShapeCanvas frame=frame height=240.0 on_pointer hover testid="histogram-canvas" />
                <ShapeCanvas frame=slice_frame height=140.0 testid="histogram-slice" />
            </Show>
        </div>
    }
}
