//! Reports (issue 10): live write-ups of a project's runs made of blocks (markdown, and panel
//! grids over a run set), edited by owners through annotation ops, read live by everyone allowed.
//!
//! Pure parts, host-tested: [`order`] (block order after a move or a drop), [`runset`] (a run set
//! against the live runs), [`toc`] (headings → table of contents). Views: [`list`] (the project's
//! reports), [`page`] (one report: title, contents, blocks), [`blocks`] (a block's frame: drag,
//! comments, delete), [`markdown_block`] (the note editor's rules for a block's text),
//! [`grid`] and [`panels`] (a panel grid: line charts, runs table, comparison), [`runset_editor`],
//! [`drag`] (HTML5 drag to reorder), [`publish`] (publish and delete), [`export`] (download
//! links), [`threads`] (comments on a block), [`add`] ("Add to report" from the runs page).
//!
//! The reports come from the page's annotations store ([`crate::annotations::store`]): its model
//! keeps `reports` from the snapshot and `Change::Report` events, so nothing subscribes twice.

pub mod add;
pub mod blocks;
pub mod drag;
pub mod export;
pub mod grid;
pub mod list;
pub mod markdown_block;
pub mod order;
pub mod page;
pub mod panels;
pub mod publish;
pub mod runset;
pub mod runset_editor;
pub mod threads;
pub mod toc;

pub use add::{AddRunsToReport, AddToReport, CurrentTable};
pub use list::ReportsPage;
pub use page::ReportPage;

use leptos::prelude::*;
use leptos::task::spawn_local;
use trackline_shared::annotations::{Op, OpOutcome};
use trackline_shared::api::RunInfo;
use trackline_shared::reports::{Block, BlockContent, PanelGrid, Report};

use crate::annotations::Annotations;
use crate::util::encode;

/// App path of a project's reports.
pub fn list_path(project: &str) -> String {
    format!("/projects/{}/reports", encode(project))
}

/// App path of one report.
pub fn report_path(project: &str, report: &str) -> String {
    format!("/projects/{}/reports/{}", encode(project), encode(report))
}

/// The export download (`html` or `zip`), relative to the document's `<base href>`.
pub fn export_url(project: &str, report: &str, ext: &str) -> String {
    format!(
        "api/projects/{}/reports/{}/export.{ext}",
        encode(project),
        encode(report)
    )
}

/// The presence entity of a block being edited.
pub fn block_entity(report: &str, block: &str) -> String {
    format!("report:{report}:{block}")
}

/// What one report page shares with its parts.
#[derive(Clone, Copy)]
pub struct ReportCtx {
    pub a: Annotations,
    pub report: StoredValue<String>,
    /// The project's runs, live.
    pub runs: RwSignal<Vec<RunInfo>>,
    /// Why the last change was not saved.
    pub error: RwSignal<Option<String>>,
}

impl ReportCtx {
    pub fn project(&self) -> String {
        self.a.project.get_value()
    }

    /// The report as held (the draft, with its published copy).
    pub fn report(&self) -> Option<Report> {
        self.a
            .model
            .with(|m| m.reports.get(&self.report.get_value()).cloned())
    }

    /// Owners edit; annotators comment; viewers read the published copy.
    pub fn can_edit(&self) -> bool {
        self.a.owner.get()
    }

    /// The title and blocks this page shows: the draft for annotators and owners, the published
    /// copy for viewers (the daemon sends viewers nothing else).
    pub fn shown(&self, r: &Report) -> (String, Vec<Block>) {
        match (&r.published, self.a.writer.get()) {
            (Some(p), false) => (p.title.clone(), p.blocks.clone()),
            _ => (r.title.clone(), r.blocks.clone()),
        }
    }

    /// The block `id` of the shown version.
    pub fn block(&self, id: &str) -> Option<Block> {
        let r = self.report()?;
        self.shown(&r).1.into_iter().find(|b| b.id == id)
    }

    /// Sends `op`; a refusal lands in [`ReportCtx::error`]. `done` gets the outcome.
    pub fn send(self, op: Op, done: impl FnOnce(Option<OpOutcome>) + 'static) {
        self.error.set(None);
        spawn_local(async move {
            match self.a.send(op).await {
                Ok(out) => done(Some(out)),
                Err(e) => {
                    self.error.try_set(Some(format!("Not saved: {e}")));
                    done(None);
                }
            }
        });
    }

    /// Changes panel grid `block` by `f` and saves it with the block's rev. A grid change is
    /// structured, so when a teammate's change came first `f` is applied again to theirs (no one's
    /// change is lost), a few times at most.
    pub fn edit_grid(self, block: String, f: impl Fn(&mut PanelGrid) + 'static) {
        self.error.set(None);
        spawn_local(async move {
            for _ in 0..4 {
                let Some(b) = self.block(&block) else {
                    self.error.try_set(Some("That block is gone.".into()));
                    return;
                };
                let BlockContent::PanelGrid(mut grid) = b.content else {
                    return;
                };
                f(&mut grid);
                let op = Op::BlockSet {
                    report: self.report.get_value(),
                    block: block.clone(),
                    content: BlockContent::PanelGrid(grid),
                    base_rev: b.rev,
                };
                match self.a.send(op).await {
                    Ok(OpOutcome::Committed { .. }) => return,
                    Ok(OpOutcome::Conflict { .. }) => continue,
                    Err(e) => {
                        self.error.try_set(Some(format!("Not saved: {e}")));
                        return;
                    }
                }
            }
            self.error
                .try_set(Some("Teammates keep changing this grid; try again.".into()));
        });
    }
}

pub fn use_report() -> ReportCtx {
    expect_context::<ReportCtx>()
}
