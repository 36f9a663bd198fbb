//! Draft or published: "published rev N" and whether the draft changed since, Publish (owners
//! copy the draft to the published report viewers read), and Delete report (owners, confirmed;
//! then back to the list).
//!
//! Test ids: `report-status` (with `data-published-rev`, 0 when never, and `data-changed`),
//! `report-publish`, `report-delete`, `report-delete-confirm`.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use trackline_shared::annotations::{Op, OpOutcome};
use trackline_shared::reports::Report;

use super::{list_path, use_report};
use crate::browser::href;

/// Whether the draft differs from the published copy (a report never published has changed).
pub fn draft_changed(r: &Report) -> bool {
    r.published
        .as_ref()
        .is_none_or(|p| p.title != r.title || p.blocks != r.blocks)
}

#[component]
pub fn PublishBar() -> impl IntoView {
    let ctx = use_report();
    let status = Memo::new(move |_| {
        ctx.report()
            .map(|r| (r.published.as_ref().map_or(0, |p| p.rev), draft_changed(&r)))
            .unwrap_or((0, false))
    });
    let confirm = RwSignal::new(false);
    let navigate = use_navigate();
    let publish = move |_| {
        let op = Op::ReportPublish {
            report: ctx.report.get_value(),
        };
        ctx.send(op, |_| {});
    };
    let delete = move |_| {
        confirm.set(false);
        let op = Op::ReportDelete {
            report: ctx.report.get_value(),
        };
        let navigate = navigate.clone();
        let list = list_path(&ctx.project());
        ctx.send(op, move |out| {
            if let Some(OpOutcome::Committed { .. }) = out {
                navigate(&href(&list), Default::default());
            }
        });
    };
    let text = move || {
        let (rev, changed) = status.get();
        let writer = ctx.a.writer.get();
        match (rev, changed, writer) {
            (0, _, _) => "Draft, never published".to_string(),
            (n, _, false) => format!("Published rev {n}"),
            (n, true, true) => format!("Published rev {n} · the draft has changed since"),
            (n, false, true) => format!("Published rev {n} · the draft is what is published"),
        }
    };
    view! {
        <span
            class="rp-status"
            data-testid="report-status"
            data-published-rev=move || status.get().0.to_string()
            data-changed=move || status.get().1.to_string()
        >
            {text}
        </span>
        <Show when=move || ctx.can_edit()>
            <button
                class="btn small primary"
                data-testid="report-publish"
                disabled=move || { let (rev, changed) = status.get(); rev > 0 && !changed }
                title="Copy the draft to the published report that viewers read"
                on:click=publish
            >
                "Publish"
            </button>
            {
                let delete = delete.clone();
                move || {
                    let delete = delete.clone();
                    if confirm.get() {
                        view! {
                            <span class="rp-confirm">
                                "Delete this report for everyone? "
                                <button class="btn small danger" data-testid="report-delete-confirm" on:click=delete>
                                    "Delete report"
                                </button>
                                <button class="btn small" on:click=move |_| confirm.set(false)>"Keep"</button>
                            </span>
                        }
                        .into_any()
                    } else {
                        view! {
                            <button class="btn small" data-testid="report-delete" on:click=move |_| confirm.set(true)>
                                "Delete report"
                            </button>
                        }
                        .into_any()
                    }
                }
            }
        </Show>
    }
}
