//! Small shared view pieces.

mod chart;
mod chart_settings;
mod confirm;
mod console;
mod lazy;

pub use chart::{LineChart, RunRef};
pub use chart_settings::ChartSettingsBar;
pub use confirm::ConfirmButton;
pub use console::ConsoleLog;
pub use lazy::Lazy;

use leptos::prelude::*;
use serde_json::{Map, Value};
use trackline_shared::api::RunState;

use crate::util;

/// A run's state as a coloured badge; `data-testid="run-state"`, text = the state.
#[component]
pub fn StateBadge(state: RunState) -> impl IntoView {
    let s = state.as_str();
    view! {
        <span class=format!("badge {s}") data-testid="run-state">
            {s}
        </span>
    }
}

/// An error message box (text only: never HTML).
#[component]
pub fn ErrorBox(#[prop(into)] message: String) -> impl IntoView {
    view! { <div class="error" role="alert">{message}</div> }
}

/// A key/value table of a JSON object, flattened (`a.b.c`), keys beginning with `_` hidden.
#[component]
pub fn JsonTable(map: Map<String, Value>, #[prop(into)] empty: String) -> impl IntoView {
    let rows = util::flatten(&map);
    if rows.is_empty() {
        return view! { <p class="faint">{empty}</p> }.into_any();
    }
    view! {
        <table class="kv">
            <tbody>
                {rows
                    .into_iter()
                    .map(|(k, v)| {
                        let text = util::value(&v);
                        let title = text.clone();
                        view! {
                            <tr>
                                <th>{k}</th>
                                <td title=title class:bad-val=util::is_nonfinite(&v)>
                                    {text}
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
