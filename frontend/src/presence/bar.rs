//! The presence bar in the header: one avatar per other person of this project (initials in their
//! colour; their label and what they view on hover). It also follows the route and tells the
//! daemon this page's view.
//!
//! Test ids: `presence-bar` (with `data-count`), `presence-avatar` (with `data-conn`,
//! `data-label`, `data-color`, `data-runs`: the runs they view, comma-separated), `presence-me`.

use super::view::{describe, view_of};
use leptos::prelude::*;
use leptos_router::hooks::use_location;
use trackline_shared::presence::{ConnId, initials};

/// Must sit inside the app's `Router`.
#[component]
pub fn PresenceBar() -> impl IntoView {
    let p = super::start();
    let location = use_location();
    Effect::new(move |_| {
        let path = location.pathname.get();
        let query = location.search.get();
        let base = crate::browser::base_path();
        let path = match path.strip_prefix(base) {
            Some(rest) if !base.is_empty() && (rest.is_empty() || rest.starts_with('/')) => {
                rest.to_owned()
            }
            _ => path,
        };
        let path = if path.is_empty() {
            "/".to_owned()
        } else {
            path
        };
        super::set_view(view_of(&path, &query));
    });
    // Only who is here and what they view: cursor moves do not redraw the bar.
    let shown = Memo::new(move |_| {
        p.peers.with(|peers| {
            peers
                .values()
                .map(|peer| {
                    (
                        peer.conn,
                        peer.label.clone(),
                        peer.color.clone(),
                        peer.state.view.runs.join(","),
                        describe(peer),
                    )
                })
                .collect::<Vec<(ConnId, String, String, String, String)>>()
        })
    });
    let me = move || {
        p.me.get().map(|me| {
            let title = match &me.scope {
                Some(scope) => format!("you: {} ({scope})", me.label),
                None => format!("you: {}", me.label),
            };
            view! {
                <span
                    data-testid="presence-me"
                    title=title
                    style=format!(
                        "display:inline-block;width:10px;height:10px;border-radius:50%;margin-left:6px;background:{}",
                        me.color,
                    )
                ></span>
            }
        })
    };
    view! {
        <span
            class="presence-bar"
            data-testid="presence-bar"
            data-count=move || shown.with(Vec::len).to_string()
            style="display:inline-flex;align-items:center;gap:4px;margin-right:10px"
        >
            <For
                each=move || shown.get()
                key=|row| row.clone()
                children=move |(conn, label, color, runs, title)| {
                    view! {
                        <span
                            class="presence-avatar"
                            data-testid="presence-avatar"
                            data-conn=conn.to_string()
                            data-label=label.clone()
                            data-color=color.clone()
                            data-runs=runs
                            title=title
                            style=format!(
                                "display:inline-flex;align-items:center;justify-content:center;width:24px;height:24px;border-radius:50%;color:#fff;font-size:11px;font-weight:600;cursor:default;background:{color}",
                            )
                        >
                            {initials(&label)}
                        </span>
                    }
                }
            />
            {me}
        </span>
    }
}
