//! Reports (issue 10) in the op log: the `reports` table (one row per report, its whole
//! [`Report`] as JSON, unique ids across the daemon) and the report ops checked and applied inside
//! the write transaction: owners only, the title's and each block's revision check, unique block
//! ids, where an added or moved block goes, publishing, the tombstone of a deleted report, and the
//! size limits of `trackline_shared::reports` on the result.

use super::ops::{Apply, Step, conflict, refuse, to_json};
use super::{Annotations, Refusal};
use crate::db::DbResult;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use trackline_shared::annotations::{Anchor, Change, Current, Op, Seq, ThreadHead};
use trackline_shared::reports::{
    Block, MAX_REPORT_BLOCKS, MAX_REPORT_BYTES, NewBlock, Published, Report, ReportSnapshot,
};

/// Migration 6: the reports, each as its wire JSON, with the `seq` of the op that created it
/// (their order) and of the last one that changed it.
pub(in crate::db) fn migrate(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE reports (
             project TEXT NOT NULL,
             id TEXT PRIMARY KEY,
             report TEXT NOT NULL,
             created_seq INTEGER NOT NULL,
             updated_seq INTEGER NOT NULL
         );
         CREATE INDEX reports_by_project ON reports (project, created_seq);",
    )
}

/// Writes a report as an event carries it (created or changed at `seq`).
pub(super) fn store(tx: &Transaction, project: &str, seq: i64, report: &Report) -> DbResult<()> {
    tx.execute(
        "INSERT INTO reports (project, id, report, created_seq, updated_seq)
         VALUES (?1, ?2, ?3, ?4, ?4)
         ON CONFLICT (id) DO UPDATE SET report = ?3, updated_seq = ?4",
        params![project, report.id, to_json(report)?, seq],
    )?;
    Ok(())
}

