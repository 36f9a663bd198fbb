//! What the table shows: its columns, and its rows filtered, sorted and grouped.

use leptos::prelude::*;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use trackline_shared::api::RunInfo;

use super::editor::SettingsEditor;
use crate::browser::{Clock, base_path, local_get, local_set, measure, perf_now};
use crate::selection::Selection;
use crate::table::columns::{self, Field};
use crate::table::filter::{Filter, FilterError};
use crate::table::group::{self, Row};
use crate::table::remember::{self, Folds};
use crate::table::settings::TableSettings;
use crate::table::sort;

/// Columns and rows of the table, derived from the runs and the settings.
#[derive(Clone, Copy, Debug)]
pub(super) struct TableRows {
    pub run_count: Memo<usize>,
    /// Every column the runs offer.
    pub available: Memo<Vec<Field>>,
    /// The columns shown, with whether each is pinned.
    pub shown: Memo<Vec<(Field, bool)>>,
    /// Whether each shown column holds numbers (right-aligned).
    pub numeric: Memo<Vec<bool>>,
    /// The filter as typed: parsed, or why not.
    pub parsed: Memo<Result<Filter, FilterError>>,
    /// The filter in force: the last one that parsed.
    pub active: Memo<Filter>,
    /// Indices into the runs that pass the filter, newest first.
    pub filtered: Memo<Vec<u32>>,
    pub sort_spec: Memo<(Field, bool)>,
    /// The filtered runs in the table's sort order.
    pub ordered: Memo<Vec<u32>>,
    pub group_by: Memo<Option<Field>>,
    /// Group headers and runs, folded groups without their runs.
    pub rows: Memo<Vec<Row>>,
    folds: RwSignal<Folds>,
    folds_key: StoredValue<String>,
}

impl TableRows {
    /// The shown columns' fields, in order.
    pub fn shown_fields(self) -> Vec<Field> {
        self.shown
            .get_untracked()
            .into_iter()
            .map(|(f, _)| f)
            .collect()
    }

    /// Why the filter as typed does not parse, if it does not.
    pub fn filter_error(self) -> Option<String> {
        self.parsed
            .with(|p| p.as_ref().err().map(ToString::to_string))
    }

    /// Records `performance.measure(name)` (`tl:table:filter`, `tl:table:sort`) from `start`, the
    /// user's change, to the table having recomputed and rendered its rows: the reactive effects
    /// run as microtasks after the event, so a task queued now runs once they patched the page,
    /// and reading the page's height there lays the new rows out.
    pub fn measure_change(self, name: &'static str, start: f64) {
        set_timeout(
            move || {
                let _ = document().body().map(|b| b.offset_height());
                let end = perf_now();
                let (Some(rows), Some(total), Some((field, desc))) = (
                    self.ordered.try_with_untracked(Vec::len),
                    self.run_count.try_get_untracked(),
                    self.sort_spec.try_get_untracked(),
                ) else {
                    return;
                };
                let order = if desc { "desc" } else { "asc" };
                let detail = format!("{rows} of {total} runs, by {} {order}", field.id());
                measure(name, start, end, &detail);
            },
            Duration::ZERO,
        );
    }

    /// Folds or unfolds the group `value` of the current group-by (remembered by this browser).
    pub fn toggle_fold(self, value: &str) {
        let Some(by) = self.group_by.get_untracked().map(|f| f.id()) else {
            return;
        };
        self.folds.update(|x| x.toggle(&by, value));
        local_set(
            &self.folds_key.get_value(),
            &self.folds.with_untracked(Folds::to_json),
        );
    }
}

