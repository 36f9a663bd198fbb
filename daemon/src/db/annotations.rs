//! Annotations (issue 9): run notes, the project notepad, comment threads and the op log they are
//! changed through (wire types in `trackline_shared::annotations`).
//!
//! `annotation_ops` is the append-only log: one row per committed op, with its server sequence
//! number (`seq`, one counter for the whole database), who made it, the op as asked and the
//! [`AnnotationEvent`] it produced. `annotation_notes`, `annotation_threads` and
//! `annotation_comments` hold the current state, each entity as its wire JSON, and are updated in
//! the same transaction as the log row, so the two never disagree. `(client_id, op_id)` is unique:
//! a retried op answers the logged event again and changes nothing, also after a crash, since the
//! answer is only given once the transaction is committed.
//!
//! The Python client reads these tables directly (read-only, `python/trackline/_annotations.py`):
//! their columns and JSON are a format as much as the wire types are.
//!
//! `validate` checks an op without the database; `ops` checks and applies it inside the write
//! transaction (revisions, authors, ids) and writes the state tables. `run_overlays` (migration
//! 5) holds the name and tags owners gave runs; the store shows them over `run.json`. `reports`
//! (migration 6, `reports.rs`) holds the reports (issue 10), changed by the report ops of the
//! same log.

mod ops;
mod reports;
#[cfg(test)]
mod tests;
mod validate;

pub(super) use reports::migrate as migrate_reports;

use super::{Db, DbResult};
use ops::{Apply, Step, blank_note};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use trackline_shared::annotations::{
    AnnotationEvent, Author, Comment, Note, NoteTarget, OpOutcome, OpRequest, ProjectAnnotations,
    RunOverlay, Seq, Thread, ThreadHead,
};

/// Migration 4: the op log and the notes, threads and comments it has made.
pub(super) fn migrate(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE annotation_ops (
             seq INTEGER PRIMARY KEY AUTOINCREMENT,
             project TEXT NOT NULL,
             ms REAL NOT NULL,
             author_id TEXT NOT NULL,
             author_label TEXT NOT NULL,
             client_id TEXT NOT NULL,
             op_id TEXT NOT NULL,
             op TEXT NOT NULL,
             event TEXT NOT NULL,
             UNIQUE (client_id, op_id)
         );
         CREATE INDEX annotation_ops_by_project ON annotation_ops (project, seq);
         CREATE TABLE annotation_notes (
             project TEXT NOT NULL,
             target TEXT NOT NULL,
             note TEXT NOT NULL,
             PRIMARY KEY (project, target)
         );
         CREATE TABLE annotation_threads (
             project TEXT NOT NULL,
             id TEXT NOT NULL,
             created_seq INTEGER NOT NULL,
             head TEXT NOT NULL,
             PRIMARY KEY (project, id)
         );
         CREATE TABLE annotation_comments (
             project TEXT NOT NULL,
             id TEXT NOT NULL,
             thread TEXT NOT NULL,
             created_seq INTEGER NOT NULL,
             comment TEXT NOT NULL,
             PRIMARY KEY (project, id)
         );
         CREATE INDEX annotation_comments_by_thread
             ON annotation_comments (project, thread, created_seq);",
    )
}

/// Migration 5: the name and tags owners gave runs (`run_overlays`, one [`RunOverlay`] JSON a
/// run), written by the `run_rename`/`run_retag` ops like the other state tables.
pub(super) fn migrate_run_overlays(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE run_overlays (
             project TEXT NOT NULL,
             run TEXT NOT NULL,
             overlay TEXT NOT NULL,
             PRIMARY KEY (project, run)
         );",
    )
}

/// Who sends an op, and what they may do beyond their own comments.
#[derive(Debug, Clone, PartialEq)]
pub struct Actor {
    pub author: Author,
    /// An owner may delete anyone's comment, and rename and retag runs.
    pub is_owner: bool,
}

/// What an op did: the answer to send ([`OpOutcome::Committed`] with the logged event, or
/// [`OpOutcome::Conflict`] for a stale `base_rev`: nothing changed, nothing logged).
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub outcome: OpOutcome,
    /// True when the op was committed just now; false for a conflict, and for an op committed
    /// before (a retry), which changed nothing now.
    pub fresh: bool,
}

