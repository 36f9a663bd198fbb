//! One op checked and applied inside the write transaction: the revision check of note text,
//! thread state, comment text and a run's name and tags, the author rules of comments, the owner
//! rule of run ops, taken ids, and the writes of the new state into the notes, threads, comments,
//! run overlay and reports tables (the report ops themselves are in `reports.rs`).

use super::{Actor, Applied, Refusal};
use crate::db::DbResult;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use trackline_shared::annotations::{
    Anchor, AnnotationEvent, Change, Comment, Current, Note, NoteTarget, Op, OpOutcome, RunOverlay,
    ThreadHead,
};

/// The result of checking an op: the change to log, or the answer without one.
pub(super) enum Step {
    Change(Change),
    Done(Result<Applied, Refusal>),
}

pub(super) fn refuse(refusal: Refusal) -> DbResult<Step> {
    Ok(Step::Done(Err(refusal)))
}

pub(super) fn conflict(current: Current) -> DbResult<Step> {
    Ok(Step::Done(Ok(Applied {
        outcome: OpOutcome::Conflict { current },
        fresh: false,
    })))
}

/// One op being applied inside the write transaction.
pub(super) struct Apply<'a> {
    pub(super) tx: &'a Transaction<'a>,
    pub(super) project: &'a str,
    pub(super) actor: &'a Actor,
    pub(super) now_ms: f64,
    pub(super) run_exists: &'a dyn Fn(&str) -> bool,
}

