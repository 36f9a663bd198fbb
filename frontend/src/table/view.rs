//! The runs table view: toolbar (filter, group-by, column picker, compare), a virtualised grid of
//! fixed-height rows with sticky header and pinned columns, resizable and reorderable headers, and
//! the per-row selection that the workspace charts show.

use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;
use trackline_shared::api::{RunInfo, RunState};

use super::columns::{self, Field};
use super::filter::Filter;
use super::group::{self, Row};
use super::remember::{self, Folds};
use super::settings::{MAX_WIDTH, MIN_WIDTH, TableSettings};
use super::{sort, virt};
use crate::browser::Clock;
use crate::browser::{base_path, href, local_datetime, local_get, local_remove, local_set};
use crate::components::StateBadge;
use crate::selection::{Selection, run_color};
use crate::util;
use crate::workspace::layout::Saver;

/// Height of every body row (CSS pixels); `index.html` sets the same.
pub const ROW_H: f64 = 30.0;
/// Rows rendered beyond each edge of the viewport.
const OVERSCAN: usize = 8;
/// Width of the leading column (checkbox and colour swatch).
const SEL_W: f64 = 52.0;
/// Runs selected before anyone chooses: the newest ones (W&B shows the first 10 too).
pub const DEFAULT_SELECTED: usize = 10;
/// Most runs the compare view is opened with.
pub const MAX_COMPARE: usize = 50;
const SAVE_DELAY: Duration = Duration::from_millis(600);

/// A change to the settings, as the column picker hands it to the table.
type Edit = Arc<dyn Fn(&mut TableSettings) + Send + Sync>;

/// A run in a rendered row; equal when id and version are (a new version re-renders the row).
#[derive(Clone, Debug)]
struct RunRef(Arc<RunInfo>);

impl PartialEq for RunRef {
    fn eq(&self, o: &Self) -> bool {
        self.0.id == o.0.id && self.0.version == o.0.version
    }
}

#[derive(Clone, Debug, PartialEq)]
enum VisRow {
    Group {
        value: String,
        count: usize,
        collapsed: bool,
    },
    Run(RunRef),
}

impl VisRow {
    fn key(&self) -> String {
        match self {
            VisRow::Group {
                value,
                count,
                collapsed,
            } => format!("g\u{1}{value}\u{1}{count}\u{1}{collapsed}"),
            VisRow::Run(r) => format!("r\u{1}{}\u{1}{}", r.0.id, r.0.version),
        }
    }
}

/// Sizes of the grid's columns as a style sheet: widths through `<col>`, sticky offsets of pinned
/// columns, the table's total width.
fn grid_css(cols: &[(Field, bool)], s: &TableSettings) -> String {
    let mut css = String::new();
    let (mut left, mut total) = (SEL_W, SEL_W);
    for (i, (f, pinned)) in cols.iter().enumerate() {
        let w = s.width(f);
        css.push_str(&format!(".rt-grid col.k{i}{{width:{w}px}}"));
        if *pinned {
            css.push_str(&format!(".rt-grid .k{i}.pin{{left:{left}px}}"));
            left += w;
        }
        total += w;
    }
    css.push_str(&format!(
        ".rt-grid col.rt-sel{{width:{SEL_W}px}}.rt-grid{{width:{total}px}}"
    ));
    css
}

