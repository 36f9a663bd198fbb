//! Markdown shown on the page: [`super::markdown::render`]'s escaped HTML set as the element's
//! content (the renderer escapes every character of the text, so no user HTML is ever parsed).

use leptos::prelude::*;

use super::markdown;

/// `text` rendered as markdown in a `div.md`; `empty` shown (as text) when there is none.
#[component]
pub fn Markdown(
    #[prop(into)] text: Signal<String>,
    #[prop(optional)] empty: &'static str,
    #[prop(optional, into)] testid: String,
) -> impl IntoView {
    let html = Memo::new(move |_| text.with(|t| markdown::render(t)));
    view! {
        <div class="md" data-testid=testid inner_html=move || html.get()></div>
        <Show when=move || text.with(|t| t.trim().is_empty()) && !empty.is_empty()>
            <div class="md-empty faint">{empty}</div>
        </Show>
    }
}
