//! A markdown block: its text through the safe renderer, and for owners the note editor's rules
//! ([`crate::annotations::draft`]): the save names the block's rev the draft started from; a
//! teammate's save meanwhile is shown beside the draft and never typed over it; a refused save
//! shows both texts to keep mine, take theirs or merge by hand. While the editor is open the
//! page tells the others it edits `report:<id>:<block>`.
//!
//! Test ids: `block-md` (the rendered text), `block-edit`, `block-input`, `block-save`,
//! `block-cancel`, `block-remote`, `block-conflict`, `block-keep-mine`, `block-take-theirs`,
//! `block-merge`.

use leptos::prelude::*;
use trackline_shared::annotations::{Current, Note, NoteTarget, Op, OpOutcome};
use trackline_shared::reports::{Block, BlockContent};

use super::{block_entity, use_report};
use crate::annotations::draft::Draft;
use crate::annotations::rendered::Markdown;

/// A markdown block as a note, so the note editor's [`Draft`] rules apply to it unchanged.
pub fn block_note(b: &Block) -> Note {
    let text = match &b.content {
        BlockContent::Markdown { text } => text.clone(),
        BlockContent::PanelGrid(_) => String::new(),
    };
    Note {
        target: NoteTarget::Project,
        text,
        rev: b.rev,
        updated_by: Some(b.updated_by.clone()),
        updated_ms: b.updated_ms,
    }
}

fn by(n: &Note) -> String {
    n.updated_by
        .as_ref()
        .map_or_else(|| "someone".to_string(), |a| a.label.clone())
}

