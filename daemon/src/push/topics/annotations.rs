//! Topic `annotations`: a project's annotation events with `seq > since`, then each new one.
//!
//! The op log is the source: the subscription remembers the last `seq` it sent and reads what
//! follows from the database, in pages of [`EVENTS_PER_MESSAGE`] events and at most
//! [`MAX_EVENT_BYTES_PER_MESSAGE`] bytes. A store event ([`Event::Annotations`]) only says that
//! the log grew, so a burst of commits or a lagging event receiver never produces a gap or a
//! duplicate.
//!
//! A viewer link of a shared daemon sees only published reports: its subscription passes a
//! report event only when it published the report (as the published copy) or deleted it (the
//! bare tombstone), drops every draft edit, and drops thread and comment events on report blocks
//! it cannot see (`crate::reports`).

use super::Subscription;
use crate::db::annotations::Annotations;
use crate::store::{Event, Store};
use trackline_shared::annotations::{Anchor, AnnotationEvent, Change, Seq};
use trackline_shared::{MAX_MESSAGE_BYTES, ServerMsg, SubId};

/// Most events in one [`ServerMsg::Annotations`].
pub const EVENTS_PER_MESSAGE: usize = 256;

/// Most bytes of events in one message (one event, whose text is capped, always fits).
pub const MAX_EVENT_BYTES_PER_MESSAGE: usize = MAX_MESSAGE_BYTES / 2;

#[derive(Debug)]
pub struct AnnotationEvents {
    annotations: Annotations,
    project: String,
    /// The highest `seq` sent (or passed over, for a viewer).
    since: Seq,
    /// False for a viewer link: report drafts and unpublished reports are left out.
    sees_drafts: bool,
}

impl AnnotationEvents {
    pub fn new(annotations: Annotations, project: String, since: Seq) -> Self {
        AnnotationEvents {
            annotations,
            project,
            since,
            sees_drafts: true,
        }
    }

    /// The subscription of a caller who sees report drafts (the default) or only published
    /// reports (a viewer link).
    pub fn with_drafts(mut self, sees_drafts: bool) -> Self {
        self.sees_drafts = sees_drafts;
        self
    }

    /// `event` as a viewer sees it, or `None` when a viewer may not see it at all.
    fn for_viewer(&self, mut event: AnnotationEvent) -> Option<AnnotationEvent> {
        let anchor = match &event.change {
            Change::Report(report) => {
                let seen = crate::reports::viewer_event(report, event.ms, &event.author)?;
                event.change = Change::Report(seen);
                return Some(event);
            }
            Change::Thread { head, .. } => Some(head.anchor.clone()),
            Change::Comment(comment) => self
                .annotations
                .thread_anchor(&self.project, &comment.thread)
                .unwrap_or_else(|e| {
                    tracing::error!(error = %e, "cannot read a comment's thread");
                    None
                }),
            Change::Note(_) | Change::Run(_) => None,
        };
        let Some(Anchor::ReportBlock { report, block }) = anchor else {
            return Some(event);
        };
        let visible = match self.annotations.report(&report) {
            Ok(found) => {
                found.is_some_and(|s| crate::reports::viewer_sees_block(&s.report, &block))
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot read a thread's report");
                false
            }
        };
        visible.then_some(event)
    }
}

impl Subscription for AnnotationEvents {
    fn serve(&mut self, _store: &Store, id: SubId, first: bool) -> Vec<ServerMsg> {
        let mut msgs = Vec::new();
        loop {
            let page = self.annotations.events_since(
                &self.project,
                self.since,
                EVENTS_PER_MESSAGE,
                MAX_EVENT_BYTES_PER_MESSAGE,
            );
            let events = match page {
                Ok(events) => events,
                Err(e) => {
                    tracing::error!(error = %e, project = %self.project, "cannot read annotation events");
                    msgs.push(ServerMsg::Error {
                        sub: Some(id),
                        message: "cannot read annotation events; see the daemon's log".into(),
                    });
                    return msgs;
                }
            };
            let Some(last) = events.last() else { break };
            self.since = last.seq;
            let events: Vec<AnnotationEvent> = if self.sees_drafts {
                events
            } else {
                events
                    .into_iter()
                    .filter_map(|e| self.for_viewer(e))
                    .collect()
            };
            if !events.is_empty() {
                msgs.push(ServerMsg::Annotations { sub: id, events });
            }
        }
        if first && msgs.is_empty() {
            msgs.push(ServerMsg::Annotations {
                sub: id,
                events: Vec::new(),
            });
        }
        msgs
    }

    fn on_event(&mut self, store: &Store, id: SubId, event: &Event) -> Vec<ServerMsg> {
        match event {
            Event::Annotations { project, seq }
                if *project == self.project && *seq > self.since =>
            {
                self.serve(store, id, false)
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;
    use crate::db::annotations::{Actor, Applied};
    use crate::store::StoreSettings;
    use trackline_shared::annotations::{Author, NoteTarget, Op, OpOutcome, OpRequest};

    /// Commits note edit `n` (base rev `n`) to project `project`; answers its seq.
    fn commit(annotations: &Annotations, project: &str, n: u64) -> Seq {
        let actor = Actor {
            author: Author::default(),
            is_owner: true,
        };
        let request = OpRequest {
            client_id: "c".into(),
            op_id: format!("{project}{n}"),
            op: Op::NoteSet {
                target: NoteTarget::Project,
                text: format!("v{n}"),
                base_rev: n,
            },
        };
        match annotations.apply(project, &actor, &request, 1.0, &|_| true) {
            Ok(Ok(Applied {
                outcome: OpOutcome::Committed { event },
                ..
            })) => event.seq,
            other => panic!("{other:?}"),
        }
    }

    fn seqs(msgs: &[ServerMsg]) -> Vec<Seq> {
        msgs.iter()
            .flat_map(|m| match m {
                ServerMsg::Annotations { sub: 4, events } => events.iter().map(|e| e.seq),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn events_are_served_from_the_log_by_seq_whatever_events_arrive() {
        let dir = tempfile::tempdir().unwrap();
        let annotations = Db::open_in(dir.path()).unwrap().annotations();
        let store = Store::new(StoreSettings::default());
        for n in 0..3 {
            commit(&annotations, "p", n);
            commit(&annotations, "q", n);
        }
        let mut sub = AnnotationEvents::new(annotations.clone(), "p".into(), 1);
        assert_eq!(seqs(&sub.serve(&store, 4, true)), [3, 5]);
        // Caught up: the first page of a later subscriber is empty but sent.
        let mut caught_up = AnnotationEvents::new(annotations.clone(), "p".into(), 5);
        assert_eq!(
            caught_up.serve(&store, 4, true),
            [ServerMsg::Annotations {
                sub: 4,
                events: Vec::new()
            }]
        );
        // Two commits, whose events arrive late and out of order, or not at all (a lagging
        // receiver resyncs with `serve`): each is sent once.
        let (a, b) = (commit(&annotations, "p", 3), commit(&annotations, "p", 4));
        commit(&annotations, "q", 3);
        let event = |project: &str, seq| Event::Annotations {
            project: project.into(),
            seq,
        };
        assert_eq!(seqs(&sub.on_event(&store, 4, &event("p", b))), [a, b]);
        assert!(sub.on_event(&store, 4, &event("p", a)).is_empty());
        assert!(sub.on_event(&store, 4, &event("q", 99)).is_empty());
        let c = commit(&annotations, "p", 5);
        assert_eq!(seqs(&sub.serve(&store, 4, false)), [c]);
        assert!(sub.serve(&store, 4, false).is_empty());
    }
}
