//! Comment threads: the run page's list (threads on the run and pins on its charts), one thread
//! with its comments (also shown when a chart marker is clicked), adding, editing and deleting
//! one's own comments, resolving and reopening.
//!
//! Test ids: `threads`, `new-thread-input`, `new-thread-send`; per thread `thread` (with
//! `data-thread`, `data-resolved`), `thread-anchor`, `thread-resolve`, `comment-input`,
//! `comment-send`; per comment `comment` (`data-comment`, `data-deleted`), `comment-author`,
//! `comment-body`, `comment-edit`, `comment-delete`, `comment-edit-input`, `comment-edit-save`.

use leptos::prelude::*;
use leptos::task::spawn_local;
use trackline_shared::annotations::{Anchor, Comment, Current, Op, OpOutcome};

use super::rendered::Markdown;
use super::store::{Annotations, new_id, use_annotations};
use crate::browser::local_datetime;
use crate::charts::pins::{axis_label, format_x};

/// Where a thread hangs, for people.
pub fn anchor_text(a: &Anchor) -> String {
    match a {
        Anchor::Run { .. } => "on the run".into(),
        Anchor::ReportBlock { .. } => "on this block".into(),
        Anchor::Pin {
            key,
            x_axis,
            x0,
            x1,
            ..
        } => match x1 {
            None => format!("{key} at {} {}", axis_label(x_axis), format_x(*x0)),
            Some(x1) => format!(
                "{key}, {} {}–{}",
                axis_label(x_axis),
                format_x(*x0),
                format_x(*x1)
            ),
        },
    }
}

/// Sends `op`; `done` gets the outcome, or `None` after a failure (reported in `error`; the
/// caller keeps its text for another try).
fn send(
    a: Annotations,
    op: Op,
    error: RwSignal<Option<String>>,
    done: impl FnOnce(Option<OpOutcome>) + 'static,
) {
    error.set(None);
    spawn_local(async move {
        match a.send(op).await {
            Ok(outcome) => done(Some(outcome)),
            Err(e) => {
                error.try_set(Some(format!("Not saved: {e}")));
                done(None);
            }
        }
    });
}

/// The run page's threads: every thread anchored to `run`, and a box to start one on the run.
#[component]
pub fn ThreadList(#[prop(into)] run: String) -> impl IntoView {
    let Some(a) = use_annotations() else {
        return ().into_any();
    };
    let run = StoredValue::new(run);
    let ids = Memo::new(move |_| {
        a.model.with(|m| {
            run.with_value(|r| {
                m.threads_of_run(r)
                    .map(|t| t.head.id.clone())
                    .collect::<Vec<_>>()
            })
        })
    });
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let start = move |_| {
        let body = text.get_untracked();
        if body.trim().is_empty() || busy.get_untracked() {
            return;
        }
        busy.set(true);
        let op = Op::ThreadCreate {
            thread: new_id('t'),
            anchor: Anchor::Run {
                run: run.get_value(),
            },
            comment: new_id('c'),
            text: body,
        };
        send(a, op, error, move |out| {
            busy.try_set(false);
            if out.is_some() {
                text.try_set(String::new());
            }
        });
    };
    view! {
        <section class="panel threads" data-testid="threads">
            <h2>
                "Comments "
                <span class="muted">{move || { let n = ids.with(Vec::len); if n > 0 { n.to_string() } else { String::new() } }}</span>
            </h2>
            <div class="panel-body">
                <Show when=move || ids.with(Vec::is_empty)>
                    <p class="faint">"No comments yet. Pin one on a chart with its Pin button, or write one below."</p>
                </Show>
                <For each=move || ids.get() key=|id| id.clone() let:id>
                    <ThreadCard id=id />
                </For>
                <div class="thread-new" class:ann-off=move || !a.writer.get()>
                    <textarea
                        class="comment-input"
                        data-testid="new-thread-input"
                        rows="2"
                        placeholder="Comment on this run (markdown)"
                        prop:value=move || text.get()
                        on:input=move |ev| text.set(event_target_value(&ev))
                    ></textarea>
                    <button class="btn primary" data-testid="new-thread-send" on:click=start>
                        "Comment"
                    </button>
                    {move || error.get().map(|e| view! { <div class="note-error">{e}</div> })}
                </div>
            </div>
        </section>
    }
    .into_any()
}

