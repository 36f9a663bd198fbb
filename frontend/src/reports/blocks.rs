//! The report's blocks in order, each in a frame: a drag handle and up/down buttons (owners),
//! who is editing it, its comments button (opens the block's threads), and Delete (owners,
//! confirmed). The block's own view is [`super::markdown_block`] or [`super::grid`].
//!
//! Test ids: `report-block` (with `data-block` and `data-kind`: `markdown` or `panel_grid`),
//! `block-drag`, `block-up`, `block-down`, `block-comments` (with `data-count`),
//! `block-delete`, `block-delete-confirm`.

use leptos::prelude::*;
use trackline_shared::annotations::{Anchor, Op};
use trackline_shared::reports::BlockContent;

use super::drag::{Drag, move_block};
use super::grid::GridBlock;
use super::markdown_block::MarkdownBlock;
use super::threads::BlockThreads;
use super::{block_entity, order, use_report};
use crate::presence::EditingBadge;

/// Every block of the shown version, in order.
#[component]
pub fn BlockList() -> impl IntoView {
    let ctx = use_report();
    let drag = Drag::new();
    let ids = Memo::new(move |_| {
        ctx.report()
            .map(|r| {
                ctx.shown(&r)
                    .1
                    .iter()
                    .map(|b| b.id.clone())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    });
    view! {
        <div class="rp-blocks" data-testid="report-blocks">
            <For each=move || ids.get() key=|id| id.clone() let:id>
                <BlockView id=id drag=drag ids=ids />
            </For>
            <Show when=move || ids.with(Vec::is_empty)>
                <div class="empty">"This report has no blocks yet."</div>
            </Show>
        </div>
    }
}

#[component]
fn BlockView(id: String, drag: Drag, ids: Memo<Vec<String>>) -> impl IntoView {
    let ctx = use_report();
    let id_s = StoredValue::new(id.clone());
    let kind = Memo::new(move |_| {
        ctx.block(&id_s.get_value()).map(|b| match b.content {
            BlockContent::Markdown { .. } => "markdown",
            BlockContent::PanelGrid(_) => "panel_grid",
        })
    });
    let comments = RwSignal::new(false);
    let confirm = RwSignal::new(false);
    let thread_count = Memo::new(move |_| {
        let (report, block) = (ctx.report.get_value(), id_s.get_value());
        ctx.a.model.with(|m| {
            m.threads
                .values()
                .filter(|t| {
                    matches!(&t.head.anchor, Anchor::ReportBlock { report: r, block: b } if *r == report && *b == block)
                })
                .count()
        })
    });
    let delete = move |_| {
        confirm.set(false);
        let op = Op::BlockDelete {
            report: ctx.report.get_value(),
            block: id_s.get_value(),
        };
        ctx.send(op, |_| {});
    };
    let step = move |up: bool| {
        let list = ids.get_untracked();
        let b = id_s.get_value();
        let after = if up {
            order::move_up(&list, &b)
        } else {
            order::move_down(&list, &b)
        };
        if let Some(after) = after {
            move_block(ctx, b, after);
        }
    };
    let marker = move || {
        let me = id_s.get_value();
        let mut c = String::from("rp-block");
        if drag.dragging.with(|d| d.as_deref() == Some(me.as_str())) {
            c.push_str(" dragging");
        }
        match drag.over.get() {
            Some((b, below)) if b == me => {
                c.push_str(if below { " drop-below" } else { " drop-above" })
            }
            _ => {}
        }
        c
    };
    let content = move || match kind.get() {
        Some("markdown") => view! { <MarkdownBlock id=id_s.get_value() /> }.into_any(),
        Some(_) => view! { <GridBlock id=id_s.get_value() /> }.into_any(),
        None => ().into_any(),
    };
    view! {
        <section
            class=marker
            data-testid="report-block"
            data-block=id.clone()
            data-kind=move || kind.get().unwrap_or_default()
            on:dragover=move |ev| drag.over(&ev, &id_s.get_value())
            on:dragleave=move |_| {
                if drag.over.with_untracked(|o| o.as_ref().is_some_and(|(b, _)| *b == id_s.get_value())) {
                    drag.over.set(None);
                }
            }
            on:drop=move |ev| drag.drop(ctx, &ev, &id_s.get_value())
        >
            <div class="rp-block-bar">
                <Show when=move || ctx.can_edit()>
                    <span
                        class="rp-drag"
                        draggable="true"
                        data-testid="block-drag"
                        title="Drag to move this block"
                        on:dragstart=move |ev| drag.start(&ev, &id_s.get_value())
                        on:dragend=move |_| drag.end()
                    >
                        "⠿"
                    </span>
                    <button class="lc-btn" data-testid="block-up" title="Move up" on:click=move |_| step(true)>
                        "↑"
                    </button>
                    <button class="lc-btn" data-testid="block-down" title="Move down" on:click=move |_| step(false)>
                        "↓"
                    </button>
                </Show>
                <EditingBadge entity=block_entity(&ctx.report.get_value(), &id) />
                <span class="spacer"></span>
                <button
                    class="lc-btn"
                    class:on=move || comments.get()
                    data-testid="block-comments"
                    data-count=move || thread_count.get().to_string()
                    title="Comments on this block"
                    on:click=move |_| comments.update(|c| *c = !*c)
                >
                    {move || match thread_count.get() {
                        0 => "Comment".to_string(),
                        n => format!("Comments ({n})"),
                    }}
                </button>
                <Show when=move || ctx.can_edit()>
                    {move || if confirm.get() {
                        view! {
                            <span class="rp-confirm">
                                "Delete this block? "
                                <button class="btn small danger" data-testid="block-delete-confirm" on:click=delete>
                                    "Delete"
                                </button>
                                <button class="btn small" on:click=move |_| confirm.set(false)>"Keep"</button>
                            </span>
                        }
                        .into_any()
                    } else {
                        view! {
                            <button class="lc-btn" data-testid="block-delete" title="Delete this block" on:click=move |_| confirm.set(true)>
                                "✕"
                            </button>
                        }
                        .into_any()
                    }}
                </Show>
            </div>
            {content}
            <Show when=move || comments.get()>
                <BlockThreads block=id_s.get_value() />
            </Show>
        </section>
    }
}