#[component]
pub fn MarkdownBlock(id: String) -> impl IntoView {
    let ctx = use_report();
    let id_s = StoredValue::new(id.clone());
    let note = Memo::new(move |_| ctx.block(&id_s.get_value()).map(|b| block_note(&b)));
    let draft = RwSignal::new(None::<Draft>);
    let saving = RwSignal::new(false);
    Effect::new(move |_| {
        let Some(n) = note.get() else { return };
        if draft.with_untracked(Option::is_some) {
            draft.update(|d| {
                if let Some(d) = d {
                    d.remote_update(&n);
                }
            });
        }
    });
    crate::presence::use_editing(block_entity(&ctx.report.get_value(), &id), move || {
        draft.with(Option::is_some)
    });
    let save = move || {
        let Some(d) = draft.get_untracked() else {
            return;
        };
        if saving.get_untracked() {
            return;
        }
        saving.set(true);
        let op = Op::BlockSet {
            report: ctx.report.get_value(),
            block: id_s.get_value(),
            content: BlockContent::Markdown {
                text: d.text.clone(),
            },
            base_rev: d.base_rev,
        };
        ctx.send(op, move |out| {
            saving.try_set(false);
            match out {
                Some(OpOutcome::Committed { .. }) => {
                    draft.try_set(None);
                }
                Some(OpOutcome::Conflict {
                    current: Current::Report(r),
                }) => {
                    let current = r
                        .blocks
                        .iter()
                        .find(|b| b.id == id_s.get_value())
                        .map(block_note);
                    draft.try_update(|d| {
                        if let Some(d) = d {
                            match current {
                                Some(n) => d.refused(n),
                                // Deleted meanwhile: the text stays in the editor.
                                None => d.conflict = None,
                            }
                        }
                    });
                }
                _ => {}
            }
        });
    };
    let choose = move |f: fn(&mut Draft)| {
        draft.update(|d| {
            if let Some(d) = d {
                f(d);
            }
        })
    };
    let shown = Signal::derive(move || {
        note.with(|n| n.as_ref().map(|n| n.text.clone()).unwrap_or_default())
    });
    let editing = move || draft.with(Option::is_some);
    let reading = move || {
        (!editing()).then(|| {
            view! {
                <Markdown text=shown empty="(empty text block)" testid="block-md" />
                <Show when=move || ctx.can_edit()>
                    <button
                        class="btn small"
                        data-testid="block-edit"
                        on:click=move |_| {
                            if let Some(n) = note.get_untracked() {
                                draft.set(Some(Draft::start(&n)));
                            }
                        }
                    >
                        "Edit text"
                    </button>
                </Show>
            }
        })
    };
    let remote = move || {
        draft
            .with(|d| d.as_ref().and_then(|d| d.remote.clone()))
            .map(|n| {
                view! {
                    <div class="note-remote" data-testid="block-remote">
                        {format!("updated by {} while you were editing", by(&n))}
                        <details>
                            <summary>"their text"</summary>
                            <pre class="note-text">{n.text.clone()}</pre>
                        </details>
                    </div>
                }
            })
    };
    let conflict = move || {
        draft
            .with(|d| d.as_ref().and_then(|d| d.conflict.clone().map(|c| (c, d.text.clone()))))
            .map(|(theirs, mine)| {
                view! {
                    <div class="note-conflict" data-testid="block-conflict">
                        <div class="note-conflict-head">
                            {format!(
                                "changed by {} while you were editing: both texts are below, nothing was saved",
                                by(&theirs),
                            )}
                        </div>
                        <div class="note-conflict-cols">
                            <div>
                                <div class="muted">"Yours"</div>
                                <pre class="note-text">{mine}</pre>
                            </div>
                            <div>
                                <div class="muted">{format!("Theirs ({})", by(&theirs))}</div>
                                <pre class="note-text">{theirs.text.clone()}</pre>
                            </div>
                        </div>
                        <div class="note-actions">
                            <button
                                class="btn primary"
                                data-testid="block-keep-mine"
                                on:click=move |_| {
                                    choose(Draft::keep_mine);
                                    save();
                                }
                            >
                                "Keep mine"
                            </button>
                            <button class="btn" data-testid="block-take-theirs" on:click=move |_| choose(Draft::take_theirs)>
                                "Take theirs"
                            </button>
                            <button class="btn" data-testid="block-merge" on:click=move |_| choose(Draft::merge)>
                                "Merge by hand"
                            </button>
                        </div>
                    </div>
                }
            })
    };
    let editor = move || {
        editing().then(|| {
            view! {
                {remote}
                {conflict}
                <textarea
                    class="note-input"
                    data-testid="block-input"
                    rows="10"
                    placeholder="Markdown: # headings make the contents"
                    readonly=move || saving.get()
                    prop:value=move || draft.with(|d| d.as_ref().map(|d| d.text.clone()).unwrap_or_default())
                    on:input=move |ev| {
                        let v = event_target_value(&ev);
                        draft.update_untracked(|d| {
                            if let Some(d) = d {
                                d.text = v;
                            }
                        });
                    }
                ></textarea>
                <div class="note-actions">
                    <button
                        class="btn primary"
                        data-testid="block-save"
                        disabled=move || saving.get() || draft.with(|d| d.as_ref().is_some_and(|d| d.conflict.is_some()))
                        on:click=move |_| save()
                    >
                        {move || if saving.get() { "Saving…" } else { "Save" }}
                    </button>
                    <button class="btn" data-testid="block-cancel" on:click=move |_| draft.set(None)>
                        "Cancel"
                    </button>
                </div>
            }
        })
    };
    view! { <div class="rp-md">{reading}{editor}</div> }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trackline_shared::annotations::Author;

    #[test]
    fn a_block_edits_like_a_note() {
        let b = |rev: u64, text: &str, who: &str| Block {
            id: "b".into(),
            rev,
            content: BlockContent::Markdown { text: text.into() },
            updated_by: Author {
                id: who.into(),
                label: who.into(),
            },
            updated_ms: 0.0,
        };
        let mut d = Draft::start(&block_note(&b(2, "base", "me")));
        d.text = "mine".into();
        d.remote_update(&block_note(&b(3, "theirs", "bob")));
        assert_eq!((d.text.as_str(), d.base_rev), ("mine", 2));
        d.refused(block_note(&b(3, "theirs", "bob")));
        d.merge();
        assert_eq!(d.base_rev, 3);
        assert!(d.text.contains("theirs") && d.text.contains("mine") && d.text.contains("bob"));
    }
}
