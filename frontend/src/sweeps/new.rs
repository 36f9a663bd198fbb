//! `/projects/:project/new-sweep?runs=a,b`: a new sweep whose config starts from the selected
//! runs' configs (a key whose values differ becomes `values: [...]` of its distinct values; one
//! they share, `value`), method `random`, and the first numeric summary key as the metric; the
//! config is edited as JSON text, then created, and the page moves to the new sweep.
//!
//! Test ids: `new-sweep-page`, `new-sweep-config` (the text), `new-sweep-create`,
//! `new-sweep-error`.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use serde_json::{Map, Value, json};
use trackline_shared::api::RunInfo;
use trackline_shared::sweeps::{NewSweep, SweepInfo};

use super::{ensure_style, list_url, sweep_path};
use crate::api::{self, ApiError};
use crate::browser::href;
use crate::live::load;

/// The starting config for `runs` (W&B's shape; keys beginning with `_` are left out).
pub fn config_from_runs(runs: &[RunInfo]) -> Value {
    let mut keys: Vec<String> = Vec::new();
    for r in runs {
        for k in r.config.keys() {
            if !k.starts_with('_') && !keys.contains(k) {
                keys.push(k.clone());
            }
        }
    }
    let mut parameters = Map::new();
    for k in keys {
        let mut values: Vec<Value> = Vec::new();
        for r in runs {
            if let Some(v) = r.config.get(&k)
                && !values.contains(v)
            {
                values.push(v.clone());
            }
        }
        let spec = if values.len() == 1 {
            json!({"value": values[0]})
        } else {
            json!({"values": values})
        };
        parameters.insert(k, spec);
    }
    let metric = runs.iter().find_map(|r| {
        r.summary
            .iter()
            .find(|(k, v)| !k.starts_with('_') && v.is_number())
            .map(|(k, _)| k.clone())
    });
    let mut config = json!({"method": "random", "parameters": parameters});
    if let Some(name) = metric {
        config["metric"] = json!({"name": name, "goal": "minimize"});
    }
    config
}

async fn create(project: &str, config: Value) -> Result<SweepInfo, ApiError> {
    let body = NewSweep {
        config: Some(config),
        config_yaml: None,
    };
    api::post_json(&list_url(project), &body).await
}

#[component]
pub fn NewSweepPage() -> impl IntoView {
    ensure_style();
    let params = use_params_map();
    let query = use_query_map();
    let project = params.read_untracked().get("project").unwrap_or_default();
    let wanted: Vec<String> = query
        .read_untracked()
        .get("runs")
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    crate::browser::set_title(&format!("New sweep · {project}"));
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let p = project.clone();
    load(async move { api::runs(&p).await }, move |res| match res {
        Ok(list) => {
            let chosen: Vec<RunInfo> = list
                .into_iter()
                .filter(|r| wanted.contains(&r.id))
                .collect();
            let config = config_from_runs(&chosen);
            text.set(serde_json::to_string_pretty(&config).unwrap_or_default());
        }
        Err(e) => error.set(Some(e.to_string())),
    });
    let navigate = use_navigate();
    let project_s = StoredValue::new(project.clone());
    let on_create = move |_| {
        let config: Value = match serde_json::from_str(&text.get_untracked()) {
            Ok(v) => v,
            Err(e) => {
                error.set(Some(format!("the config is not JSON: {e}")));
                return;
            }
        };
        busy.set(true);
        let project = project_s.get_value();
        let navigate = navigate.clone();
        load(async move { create(&project, config).await }, move |res| {
            busy.set(false);
            match res {
                Ok(info) => navigate(
                    &href(&sweep_path(&project_s.get_value(), &info.id)),
                    Default::default(),
                ),
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    view! {
        <div data-testid="new-sweep-page">
            <h1>"New sweep"</h1>
            <p class="muted">
                "The selected runs' configs as a W&B sweep config: edit it (method, metric, \
                 distributions), then create the sweep and run agents for it."
            </p>
            <textarea data-testid="new-sweep-config" rows="22" style="width: 100%; font: 13px ui-monospace, monospace"
                prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev)) />
            {move || error.get().map(|e| view! { <div class="error" data-testid="new-sweep-error">{e}</div> })}
            <button class="btn primary" data-testid="new-sweep-create" disabled=move || busy.get() on:click=on_create>
                "Create sweep"
            </button>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differing_keys_become_values_and_shared_ones_value() {
        let run = |id: &str, config: Value, summary: Value| RunInfo {
            id: id.into(),
            config: config.as_object().unwrap().clone(),
            summary: summary.as_object().unwrap().clone(),
            ..RunInfo::default()
        };
        let runs = [
            run(
                "a",
                json!({"lr": 0.1, "bs": 32, "_wandb": {}}),
                json!({"_step": 3, "acc": 0.9}),
            ),
            run("b", json!({"lr": 0.01, "bs": 32}), json!({})),
        ];
        let c = config_from_runs(&runs);
        assert_eq!(
            c["parameters"],
            json!({"bs": {"value": 32}, "lr": {"values": [0.1, 0.01]}})
        );
        assert_eq!(c["metric"], json!({"name": "acc", "goal": "minimize"}));
        assert_eq!(c["method"], json!("random"));
    }
}
