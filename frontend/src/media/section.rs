//! The media part of a page (the project workspace, a run page): the media keys of its runs live,
//! in sections by key prefix like metric panels, the custom charts their configs declare, and the
//! global step slider that moves every panel.

use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::BTreeMap;
use trackline_shared::media::{MediaKeyInfo, MediaKind, custom_charts};
use trackline_shared::ws::ServerMsg;

use super::GlobalStep;
use super::live::media_keys;
use super::panel::{MediaPanel, PanelOf};
use super::slider::StepSlider;
use crate::components::RunRef;
use crate::run_feed;
use crate::workspace::{DEFAULT_SECTION, sections};

/// The section of media keys without a `prefix/`.
const MEDIA_SECTION: &str = "Media";
/// The section of W&B custom charts (`wandb.plot.*`).
const CHARTS_SECTION: &str = "Custom charts";

/// Media panels for `runs` of `project`; nothing at all while none of them logged media.
#[component]
pub fn MediaSections(project: String, #[prop(into)] runs: Signal<Vec<RunRef>>) -> impl IntoView {
    let global = GlobalStep::default();
    provide_context(global);
    let keys_by_run = RwSignal::new(BTreeMap::<String, Vec<MediaKeyInfo>>::new());
    follow_media_keys(project.clone(), runs, keys_by_run);

    // Union over the shown runs, in first-seen order; a key keeps its first kind.
    let kinds = Memo::new(move |_| {
        let shown: Vec<String> = runs.with(|r| r.iter().map(|r| r.id.clone()).collect());
        keys_by_run.with(|m| {
            let mut kinds = BTreeMap::<String, MediaKind>::new();
            for id in &shown {
                for k in m.get(id).into_iter().flatten() {
                    kinds.entry(k.key.clone()).or_insert(k.kind);
                }
            }
            kinds
        })
    });
    let charts = Memo::new(move |_| {
        runs.with(|rs| {
            let mut all = BTreeMap::new();
            for r in rs {
                for c in custom_charts(&r.info.config) {
                    all.entry(c.key.clone()).or_insert(c);
                }
            }
            all.into_values().collect::<Vec<_>>()
        })
    });
    let grouped = Memo::new(move |_| {
        let keys: Vec<String> = kinds.with(|k| k.keys().cloned().collect());
        let mut out: Vec<(String, Vec<PanelOf>)> = sections(&keys, "")
            .into_iter()
            .map(|(name, keys)| {
                let name = if name == DEFAULT_SECTION {
                    MEDIA_SECTION.to_string()
                } else {
                    name
                };
                let panels = kinds.with(|k| {
                    keys.into_iter()
                        .filter_map(|key| {
                            Some(PanelOf::Key {
                                kind: *k.get(&key)?,
                                key,
                            })
                        })
                        .collect()
                });
                (name, panels)
            })
            .collect();
        let charts = charts.get();
        if !charts.is_empty() {
            out.push((
                CHARTS_SECTION.to_string(),
                charts.into_iter().map(PanelOf::Chart).collect(),
            ));
        }
        out
    });
    let global_steps = Signal::derive(move || global.steps());
    let project = StoredValue::new(project);
    let any = Memo::new(move |_| grouped.with(|g| !g.is_empty()));
    move || {
        any.get().then(|| {
            view! {
                <div class="media-sections" data-testid="media-sections">
                    <div class="ws-head">
                        <h2>"Media"</h2>
                        <StepSlider
                            steps=global_steps
                            chosen=global.chosen
                            testid="media-global-slider"
                            label="all panels"
                        />
                    </div>
                    <For
                        each=move || grouped.with(|g| g.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>())
                        key=|n| n.clone()
                        children=move |name| {
                            let name_s = StoredValue::new(name.clone());
                            let panels = Memo::new(move |_| {
                                grouped.with(|g| {
                                    g.iter()
                                        .find(|(n, _)| *n == name_s.get_value())
                                        .map(|(_, p)| p.clone())
                                        .unwrap_or_default()
                                })
                            });
                            view! {
                                <section class="ws-section" data-testid="media-section" data-section=name.clone()>
                                    <Show when=move || grouped.with(|g| g.len() > 1)>
                                        <div class="ws-section-head">{name_s.get_value()}</div>
                                    </Show>
                                    <div class="ws-grid">
                                        <For
                                            each=move || panels.get()
                                            key=|of| format!("{of:?}")
                                            children=move |of| {
                                                let shown = runs_with(runs, keys_by_run, &of);
                                                view! { <MediaPanel project=project.get_value() of runs=shown /> }
                                            }
                                        />
                                    </div>
                                </section>
                            }
                        }
                    />
                </div>
            }
        })
    }
}

