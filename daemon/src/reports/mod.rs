//! Reports (issue 10): write-ups of a project's runs made of blocks (`trackline_shared::reports`),
//! stored and changed through the annotation op log (`db::annotations`). Here: what a viewer of a
//! shared daemon may see of them (only published reports, only their published copy), the
//! report [`generate`]d from a run set (`trackline report new`), the `report` commands ([`cli`]),
//! and [`export`], which turns one into a self-contained HTML file or Markdown with SVG charts.

pub mod cli;
pub mod export;
pub mod generate;

use crate::auth::scope::Scope;
use crate::auth::sharing::Principal;
use trackline_shared::annotations::{Anchor, Author, ProjectAnnotations};
use trackline_shared::reports::Report;

/// Whether the caller sees drafts (and unpublished reports): everyone but a viewer link of a
/// shared daemon (without sharing the local user owns everything).
pub fn sees_drafts(principal: Option<&Principal>) -> bool {
    principal.is_none_or(|p| p.scope.allows(Scope::Annotator))
}

/// What a viewer sees of `report`: nothing until it is published; then its published copy in
/// place of the draft (title, blocks, and the publisher as its last writer). A deleted report is
/// its bare tombstone (no title), so a viewer who saw it drops it.
pub fn viewer_copy(report: &Report) -> Option<Report> {
    if report.deleted {
        return Some(Report {
            title: String::new(),
            title_rev: 0,
            blocks: Vec::new(),
            published: None,
            updated_by: report.created_by.clone(),
            updated_ms: report.created_ms,
            ..report.clone()
        });
    }
    let published = report.published.as_ref()?;
    Some(Report {
        title: published.title.clone(),
        title_rev: published.rev,
        blocks: published.blocks.clone(),
        updated_by: published.by.clone(),
        updated_ms: published.ms,
        ..report.clone()
    })
}

/// What a viewer gets of a report event (the report as `event` carries it, made at `ms` by
/// `author`): the published copy when the event published it, the tombstone when it deleted it,
/// else nothing (a draft edit changes nothing a viewer sees, and who edits drafts is not theirs
/// to know).
pub fn viewer_event(report: &Report, ms: f64, author: &Author) -> Option<Report> {
    let published = report
        .published
        .as_ref()
        .is_some_and(|p| p.ms == ms && p.by == *author);
    if report.deleted || published {
        viewer_copy(report)
    } else {
        None
    }
}

/// Whether a viewer sees block `block` of `report` (its published copy holds it).
pub fn viewer_sees_block(report: &Report, block: &str) -> bool {
    !report.deleted
        && report
            .published
            .as_ref()
            .is_some_and(|p| p.blocks.iter().any(|b| b.id == block))
}

/// A project's annotations as a viewer sees them: published reports as their published copy,
/// and no thread on a block a viewer cannot see.
pub fn viewer_annotations(mut snapshot: ProjectAnnotations) -> ProjectAnnotations {
    let reports = std::mem::take(&mut snapshot.reports);
    snapshot.threads.retain(|t| match &t.head.anchor {
        Anchor::ReportBlock { report, block } => reports
            .iter()
            .any(|r| r.id == *report && viewer_sees_block(r, block)),
        _ => true,
    });
    snapshot.reports = reports.iter().filter_map(viewer_copy).collect();
    snapshot
}

#[cfg(test)]
mod tests {
    use super::*;
    use trackline_shared::annotations::{Thread, ThreadHead};
    use trackline_shared::reports::{Block, BlockContent, Published};

    fn block(id: &str, text: &str) -> Block {
        Block {
            id: id.into(),
            rev: 1,
            content: BlockContent::Markdown { text: text.into() },
            updated_by: Author::default(),
            updated_ms: 1.0,
        }
    }

    fn report(id: &str, published: bool) -> Report {
        let by = Author {
            id: "o".into(),
            label: "owner".into(),
        };
        Report {
            id: id.into(),
            project: "p".into(),
            title: "draft title".into(),
            title_rev: 3,
            blocks: vec![block("b1", "draft text"), block("b2", "new")],
            published: published.then(|| Published {
                rev: 1,
                title: "published title".into(),
                blocks: vec![block("b1", "published text")],
                by: by.clone(),
                ms: 5.0,
            }),
            created_by: by.clone(),
            created_ms: 1.0,
            updated_by: by,
            updated_ms: 9.0,
            deleted: false,
        }
    }

    fn thread(id: &str, report: &str, block: &str) -> Thread {
        Thread {
            head: ThreadHead {
                id: id.into(),
                anchor: Anchor::ReportBlock {
                    report: report.into(),
                    block: block.into(),
                },
                resolved: false,
                rev: 1,
                created_by: Author::default(),
                created_ms: 1.0,
            },
            comments: Vec::new(),
        }
    }

    #[test]
    fn viewers_see_only_published_copies_and_threads_on_their_blocks() {
        assert_eq!(viewer_copy(&report("r", false)), None);
        let seen = viewer_copy(&report("r", true)).unwrap();
        assert_eq!(seen.title, "published title");
        assert_eq!(seen.blocks, vec![block("b1", "published text")]);
        assert_eq!(seen.updated_ms, 5.0);
        let json = serde_json::to_string(&seen).unwrap();
        assert!(!json.contains("draft"), "{json}");

        // Events: the publish, the delete; not a draft edit after the publish.
        let owner = seen.updated_by.clone();
        assert_eq!(viewer_event(&report("r", true), 5.0, &owner), Some(seen));
        assert_eq!(viewer_event(&report("r", true), 9.0, &owner), None);
        assert_eq!(viewer_event(&report("r", false), 9.0, &owner), None);

        let mut gone = report("r", false);
        gone.deleted = true;
        let tomb = viewer_copy(&gone).unwrap();
        assert!(tomb.deleted && tomb.title.is_empty() && tomb.blocks.is_empty());
        assert_eq!(viewer_event(&gone, 9.0, &owner), Some(tomb));

        let snapshot = ProjectAnnotations {
            project: "p".into(),
            reports: vec![report("shown", true), report("hidden", false)],
            threads: vec![
                thread("t1", "shown", "b1"),
                thread("t2", "shown", "b2"),
                thread("t3", "hidden", "b1"),
            ],
            ..Default::default()
        };
        let seen = viewer_annotations(snapshot);
        let ids: Vec<&str> = seen.reports.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["shown"]);
        assert_eq!(seen.reports[0].title, "published title");
        let threads: Vec<&str> = seen.threads.iter().map(|t| t.head.id.as_str()).collect();
        assert_eq!(threads, ["t1"]);
        assert!(sees_drafts(None));
        let viewer = Principal {
            link_id: "l".into(),
            label: "v".into(),
            scope: Scope::Viewer,
        };
        assert!(!sees_drafts(Some(&viewer)));
        let annotator = Principal {
            scope: Scope::Annotator,
            ..viewer
        };
        assert!(sees_drafts(Some(&annotator)));
    }
}