/// The runs table of a project, writing the page's [`Selection`].
#[component]
pub fn RunsTable(project: String, runs: RwSignal<Vec<Arc<RunInfo>>>) -> impl IntoView {
    let selection = expect_context::<Selection>();
    let clock = expect_context::<Clock>();
    let project_sv = StoredValue::new(project.clone());

    // ---- settings, loaded from and saved to the workspace layout ----
    let settings = RwSignal::new(TableSettings::default());
    // Changed by the user since the page opened (a late load must not undo that).
    let edited = StoredValue::new(false);
    let save_wanted = StoredValue::new(false);
    let save_gen = StoredValue::new(0u64);
    let save_error = RwSignal::new(None::<String>);
    // Saves only the table's changes, merged onto the layout as stored (a teammate's kept).
    let saver = Saver::new(project.clone(), settings, save_error, "table");
    let schedule_save = move || {
        if save_gen.is_disposed() {
            return;
        }
        // Nothing is saved until the saved layout was read: a failed load is never saved over.
        if !saver.is_loaded() {
            save_wanted.set_value(true);
            return;
        }
        save_gen.update_value(|g| *g += 1);
        let generation = save_gen.get_value();
        set_timeout(
            move || {
                if save_gen.try_get_value() == Some(generation) {
                    saver.save();
                }
            },
            SAVE_DELAY,
        );
    };
    let edit = move |f: &dyn Fn(&mut TableSettings)| {
        edited.set_value(true);
        settings.update(|s| f(s));
        schedule_save();
    };
    {
        spawn_local(async move {
            let res = saver.load().await;
            if settings.is_disposed() {
                return;
            }
            match res {
                Ok(saved) => {
                    if !edited.get_value() {
                        // Keep a group-by the charts chose meanwhile if none was saved.
                        let group_by = settings.with_untracked(|s| s.group_by.clone());
                        settings.set(TableSettings {
                            group_by: saved.group_by.clone().or(group_by),
                            ..saved.clone()
                        });
                    }
                    saver.loaded(saved);
                    if save_wanted.get_value() {
                        schedule_save();
                    }
                }
                Err(e) => save_error.set(Some(format!(
                    "Could not load the saved table settings; changes are not saved: {e}"
                ))),
            }
        });
    }

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
    let shown_fields =
        move || -> Vec<Field> { shown.get_untracked().into_iter().map(|(f, _)| f).collect() };
    let numeric = Memo::new(move |_| {
        run_count.get();
        let cols = shown.get();
        runs.with_untracked(|l| {
            cols.iter()
                .map(|(f, _)| columns::is_numeric_column(l.iter().map(|r| r.as_ref()), f))
                .collect::<Vec<bool>>()
        })
    });
    let css = move || settings.with(|s| grid_css(&shown.get(), s));

    // ---- filter, sort, group ----
    let parsed = Memo::new(move |_| settings.with(|s| Filter::parse(&s.filter)));
    // The last expression that parsed stays in force while the input holds a broken one.
    let active = Memo::new(move |prev: Option<&Filter>| match parsed.get() {
        Ok(f) => f,
        Err(_) => prev.cloned().unwrap_or_else(Filter::all),
    });
    let filter_error = move || parsed.with(|p| p.as_ref().err().map(ToString::to_string));
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
    let folds_key = remember::storage_key("folds", base_path(), &project);
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
    let toggle_fold = move |value: &str| {
        let Some(by) = group_by.get_untracked().map(|f| f.id()) else {
            return;
        };
        folds.update(|x| x.toggle(&by, value));
        local_set(
            &folds_key.get_value(),
            &folds.with_untracked(Folds::to_json),
        );
    };
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
            schedule_save();
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

    // ---- selection: the newest runs until someone picks ----
    let auto = RwSignal::new(true);
    // What was picked here before (`remember`): the runs that still exist, plus the runs created
    // since it was saved (a new run joins the selection, as one appearing while the page is open
    // does).
    let selection_key = StoredValue::new(remember::storage_key("selection", base_path(), &project));
    let stored =
        local_get(&selection_key.get_value()).and_then(|raw| remember::parse_remembered(&raw));
    if let Some(stored) = stored {
        let restored = runs.with_untracked(|l| {
            let have: HashSet<&str> = l.iter().map(|r| r.id.as_str()).collect();
            let mut ids = remember::restore(&stored.ids, |id| have.contains(id))?;
            if let Some(t) = stored.seen_until {
                ids.extend(
                    l.iter()
                        .filter(|r| r.created_at_secs > t)
                        .map(|r| r.id.clone()),
                );
            }
            Some(ids)
        });
        if let Some(ids) = restored {
            auto.set(false);
            selection.selected.set(ids);
        }
    }
    // Runs that appear while the page is open join a picked selection (W&B shows a new run too:
    // a run just started is the one to watch). Until a pick, the default rule above takes them.
    let known = StoredValue::new(
        runs.with_untracked(|l| l.iter().map(|r| r.id.clone()).collect::<HashSet<String>>()),
    );
    Effect::new(move |_| {
        let fresh: Vec<String> = runs.with(|l| {
            known.with_value(|k| {
                l.iter()
                    .filter(|r| !k.contains(&r.id))
                    .map(|r| r.id.clone())
                    .collect()
            })
        });
        if fresh.is_empty() {
            return;
        }
        known.update_value(|k| k.extend(fresh.iter().cloned()));
        if !auto.get_untracked() {
            selection.selected.update(|s| s.extend(fresh));
        }
    });
    // Remembered once picked (until then the default is not a choice to keep).
    Effect::new(move |_| {
        if auto.get() {
            return;
        }
        let seen_until = runs.with_untracked(|l| {
            l.iter()
                .map(|r| r.created_at_secs)
                .filter(|t| t.is_finite())
                .reduce(f64::max)
        });
        let json = selection.selected.with(|s| {
            selection
                .order
                .with_untracked(|o| remember::selection_json_seen(s, o, seen_until))
        });
        local_set(&selection_key.get_value(), &json);
    });
    Effect::new(move |_| {
        if !auto.get() {
            return;
        }
        let ids: BTreeSet<String> = filtered.with(|f| {
            runs.with(|l| {
                f.iter()
                    .take(DEFAULT_SELECTED)
                    .map(|&i| l[i as usize].id.clone())
                    .collect()
            })
        });
        if selection.selected.with_untracked(|s| *s != ids) {
            selection.selected.set(ids);
        }
    });
    let toggle_run = move |id: String| {
        auto.set(false);
        selection.selected.update(|s| {
            if !s.remove(&id) {
                s.insert(id);
            }
        });
    };
    // (selected among the filtered runs, filtered runs)
    let coverage = Memo::new(move |_| {
        selection.selected.with(|sel| {
            filtered.with(|f| {
                runs.with(|l| {
                    let n = f
                        .iter()
                        .filter(|&&i| sel.contains(&l[i as usize].id))
                        .count();
                    (n, f.len())
                })
            })
        })
    });
    let select_all = move |on: bool| {
        auto.set(false);
        let ids: Vec<String> = filtered.with_untracked(|f| {
            runs.with_untracked(|l| f.iter().map(|&i| l[i as usize].id.clone()).collect())
        });
        selection.selected.update(|s| {
            for id in ids {
                if on {
                    s.insert(id);
                } else {
                    s.remove(&id);
                }
            }
        });
    };

    // ---- virtual scrolling ----
    let scroller = NodeRef::<leptos::html::Div>::new();
    let scroll_top = RwSignal::new(0.0f64);
    // The scroll area's height: its CSS max-height (min(62vh, 720px)), or more if it was made
    // taller. When it is shorter than that, all rows fit anyway, so this never renders too few.
    let max_h = || {
        window()
            .inner_height()
            .ok()
            .and_then(|v| v.as_f64())
            .map_or(720.0, |h| (h * 0.62).min(720.0))
    };
    let viewport_h = RwSignal::new(max_h());
    let measure = move || {
        let client = scroller
            .get_untracked()
            .map_or(0.0, |el| f64::from(el.client_height()));
        let h = client.max(max_h());
        if viewport_h.try_get_untracked().is_some_and(|v| v != h) {
            viewport_h.set(h);
        }
    };
    let resize_handle = window_event_listener(ev::resize, move |_| measure());
    // A new filter, sort or grouping starts at the top.
    Effect::new(move |first: Option<()>| {
        active.track();
        sort_spec.track();
        group_by.track();
        if first.is_some()
            && let Some(el) = scroller.get_untracked()
        {
            el.set_scroll_top(0);
            scroll_top.set(0.0);
        }
    });
    let win = Memo::new(move |_| {
        virt::window(
            rows.with(Vec::len),
            ROW_H,
            scroll_top.get(),
            viewport_h.get(),
            OVERSCAN,
        )
    });
    let visible = Memo::new(move |_| {
        let w = win.get();
        rows.with(|rows| {
            runs.with(|l| {
                rows[w.start..w.end]
                    .iter()
                    .map(|r| match r {
                        Row::Group {
                            value,
                            count,
                            collapsed,
                        } => VisRow::Group {
                            value: value.clone(),
                            count: *count,
                            collapsed: *collapsed,
                        },
                        Row::Run(i) => VisRow::Run(RunRef(l[*i as usize].clone())),
                    })
                    .collect::<Vec<VisRow>>()
            })
        })
    });

    // ---- column resizing and dragging ----
    let resizing = StoredValue::new(None::<(String, f64, f64)>);
    let resize_end = StoredValue::new(0.0f64);
    let move_handle = window_event_listener(ev::mousemove, move |e| {
        let Some((id, x0, w0)) = resizing.try_get_value().flatten() else {
            return;
        };
        let w = (w0 + f64::from(e.client_x()) - x0)
            .clamp(MIN_WIDTH, MAX_WIDTH)
            .round();
        settings.update(|s| {
            s.widths.insert(id, w);
        });
    });
    let up_handle = window_event_listener(ev::mouseup, move |_| {
        if resizing.try_update_value(|r| r.take()).flatten().is_some() {
            edited.set_value(true);
            resize_end.set_value(js_sys::Date::now());
            schedule_save();
        }
    });
    on_cleanup(move || {
        resize_handle.remove();
        move_handle.remove();
        up_handle.remove();
    });
    let dragging = StoredValue::new(None::<String>);

    // ---- header ----
    let header = move |i: usize, f: Field, pinned: bool, num: bool, last_pin: bool| {
        let id = f.id();
        let kind = match f {
            Field::Config(_) => " cfg",
            Field::Summary(_) => " sum",
            _ => "",
        };
        let class = format!(
            "k{i}{}{}{kind}{}",
            if pinned { " pin" } else { "" },
            if num { " num" } else { "" },
            if last_pin { " pin-last" } else { "" }
        );
        let sort_numeric =
            num || matches!(f, Field::Created | Field::Runtime) || matches!(f, Field::Summary(_));
        let indicator = {
            let f = f.clone();
            move || {
                sort_spec.with(|(sf, desc)| (*sf == f).then_some(if *desc { "▼" } else { "▲" }))
            }
        };
        let sorted_attr = {
            let f = f.clone();
            move || {
                sort_spec
                    .with(|(sf, desc)| (*sf == f).then_some(if *desc { "desc" } else { "asc" }))
            }
        };
        let (id_click, id_drag, id_drop, id_resize) =
            (id.clone(), id.clone(), id.clone(), id.clone());
        let f_resize = f.clone();
        view! {
            <th
                class=class
                data-testid="col-header"
                data-col=id.clone()
                data-sort=sorted_attr
                title=id.clone()
                draggable="true"
                on:click=move |_| {
                    if js_sys::Date::now() - resize_end.get_value() < 300.0 {
                        return;
                    }
                    edit(&|s| s.click_sort(&id_click, sort_numeric));
                }
                on:dragstart=move |e: ev::DragEvent| {
                    dragging.set_value(Some(id_drag.clone()));
                    if let Some(dt) = e.data_transfer() {
                        let _ = dt.set_data("text/plain", &id_drag);
                        dt.set_effect_allowed("move");
                    }
                }
                on:dragover=move |e: ev::DragEvent| e.prevent_default()
                on:drop=move |e: ev::DragEvent| {
                    e.prevent_default();
                    if let Some(from) = dragging.try_update_value(|d| d.take()).flatten() {
                        let shown_now = shown_fields();
                        edit(&|s| s.move_before(&shown_now, &from, Some(&id_drop)));
                    }
                }
            >
                <span class="rt-label">{f.label()}</span>
                <span class="sort-ind">{indicator}</span>
                <span
                    class="rt-resize"
                    data-testid="col-resize"
                    title="Drag to resize"
                    on:mousedown=move |e: ev::MouseEvent| {
                        e.prevent_default();
                        e.stop_propagation();
                        let w = settings.with_untracked(|s| s.width(&f_resize));
                        resizing.set_value(Some((id_resize.clone(), f64::from(e.client_x()), w)));
                    }
                    on:click=move |e: ev::MouseEvent| e.stop_propagation()
                ></span>
            </th>
        }
    };

    // ---- rows ----
    let cell =
        move |i: usize, f: &Field, pinned: bool, num: bool, last_pin: bool, r: &Arc<RunInfo>| {
            let class = format!(
                "k{i}{}{}{}",
                if pinned { " pin" } else { "" },
                if num { " num" } else { "" },
                if last_pin { " pin-last" } else { "" }
            );
            match f {
                Field::Name => {
                    let link = href(&util::run_path(&project_sv.get_value(), &r.id));
                    view! {
                        <td class=class title=r.name.clone()>
                            <a href=link>{r.name.clone()}</a>
                        </td>
                    }
                    .into_any()
                }
                Field::State => view! {
                    <td class=class>
                        <StateBadge state=r.state />
                    </td>
                }
                .into_any(),
                Field::Created => {
                    let created = r.created_at_secs;
                    view! {
                        <td class=class title=util::ago(clock.0.get_untracked(), created)>
                            {local_datetime(created)}
                        </td>
                    }
                    .into_any()
                }
                Field::Runtime => {
                    let run = r.clone();
                    if r.state == RunState::Running {
                        view! {
                            <td class=class>
                                {move || util::duration(util::live_runtime(&run, clock.0.get()))}
                            </td>
                        }
                        .into_any()
                    } else {
                        view! { <td class=class>{util::duration(run.runtime_secs)}</td> }.into_any()
                    }
                }
                Field::Tags => {
                    let tags = r.tags.clone();
                    let title = tags.join(", ");
                    view! {
                        <td class=class title=title>
                            {tags
                                .into_iter()
                                .map(|t| view! { <span class="tag">{t}</span> })
                                .collect_view()}
                        </td>
                    }
                    .into_any()
                }
                other => {
                    let v = columns::get(r, other, 0.0);
                    match v.text() {
                        None => view! { <td class=format!("{class} faint")>"–"</td> }.into_any(),
                        Some(t) => {
                            let bad = v.number().is_some_and(|x| !x.is_finite());
                            let class = if bad {
                                format!("{class} bad-val")
                            } else {
                                class
                            };
                            let t = t.into_owned();
                            let title = t.clone();
                            view! {
                                <td class=class title=title>
                                    {t}
                                </td>
                            }
                            .into_any()
                        }
                    }
                }
            }
        };

    let body = move || {
        let cols = shown.get();
        let nums = numeric.get();
        let ncols = cols.len() + 1;
        let last_pin = cols.iter().rposition(|(_, p)| *p);
        let render = move |row: VisRow| match row {
            VisRow::Group {
                value,
                count,
                collapsed: shut,
            } => {
                let text = group_by
                    .get_untracked()
                    .map(|f| group::header(&f, &value, count))
                    .unwrap_or_default();
                let v2 = value.clone();
                view! {
                    <tr
                        class="rt-group"
                        data-testid="group-row"
                        data-group=value.clone()
                        data-collapsed=shut.to_string()
                        on:click=move |_| toggle_fold(&v2)
                    >
                        <td colspan=ncols>
                            <span class="rt-group-head">
                                <span class="rt-caret">{if shut { "▸" } else { "▾" }}</span>
                                <span data-testid="group-label">{text}</span>
                            </span>
                        </td>
                    </tr>
                }
                .into_any()
            }
            VisRow::Run(RunRef(r)) => {
                let id = r.id.clone();
                let (id_sel, id_toggle, id_enter) = (id.clone(), id.clone(), id.clone());
                let is_sel = Memo::new(move |_| selection.selected.with(|s| s.contains(&id_sel)));
                let cells = cols
                    .iter()
                    .enumerate()
                    .map(|(i, (f, p))| {
                        cell(
                            i,
                            f,
                            *p,
                            nums.get(i).copied().unwrap_or(false),
                            last_pin == Some(i),
                            &r,
                        )
                    })
                    .collect_view();
                view! {
                    <tr
                        data-testid="run-row"
                        data-run-id=id.clone()
                        data-selected=move || is_sel.get().to_string()
                        class:selected=is_sel
                        on:mouseenter=move |_| selection.highlighted.set(Some(id_enter.clone()))
                        on:mouseleave=move |_| selection.highlighted.set(None)
                    >
                        <td class="rt-sel pin">
                            <input
                                type="checkbox"
                                data-testid="row-select"
                                title="Show in charts"
                                prop:checked=is_sel
                                on:change=move |_| toggle_run(id_toggle.clone())
                            />
                            <span class="rt-swatch" style:background=run_color(&id)></span>
                        </td>
                        {cells}
                    </tr>
                }
                .into_any()
            }
        };
        view! {
            <tr class="rt-spacer" style:height=move || format!("{}px", win.get().top_px(ROW_H))>
                <td colspan=ncols></td>
            </tr>
            <For each=move || visible.get() key=VisRow::key children=render />
            <tr
                class="rt-spacer"
                style:height=move || {
                    format!("{}px", win.get().bottom_px(rows.with(Vec::len), ROW_H))
                }
            >
                <td colspan=ncols></td>
            </tr>
        }
    };

    let head = move || {
        let cols = shown.get();
        let nums = numeric.get();
        let last_pin = cols.iter().rposition(|(_, p)| *p);
        let all_checked = move || coverage.with(|(n, all)| *all > 0 && n == all);
        let some_checked = move || coverage.with(|(n, all)| *n > 0 && n < all);
        let headers = cols
            .into_iter()
            .enumerate()
            .map(|(i, (f, p))| {
                header(
                    i,
                    f,
                    p,
                    nums.get(i).copied().unwrap_or(false),
                    last_pin == Some(i),
                )
            })
            .collect_view();
        view! {
            <tr>
                <th class="rt-sel pin">
                    <input
                        type="checkbox"
                        data-testid="select-all"
                        title="Select all filtered runs, or none"
                        prop:checked=all_checked
                        prop:indeterminate=some_checked
                        on:change=move |_| select_all(!all_checked())
                    />
                </th>
                {headers}
            </tr>
        }
    };
    let colgroup = move || {
        let n = shown.with(Vec::len);
        let cols = (0..n)
            .map(|i| view! { <col class=format!("k{i}") /> })
            .collect_view();
        view! {
            <col class="rt-sel" />
            {cols}
        }
    };

    // ---- toolbar ----
    let picker_open = RwSignal::new(false);
    let group_options = move || {
        available.with(|a| {
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
                let pos: std::collections::HashMap<&str, usize> = ordered.with(|o| {
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
            href(&util::project_path(&project_sv.get_value())),
            ids.join(",")
        )
    };
    let n_selected = move || selection.selected.with(BTreeSet::len);
    let count_text = move || {
        let total = run_count.get();
        let shown_n = filtered.with(Vec::len);
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
                    shown=shown
                    available=available
                    settings=settings
                    on_edit=Callback::new(move |f: Edit| {
                        edit(&*f)
                    })
                    on_close=Callback::new(move |()| picker_open.set(false))
                />
            }
        })
    };

    view! {
        <style>{css}</style>
        <div class="rt-toolbar">
            <div class="rt-filter-box">
                <input
                    class="rt-filter"
                    class:invalid=move || parsed.with(Result::is_err)
                    data-testid="filter-input"
                    type="text"
                    spellcheck="false"
                    autocomplete="off"
                    placeholder="Filter: config.lr < 0.01 and state == \"finished\""
                    title="Filter runs. Fields: name, state, created, runtime, tags, group, notes, id, host, job_type, config.<key>, summary.<key>. Operators: == != < <= > >= =~ (regex) !~ in, not in; and, or, not, ( ). Text in quotes."
                    prop:value=move || settings.with(|s| s.filter.clone())
                    on:input=move |e| {
                        let v = event_target_value(&e);
                        edit(&|s| s.filter = v.clone());
                    }
                />
            </div>
            <label class="rt-group-by">
                "Group "
                <select
                    data-testid="table-group-by"
                    prop:value=move || settings.with(|s| s.group_by.clone().unwrap_or_default())
                    on:change=move |e| {
                        let v = event_target_value(&e);
                        edit(&|s| s.group_by = (!v.is_empty()).then(|| v.clone()));
                    }
                >
                    {move || {
                        let current = settings.with(|s| s.group_by.clone().unwrap_or_default());
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
            <span class="spacer"></span>
            <span class="muted" data-testid="selected-count">
                {move || format!("{} in charts", n_selected())}
            </span>
            <button
                class="btn"
                data-testid="select-none"
                title="Show no runs in charts"
                on:click=move |_| {
                    auto.set(false);
                    selection.selected.set(BTreeSet::new());
                }
            >
                "Clear"
            </button>
            {move || {
                (!auto.get())
                    .then(|| {
                        view! {
                            <button
                                class="btn"
                                data-testid="select-newest"
                                title="Back to the default: the newest runs, and new runs as they start"
                                on:click=move |_| {
                                    local_remove(&selection_key.get_value());
                                    auto.set(true);
                                }
                            >
                                "Newest"
                            </button>
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
            filter_error()
                .map(|e| {
                    view! {
                        <div class="rt-filter-error" data-testid="filter-error" role="alert">
                            {e}
                        </div>
                    }
                })
        }}
        {move || save_error.get().map(|e| view! { <div class="rt-filter-error">{e}</div> })}
        {picker}
        <div
            class="rt-scroll"
            data-testid="runs-scroll"
            node_ref=scroller
            on:scroll=move |e| {
                let el = event_target::<web_sys::Element>(&e);
                scroll_top.set(f64::from(el.scroll_top()));
                measure();
            }
        >
            <table class="rt-grid" data-testid="runs-table">
                <colgroup>{colgroup}</colgroup>
                <thead>{head}</thead>
                <tbody>{body}</tbody>
            </table>
            {move || {
                (filtered.with(Vec::is_empty) && run_count.get() > 0)
                    .then(|| view! { <div class="empty">"No runs match the filter."</div> })
            }}
        </div>
    }
}

/// Lists every column with show/hide, pin and move controls.
#[component]
fn ColumnPicker(
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
