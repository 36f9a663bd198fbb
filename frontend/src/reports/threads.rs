//! Comment threads on one block (`Anchor::ReportBlock`): its threads as the annotations'
//! [`ThreadCard`]s, and a box to start one (annotators and owners; a viewer's link sees none).
//!
//! Test ids: `block-threads`, `block-thread-input`, `block-thread-send`.

use leptos::prelude::*;
use trackline_shared::annotations::{Anchor, Op};

use super::use_report;
use crate::annotations::ThreadCard;
use crate::annotations::store::new_id;

#[component]
pub fn BlockThreads(block: String) -> impl IntoView {
    let ctx = use_report();
    let block = StoredValue::new(block);
    let ids = Memo::new(move |_| {
        let (report, b) = (ctx.report.get_value(), block.get_value());
        ctx.a.model.with(|m| {
            m.order
                .iter()
                .filter_map(|id| m.threads.get(id))
                .filter(|t| {
                    matches!(&t.head.anchor, Anchor::ReportBlock { report: r, block: x } if *r == report && *x == b)
                })
                .map(|t| t.head.id.clone())
                .collect::<Vec<_>>()
        })
    });
    let text = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let start = move |_| {
        let body = text.get_untracked();
        if body.trim().is_empty() || busy.get_untracked() {
            return;
        }
        busy.set(true);
        let op = Op::ThreadCreate {
            thread: new_id('t'),
            anchor: Anchor::ReportBlock {
                report: ctx.report.get_value(),
                block: block.get_value(),
            },
            comment: new_id('c'),
            text: body,
        };
        ctx.send(op, move |out| {
            busy.try_set(false);
            if out.is_some() {
                text.try_set(String::new());
            }
        });
    };
    view! {
        <div class="rp-threads threads" data-testid="block-threads">
            <For each=move || ids.get() key=|id| id.clone() let:id>
                <ThreadCard id=id />
            </For>
            <Show when=move || ctx.a.writer.get()>
                <div class="thread-new">
                    <textarea
                        class="comment-input"
                        data-testid="block-thread-input"
                        rows="2"
                        placeholder="Comment on this block (markdown)"
                        prop:value=move || text.get()
                        on:input=move |ev| text.set(event_target_value(&ev))
                    ></textarea>
                    <button class="btn primary" data-testid="block-thread-send" on:click=start>
                        "Comment"
                    </button>
                </div>
            </Show>
        </div>
    }
}