impl Applied {
    fn committed(event: AnnotationEvent, fresh: bool) -> Applied {
        Applied {
            outcome: OpOutcome::Committed { event },
            fresh,
        }
    }
}

/// Why an op was refused (nothing changed, nothing logged). The text tells the client what to fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    /// Not the comment's author (nor, for a delete, an owner), or not an owner for a run op.
    #[error("{0}")]
    Forbidden(String),
    /// A thread or comment id that names another entity, or an op id reused for another op.
    #[error("{0}")]
    IdTaken(String),
    /// The comment was deleted: it can be neither edited nor deleted again.
    #[error("{0}")]
    Deleted(String),
}

/// The annotations of every project.
#[derive(Debug, Clone)]
pub struct Annotations {
    db: Arc<Db>,
}

impl Db {
    pub fn annotations(self: &Arc<Self>) -> Annotations {
        Annotations { db: self.clone() }
    }
}

impl Annotations {
    /// Applies `request` to `project` as `actor`, at `now_ms`: validates it, then in one write
    /// transaction answers a retry from the log, or checks and applies the op, appends it to the
    /// log and commits. `run_exists` says whether a run of the project exists (anchors and run
    /// notes must name one).
    pub fn apply(
        &self,
        project: &str,
        actor: &Actor,
        request: &OpRequest,
        now_ms: f64,
        run_exists: &dyn Fn(&str) -> bool,
    ) -> DbResult<Result<Applied, Refusal>> {
        if let Err(refusal) = validate::validate(request) {
            return Ok(Err(refusal));
        }
        let op_json = serde_json::to_string(&request.op)?;
        self.db.with(|conn| {
            // IMMEDIATE: the checks and the write happen under one write lock of the database.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if let Some(answer) = logged(&tx, project, request, &op_json)? {
                return Ok(answer);
            }
            let mut apply = Apply {
                tx: &tx,
                project,
                actor,
                now_ms,
                run_exists,
            };
            let change = match apply.op(&request.op)? {
                Step::Change(change) => change,
                Step::Done(answer) => return Ok(answer),
            };
            let seq = next_seq(&tx)?;
            let event = AnnotationEvent {
                seq,
                project: project.to_owned(),
                ms: now_ms,
                author: actor.author.clone(),
                client_id: request.client_id.clone(),
                op_id: request.op_id.clone(),
                change,
            };
            apply.store(&event)?;
            tx.execute(
                "INSERT INTO annotation_ops
                     (seq, project, ms, author_id, author_label, client_id, op_id, op, event)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    seq as i64,
                    project,
                    now_ms,
                    actor.author.id,
                    actor.author.label,
                    request.client_id,
                    request.op_id,
                    op_json,
                    serde_json::to_string(&event)?
                ],
            )?;
            tx.commit()?;
            Ok(Ok(Applied::committed(event, true)))
        })
    }

    /// Everything annotated in `project`, with the last op-log `seq` of the project it includes.
    /// The notepad is always there (rev 0 when never written).
    pub fn snapshot(&self, project: &str) -> DbResult<ProjectAnnotations> {
        self.db.with(|conn| {
            let tx = conn.transaction()?;
            let seq: i64 = tx.query_row(
                "SELECT COALESCE(MAX(seq), 0) FROM annotation_ops WHERE project = ?1",
                [project],
                |r| r.get(0),
            )?;
            let mut notepad = None;
            let mut run_notes = Vec::new();
            for note in rows::<Note>(
                &tx,
                "SELECT note FROM annotation_notes WHERE project = ?1 ORDER BY target",
                project,
            )? {
                match note.target {
                    NoteTarget::Project => notepad = Some(note),
                    NoteTarget::Run { .. } => run_notes.push(note),
                }
            }
            let mut threads: Vec<Thread> = rows::<ThreadHead>(
                &tx,
                "SELECT head FROM annotation_threads WHERE project = ?1 ORDER BY created_seq",
                project,
            )?
            .into_iter()
            .map(|head| Thread {
                head,
                comments: Vec::new(),
            })
            .collect();
            let at: std::collections::HashMap<String, usize> = threads
                .iter()
                .enumerate()
                .map(|(i, t)| (t.head.id.clone(), i))
                .collect();
            for comment in rows::<Comment>(
                &tx,
                "SELECT comment FROM annotation_comments WHERE project = ?1 ORDER BY created_seq",
                project,
            )? {
                if let Some(&i) = at.get(&comment.thread) {
                    threads[i].comments.push(comment);
                }
            }
            let run_overlays = rows::<RunOverlay>(
                &tx,
                "SELECT overlay FROM run_overlays WHERE project = ?1 ORDER BY run",
                project,
            )?;
            Ok(ProjectAnnotations {
                project: project.to_owned(),
                seq: seq.max(0) as Seq,
                notepad: Some(notepad.unwrap_or_else(|| blank_note(NoteTarget::Project))),
                run_notes,
                threads,
                run_overlays,
                reports: reports::live_reports(&tx, project)?,
            })
        })
    }

    /// Every run overlay of every project, as `(project, overlay)`: what the store shows on top
    /// of the runs' own `run.json` from the start.
    pub fn run_overlays(&self) -> DbResult<Vec<(String, RunOverlay)>> {
        self.db.with(|conn| {
            let rows: Vec<(String, String)> = conn
                .prepare("SELECT project, overlay FROM run_overlays ORDER BY project, run")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            rows.into_iter()
                .map(|(project, json)| Ok((project, serde_json::from_str(&json)?)))
                .collect()
        })
    }

    /// A page of `project`'s events with `seq > since`, oldest first: at most `max_events`, and
    /// no more than `max_bytes` of encoded JSON (but always one event when there is one).
    pub fn events_since(
        &self,
        project: &str,
        since: Seq,
        max_events: usize,
        max_bytes: usize,
    ) -> DbResult<Vec<AnnotationEvent>> {
        self.db.with(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT event FROM annotation_ops WHERE project = ?1 AND seq > ?2
                 ORDER BY seq LIMIT ?3",
            )?;
            let mut rows = stmt.query(params![project, since as i64, max_events as i64])?;
            let (mut events, mut bytes) = (Vec::new(), 0usize);
            while let Some(row) = rows.next()? {
                let json: String = row.get(0)?;
                bytes += json.len();
                if !events.is_empty() && bytes > max_bytes {
                    break;
                }
                events.push(serde_json::from_str(&json)?);
            }
            Ok(events)
        })
    }
}

