//! A report exported as files that need no daemon: [`collect`] reads one version of a report
//! (draft or published) against the store — each panel grid's run set evaluated, each line chart's
//! series decimated by the daemon's own query — into an [`Export`], which [`html`] writes as one
//! self-contained page (inline CSS and JS under a hash-based CSP, interactive charts) and [`md`]
//! as Markdown with SVG charts ([`svg`]), bundled by [`zip`] for the UI's download. The route
//! (`api/report_export.rs`) and the CLI ([`cli`]) both go through [`collect`].

mod chart;
pub mod cli;
pub mod html;
pub mod md;
mod svg;
mod table;
pub mod zip;

use crate::error::{Error, Result};
use crate::store::Store;
use std::collections::BTreeSet;
use trackline_shared::RunInfo;
use trackline_shared::reports::{Block, BlockContent, Panel, ReportSnapshot};

pub use chart::{Chart, Line};
pub use table::Table;

/// Columns a wide line panel's series are decimated into: its plot on the page is at most
/// ~1030 px wide (the body is 1180 px).
pub const CHART_COLUMNS: u32 = 1000;
/// Columns of a half-row line panel: its plot is ~460 px wide when two share a row (under ~800 px
/// when the grid falls back to one column on a narrow screen). Decimating it like a wide one
/// doubled the page's chart data for detail no screen shows (100 runs × 4 half-row charts:
/// 12.7 MB instead of 6.4, and twice the parsing and drawing when the page opens).
pub const HALF_CHART_COLUMNS: u32 = 500;

/// The decimation columns of a line panel, by its width on the page.
pub fn chart_columns(wide: bool) -> u32 {
    if wide {
        CHART_COLUMNS
    } else {
        HALF_CHART_COLUMNS
    }
}

/// Which copy of a report to export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Version {
    Draft,
    Published,
}

/// A report's chosen version with every panel's data, ready to be written out.
#[derive(Debug, Clone)]
pub struct Export {
    pub report_id: String,
    pub project: String,
    pub title: String,
    /// `draft` or `published rev N`.
    pub version_label: String,
    /// The op-log seq the report is current as of.
    pub seq: u64,
    /// When the export was made (unix seconds).
    pub at_secs: f64,
    /// Distinct runs shown anywhere in the report.
    pub runs: usize,
    pub blocks: Vec<ExportBlock>,
}

#[derive(Debug, Clone)]
pub struct ExportBlock {
    /// The block's id (client-chosen: escape it like any user text).
    pub id: String,
    pub content: ExportContent,
}

#[derive(Debug, Clone)]
pub enum ExportContent {
    /// The markdown as written.
    Markdown(String),
    Grid(Grid),
}

/// A panel grid with its run set evaluated.
#[derive(Debug, Clone)]
pub struct Grid {
    /// How many runs the run set selected.
    pub runs: usize,
    /// Why the run set could not be evaluated (a filter that does not parse); no panels then.
    pub error: Option<String>,
    pub panels: Vec<ExportPanel>,
}

#[derive(Debug, Clone)]
pub enum ExportPanel {
    Line { chart: Chart, wide: bool },
    Table(Table),
}

impl Export {
    /// What the export is a snapshot of, as plain text (escape it where it goes).
    pub fn footer(&self) -> String {
        format!(
            "Snapshot of report {} ({}) at {}, op-log seq {}, {} run{}, Trackline {}",
            self.title,
            self.version_label,
            crate::util::utc_seconds(self.at_secs),
            self.seq,
            self.runs,
            if self.runs == 1 { "" } else { "s" },
            crate::VERSION
        )
    }
}

/// Reads `version` of the report in `snapshot` against the runs in `store`. A published version
/// of a report never published, or a deleted report, is [`Error::NotFound`].
pub fn collect(
    store: &Store,
    snapshot: &ReportSnapshot,
    version: Version,
    now_secs: f64,
) -> Result<Export> {
    let report = &snapshot.report;
    if report.deleted {
        return Err(Error::NotFound(format!(
            "report '{}' was deleted",
            report.id
        )));
    }
    let (title, blocks, version_label) = match version {
        Version::Draft => (&report.title, &report.blocks, "draft".to_string()),
        Version::Published => match &report.published {
            Some(p) => (&p.title, &p.blocks, format!("published rev {}", p.rev)),
            None => {
                return Err(Error::NotFound(format!(
                    "report '{}' has not been published",
                    report.id
                )));
            }
        },
    };
    // A project whose runs are all gone still exports its text.
    let project_runs = crate::query::project_runs(store, &report.project).unwrap_or_default();
    let mut shown: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::with_capacity(blocks.len());
    for block in blocks {
        out.push(ExportBlock {
            id: block.id.clone(),
            content: export_block(
                store,
                &report.project,
                &project_runs,
                block,
                now_secs,
                &mut shown,
            )?,
        });
    }
    Ok(Export {
        report_id: report.id.clone(),
        project: report.project.clone(),
        title: title.clone(),
        version_label,
        seq: snapshot.seq,
        at_secs: now_secs,
        runs: shown.len(),
        blocks: out,
    })
}

fn export_block(
    store: &Store,
    project: &str,
    project_runs: &[RunInfo],
    block: &Block,
    now_secs: f64,
    shown: &mut BTreeSet<String>,
) -> Result<ExportContent> {
    let grid = match &block.content {
        BlockContent::Markdown { text } => return Ok(ExportContent::Markdown(text.clone())),
        BlockContent::PanelGrid(grid) => grid,
    };
    let runs = match trackline_shared::runset::select(project_runs, &grid.runset, now_secs) {
        Ok(runs) => runs,
        Err(e) => {
            return Ok(ExportContent::Grid(Grid {
                runs: 0,
                error: Some(format!("the run set's filter does not parse: {e}")),
                panels: Vec::new(),
            }));
        }
    };
    shown.extend(runs.iter().map(|r| r.id.clone()));
    let mut panels = Vec::with_capacity(grid.panels.len());
    for panel in &grid.panels {
        panels.push(match panel {
            Panel::Line {
                key,
                settings,
                wide,
            } => ExportPanel::Line {
                chart: chart::line(
                    store,
                    project,
                    &runs,
                    key,
                    settings,
                    grid.runset.group_by.as_deref(),
                    chart_columns(*wide),
                )?,
                wide: *wide,
            },
            Panel::RunsTable { columns } => {
                ExportPanel::Table(table::runs_table(&runs, columns, now_secs))
            }
            Panel::Compare { keys } => ExportPanel::Table(table::compare(&runs, keys, now_secs)),
        });
    }
    Ok(ExportContent::Grid(Grid {
        runs: runs.len(),
        error: None,
        panels,
    }))
}

/// A block id as a file-name part: `[A-Za-z0-9_-]` kept, anything else `_` (ids are already
/// restricted to those characters; this holds whatever the database returns).
pub fn file_part(id: &str) -> String {
    let s: String = id
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "block".into() } else { s }
}

#[cfg(test)]
pub(crate) mod tests;
