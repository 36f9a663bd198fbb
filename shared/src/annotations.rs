//! Annotations: a markdown note per run, the project notepad, comment threads on a run, on a
//! chart point or on an x-range of a metric (a pin), and the op log that carries every change.
//!
//! The daemon is the one authority. A client sends an [`OpRequest`] (`POST
//! /api/projects/{project}/annotations/ops`); the daemon appends it to the project's op log with
//! the next server sequence number ([`Seq`]) and answers [`OpOutcome::Committed`] with the
//! [`AnnotationEvent`] it logged, or [`OpOutcome::Conflict`] with the current value when the op's
//! `base_rev` is stale. Every committed event reaches subscribers of the `annotations` WebSocket
//! topic (the sender too). Events carry the whole new state of the entity they change, so a
//! client applies them as upserts keyed by id, in `seq` order.
//!
//! Idempotence: `(client_id, op_id)` names an op; a retried op that was committed answers the
//! same event again and is not applied twice (also across a daemon restart).
//!
//! Conflicts: comments are append-only; note text, a thread's resolved state and a comment's text
//! are last-writer-wins per field with a revision check: an op whose `base_rev` is not the
//! current `rev` is refused with the current value, so no text is ever silently lost.

use crate::reports::{BlockContent, NewBlock, Report};
use serde::{Deserialize, Serialize};

/// Server sequence number of the op log: one counter for the whole daemon, starting at 1.
pub type Seq = u64;

/// Who made a change: the share link it came through (`id`, public, never the secret) and that
/// link's label; the local user without sharing is `{id: "local", label: "local"}`.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug, Default)]
pub struct Author {
    pub id: String,
    pub label: String,
}

/// What a note belongs to.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NoteTarget {
    /// The note of one run (shown on its run page).
    Run { run: String },
    /// The project's notepad (shown above the runs).
    Project,
}

/// A note: markdown text with its revision. `rev` 0 means never written (`text` empty).
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct Note {
    pub target: NoteTarget,
    pub text: String,
    pub rev: u64,
    /// The last writer; `None` for a note never written.
    pub updated_by: Option<Author>,
    /// Unix time of the last write, in milliseconds; 0 when never written.
    pub updated_ms: f64,
}

/// Where a thread hangs.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Anchor {
    /// On a run as a whole.
    Run { run: String },
    /// A pin on metric `key` of run `run`: a point at `x0` (and optionally its `y`), or the x-range
    /// `x0..=x1`. `x_axis` names the x the coordinates are in: `_step`, `_runtime`, `_timestamp`
    /// or another metric's key. Shown as a marker (point) or a band (range) on every chart of
    /// `key` whose x axis is `x_axis`.
    Pin {
        run: String,
        key: String,
        x_axis: String,
        x0: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        x1: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        y: Option<f64>,
    },
    /// On one block of a report.
    ReportBlock { report: String, block: String },
}

impl Anchor {
    /// The run the anchor belongs to; `None` for a report block.
    pub fn run(&self) -> Option<&str> {
        match self {
            Anchor::Run { run } | Anchor::Pin { run, .. } => Some(run),
            Anchor::ReportBlock { .. } => None,
        }
    }
}

/// A thread without its comments: what a `thread` event carries.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct ThreadHead {
    /// Chosen by the client that created it (unique, at most 64 characters of `[A-Za-z0-9_-]`).
    pub id: String,
    pub anchor: Anchor,
    pub resolved: bool,
    /// Revision of `resolved`: 1 when created, +1 on each resolve or reopen.
    pub rev: u64,
    pub created_by: Author,
    pub created_ms: f64,
}

/// One comment. A deleted comment stays as a tombstone: `deleted` true, `text` empty.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct Comment {
    /// Chosen by the client that added it (same rules as a thread id).
    pub id: String,
    pub thread: String,
    pub text: String,
    pub author: Author,
    pub created_ms: f64,
    /// When the text was last edited, if ever.
    #[serde(default)]
    pub edited_ms: Option<f64>,
    /// Revision of `text`: 1 when added, +1 on each edit or the delete.
    pub rev: u64,
    #[serde(default)]
    pub deleted: bool,
}

