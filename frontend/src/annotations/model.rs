//! A project's annotations as the page holds them: the REST snapshot, then op-log events applied
//! as upserts. Pure data, host-tested.
//!
//! Events carry the whole new state of one entity. An entity changes only for a newer revision
//! than the one held, so an event seen twice (the POST's answer and the WebSocket's copy), or one
//! older than the snapshot, changes nothing, and events may be applied in any order.

use std::collections::BTreeMap;
use trackline_shared::annotations::{
    Anchor, AnnotationEvent, Author, Change, Comment, Current, Note, NoteTarget,
    ProjectAnnotations, RunOverlay, Seq, Thread, ThreadHead,
};
use trackline_shared::reports::Report;

/// Everything annotated in one project.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Model {
    /// The largest op-log sequence number applied.
    pub seq: Seq,
    pub notepad: Option<Note>,
    /// Run notes by run id.
    pub run_notes: BTreeMap<String, Note>,
    /// Threads by id, and their creation order.
    pub threads: BTreeMap<String, Thread>,
    pub order: Vec<String>,
    /// Names and tags owners gave runs, by run id.
    pub run_overlays: BTreeMap<String, RunOverlay>,
    /// The project's reports by id (deleted ones dropped).
    pub reports: BTreeMap<String, Report>,
}

/// What a pin needs to be drawn, taken from a thread.
#[derive(Clone, Debug, PartialEq)]
pub struct Pin {
    pub thread: String,
    pub run: String,
    pub key: String,
    pub x_axis: String,
    pub x0: f64,
    pub x1: Option<f64>,
    pub resolved: bool,
    /// The first comment's text and author, for the marker's tooltip.
    pub title: String,
}

impl Model {
    pub fn from_snapshot(s: ProjectAnnotations) -> Model {
        let mut m = Model {
            seq: s.seq,
            notepad: s.notepad,
            ..Model::default()
        };
        for n in s.run_notes {
            if let NoteTarget::Run { run } = &n.target {
                m.run_notes.insert(run.clone(), n);
            }
        }
        for t in s.threads {
            m.order.push(t.head.id.clone());
            m.threads.insert(t.head.id.clone(), t);
        }
        for o in s.run_overlays {
            m.run_overlays.insert(o.run.clone(), o);
        }
        for r in s.reports {
            m.put_report(r);
        }
        m
    }

    /// Applies one committed event (idempotent; see the module doc).
    pub fn apply(&mut self, e: &AnnotationEvent) {
        self.seq = self.seq.max(e.seq);
        match &e.change {
            Change::Note(n) => self.put_note(n.clone()),
            Change::Thread {
                head,
                first_comment,
            } => {
                self.put_head(head.clone());
                if let Some(c) = first_comment {
                    self.put_comment(c.clone());
                }
            }
            Change::Comment(c) => self.put_comment(c.clone()),
            Change::Run(o) => self.put_overlay(o.clone()),
            Change::Report(r) => self.put_report(r.clone()),
        }
    }

    /// Applies the current value a conflict answered with (it is committed state too).
    pub fn apply_current(&mut self, c: &Current) {
        match c {
            Current::Note(n) => self.put_note(n.clone()),
            Current::Thread(h) => self.put_head(h.clone()),
            Current::Comment(c) => self.put_comment(c.clone()),
            Current::Run(o) => self.put_overlay(o.clone()),
            Current::Report(r) => self.put_report(r.clone()),
        }
    }

    /// Events arrive in `seq` order and carry the whole report, so the last one is the report;
    /// a tombstone removes it.
    fn put_report(&mut self, r: Report) {
        if r.deleted {
            self.reports.remove(&r.id);
        } else {
            self.reports.insert(r.id.clone(), r);
        }
    }

    /// Both revs only grow, so a newer overlay has the larger sum.
    fn put_overlay(&mut self, o: RunOverlay) {
        let newer = self
            .run_overlays
            .get(&o.run)
            .is_none_or(|old| o.name_rev + o.tags_rev > old.name_rev + old.tags_rev);
        if newer {
            self.run_overlays.insert(o.run.clone(), o);
        }
    }

    /// The overlay of `run` (both revs 0 when never set).
    pub fn run_overlay(&self, run: &str) -> RunOverlay {
        self.run_overlays
            .get(run)
            .cloned()
            .unwrap_or_else(|| RunOverlay {
                run: run.to_owned(),
                ..RunOverlay::default()
            })
    }

