//! The project's best models: every version of every `model` artifact in one table, sortable by
//! any goal metric recorded with a version (its `metrics`) or by any numeric summary metric of
//! its producing run (from the runs list), and by creation time. Versions without the value
//! sort last. The ranking is a plain function, host-tested.
//!
//! Test ids: `best-models`, `model-sort`, `model-order`, `model-row` (with `data-name`,
//! `data-version`).

use leptos::prelude::*;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use trackline_shared::api::RunInfo;
use trackline_shared::artifacts::{ArtifactCollection, ArtifactVersionInfo};

use super::tree::fmt_bytes;
use super::{AliasPill, version_path, versions_url};
use crate::api;
use crate::browser::{href, local_datetime};
use crate::live::load;
use crate::util;

/// What the models are sorted by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SortKey {
    Created,
    /// A goal metric recorded with the version.
    Metric(String),
    /// A summary metric of the producing run.
    Summary(String),
}

impl SortKey {
    /// The `<select>` value: `created`, `metric:<key>`, `summary:<key>`.
    pub fn id(&self) -> String {
        match self {
            SortKey::Created => "created".into(),
            SortKey::Metric(k) => format!("metric:{k}"),
            SortKey::Summary(k) => format!("summary:{k}"),
        }
    }

    pub fn from_id(id: &str) -> SortKey {
        if let Some(k) = id.strip_prefix("metric:") {
            SortKey::Metric(k.to_string())
        } else if let Some(k) = id.strip_prefix("summary:") {
            SortKey::Summary(k.to_string())
        } else {
            SortKey::Created
        }
    }

    pub fn label(&self) -> String {
        match self {
            SortKey::Created => "created".into(),
            SortKey::Metric(k) => format!("{k} (at logging)"),
            SortKey::Summary(k) => format!("{k} (run summary)"),
        }
    }
}

/// The value `v` sorts by under `key`.
pub fn model_value(
    v: &ArtifactVersionInfo,
    key: &SortKey,
    runs: &HashMap<String, Arc<RunInfo>>,
) -> Option<f64> {
    let value = match key {
        SortKey::Created => Some(v.created_at),
        SortKey::Metric(k) => v
            .metrics
            .iter()
            .find(|(name, _)| name == k)
            .and_then(|(_, m)| m.value),
        SortKey::Summary(k) => v
            .run
            .as_ref()
            .and_then(|r| runs.get(r))
            .and_then(|r| r.summary.get(k))
            .and_then(util::sort_number),
    };
    value.filter(|x| !x.is_nan())
}