impl Apply<'_> {
    pub(super) fn op(&mut self, op: &Op) -> DbResult<Step> {
        match op {
            Op::NoteSet {
                target,
                text,
                base_rev,
            } => self.note_set(target, text, *base_rev),
            Op::ThreadCreate {
                thread,
                anchor,
                comment,
                text,
            } => self.thread_create(thread, anchor, comment, text),
            Op::ThreadResolve {
                thread,
                resolved,
                base_rev,
            } => self.thread_resolve(thread, *resolved, *base_rev),
            Op::CommentAdd {
                thread,
                comment,
                text,
            } => self.comment_add(thread, comment, text),
            Op::CommentEdit {
                comment,
                text,
                base_rev,
            } => self.comment_edit(comment, text, *base_rev),
            Op::CommentDelete { comment } => self.comment_delete(comment),
            Op::RunRename {
                run,
                name,
                base_rev,
            } => self.run_set(run, *base_rev, RunField::Name(name)),
            Op::RunRetag {
                run,
                tags,
                base_rev,
            } => self.run_set(run, *base_rev, RunField::Tags(tags)),
            Op::ReportCreate { .. }
            | Op::ReportTitle { .. }
            | Op::BlockAdd { .. }
            | Op::BlockSet { .. }
            | Op::BlockMove { .. }
            | Op::BlockDelete { .. }
            | Op::ReportPublish { .. }
            | Op::ReportDelete { .. } => self.report_op(op),
        }
    }

    fn missing_run(&self, run: &str) -> Option<Refusal> {
        (!(self.run_exists)(run))
            .then(|| Refusal::NotFound(format!("no run '{run}' in project '{}'", self.project)))
    }

    fn note_set(&mut self, target: &NoteTarget, text: &str, base_rev: u64) -> DbResult<Step> {
        if let NoteTarget::Run { run } = target
            && let Some(refusal) = self.missing_run(run)
        {
            return refuse(refusal);
        }
        let current = note(self.tx, self.project, target)?;
        if base_rev != current.rev {
            return conflict(Current::Note(current));
        }
        Ok(Step::Change(Change::Note(Note {
            target: target.clone(),
            text: text.to_owned(),
            rev: current.rev + 1,
            updated_by: Some(self.actor.author.clone()),
            updated_ms: self.now_ms,
        })))
    }

    fn thread_create(
        &mut self,
        thread: &str,
        anchor: &Anchor,
        comment: &str,
        text: &str,
    ) -> DbResult<Step> {
        if let Some((seq, head)) = thread_head(self.tx, self.project, thread)? {
            let first = comment_row(self.tx, self.project, comment)?;
            // Compared as stored: a pin's coordinates went through JSON once more.
            let stored: Anchor = serde_json::from_str(&to_json(anchor)?)?;
            let same = head.anchor == stored
                && head.created_by == self.actor.author
                && first.is_some_and(|(s, c)| s == seq && c.thread == thread && c.text == text);
            if same {
                return self.creation_event(seq);
            }
            return refuse(Refusal::IdTaken(format!(
                "thread id '{thread}' is taken; pick a new one"
            )));
        }
        if comment_row(self.tx, self.project, comment)?.is_some() {
            return refuse(Refusal::IdTaken(format!(
                "comment id '{comment}' is taken; pick a new one"
            )));
        }
        if let Some(run) = anchor.run()
            && let Some(refusal) = self.missing_run(run)
        {
            return refuse(refusal);
        }
        if let Anchor::ReportBlock { report, block } = anchor
            && let Some(refusal) = self.missing_block(report, block)?
        {
            return refuse(refusal);
        }
        let head = ThreadHead {
            id: thread.to_owned(),
            anchor: anchor.clone(),
            resolved: false,
            rev: 1,
            created_by: self.actor.author.clone(),
            created_ms: self.now_ms,
        };
        Ok(Step::Change(Change::Thread {
            head,
            first_comment: Some(self.new_comment(thread, comment, text)),
        }))
    }

    fn thread_resolve(&mut self, thread: &str, resolved: bool, base_rev: u64) -> DbResult<Step> {
        let Some((_, mut head)) = thread_head(self.tx, self.project, thread)? else {
            return refuse(no_thread(thread));
        };
        if base_rev != head.rev {
            return conflict(Current::Thread(head));
        }
        head.resolved = resolved;
        head.rev += 1;
        Ok(Step::Change(Change::Thread {
            head,
            first_comment: None,
        }))
    }

    fn comment_add(&mut self, thread: &str, comment: &str, text: &str) -> DbResult<Step> {
        if let Some((seq, existing)) = comment_row(self.tx, self.project, comment)? {
            if existing.thread == thread
                && existing.author == self.actor.author
                && existing.text == text
                && existing.rev == 1
            {
                return self.creation_event(seq);
            }
            return refuse(Refusal::IdTaken(format!(
                "comment id '{comment}' is taken; pick a new one"
            )));
        }
        if thread_head(self.tx, self.project, thread)?.is_none() {
            return refuse(no_thread(thread));
        }
        Ok(Step::Change(Change::Comment(
            self.new_comment(thread, comment, text),
        )))
    }

    fn comment_edit(&mut self, comment: &str, text: &str, base_rev: u64) -> DbResult<Step> {
        let Some((_, mut current)) = comment_row(self.tx, self.project, comment)? else {
            return refuse(no_comment(comment));
        };
        if current.author.id != self.actor.author.id {
            return refuse(Refusal::Forbidden(format!(
                "only its author ({}) may edit comment '{comment}'",
                current.author.label
            )));
        }
        if base_rev != current.rev {
            return conflict(Current::Comment(current));
        }
        if current.deleted {
            return refuse(Refusal::Deleted(format!("comment '{comment}' was deleted")));
        }
        current.text = text.to_owned();
        current.edited_ms = Some(self.now_ms);
        current.rev += 1;
        Ok(Step::Change(Change::Comment(current)))
    }

    fn comment_delete(&mut self, comment: &str) -> DbResult<Step> {
        let Some((_, mut current)) = comment_row(self.tx, self.project, comment)? else {
            return refuse(no_comment(comment));
        };
        if current.author.id != self.actor.author.id && !self.actor.is_owner {
            return refuse(Refusal::Forbidden(format!(
                "only its author ({}) or an owner may delete comment '{comment}'",
                current.author.label
            )));
        }
        if current.deleted {
            return refuse(Refusal::Deleted(format!(
                "comment '{comment}' was already deleted"
            )));
        }
        current.text.clear();
        current.deleted = true;
        current.rev += 1;
        Ok(Step::Change(Change::Comment(current)))
    }

    /// A rename or retag: owners only, on an existing run, against the field's current rev.
    fn run_set(&mut self, run: &str, base_rev: u64, field: RunField) -> DbResult<Step> {
        if !self.actor.is_owner {
            return refuse(Refusal::Forbidden(
                "only an owner may rename or retag a run".into(),
            ));
        }
        if let Some(refusal) = self.missing_run(run) {
            return refuse(refusal);
        }
        let mut overlay = run_overlay(self.tx, self.project, run)?;
        let rev = match field {
            RunField::Name(_) => &mut overlay.name_rev,
            RunField::Tags(_) => &mut overlay.tags_rev,
        };
        if base_rev != *rev {
            return conflict(Current::Run(overlay));
        }
        *rev += 1;
        match field {
            RunField::Name(name) => overlay.name = Some(name.to_owned()),
            RunField::Tags(tags) => overlay.tags = Some(tags.to_vec()),
        }
        overlay.updated_by = Some(self.actor.author.clone());
        overlay.updated_ms = self.now_ms;
        Ok(Step::Change(Change::Run(overlay)))
    }

    fn new_comment(&self, thread: &str, comment: &str, text: &str) -> Comment {
        Comment {
            id: comment.to_owned(),
            thread: thread.to_owned(),
            text: text.to_owned(),
            author: self.actor.author.clone(),
            created_ms: self.now_ms,
            edited_ms: None,
            rev: 1,
            deleted: false,
        }
    }

    /// The logged event of the op that created an entity (the same create sent again under
    /// another op id: answered as it was, nothing applied).
    pub(super) fn creation_event(&self, seq: i64) -> DbResult<Step> {
        let event: String = self.tx.query_row(
            "SELECT event FROM annotation_ops WHERE seq = ?1",
            [seq],
            |r| r.get(0),
        )?;
        Ok(Step::Done(Ok(Applied::committed(
            serde_json::from_str(&event)?,
            false,
        ))))
    }

    /// Writes the state `event` carries into the materialised tables.
    pub(super) fn store(&self, event: &AnnotationEvent) -> DbResult<()> {
        let (tx, project, seq) = (self.tx, self.project, event.seq as i64);
        match &event.change {
            Change::Note(note) => {
                tx.execute(
                    "INSERT INTO annotation_notes (project, target, note) VALUES (?1, ?2, ?3)
                     ON CONFLICT (project, target) DO UPDATE SET note = ?3",
                    params![project, target_key(&note.target), to_json(note)?],
                )?;
            }
            Change::Thread {
                head,
                first_comment,
            } => {
                tx.execute(
                    "INSERT INTO annotation_threads (project, id, created_seq, head)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (project, id) DO UPDATE SET head = ?4",
                    params![project, head.id, seq, to_json(head)?],
                )?;
                if let Some(comment) = first_comment {
                    store_comment(tx, project, seq, comment)?;
                }
            }
            Change::Comment(comment) => store_comment(tx, project, seq, comment)?,
            Change::Run(overlay) => {
                tx.execute(
                    "INSERT INTO run_overlays (project, run, overlay) VALUES (?1, ?2, ?3)
                     ON CONFLICT (project, run) DO UPDATE SET overlay = ?3",
                    params![project, overlay.run, to_json(overlay)?],
                )?;
            }
            Change::Report(report) => super::reports::store(tx, project, seq, report)?,
        }
        Ok(())
    }
}

