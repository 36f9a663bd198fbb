//! One media panel: one key (or one custom chart) across the selected runs, a row per run side by
//! side, with the panel's own step slider (moved by the global one too) and the view for its kind.

use leptos::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use trackline_shared::media::{CustomChart, MediaEntry, MediaKind, MediaValue};

use super::custom_chart::CustomChartView;
use super::histogram::HistogramView;
use super::images::{ImageGrid, ImageOptions, Prefetch, images_around};
use super::live::use_media_entries;
use super::object3d::Object3dView;
use super::overlays::{OverlayControls, OverlayOptions};
use super::players::{AudioList, FileLinks, HtmlList, VideoList};
use super::plotly::PlotlyView;
use super::slider::{StepSlider, choice_at, index_of};
use super::table::TableView;
use super::{GlobalStep, entry_at};
use crate::components::RunRef;

/// What a panel shows: a media key, or a W&B custom chart drawn from its table key.
#[derive(Clone, Debug, PartialEq)]
pub enum PanelOf {
    Key { key: String, kind: MediaKind },
    Chart(CustomChart),
}

impl PanelOf {
    /// The history key whose values the panel reads.
    fn entries_key(&self) -> &str {
        match self {
            PanelOf::Key { key, .. } => key,
            PanelOf::Chart(c) => &c.table_key,
        }
    }

    fn title(&self) -> String {
        match self {
            PanelOf::Key { key, .. } => key.clone(),
            PanelOf::Chart(c) => c
                .strings
                .iter()
                .find(|(k, _)| k == "title")
                .map(|(_, t)| format!("{} · {t}", c.key))
                .unwrap_or_else(|| c.key.clone()),
        }
    }

    fn kind_label(&self) -> &'static str {
        match self {
            PanelOf::Key { kind, .. } => match kind {
                MediaKind::Image => "images",
                MediaKind::Histogram => "histogram",
                MediaKind::Table => "table",
                MediaKind::Audio => "audio",
                MediaKind::Video => "video",
                MediaKind::Html => "html",
                MediaKind::Plotly => "plotly",
                MediaKind::Object3d => "3-D",
                MediaKind::Molecule => "molecule",
            },
            PanelOf::Chart(_) => "custom chart",
        }
    }

    /// Panels of these kinds need the whole width.
    fn wide(&self) -> bool {
        matches!(
            self,
            PanelOf::Key {
                kind: MediaKind::Table | MediaKind::Html,
                ..
            }
        )
    }
}

#[component]
pub fn MediaPanel(project: String, of: PanelOf, runs: Signal<Vec<RunRef>>) -> impl IntoView {
    let global = use_context::<GlobalStep>().unwrap_or_default();
    let chosen = RwSignal::new(None::<f64>);
    // The global slider moves every panel; the panel's own slider moves only this one.
    Effect::new(move |_| chosen.set(global.chosen.get()));
    let steps_by_run = RwSignal::new(BTreeMap::<String, Vec<f64>>::new());
    let steps = Memo::new(move |_| {
        let all: BTreeSet<u64> =
            steps_by_run.with(|m| m.values().flatten().map(|s| s.to_bits()).collect());
        let mut v: Vec<f64> = all.into_iter().map(f64::from_bits).collect();
        v.sort_by(f64::total_cmp);
        v
    });
    Effect::new(move |_| steps.with(|s| global.learn(s)));
    let nav = Callback::new(move |delta: isize| {
        let next = steps.with_untracked(|s| {
            let i = index_of(s, chosen.get_untracked())?;
            let j = i.checked_add_signed(delta)?.min(s.len().saturating_sub(1));
            Some(choice_at(s, j))
        });
        if let Some(c) = next {
            chosen.set(c);
        }
    });
    let image_opts = ImageOptions {
        pixelated: RwSignal::new(true),
        overlays: OverlayOptions::new(),
        nav,
    };
    let is_images = matches!(
        of,
        PanelOf::Key {
            kind: MediaKind::Image,
            ..
        }
    );
    let title = of.title();
    let kind_label = of.kind_label();
    let wide = of.wide();
    let of_s = StoredValue::new(of);
    view! {
        <div class="media-panel chart-card" class:wide=wide data-testid="media-panel" data-key=title.clone()>
            <div class="chart-head">
                <span class="chart-title" title=title.clone()>{title.clone()}</span>
                <span class="faint">{kind_label}</span>
                {is_images.then(|| view! {
                    <label class="media-pixelated" title="Pixelated (sharp pixels) or smooth scaling">
                        <input type="checkbox" data-testid="media-pixelated"
                            prop:checked=move || image_opts.pixelated.get()
                            on:change=move |ev| image_opts.pixelated.set(event_target_checked(&ev)) />
                        " pixelated"
                    </label>
                })}
            </div>
            <StepSlider steps=steps.into() chosen testid="media-slider" />
            {is_images.then(|| view! { <OverlayControls opts=image_opts.overlays /> })}
            <div class="media-rows">
                <For
                    each=move || runs.get()
                    key=|r| r.id.clone()
                    children=move |run| {
                        view! {
                            <RunRow
                                project=project.clone()
                                run
                                of=of_s.get_value()
                                chosen
                                steps_by_run
                                image_opts
                                panel_runs=runs
                            />
                        }
                    }
                />
            </div>
        </div>
    }
}

