//! `/projects/:project/artifacts`: the project's artifacts by type, each name with its version
//! count, aliases, latest size and last update; a name unfolds into its versions (aliases,
//! size, producing run as a link to the run page, created time). Below, the best models
//! ([`super::models`]). The list stays live on the `artifacts` WebSocket topic.
//!
//! Test ids: `artifacts-page`, `artifact-type` (with `data-type`), `artifact-row` (with
//! `data-name`), `artifact-expand`, `artifact-version-row` (with `data-version`),
//! `artifacts-empty`.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use trackline_shared::api::RunInfo;
use trackline_shared::artifacts::{ArtifactCollection, ArtifactVersionInfo};
use trackline_shared::ws::{ServerMsg, Topic};

use super::models::BestModels;
use super::tree::{fmt_bytes, plural};
use super::{AliasPill, collections_url, ensure_style, version_path, versions_url};
use crate::api;
use crate::browser::{href, local_datetime};
use crate::components::ErrorBox;
use crate::live::{Live, live, load};
use crate::util;

/// Collections grouped by type (types in name order; within one, the daemon's newest-first order).
pub fn by_type(collections: &[ArtifactCollection]) -> Vec<(String, Vec<ArtifactCollection>)> {
    let mut groups: BTreeMap<String, Vec<ArtifactCollection>> = BTreeMap::new();
    for c in collections {
        groups.entry(c.kind.clone()).or_default().push(c.clone());
    }
    groups.into_iter().collect()
}

#[component]
pub fn ArtifactsPage() -> impl IntoView {
    let params = use_params_map();
    let project = Memo::new(move |_| params.read().get("project").unwrap_or_default());
    move || view! { <ArtifactsView project=project.get() /> }
}

#[component]
fn ArtifactsView(project: String) -> impl IntoView {
    ensure_style();
    crate::browser::set_title(&format!("Artifacts · {project}"));
    let collections = RwSignal::new(None::<Vec<ArtifactCollection>>);
    let error = RwSignal::new(None::<String>);
    let runs = RwSignal::new(HashMap::<String, Arc<RunInfo>>::new());
    // Names unfolded, kept while the list is redrawn by a live update.
    let unfolded = RwSignal::new(HashSet::<String>::new());
    // The topic's list is whole and newer than any snapshot that arrives after it.
    let live_seen = StoredValue::new(false);
    let url = collections_url(&project);
    live(
        async move { api::get_json::<Vec<ArtifactCollection>>(&url).await },
        Topic::Artifacts {
            project: project.clone(),
        },
        move |update| match update {
            Live::Snapshot(Ok(list)) if !live_seen.get_value() => collections.set(Some(list)),
            Live::Snapshot(Ok(_)) => {}
            Live::Snapshot(Err(e)) => error.set(Some(e.to_string())),
            Live::Msg(ServerMsg::Artifacts {
                collections: list, ..
            }) => {
                live_seen.set_value(true);
                collections.set(Some(list));
            }
            Live::Msg(ServerMsg::Error { message, .. }) => {
                error.set(Some(format!("Live updates failed: {message}")));
            }
            Live::Msg(_) => {}
        },
    );
    let p = project.clone();
    load(async move { api::runs(&p).await }, move |res| {
        if let Ok(list) = res {
            runs.set(
                list.into_iter()
                    .map(|r| (r.id.clone(), Arc::new(r)))
                    .collect(),
            );
        }
    });
    let p = StoredValue::new(project.clone());
    let groups = move || {
        let list = collections.get()?;
        if list.is_empty() {
            return Some(
                view! { <div class="empty" data-testid="artifacts-empty">"No artifacts in this project yet."</div> }
                    .into_any(),
            );
        }
        let has_models = list.iter().any(|c| c.kind == "model");
        let types = by_type(&list)
            .into_iter()
            .map(|(kind, items)| {
                let rows = items
                    .into_iter()
                    .map(|c| view! { <CollectionRows project=p.get_value() collection=c runs=runs.into() unfolded /> })
                    .collect_view();
                view! {
                    <div class="panel" data-testid="artifact-type" data-type=kind.clone()>
                        <h2>{kind.clone()}</h2>
                        <table class="grid">
                            <thead>
                                <tr>
                                    <th>"Name"</th><th>"Versions · run"</th><th>"Aliases"</th>
                                    <th class="num">"Size"</th><th>"Updated"</th>
                                </tr>
                            </thead>
                            {rows}
                        </table>
                    </div>
                }
            })
            .collect_view();
        Some(
            view! {
                <div class="af-types">{types}</div>
                {has_models.then(|| view! { <BestModels project=p.get_value() collections=list.clone() runs=runs.into() /> })}
            }
            .into_any(),
        )
    };
    view! {
        <nav class="crumbs-line muted">
            <a href=href("/")>"Projects"</a>
            " / "
            <a href=href(&util::project_path(&project))>{project.clone()}</a>
        </nav>
        <div class="run-head" data-testid="artifacts-page">
            <h1>"Artifacts"</h1>
        </div>
        {move || error.get().map(|e| view! { <ErrorBox message=e /> })}
        {move || {
            (collections.with(Option::is_none) && error.with(Option::is_none))
                .then(|| view! { <div class="loading">"Loading artifacts…"</div> })
        }}
        {groups}
    }
}

