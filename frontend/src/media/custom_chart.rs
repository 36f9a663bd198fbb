//! W&B custom charts (`wandb.plot.line`, `scatter`, `bar`, `histogram`, `line_series`,
//! `confusion_matrix`, `pr_curve`, `roc_curve`): the spec comes from the run's config
//! (`_wandb.visualize`, read by [`trackline_shared::media::custom_charts`]), the data from the
//! table logged under the chart's `table_key`; the figure is built by
//! [`crate::charts::custom_tables`] and drawn like a plotly figure.

use leptos::prelude::*;
use serde_json::{Map, Value};
use trackline_shared::media::{CustomChart, MediaEntry, MediaValue, custom_charts};

use crate::api::{self, ApiError};
use crate::charts::custom_tables::{TableData, chart_figure};
use crate::charts::figure::{Figure, TraceKind, fmt_value};

use super::plotly::{FigureView, fetch_on_change};
use super::{entry_at, file_url};

/// The custom charts a run declares (from its `RunInfo.config`), sorted by key; each is one
/// panel whose data is the media key [`CustomChart::table_key`].
pub fn charts_of_config(config: &Map<String, Value>) -> Vec<CustomChart> {
    custom_charts(config)
}

/// The custom charts of `run`, read from the daemon's run snapshot.
pub async fn charts_of_run(project: &str, run: &str) -> Result<Vec<CustomChart>, ApiError> {
    Ok(charts_of_config(&api::run(project, run).await?.config))
}

/// The heatmap values of a figure as JSON rows, for the `data-cells` attribute tests read (a
/// confusion matrix's counts).
fn heatmap_cells(f: &Figure) -> Option<String> {
    f.traces.iter().find_map(|t| match &t.kind {
        TraceKind::Heatmap { z, .. } => serde_json::to_string(z).ok(),
        _ => None,
    })
}

/// One custom chart of one run: `entries` are the values of its `table_key`; the table at the
/// chosen step (the newest when none is chosen) is drawn.
#[component]
pub fn CustomChartView(
    #[prop(into)] project: String,
    #[prop(into)] run: String,
    chart: CustomChart,
    #[prop(into)] entries: Signal<Vec<MediaEntry>>,
    #[prop(into)] step: Signal<Option<f64>>,
) -> impl IntoView {
    let current = Memo::new(move |_| {
        entries.with(|e| {
            let entry = entry_at(e, step.get())?;
            match MediaValue::parse(&entry.value)? {
                MediaValue::Table(t) => Some((entry.step, t.file.path)),
                _ => None,
            }
        })
    });
    let path = Memo::new(move |_| current.with(|c| c.as_ref().map(|c| c.1.clone())));
    let spec = chart.clone();
    let (spec_name, table_key) = (chart.spec.clone(), chart.table_key.clone());
    let loaded = fetch_on_change(
        path,
        move |p| file_url(&project, &run, p),
        |v| TableData::parse(&v).ok_or_else(|| "the table file has no columns".to_string()),
    );
    let figure = Memo::new(move |_| {
        loaded.with(|l| match l {
            Some((p, Ok(table))) if path.with(|q| q.as_deref() == Some(p.as_str())) => {
                Some(chart_figure(&spec, table))
            }
            Some((_, Err(e))) => Some(Err(e.clone())),
            _ => None,
        })
    });
    let drawn =
        Signal::derive(move || figure.with(|f| f.as_ref().and_then(|f| f.as_ref().ok().cloned())));
    let status = move || {
        if current.with(Option::is_none) {
            return Some(format!("No table logged under {} yet.", table_key));
        }
        figure.with(|f| match f {
            None => Some("Loading…".to_string()),
            Some(Err(e)) => Some(e.clone()),
            Some(Ok(_)) => None,
        })
    };
    let step_label =
        move || current.with(|c| c.as_ref().map(|(s, _)| format!("step {}", fmt_value(*s))));
    view! {
        <div
            class="media-custom-chart"
            style="min-width:0"
            data-testid="custom-chart-view"
            data-spec=spec_name
            data-cells=move || drawn.with(|f| f.as_ref().and_then(heatmap_cells))
        >
            <div class="chart-readout" style="margin-left:0">{step_label}</div>
            {move || status().map(|s| view! {
                <div class="chart-readout" data-testid="custom-chart-status" style="margin-left:0">{s}</div>
            })}
            <FigureView figure=drawn testid="custom-chart-figure" />
        </div>
    }
}
