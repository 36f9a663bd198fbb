//! What the table view compares with: the same key in the other runs of the panel (each run's
//! table at the chosen step, loaded live by one invisible [`RunTableSource`] per run), or the
//! table at another step of the same run.

use leptos::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use trackline_shared::media::MediaEntry;
use trackline_shared::media_table::Table;

use super::load::{files_at, use_table};
use crate::components::RunRef;
use crate::media::live::use_media_entries;

/// What the view shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    /// This run's table at the chosen step.
    None,
    /// The same key of every run, rows tagged by run.
    Runs,
    /// The chosen step against another step: rows added, removed, changed.
    Steps,
}

impl Compare {
    pub fn id(self) -> &'static str {
        match self {
            Compare::None => "none",
            Compare::Runs => "runs",
            Compare::Steps => "steps",
        }
    }

    pub fn from_id(id: &str) -> Compare {
        match id {
            "runs" => Compare::Runs,
            "steps" => Compare::Steps,
            _ => Compare::None,
        }
    }
}

/// Another run's table of the key: the run, and its table at the chosen step once loaded.
pub type RunTables = BTreeMap<String, (RunRef, Option<Arc<Table>>)>;

/// Loads `key` of `run` at `step` into `into` (under the run's id) for as long as it lives.
#[component]
pub fn RunTableSource(
    project: String,
    run: RunRef,
    key: String,
    step: Signal<Option<f64>>,
    into: RwSignal<RunTables>,
) -> impl IntoView {
    let entries = use_media_entries(project.clone(), run.id.clone(), key);
    let files = Memo::new(move |_| entries.with(|e| files_at(e, step.get()).map(|(_, p)| p)));
    let loaded = use_table(project, run.id.clone(), files);
    let id = run.id.clone();
    Effect::new({
        let id = id.clone();
        move |_| {
            let table = loaded.with(|l| l.as_ref().and_then(|(_, t)| t.as_ref().ok().cloned()));
            into.update(|m| {
                m.insert(id.clone(), (run.clone(), table));
            });
        }
    });
    on_cleanup(move || {
        into.try_update(|m| m.remove(&id));
    });
}

/// The step to compare `shown` with by default: the one logged before it (or after it, when it
/// is the first).
pub fn default_other_step(entries: &[MediaEntry], shown: f64) -> Option<f64> {
    let i = entries.iter().position(|e| e.step == shown)?;
    match i {
        0 => entries.get(1).map(|e| e.step),
        _ => Some(entries[i - 1].step),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::media::empty_entry as e;

    #[test]
    fn the_default_other_step_is_the_previous_one() {
        let es = [e(1.0), e(5.0), e(9.0)];
        assert_eq!(default_other_step(&es, 9.0), Some(5.0));
        assert_eq!(default_other_step(&es, 1.0), Some(5.0));
        assert_eq!(default_other_step(&es[..1], 1.0), None);
        assert_eq!(default_other_step(&es, 2.0), None);
        assert_eq!(Compare::from_id(Compare::Steps.id()), Compare::Steps);
    }
}
