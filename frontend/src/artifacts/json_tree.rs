//! A JSON value as a foldable tree (objects and arrays as `<details>`, open to a depth), every
//! key and value a text node.

use leptos::prelude::*;
use serde_json::Value;

use super::tree::plural;

/// Levels shown open at first.
const OPEN_DEPTH: usize = 2;
/// Children shown per object or array; the rest are counted.
const MAX_CHILDREN: usize = 500;

/// `value` as a tree; `testid` marks the root.
#[component]
pub fn JsonTree(value: Value, #[prop(into)] testid: String) -> impl IntoView {
    view! { <div class="af-json-tree" data-testid=testid>{node(None, &value, 0)}</div> }
}

/// One line: a leaf (`key: value`) or a folder of children.
fn node(key: Option<String>, value: &Value, depth: usize) -> AnyView {
    let label = key.map(|k| view! { <span class="af-json-key">{k}": "</span> });
    let children: Vec<(String, &Value)> = match value {
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        leaf => {
            let text = leaf.to_string();
            return view! { <div class="af-json-leaf" data-testid="json-leaf">{label}<span>{text}</span></div> }
                .into_any();
        }
    };
    let summary = match value {
        Value::Object(m) => format!("{{…}} {}", plural(m.len() as u64, "key")),
        _ => format!("[…] {}", plural(children.len() as u64, "item")),
    };
    let more = children.len().saturating_sub(MAX_CHILDREN);
    let rows = children
        .into_iter()
        .take(MAX_CHILDREN)
        .map(|(k, v)| node(Some(k), v, depth + 1))
        .collect_view();
    view! {
        <details open=depth < OPEN_DEPTH>
            <summary>{label}<span class="faint">{summary}</span></summary>
            {rows}
            {(more > 0).then(|| view! { <div class="faint af-json-leaf">{format!("… {more} more")}</div> })}
        </details>
    }
    .into_any()
}
