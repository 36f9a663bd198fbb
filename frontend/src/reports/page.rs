//! `/projects/:project/reports/:report`: one report. The title (owners rename it), the publish
//! bar, the export menu, a table of contents from the markdown headings, then the blocks in order;
//! owners add blocks at the end. Runs come live from the `project` topic, so every panel grid
//! evaluates its run set again as runs arrive or change.
//!
//! Test ids: `report-title`, `report-title-edit`, `report-title-input`, `report-title-save`,
//! `report-title-conflict`, `report-toc` (entries `toc-entry`), `report-missing`,
//! `add-markdown-block`, `add-grid-block`, `report-error`.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use trackline_shared::annotations::{Current, Op, OpOutcome};
use trackline_shared::api::RunInfo;
use trackline_shared::reports::{BlockContent, NewBlock, PanelGrid};
use trackline_shared::ws::{ServerMsg, Topic};

use super::blocks::BlockList;
use super::export::ExportMenu;
use super::publish::PublishBar;
use super::{ReportCtx, list_path, toc};
use crate::annotations::provide_annotations;
use crate::annotations::store::new_id;
use crate::browser::href;
use crate::components::ErrorBox;
use crate::live::{Live, live};
use crate::{api, util};

#[component]
pub fn ReportPage() -> impl IntoView {
    let params = use_params_map();
    let key = Memo::new(move |_| {
        let p = params.read();
        (
            p.get("project").unwrap_or_default(),
            p.get("report").unwrap_or_default(),
        )
    });
    move || {
        let (project, report) = key.get();
        view! { <ReportView project report /> }
    }
}

/// Inserts or replaces runs by id (a newer or equal `version` wins).
pub fn upsert_runs(list: &mut Vec<RunInfo>, runs: Vec<RunInfo>) {
    for r in runs {
        match list.iter_mut().find(|o| o.id == r.id) {
            Some(old) => {
                if r.version >= old.version {
                    *old = r;
                }
            }
            None => list.push(r),
        }
    }
}

#[component]
fn ReportView(project: String, report: String) -> impl IntoView {
    crate::browser::set_title(&format!("Report · {project}"));
    let a = provide_annotations(&project);
    let ctx = ReportCtx {
        a,
        report: StoredValue::new(report.clone()),
        runs: RwSignal::new(Vec::new()),
        error: RwSignal::new(None),
    };
    provide_context(ctx);
    let runs_error = RwSignal::new(None::<String>);
    {
        let fetch = {
            let project = project.clone();
            async move { api::runs(&project).await }
        };
        let topic = Topic::Project {
            project: project.clone(),
            since: 0,
        };
        live(fetch, topic, move |update| match update {
            Live::Snapshot(Ok(list)) | Live::Msg(ServerMsg::Runs { runs: list, .. }) => {
                ctx.runs.try_update(|l| upsert_runs(l, list));
            }
            Live::Snapshot(Err(e)) => {
                runs_error.try_set(Some(format!("Could not load runs: {e}")));
            }
            Live::Msg(ServerMsg::RunRemoved { run, .. }) => {
                ctx.runs.try_update(|l| l.retain(|r| r.id != run));
            }
            _ => {}
        });
    }
    let exists = Memo::new(move |_| a.model.with(|m| m.reports.contains_key(&report)));
    let body = move || {
        if !a.loaded.get() {
            return view! { <div class="loading">"Loading the report…"</div> }.into_any();
        }
        if !exists.get() {
            return view! {
                <div class="empty" data-testid="report-missing">
                    "No such report here (deleted, never published, or not shared with you)."
                </div>
            }
            .into_any();
        }
        view! {
            <TitleBar />
            <div class="rp-bar">
                <PublishBar />
                <span class="spacer"></span>
                <ExportMenu />
            </div>
            <Contents />
            <BlockList />
            <AddBlockBar />
        }
        .into_any()
    };
    let p2 = project.clone();
    view! {
        <nav class="crumbs-line muted">
            <a href=href("/")>"Projects"</a>
            " / "
            <a href=href(&util::project_path(&project))>{project.clone()}</a>
            " / "
            <a href=href(&list_path(&p2)) data-testid="reports-crumb">"Reports"</a>
        </nav>
        {move || runs_error.get().map(|e| view! { <ErrorBox message=e /> })}
        {move || a.error.get().map(|e| view! { <ErrorBox message=e /> })}
        <article class="rp" data-testid="report">{body}</article>
    }
}