/// One artifact name's row, and its versions once unfolded.
#[component]
fn CollectionRows(
    project: String,
    collection: ArtifactCollection,
    runs: Signal<HashMap<String, Arc<RunInfo>>>,
    unfolded: RwSignal<HashSet<String>>,
) -> impl IntoView {
    let key = StoredValue::new(collection.name.clone());
    let open = Memo::new(move |_| unfolded.with(|u| key.with_value(|k| u.contains(k))));
    let versions = RwSignal::new(None::<Result<Vec<ArtifactVersionInfo>, String>>);
    let url = StoredValue::new(versions_url(&project, &collection.name));
    let fetch = move || {
        let url = url.get_value();
        load(
            async move { api::get_json::<Vec<ArtifactVersionInfo>>(&url).await },
            move |res| versions.set(Some(res.map_err(|e| e.to_string()))),
        );
    };
    if open.get_untracked() {
        fetch();
    }
    let toggle = move |_| {
        let now = !open.get_untracked();
        unfolded.update(|u| {
            let name = key.get_value();
            if now {
                u.insert(name);
            } else {
                u.remove(&name);
            }
        });
        if now && versions.with_untracked(Option::is_none) {
            fetch();
        }
    };
    let name = collection.name.clone();
    let latest = href(&version_path(
        &project,
        &name,
        &format!("v{}", collection.latest),
    ));
    let aliases = collection
        .aliases
        .iter()
        .map(|a| {
            let text = if a.alias == trackline_shared::artifacts::LATEST {
                a.alias.clone()
            } else {
                format!("{}→v{}", a.alias, a.version)
            };
            view! { <AliasPill alias=text /> }
        })
        .collect_view();
    let p = StoredValue::new(project);
    let version_rows = move || {
        if !open.get() {
            return None;
        }
        let view = match versions.get() {
            None => view! { <tr><td colspan="5" class="loading">"Loading versions…"</td></tr> }.into_any(),
            Some(Err(e)) => view! { <tr><td colspan="5" class="error">{e}</td></tr> }.into_any(),
            Some(Ok(list)) => list
                .into_iter()
                .map(|v| {
                    let project = p.get_value();
                    let link = href(&version_path(&project, &v.name, &format!("v{}", v.version)));
                    let run = v.run.clone().map(|run| {
                        let label = runs.with(|r| r.get(&run).map_or_else(|| run.clone(), |i| i.name.clone()));
                        view! {
                            <a href=href(&util::run_path(&project, &run)) data-testid="version-run-link">{label}</a>
                        }
                    });
                    view! {
                        <tr class="af-versions" data-testid="artifact-version-row" data-version=v.version.to_string()>
                            <td><a href=link>{format!("v{}", v.version)}</a></td>
                            <td>{run}</td>
                            <td>{v.aliases.iter().map(|a| view! { <AliasPill alias=a.clone() /> }).collect_view()}</td>
                            <td class="num">{fmt_bytes(v.size)}</td>
                            <td>{local_datetime(v.created_at)}</td>
                        </tr>
                    }
                })
                .collect_view()
                .into_any(),
        };
        Some(view)
    };
    view! {
        <tbody>
            <tr data-testid="artifact-row" data-name=name.clone()>
                <td>
                    <button class="btn small" data-testid="artifact-expand" on:click=toggle>
                        {move || if open.get() { "▾" } else { "▸" }}
                    </button>
                    " "
                    <a href=latest data-testid="artifact-link">{name.clone()}</a>
                </td>
                <td>{plural(collection.version_count, "version")}</td>
                <td>{aliases}</td>
                <td class="num">{fmt_bytes(collection.size)}</td>
                <td>{local_datetime(collection.updated_at)}</td>
            </tr>
            {version_rows}
        </tbody>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collection(name: &str, kind: &str) -> ArtifactCollection {
        ArtifactCollection {
            name: name.into(),
            kind: kind.into(),
            version_count: 1,
            latest: 0,
            aliases: Vec::new(),
            size: 0,
            updated_at: 0.0,
        }
    }

    #[test]
    fn grouped_by_type_keeping_order() {
        let groups = by_type(&[
            collection("m2", "model"),
            collection("d", "dataset"),
            collection("m1", "model"),
        ]);
        let names: Vec<(String, Vec<String>)> = groups
            .into_iter()
            .map(|(k, v)| (k, v.into_iter().map(|c| c.name).collect()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("dataset".to_string(), vec!["d".to_string()]),
                (
                    "model".to_string(),
                    vec!["m2".to_string(), "m1".to_string()]
                ),
            ]
        );
    }
}
