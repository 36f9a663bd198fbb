//! The owner's actions on a version: add an alias (checked here with
//! [`trackline_shared::artifacts::check_alias`] before it is sent), remove one, and delete the
//! version after a confirmation (again, with its aliases, when the daemon says an alias still
//! names it). Anyone else sees nothing (the daemon refuses them too).

use leptos::prelude::*;
use leptos::task::spawn_local;
use trackline_shared::artifacts::{ArtifactVersionInfo, LATEST, check_alias};

use super::{AliasPill, delete_alias, delete_version, put_alias, use_owner};
use crate::api::ApiError;
use crate::components::ConfirmButton;

/// The aliases of a version, each with a remove button for the owner.
#[component]
pub fn AliasList(
    project: String,
    info: ArtifactVersionInfo,
    on_change: Callback<()>,
) -> impl IntoView {
    let owner = use_owner();
    let message = RwSignal::new(None::<String>);
    let target = StoredValue::new((project, info.name.clone()));
    let pills = info
        .aliases
        .iter()
        .map(|alias| {
            let alias = alias.clone();
            let removable = alias != LATEST;
            let remove = {
                let alias = alias.clone();
                move |_| {
                    let (project, name) = target.get_value();
                    let alias = alias.clone();
                    spawn_local(async move {
                        match delete_alias(&project, &name, &alias).await {
                            Ok(()) => on_change.run(()),
                            Err(e) => {
                                message.try_set(Some(format!("Could not remove {alias}: {e}")));
                            }
                        }
                    });
                }
            };
            view! {
                <span class="af-alias-item">
                    <AliasPill alias=alias.clone() />
                    <Show when=move || owner.get() && removable>
                        <button
                            class="btn small"
                            title="Remove this alias"
                            data-testid="alias-remove"
                            data-alias=alias.clone()
                            on:click=remove.clone()
                        >
                            "×"
                        </button>
                    </Show>
                </span>
            }
        })
        .collect_view();
    view! {
        <span data-testid="version-aliases">{pills}</span>
        {move || message.get().map(|m| view! { <p class="error">{m}</p> })}
    }
}

/// What a delete attempt came to.
fn delete_message(e: &ApiError) -> (String, bool) {
    if e.code.as_deref() == Some("artifact_in_use") {
        (format!("{} Delete it with its aliases?", e.message), true)
    } else {
        (format!("Could not delete the version: {e}"), false)
    }
}

/// Add-an-alias and delete-version controls, for the owner only.
#[component]
pub fn OwnerActions(
    project: String,
    info: ArtifactVersionInfo,
    on_change: Callback<()>,
    on_deleted: Callback<()>,
) -> impl IntoView {
    let owner = use_owner();
    let version = info.version;
    let target = StoredValue::new((project, info.name.clone()));
    let alias = RwSignal::new(String::new());
    let alias_error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let asking = RwSignal::new(false);
    let force = RwSignal::new(false);
    let message = RwSignal::new(None::<String>);

    let add = move || {
        let text = alias.get_untracked().trim().to_string();
        if let Err(e) = check_alias(&text) {
            alias_error.set(Some(e.to_string()));
            return;
        }
        alias_error.set(None);
        busy.set(true);
        let (project, name) = target.get_value();
        spawn_local(async move {
            let res = put_alias(&project, &name, &text, version).await;
            busy.try_set(false);
            match res {
                Ok(()) => {
                    alias.try_set(String::new());
                    on_change.run(());
                }
                Err(e) => {
                    alias_error.try_set(Some(format!("Not added: {e}")));
                }
            }
        });
    };
    let confirm = move |()| {
        busy.set(true);
        message.set(None);
        let (project, name) = target.get_value();
        let forced = force.get_untracked();
        spawn_local(async move {
            match delete_version(&project, &name, version, forced).await {
                Ok(()) => on_deleted.run(()),
                Err(e) => {
                    let (text, in_use) = delete_message(&e);
                    message.try_set(Some(text));
                    force.try_set(in_use);
                    asking.try_set(in_use);
                    busy.try_set(false);
                }
            }
        });
    };
    view! {
        <Show when=move || owner.get()>
            <div class="af-actions" data-testid="owner-actions">
                <input
                    type="text"
                    placeholder="new alias"
                    data-testid="alias-input"
                    prop:value=move || alias.get()
                    on:input=move |ev| alias.set(event_target_value(&ev))
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                        if ev.key() == "Enter" {
                            add();
                        }
                    }
                />
                <button
                    class="btn small"
                    data-testid="alias-add"
                    disabled=move || busy.get()
                    on:click=move |_| add()
                >
                    "Add alias"
                </button>
                <span class="spacer"></span>
                <ConfirmButton
                    testid="version-delete"
                    label="Delete version"
                    question=Signal::derive(move || {
                        if force.get() {
                            "Delete it and the aliases naming it?".to_string()
                        } else {
                            "Really delete this version?".to_string()
                        }
                    })
                    asking=asking
                    busy=busy
                    on_yes=Callback::new(confirm)
                    on_no=Callback::new(move |()| force.set(false))
                />
            </div>
            {move || alias_error.get().map(|m| view! { <p class="error" data-testid="alias-error">{m}</p> })}
            {move || message.get().map(|m| view! { <p class="error" data-testid="version-delete-message">{m}</p> })}
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alias_in_use_offers_a_forced_delete() {
        let e = ApiError::from_response(
            409,
            r#"{"error":{"code":"artifact_in_use","message":"alias prod names v2."}}"#,
        );
        let (text, force) = delete_message(&e);
        assert!(force);
        assert!(text.starts_with("alias prod names v2."));
        let e = ApiError::from_response(500, "boom");
        assert!(!delete_message(&e).1);
    }
}
