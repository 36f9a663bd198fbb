//! An owner deletes a run from the run page: a "Delete run" button (hidden while the run runs)
//! asks "Really delete?" inline; Yes moves the run to the daemon's trash and goes to the project
//! page. Anyone else sees nothing (the daemon refuses them too).

use leptos::prelude::*;
use leptos::task::spawn_local;
use trackline_shared::api::{RunInfo, RunState};

use crate::annotations::use_annotations;
use crate::components::ConfirmButton;
use crate::{api, browser, util};

#[component]
pub fn RunDeleteButton(
    project: String,
    run: String,
    info: RwSignal<Option<RunInfo>>,
) -> impl IntoView {
    let Some(a) = use_annotations() else {
        return ().into_any();
    };
    let target = StoredValue::new((project, run));
    let asking = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let message = RwSignal::new(None::<String>);
    let deletable = move || {
        a.owner.get() && info.with(|i| i.as_ref().is_some_and(|i| i.state != RunState::Running))
    };
    let confirm = move |()| {
        busy.set(true);
        message.set(None);
        let (project, run) = target.get_value();
        spawn_local(async move {
            match api::delete_run(&project, &run).await {
                Ok(()) => {
                    let page = browser::href(&util::project_path(&project));
                    if let Some(window) = web_sys::window() {
                        let _ = window.location().set_href(&page);
                    }
                }
                Err(e) => {
                    message.try_set(Some(format!("Could not delete the run: {e}")));
                    busy.try_set(false);
                    asking.try_set(false);
                }
            }
        });
    };

    view! {
        <Show when=deletable>
            <div class="run-delete">
                <ConfirmButton
                    testid="run-delete"
                    label="Delete run"
                    question="Really delete? It moves to the trash folder of the daemon."
                    asking=asking
                    busy=busy
                    on_yes=Callback::new(confirm)
                />
            </div>
        </Show>
        {move || message.get().map(|m| view! { <p class="run-label-conflict" data-testid="run-delete-message">{m}</p> })}
    }
    .into_any()
}