    fn put_note(&mut self, n: Note) {
        let slot = match &n.target {
            NoteTarget::Project => &mut self.notepad,
            NoteTarget::Run { run } => {
                let newer = self.run_notes.get(run).is_none_or(|old| n.rev > old.rev);
                if newer {
                    self.run_notes.insert(run.clone(), n);
                }
                return;
            }
        };
        if slot.as_ref().is_none_or(|old| n.rev > old.rev) {
            *slot = Some(n);
        }
    }

    fn put_head(&mut self, head: ThreadHead) {
        match self.threads.get_mut(&head.id) {
            Some(t) => {
                if head.rev > t.head.rev {
                    t.head = head;
                }
            }
            None => {
                self.order.push(head.id.clone());
                self.threads.insert(
                    head.id.clone(),
                    Thread {
                        head,
                        comments: Vec::new(),
                    },
                );
            }
        }
    }

    fn put_comment(&mut self, c: Comment) {
        let Some(t) = self.threads.get_mut(&c.thread) else {
            // A comment always follows its thread's event in the log; one without is dropped.
            return;
        };
        match t.comments.iter_mut().find(|x| x.id == c.id) {
            Some(old) => {
                if c.rev > old.rev {
                    *old = c;
                }
            }
            None => {
                let at = t.comments.partition_point(|x| x.created_ms <= c.created_ms);
                t.comments.insert(at, c);
            }
        }
    }

    /// The note of `target` (a never-written note has rev 0).
    pub fn note(&self, target: &NoteTarget) -> Note {
        let held = match target {
            NoteTarget::Project => self.notepad.clone(),
            NoteTarget::Run { run } => self.run_notes.get(run).cloned(),
        };
        held.unwrap_or_else(|| Note {
            target: target.clone(),
            text: String::new(),
            rev: 0,
            updated_by: None,
            updated_ms: 0.0,
        })
    }

    /// Threads anchored to `run` (on the run or pinned on its charts), oldest first.
    pub fn threads_of_run<'a>(&'a self, run: &'a str) -> impl Iterator<Item = &'a Thread> + 'a {
        self.order
            .iter()
            .filter_map(|id| self.threads.get(id))
            .filter(move |t| t.head.anchor.run() == Some(run))
    }

    /// Pins on metric `key`, any run, oldest first.
    pub fn pins_of_key(&self, key: &str) -> Vec<Pin> {
        self.order
            .iter()
            .filter_map(|id| self.threads.get(id))
            .filter_map(|t| match &t.head.anchor {
                Anchor::Pin {
                    run,
                    key: k,
                    x_axis,
                    x0,
                    x1,
                    ..
                } if k == key => {
                    let first = t.comments.iter().find(|c| !c.deleted);
                    Some(Pin {
                        thread: t.head.id.clone(),
                        run: run.clone(),
                        key: k.clone(),
                        x_axis: x_axis.clone(),
                        x0: *x0,
                        x1: *x1,
                        resolved: t.head.resolved,
                        title: first
                            .map(|c| format!("{}: {}", c.author.label, c.text))
                            .unwrap_or_default(),
                    })
                }
                _ => None,
            })
            .collect()
    }
}