/// A thread with its comments, oldest first (tombstones included).
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct Thread {
    pub head: ThreadHead,
    pub comments: Vec<Comment>,
}

/// `GET /api/projects/{project}/annotations`: everything annotated in a project, as of `seq`.
/// A client then subscribes to the `annotations` topic with `since: seq`.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug, Default)]
pub struct ProjectAnnotations {
    pub project: String,
    /// The last op-log sequence number this snapshot includes.
    pub seq: Seq,
    /// The notepad (rev 0 when never written).
    pub notepad: Option<Note>,
    /// Notes of runs that have one.
    pub run_notes: Vec<Note>,
    /// Threads, oldest first.
    pub threads: Vec<Thread>,
    /// Runs an owner renamed or retagged in the web app.
    #[serde(default)]
    pub run_overlays: Vec<RunOverlay>,
    /// The project's reports, oldest first (a viewer of a shared daemon gets only published ones,
    /// as their published copy).
    #[serde(default)]
    pub reports: Vec<Report>,
}

/// The name and tags an owner gave a run in the web app, shown instead of what the run's
/// `run.json` says (the run directory keeps one writer, the client; this lives in the daemon's
/// database). `None` leaves the field as the client wrote it. Each field has its own revision:
/// 0 when never set, +1 on each set.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug, Default)]
pub struct RunOverlay {
    pub run: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub name_rev: u64,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub tags_rev: u64,
    /// The last writer of either field; `None` when never set.
    #[serde(default)]
    pub updated_by: Option<Author>,
    /// Unix time of the last write, in milliseconds; 0 when never set.
    #[serde(default)]
    pub updated_ms: f64,
}

/// A change, as the client asks for it.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Op {
    /// Replace a note's text; `base_rev` is the rev the editor started from (0 for a new note).
    NoteSet {
        target: NoteTarget,
        text: String,
        base_rev: u64,
    },
    /// Open a thread with its first comment.
    ThreadCreate {
        thread: String,
        anchor: Anchor,
        comment: String,
        text: String,
    },
    /// Resolve (`true`) or reopen (`false`) a thread.
    ThreadResolve {
        thread: String,
        resolved: bool,
        base_rev: u64,
    },
    CommentAdd {
        thread: String,
        comment: String,
        text: String,
    },
    /// Only the comment's author may edit it.
    CommentEdit {
        comment: String,
        text: String,
        base_rev: u64,
    },
    /// Only the comment's author (or an owner) may delete it; leaves a tombstone.
    CommentDelete { comment: String },
    /// Owners only: show the run as `name` (1 to [`MAX_RUN_NAME_CHARS`] characters);
    /// `base_rev` is the overlay's `name_rev` the editor started from.
    RunRename {
        run: String,
        name: String,
        base_rev: u64,
    },
    /// Owners only: show the run with `tags` (at most [`MAX_RUN_TAGS`], each 1 to
    /// [`MAX_RUN_TAG_CHARS`] characters); `base_rev` is the overlay's `tags_rev`.
    RunRetag {
        run: String,
        tags: Vec<String>,
        base_rev: u64,
    },
    /// Owners only: a new report (id unused so far) with its first blocks.
    ReportCreate {
        report: String,
        title: String,
        #[serde(default)]
        blocks: Vec<NewBlock>,
    },
    /// Owners only: rename a report; `base_rev` is its `title_rev`.
    ReportTitle {
        report: String,
        title: String,
        base_rev: u64,
    },
    /// Owners only: insert a block after block `after` (`None`: first; a block that is gone:
    /// last).
    BlockAdd {
        report: String,
        after: Option<String>,
        block: NewBlock,
    },
    /// Owners only: replace a block's content; `base_rev` is the block's `rev`.
    BlockSet {
        report: String,
        block: String,
        content: BlockContent,
        base_rev: u64,
    },
    /// Owners only: move a block after block `after` (`None`: first).
    BlockMove {
        report: String,
        block: String,
        after: Option<String>,
    },
    /// Owners only: remove a block from the draft.
    BlockDelete { report: String, block: String },
    /// Owners only: copy the draft to the published report.
    ReportPublish { report: String },
    /// Owners only: delete a report (a tombstone stays).
    ReportDelete { report: String },
}

