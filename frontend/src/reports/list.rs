//! `/projects/:project/reports`: the project's reports, newest change first: title, published
//! or draft, when and by whom last changed. Owners start a new one ("New report": an untitled
//! report with one empty text block, then its page).
//!
//! Test ids: `reports-list`, `report-row` (with `data-report`), `report-link`, `new-report`,
//! `reports-empty`.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};
use trackline_shared::annotations::{Op, OpOutcome};
use trackline_shared::reports::{BlockContent, NewBlock, Report};

use super::publish::draft_changed;
use super::report_path;
use crate::annotations::provide_annotations;
use crate::annotations::store::new_id;
use crate::browser::{href, local_datetime};
use crate::components::ErrorBox;
use crate::util;

/// The op that creates an untitled report with one empty text block.
pub fn new_report_op(
    report: String,
    block: String,
    title: &str,
    content: Option<BlockContent>,
) -> Op {
    Op::ReportCreate {
        report,
        title: title.to_string(),
        blocks: vec![NewBlock {
            id: block,
            content: content.unwrap_or(BlockContent::Markdown {
                text: String::new(),
            }),
        }],
    }
}

/// Reports newest change first.
pub fn by_recent(reports: impl Iterator<Item = Report>) -> Vec<Report> {
    let mut v: Vec<Report> = reports.collect();
    v.sort_by(|a, b| {
        b.updated_ms
            .total_cmp(&a.updated_ms)
            .then_with(|| a.id.cmp(&b.id))
    });
    v
}

#[component]
pub fn ReportsPage() -> impl IntoView {
    let params = use_params_map();
    let project = Memo::new(move |_| params.read().get("project").unwrap_or_default());
    move || view! { <ReportsView project=project.get() /> }
}

#[component]
fn ReportsView(project: String) -> impl IntoView {
    crate::browser::set_title(&format!("Reports · {project}"));
    let a = provide_annotations(&project);
    let error = RwSignal::new(None::<String>);
    let reports = Memo::new(move |_| a.model.with(|m| by_recent(m.reports.values().cloned())));
    let navigate = use_navigate();
    let p = StoredValue::new(project.clone());
    let create = move |_| {
        let id = new_id('r');
        let op = new_report_op(id.clone(), new_id('b'), "Untitled report", None);
        let navigate = navigate.clone();
        error.set(None);
        leptos::task::spawn_local(async move {
            match a.send(op).await {
                Ok(OpOutcome::Committed { .. }) => {
                    navigate(&href(&report_path(&p.get_value(), &id)), Default::default());
                }
                Ok(OpOutcome::Conflict { .. }) => {
                    error.try_set(Some("That report id is taken; try again.".into()));
                }
                Err(e) => {
                    error.try_set(Some(format!("Not created: {e}")));
                }
            }
        });
    };
    let rows = move || {
        let writer = a.writer.get();
        reports
            .get()
            .into_iter()
            .map(|r| {
                let link = href(&report_path(&p.get_value(), &r.id));
                let (title, status) = match (&r.published, writer) {
                    (Some(pb), false) => (pb.title.clone(), format!("published rev {}", pb.rev)),
                    (Some(pb), true) if draft_changed(&r) => (
                        r.title.clone(),
                        format!("published rev {} · draft changed", pb.rev),
                    ),
                    (Some(pb), true) => (r.title.clone(), format!("published rev {}", pb.rev)),
                    (None, _) => (r.title.clone(), "draft".to_string()),
                };
                let title = if title.trim().is_empty() {
                    "(untitled)".to_string()
                } else {
                    title
                };
                view! {
                    <tr data-testid="report-row" data-report=r.id.clone()>
                        <td><a href=link data-testid="report-link">{title}</a></td>
                        <td>{status}</td>
                        <td>{local_datetime(r.updated_ms / 1000.0)}</td>
                        <td>{r.updated_by.label.clone()}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <nav class="crumbs-line muted">
            <a href=href("/")>"Projects"</a>
            " / "
            <a href=href(&util::project_path(&project))>{project.clone()}</a>
        </nav>
        <div class="run-head">
            <h1>"Reports"</h1>
            <span class="spacer"></span>
            <Show when=move || a.owner.get()>
                <button class="btn primary" data-testid="new-report" on:click=create.clone()>
                    "New report"
                </button>
            </Show>
        </div>
        {move || error.get().map(|e| view! { <ErrorBox message=e /> })}
        {move || a.error.get().map(|e| view! { <ErrorBox message=e /> })}
        <div class="panel">
            <Show
                when=move || !reports.with(Vec::is_empty)
                fallback=move || view! {
                    <div class="empty" data-testid="reports-empty">
                        {move || if a.loaded.get() { "No reports in this project yet." } else { "Loading…" }}
                    </div>
                }
            >
                <table class="kv rp-list" data-testid="reports-list">
                    <thead>
                        <tr><th>"Title"</th><th>"State"</th><th>"Updated"</th><th>"By"</th></tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </Show>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trackline_shared::annotations::Author;

    #[test]
    fn newest_change_first() {
        let r = |id: &str, ms: f64| Report {
            id: id.into(),
            project: "p".into(),
            title: id.into(),
            title_rev: 1,
            blocks: vec![],
            published: None,
            created_by: Author::default(),
            created_ms: 0.0,
            updated_by: Author::default(),
            updated_ms: ms,
            deleted: false,
        };
        let out = by_recent([r("a", 1.0), r("b", 3.0), r("c", 2.0)].into_iter());
        assert_eq!(
            out.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["b", "c", "a"]
        );
        assert!(draft_changed(&out[0]), "never published");
        match new_report_op("r1".into(), "b1".into(), "T", None) {
            Op::ReportCreate {
                report,
                title,
                blocks,
            } => {
                assert_eq!(
                    (report.as_str(), title.as_str(), blocks.len()),
                    ("r1", "T", 1)
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
