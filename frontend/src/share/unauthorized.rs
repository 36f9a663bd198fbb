//! The page a person sees when the daemon turns their link away (`401`, or the WebSocket closed as
//! revoked): what happened and what to do, over the whole app, instead of a broken one.

use super::{Refusal, Sharing};
use leptos::prelude::*;

/// Covers the app once the daemon refused this page; nothing otherwise.
#[component]
pub fn UnauthorizedPage() -> impl IntoView {
    let state = expect_context::<Sharing>();
    move || {
        state.refused.get().map(|(refusal, message)| {
            let (title, what_to_do) = words(&refusal);
            view! {
                <div
                    class="unauthorized"
                    data-testid="unauthorized-page"
                    data-refusal=format!("{refusal:?}").to_lowercase()
                    style="position: fixed; inset: 0; z-index: 100; background: var(--bg); \
                           display: flex; align-items: flex-start; justify-content: center; \
                           padding-top: 12vh;"
                >
                    <div class="panel" style="max-width: 560px; padding: 20px 24px;">
                        <h1 data-testid="unauthorized-title">{title}</h1>
                        <p>{what_to_do}</p>
                        <p class="muted">"Trackline said: " {message}</p>
                    </div>
                </div>
            }
        })
    }
}

/// The page's title and its advice for `refusal`.
pub fn words(refusal: &Refusal) -> (&'static str, &'static str) {
    match refusal {
        Refusal::Revoked => (
            "This share link was revoked or has expired",
            "Ask the person who shared it for a new link, then open that link here.",
        ),
        Refusal::Unknown => (
            "This share link is not known here",
            "Check that the whole link was copied, including the part after #, or ask the \
             person who shared it for a new one.",
        ),
        Refusal::NoLink => (
            "This Trackline needs a share link",
            "Open the link you were given, including the part after # (it ends in #t=…). If \
             you have none, ask the person who shared this Trackline for one.",
        ),
    }
}