/// The answer to an op already in the log under `(client_id, op_id)`, if it is there.
fn logged(
    tx: &Transaction,
    project: &str,
    request: &OpRequest,
    op_json: &str,
) -> DbResult<Option<Result<Applied, Refusal>>> {
    let row: Option<(String, String, String)> = tx
        .query_row(
            "SELECT project, op, event FROM annotation_ops WHERE client_id = ?1 AND op_id = ?2",
            params![request.client_id, request.op_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((logged_project, logged_op, event)) = row else {
        return Ok(None);
    };
    if logged_project != project || logged_op != op_json {
        return Ok(Some(Err(Refusal::IdTaken(format!(
            "op_id '{}' of this client was already used for another op; send a new op_id",
            request.op_id
        )))));
    }
    Ok(Some(Ok(Applied::committed(
        serde_json::from_str(&event)?,
        false,
    ))))
}

fn next_seq(tx: &Transaction) -> DbResult<Seq> {
    // AUTOINCREMENT keeps the largest seq ever used in `sqlite_sequence`: a seq is never reused.
    let last: i64 = tx.query_row(
        "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'annotation_ops'), 0)",
        [],
        |r| r.get(0),
    )?;
    Ok(last.max(0) as Seq + 1)
}

fn rows<T: DeserializeOwned>(conn: &Connection, sql: &str, project: &str) -> DbResult<Vec<T>> {
    let texts: Vec<String> = conn
        .prepare(sql)?
        .query_map([project], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    texts
        .iter()
        .map(|json| Ok(serde_json::from_str(json)?))
        .collect()
}
