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

use super::{Db, DbResult};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use trackline_shared::annotations::{
    Anchor, AnnotationEvent, Author, Change, Comment, Current, MAX_ANNOTATION_ID_LEN,
    MAX_ANNOTATION_TEXT_BYTES, Note, NoteTarget, Op, OpOutcome, OpRequest, ProjectAnnotations, Seq,
    Thread, ThreadHead,
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

/// Who sends an op, and what they may do beyond their own comments.
#[derive(Debug, Clone, PartialEq)]
pub struct Actor {
    pub author: Author,
    /// An owner may delete anyone's comment.
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
    /// Not the comment's author (nor, for a delete, an owner).
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
        if let Err(refusal) = validate(request) {
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
            Ok(ProjectAnnotations {
                project: project.to_owned(),
                seq: seq.max(0) as Seq,
                notepad: Some(notepad.unwrap_or_else(|| blank_note(NoteTarget::Project))),
                run_notes,
                threads,
            })
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

/// Checks what can be checked without the database: ids, text sizes, pin coordinates.
fn validate(request: &OpRequest) -> Result<(), Refusal> {
    check_id("client_id", &request.client_id)?;
    check_id("op_id", &request.op_id)?;
    match &request.op {
        Op::NoteSet { target, text, .. } => {
            if let NoteTarget::Run { run } = target {
                check_name("run", run)?;
            }
            check_text(text)
        }
        Op::ThreadCreate {
            thread,
            anchor,
            comment,
            text,
        } => {
            check_id("thread", thread)?;
            check_id("comment", comment)?;
            check_anchor(anchor)?;
            check_text(text)
        }
        Op::ThreadResolve { thread, .. } => check_id("thread", thread),
        Op::CommentAdd {
            thread,
            comment,
            text,
        } => {
            check_id("thread", thread)?;
            check_id("comment", comment)?;
            check_text(text)
        }
        Op::CommentEdit { comment, text, .. } => {
            check_id("comment", comment)?;
            check_text(text)
        }
        Op::CommentDelete { comment } => check_id("comment", comment),
    }
}

fn check_id(what: &str, id: &str) -> Result<(), Refusal> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ANNOTATION_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Refusal::Invalid(format!(
            "{what} must be 1 to {MAX_ANNOTATION_ID_LEN} characters of A-Z, a-z, 0-9, _ and -"
        )))
    }
}

/// A run id or metric key: not empty, and short enough to be one.
fn check_name(what: &str, name: &str) -> Result<(), Refusal> {
    if name.is_empty() || name.len() > 1024 {
        return Err(Refusal::Invalid(format!(
            "{what} must be 1 to 1024 bytes long"
        )));
    }
    Ok(())
}

fn check_text(text: &str) -> Result<(), Refusal> {
    if text.len() > MAX_ANNOTATION_TEXT_BYTES {
        return Err(Refusal::Invalid(format!(
            "the text is {} bytes; at most {MAX_ANNOTATION_TEXT_BYTES} are accepted",
            text.len()
        )));
    }
    Ok(())
}

fn check_anchor(anchor: &Anchor) -> Result<(), Refusal> {
    check_name("run", anchor.run())?;
    let Anchor::Pin {
        key,
        x_axis,
        x0,
        x1,
        y,
        ..
    } = anchor
    else {
        return Ok(());
    };
    check_name("key", key)?;
    check_name("x_axis", x_axis)?;
    let finite = x0.is_finite() && x1.is_none_or(f64::is_finite) && y.is_none_or(f64::is_finite);
    if !finite {
        return Err(Refusal::Invalid(
            "a pin's x0, x1 and y must be finite numbers".into(),
        ));
    }
    if x1.is_some_and(|x1| x1 < *x0) {
        return Err(Refusal::Invalid(
            "a pin's x1 must not be below its x0".into(),
        ));
    }
    Ok(())
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

/// The result of checking an op: the change to log, or the answer without one.
enum Step {
    Change(Change),
    Done(Result<Applied, Refusal>),
}

fn refuse(refusal: Refusal) -> DbResult<Step> {
    Ok(Step::Done(Err(refusal)))
}

fn conflict(current: Current) -> DbResult<Step> {
    Ok(Step::Done(Ok(Applied {
        outcome: OpOutcome::Conflict { current },
        fresh: false,
    })))
}

/// One op being applied inside the write transaction.
struct Apply<'a> {
    tx: &'a Transaction<'a>,
    project: &'a str,
    actor: &'a Actor,
    now_ms: f64,
    run_exists: &'a dyn Fn(&str) -> bool,
}

