//! The op log's rules on a real database: idempotence, conflicts, author rules, tombstones,
//! validation, and paged reads.

use super::*;
use trackline_shared::annotations::{
    Anchor, Change, Current, MAX_ANNOTATION_ID_LEN, MAX_ANNOTATION_TEXT_BYTES, Op,
};

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
        outcome: OpOutcome::Conflict {
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

fn rename(name: &str, base_rev: u64) -> Op {
    Op::RunRename {
        run: "r1".into(),
        name: name.into(),
        base_rev,
    }
}

fn retag(tags: &[&str], base_rev: u64) -> Op {
    Op::RunRetag {
        run: "r1".into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        base_rev,
    }
}

#[test]
fn owners_rename_and_retag_runs_with_a_rev_per_field() {
    let (_dir, a) = open();
    let owner = actor("o", true);
    let (event, _) = a.commit(&owner, &request("c", "1", rename("baseline", 0)));
    let Change::Run(overlay) = &event.change else {
        panic!("{event:?}")
    };
    assert_eq!(
        (overlay.name.as_deref(), overlay.name_rev, overlay.tags_rev),
        (Some("baseline"), 1, 0)
    );
    // The tags have their own rev: a retag from 0 does not race the rename.
    let (event, _) = a.commit(&owner, &request("c", "2", retag(&["best", "lr"], 0)));
    let Change::Run(overlay) = &event.change else {
        panic!("{event:?}")
    };
    assert_eq!(overlay.name.as_deref(), Some("baseline"));
    assert_eq!(
        overlay.tags,
        Some(vec!["best".to_string(), "lr".to_string()])
    );
    assert_eq!(overlay.updated_by, Some(owner.author.clone()));
    // A second owner's rename from the stale rev 0 is refused with the current value.
    let other = actor("o2", true);
    let refused = a.send(&other, &request("d", "1", rename("mine", 0)));
    assert!(
        matches!(&refused, Ok(Applied { outcome: OpOutcome::Conflict { current: Current::Run(o) }, .. })
            if o.name.as_deref() == Some("baseline") && o.name_rev == 1 && o.updated_by.as_ref().is_some_and(|b| b.id == "o")),
        "{refused:?}"
    );
    a.commit(&other, &request("d", "2", rename("mine", 1)));
    let snapshot = a.snapshot("p").unwrap();
    assert_eq!(snapshot.run_overlays.len(), 1);
    assert_eq!(snapshot.run_overlays[0].name.as_deref(), Some("mine"));
    let all = a.run_overlays().unwrap();
    assert_eq!(
        all,
        vec![("p".to_string(), snapshot.run_overlays[0].clone())]
    );
}

#[test]
fn only_owners_may_rename_and_names_and_tags_are_checked() {
    let (_dir, a) = open();
    let annotator = actor("a", false);
    for op in [rename("x", 0), retag(&["t"], 0)] {
        let refused = a.send(&annotator, &request("c", "1", op));
        assert!(matches!(refused, Err(Refusal::Forbidden(_))), "{refused:?}");
    }
    let owner = actor("o", true);
    let long_tag = "t".repeat(65);
    let many: Vec<String> = (0..33).map(|i| i.to_string()).collect();
    let bad = [
        rename("", 0),
        rename("   ", 0),
        rename(&"n".repeat(129), 0),
        retag(&[""], 0),
        retag(&[&long_tag], 0),
        Op::RunRetag {
            run: "r1".into(),
            tags: many,
            base_rev: 0,
        },
    ];
    for op in bad {
        let refused = a.send(&owner, &request("c", "2", op.clone()));
        assert!(
            matches!(refused, Err(Refusal::Invalid(_))),
            "{op:?}: {refused:?}"
        );
    }
    let missing = Op::RunRename {
        run: "r9".into(),
        name: "x".into(),
        base_rev: 0,
    };
    let refused = a.send(&owner, &request("c", "3", missing));
    assert!(matches!(refused, Err(Refusal::NotFound(_))), "{refused:?}");
    // 128 characters (multi-byte ones too) and 32 tags of 64 are fine.
    a.commit(&owner, &request("c", "4", rename(&"é".repeat(128), 0)));
    let tags: Vec<String> = (0..32).map(|i| format!("{i:0>64}")).collect();
    let op = Op::RunRetag {
        run: "r1".into(),
        tags,
        base_rev: 0,
    };
    a.commit(&owner, &request("c", "5", op));
    assert_eq!(a.log_len(), 2);
}

fn text_block(id: &str, text: &str) -> trackline_shared::reports::NewBlock {
    trackline_shared::reports::NewBlock {
        id: id.into(),
        content: trackline_shared::reports::BlockContent::Markdown { text: text.into() },
    }
}

fn report_create(report: &str, blocks: &[&str]) -> Op {
    Op::ReportCreate {
        report: report.into(),
        title: "Sweep".into(),
        blocks: blocks.iter().map(|b| text_block(b, b)).collect(),
    }
}

/// The report a committed op answered.
fn report_of(event: &AnnotationEvent) -> trackline_shared::reports::Report {
    match &event.change {
        Change::Report(r) => r.clone(),
        other => panic!("not a report: {other:?}"),
    }
}

fn block_ids(report: &trackline_shared::reports::Report) -> Vec<&str> {
    report.blocks.iter().map(|b| b.id.as_str()).collect()
}

#[test]
fn only_owners_change_reports_and_a_retry_applies_once() {
    let (_dir, a) = open();
    let (annotator, owner) = (actor("a", false), actor("o", true));
    let create = request("c", "1", report_create("rep1", &["b1"]));
    assert!(matches!(
        a.send(&annotator, &create),
        Err(Refusal::Forbidden(_))
    ));
    let (event, fresh) = a.commit(&owner, &create);
    assert!(fresh);
    let report = report_of(&event);
    assert_eq!((report.title_rev, report.blocks[0].rev), (1, 1));
    assert_eq!(report.created_by, owner.author);
    // The same op again, and the same create under another op id: the same event, applied once.
    assert_eq!(a.commit(&owner, &create), (event.clone(), false));
    let again = request("c", "2", report_create("rep1", &["b1"]));
    assert_eq!(a.commit(&owner, &again), (event, false));
    // Another create with that id (here or in another project) is refused.
    let other = request("c", "3", report_create("rep1", &["b2"]));
    assert!(matches!(a.send(&owner, &other), Err(Refusal::IdTaken(_))));
    let elsewhere = a.apply("q", &owner, &again, 1.0, &only_r1).unwrap();
    assert!(
        matches!(elsewhere, Err(Refusal::IdTaken(_))),
        "{elsewhere:?}"
    );
    for op in [
        Op::ReportTitle {
            report: "rep1".into(),
            title: "x".into(),
            base_rev: 1,
        },
        Op::BlockDelete {
            report: "rep1".into(),
            block: "b1".into(),
        },
        Op::ReportPublish {
            report: "rep1".into(),
        },
        Op::ReportDelete {
            report: "rep1".into(),
        },
    ] {
        let refused = a.send(&annotator, &request("c", "4", op));
        assert!(matches!(refused, Err(Refusal::Forbidden(_))), "{refused:?}");
    }
    assert_eq!(a.log_len(), 1);
    let snapshot = a.snapshot("p").unwrap();
    assert_eq!(snapshot.reports.len(), 1);
    assert_eq!(a.reports("p").unwrap(), (1, snapshot.reports.clone()));
    assert!(a.snapshot("q").unwrap().reports.is_empty());
}

#[test]
fn a_stale_title_or_block_edit_conflicts_with_the_current_report() {
    let (_dir, a) = open();
    let (alice, bob) = (actor("o1", true), actor("o2", true));
    a.commit(&alice, &request("c", "1", report_create("rep1", &["b1"])));
    let title = |client: &str, title: &str, base_rev: u64| {
        request(
            client,
            "t",
            Op::ReportTitle {
                report: "rep1".into(),
                title: title.into(),
                base_rev,
            },
        )
    };
    let (event, _) = a.commit(&alice, &title("a", "Alice's", 1));
    assert_eq!(report_of(&event).title_rev, 2);
    let refused = a.send(&bob, &title("b", "Bob's", 1));
    assert!(
        matches!(&refused, Ok(Applied { outcome: OpOutcome::Conflict { current: Current::Report(r) }, .. })
            if r.title == "Alice's" && r.title_rev == 2),
        "{refused:?}"
    );
    let set = |client: &str, text: &str, base_rev: u64| {
        request(
            client,
            "s",
            Op::BlockSet {
                report: "rep1".into(),
                block: "b1".into(),
                content: text_block("b1", text).content,
                base_rev,
            },
        )
    };
    let (event, _) = a.commit(&alice, &set("a", "alice's text", 1));
    let report = report_of(&event);
    assert_eq!(
        (report.blocks[0].rev, &report.updated_by),
        (2, &alice.author)
    );
    let refused = a.send(&bob, &set("b", "bob's text", 1));
    let Ok(Applied {
        outcome: OpOutcome::Conflict {
            current: Current::Report(current),
        },
        ..
    }) = refused
    else {
        panic!("bob's stale block edit must conflict: {refused:?}");
    };
    assert_eq!(current, report);
    assert_eq!(a.log_len(), 3);
    // On the current rev, bob's text wins.
    let (event, _) = a.commit(&bob, &set("b2", "bob's text", 2));
    assert_eq!(report_of(&event).blocks[0].rev, 3);
}

#[test]
fn blocks_are_added_moved_and_deleted_and_after_a_missing_block_goes_last() {
    let (_dir, a) = open();
    let owner = actor("o", true);
    a.commit(
        &owner,
        &request("c", "1", report_create("rep1", &["b1", "b2"])),
    );
    let add = |op_id: &str, id: &str, after: Option<&str>| {
        request(
            "c",
            op_id,
            Op::BlockAdd {
                report: "rep1".into(),
                after: after.map(Into::into),
                block: text_block(id, "x"),
            },
        )
    };
    let mv = |op_id: &str, id: &str, after: Option<&str>| {
        request(
            "c",
            op_id,
            Op::BlockMove {
                report: "rep1".into(),
                block: id.into(),
                after: after.map(Into::into),
            },
        )
    };
    let (e, _) = a.commit(&owner, &add("2", "b3", None));
    assert_eq!(block_ids(&report_of(&e)), ["b3", "b1", "b2"]);
    let (e, _) = a.commit(&owner, &add("3", "b4", Some("b1")));
    assert_eq!(block_ids(&report_of(&e)), ["b3", "b1", "b4", "b2"]);
    let (e, _) = a.commit(&owner, &add("4", "b5", Some("gone")));
    assert_eq!(block_ids(&report_of(&e)), ["b3", "b1", "b4", "b2", "b5"]);
    assert!(matches!(
        a.send(&owner, &add("5", "b1", None)),
        Err(Refusal::IdTaken(_))
    ));
    let (e, _) = a.commit(&owner, &mv("6", "b5", None));
    assert_eq!(block_ids(&report_of(&e)), ["b5", "b3", "b1", "b4", "b2"]);
    let (e, _) = a.commit(&owner, &mv("7", "b5", Some("b4")));
    assert_eq!(block_ids(&report_of(&e)), ["b3", "b1", "b4", "b5", "b2"]);
    let (e, _) = a.commit(&owner, &mv("8", "b3", Some("gone")));
    assert_eq!(block_ids(&report_of(&e)), ["b1", "b4", "b5", "b2", "b3"]);
    assert!(matches!(
        a.send(&owner, &mv("9", "nope", None)),
        Err(Refusal::NotFound(_))
    ));
    let delete = request(
        "c",
        "10",
        Op::BlockDelete {
            report: "rep1".into(),
            block: "b4".into(),
        },
    );
    let (e, _) = a.commit(&owner, &delete);
    assert_eq!(block_ids(&report_of(&e)), ["b1", "b5", "b2", "b3"]);
    let again = request("c", "11", delete.op.clone());
    assert!(matches!(a.send(&owner, &again), Err(Refusal::NotFound(_))));
    // Another project's report is not found here.
    let refused = a
        .apply("q", &owner, &add("12", "b9", None), 1.0, &only_r1)
        .unwrap();
    assert!(matches!(refused, Err(Refusal::NotFound(_))), "{refused:?}");
}

#[test]
fn publishing_copies_the_draft_and_a_deleted_report_is_a_tombstone() {
    let (_dir, a) = open();
    let owner = actor("o", true);
    a.commit(&owner, &request("c", "1", report_create("rep1", &["b1"])));
    let publish = |op_id: &str| {
        request(
            "c",
            op_id,
            Op::ReportPublish {
                report: "rep1".into(),
            },
        )
    };
    let (e, _) = a.commit(&owner, &publish("2"));
    let report = report_of(&e);
    let published = report.published.clone().unwrap();
    assert_eq!(published.rev, 1);
    assert_eq!(
        (published.title.as_str(), &published.blocks),
        ("Sweep", &report.blocks)
    );
    // The draft moves on; the published copy stays until the next publish.
    let (e, _) = a.commit(
        &owner,
        &request(
            "c",
            "3",
            Op::ReportTitle {
                report: "rep1".into(),
                title: "Draft".into(),
                base_rev: 1,
            },
        ),
    );
    assert_eq!(report_of(&e).published.unwrap().title, "Sweep");
    let (e, _) = a.commit(&owner, &publish("4"));
    let published = report_of(&e).published.unwrap();
    assert_eq!((published.rev, published.title.as_str()), (2, "Draft"));

    // A thread may hang on a block of the report (annotators too), not on a missing one.
    let annotator = actor("a", false);
    let on_block = |thread: &str, block: &str| {
        request(
            "c",
            &format!("t-{thread}"),
            Op::ThreadCreate {
                thread: thread.into(),
                anchor: Anchor::ReportBlock {
                    report: "rep1".into(),
                    block: block.into(),
                },
                comment: format!("k-{thread}"),
                text: "why?".into(),
            },
        )
    };
    a.commit(&annotator, &on_block("t1", "b1"));
    assert!(matches!(
        a.send(&annotator, &on_block("t2", "b9")),
        Err(Refusal::NotFound(_))
    ));
    assert_eq!(
        a.thread_anchor("p", "t1").unwrap(),
        Some(Anchor::ReportBlock {
            report: "rep1".into(),
            block: "b1".into()
        })
    );

    let delete = |op_id: &str| {
        request(
            "c",
            op_id,
            Op::ReportDelete {
                report: "rep1".into(),
            },
        )
    };
    let (e, _) = a.commit(&owner, &delete("5"));
    let tomb = report_of(&e);
    assert!(tomb.deleted && tomb.blocks.is_empty() && tomb.published.is_none());
    assert!(matches!(
        a.send(&owner, &delete("6")),
        Err(Refusal::Deleted(_))
    ));
    assert!(matches!(
        a.send(&owner, &publish("7")),
        Err(Refusal::Deleted(_))
    ));
    assert!(matches!(
        a.send(&annotator, &on_block("t3", "b1")),
        Err(Refusal::NotFound(_))
    ));
    // Gone from the snapshot and the list; by id it is the tombstone.
    assert!(a.snapshot("p").unwrap().reports.is_empty());
    assert!(a.reports("p").unwrap().1.is_empty());
    let found = a.report("rep1").unwrap().unwrap();
    assert_eq!((found.seq, found.report), (a.log_len() as u64, tomb));
    assert!(a.report("nope").unwrap().is_none());
}

#[test]
fn bad_report_ops_are_refused_before_anything_is_written() {
    use trackline_shared::reports::{
        BlockContent, MAX_REPORT_BLOCKS, MAX_REPORT_TITLE_CHARS, MAX_RUNSET_FILTER_BYTES, Panel,
        PanelGrid, RunSet,
    };
    let (_dir, a) = open();
    let owner = actor("o", true);
    let grid = |runset: RunSet, panels: Vec<Panel>| Op::ReportCreate {
        report: "rep1".into(),
        title: "t".into(),
        blocks: vec![trackline_shared::reports::NewBlock {
            id: "g".into(),
            content: BlockContent::PanelGrid(PanelGrid { runset, panels }),
        }],
    };
    let line = |key: &str| Panel::Line {
        key: key.into(),
        settings: Default::default(),
        wide: false,
    };
    let bad = [
        report_create("rep 1", &[]),
        report_create("rep1", &["b1", "b1"]),
        report_create("rep1", &["b/1"]),
        Op::ReportCreate {
            report: "rep1".into(),
            title: "t".repeat(MAX_REPORT_TITLE_CHARS + 1),
            blocks: vec![],
        },
        Op::ReportCreate {
            report: "rep1".into(),
            title: "t".into(),
            blocks: vec![text_block("b1", &"x".repeat(MAX_ANNOTATION_TEXT_BYTES + 1))],
        },
        Op::ReportCreate {
            report: "rep1".into(),
            title: "t".into(),
            blocks: (0..=MAX_REPORT_BLOCKS)
                .map(|i| text_block(&format!("b{i}"), ""))
                .collect(),
        },
        grid(
            RunSet {
                filter: "x".repeat(MAX_RUNSET_FILTER_BYTES + 1),
                ..Default::default()
            },
            vec![],
        ),
        grid(
            RunSet {
                filter: "config.lr <".into(),
                ..Default::default()
            },
            vec![],
        ),
        grid(RunSet::default(), vec![line("")]),
        grid(
            RunSet::default(),
            (0..65).map(|i| line(&format!("k{i}"))).collect(),
        ),
        grid(
            RunSet::default(),
            vec![Panel::Compare {
                keys: vec![String::new()],
            }],
        ),
    ];
    for op in bad {
        let refused = a.send(&owner, &request("c", "1", op.clone()));
        assert!(
            matches!(refused, Err(Refusal::Invalid(_))),
            "{op:?}: {refused:?}"
        );
    }
    assert_eq!(a.log_len(), 0);
    // A report past MAX_REPORT_BYTES as a whole is refused though each block is fine.
    let block = "x".repeat(MAX_ANNOTATION_TEXT_BYTES);
    let big = Op::ReportCreate {
        report: "rep1".into(),
        title: "t".into(),
        blocks: (0..40)
            .map(|i| text_block(&format!("b{i}"), &block))
            .collect(),
    };
    let refused = a.send(&owner, &request("c", "2", big));
    assert!(matches!(refused, Err(Refusal::Invalid(_))), "{refused:?}");
    a.commit(
        &owner,
        &request("c", "3", grid(RunSet::default(), vec![line("loss")])),
    );
}