/// Who this page is, as far as it knows: learned from its own committed events (their `author`),
/// else the local user of a daemon without sharing.
pub fn local_author() -> Author {
    Author {
        id: "local".into(),
        label: "local".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(id: &str) -> Author {
        Author {
            id: id.into(),
            label: id.into(),
        }
    }

    fn note_event(seq: Seq, rev: u64, text: &str) -> AnnotationEvent {
        AnnotationEvent {
            seq,
            project: "p".into(),
            ms: 0.0,
            author: who("a"),
            client_id: "c".into(),
            op_id: format!("o{seq}"),
            change: Change::Note(Note {
                target: NoteTarget::Project,
                text: text.into(),
                rev,
                updated_by: Some(who("a")),
                updated_ms: seq as f64,
            }),
        }
    }

    fn head(id: &str, rev: u64, resolved: bool, anchor: Anchor) -> ThreadHead {
        ThreadHead {
            id: id.into(),
            anchor,
            resolved,
            rev,
            created_by: who("a"),
            created_ms: 1.0,
        }
    }

    fn comment(id: &str, thread: &str, rev: u64, text: &str, ms: f64) -> Comment {
        Comment {
            id: id.into(),
            thread: thread.into(),
            text: text.into(),
            author: who("a"),
            created_ms: ms,
            edited_ms: None,
            rev,
            deleted: false,
        }
    }

    fn event(seq: Seq, change: Change) -> AnnotationEvent {
        AnnotationEvent {
            change,
            ..note_event(seq, 0, "")
        }
    }

    fn pin(run: &str) -> Anchor {
        Anchor::Pin {
            run: run.into(),
            key: "loss".into(),
            x_axis: "_step".into(),
            x0: 1200.0,
            x1: None,
            y: None,
        }
    }

    #[test]
    fn notes_keep_the_newest_revision_whatever_the_order() {
        let mut m = Model::from_snapshot(ProjectAnnotations {
            project: "p".into(),
            seq: 5,
            notepad: None,
            run_notes: vec![],
            threads: vec![],
            run_overlays: vec![],
            reports: vec![],
        });
        assert_eq!(m.note(&NoteTarget::Project).rev, 0);
        m.apply(&note_event(7, 2, "second"));
        m.apply(&note_event(6, 1, "first"));
        m.apply(&note_event(7, 2, "second"));
        assert_eq!(m.note(&NoteTarget::Project).text, "second");
        assert_eq!(m.seq, 7);
        let run = NoteTarget::Run { run: "r".into() };
        m.apply_current(&Current::Note(Note {
            target: run.clone(),
            text: "run note".into(),
            rev: 3,
            updated_by: None,
            updated_ms: 0.0,
        }));
        assert_eq!(m.note(&run).text, "run note");
    }

    #[test]
    fn threads_comments_and_pins() {
        let mut m = Model::default();
        // A comment before its thread is dropped (never happens in a log); the thread then.
        m.apply(&event(1, Change::Comment(comment("k0", "t1", 1, "x", 0.5))));
        m.apply(&event(
            2,
            Change::Thread {
                head: head("t1", 1, false, pin("r")),
                first_comment: Some(comment("k1", "t1", 1, "spike", 1.0)),
            },
        ));
        m.apply(&event(
            3,
            Change::Thread {
                head: head(
                    "t2",
                    1,
                    false,
                    Anchor::Run {
                        run: "other".into(),
                    },
                ),
                first_comment: Some(comment("k2", "t2", 1, "hi", 1.0)),
            },
        ));
        m.apply(&event(
            4,
            Change::Comment(comment("k3", "t1", 1, "later", 3.0)),
        ));
        m.apply(&event(
            5,
            Change::Comment(comment("k4", "t1", 1, "mid", 2.0)),
        ));
        m.apply(&event(
            6,
            Change::Thread {
                head: head("t1", 2, true, pin("r")),
                first_comment: None,
            },
        ));
        // An older copy of the head changes nothing.
        m.apply(&event(
            2,
            Change::Thread {
                head: head("t1", 1, false, pin("r")),
                first_comment: Some(comment("k1", "t1", 1, "spike", 1.0)),
            },
        ));
        let mut deleted = comment("k3", "t1", 2, "", 3.0);
        deleted.deleted = true;
        m.apply(&event(7, Change::Comment(deleted)));
        let t1 = &m.threads["t1"];
        assert!(t1.head.resolved);
        let texts: Vec<_> = t1
            .comments
            .iter()
            .map(|c| (c.id.as_str(), c.deleted))
            .collect();
        assert_eq!(texts, [("k1", false), ("k4", false), ("k3", true)]);
        assert_eq!(m.threads_of_run("r").count(), 1);
        assert_eq!(m.threads_of_run("other").count(), 1);
        let pins = m.pins_of_key("loss");
        assert_eq!(pins.len(), 1);
        assert_eq!((pins[0].x0, pins[0].resolved), (1200.0, true));
        assert_eq!(pins[0].title, "a: spike");
        assert!(m.pins_of_key("acc").is_empty());
        assert_eq!(m.order, ["t1", "t2"]);
    }

    #[test]
    fn run_overlays_keep_the_newest_revisions_whatever_the_order() {
        let overlay = |name: &str, name_rev: u64, tags_rev: u64| RunOverlay {
            run: "r".into(),
            name: Some(name.into()),
            name_rev,
            tags_rev,
            ..RunOverlay::default()
        };
        let mut m = Model::default();
        assert_eq!(m.run_overlay("r").name_rev, 0);
        m.apply(&event(3, Change::Run(overlay("b", 2, 1))));
        m.apply(&event(2, Change::Run(overlay("a", 1, 1))));
        assert_eq!(m.run_overlay("r").name.as_deref(), Some("b"));
        m.apply_current(&Current::Run(overlay("c", 2, 2)));
        assert_eq!(m.run_overlay("r").name.as_deref(), Some("c"));
        assert_eq!(m.run_overlay("r").tags_rev, 2);
    }
}
