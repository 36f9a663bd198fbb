//! "Add to report" on the runs page: on every workspace panel ([`AddToReport`]: a grid with that
//! chart, key and settings, over the runs table's current filter) and in the table's toolbar
//! ([`AddRunsToReport`]: a grid with a runs table of the table's columns over its filter and,
//! unless unticked, only the selected runs). A small menu picks an existing report (the block
//! goes last) or "New report", then links to it. Owners only.
//!
//! The table's settings reach the workspace panels through [`CurrentTable`], which the runs page
//! provides and the toolbar's button keeps current.
//!
//! Test ids: `add-to-report` (the button; with `data-key` on a panel), `add-to-report-menu`,
//! `add-to-report-choice` (with `data-report`), `add-to-report-new`, `add-only-selected`,
//! `add-to-report-link`, `add-to-report-error`.

use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::BTreeSet;
use trackline_shared::annotations::{Op, OpOutcome};
use trackline_shared::chart::ChartSettings;
use trackline_shared::reports::{BlockContent, MAX_RUNSET_RUNS, NewBlock, Panel, PanelGrid};

use super::list::{by_recent, new_report_op};
use super::{report_path, runset};
use crate::annotations::store::new_id;
use crate::annotations::use_annotations;
use crate::browser::href;
use crate::selection::Selection;
use crate::table::settings::TableSettings;

/// The runs table's settings as they are now, for the workspace panels' "Add to report".
#[derive(Clone, Copy)]
pub struct CurrentTable(pub RwSignal<Option<TableSettings>>);

impl CurrentTable {
    /// Provides it to the views below (the runs page calls this).
    pub fn provide() -> CurrentTable {
        let t = CurrentTable(RwSignal::new(None));
        provide_context(t);
        t
    }
}

/// The toolbar's button: the table's runs (its filter, sort and group-by; the selected runs
/// unless unticked) as a runs-table panel.
#[component]
pub fn AddRunsToReport(settings: RwSignal<TableSettings>, selection: Selection) -> impl IntoView {
    if let Some(t) = use_context::<CurrentTable>() {
        Effect::new(move |_| t.0.set(Some(settings.get())));
    }
    let only_selected = RwSignal::new(true);
    let make = Callback::new(move |_: ()| {
        let s = settings.get_untracked();
        let runs: Vec<String> = if only_selected.get_untracked() {
            selection.selected.with_untracked(|sel: &BTreeSet<String>| {
                sel.iter().take(MAX_RUNSET_RUNS).cloned().collect()
            })
        } else {
            Vec::new()
        };
        PanelGrid {
            runset: runset::from_table(&s, runs),
            panels: vec![Panel::RunsTable {
                columns: s.columns.clone().unwrap_or_default(),
            }],
        }
    });
    let extra: ChildrenFn = std::sync::Arc::new(move || {
        view! {
            <label class="rp-add-opt">
                <input
                    type="checkbox"
                    data-testid="add-only-selected"
                    prop:checked=move || only_selected.get()
                    on:change=move |ev| only_selected.set(event_target_checked(&ev))
                />
                {move || format!(" only the {} selected runs", selection.selected.with(BTreeSet::len))}
            </label>
        }
        .into_any()
    });
    view! { <AddMenu make=make title="Report" key=String::new() extra=extra /> }
}

/// A workspace panel's button: that chart (key and settings) over the table's current filter.
#[component]
pub fn AddToReport(
    #[prop(into)] key: String,
    #[prop(into)] settings: Signal<ChartSettings>,
) -> impl IntoView {
    let table = use_context::<CurrentTable>();
    let k = StoredValue::new(key.clone());
    let make = Callback::new(move |_: ()| {
        let runset = table
            .and_then(|t| t.0.get_untracked())
            .map(|s| runset::from_table(&s, Vec::new()))
            .unwrap_or_default();
        PanelGrid {
            runset,
            panels: vec![Panel::Line {
                key: k.get_value(),
                settings: settings.get_untracked(),
                wide: false,
            }],
        }
    });
    view! { <AddMenu make=make title=format!("Report: {key}") key=key /> }
}

