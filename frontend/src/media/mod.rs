//! Logged media (issue 12): the panels that show a run's images, histograms, tables, audio,
//! video, HTML, plotly figures, 3-D objects and W&B custom charts, fed live by the `media` topic.
//!
//! A view gets one run's values of one key as `Signal<Vec<MediaEntry>>` ([`live::use_media_entries`])
//! and the chosen step as `Signal<Option<f64>>` (`None`: follow the newest), and reads each value
//! with [`trackline_shared::media::MediaValue::parse`]. Files are fetched from [`file_url`].

pub mod custom_chart;
pub mod histogram;
pub mod images;
pub mod live;
pub mod object3d;
pub mod overlays;
pub mod panel;
pub mod players;
pub mod plotly;
pub mod section;
pub mod slider;
pub mod table;

use leptos::prelude::*;
use std::collections::BTreeSet;
use trackline_shared::media::MediaEntry;

pub use section::MediaSections;

/// The global step slider's state, shared by every media panel of a page: the chosen step
/// (`None`: each panel follows its newest) and every step logged by any panel.
#[derive(Clone, Copy)]
pub struct GlobalStep {
    pub chosen: RwSignal<Option<f64>>,
    /// Steps as `f64::to_bits` (steps are non-negative, so their bits sort like them).
    steps: RwSignal<BTreeSet<u64>>,
}

impl Default for GlobalStep {
    fn default() -> Self {
        GlobalStep {
            chosen: RwSignal::new(None),
            steps: RwSignal::new(BTreeSet::new()),
        }
    }
}

impl GlobalStep {
    /// Adds the steps a panel logged.
    pub fn learn(&self, steps: &[f64]) {
        let new = self
            .steps
            .with_untracked(|have| steps.iter().any(|s| !have.contains(&s.to_bits())));
        if new {
            self.steps
                .update(|have| have.extend(steps.iter().map(|s| s.to_bits())));
        }
    }

    /// Every step any panel logged, in order.
    pub fn steps(&self) -> Vec<f64> {
        self.steps
            .with(|s| s.iter().map(|b| f64::from_bits(*b)).collect())
    }
}

/// The URL of a file a media value names (`media/...`, relative to the run directory): served by
/// the daemon's run-file route, which keeps it beneath the run folder.
pub fn file_url(project: &str, run: &str, path: &str) -> String {
    let encoded: Vec<String> = path.split('/').map(crate::util::encode).collect();
    format!(
        "{}/files/{}",
        crate::api::run_url(project, run),
        encoded.join("/")
    )
}

/// The entry a view shows for the chosen `step`: the last one logged at or before it (the first
/// one when the step is before them all), or the newest when no step is chosen.
pub fn entry_at(entries: &[MediaEntry], step: Option<f64>) -> Option<&MediaEntry> {
    let Some(step) = step else {
        return entries.last();
    };
    let after = entries.partition_point(|e| e.step <= step);
    entries.get(after.saturating_sub(1))
}

/// A value logged at `step` with nothing in it, for tests of step logic.
#[cfg(test)]
pub(crate) fn empty_entry(step: f64) -> MediaEntry {
    MediaEntry {
        step,
        wall_time: 0.0,
        value: serde_json::Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(steps: &[f64]) -> Vec<MediaEntry> {
        steps.iter().map(|&step| empty_entry(step)).collect()
    }

    #[test]
    fn the_entry_at_a_step_is_the_last_logged_at_or_before_it() {
        let e = entries(&[0.0, 10.0, 20.0]);
        assert_eq!(entry_at(&e, Some(15.0)).unwrap().step, 10.0);
        assert_eq!(entry_at(&e, Some(20.0)).unwrap().step, 20.0);
        assert_eq!(entry_at(&e, Some(-1.0)).unwrap().step, 0.0);
        assert_eq!(entry_at(&e, None).unwrap().step, 20.0);
        assert!(entry_at(&[], Some(3.0)).is_none());
    }

    #[test]
    fn file_urls_encode_each_part_but_keep_the_slashes() {
        assert_eq!(
            file_url("p", "r 1", "media/images/a b.png"),
            "api/projects/p/runs/r%201/files/media/images/a%20b.png"
        );
    }
}
