//! Which runs are ticked for the charts: the newest ones until someone picks, then the picks
//! (remembered by this browser), with new runs joining them.

use leptos::prelude::*;
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use trackline_shared::api::RunInfo;

use super::DEFAULT_SELECTED;
use super::rows::TableRows;
use crate::browser::{base_path, local_get, local_remove, local_set};
use crate::selection::Selection;
use crate::table::remember;

/// The page's selection as the table changes it.
#[derive(Clone, Copy, Debug)]
pub(super) struct RunPicks {
    pub selection: Selection,
    /// True until someone picks: the newest [`DEFAULT_SELECTED`] filtered runs are selected.
    pub auto: RwSignal<bool>,
    /// (selected among the filtered runs, filtered runs).
    pub coverage: Memo<(usize, usize)>,
    selection_key: StoredValue<String>,
    pub runs: RwSignal<Vec<Arc<RunInfo>>>,
    filtered: Memo<Vec<u32>>,
}

impl RunPicks {
    /// Ticks or unticks one run.
    pub fn toggle(self, id: String) {
        self.auto.set(false);
        self.selection.selected.update(|s| {
            if !s.remove(&id) {
                s.insert(id);
            }
        });
    }

    /// Ticks (`on`) or unticks every filtered run.
    pub fn select_all(self, on: bool) {
        self.auto.set(false);
        let ids: Vec<String> = self.filtered.with_untracked(|f| {
            self.runs
                .with_untracked(|l| f.iter().map(|&i| l[i as usize].id.clone()).collect())
        });
        self.selection.selected.update(|s| {
            for id in ids {
                if on {
                    s.insert(id);
                } else {
                    s.remove(&id);
                }
            }
        });
    }

    /// Unticks every run (a pick: the default no longer applies).
    pub fn clear(self) {
        self.auto.set(false);
        self.selection.selected.set(BTreeSet::new());
    }

    /// Back to the default (the newest runs) and forget the remembered picks.
    pub fn newest(self) {
        local_remove(&self.selection_key.get_value());
        self.auto.set(true);
    }
}

pub(super) fn use_run_picks(
    project: &str,
    runs: RwSignal<Vec<Arc<RunInfo>>>,
    rows: TableRows,
) -> RunPicks {
    let selection = expect_context::<Selection>();
    let filtered = rows.filtered;
    let auto = RwSignal::new(true);
    // What was picked here before (`remember`): the runs that still exist, plus the runs created
    // since it was saved (a new run joins the selection, as one appearing while the page is open
    // does).
    let selection_key = StoredValue::new(remember::storage_key("selection", base_path(), project));
    let stored =
        local_get(&selection_key.get_value()).and_then(|raw| remember::parse_remembered(&raw));
    if let Some(stored) = stored {
        let restored = runs.with_untracked(|l| {
            let have: HashSet<&str> = l.iter().map(|r| r.id.as_str()).collect();
            let mut ids = remember::restore(&stored.ids, |id| have.contains(id))?;
            if let Some(t) = stored.seen_until {
                ids.extend(
                    l.iter()
                        .filter(|r| r.created_at_secs > t)
                        .map(|r| r.id.clone()),
                );
            }
            Some(ids)
        });
        if let Some(ids) = restored {
            auto.set(false);
            selection.selected.set(ids);
        }
    }
    // Runs that appear while the page is open join a picked selection (W&B shows a new run too:
    // a run just started is the one to watch). Until a pick, the default rule above takes them.
    let known = StoredValue::new(
        runs.with_untracked(|l| l.iter().map(|r| r.id.clone()).collect::<HashSet<String>>()),
    );
    Effect::new(move |_| {
        let fresh: Vec<String> = runs.with(|l| {
            known.with_value(|k| {
                l.iter()
                    .filter(|r| !k.contains(&r.id))
                    .map(|r| r.id.clone())
                    .collect()
            })
        });
        if fresh.is_empty() {
            return;
        }
        known.update_value(|k| k.extend(fresh.iter().cloned()));
        if !auto.get_untracked() {
            selection.selected.update(|s| s.extend(fresh));
        }
    });
    // Remembered once picked (until then the default is not a choice to keep).
    Effect::new(move |_| {
        if auto.get() {
            return;
        }
        let seen_until = runs.with_untracked(|l| {
            l.iter()
                .map(|r| r.created_at_secs)
                .filter(|t| t.is_finite())
                .reduce(f64::max)
        });
        let json = selection.selected.with(|s| {
            selection
                .order
                .with_untracked(|o| remember::selection_json_seen(s, o, seen_until))
        });
        local_set(&selection_key.get_value(), &json);
    });
    Effect::new(move |_| {
        if !auto.get() {
            return;
        }
        let ids: BTreeSet<String> = filtered.with(|f| {
            runs.with(|l| {
                f.iter()
                    .take(DEFAULT_SELECTED)
                    .map(|&i| l[i as usize].id.clone())
                    .collect()
            })
        });
        if selection.selected.with_untracked(|s| *s != ids) {
            selection.selected.set(ids);
        }
    });
    let coverage = Memo::new(move |_| {
        selection.selected.with(|sel| {
            filtered.with(|f| {
                runs.with(|l| {
                    let n = f
                        .iter()
                        .filter(|&&i| sel.contains(&l[i as usize].id))
                        .count();
                    (n, f.len())
                })
            })
        })
    });
    RunPicks {
        selection,
        auto,
        coverage,
        selection_key,
        runs,
        filtered,
    }
}
