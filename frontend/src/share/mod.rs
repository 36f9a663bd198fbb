//! Sharing in the web app: who this page is (`GET api/me`), the owner's "Share" button and dialog
//! ([`dialog`]: make a link, copy it, list and revoke links), and the page a person sees when the
//! daemon refuses their link ([`unauthorized`]: any `401` answer, or the WebSocket closed with
//! [`WS_CLOSE_REVOKED`]), instead of a broken app.
//!
//! [`start`] (once, from the app) makes the page-wide state; [`refused`] is what `api.rs` and
//! `ws.rs` call when the daemon turns the page away.

pub mod dialog;
mod rest;
pub mod unauthorized;

use leptos::prelude::*;
use std::cell::Cell;
use trackline_shared::share::Identity;

pub use dialog::ShareButton;
pub use unauthorized::UnauthorizedPage;

/// The WebSocket close code of a revoked or expired link (`auth_revoked`).
pub const WS_CLOSE_REVOKED: u16 = 4401;

/// Why the daemon turned the page away, for the words of the 401 page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The page worked with this link and then lost it, or the daemon says it was revoked or
    /// has expired.
    Revoked,
    /// The daemon does not know the link (a mistyped or cut link).
    Unknown,
    /// No link at all (opened without the `#t=…` part).
    NoLink,
}

impl Refusal {
    /// The refusal a `401` answer's message describes, knowing whether this page had a working
    /// link before (then losing it means it was revoked or expired).
    pub fn of(message: &str, had_access: bool) -> Refusal {
        let message = message.to_ascii_lowercase();
        if had_access || message.contains("revoked") || message.contains("expired") {
            Refusal::Revoked
        } else if message.contains("not known") {
            Refusal::Unknown
        } else {
            Refusal::NoLink
        }
    }
}

/// The page-wide sharing state.
#[derive(Clone, Copy, Debug)]
pub struct Sharing {
    /// Who this page is, once `api/me` answered.
    pub me: RwSignal<Option<Identity>>,
    /// Set when the daemon refused this page: the 401 page shows, with the daemon's message.
    pub refused: RwSignal<Option<(Refusal, String)>>,
}

thread_local! {
    static STATE: Cell<Option<Sharing>> = const { Cell::new(None) };
}

/// Makes the state (once per page), asks who this page is, and provides the state as context.
pub fn start() -> Sharing {
    let state = match STATE.get() {
        Some(state) => state,
        None => {
            let state = Sharing {
                me: RwSignal::new(None),
                refused: RwSignal::new(None),
            };
            STATE.set(Some(state));
            leptos::task::spawn_local(async move {
                if let Ok(me) = rest::me().await {
                    state.me.set(Some(me));
                }
            });
            state
        }
    };
    provide_context(state);
    state
}

/// The daemon refused this page (`401`, or the WebSocket closed with [`WS_CLOSE_REVOKED`]):
/// the app gives way to the 401 page. The first refusal's words stay.
pub fn refused(message: &str) {
    let Some(state) = STATE.get() else { return };
    if state.refused.with_untracked(Option::is_some) {
        return;
    }
    let had_access = state.me.with_untracked(Option::is_some);
    state
        .refused
        .set(Some((Refusal::of(message, had_access), message.to_owned())));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_told_apart_by_what_the_daemon_says_and_what_the_page_had() {
        // The daemon's three 401 messages (api/session.rs).
        let missing = "this Trackline is shared and needs a link: open the link you were given \
                       (it ends in #t=…) in this browser, or ask the owner for one";
        let unknown = "this link is not known to this Trackline: check that the whole link was \
                       copied, or ask the owner for a new one (trackline share)";
        let dead = "this link was revoked or has expired: ask the owner for a new one";
        assert_eq!(Refusal::of(missing, false), Refusal::NoLink);
        assert_eq!(Refusal::of(unknown, false), Refusal::Unknown);
        assert_eq!(Refusal::of(dead, false), Refusal::Revoked);
        // A page that had a link and now has none lost it: revoked or expired.
        assert_eq!(Refusal::of(missing, true), Refusal::Revoked);
        assert_eq!(Refusal::of("", true), Refusal::Revoked);
    }
}