/// The runs among `runs` that logged what panel `of` shows (its key, or its chart's spec).
fn runs_with(
    runs: Signal<Vec<RunRef>>,
    keys_by_run: RwSignal<BTreeMap<String, Vec<MediaKeyInfo>>>,
    of: &PanelOf,
) -> Signal<Vec<RunRef>> {
    let of = of.clone();
    Signal::from(Memo::new(move |_| {
        runs.with(|rs| {
            keys_by_run.with(|m| {
                rs.iter()
                    .filter(|r| match &of {
                        PanelOf::Key { key, .. } => m
                            .get(&r.id)
                            .is_some_and(|keys| keys.iter().any(|k| k.key == *key)),
                        PanelOf::Chart(chart) => custom_charts(&r.info.config)
                            .iter()
                            .any(|c| c.key == chart.key),
                    })
                    .cloned()
                    .collect::<Vec<_>>()
            })
        })
    }))
}

/// How long a run's media keys may take to come over the WebSocket before they are fetched.
const MEDIA_KEYS_FALLBACK_AFTER: std::time::Duration = std::time::Duration::from_millis(1500);

/// Keeps `into` holding the media keys of each of `runs`: live from the `run` topic (fetched
/// when it says nothing in a moment); subscriptions end when a run leaves `runs` or the view
/// goes.
fn follow_media_keys(
    project: String,
    runs: Signal<Vec<RunRef>>,
    into: RwSignal<BTreeMap<String, Vec<MediaKeyInfo>>>,
) {
    let subs = StoredValue::new(BTreeMap::<String, run_feed::WatchId>::new());
    Effect::new(move |_| {
        let ids: Vec<String> = runs.with(|r| r.iter().map(|r| r.id.clone()).collect());
        let gone: Vec<(String, run_feed::WatchId)> = subs.with_value(|m| {
            m.iter()
                .filter(|(id, _)| !ids.contains(id))
                .map(|(id, s)| (id.clone(), *s))
                .collect()
        });
        for (id, sub) in gone {
            run_feed::unwatch(sub);
            subs.update_value(|m| {
                m.remove(&id);
            });
        }
        for id in ids {
            if subs.with_value(|m| m.contains_key(&id)) {
                continue;
            }
            let run = id.clone();
            let sub = run_feed::watch(&project, &id, move |msg| {
                if let ServerMsg::MediaKeys { keys, .. } = msg {
                    into.try_update(|m| {
                        m.insert(run.clone(), keys.clone());
                    });
                }
            });
            subs.update_value(|m| {
                m.insert(id.clone(), sub);
            });
            // The topic's first message has the media keys of a run that logged any; they are
            // fetched over HTTP only when none came in a moment (no media, or no WebSocket).
            let project = project.clone();
            set_timeout(
                move || {
                    if into
                        .try_with_untracked(|m| m.contains_key(&id))
                        .unwrap_or(true)
                    {
                        return;
                    }
                    spawn_local(async move {
                        if let Ok(keys) = media_keys(&project, &id).await {
                            // The topic may have answered meanwhile: keep the longer list.
                            into.try_update(|m| {
                                let have = m.entry(id).or_default();
                                if keys.iter().map(|k| k.count).sum::<u64>()
                                    > have.iter().map(|k| k.count).sum::<u64>()
                                {
                                    *have = keys;
                                }
                            });
                        }
                    });
                },
                MEDIA_KEYS_FALLBACK_AFTER,
            );
        }
    });
    on_cleanup(move || {
        if let Some(ids) = subs.try_with_value(|m| m.values().copied().collect::<Vec<_>>()) {
            for id in ids {
                run_feed::unwatch(id);
            }
        }
    });
}