pub(super) fn use_table_rows(
    project: &str,
    runs: RwSignal<Vec<Arc<RunInfo>>>,
    editor: SettingsEditor,
) -> TableRows {
    let settings = editor.settings;
    let clock = expect_context::<Clock>();
    let selection = expect_context::<Selection>();

    // ---- columns ----
    let run_count = Memo::new(move |_| runs.with(Vec::len));
    // Recomputed when runs come or go, not on every heartbeat.
    let defaults = Memo::new(move |_| {
        run_count.get();
        runs.with_untracked(|l| {
            let sample: Vec<&RunInfo> = l.iter().take(2000).map(|r| r.as_ref()).collect();
            columns::default_columns(&sample)
        })
    });
    let available = Memo::new(move |_| {
        run_count.get();
        runs.with_untracked(|l| columns::available(l.iter().map(|r| r.as_ref())))
    });
    let shown = Memo::new(move |_| settings.with(|s| s.visible(|| defaults.get())));
    let numeric = Memo::new(move |_| {
        run_count.get();
        let cols = shown.get();
        runs.with_untracked(|l| {
            cols.iter()
                .map(|(f, _)| columns::is_numeric_column(l.iter().map(|r| r.as_ref()), f))
                .collect::<Vec<bool>>()
        })
    });

    // ---- filter, sort, group ----
    let parsed = Memo::new(move |_| settings.with(|s| Filter::parse(&s.filter)));
    // The last expression that parsed stays in force while the input holds a broken one.
    let active = Memo::new(move |prev: Option<&Filter>| match parsed.get() {
        Ok(f) => f,
        Err(_) => prev.cloned().unwrap_or_else(Filter::all),
    });
    // Newest first, filtered.
    let filtered = Memo::new(move |_| {
        let f = active.get();
        let now = clock.0.get_untracked();
        runs.with(|l| {
            sort::base_order(l)
                .into_iter()
                .filter(|&i| f.matches(&l[i as usize], now))
                .collect::<Vec<u32>>()
        })
    });
    let sort_spec = Memo::new(move |_| settings.with(TableSettings::sort_or_default));
    let ordered = Memo::new(move |_| {
        let (field, desc) = sort_spec.get();
        // Runtimes of running runs grow: follow the clock only when sorting by runtime.
        let now = if field == Field::Runtime {
            clock.0.get()
        } else {
            clock.0.get_untracked()
        };
        let mut order = filtered.get();
        if !(field == Field::Created && desc) {
            runs.with(|l| sort::sort(l, &mut order, &field, desc, now));
        }
        order
    });
    let group_by =
        Memo::new(move |_| settings.with(|s| s.group_by.as_deref().and_then(Field::parse)));
    // Folded groups per group-by column, remembered by this browser (`remember`): grouping by a
    // column again shows the groups folded as they were left.
    let folds_key = remember::storage_key("folds", base_path(), project);
    let folds = RwSignal::new(
        local_get(&folds_key)
            .map(|raw| Folds::parse(&raw))
            .unwrap_or_default(),
    );
    let folds_key = StoredValue::new(folds_key);
    let collapsed = Memo::new(move |_| match group_by.get() {
        Some(f) => folds.with(|x| x.get(&f.id())),
        None => BTreeSet::new(),
    });
    let rows = Memo::new(move |_| {
        let by = group_by.get();
        let order = ordered.get();
        collapsed.with(|c| runs.with(|l| group::rows(l, &order, by.as_ref(), c)))
    });

    // The chart panels group lines by the same key, and may choose it themselves: each side
    // follows the other (each writes only on a difference, so this settles at once).
    Effect::new(move |_| {
        let key = group_by.get().map(|f| f.id());
        if selection.group_by.with_untracked(|g| *g != key) {
            selection.group_by.set(key);
        }
    });
    Effect::new(move |_| {
        let key = selection.group_by.get();
        if settings.with_untracked(|s| s.group_by != key) {
            settings.update(|s| s.group_by = key.clone());
            editor.schedule_save();
        }
    });

    // The charts draw the first selected runs in this order when more are selected than a chart
    // can ask for (`MAX_SERIES_RUNS` in `shared/`).
    Effect::new(move |_| {
        let ids: Vec<String> = ordered.with(|o| {
            runs.with_untracked(|l| o.iter().map(|&i| l[i as usize].id.clone()).collect())
        });
        if selection.order.with_untracked(|o| *o != ids) {
            selection.order.set(ids);
        }
    });

    TableRows {
        run_count,
        available,
        shown,
        numeric,
        parsed,
        active,
        filtered,
        sort_spec,
        ordered,
        group_by,
        rows,
        folds,
        folds_key,
    }
}