/// `POST /api/projects/{project}/annotations/ops` body.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct OpRequest {
    /// A random id per browser tab or client process (at most 64 characters of `[A-Za-z0-9_-]`).
    pub client_id: String,
    /// Unique within the client (same rules); a retry sends the same id.
    pub op_id: String,
    pub op: Op,
}

/// The new state of the one entity an op changed.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(
    clippy::large_enum_variant,
    reason = "a wire type made once per op; boxing a variant would only add noise to every match"
)]
pub enum Change {
    Note(Note),
    /// A thread was created (with its first comment in `first_comment`) or resolved/reopened.
    Thread {
        head: ThreadHead,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        first_comment: Option<Comment>,
    },
    Comment(Comment),
    /// A run was renamed or retagged: its whole overlay.
    Run(RunOverlay),
    /// A report was created or changed: the whole report (a tombstone when deleted).
    Report(Report),
}

/// One committed op, as logged and pushed.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct AnnotationEvent {
    pub seq: Seq,
    pub project: String,
    pub ms: f64,
    pub author: Author,
    /// The op that made it, so a client can match its own pending ops.
    pub client_id: String,
    pub op_id: String,
    pub change: Change,
}

/// What a conflicting op is refused with: the entity as it is now.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Current {
    Note(Note),
    Thread(ThreadHead),
    Comment(Comment),
    Run(RunOverlay),
    Report(Report),
}

/// The answer to an [`OpRequest`] (HTTP 200 for both; refusals such as `forbidden` or a bad op
/// are ordinary JSON errors).
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[allow(
    clippy::large_enum_variant,
    reason = "a wire type made once per op; boxing a variant would only add noise to every match"
)]
pub enum OpOutcome {
    Committed {
        event: AnnotationEvent,
    },
    /// `base_rev` was stale: nothing changed; `current` is what the op raced with.
    Conflict {
        current: Current,
    },
}

/// Longest note or comment text accepted, in bytes.
pub const MAX_ANNOTATION_TEXT_BYTES: usize = 64 * 1024;

/// Longest client, op, thread or comment id.
pub const MAX_ANNOTATION_ID_LEN: usize = 64;

/// Longest run name an owner may set, in characters.
pub const MAX_RUN_NAME_CHARS: usize = 128;
/// Most tags an owner may set on a run.
pub const MAX_RUN_TAGS: usize = 32;
/// Longest tag an owner may set, in characters.
pub const MAX_RUN_TAG_CHARS: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_and_outcomes_have_stable_json() {
        let req = OpRequest {
            client_id: "c1".into(),
            op_id: "o1".into(),
            op: Op::ThreadCreate {
                thread: "t1".into(),
                anchor: Anchor::Pin {
                    run: "r".into(),
                    key: "loss".into(),
                    x_axis: "_step".into(),
                    x0: 1200.0,
                    x1: None,
                    y: None,
                },
                comment: "k1".into(),
                text: "spike".into(),
            },
        };
        let s = serde_json::to_string(&req).unwrap();
        assert_eq!(
            s,
            r#"{"client_id":"c1","op_id":"o1","op":{"kind":"thread_create","thread":"t1","anchor":{"kind":"pin","run":"r","key":"loss","x_axis":"_step","x0":1200.0},"comment":"k1","text":"spike"}}"#
        );
        assert_eq!(serde_json::from_str::<OpRequest>(&s).unwrap(), req);
        let note = Note {
            target: NoteTarget::Project,
            text: "t".into(),
            rev: 2,
            updated_by: None,
            updated_ms: 0.0,
        };
        let out = OpOutcome::Conflict {
            current: Current::Note(note),
        };
        let s = serde_json::to_string(&out).unwrap();
        assert!(
            s.starts_with(
                r#"{"outcome":"conflict","current":{"kind":"note","target":{"kind":"project"}"#
            ),
            "{s}"
        );
        assert_eq!(serde_json::from_str::<OpOutcome>(&s).unwrap(), out);
    }
}