/// Where the menu opens: fixed under the button, right-aligned with it, so a panel that clips its
/// content (the runs table's, a chart card) cannot hide it.
fn menu_position(ev: &web_sys::MouseEvent) -> String {
    use wasm_bindgen::JsCast;
    let Some(el) = ev
        .current_target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
    else {
        return String::new();
    };
    let r = el.get_bounding_client_rect();
    let width = window()
        .inner_width()
        .ok()
        .and_then(|w| w.as_f64())
        .unwrap_or(r.right());
    format!(
        "position:fixed;top:{:.0}px;right:{:.0}px",
        r.bottom() + 4.0,
        (width - r.right()).max(0.0)
    )
}

#[component]
fn AddMenu(
    make: Callback<(), PanelGrid>,
    #[prop(into)] title: String,
    key: String,
    #[prop(optional)] extra: Option<ChildrenFn>,
) -> impl IntoView {
    let Some(a) = use_annotations() else {
        return ().into_any();
    };
    let open = RwSignal::new(false);
    let at = RwSignal::new(String::new());
    let done = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let title = StoredValue::new(title);
    let reports = Memo::new(move |_| {
        a.model.with(|m| {
            by_recent(m.reports.values().cloned())
                .into_iter()
                .map(|r| {
                    (
                        r.id.clone(),
                        r.title.clone(),
                        r.blocks.last().map(|b| b.id.clone()),
                    )
                })
                .collect::<Vec<_>>()
        })
    });
    // `None`: a new report; else the report and its last block.
    let add = move |to: Option<(String, Option<String>)>| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let content = BlockContent::PanelGrid(make.run(()));
        let (report, op) = match to {
            Some((report, after)) => (
                report.clone(),
                Op::BlockAdd {
                    report,
                    after,
                    block: NewBlock {
                        id: new_id('b'),
                        content,
                    },
                },
            ),
            None => {
                let id = new_id('r');
                let op = new_report_op(id.clone(), new_id('b'), &title.get_value(), Some(content));
                (id, op)
            }
        };
        spawn_local(async move {
            let res = a.send(op).await;
            busy.try_set(false);
            match res {
                Ok(OpOutcome::Committed { .. }) => {
                    done.try_set(Some(report));
                }
                Ok(OpOutcome::Conflict { .. }) => {
                    error.try_set(Some("The report changed meanwhile; try again.".into()));
                }
                Err(e) => {
                    error.try_set(Some(format!("Not added: {e}")));
                }
            }
        });
    };
    let project = a.project;
    let extra = StoredValue::new(extra);
    let key = StoredValue::new(key);
    view! {
        <Show when=move || a.owner.get()>
            <span class="rp-add-wrap">
                <button
                    class="lc-btn"
                    class:on=move || open.get()
                    data-testid="add-to-report"
                    data-key=key.get_value()
                    title="Add this to a report"
                    on:click=move |ev| {
                        done.set(None);
                        error.set(None);
                        at.set(menu_position(&ev));
                        open.update(|o| *o = !*o);
                    }
                >
                    "+ Report"
                </button>
                <Show when=move || open.get()>
                    <div class="rp-add-menu" data-testid="add-to-report-menu" style=move || at.get()>
                        {extra.with_value(|e| e.as_ref().map(|e| e()))}
                        {move || reports.get().into_iter().map(|(id, t, last)| {
                            let label = if t.trim().is_empty() { "(untitled)".to_string() } else { t };
                            let to = (id.clone(), last);
                            view! {
                                <button
                                    class="rp-add-choice"
                                    data-testid="add-to-report-choice"
                                    data-report=id
                                    disabled=move || busy.get()
                                    on:click=move |_| add(Some(to.clone()))
                                >
                                    {label}
                                </button>
                            }
                        }).collect_view()}
                        <button
                            class="rp-add-choice new"
                            data-testid="add-to-report-new"
                            disabled=move || busy.get()
                            on:click=move |_| add(None)
                        >
                            "New report"
                        </button>
                        {move || done.get().map(|r| view! {
                            <a
                                class="rp-add-link"
                                data-testid="add-to-report-link"
                                href=href(&report_path(&project.get_value(), &r))
                            >
                                "Added: open the report →"
                            </a>
                        })}
                        {move || error.get().map(|e| view! {
                            <div class="note-error" data-testid="add-to-report-error">{e}</div>
                        })}
                    </div>
                </Show>
            </span>
        </Show>
    }
    .into_any()
}
