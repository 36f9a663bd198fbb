//! Which runs of a project are shown in charts, hidden, or highlighted, and each run's colour.
//!
//! The project page provides one [`Selection`] as context: the runs table writes it, the workspace
//! panels and their legends read it (and legends may hide or highlight runs too). Colours are a
//! pure function of the run id, so a run keeps its colour across pages, reloads and teammates.
//!
//! A chart draws at most `MAX_SERIES_RUNS` runs (what one series query may name): with more
//! selected, [`chart_runs`] keeps the first in the table's order.

use leptos::prelude::*;
use std::collections::BTreeSet;

use trackline_shared::MAX_SERIES_RUNS;

/// Shared selection state of one project page.
#[derive(Clone, Copy, Debug)]
pub struct Selection {
    /// Runs drawn in the workspace panels.
    pub selected: RwSignal<BTreeSet<String>>,
    /// Selected runs temporarily hidden from charts (legend click).
    pub hidden: RwSignal<BTreeSet<String>>,
    /// A run drawn on top and emphasised (legend or row hover).
    pub highlighted: RwSignal<Option<String>>,
    /// The runs table's group-by column, for charts that group lines the same way: a column id,
    /// `config.<key>` (nested keys joined by `.`) or a run field (`group`, `state`, `host`,
    /// `job_type`). A run's group is `crate::table::group::value_of(run, &Field::parse(id)?)`.
    pub group_by: RwSignal<Option<String>>,
    /// The runs table's order: ids of the runs its filter keeps, sorted as shown. When more runs
    /// are selected than a chart can draw, the first of them in this order are drawn.
    pub order: RwSignal<Vec<String>>,
}

impl Selection {
    pub fn new() -> Selection {
        Selection {
            selected: RwSignal::new(BTreeSet::new()),
            hidden: RwSignal::new(BTreeSet::new()),
            highlighted: RwSignal::new(None),
            group_by: RwSignal::new(None),
            order: RwSignal::new(Vec::new()),
        }
    }

    /// The runs the charts draw: [`chart_runs`] of the selection, at most [`MAX_SERIES_RUNS`].
    /// Tracks the table's order only while the selection is larger than that.
    pub fn chart_runs(&self) -> Vec<String> {
        self.selected.with(|sel| {
            if sel.len() <= MAX_SERIES_RUNS {
                sel.iter().cloned().collect()
            } else {
                self.order.with(|o| chart_runs(sel, o, MAX_SERIES_RUNS))
            }
        })
    }

    /// Selected and not hidden, in id order.
    pub fn visible(&self) -> Vec<String> {
        let hidden = self.hidden.get();
        self.selected
            .get()
            .into_iter()
            .filter(|r| !hidden.contains(r))
            .collect()
    }
}

impl Default for Selection {
    fn default() -> Self {
        Selection::new()
    }
}

/// At most `max` of the `selected` runs: the first of them in `order` (the table's), then, if
/// there is room, selected runs the table does not show (filtered out) in id order. Returned in id
/// order, like the selection, so resorting the table changes nothing unless it changes which runs
/// are kept.
pub fn chart_runs(selected: &BTreeSet<String>, order: &[String], max: usize) -> Vec<String> {
    if selected.len() <= max {
        return selected.iter().cloned().collect();
    }
    let mut keep: BTreeSet<&String> = BTreeSet::new();
    for id in order {
        if keep.len() == max {
            break;
        }
        if let Some(id) = selected.get(id) {
            keep.insert(id);
        }
    }
    for id in selected {
        if keep.len() == max {
            break;
        }
        keep.insert(id);
    }
    keep.into_iter().cloned().collect()
}

pub use trackline_shared::chart::{PALETTE, run_color};

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn charts_take_the_first_selected_runs_in_table_order() {
        let selected: BTreeSet<String> = ["a", "b", "c", "d", "x"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        // The table shows d, b, e, a, c (x is filtered out; e is not selected).
        let order = ids(&["d", "b", "e", "a", "c"]);
        assert_eq!(chart_runs(&selected, &order, 3), ids(&["a", "b", "d"]));
        assert_eq!(chart_runs(&selected, &order, 1), ids(&["d"]));
        // Room left after the table's runs: the filtered-out selected ones, in id order.
        assert_eq!(
            chart_runs(&selected, &order, 5),
            ids(&["a", "b", "c", "d", "x"])
        );
        assert_eq!(
            chart_runs(&selected, &ids(&["c"]), 3),
            ids(&["a", "b", "c"]),
            "c first, then a and b by id"
        );
        // Before the table has an order, the first ids.
        assert_eq!(chart_runs(&selected, &[], 2), ids(&["a", "b"]));
        assert!(chart_runs(&BTreeSet::new(), &order, 3).is_empty());
        assert!(chart_runs(&selected, &order, 0).is_empty());
    }

    #[test]
    fn never_more_runs_than_the_series_query_allows() {
        let selected: BTreeSet<String> = (0..4312).map(|i| format!("r{i:05}")).collect();
        // The table sorted oldest last: newest (highest number) first.
        let order: Vec<String> = selected.iter().rev().cloned().collect();
        let shown = chart_runs(&selected, &order, MAX_SERIES_RUNS);
        assert_eq!(shown.len(), MAX_SERIES_RUNS);
        assert_eq!(shown.first().map(String::as_str), Some("r03312"));
        assert_eq!(shown.last().map(String::as_str), Some("r04311"));
        let few: BTreeSet<String> = selected.iter().take(7).cloned().collect();
        assert_eq!(chart_runs(&few, &order, MAX_SERIES_RUNS).len(), 7);
    }
}
