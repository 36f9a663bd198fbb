//! The table's toolbar: filter, group-by, column picker, counts, selection buttons and
//! Compare, with the filter's and the settings' error lines under it.

use leptos::prelude::*;
use std::collections::BTreeSet;

use super::editor::SettingsEditor;
use super::picker::ColumnPicker;
use super::picks::RunPicks;
use super::rows::TableRows;
use super::{Edit, MAX_COMPARE};
use crate::browser::{href, perf_now};
use crate::table::columns::Field;
use crate::util;

pub(super) fn toolbar(
    project: StoredValue<String>,
    table: TableRows,
    picks: RunPicks,
    editor: SettingsEditor,
) -> impl IntoView {
    let selection = picks.selection;
    let runs = picks.runs;
    let picker_open = RwSignal::new(false);
    let group_options = move || {
        table.available.with(|a| {
            let mut v: Vec<(String, String)> = vec![(String::new(), "No grouping".into())];
            for f in [Field::Group, Field::State, Field::Host, Field::JobType] {
                v.push((f.id(), f.label()));
            }
            v.extend(
                a.iter()
                    .filter(|f| matches!(f, Field::Config(_)))
                    .map(|f| (f.id(), f.id())),
            );
            v
        })
    };
    let compare_href = move || {
        let ids: Vec<String> = selection.selected.with(|sel| {
            runs.with(|l| {
                let mut rank: Vec<(usize, String)> = Vec::new();
                let pos: std::collections::HashMap<&str, usize> = table.ordered.with(|o| {
                    o.iter()
                        .enumerate()
                        .map(|(p, &i)| (l[i as usize].id.as_str(), p))
                        .collect()
                });
                for id in sel {
                    rank.push((
                        pos.get(id.as_str()).copied().unwrap_or(usize::MAX),
                        id.clone(),
                    ));
                }
                rank.sort();
                rank.into_iter()
                    .take(MAX_COMPARE)
                    .map(|(_, id)| util::encode(&id))
                    .collect()
            })
        });
        format!(
            "{}/compare?runs={}",
            href(&util::project_path(&project.get_value())),
            ids.join(",")
        )
    };
    let n_selected = move || selection.selected.with(BTreeSet::len);
    let count_text = move || {
        let total = table.run_count.get();
        let shown_n = table.filtered.with(Vec::len);
        if shown_n == total {
            format!("{total} runs")
        } else {
            format!("{shown_n} of {total} runs")
        }
    };

    let picker = move || {
        picker_open.get().then(|| {
            view! {
                <ColumnPicker
                    shown=table.shown
                    available=table.available
                    settings=editor.settings
                    on_edit=Callback::new(move |f: Edit| {
                        editor.edit(&*f)
                    })
                    on_close=Callback::new(move |()| picker_open.set(false))
                />
            }
        })
    };

    view! {
    <div class="rt-toolbar">
        <div class="rt-filter-box">
            <input
                class="rt-filter"
                class:invalid=move || table.parsed.with(Result::is_err)
                data-testid="filter-input"
                type="text"
                spellcheck="false"
                autocomplete="off"
                placeholder="Filter: config.lr < 0.01 and state == \"finished\""
                title="Filter runs. Fields: name, state, created, runtime, tags, group, notes, id, host, job_type, config.<key>, summary.<key>. Operators: == != < <= > >= =~ (regex) !~ in, not in; and, or, not, ( ). Text in quotes."
                prop:value=move || editor.settings.with(|s| s.filter.clone())
                on:input=move |e| {
                    let start = perf_now();
                    let v = event_target_value(&e);
                    editor.edit(&|s| s.filter = v.clone());
                    table.measure_change("tl:table:filter", start);
                }
            />
        </div>
        <label class="rt-group-by">
            "Group "
            <select
                data-testid="table-group-by"
                prop:value=move || editor.settings.with(|s| s.group_by.clone().unwrap_or_default())
                on:change=move |e| {
                    let v = event_target_value(&e);
                    editor.edit(&|s| s.group_by = (!v.is_empty()).then(|| v.clone()));
                }
            >
                {move || {
                    let current = editor.settings.with(|s| s.group_by.clone().unwrap_or_default());
                    group_options()
                        .into_iter()
                        .map(|(id, label)| {
                            let sel = id == current;
                            view! {
                                <option value=id selected=sel>
                                    {label}
                                </option>
                            }
                        })
                        .collect_view()
                }}
            </select>
        </label>
        <button
            class="btn"
            class:active=move || picker_open.get()
            data-testid="columns-button"
            on:click=move |_| picker_open.update(|o| *o = !*o)
        >
            "Columns"
        </button>
        <span class="muted" data-testid="runs-count">{count_text}</span>
        <crate::reports::AddRunsToReport settings=editor.settings selection=selection />
        <span class="spacer"></span>
        <span class="muted" data-testid="selected-count">
            {move || format!("{} in charts", n_selected())}
        </span>
        <button
            class="btn"
            data-testid="select-none"
            title="Show no runs in charts"
            on:click=move |_| picks.clear()
        >
            "Clear"
        </button>
        {move || {
            (!picks.auto.get())
                .then(|| {
                    view! {
                        <button
                            class="btn"
                            data-testid="select-newest"
                            title="Back to the default: the newest runs, and new runs as they start"
                            on:click=move |_| picks.newest()
                        >
                            "Newest"
                        </button>
                    }
                })
        }}
        {move || {
            (n_selected() >= 1)
                .then(|| {
                    let ids: Vec<String> = selection
                        .selected
                        .with(|s| s.iter().map(|id| util::encode(id)).collect());
                    let link = href(&format!(
                        "/projects/{}/new-sweep?runs={}",
                        util::encode(&project.get_value()),
                        ids.join(",")
                    ));
                    view! {
                        <a class="btn" data-testid="new-sweep-button" href=link
                            title="A sweep whose config starts from the selected runs' configs">
                            "New sweep"
                        </a>
                    }
                })
        }}
        {move || {
            if n_selected() >= 2 {
                view! {
                    <a class="btn primary" data-testid="compare-button" href=compare_href>
                        "Compare"
                    </a>
                }
                .into_any()
            } else {
                view! {
                    <button
                        class="btn"
                        data-testid="compare-button"
                        disabled=true
                        title="Select two or more runs to compare"
                    >
                        "Compare"
                    </button>
                }
                .into_any()
            }
        }}
    </div>
    {move || {
        table.filter_error()
            .map(|e| {
                view! {
                    <div class="rt-filter-error" data-testid="filter-error" role="alert">
                        {e}
                    </div>
                }
            })
    }}
    {move || editor.save_error.get().map(|e| view! { <div class="rt-filter-error">{e}</div> })}
        {picker}
    }
}
