//! An owner renames a run and edits its tags from the run page: an Edit button under the run's
//! head opens a small form; Save sends a `run_rename` and/or `run_retag` op from the revisions
//! the form was opened at. A conflict (another owner saved first) keeps what was typed, shows the
//! current value and who set it, and a second Save then overwrites it on purpose. The new name
//! reaches every viewer through the run's info (the daemon shows the overlay wherever a run is
//! served).

use leptos::prelude::*;
use leptos::task::spawn_local;
use trackline_shared::annotations::{Current, Op, OpOutcome, RunOverlay};
use trackline_shared::api::RunInfo;

use super::store::use_annotations;

/// Tags as typed: comma-separated, trimmed, empty ones dropped.
pub fn parse_tags(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What a conflict tells the editor: the field's current value and who set it.
pub fn conflict_text(current: &RunOverlay, name: bool) -> String {
    let by = current
        .updated_by
        .as_ref()
        .map_or_else(|| "someone".to_owned(), |a| a.label.clone());
    let value = if name {
        format!("“{}”", current.name.clone().unwrap_or_default())
    } else {
        format!("“{}”", current.tags.clone().unwrap_or_default().join(", "))
    };
    let what = if name { "name" } else { "tags" };
    format!("{by} changed the {what} to {value} meanwhile; Save again to replace it with yours.")
}

#[component]
pub fn RunLabelEditor(run: String, info: RwSignal<Option<RunInfo>>) -> impl IntoView {
    let Some(a) = use_annotations() else {
        return ().into_any();
    };
    let run = StoredValue::new(run);
    let editing = RwSignal::new(false);
    let name = RwSignal::new(String::new());
    let tags = RwSignal::new(String::new());
    // The values and revisions the form was opened at (revs move on after a conflict).
    let opened = StoredValue::new((String::new(), Vec::<String>::new()));
    let base = StoredValue::new((0u64, 0u64));
    let message = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let open = move |_| {
        let Some((n, t)) =
            info.with_untracked(|i| i.as_ref().map(|i| (i.name.clone(), i.tags.clone())))
        else {
            return;
        };
        name.set(n.clone());
        tags.set(t.join(", "));
        opened.set_value((n, t));
        let o = a.model.with_untracked(|m| m.run_overlay(&run.get_value()));
        base.set_value((o.name_rev, o.tags_rev));
        message.set(None);
        editing.set(true);
    };
    let save = move |_| {
        let (new_name, new_tags) = (
            name.get_untracked().trim().to_owned(),
            parse_tags(&tags.get_untracked()),
        );
        let (old_name, old_tags) = opened.get_value();
        let (name_rev, tags_rev) = base.get_value();
        let run = run.get_value();
        let mut ops = Vec::new();
        if new_name != old_name {
            ops.push(Op::RunRename {
                run: run.clone(),
                name: new_name.clone(),
                base_rev: name_rev,
            });
        }
        if new_tags != old_tags {
            ops.push(Op::RunRetag {
                run,
                tags: new_tags.clone(),
                base_rev: tags_rev,
            });
        }
        busy.set(true);
        message.set(None);
        spawn_local(async move {
            for op in ops {
                let is_name = matches!(op, Op::RunRename { .. });
                match a.send(op).await {
                    Ok(OpOutcome::Committed { .. }) => {
                        // Saved: later fields compare against what is now stored.
                        opened.update_value(|(n, t)| {
                            if is_name {
                                n.clone_from(&new_name)
                            } else {
                                t.clone_from(&new_tags)
                            }
                        });
                    }
                    Ok(OpOutcome::Conflict {
                        current: Current::Run(o),
                    }) => {
                        base.set_value((o.name_rev, o.tags_rev));
                        message.try_set(Some(conflict_text(&o, is_name)));
                        busy.try_set(false);
                        return;
                    }
                    Ok(OpOutcome::Conflict { .. }) => {
                        message.try_set(Some(
                            "The daemon answered with another entity; reload the page.".into(),
                        ));
                        busy.try_set(false);
                        return;
                    }
                    Err(e) => {
                        message.try_set(Some(format!("Could not save: {e}")));
                        busy.try_set(false);
                        return;
                    }
                }
            }
            busy.try_set(false);
            editing.try_set(false);
        });
    };

    view! {
        <Show when=move || a.owner.get()>
            <Show
                when=move || editing.get()
                fallback=move || {
                    view! {
                        <button class="btn small" data-testid="run-label-edit" on:click=open>
                            "Edit name and tags"
                        </button>
                    }
                }
            >
                <div class="run-label-editor" data-testid="run-label-form">
                    <label>
                        "Name "
                        <input
                            data-testid="run-label-name"
                            maxlength="128"
                            prop:value=move || name.get()
                            on:input=move |ev| name.set(event_target_value(&ev))
                        />
                    </label>
                    <label>
                        "Tags (comma-separated) "
                        <input
                            data-testid="run-label-tags"
                            prop:value=move || tags.get()
                            on:input=move |ev| tags.set(event_target_value(&ev))
                        />
                    </label>
                    <button class="btn primary" data-testid="run-label-save" disabled=move || busy.get() on:click=save>
                        "Save"
                    </button>
                    <button class="btn" data-testid="run-label-cancel" on:click=move |_| editing.set(false)>
                        "Cancel"
                    </button>
                    {move || message.get().map(|m| view! { <p class="run-label-conflict" data-testid="run-label-message">{m}</p> })}
                </div>
            </Show>
        </Show>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use trackline_shared::annotations::Author;

    #[test]
    fn tags_are_split_on_commas_and_trimmed() {
        assert_eq!(parse_tags(" a, b ,,c ,"), vec!["a", "b", "c"]);
        assert!(parse_tags("  ").is_empty());
    }

    #[test]
    fn a_conflict_names_the_current_value_and_its_writer() {
        let o = RunOverlay {
            run: "r".into(),
            name: Some("theirs".into()),
            name_rev: 2,
            updated_by: Some(Author {
                id: "x".into(),
                label: "alice".into(),
            }),
            ..RunOverlay::default()
        };
        let text = conflict_text(&o, true);
        assert!(
            text.starts_with("alice changed the name to “theirs”"),
            "{text}"
        );
    }
}