impl Apply<'_> {
    fn op(&mut self, op: &Op) -> DbResult<Step> {
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
            let same = head.anchor == *anchor
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
        if let Some(refusal) = self.missing_run(anchor.run()) {
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
    fn creation_event(&self, seq: i64) -> DbResult<Step> {
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
    fn store(&self, event: &AnnotationEvent) -> DbResult<()> {
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
        }
        Ok(())
    }
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

fn blank_note(target: NoteTarget) -> Note {
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

fn to_json(value: &impl Serialize) -> DbResult<String> {
    Ok(serde_json::to_string(value)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open() -> (tempfile::TempDir, Annotations) {
        let dir = tempfile::tempdir().unwrap();
        let annotations = Db::open_in(dir.path()).unwrap().annotations();
        (dir, annotations)
    }

    fn actor(id: &str, is_owner: bool) -> Actor {
        Actor {
            author: Author {
                id: id.into(),
                label: format!("{id}'s label"),
            },
            is_owner,
        }
    }

    fn request(client: &str, op_id: &str, op: Op) -> OpRequest {
        OpRequest {
            client_id: client.into(),
            op_id: op_id.into(),
            op,
        }
    }

    fn pin(run: &str, x0: f64, x1: Option<f64>) -> Anchor {
        Anchor::Pin {
            run: run.into(),
            key: "loss".into(),
            x_axis: "_step".into(),
            x0,
            x1,
            y: None,
        }
    }

    fn thread_create(thread: &str, comment: &str, text: &str) -> Op {
        Op::ThreadCreate {
            thread: thread.into(),
            anchor: pin("r1", 1200.0, None),
            comment: comment.into(),
            text: text.into(),
        }
    }

    fn only_r1(run: &str) -> bool {
        run == "r1"
    }

    impl Annotations {
        /// Applies an op to project `p` (run `r1` exists) at time 1000.
        fn send(&self, actor: &Actor, request: &OpRequest) -> Result<Applied, Refusal> {
            self.apply("p", actor, request, 1000.0, &only_r1).unwrap()
        }

        /// Applies an op that must commit; answers its event and whether it was fresh.
        fn commit(&self, actor: &Actor, request: &OpRequest) -> (AnnotationEvent, bool) {
            match self.send(actor, request) {
                Ok(Applied {
                    outcome: OpOutcome::Committed { event },
                    fresh,
                }) => (event, fresh),
                other => panic!("{request:?} did not commit: {other:?}"),
            }
        }

        fn log_len(&self) -> i64 {
            self.db
                .with(|c| Ok(c.query_row("SELECT COUNT(*) FROM annotation_ops", [], |r| r.get(0))?))
                .unwrap()
        }
    }

    #[test]
    fn a_retried_op_answers_the_logged_event_and_applies_once_also_after_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let alice = actor("a", false);
        let add_note = request(
            "c1",
            "o1",
            Op::NoteSet {
                target: NoteTarget::Project,
                text: "plan".into(),
                base_rev: 0,
            },
        );
        let first = {
            let annotations = Db::open_in(dir.path()).unwrap().annotations();
            let (event, fresh) = annotations.commit(&alice, &add_note);
            assert!(fresh);
            assert_eq!(event.seq, 1);
            let (again, fresh) = annotations.commit(&alice, &add_note);
            assert_eq!((again, fresh), (event.clone(), false));
            event
        };
        let annotations = Db::open_in(dir.path()).unwrap().annotations();
        assert_eq!(
            annotations.commit(&alice, &add_note),
            (first.clone(), false)
        );
        assert_eq!(annotations.log_len(), 1);
        let snapshot = annotations.snapshot("p").unwrap();
        assert_eq!(snapshot.seq, 1);
        let notepad = snapshot.notepad.unwrap();
        assert_eq!((notepad.text.as_str(), notepad.rev), ("plan", 1));
        assert_eq!(Change::Note(notepad), first.change);

        // The same op id for another op is refused, whatever the project.
        let other = request(
            "c1",
            "o1",
            Op::NoteSet {
                target: NoteTarget::Project,
                text: "other".into(),
                base_rev: 1,
            },
        );
        assert!(matches!(
            annotations.send(&alice, &other),
            Err(Refusal::IdTaken(_))
        ));
        let elsewhere = annotations
            .apply("q", &alice, &add_note, 1.0, &only_r1)
            .unwrap();
        assert!(matches!(elsewhere, Err(Refusal::IdTaken(_))));
        assert_eq!(annotations.log_len(), 1);
    }

    #[test]
    fn a_stale_base_rev_conflicts_with_the_current_value_and_logs_nothing() {
        let (_dir, annotations) = open();
        let (alice, bob) = (actor("a", false), actor("b", false));
        let note = |op_id: &str, text: &str, base_rev: u64| {
            request(
                op_id,
                "o",
                Op::NoteSet {
                    target: NoteTarget::Run { run: "r1".into() },
                    text: text.into(),
                    base_rev,
                },
            )
        };
        annotations.commit(&alice, &note("c1", "from alice", 0));
        let refused = annotations.send(&bob, &note("c2", "from bob", 0));
        let Ok(Applied {
            outcome:
                OpOutcome::Conflict {
                    current: Current::Note(current),
                },
            ..
        }) = refused
        else {
            panic!("bob's stale edit must conflict: {refused:?}");
        };
        assert_eq!((current.text.as_str(), current.rev), ("from alice", 1));
        assert_eq!(current.updated_by, Some(alice.author.clone()));
        assert_eq!(annotations.log_len(), 1);
        // Retried on the current rev, bob's text wins.
        let (event, _) = annotations.commit(&bob, &note("c3", "from bob", 1));
        assert!(matches!(&event.change, Change::Note(n) if n.rev == 2 && n.text == "from bob"));
        assert_eq!(annotations.snapshot("p").unwrap().run_notes.len(), 1);

        // A thread's resolved state, likewise.
        annotations.commit(
            &alice,
            &request("c1", "t", thread_create("t1", "k1", "spike")),
        );
        let resolve = |client: &str, resolved: bool, base_rev: u64| {
            request(
                client,
                "r",
                Op::ThreadResolve {
                    thread: "t1".into(),
                    resolved,
                    base_rev,
                },
            )
        };
        let (event, _) = annotations.commit(&bob, &resolve("c4", true, 1));
        assert!(
            matches!(&event.change, Change::Thread { head, first_comment: None } if head.resolved && head.rev == 2)
        );
        let refused = annotations.send(&alice, &resolve("c5", false, 1));
        assert!(
            matches!(refused, Ok(Applied { outcome: OpOutcome::Conflict { current: Current::Thread(ref h) }, .. }) if h.resolved && h.rev == 2)
        );
    }

    #[test]
    fn comments_are_edited_by_their_author_and_deleted_to_a_tombstone() {
        let (_dir, annotations) = open();
        let (alice, bob, owner) = (actor("a", false), actor("b", false), actor("o", true));
        annotations.commit(
            &alice,
            &request("c", "1", thread_create("t1", "k1", "spike")),
        );
        let add = request(
            "c",
            "2",
            Op::CommentAdd {
                thread: "t1".into(),
                comment: "k2".into(),
                text: "seen it".into(),
            },
        );
        annotations.commit(&bob, &add);
        let edit = |client: &str, comment: &str, text: &str, base_rev: u64| {
            request(
                client,
                "e",
                Op::CommentEdit {
                    comment: comment.into(),
                    text: text.into(),
                    base_rev,
                },
            )
        };
        // Not bob's comment: refused, even for an owner.
        assert!(matches!(
            annotations.send(&bob, &edit("b1", "k1", "mine now", 1)),
            Err(Refusal::Forbidden(_))
        ));
        assert!(matches!(
            annotations.send(&owner, &edit("o1", "k1", "mine now", 1)),
            Err(Refusal::Forbidden(_))
        ));
        let (event, _) = annotations.commit(&alice, &edit("a1", "k1", "a spike at 1200", 1));
        let Change::Comment(edited) = &event.change else {
            panic!("{event:?}");
        };
        assert_eq!((edited.rev, edited.edited_ms), (2, Some(1000.0)));
        assert!(matches!(
            annotations.send(&alice, &edit("a2", "k1", "stale", 1)),
            Ok(Applied { outcome: OpOutcome::Conflict { current: Current::Comment(ref c) }, .. }) if c.text == "a spike at 1200"
        ));

        let delete = |client: &str, comment: &str| {
            request(
                client,
                "d",
                Op::CommentDelete {
                    comment: comment.into(),
                },
            )
        };
        assert!(matches!(
            annotations.send(&alice, &delete("a3", "k2")),
            Err(Refusal::Forbidden(_))
        ));
        let (event, _) = annotations.commit(&owner, &delete("o2", "k2"));
        assert!(
            matches!(&event.change, Change::Comment(c) if c.deleted && c.text.is_empty() && c.rev == 2)
        );
        annotations.commit(&alice, &delete("a4", "k1"));
        assert!(matches!(
            annotations.send(&alice, &delete("a5", "k1")),
            Err(Refusal::Deleted(_))
        ));
        assert!(matches!(
            annotations.send(&alice, &edit("a6", "k1", "back", 3)),
            Err(Refusal::Deleted(_))
        ));
        let threads = annotations.snapshot("p").unwrap().threads;
        let comments = &threads[0].comments;
        assert_eq!(comments.len(), 2, "tombstones stay");
        assert!(comments.iter().all(|c| c.deleted && c.text.is_empty()));
        assert_eq!(comments[0].id, "k1");
    }

    #[test]
    fn a_taken_id_is_refused_unless_it_is_the_same_create_again() {
        let (_dir, annotations) = open();
        let alice = actor("a", false);
        let (event, _) = annotations.commit(
            &alice,
            &request("c", "1", thread_create("t1", "k1", "spike")),
        );
        // The same create under another op id: the same event, nothing applied.
        assert_eq!(
            annotations.commit(
                &alice,
                &request("c", "2", thread_create("t1", "k1", "spike"))
            ),
            (event, false)
        );
        for op in [
            thread_create("t1", "k9", "spike"),
            thread_create("t1", "k1", "other text"),
            thread_create("t2", "k1", "spike"),
        ] {
            let refused = annotations.send(&alice, &request("c", "3", op));
            assert!(matches!(refused, Err(Refusal::IdTaken(_))), "{refused:?}");
        }
        let add = |comment: &str, text: &str| {
            request(
                "c",
                &format!("add-{comment}-{}", text.len()),
                Op::CommentAdd {
                    thread: "t1".into(),
                    comment: comment.into(),
                    text: text.into(),
                },
            )
        };
        assert!(matches!(
            annotations.send(&alice, &add("k1", "new")),
            Err(Refusal::IdTaken(_))
        ));
        let (event, _) = annotations.commit(&alice, &add("k2", "new"));
        let retried = request("c", "other-op", add("k2", "new").op);
        assert_eq!(annotations.commit(&alice, &retried), (event, false));
        assert_eq!(annotations.log_len(), 2);
    }

    #[test]
    fn bad_ops_are_refused_before_anything_is_written() {
        let (_dir, annotations) = open();
        let alice = actor("a", false);
        let long = "x".repeat(MAX_ANNOTATION_ID_LEN + 1);
        let big = "x".repeat(MAX_ANNOTATION_TEXT_BYTES + 1);
        let create = |anchor: Anchor| Op::ThreadCreate {
            thread: "t1".into(),
            anchor,
            comment: "k1".into(),
            text: "t".into(),
        };
        let invalid = [
            request(&long, "o", thread_create("t1", "k1", "t")),
            request("c", "o/1", thread_create("t1", "k1", "t")),
            request("c", "o", thread_create("", "k1", "t")),
            request("c", "o", thread_create("t 1", "k1", "t")),
            request("c", "o", thread_create("t1", "k1", &big)),
            request("c", "o", create(pin("r1", f64::NAN, None))),
            request("c", "o", create(pin("r1", 1.0, Some(f64::INFINITY)))),
            request("c", "o", create(pin("r1", 2.0, Some(1.0)))),
            request(
                "c",
                "o",
                Op::NoteSet {
                    target: NoteTarget::Project,
                    text: big.clone(),
                    base_rev: 0,
                },
            ),
        ];
        for r in &invalid {
            let refused = annotations.send(&alice, r);
            assert!(
                matches!(refused, Err(Refusal::Invalid(_))),
                "{r:?}: {refused:?}"
            );
        }
        let not_found = [
            request("c", "o", create(pin("r2", 1.0, Some(2.0)))),
            request(
                "c",
                "o",
                Op::NoteSet {
                    target: NoteTarget::Run { run: "r2".into() },
                    text: "t".into(),
                    base_rev: 0,
                },
            ),
            request(
                "c",
                "o",
                Op::CommentAdd {
                    thread: "nope".into(),
                    comment: "k1".into(),
                    text: "t".into(),
                },
            ),
            request(
                "c",
                "o",
                Op::ThreadResolve {
                    thread: "nope".into(),
                    resolved: true,
                    base_rev: 1,
                },
            ),
            request(
                "c",
                "o",
                Op::CommentDelete {
                    comment: "nope".into(),
                },
            ),
        ];
        for r in &not_found {
            let refused = annotations.send(&alice, r);
            assert!(
                matches!(refused, Err(Refusal::NotFound(_))),
                "{r:?}: {refused:?}"
            );
        }
        assert_eq!(annotations.log_len(), 0);
        // A range pin with x0 == x1, and a pin at a point, are fine.
        annotations.commit(
            &alice,
            &request("c", "o", create(pin("r1", 1.0, Some(1.0)))),
        );
    }

    #[test]
    fn events_come_by_project_in_seq_order_in_bounded_pages() {
        let (_dir, annotations) = open();
        let alice = actor("a", false);
        for i in 0..5u64 {
            for project in ["p", "q"] {
                let r = request(
                    "c",
                    &format!("{project}{i}"),
                    Op::NoteSet {
                        target: NoteTarget::Project,
                        text: "x".repeat(100),
                        base_rev: i,
                    },
                );
                annotations
                    .apply(project, &alice, &r, 1.0, &only_r1)
                    .unwrap()
                    .unwrap();
            }
        }
        let seqs = |events: Vec<AnnotationEvent>| events.iter().map(|e| e.seq).collect::<Vec<_>>();
        assert_eq!(
            seqs(annotations.events_since("p", 0, 100, 1 << 20).unwrap()),
            [1, 3, 5, 7, 9]
        );
        assert_eq!(
            seqs(annotations.events_since("q", 4, 2, 1 << 20).unwrap()),
            [6, 8]
        );
        // Pages hold whole events within the byte limit, and always one.
        let one = serde_json::to_string(&annotations.events_since("p", 0, 1, 1).unwrap()[0])
            .unwrap()
            .len();
        assert_eq!(
            seqs(
                annotations
                    .events_since("p", 1, 100, 2 * one + one / 2)
                    .unwrap()
            ),
            [3, 5]
        );
        assert_eq!(seqs(annotations.events_since("p", 1, 100, 1).unwrap()), [3]);
        assert!(
            annotations
                .events_since("p", 9, 100, 1 << 20)
                .unwrap()
                .is_empty()
        );
        assert_eq!(annotations.snapshot("q").unwrap().seq, 10);
        assert_eq!(annotations.snapshot("none").unwrap().seq, 0);
        assert_eq!(
            annotations.snapshot("none").unwrap().notepad.unwrap().rev,
            0
        );
    }
}