/// The field of a run an op sets.
enum RunField<'a> {
    Name(&'a str),
    Tags(&'a [String]),
}

/// A run's overlay as stored, or a blank one (both revs 0) when none was ever set.
fn run_overlay(conn: &Connection, project: &str, run: &str) -> DbResult<RunOverlay> {
    let json: Option<String> = conn
        .query_row(
            "SELECT overlay FROM run_overlays WHERE project = ?1 AND run = ?2",
            params![project, run],
            |r| r.get(0),
        )
        .optional()?;
    Ok(match json {
        Some(json) => serde_json::from_str(&json)?,
        None => RunOverlay {
            run: run.to_owned(),
            ..RunOverlay::default()
        },
    })
}

fn store_comment(tx: &Transaction, project: &str, seq: i64, comment: &Comment) -> DbResult<()> {
    tx.execute(
        "INSERT INTO annotation_comments (project, id, thread, created_seq, comment)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (project, id) DO UPDATE SET comment = ?5",
        params![project, comment.id, comment.thread, seq, to_json(comment)?],
    )?;
    Ok(())
}

fn no_thread(thread: &str) -> Refusal {
    Refusal::NotFound(format!("no thread '{thread}' in this project"))
}

fn no_comment(comment: &str) -> Refusal {
    Refusal::NotFound(format!("no comment '{comment}' in this project"))
}

/// The `target` column of a note: `project`, or `run:<run id>`.
fn target_key(target: &NoteTarget) -> String {
    match target {
        NoteTarget::Project => "project".to_owned(),
        NoteTarget::Run { run } => format!("run:{run}"),
    }
}

pub(super) fn blank_note(target: NoteTarget) -> Note {
    Note {
        target,
        text: String::new(),
        rev: 0,
        updated_by: None,
        updated_ms: 0.0,
    }
}

/// A note as stored, or the blank note (rev 0) when it was never written.
fn note(conn: &Connection, project: &str, target: &NoteTarget) -> DbResult<Note> {
    let json: Option<String> = conn
        .query_row(
            "SELECT note FROM annotation_notes WHERE project = ?1 AND target = ?2",
            params![project, target_key(target)],
            |r| r.get(0),
        )
        .optional()?;
    Ok(match json {
        Some(json) => serde_json::from_str(&json)?,
        None => blank_note(target.clone()),
    })
}

fn thread_head(conn: &Connection, project: &str, id: &str) -> DbResult<Option<(i64, ThreadHead)>> {
    row_with_seq(
        conn,
        "SELECT created_seq, head FROM annotation_threads WHERE project = ?1 AND id = ?2",
        project,
        id,
    )
}

fn comment_row(conn: &Connection, project: &str, id: &str) -> DbResult<Option<(i64, Comment)>> {
    row_with_seq(
        conn,
        "SELECT created_seq, comment FROM annotation_comments WHERE project = ?1 AND id = ?2",
        project,
        id,
    )
}

fn row_with_seq<T: DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    project: &str,
    id: &str,
) -> DbResult<Option<(i64, T)>> {
    let row: Option<(i64, String)> = conn
        .query_row(sql, params![project, id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(seq, json)| Ok((seq, serde_json::from_str(&json)?)))
        .transpose()
}

pub(super) fn to_json(value: &impl Serialize) -> DbResult<String> {
    Ok(serde_json::to_string(value)?)
}
