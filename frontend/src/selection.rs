//! Which runs of a project are shown in charts, hidden, or highlighted, and each run's colour.
//!
//! The project page provides one [`Selection`] as context: the runs table writes it, the workspace
//! panels and their legends read it (and legends may hide or highlight runs too). Colours are a
//! pure function of the run id, so a run keeps its colour across pages, reloads and teammates.

use leptos::prelude::*;
use std::collections::BTreeSet;

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
}

impl Selection {
    pub fn new() -> Selection {
        Selection {
            selected: RwSignal::new(BTreeSet::new()),
            hidden: RwSignal::new(BTreeSet::new()),
            highlighted: RwSignal::new(None),
            group_by: RwSignal::new(None),
        }
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

/// A palette of 20 distinguishable colours (Tableau 20 order: dark then light of each hue).
pub const PALETTE: [&str; 20] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
    "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
];

/// The stable colour of a run: FNV-1a of its id into the palette.
pub fn run_color(run_id: &str) -> &'static str {
    let mut h: u32 = 0x811c_9dc5;
    for b in run_id.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    PALETTE[(h as usize) % PALETTE.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_stable_and_spread() {
        assert_eq!(run_color("k3x9q2ab"), run_color("k3x9q2ab"));
        let distinct: BTreeSet<_> = (0..50).map(|i| run_color(&format!("run{i}"))).collect();
        assert!(distinct.len() >= 12, "{distinct:?}");
    }
}
