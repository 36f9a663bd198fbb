//! A button that asks before it acts (deleting a run, a version): the button, then in its place
//! the question with Yes and No.

use leptos::prelude::*;

/// Shows `label` as a button; clicked, it shows `question` with Yes (runs `on_yes`; disabled while
/// `busy`) and No (runs `on_no` and shows the button again). `asking` says which shows, so the
/// caller can close it (after a failure) or open it again (to ask a second question). Test ids:
/// `{testid}`, `{testid}-confirm`, `{testid}-yes`, `{testid}-no`.
#[component]
pub fn ConfirmButton(
    testid: &'static str,
    label: &'static str,
    #[prop(into)] question: Signal<String>,
    asking: RwSignal<bool>,
    #[prop(into)] busy: Signal<bool>,
    on_yes: Callback<()>,
    #[prop(optional)] on_no: Option<Callback<()>>,
) -> impl IntoView {
    view! {
        <Show
            when=move || asking.get()
            fallback=move || {
                view! {
                    <button class="btn small" data-testid=testid on:click=move |_| asking.set(true)>
                        {label}
                    </button>
                }
            }
        >
            <span data-testid=format!("{testid}-confirm")>
                {move || question.get()}
                " "
                <button
                    class="btn small primary"
                    data-testid=format!("{testid}-yes")
                    disabled=move || busy.get()
                    on:click=move |_| on_yes.run(())
                >
                    "Yes"
                </button>
                <button
                    class="btn small"
                    data-testid=format!("{testid}-no")
                    on:click=move |_| {
                        asking.set(false);
                        if let Some(on_no) = on_no {
                            on_no.run(());
                        }
                    }
                >
                    "No"
                </button>
            </span>
        </Show>
    }
}