/// A report by id, whatever its project: `(project, created_seq, report)`.
fn row(conn: &Connection, id: &str) -> DbResult<Option<(String, i64, Report)>> {
    let row: Option<(String, i64, String)> = conn
        .query_row(
            "SELECT project, created_seq, report FROM reports WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    row.map(|(project, seq, json)| Ok((project, seq, serde_json::from_str(&json)?)))
        .transpose()
}

/// The reports of `project` that are not deleted, oldest first.
pub(super) fn live_reports(conn: &Connection, project: &str) -> DbResult<Vec<Report>> {
    let reports: Vec<Report> = super::rows(
        conn,
        "SELECT report FROM reports WHERE project = ?1 ORDER BY created_seq",
        project,
    )?;
    Ok(reports.into_iter().filter(|r| !r.deleted).collect())
}

fn project_seq(conn: &Connection, project: &str) -> DbResult<Seq> {
    let seq: i64 = conn.query_row(
        "SELECT COALESCE(MAX(seq), 0) FROM annotation_ops WHERE project = ?1",
        [project],
        |r| r.get(0),
    )?;
    Ok(seq.max(0) as Seq)
}

impl Annotations {
    /// The reports of `project` that are not deleted, oldest first, with the last op-log `seq` of
    /// the project they are current as of.
    pub fn reports(&self, project: &str) -> DbResult<(Seq, Vec<Report>)> {
        self.db.with(|conn| {
            let tx = conn.transaction()?;
            Ok((project_seq(&tx, project)?, live_reports(&tx, project)?))
        })
    }

    /// Report `id` (whatever its project; a deleted one as its tombstone, `deleted: true`) with
    /// the last op-log `seq` of its project.
    pub fn report(&self, id: &str) -> DbResult<Option<ReportSnapshot>> {
        self.db.with(|conn| {
            let tx = conn.transaction()?;
            let Some((project, _, report)) = row(&tx, id)? else {
                return Ok(None);
            };
            let seq = project_seq(&tx, &project)?;
            Ok(Some(ReportSnapshot { seq, report }))
        })
    }

    /// Where thread `thread` of `project` hangs, if it exists.
    pub fn thread_anchor(&self, project: &str, thread: &str) -> DbResult<Option<Anchor>> {
        self.db.with(|conn| {
            let head: Option<String> = conn
                .query_row(
                    "SELECT head FROM annotation_threads WHERE project = ?1 AND id = ?2",
                    params![project, thread],
                    |r| r.get(0),
                )
                .optional()?;
            head.map(|json| Ok(serde_json::from_str::<ThreadHead>(&json)?.anchor))
                .transpose()
        })
    }
}

fn no_report(report: &str) -> Refusal {
    Refusal::NotFound(format!("no report '{report}' in this project"))
}

fn no_block(report: &str, block: &str) -> Refusal {
    Refusal::NotFound(format!("no block '{block}' in report '{report}'"))
}

/// Where `after` puts a block in `blocks`: first for `None`, right after block `after`, last when
/// that block is gone.
fn insert_at(blocks: &[Block], after: Option<&str>) -> usize {
    match after {
        None => 0,
        Some(after) => blocks
            .iter()
            .position(|b| b.id == after)
            .map_or(blocks.len(), |i| i + 1),
    }
}

impl Apply<'_> {
    /// A report op: owners only; each answers the whole new report.
    pub(super) fn report_op(&mut self, op: &Op) -> DbResult<Step> {
        if !self.actor.is_owner {
            return refuse(Refusal::Forbidden(
                "only an owner may create, edit, publish or delete a report".into(),
            ));
        }
        match op {
            Op::ReportCreate {
                report,
                title,
                blocks,
            } => self.report_create(op, report, title, blocks),
            Op::ReportTitle {
                report,
                title,
                base_rev,
            } => self.report_edit(report, |r, _| {
                if *base_rev != r.title_rev {
                    return Ok(Edit::Conflict);
                }
                r.title = title.clone();
                r.title_rev += 1;
                Ok(Edit::Changed)
            }),
            Op::BlockAdd {
                report,
                after,
                block,
            } => self.report_edit(report, |r, me| {
                let published = r.published.iter().flat_map(|p| &p.blocks);
                if r.blocks.iter().chain(published).any(|b| b.id == block.id) {
                    return Err(Refusal::IdTaken(format!(
                        "block id '{}' is taken in report '{report}'; pick a new one",
                        block.id
                    )));
                }
                if r.blocks.len() >= MAX_REPORT_BLOCKS {
                    return Err(Refusal::Invalid(format!(
                        "report '{report}' has {MAX_REPORT_BLOCKS} blocks, the most it may have"
                    )));
                }
                let at = insert_at(&r.blocks, after.as_deref());
                r.blocks.insert(at, me.new_block(block));
                Ok(Edit::Changed)
            }),
            Op::BlockSet {
                report,
                block,
                content,
                base_rev,
            } => self.report_edit(report, |r, me| {
                let Some(b) = r.blocks.iter_mut().find(|b| b.id == *block) else {
                    return Err(no_block(report, block));
                };
                if *base_rev != b.rev {
                    return Ok(Edit::Conflict);
                }
                b.content = content.clone();
                b.rev += 1;
                b.updated_by = me.actor.author.clone();
                b.updated_ms = me.now_ms;
                Ok(Edit::Changed)
            }),
            Op::BlockMove {
                report,
                block,
                after,
            } => self.report_edit(report, |r, _| {
                let Some(from) = r.blocks.iter().position(|b| b.id == *block) else {
                    return Err(no_block(report, block));
                };
                if after.as_deref() == Some(block.as_str()) {
                    return Ok(Edit::Changed);
                }
                let moved = r.blocks.remove(from);
                let at = insert_at(&r.blocks, after.as_deref());
                r.blocks.insert(at, moved);
                Ok(Edit::Changed)
            }),
            Op::BlockDelete { report, block } => self.report_edit(report, |r, _| {
                let Some(at) = r.blocks.iter().position(|b| b.id == *block) else {
                    return Err(no_block(report, block));
                };
                r.blocks.remove(at);
                Ok(Edit::Changed)
            }),
            Op::ReportPublish { report } => self.report_edit(report, |r, me| {
                r.published = Some(Published {
                    rev: r.published.as_ref().map_or(0, |p| p.rev) + 1,
                    title: r.title.clone(),
                    blocks: r.blocks.clone(),
                    by: me.actor.author.clone(),
                    ms: me.now_ms,
                });
                Ok(Edit::Changed)
            }),
            Op::ReportDelete { report } => self.report_edit(report, |r, _| {
                r.blocks.clear();
                r.published = None;
                r.deleted = true;
                Ok(Edit::Changed)
            }),
            other => unreachable!("not a report op: {other:?}"),
        }
    }

    fn new_block(&self, block: &NewBlock) -> Block {
        Block {
            id: block.id.clone(),
            rev: 1,
            content: block.content.clone(),
            updated_by: self.actor.author.clone(),
            updated_ms: self.now_ms,
        }
    }

    fn report_create(
        &mut self,
        op: &Op,
        id: &str,
        title: &str,
        blocks: &[NewBlock],
    ) -> DbResult<Step> {
        if let Some((project, seq, existing)) = row(self.tx, id)? {
            // The same create again under another op id: answered as it was.
            let logged: String =
                self.tx
                    .query_row("SELECT op FROM annotation_ops WHERE seq = ?1", [seq], |r| {
                        r.get(0)
                    })?;
            if project == self.project
                && existing.created_by == self.actor.author
                && logged == to_json(op)?
            {
                return self.creation_event(seq);
            }
            return refuse(Refusal::IdTaken(format!(
                "report id '{id}' is taken; pick a new one"
            )));
        }
        let author = self.actor.author.clone();
        let report = Report {
            id: id.to_owned(),
            project: self.project.to_owned(),
            title: title.to_owned(),
            title_rev: 1,
            blocks: blocks.iter().map(|b| self.new_block(b)).collect(),
            published: None,
            created_by: author.clone(),
            created_ms: self.now_ms,
            updated_by: author,
            updated_ms: self.now_ms,
            deleted: false,
        };
        self.report_change(report)
    }

    /// Loads live report `id` of this project, lets `edit` change it, and answers the change (or
    /// the conflict with the report as it is, or the refusal).
    fn report_edit(
        &mut self,
        id: &str,
        edit: impl FnOnce(&mut Report, &Self) -> Result<Edit, Refusal>,
    ) -> DbResult<Step> {
        let report = match row(self.tx, id)? {
            Some((project, _, report)) if project == self.project => report,
            _ => return refuse(no_report(id)),
        };
        if report.deleted {
            return refuse(Refusal::Deleted(format!("report '{id}' was deleted")));
        }
        let mut changed = report.clone();
        match edit(&mut changed, self) {
            Err(refusal) => refuse(refusal),
            Ok(Edit::Conflict) => conflict(Current::Report(report)),
            Ok(Edit::Changed) => {
                changed.updated_by = self.actor.author.clone();
                changed.updated_ms = self.now_ms;
                self.report_change(changed)
            }
        }
    }

    /// The change that stores `report`, unless its JSON is past [`MAX_REPORT_BYTES`].
    fn report_change(&self, report: Report) -> DbResult<Step> {
        let bytes = to_json(&report)?.len();
        if bytes > MAX_REPORT_BYTES {
            return refuse(Refusal::Invalid(format!(
                "the report would be {bytes} bytes; at most {MAX_REPORT_BYTES} are kept"
            )));
        }
        Ok(Step::Change(Change::Report(report)))
    }

    /// Why a thread may not hang on block `block` of report `report`: the report is not a live
    /// report of this project, or the block is neither in its draft nor in its published copy.
    pub(super) fn missing_block(&self, report: &str, block: &str) -> DbResult<Option<Refusal>> {
        let found = match row(self.tx, report)? {
            Some((project, _, r)) if project == self.project && !r.deleted => r,
            _ => return Ok(Some(no_report(report))),
        };
        let published = found.published.iter().flat_map(|p| &p.blocks);
        let there = found.blocks.iter().chain(published).any(|b| b.id == block);
        Ok((!there).then(|| no_block(report, block)))
    }
}

/// What an edit did to the report it was given.
enum Edit {
    Changed,
    /// The op's `base_rev` is stale: nothing changes.
    Conflict,
}
