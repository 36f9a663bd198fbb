//! One workspace panel: a line chart of one metric with the workspace's or its own settings.

use leptos::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::model::WorkspaceLayout;
use super::step_metric::with_step_metric;
use crate::components::{ChartSettingsBar, Lazy, LineChart, RunRef};

/// About a panel's height before it is built (its header and plot, a short legend).
const PLACEHOLDER_HEIGHT: f64 = 262.0;
use crate::selection::Selection;

/// One panel: a [`LineChart`] with the workspace's or its own settings, and a settings toggle.
#[component]
pub(super) fn Panel(
    project: String,
    key: String,
    layout: RwSignal<WorkspaceLayout>,
    runs: Memo<Vec<RunRef>>,
    x_keys: Memo<Vec<String>>,
    group_keys: Memo<Vec<String>>,
    step_metrics: Memo<BTreeMap<String, String>>,
    selection: Selection,
) -> impl IntoView {
    let key_s = StoredValue::new(key.clone());
    let step_metric = Memo::new(move |_| step_metrics.with(|m| m.get(&key_s.get_value()).cloned()));
    let settings = Memo::new(move |_| {
        let own = layout.with(|l| {
            l.panels
                .get(&key_s.get_value())
                .and_then(|p| p.settings.clone())
        });
        // The panel's own settings are the user's word on it. Without them the workspace's apply,
        // drawn against the key's step metric if they leave x at its default, grouped like the
        // table.
        own.unwrap_or_else(|| {
            let ws = layout.with(|l| l.settings.clone());
            let mut s = with_step_metric(ws, step_metric.get());
            s.group_by = selection.group_by.get();
            s
        })
    });
    let own = Memo::new(move |_| {
        layout.with(|l| {
            l.panels
                .get(&key_s.get_value())
                .is_some_and(|p| p.settings.is_some())
        })
    });
    let wide = Memo::new(move |_| {
        layout.with(|l| l.panels.get(&key_s.get_value()).is_some_and(|p| p.wide))
    });
    let open = RwSignal::new(false);
    let header: ChildrenFn = Arc::new(move || {
        view! {
            <button
                class="lc-btn"
                class:on=move || open.get()
                data-testid="panel-settings-toggle"
                title="This panel's settings"
                on:click=move |_| open.update(|o| *o = !*o)
            >
                {move || if own.get() { "⚙ own" } else { "⚙" }}
            </button>
            <button
                class="lc-btn"
                data-testid="panel-wide"
                title="Full width"
                on:click=move |_| {
                    layout.update(|l| {
                        let p = l.panels.entry(key_s.get_value()).or_default();
                        p.wide = !p.wide;
                    })
                }
            >
                {move || if wide.get() { "⇤⇥" } else { "⇔" }}
            </button>
            <crate::reports::AddToReport key=key_s.get_value() settings=settings />
        }
        .into_any()
    });
    let group_labels = Signal::derive(move || group_keys.get());
    let project = StoredValue::new(project);
    // Built once near the viewport (`Lazy`): a workspace of hundreds of panels opens with the
    // ones in view.
    view! {
        <div class="chart-card ws-panel" class:wide=wide data-testid="panel" data-key=key.clone()>
            <Lazy class="ws-panel-lazy" min_height=PLACEHOLDER_HEIGHT>
                <Show when=move || open.get()>
                    <div class="ws-panel-settings">
                        <ChartSettingsBar
                            settings=settings
                            on_change=Callback::new(move |s| {
                                layout.update(|l| l.panels.entry(key_s.get_value()).or_default().settings = Some(s))
                            })
                            x_keys=x_keys
                            group_keys=group_labels
                        />
                        <Show when=move || own.get()>
                            <button
                                class="lc-btn"
                                data-testid="panel-use-workspace"
                                on:click=move |_| {
                                    layout.update(|l| {
                                        if let Some(p) = l.panels.get_mut(&key_s.get_value()) {
                                            p.settings = None;
                                        }
                                    })
                                }
                            >
                                "use workspace settings"
                            </button>
                        </Show>
                    </div>
                </Show>
                <LineChart
                    project=project.get_value()
                    key=key_s.get_value()
                    runs=runs
                    settings=settings
                    hidden=selection.hidden
                    highlighted=selection.highlighted
                    header=header.clone()
                />
            </Lazy>
        </div>
    }
}