/// Every key the models can be sorted by: creation, the versions' goal metrics (in the order
/// first seen), then the producing runs' numeric summary keys (sorted; `_` keys left out).
pub fn sort_keys(
    versions: &[ArtifactVersionInfo],
    runs: &HashMap<String, Arc<RunInfo>>,
) -> Vec<SortKey> {
    let mut keys = vec![SortKey::Created];
    for v in versions {
        for (name, _) in &v.metrics {
            let key = SortKey::Metric(name.clone());
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    let summary: BTreeSet<&String> = versions
        .iter()
        .filter_map(|v| runs.get(v.run.as_ref()?))
        .flat_map(|r| r.summary.iter())
        .filter(|(k, v)| !k.starts_with('_') && util::sort_number(v).is_some())
        .map(|(k, _)| k)
        .collect();
    keys.extend(summary.into_iter().map(|k| SortKey::Summary(k.clone())));
    keys
}

/// Whether smaller is better for `key`: a goal of `minimize` (from a version's metrics, or the
/// producing run's `define_metric`); newest first for creation; larger first otherwise.
pub fn smaller_is_better(
    key: &SortKey,
    versions: &[ArtifactVersionInfo],
    runs: &HashMap<String, Arc<RunInfo>>,
) -> bool {
    let goal_of = |goal: &str| goal.starts_with("min");
    match key {
        SortKey::Created => false,
        SortKey::Metric(k) => versions
            .iter()
            .flat_map(|v| v.metrics.iter())
            .find(|(name, _)| name == k)
            .is_some_and(|(_, m)| goal_of(&m.goal)),
        SortKey::Summary(k) => versions
            .iter()
            .filter_map(|v| runs.get(v.run.as_ref()?))
            .find_map(|r| r.metrics.get(k)?.get("goal")?.as_str().map(goal_of))
            .unwrap_or(false),
    }
}

/// Indices of `versions`, best first by `key` (`ascending`: smaller first), those without a
/// value last; ties keep the newer version first.
pub fn rank_models(
    versions: &[ArtifactVersionInfo],
    key: &SortKey,
    ascending: bool,
    runs: &HashMap<String, Arc<RunInfo>>,
) -> Vec<usize> {
    let mut order: Vec<(usize, Option<f64>)> = versions
        .iter()
        .enumerate()
        .map(|(i, v)| (i, model_value(v, key, runs)))
        .collect();
    order.sort_by(|(ia, a), (ib, b)| {
        let by_value = match (a, b) {
            (Some(a), Some(b)) if ascending => a.total_cmp(b),
            (Some(a), Some(b)) => b.total_cmp(a),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        };
        by_value.then_with(|| {
            versions[*ib]
                .created_at
                .total_cmp(&versions[*ia].created_at)
        })
    });
    order.into_iter().map(|(i, _)| i).collect()
}

fn number(x: Option<f64>) -> String {
    x.map(|v| {
        format!("{v:.6}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    })
    .unwrap_or_else(|| "–".into())
}

/// The best-models table of `collections`' model artifacts.
#[component]
pub fn BestModels(
    project: String,
    collections: Vec<ArtifactCollection>,
    runs: Signal<HashMap<String, Arc<RunInfo>>>,
) -> impl IntoView {
    let versions = RwSignal::new(Vec::<ArtifactVersionInfo>::new());
    let error = RwSignal::new(None::<String>);
    let urls: Vec<String> = collections
        .iter()
        .filter(|c| c.kind == "model")
        .map(|c| versions_url(&project, &c.name))
        .collect();
    load(
        async move {
            let mut all = Vec::new();
            for url in urls {
                all.extend(api::get_json::<Vec<ArtifactVersionInfo>>(&url).await?);
            }
            Ok::<_, api::ApiError>(all)
        },
        move |res| match res {
            Ok(all) => versions.set(all),
            Err(e) => error.set(Some(e.to_string())),
        },
    );
    let chosen = RwSignal::new(None::<SortKey>);
    let keys = Memo::new(move |_| runs.with(|r| versions.with(|v| sort_keys(v, r))));
    // The first goal metric, once known, until the user picks.
    let key = Memo::new(move |_| {
        chosen.get().unwrap_or_else(|| {
            keys.with(|k| k.iter().find(|k| matches!(k, SortKey::Metric(_))).cloned())
                .unwrap_or(SortKey::Created)
        })
    });
    let flipped = RwSignal::new(false);
    let ascending = Memo::new(move |_| {
        let k = key.get();
        let best = runs.with(|r| versions.with(|v| smaller_is_better(&k, v, r)));
        best != flipped.get()
    });
    let metric_names = Memo::new(move |_| {
        keys.with(|k| {
            k.iter()
                .filter_map(|k| match k {
                    SortKey::Metric(n) => Some(n.clone()),
                    _ => None,
                })
                .collect::<Vec<_>>()
        })
    });
    let p = StoredValue::new(project);
    let rows = move || {
        let k = key.get();
        let names = metric_names.get();
        runs.with(|r| {
            versions.with(|vs| {
                rank_models(vs, &k, ascending.get(), r)
                    .into_iter()
                    .map(|i| {
                        let v = &vs[i];
                        let project = p.get_value();
                        let link = href(&version_path(&project, &v.name, &format!("v{}", v.version)));
                        let label = format!("{}:v{}", v.name, v.version);
                        let run = v.run.clone().map(|run| {
                            let name = r.get(&run).map_or_else(|| run.clone(), |i| i.name.clone());
                            view! { <a href=href(&util::run_path(&project, &run))>{name}</a> }
                        });
                        let metric_cells = names
                            .iter()
                            .map(|n| {
                                let value = model_value(v, &SortKey::Metric(n.clone()), r);
                                view! { <td class="num">{number(value)}</td> }
                            })
                            .collect_view();
                        let summary_cell = matches!(k, SortKey::Summary(_))
                            .then(|| view! { <td class="num">{number(model_value(v, &k, r))}</td> });
                        view! {
                            <tr data-testid="model-row" data-name=v.name.clone() data-version=v.version.to_string()>
                                <td><a href=link>{label}</a></td>
                                <td>{v.aliases.iter().map(|a| view! { <AliasPill alias=a.clone() /> }).collect_view()}</td>
                                <td>{run}</td>
                                <td class="num">{v.step.map(|s| s.to_string()).unwrap_or_default()}</td>
                                <td class="num">{fmt_bytes(v.size)}</td>
                                <td>{local_datetime(v.created_at)}</td>
                                {metric_cells}
                                {summary_cell}
                            </tr>
                        }
                    })
                    .collect_view()
            })
        })
    };
    let options = move || {
        let current = key.get();
        keys.get()
            .into_iter()
            .map(|k| {
                let selected = k == current;
                view! { <option value=k.id() selected=selected>{k.label()}</option> }
            })
            .collect_view()
    };
    let head = move || {
        let mut cols: Vec<String> = metric_names.get();
        if let SortKey::Summary(k) = key.get() {
            cols.push(format!("{k} (run)"));
        }
        cols.into_iter()
            .map(|c| view! { <th class="num">{c}</th> })
            .collect_view()
    };
    view! {
        <div class="panel" data-testid="best-models">
            <h2>"Best models"</h2>
            <div class="panel-body">
                <div class="rt-toolbar">
                    <label>
                        "Sort by "
                        <select data-testid="model-sort" on:change=move |ev| chosen.set(Some(SortKey::from_id(&event_target_value(&ev))))>
                            {options}
                        </select>
                    </label>
                    <button class="btn small" data-testid="model-order" on:click=move |_| flipped.update(|f| *f = !*f)>
                        {move || if ascending.get() { "smallest first" } else { "largest first" }}
                    </button>
                </div>
                {move || error.get().map(|e| view! { <p class="error">{e}</p> })}
                <table class="grid">
                    <thead>
                        <tr>
                            <th>"Model"</th><th>"Aliases"</th><th>"Run"</th><th class="num">"Step"</th>
                            <th class="num">"Size"</th><th>"Created"</th>
                            {head}
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use trackline_shared::artifacts::VersionMetric;

    fn version(
        version: u64,
        created: f64,
        run: Option<&str>,
        loss: Option<f64>,
    ) -> ArtifactVersionInfo {
        ArtifactVersionInfo {
            name: "model".into(),
            version,
            kind: "model".into(),
            created_at: created,
            run: run.map(String::from),
            metrics: loss
                .map(|l| {
                    vec![(
                        "val/loss".to_string(),
                        VersionMetric {
                            value: Some(l),
                            goal: "minimize".into(),
                        },
                    )]
                })
                .unwrap_or_default(),
            ..ArtifactVersionInfo::default()
        }
    }

    fn runs() -> HashMap<String, Arc<RunInfo>> {
        let mut a = RunInfo {
            id: "a".into(),
            ..Default::default()
        };
        a.summary.insert("acc".into(), json!(0.7));
        a.summary.insert("_step".into(), json!(9));
        a.metrics.insert("acc".into(), json!({"goal": "maximize"}));
        let mut b = RunInfo {
            id: "b".into(),
            ..Default::default()
        };
        b.summary.insert("acc".into(), json!(0.9));
        b.summary.insert("note".into(), json!("text"));
        [
            ("a".to_string(), Arc::new(a)),
            ("b".to_string(), Arc::new(b)),
        ]
        .into_iter()
        .collect()
    }

    #[test]
    fn ranks_by_version_metric_and_run_summary() {
        let runs = runs();
        let versions = vec![
            version(0, 1.0, Some("a"), Some(0.5)),
            version(1, 2.0, Some("b"), Some(0.2)),
            version(2, 3.0, None, None),
            version(3, 4.0, Some("a"), Some(0.2)),
        ];
        assert_eq!(
            sort_keys(&versions, &runs),
            vec![
                SortKey::Created,
                SortKey::Metric("val/loss".into()),
                SortKey::Summary("acc".into())
            ]
        );
        let loss = SortKey::Metric("val/loss".into());
        assert!(smaller_is_better(&loss, &versions, &runs));
        // Ties: the newer first; no value: last.
        assert_eq!(rank_models(&versions, &loss, true, &runs), vec![3, 1, 0, 2]);
        let acc = SortKey::Summary("acc".into());
        assert!(!smaller_is_better(&acc, &versions, &runs));
        assert_eq!(rank_models(&versions, &acc, false, &runs), vec![1, 3, 0, 2]);
        assert_eq!(
            rank_models(&versions, &SortKey::Created, false, &runs),
            vec![3, 2, 1, 0]
        );
        for k in [SortKey::Created, loss, acc] {
            assert_eq!(SortKey::from_id(&k.id()), k);
        }
    }
}