/// One run's row of a panel: its values of the key, the one at the chosen step shown.
#[component]
fn RunRow(
    project: String,
    run: RunRef,
    of: PanelOf,
    chosen: RwSignal<Option<f64>>,
    steps_by_run: RwSignal<BTreeMap<String, Vec<f64>>>,
    image_opts: ImageOptions,
    /// The panel's runs (a table can be compared across them).
    panel_runs: Signal<Vec<RunRef>>,
) -> impl IntoView {
    let entries = use_media_entries(
        project.clone(),
        run.id.clone(),
        of.entries_key().to_string(),
    );
    let run_id = run.id.clone();
    Effect::new({
        let run_id = run_id.clone();
        move |_| {
            let steps: Vec<f64> = entries.with(|e| e.iter().map(|e| e.step).collect());
            steps_by_run.update(|m| {
                m.insert(run_id.clone(), steps);
            });
        }
    });
    on_cleanup({
        let run_id = run_id.clone();
        move || {
            steps_by_run.try_update(|m| m.remove(&run_id));
        }
    });
    let shown_step =
        Memo::new(move |_| entries.with(|e| entry_at(e, chosen.get()).map(|e| e.step)));
    if matches!(
        of,
        PanelOf::Key {
            kind: MediaKind::Image,
            ..
        }
    ) {
        // The images of the steps around the shown one load ahead (scrubbing shows them from
        // the cache), asked for on the next task: after the shown images, which come first.
        let prefetch = StoredValue::new_local(Prefetch::default());
        let latest = StoredValue::new(0u64);
        let (project, run_id) = (project.clone(), run_id.clone());
        Effect::new(move |_| {
            let chosen = chosen.get();
            let urls = entries.with(|e| {
                let at = e.partition_point(|x| chosen.is_none_or(|c| x.step <= c));
                images_around(&project, &run_id, e, at.saturating_sub(1))
            });
            let mine = latest.with_value(|n| n + 1);
            latest.set_value(mine);
            set_timeout(
                move || {
                    if latest.try_get_value() == Some(mine) {
                        prefetch.try_update_value(|p| p.want(&urls));
                    }
                },
                std::time::Duration::ZERO,
            );
        });
    }
    let entries_s: Signal<Vec<MediaEntry>> = entries.into();
    let step_s: Signal<Option<f64>> = chosen.into();
    let body = match of {
        PanelOf::Chart(chart) => view! {
            <CustomChartView project=project.clone() run=run_id.clone() chart entries=entries_s step=step_s />
        }
        .into_any(),
        PanelOf::Key { kind: MediaKind::Histogram, .. } => view! {
            <HistogramView project=project.clone() run=run_id.clone() entries=entries_s step=step_s />
        }
        .into_any(),
        PanelOf::Key {
            kind: MediaKind::Table,
            ref key,
        } => view! {
            <TableView
                project=project.clone()
                run=run_id.clone()
                entries=entries_s
                step=step_s
                key=key.clone()
                runs=panel_runs
            />
        }
        .into_any(),
        PanelOf::Key { kind: MediaKind::Plotly, .. } => view! {
            <PlotlyView project=project.clone() run=run_id.clone() entries=entries_s step=step_s />
        }
        .into_any(),
        PanelOf::Key { kind: MediaKind::Object3d, .. } => view! {
            <Object3dView project=project.clone() run=run_id.clone() entries=entries_s step=step_s />
        }
        .into_any(),
        PanelOf::Key { .. } => {
            let (project, run_id) = (project.clone(), run_id.clone());
            (move || {
                let value = entries.with(|e| entry_at(e, chosen.get()).and_then(|e| MediaValue::parse(&e.value)));
                let (p, r) = (project.clone(), run_id.clone());
                match value {
                    None => view! { <span class="faint">"nothing logged yet"</span> }.into_any(),
                    Some(MediaValue::Images(images)) => {
                        view! { <ImageGrid project=p run=r images opts=image_opts /> }.into_any()
                    }
                    Some(MediaValue::Audio(clips)) => view! { <AudioList project=p run=r clips /> }.into_any(),
                    Some(MediaValue::Video(videos)) => view! { <VideoList project=p run=r videos /> }.into_any(),
                    Some(MediaValue::Html(pages)) => view! { <HtmlList project=p run=r pages /> }.into_any(),
                    Some(other) => {
                        let files = other.files().into_iter().cloned().collect::<Vec<_>>();
                        view! { <FileLinks project=p run=r files what="(no viewer for this kind)" /> }.into_any()
                    }
                }
            })
            .into_any()
        }
    };
    view! {
        <div class="media-row" data-testid="media-row" data-run=run.id.clone()
            data-step=move || shown_step.get().map(|s| s.to_string()).unwrap_or_default()>
            <div class="media-run">
                <span class="swatch" style=format!("background:{}", run.color)></span>
                <span class="media-run-name" title=run.name.clone()>{run.name.clone()}</span>
                <span class="faint media-row-step">
                    {move || shown_step.get().map(|s| format!("step {s}")).unwrap_or_default()}
                </span>
            </div>
            <div class="media-items">{body}</div>
        </div>
    }
}
