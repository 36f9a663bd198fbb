//! Editing a grid's run set: the runs table's filter language (its parse error shown as typed),
//! the sort column and direction, a limit, the group-by, and dropping the explicit run ids.
//!
//! Test ids: `runset-filter`, `runset-filter-error`, `runset-sort`, `runset-desc`,
//! `runset-limit`, `runset-group-by`, `runset-clear-runs`, `runset-apply`.

use leptos::prelude::*;
use trackline_shared::reports::{MAX_RUNSET_FILTER_BYTES, RunSet, RunSort};

use super::grid::GridCtx;
use super::{runset, use_report};

/// The run set as the form holds it.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Form {
    pub filter: String,
    pub sort: String,
    pub desc: bool,
    pub limit: String,
    pub group_by: String,
    pub keep_runs: bool,
}

impl Form {
    pub fn of(set: &RunSet) -> Form {
        Form {
            filter: set.filter.clone(),
            sort: set.sort.as_ref().map(|s| s.key.clone()).unwrap_or_default(),
            desc: set.sort.as_ref().is_some_and(|s| s.desc),
            limit: set.limit.map(|l| l.to_string()).unwrap_or_default(),
            group_by: set.group_by.clone().unwrap_or_default(),
            keep_runs: true,
        }
    }

    /// The run set to save (the explicit ids kept unless dropped), or why not.
    pub fn to_set(&self, old: &RunSet) -> Result<RunSet, String> {
        if self.filter.len() > MAX_RUNSET_FILTER_BYTES {
            return Err(format!(
                "A filter is at most {MAX_RUNSET_FILTER_BYTES} bytes."
            ));
        }
        if let Some(e) = runset::filter_error(&self.filter) {
            return Err(e);
        }
        let limit =
            match self.limit.trim() {
                "" => None,
                l => Some(l.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    format!("The limit must be a whole number above 0, not {l:?}.")
                })?),
            };
        let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        Ok(RunSet {
            filter: self.filter.trim().to_string(),
            runs: if self.keep_runs {
                old.runs.clone()
            } else {
                Vec::new()
            },
            sort: text(&self.sort).map(|key| RunSort {
                key,
                desc: self.desc,
            }),
            limit,
            group_by: text(&self.group_by),
        })
    }
}

#[component]
pub fn RunSetEditor(on_done: Callback<()>) -> impl IntoView {
    let ctx = use_report();
    let g = expect_context::<GridCtx>();
    let form = RwSignal::new(Form::of(&g.grid.get_untracked().runset));
    let problem = Memo::new(move |_| {
        let old = g.grid.with(|gr| gr.runset.clone());
        form.with(|f| f.to_set(&old).err())
    });
    let filter_error = Memo::new(move |_| form.with(|f| runset::filter_error(&f.filter)));
    let chosen = move || g.grid.with(|gr| gr.runset.runs.len());
    let apply = move |_| {
        let old = g.grid.get_untracked().runset;
        let Ok(set) = form.get_untracked().to_set(&old) else {
            return;
        };
        let keep = form.with_untracked(|f| f.keep_runs);
        ctx.edit_grid(g.block.get_value(), move |gr| {
            let runs = if keep {
                gr.runset.runs.clone()
            } else {
                Vec::new()
            };
            gr.runset = RunSet {
                runs,
                ..set.clone()
            };
        });
        on_done.run(());
    };
    let field = move |testid: &'static str,
                      placeholder: &'static str,
                      get: fn(&Form) -> String,
                      set: fn(&mut Form, String)| {
        view! {
            <input
                data-testid=testid
                placeholder=placeholder
                prop:value=move || form.with(get)
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    form.update(|f| set(f, v));
                }
            />
        }
    };
    view! {
        <div class="rp-runset">
            <label class="rp-wide">
                "Filter "
                {field("runset-filter", "config.lr < 0.01 and state == \"finished\"", |f| f.filter.clone(), |f, v| f.filter = v)}
            </label>
            {move || filter_error.get().map(|e| view! {
                <div class="rt-filter-error" data-testid="runset-filter-error" role="alert">{e}</div>
            })}
            <label>"Sort by " {field("runset-sort", "summary.loss (empty: newest first)", |f| f.sort.clone(), |f, v| f.sort = v)}</label>
            <label>
                <input
                    type="checkbox"
                    data-testid="runset-desc"
                    prop:checked=move || form.with(|f| f.desc)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        form.update(|f| f.desc = on);
                    }
                />
                " descending"
            </label>
            <label>"Limit " {field("runset-limit", "all", |f| f.limit.clone(), |f, v| f.limit = v)}</label>
            <label>"Group by " {field("runset-group-by", "config.optimizer", |f| f.group_by.clone(), |f, v| f.group_by = v)}</label>
            <Show when=move || { chosen() > 0 }>
                <label>
                    <input
                        type="checkbox"
                        data-testid="runset-clear-runs"
                        prop:checked=move || !form.with(|f| f.keep_runs)
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            form.update(|f| f.keep_runs = !on);
                        }
                    />
                    {move || format!(" any run, not only the {} chosen", chosen())}
                </label>
            </Show>
            <div class="note-actions">
                <button class="btn primary small" data-testid="runset-apply" disabled=move || problem.with(Option::is_some) on:click=apply>
                    "Apply"
                </button>
                <button class="btn small" on:click=move |_| on_done.run(())>"Cancel"</button>
                {move || problem.get().filter(|_| filter_error.with(Option::is_none)).map(|p| view! { <span class="note-error">{p}</span> })}
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_round_trips_and_refuses_bad_input() {
        let set = RunSet {
            filter: "config.lr < 0.01".into(),
            runs: vec!["a".into()],
            sort: Some(RunSort {
                key: "summary.loss".into(),
                desc: true,
            }),
            limit: Some(5),
            group_by: Some("config.opt".into()),
        };
        let f = Form::of(&set);
        assert_eq!(f.to_set(&set).unwrap(), set);
        let mut g = f.clone();
        g.keep_runs = false;
        g.limit = " ".into();
        g.sort = String::new();
        let out = g.to_set(&set).unwrap();
        assert!(out.runs.is_empty() && out.limit.is_none() && out.sort.is_none());
        let mut bad = f.clone();
        bad.limit = "0".into();
        assert!(bad.to_set(&set).is_err());
        bad.limit = "3".into();
        bad.filter = "config.lr <".into();
        assert!(bad.to_set(&set).is_err());
    }
}