/// The title, and its editor for owners (a stale rename shows theirs: keep mine or take theirs).
#[component]
fn TitleBar() -> impl IntoView {
    let ctx = super::use_report();
    let title = Memo::new(move |_| ctx.report().map(|r| ctx.shown(&r).0).unwrap_or_default());
    // (text, base_rev) while editing; their title when a save was refused.
    let draft = RwSignal::new(None::<(String, u64)>);
    let theirs = RwSignal::new(None::<(String, String)>);
    Effect::new(move |_| {
        let t = title.get();
        if !t.is_empty() {
            crate::browser::set_title(&t);
        }
    });
    let save = move || {
        let Some((text, base_rev)) = draft.get_untracked() else {
            return;
        };
        let op = Op::ReportTitle {
            report: ctx.report.get_value(),
            title: text.trim().to_string(),
            base_rev,
        };
        ctx.send(op, move |out| match out {
            Some(OpOutcome::Committed { .. }) => {
                draft.try_set(None);
                theirs.try_set(None);
            }
            Some(OpOutcome::Conflict {
                current: Current::Report(r),
            }) => {
                draft.try_update(|d| {
                    if let Some(d) = d {
                        d.1 = r.title_rev;
                    }
                });
                theirs.try_set(Some((r.title.clone(), r.updated_by.label.clone())));
            }
            _ => {}
        });
    };
    view! {
        <div class="rp-title-row">
            {move || match draft.get().is_some() {
                false => view! {
                    <h1 data-testid="report-title">{move || title.get()}</h1>
                    <Show when=move || ctx.can_edit()>
                        <button
                            class="btn small"
                            data-testid="report-title-edit"
                            on:click=move |_| {
                                let rev = ctx.report().map_or(0, |r| r.title_rev);
                                draft.set(Some((title.get_untracked(), rev)));
                            }
                        >
                            "Rename"
                        </button>
                    </Show>
                }
                .into_any(),
                true => view! {
                    <input
                        class="rp-title-input"
                        data-testid="report-title-input"
                        maxlength=trackline_shared::reports::MAX_REPORT_TITLE_CHARS.to_string()
                        prop:value=move || draft.with(|d| d.as_ref().map(|d| d.0.clone()).unwrap_or_default())
                        on:input=move |ev| {
                            let v = event_target_value(&ev);
                            draft.update_untracked(|d| {
                                if let Some(d) = d {
                                    d.0 = v;
                                }
                            });
                        }
                    />
                    <button class="btn primary small" data-testid="report-title-save" on:click=move |_| save()>
                        "Save"
                    </button>
                    <button
                        class="btn small"
                        on:click=move |_| {
                            draft.set(None);
                            theirs.set(None);
                        }
                    >
                        "Cancel"
                    </button>
                    {move || theirs.get().map(|(t, by)| view! {
                        <div class="note-conflict" data-testid="report-title-conflict">
                            {format!("renamed by {by} to “{t}” while you were editing; nothing was saved")}
                            <button class="btn small primary" on:click=move |_| save()>"Keep mine"</button>
                            <button
                                class="btn small"
                                on:click={
                                    let t = t.clone();
                                    move |_| {
                                        draft.update(|d| {
                                            if let Some(d) = d {
                                                d.0 = t.clone();
                                            }
                                        });
                                        theirs.set(None);
                                    }
                                }
                            >
                                "Take theirs"
                            </button>
                        </div>
                    })}
                }
                .into_any(),
            }}
        </div>
        {move || ctx.error.get().map(|e| view! { <div class="note-error" data-testid="report-error">{e}</div> })}
    }
}

/// Headings of the markdown blocks; a click scrolls to the heading.
#[component]
fn Contents() -> impl IntoView {
    let ctx = super::use_report();
    let entries = Memo::new(move |_| {
        ctx.report()
            .map(|r| toc::contents(&ctx.shown(&r).1))
            .unwrap_or_default()
    });
    move || {
        let list = entries.get();
        (!list.is_empty()).then(|| {
            view! {
                <nav class="rp-toc" data-testid="report-toc">
                    <div class="muted">"Contents"</div>
                    {list
                        .into_iter()
                        .map(|h| {
                            let (block, anchor) = (h.block.clone(), h.anchor.clone());
                            view! {
                                <button
                                    class=format!("rp-toc-entry l{}", h.level)
                                    data-testid="toc-entry"
                                    on:click=move |_| scroll_to_heading(&block, &anchor)
                                >
                                    {h.text.clone()}
                                </button>
                            }
                        })
                        .collect_view()}
                </nav>
            }
        })
    }
}

fn scroll_to_heading(block: &str, anchor: &str) {
    // Anchors are slugs (letters, digits, `-`); the block id is ours. Neither holds a quote.
    let css = format!(
        "[data-testid=report-block][data-block=\"{}\"] [id=\"{}\"]",
        block.replace(['"', '\\'], ""),
        anchor.replace(['"', '\\'], "")
    );
    if let Ok(Some(h)) = document().query_selector(&css) {
        h.scroll_into_view();
    }
}

/// Owners add a markdown block or a panel grid at the end.
#[component]
fn AddBlockBar() -> impl IntoView {
    let ctx = super::use_report();
    let add = move |content: BlockContent| {
        let after = ctx
            .report()
            .and_then(|r| r.blocks.last().map(|b| b.id.clone()));
        let op = Op::BlockAdd {
            report: ctx.report.get_value(),
            after,
            block: NewBlock {
                id: new_id('b'),
                content,
            },
        };
        ctx.send(op, |_| {});
    };
    view! {
        <Show when=move || ctx.can_edit()>
            <div class="rp-add">
                <button
                    class="btn"
                    data-testid="add-markdown-block"
                    on:click=move |_| add(BlockContent::Markdown { text: String::new() })
                >
                    "+ Text"
                </button>
                <button
                    class="btn"
                    data-testid="add-grid-block"
                    on:click=move |_| add(BlockContent::PanelGrid(PanelGrid::default()))
                >
                    "+ Panel grid"
                </button>
            </div>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_keep_their_newest_version() {
        let run = |id: &str, version: u64| RunInfo {
            id: id.into(),
            version,
            ..Default::default()
        };
        let mut l = vec![run("a", 3)];
        upsert_runs(&mut l, vec![run("a", 2), run("b", 1)]);
        assert_eq!(
            l.iter()
                .map(|r| (r.id.as_str(), r.version))
                .collect::<Vec<_>>(),
            [("a", 3), ("b", 1)]
        );
        upsert_runs(&mut l, vec![run("a", 4)]);
        assert_eq!(l[0].version, 4);
    }
}
