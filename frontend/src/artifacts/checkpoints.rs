//! Checkpoints on a run's metric charts: each artifact version the run logged at a step
//! (`GET …/runs/{run}/artifacts`, `direction: output` lines with a `step`) is a marker at that
//! step on every chart of the run page whose x axis is the step, with a head linking to the
//! version. The run page provides the list ([`provide`]); the chart places the markers with its
//! pin geometry. The list is fetched again whenever the project's artifacts change (the
//! `artifacts` WebSocket topic), so a checkpoint logged while the run trains appears.
//!
//! Test ids: `checkpoint-marker` (with `data-step`, `data-name`, `data-version`),
//! `checkpoint-head`.

use leptos::prelude::*;
use trackline_shared::artifacts::{LinkDirection, RunArtifactLink};
use trackline_shared::ws::Topic;

use super::{ensure_style, run_artifacts_url, version_path};
use crate::api;
use crate::browser::href;
use crate::charts::pins::{self as geo, PlotGeom, Shape};
use crate::components::RunRef;
use crate::live::load;

/// One checkpoint mark.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    pub step: u64,
    pub project: String,
    pub name: String,
    /// `None` when the version is gone.
    pub version: Option<u64>,
    pub kind: String,
}

/// The run page's checkpoints, as context for its charts.
#[derive(Clone, Copy)]
pub struct Checkpoints {
    pub run: StoredValue<String>,
    pub marks: RwSignal<Vec<Checkpoint>>,
}

impl Checkpoints {
    /// Whether there is any mark (read without tracking, from a frame callback).
    pub fn any_untracked(&self) -> bool {
        self.marks.with_untracked(|m| !m.is_empty())
    }
}

/// The versions a run logged at a known step (live versions and gone ones alike), by step.
pub fn checkpoint_marks(links: &[RunArtifactLink]) -> Vec<Checkpoint> {
    let mut marks: Vec<Checkpoint> = links
        .iter()
        .filter(|l| l.direction == LinkDirection::Output)
        .filter_map(|l| {
            Some(Checkpoint {
                step: l.step?,
                project: l.project.clone(),
                name: l.name.clone(),
                version: l.version,
                kind: l.kind.clone(),
            })
        })
        .collect();
    marks.sort_by_key(|m| m.step);
    marks
}

/// Loads run `run`'s checkpoints and provides them to the views below (the run page's charts).
pub fn provide(project: &str, run: &str) -> Checkpoints {
    ensure_style();
    let c = Checkpoints {
        run: StoredValue::new(run.to_string()),
        marks: RwSignal::new(Vec::new()),
    };
    provide_context(c);
    let url = StoredValue::new(run_artifacts_url(project, run));
    let fetch = move || {
        let url = url.get_value();
        load(
            async move { api::get_json::<Vec<RunArtifactLink>>(&url).await },
            move |res| {
                // A run without lineage (or a daemon that cannot say) has no marks.
                if let Ok(links) = res {
                    let marks = checkpoint_marks(&links);
                    if c.marks.with_untracked(|m| *m != marks) {
                        c.marks.set(marks);
                    }
                }
            },
        );
    };
    fetch();
    crate::ws::use_subscription(
        Topic::Artifacts {
            project: project.to_string(),
        },
        move |_| fetch(),
    );
    c
}

/// The checkpoints provided above, if any.
pub fn use_checkpoints() -> Option<Checkpoints> {
    use_context::<Checkpoints>()
}

/// The markers over a chart's plot: only on a step x axis, and only while the chart shows the
/// checkpoints' run.
#[component]
pub fn CheckpointMarks(
    checkpoints: Checkpoints,
    #[prop(into)] geom: Signal<Option<PlotGeom>>,
    #[prop(into)] step_axis: Signal<bool>,
    #[prop(into)] runs: Signal<Vec<RunRef>>,
) -> impl IntoView {
    move || {
        if !step_axis.get() {
            return None;
        }
        let shown = checkpoints
            .run
            .with_value(|run| runs.with(|rs| rs.iter().any(|r| &r.id == run)));
        if !shown {
            return None;
        }
        let g = geom.get()?;
        let (top, h) = (g.plot.top, g.plot.height);
        let marks = checkpoints.marks.get();
        Some(
            marks
                .into_iter()
                .filter_map(|m| match geo::place(m.step as f64, None, &g)? {
                    Shape::Marker { px } => Some((m, px)),
                    Shape::Band { .. } => None,
                })
                .map(|(m, px)| {
                    let label = match m.version {
                        Some(v) => format!("{}:v{v} ({}) at step {}", m.name, m.kind, m.step),
                        None => format!("{} ({}, deleted) at step {}", m.name, m.kind, m.step),
                    };
                    let link = m
                        .version
                        .map(|v| href(&version_path(&m.project, &m.name, &format!("v{v}"))));
                    view! {
                        <div
                            class="ckpt-marker"
                            data-testid="checkpoint-marker"
                            data-step=m.step.to_string()
                            data-name=m.name.clone()
                            data-version=m.version.map(|v| v.to_string()).unwrap_or_default()
                            style=format!("left:{px}px;top:{top}px;height:{h}px")
                        >
                            <a class="ckpt-head" data-testid="checkpoint-head" href=link title=label.clone() aria-label=label></a>
                        </div>
                    }
                })
                .collect_view(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(
        direction: LinkDirection,
        name: &str,
        version: Option<u64>,
        step: Option<u64>,
    ) -> RunArtifactLink {
        RunArtifactLink {
            direction,
            project: "p".into(),
            name: name.into(),
            version,
            kind: "model".into(),
            step,
            at: 0.0,
        }
    }

    #[test]
    fn outputs_with_a_step_by_step() {
        let marks = checkpoint_marks(&[
            link(LinkDirection::Output, "m", Some(1), Some(200)),
            link(LinkDirection::Input, "data", Some(0), Some(0)),
            link(LinkDirection::Output, "m", Some(0), Some(100)),
            link(LinkDirection::Output, "table", Some(0), None),
            link(LinkDirection::Output, "m", None, Some(300)),
        ]);
        let got: Vec<(u64, Option<u64>)> = marks.iter().map(|m| (m.step, m.version)).collect();
        assert_eq!(got, vec![(100, Some(0)), (200, Some(1)), (300, None)]);
    }
}