/// One thread with its comments, a reply box and resolve/reopen.
#[component]
pub fn ThreadCard(#[prop(into)] id: String) -> impl IntoView {
    let Some(a) = use_annotations() else {
        return ().into_any();
    };
    let id = StoredValue::new(id);
    let head = Memo::new(move |_| {
        a.model
            .with(|m| id.with_value(|id| m.threads.get(id).map(|t| t.head.clone())))
    });
    let comments = Memo::new(move |_| {
        a.model.with(|m| {
            id.with_value(|id| {
                m.threads
                    .get(id)
                    .map(|t| t.comments.clone())
                    .unwrap_or_default()
            })
        })
    });
    let focused = move || {
        a.focus
            .with(|f| f.as_ref().is_some_and(|(t, _)| id.with_value(|id| id == t)))
    };
    let reply = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let resolve = move |_| {
        let Some(h) = head.get_untracked() else {
            return;
        };
        let op = Op::ThreadResolve {
            thread: h.id.clone(),
            resolved: !h.resolved,
            base_rev: h.rev,
        };
        send(a, op, error, move |out| {
            if let Some(OpOutcome::Conflict {
                current: Current::Thread(now),
            }) = out
            {
                error.try_set(Some(format!(
                    "someone changed this thread meanwhile: it is {} now",
                    if now.resolved { "resolved" } else { "open" }
                )));
            }
        });
    };
    let add = move |_| {
        let text = reply.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        let op = Op::CommentAdd {
            thread: id.get_value(),
            comment: new_id('c'),
            text,
        };
        send(a, op, error, move |out| {
            if out.is_some() {
                reply.try_set(String::new());
            }
        });
    };
    let body = move || {
        head.get().map(|h| {
            view! {
                <div class="thread-head">
                    <span class="thread-anchor" data-testid="thread-anchor">{anchor_text(&h.anchor)}</span>
                    <span class="faint">{format!("started by {}", h.created_by.label)}</span>
                    {h.resolved.then(|| view! { <span class="badge finished">"resolved"</span> })}
                    <span class="spacer"></span>
                    <button class="btn small" class:ann-off=move || !a.writer.get() data-testid="thread-resolve" on:click=resolve>
                        {if h.resolved { "Reopen" } else { "Resolve" }}
                    </button>
                </div>
            }
        })
    };
    view! {
        <div
            class="thread"
            class:resolved=move || head.with(|h| h.as_ref().is_some_and(|h| h.resolved))
            class:focused=focused
            data-testid="thread"
            data-thread=id.get_value()
            data-resolved=move || head.with(|h| h.as_ref().is_some_and(|h| h.resolved)).to_string()
        >
            {body}
            <For
                each=move || comments.get()
                key=|c| (c.id.clone(), c.rev)
                children=move |c| view! { <CommentView comment=c /> }
            />
            <div class="thread-reply" class:ann-off=move || !a.writer.get()>
                <textarea
                    class="comment-input"
                    data-testid="comment-input"
                    rows="1"
                    placeholder="Reply (markdown)"
                    prop:value=move || reply.get()
                    on:input=move |ev| reply.set(event_target_value(&ev))
                ></textarea>
                <button class="btn" data-testid="comment-send" on:click=add>
                    "Reply"
                </button>
            </div>
            {move || error.get().map(|e| view! { <div class="note-error">{e}</div> })}
        </div>
    }
    .into_any()
}

/// One comment: author, time, markdown; edit and delete when it is one's own.
#[component]
fn CommentView(comment: Comment) -> impl IntoView {
    let Some(a) = use_annotations() else {
        return ().into_any();
    };
    let c = StoredValue::new(comment.clone());
    let mine = move || {
        a.me.with(|me| me.id == c.with_value(|c| c.author.id.clone()))
    };
    let editing = RwSignal::new(None::<(String, u64)>);
    let error = RwSignal::new(None::<String>);
    let text = Signal::derive(move || c.with_value(|c| c.text.clone()));
    let when = local_datetime(comment.created_ms / 1000.0);
    let save = move |_| {
        let Some((draft, base_rev)) = editing.get_untracked() else {
            return;
        };
        let op = Op::CommentEdit {
            comment: c.with_value(|c| c.id.clone()),
            text: draft.clone(),
            base_rev,
        };
        send(a, op, error, move |out| match out {
            Some(OpOutcome::Committed { .. }) => {
                editing.try_set(None);
            }
            Some(OpOutcome::Conflict {
                current: Current::Comment(now),
            }) => {
                // Keep the draft; saving again replaces the text shown now.
                editing.try_set(Some((draft, now.rev)));
                error.try_set(Some(format!(
                    "changed elsewhere meanwhile, now: \u{201c}{}\u{201d}. Save again to replace it.",
                    now.text
                )));
            }
            _ => {}
        });
    };
    let delete = move |_| {
        let op = Op::CommentDelete {
            comment: c.with_value(|c| c.id.clone()),
        };
        send(a, op, error, |_| {});
    };
    let deleted = comment.deleted;
    view! {
        <div class="comment" data-testid="comment" data-comment=comment.id.clone() data-deleted=deleted.to_string()>
            <div class="comment-head">
                <span class="comment-author" data-testid="comment-author">{comment.author.label.clone()}</span>
                <span class="faint">{when}</span>
                {comment.edited_ms.filter(|_| !deleted).map(|_| view! { <span class="faint">"(edited)"</span> })}
                <span class="spacer"></span>
                <Show when=move || mine() && a.writer.get() && !deleted && editing.with(Option::is_none)>
                    <button
                        class="btn small"
                        data-testid="comment-edit"
                        on:click=move |_| editing.set(Some(c.with_value(|c| (c.text.clone(), c.rev))))
                    >
                        "Edit"
                    </button>
                </Show>
                <Show when=move || (mine() || a.owner.get()) && !deleted && editing.with(Option::is_none)>
                    <button class="btn small" data-testid="comment-delete" on:click=delete>
                        "Delete"
                    </button>
                </Show>
            </div>
            {move || {
                if deleted {
                    return view! { <div class="faint">"comment deleted"</div> }.into_any();
                }
                match editing.get() {
                    None => view! { <Markdown text=text testid="comment-body" /> }.into_any(),
                    Some(_) => view! {
                        <textarea
                            class="comment-input"
                            data-testid="comment-edit-input"
                            rows="3"
                            prop:value=move || editing.with_untracked(|e| e.as_ref().map(|e| e.0.clone()).unwrap_or_default())
                            on:input=move |ev| {
                                let v = event_target_value(&ev);
                                editing.update_untracked(|e| if let Some(e) = e { e.0 = v; });
                            }
                        ></textarea>
                        <div class="note-actions">
                            <button class="btn primary" data-testid="comment-edit-save" on:click=save>"Save"</button>
                            <button class="btn" on:click=move |_| { editing.set(None); error.set(None); }>"Cancel"</button>
                        </div>
                    }
                    .into_any(),
                }
            }}
            {move || error.get().map(|e| view! { <div class="note-error">{e}</div> })}
        </div>
    }
    .into_any()
}
