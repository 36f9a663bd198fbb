//! Reports: a write-up of a project's runs, made of blocks: markdown (its headings make the table of
//! contents) and panel grids, each bound to a run set (a filter of the runs table, sort, limit,
//! grouping) and showing line charts, a runs table or a config/summary comparison.
//!
//! A report is changed by ops in the project's annotation op log (see
//! [`crate::annotations::Op`]: `report_create`, `report_title`, `block_add`, `block_set`,
//! `block_move`, `block_delete`, `report_publish`, `report_delete`), so it reaches every viewer
//! live on the `annotations` topic like a note, and a retried op is applied once. Every event
//! carries the whole new [`Report`] ([`crate::annotations::Change::Report`]).
//!
//! Revisions, as for notes: the title and each block's content are last-writer-wins with a
//! `base_rev` check (a stale edit is refused with the current report, so no text is lost); adding,
//! moving and deleting blocks need no revision (a move after a block that is gone goes last).
//! Publishing copies the draft (title and blocks) to [`Report::published`]; viewers of a shared
//! daemon see only published reports, and only their published copy.

use crate::annotations::Author;
use crate::chart::ChartSettings;
use serde::{Deserialize, Serialize};

/// A report as stored: the draft everyone with annotator scope or more sees and owners edit, and
/// the copy last published.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct Report {
    /// Chosen by the client that created it (at most 64 characters of `[A-Za-z0-9_-]`), unique
    /// across the daemon, so `trackline report export ID` needs no project.
    pub id: String,
    pub project: String,
    pub title: String,
    /// Revision of `title`: 1 when created, +1 on each change.
    pub title_rev: u64,
    /// The draft's blocks, in order.
    pub blocks: Vec<Block>,
    /// The last published copy; `None` until first published.
    #[serde(default)]
    pub published: Option<Published>,
    pub created_by: Author,
    pub created_ms: f64,
    /// The last writer of anything in the report.
    pub updated_by: Author,
    pub updated_ms: f64,
    /// A deleted report stays as a tombstone (no blocks, no published copy) so clients catching
    /// up from the op log drop it.
    #[serde(default)]
    pub deleted: bool,
}

/// What a report looked like when it was published.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct Published {
    /// 1 for the first publish, +1 on each.
    pub rev: u64,
    pub title: String,
    pub blocks: Vec<Block>,
    pub by: Author,
    pub ms: f64,
}

/// One block of a report.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct Block {
    /// Chosen by the client that added it (same rules as a report id), unique within the report.
    pub id: String,
    /// Revision of `content`: 1 when added, +1 on each `block_set`.
    pub rev: u64,
    pub content: BlockContent,
    pub updated_by: Author,
    pub updated_ms: f64,
}

/// What a block shows.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BlockContent {
    /// Markdown (the notes' safe subset); `#` and `##` headings make the table of contents.
    Markdown { text: String },
    /// Panels over one run set.
    PanelGrid(PanelGrid),
}

/// Panels that all show the same runs.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug, Default)]
#[serde(default)]
pub struct PanelGrid {
    pub runset: RunSet,
    pub panels: Vec<Panel>,
}

/// Which runs a panel grid shows: the project's runs that match `filter` (the runs table's filter
/// language; empty matches every run) and, when `runs` is not empty, are among those run ids;
/// sorted by `sort` (default: newest first) and cut to `limit`. It is evaluated again as runs
/// arrive and change, so a new run that matches appears in the report's charts.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug, Default)]
#[serde(default)]
pub struct RunSet {
    pub filter: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort: Option<RunSort>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Group the runs by this column id (`config.lr`, `group`, …): one line and band per group in
    /// line charts that do not set their own `group_by`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_by: Option<String>,
}

/// A sort of the runs table: a column id as the table names it (`name`, `created`, `state`,
/// `runtime`, `config.<key>`, `summary.<key>`).
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct RunSort {
    pub key: String,
    #[serde(default)]
    pub desc: bool,
}

/// One panel of a grid.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Panel {
    /// A line chart of metric `key`, drawn with all the workspace's chart settings.
    Line {
        key: String,
        #[serde(default)]
        settings: ChartSettings,
        /// Spans the whole row.
        #[serde(default)]
        wide: bool,
    },
    /// The runs as a table with these column ids (empty: name, state, created and the columns
    /// whose values differ).
    RunsTable {
        #[serde(default)]
        columns: Vec<String>,
    },
    /// The runs side by side, one row per config or summary column id (empty: every config key
    /// whose values differ, then the summary keys).
    Compare {
        #[serde(default)]
        keys: Vec<String>,
    },
}

/// A new block, as `report_create` and `block_add` send it.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct NewBlock {
    pub id: String,
    pub content: BlockContent,
}

/// `GET /api/projects/{project}/reports/{report}` (and `GET /api/reports/{report}`): the report
/// as the caller may see it, with the op-log `seq` it is current as of.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct ReportSnapshot {
    pub seq: crate::annotations::Seq,
    pub report: Report,
}

/// Most blocks in a report.
pub const MAX_REPORT_BLOCKS: usize = 200;
/// Most panels in a panel grid.
pub const MAX_GRID_PANELS: usize = 64;
/// Longest report title, in characters.
pub const MAX_REPORT_TITLE_CHARS: usize = 200;
/// Longest run-set filter, in bytes.
pub const MAX_RUNSET_FILTER_BYTES: usize = 4096;
/// Most explicit run ids in a run set.
pub const MAX_RUNSET_RUNS: usize = 1000;
/// Most columns or keys in a runs-table or compare panel.
pub const MAX_PANEL_COLUMNS: usize = 100;
/// Largest report as stored (its JSON, draft and published copy together), in bytes.
pub const MAX_REPORT_BYTES: usize = 2 * 1024 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_have_stable_json() {
        let b = BlockContent::PanelGrid(PanelGrid {
            runset: RunSet {
                filter: "config.lr < 0.01".into(),
                limit: Some(5),
                ..Default::default()
            },
            panels: vec![Panel::Line {
                key: "loss".into(),
                settings: ChartSettings::default(),
                wide: false,
            }],
        });
        let s = serde_json::to_string(&b).unwrap();
        assert!(
            s.starts_with(
                r#"{"kind":"panel_grid","runset":{"filter":"config.lr < 0.01","limit":5},"panels":[{"kind":"line","key":"loss","settings":{"#
            ),
            "{s}"
        );
        assert_eq!(serde_json::from_str::<BlockContent>(&s).unwrap(), b);
        let partial: BlockContent =
            serde_json::from_str(r#"{"kind":"panel_grid","panels":[{"kind":"compare"}]}"#).unwrap();
        assert_eq!(
            partial,
            BlockContent::PanelGrid(PanelGrid {
                runset: RunSet::default(),
                panels: vec![Panel::Compare { keys: vec![] }],
            })
        );
    }
}
