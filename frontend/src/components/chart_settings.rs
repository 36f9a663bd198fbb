//! The chart settings bar: smoothing (kind and slider), x axis (step, wall time, relative time or
//! another metric), log scales, outliers, and grouping by a config key. Used for the whole
//! workspace, for one panel, and on the run page. Controls carry `data-testid`s: `smoothing-kind`,
//! `smoothing-slider`, `x-axis`, `log-x`, `log-y`, `ignore-outliers`, `group-by`, `group-agg`,
//! `group-band`.

use leptos::prelude::*;
use trackline_shared::api::XAxis;

use crate::charts::plot::{Agg, Band};
use crate::charts::settings::{
    self, ChartSettings, SMOOTHING_KINDS, default_param, make_smoothing, slider_range,
    smoothing_kind, smoothing_param,
};

fn x_choice(s: &ChartSettings) -> String {
    match &s.x_key {
        Some(k) => format!("key:{k}"),
        None => s.x.as_str().to_string(),
    }
}

fn event_value(ev: &web_sys::Event) -> String {
    event_target_value(ev)
}

#[component]
pub fn ChartSettingsBar(
    #[prop(into)] settings: Signal<ChartSettings>,
    on_change: Callback<ChartSettings>,
    /// Metric keys offered as x axes.
    #[prop(into)]
    x_keys: Signal<Vec<String>>,
    /// Config keys offered for grouping (empty: no grouping controls).
    #[prop(into)]
    group_keys: Signal<Vec<String>>,
) -> impl IntoView {
    let edit = move |f: &dyn Fn(&mut ChartSettings)| {
        let mut s = settings.get_untracked();
        f(&mut s);
        on_change.run(s);
    };
    let kind = Memo::new(move |_| smoothing_kind(settings.with(|s| s.smoothing)).to_string());
    let param = Memo::new(move |_| smoothing_param(settings.with(|s| s.smoothing)));
    let range = move || slider_range(&kind.get());
    let x_options = move || {
        let mut opts = vec![
            ("step".to_string(), "Step".to_string()),
            ("wall_time".to_string(), "Wall time".to_string()),
            ("relative_time".to_string(), "Relative time".to_string()),
        ];
        for k in x_keys.get() {
            opts.push((format!("key:{k}"), k));
        }
        let current = settings.with(x_choice);
        opts.into_iter()
            .map(|(v, label)| {
                let sel = v == current;
                view! { <option value=v selected=sel>{label}</option> }
            })
            .collect_view()
    };
    let group_controls = move || {
        let keys = group_keys.get();
        if keys.is_empty() && settings.with(|s| s.group_by.is_none()) {
            return None;
        }
        let current = settings.with(|s| s.group_by.clone()).unwrap_or_default();
        let agg = settings.with(|s| s.agg);
        let band = settings.with(|s| s.band);
        Some(view! {
            <label class="cs-item">
                "Group by "
                <select
                    data-testid="group-by"
                    on:change=move |ev| {
                        let v = event_value(&ev);
                        edit(&|s| s.group_by = (!v.is_empty()).then(|| v.clone()));
                    }
                >
                    <option value="" selected=current.is_empty()>"none"</option>
                    {keys
                        .into_iter()
                        .map(|k| {
                            let sel = k == current;
                            view! { <option value=k.clone() selected=sel>{k.clone()}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            <select
                data-testid="group-agg"
                title="Group line"
                on:change=move |ev| {
                    let v = event_value(&ev);
                    edit(&|s| s.agg = if v == "median" { Agg::Median } else { Agg::Mean });
                }
            >
                <option value="mean" selected=agg == Agg::Mean>"mean"</option>
                <option value="median" selected=agg == Agg::Median>"median"</option>
            </select>
            <select
                data-testid="group-band"
                title="Group band"
                on:change=move |ev| {
                    let v = event_value(&ev);
                    edit(&|s| {
                        s.band = match v.as_str() {
                            "std" => Band::Std,
                            "none" => Band::None,
                            _ => Band::MinMax,
                        }
                    });
                }
            >
                <option value="min_max" selected=band == Band::MinMax>"min–max"</option>
                <option value="std" selected=band == Band::Std>"± std"</option>
                <option value="none" selected=band == Band::None>"no band"</option>
            </select>
        })
    };
    view! {
        <div class="cs-bar">
            <label class="cs-item">
                "Smoothing "
                <select
                    data-testid="smoothing-kind"
                    on:change=move |ev| {
                        let k = event_value(&ev);
                        edit(&|s| s.smoothing = make_smoothing(&k, default_param(&k)));
                    }
                >
                    {SMOOTHING_KINDS
                        .iter()
                        .map(|&(v, label)| {
                            let sel = move || kind.get() == v;
                            view! { <option value=v selected=sel>{label}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            <Show when=move || kind.get() != "none">
                <input
                    type="range"
                    data-testid="smoothing-slider"
                    min=move || range().0.to_string()
                    max=move || range().1.to_string()
                    step=move || range().2.to_string()
                    prop:value=move || param.get().to_string()
                    on:input=move |ev| {
                        let v: f64 = event_value(&ev).parse().unwrap_or(0.0);
                        let k = kind.get_untracked();
                        edit(&|s| s.smoothing = make_smoothing(&k, v));
                    }
                />
                <span class="cs-val mono">{move || settings::smoothing_label(param.get(), &kind.get())}</span>
            </Show>
            <label class="cs-item">
                "X "
                <select
                    data-testid="x-axis"
                    on:change=move |ev| {
                        let v = event_value(&ev);
                        edit(&|s| {
                            if let Some(k) = v.strip_prefix("key:") {
                                s.x_key = Some(k.to_string());
                            } else {
                                s.x_key = None;
                                s.x = match v.as_str() {
                                    "wall_time" => XAxis::WallTime,
                                    "relative_time" => XAxis::RelativeTime,
                                    _ => XAxis::Step,
                                };
                            }
                        });
                    }
                >
                    {x_options}
                </select>
            </label>
            <label class="cs-item">
                <input
                    type="checkbox"
                    data-testid="log-x"
                    prop:checked=move || settings.with(|s| s.x_log)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        edit(&|s| s.x_log = on);
                    }
                />
                "log x"
            </label>
            <label class="cs-item">
                <input
                    type="checkbox"
                    data-testid="log-y"
                    prop:checked=move || settings.with(|s| s.y_log)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        edit(&|s| s.y_log = on);
                    }
                />
                "log y"
            </label>
            <label class="cs-item" title="Fit the y axis to the 5th–95th percentile of the values">
                <input
                    type="checkbox"
                    data-testid="ignore-outliers"
                    prop:checked=move || settings.with(|s| s.ignore_outliers)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        edit(&|s| s.ignore_outliers = on);
                    }
                />
                "ignore outliers"
            </label>
            {group_controls}
        </div>
    }
}
