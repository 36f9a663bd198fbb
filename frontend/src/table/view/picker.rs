//! The column picker: every column with show/hide, pin and move controls.

use leptos::prelude::*;
use std::collections::BTreeSet;
use std::sync::Arc;

use super::Edit;
use crate::table::columns::Field;
use crate::table::settings::TableSettings;

/// Lists every column with show/hide, pin and move controls.
#[component]
pub(super) fn ColumnPicker(
    shown: Memo<Vec<(Field, bool)>>,
    available: Memo<Vec<Field>>,
    settings: RwSignal<TableSettings>,
    on_edit: Callback<Edit>,
    on_close: Callback<()>,
) -> impl IntoView {
    let search = RwSignal::new(String::new());
    let fields = move || -> Vec<Field> { shown.get_untracked().into_iter().map(|c| c.0).collect() };
    let edit = move |f: Edit| on_edit.run(f);
    let item = move |f: Field, is_shown: bool, pinned: bool| {
        let id = f.id();
        let kind = match f {
            Field::Config(_) => "config",
            Field::Summary(_) => "summary",
            _ => "run",
        };
        let (a, b, c, d) = (id.clone(), id.clone(), id.clone(), id.clone());
        view! {
            <div class="rt-pick" data-testid="picker-item" data-col=id.clone()>
                <label>
                    <input
                        type="checkbox"
                        data-testid="picker-toggle"
                        prop:checked=is_shown
                        on:change=move |_| {
                            let (shown, id) = (fields(), a.clone());
                            edit(Arc::new(move |s| s.toggle(&shown, &id)));
                        }
                    />
                    <span class=format!("rt-kind {kind}")>{kind}</span>
                    <span class="rt-pick-name" title=id.clone()>
                        {f.label()}
                    </span>
                </label>
                {is_shown
                    .then(|| {
                        view! {
                            <button
                                class="btn small"
                                class:active=pinned
                                data-testid="picker-pin"
                                title="Pinned columns stay at the left"
                                on:click=move |_| {
                                    let (shown, id) = (fields(), b.clone());
                                    edit(Arc::new(move |s| s.toggle_pin(&shown, &id)));
                                }
                            >
                                {if pinned { "Unpin" } else { "Pin" }}
                            </button>
                            <button
                                class="btn small"
                                data-testid="picker-left"
                                title="Move left"
                                on:click=move |_| {
                                    let (shown, id) = (fields(), c.clone());
                                    edit(Arc::new(move |s| s.shift(&shown, &id, -1)));
                                }
                            >
                                "◀"
                            </button>
                            <button
                                class="btn small"
                                data-testid="picker-right"
                                title="Move right"
                                on:click=move |_| {
                                    let (shown, id) = (fields(), d.clone());
                                    edit(Arc::new(move |s| s.shift(&shown, &id, 1)));
                                }
                            >
                                "▶"
                            </button>
                        }
                    })}
            </div>
        }
    };
    let list = move || {
        let q = search.get().to_lowercase();
        let hit = |f: &Field| q.is_empty() || f.id().to_lowercase().contains(&q);
        let cols = shown.get();
        let on: BTreeSet<String> = cols.iter().map(|c| c.0.id()).collect();
        let mut out = Vec::new();
        for (f, p) in cols.into_iter().filter(|c| hit(&c.0)) {
            out.push(item(f, true, p));
        }
        let rest: Vec<Field> = available.with(|a| {
            a.iter()
                .filter(|f| !on.contains(&f.id()) && hit(f))
                .take(400)
                .cloned()
                .collect()
        });
        for f in rest {
            out.push(item(f, false, false));
        }
        out.collect_view()
    };
    view! {
        <div class="rt-picker" data-testid="column-picker">
            <div class="rt-picker-head">
                <input
                    type="text"
                    placeholder="Search columns"
                    data-testid="picker-search"
                    prop:value=move || search.get()
                    on:input=move |e| search.set(event_target_value(&e))
                />
                <button
                    class="btn small"
                    title="Default columns, no pins but Name, default widths"
                    on:click=move |_| {
                        edit(
                            Arc::new(|s| {
                                s.columns = None;
                                s.pinned = vec!["name".into()];
                                s.widths.clear();
                            }),
                        )
                    }
                >
                    "Reset"
                </button>
                <button class="btn small" on:click=move |_| on_close.run(())>
                    "Done"
                </button>
            </div>
            <div class="rt-picker-list">{list}</div>
            <div class="faint rt-picker-foot">
                {move || settings.with(|s| s.pinned.len())}
                " pinned · drag a header to move it, its right edge to resize"
            </div>
        </div>
    }
}
