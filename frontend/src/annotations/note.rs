//! The note editor: a run's note (run page) or the project notepad (runs page). Shows the note
//! as markdown; "Edit" opens a textarea; "Save" sends `NoteSet` with the rev the draft started
//! from. A teammate's save meanwhile shows "updated by X while you were editing" and keeps the
//! draft; a refused save shows "changed by X" with both texts, to keep mine, take theirs or merge
//! by hand ([`super::draft`]).
//!
//! Test ids (`{id}` is the `testid` prop): `{id}` (the section), `{id}-text`, `{id}-edit`,
//! `{id}-input`, `{id}-save`, `{id}-cancel`, `{id}-remote`, `{id}-conflict`, `{id}-mine`,
//! `{id}-theirs`, `{id}-keep-mine`, `{id}-take-theirs`, `{id}-merge`, `{id}-error`.

use leptos::prelude::*;
use leptos::task::spawn_local;
use trackline_shared::annotations::{Current, Note, NoteTarget, Op, OpOutcome};

use super::draft::Draft;
use super::rendered::Markdown;
use super::store::use_annotations;
use crate::presence::EditingBadge;
use crate::presence::view::note_entity;

fn by(n: &Note) -> String {
    n.updated_by
        .as_ref()
        .map_or_else(|| "someone".to_string(), |a| a.label.clone())
}

#[component]
pub fn NoteEditor(
    target: NoteTarget,
    #[prop(into)] title: String,
    testid: &'static str,
    #[prop(optional)] empty: &'static str,
) -> impl IntoView {
    let Some(a) = use_annotations() else {
        return ().into_any();
    };
    let t = target.clone();
    let note = Memo::new(move |_| a.model.with(|m| m.note(&t)));
    let draft = RwSignal::new(None::<Draft>);
    let saving = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    // A teammate's save while editing is remembered beside the draft, never typed over it.
    Effect::new(move |_| {
        let n = note.get();
        if draft.with_untracked(Option::is_some) {
            draft.update(|d| {
                if let Some(d) = d {
                    d.remote_update(&n);
                }
            });
        }
    });
    // Teammates see an "editing" badge while this draft is open.
    crate::presence::use_editing(note_entity(&target), move || draft.with(Option::is_some));
    let badge = note_entity(&target);
    let target = StoredValue::new(target);
    let save = move || {
        let Some(d) = draft.get_untracked() else {
            return;
        };
        if saving.get_untracked() {
            return;
        }
        saving.set(true);
        error.set(None);
        let op = Op::NoteSet {
            target: target.get_value(),
            text: d.text.clone(),
            base_rev: d.base_rev,
        };
        spawn_local(async move {
            let res = a.send(op).await;
            saving.try_set(false);
            match res {
                Ok(OpOutcome::Committed { .. }) => {
                    draft.try_set(None);
                }
                Ok(OpOutcome::Conflict {
                    current: Current::Note(n),
                }) => {
                    draft.try_update(|d| {
                        if let Some(d) = d {
                            d.refused(n);
                        }
                    });
                }
                Ok(OpOutcome::Conflict { .. }) => {
                    error.try_set(Some("the daemon answered with another entity".into()));
                }
                Err(e) => {
                    error.try_set(Some(format!("Not saved (your text is kept): {e}")));
                }
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

    let shown = Signal::derive(move || note.with(|n| n.text.clone()));
    let meta = move || {
        note.with(|n| {
            n.updated_by.as_ref().map(|a| {
                format!(
                    "edited by {} · {}",
                    a.label,
                    crate::browser::local_datetime(n.updated_ms / 1000.0)
                )
            })
        })
    };
    let editing = move || draft.with(Option::is_some);
    let reading = move || {
        (!editing()).then(|| {
            view! {
                <Markdown text=shown empty=empty testid=format!("{testid}-text") />
            }
        })
    };
    let editor = move || {
        editing().then(|| {
            let remote = move || {
                draft.with(|d| d.as_ref().and_then(|d| d.remote.clone())).map(|n| {
                    view! {
                        <div class="note-remote" data-testid=format!("{testid}-remote")>
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
                draft.with(|d| d.as_ref().and_then(|d| d.conflict.clone().map(|c| (c, d.text.clone())))).map(
                    |(theirs, mine)| {
                        view! {
                            <div class="note-conflict" data-testid=format!("{testid}-conflict")>
                                <div class="note-conflict-head">
                                    {format!(
                                        "changed by {} while you were editing: both texts are below, nothing was saved",
                                        by(&theirs),
                                    )}
                                </div>
                                <div class="note-conflict-cols">
                                    <div>
                                        <div class="muted">"Yours"</div>
                                        <pre class="note-text" data-testid=format!("{testid}-mine")>{mine}</pre>
                                    </div>
                                    <div>
                                        <div class="muted">{format!("Theirs ({})", by(&theirs))}</div>
                                        <pre class="note-text" data-testid=format!("{testid}-theirs")>{theirs.text.clone()}</pre>
                                    </div>
                                </div>
                                <div class="note-actions">
                                    <button
                                        class="btn primary"
                                        data-testid=format!("{testid}-keep-mine")
                                        title="Save your text over theirs"
                                        on:click=move |_| {
                                            choose(Draft::keep_mine);
                                            save();
                                        }
                                    >
                                        "Keep mine"
                                    </button>
                                    <button
                                        class="btn"
                                        data-testid=format!("{testid}-take-theirs")
                                        title="Put their text in the editor instead of yours"
                                        on:click=move |_| choose(Draft::take_theirs)
                                    >
                                        "Take theirs"
                                    </button>
                                    <button
                                        class="btn"
                                        data-testid=format!("{testid}-merge")
                                        title="Put both texts in the editor, then save"
                                        on:click=move |_| choose(Draft::merge)
                                    >
                                        "Merge by hand"
                                    </button>
                                </div>
                            </div>
                        }
                    },
                )
            };
            view! {
                {remote}
                {conflict}
                <textarea
                    class="note-input"
                    data-testid=format!("{testid}-input")
                    rows="8"
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
                        data-testid=format!("{testid}-save")
                        disabled=move || saving.get() || draft.with(|d| d.as_ref().is_some_and(|d| d.conflict.is_some()))
                        on:click=move |_| save()
                    >
                        {move || if saving.get() { "Saving…" } else { "Save" }}
                    </button>
                    <button
                        class="btn"
                        data-testid=format!("{testid}-cancel")
                        title="Close the editor without saving"
                        on:click=move |_| {
                            draft.set(None);
                            error.set(None);
                        }
                    >
                        "Cancel"
                    </button>
                </div>
            }
        })
    };
    view! {
        <section class="panel note" data-testid=testid>
            <div class="note-head">
                <h2>{title}</h2>
                <span class="faint note-meta">{meta}</span>
                <EditingBadge entity=badge />
                <span class="spacer"></span>
                <Show when=move || !editing() && a.writer.get()>
                    <button
                        class="btn small"
                        data-testid=format!("{testid}-edit")
                        on:click=move |_| {
                            error.set(None);
                            draft.set(Some(Draft::start(&note.get_untracked())));
                        }
                    >
                        "Edit"
                    </button>
                </Show>
            </div>
            <div class="panel-body">
                {reading}
                {editor}
                {move || error.get().map(|e| view! { <div class="note-error" data-testid=format!("{testid}-error")>{e}</div> })}
                {move || a.error.get().map(|e| view! { <div class="note-error">{e}</div> })}
            </div>
        </section>
    }
    .into_any()
}
