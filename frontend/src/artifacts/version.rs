//! `/projects/:project/artifacts/:name/:version`: one artifact version (`v<N>` or an alias):
//! its aliases, digest, size, creation, producing run and step, goal metrics, description, TTL
//! and where it was linked from; the owner's actions; its metadata as a JSON tree; its files as
//! a tree with a preview of the chosen one and downloads (one file, or the version as a zip);
//! its lineage graph; and the diff with another version. The page follows the `artifacts` topic
//! (an alias moved elsewhere shows at once).
//!
//! Test ids: `version-title`, `version-facts`, `version-digest`, `version-run`, `file-tree`,
//! `artifact-file` (with `data-path`), `artifact-folder`, `version-zip`, `version-metadata`.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};
use serde_json::Value;
use trackline_shared::artifacts::{ArtifactVersion, ArtifactVersionInfo};
use trackline_shared::ws::{ServerMsg, Topic};

use super::actions::{AliasList, OwnerActions};
use super::diff::VersionDiff;
use super::json_tree::JsonTree;
use super::lineage::LineageGraph;
use super::preview::FilePreview;
use super::tree::{fmt_bytes, fmt_size, plural, tree_rows};
use super::{artifacts_path, ensure_style, version_path, version_url, versions_url, zip_url};
use crate::api;
use crate::browser::{href, local_datetime};
use crate::components::ErrorBox;
use crate::live::load;
use crate::util;

#[component]
pub fn VersionPage() -> impl IntoView {
    let params = use_params_map();
    let ids = Memo::new(move |_| {
        params.with(|p| {
            (
                p.get("project").unwrap_or_default(),
                p.get("name").unwrap_or_default(),
                p.get("version").unwrap_or_default(),
            )
        })
    });
    move || {
        let (project, name, reference) = ids.get();
        view! { <VersionView project name reference /> }
    }
}

/// `3600` → `1h 00m`.
fn ttl_text(ttl: Option<f64>, created: f64) -> String {
    match ttl {
        None => "none (kept until deleted)".into(),
        Some(secs) => format!(
            "{} (deleted by gc after {})",
            util::duration(secs),
            local_datetime(created + secs)
        ),
    }
}

#[component]
fn VersionView(project: String, name: String, reference: String) -> impl IntoView {
    ensure_style();
    crate::browser::set_title(&format!("{name}:{reference} · {project}"));
    let version = RwSignal::new(None::<ArtifactVersion>);
    let versions = RwSignal::new(Vec::<ArtifactVersionInfo>::new());
    let error = RwSignal::new(None::<String>);
    let reload = RwSignal::new(0u64);
    let ids = StoredValue::new((project.clone(), name.clone(), reference.clone()));
    Effect::new(move |_| {
        reload.track();
        let (project, name, reference) = ids.get_value();
        let one = version_url(&project, &name, &reference);
        let all = versions_url(&project, &name);
        load(
            async move {
                let v = api::get_json::<ArtifactVersion>(&one).await;
                let list = api::get_json::<Vec<ArtifactVersionInfo>>(&all).await;
                (v, list)
            },
            move |(v, list)| {
                // Only a change redraws the page (a reload keeps the chosen file otherwise).
                match v {
                    Ok(v) => {
                        error.set(None);
                        if version.with_untracked(|old| old.as_ref() != Some(&v)) {
                            version.set(Some(v));
                        }
                    }
                    Err(e) => error.set(Some(e.to_string())),
                }
                if let Ok(list) = list
                    && versions.with_untracked(|old| *old != list)
                {
                    versions.set(list);
                }
            },
        );
    });
    // Aliases moved or versions added elsewhere show up: any change of the project's artifacts
    // fetches this version again.
    crate::ws::use_subscription(
        Topic::Artifacts {
            project: project.clone(),
        },
        move |msg| {
            if matches!(msg, ServerMsg::Artifacts { .. }) {
                reload.update(|n| *n += 1);
            }
        },
    );
    let on_change = Callback::new(move |()| reload.update(|n| *n += 1));
    let navigate = use_navigate();
    let list_page = href(&artifacts_path(&project));
    let on_deleted = Callback::new(move |()| navigate(&list_page, Default::default()));

    let p = project.clone();
    let n = name.clone();
    let body = move || {
        let Some(v) = version.get() else {
            return if error.with(Option::is_some) {
                ().into_any()
            } else {
                view! { <div class="loading">"Loading…"</div> }.into_any()
            };
        };
        view! {
            <VersionBody
                project=p.clone()
                name=n.clone()
                version=v
                versions=versions.get()
                on_change
                on_deleted
            />
        }
        .into_any()
    };
    view! {
        <nav class="crumbs-line muted">
            <a href=href("/")>"Projects"</a>
            " / "
            <a href=href(&util::project_path(&project))>{project.clone()}</a>
            " / "
            <a href=href(&artifacts_path(&project)) data-testid="artifacts-crumb">"Artifacts"</a>
        </nav>
        {move || error.get().map(|e| view! { <ErrorBox message=e /> })}
        {body}
    }
}

#[component]
fn VersionBody(
    project: String,
    name: String,
    version: ArtifactVersion,
    versions: Vec<ArtifactVersionInfo>,
    on_change: Callback<()>,
    on_deleted: Callback<()>,
) -> impl IntoView {
    let info = version.info.clone();
    let number = info.version;
    let title = format!("{}:v{}", info.name, number);
    let producer = info.run.clone().map(|run| {
        let link = href(&util::run_path(&project, &run));
        let step = info
            .step
            .map(|s| format!(" at step {s}"))
            .unwrap_or_default();
        view! { <a href=link data-testid="version-run">{run}</a>{step} }
    });
    let metrics = info
        .metrics
        .iter()
        .map(|(key, m)| {
            let value = m.value.map_or_else(|| "–".to_string(), |v| format!("{v}"));
            format!("{key} = {value} ({})", m.goal)
        })
        .collect::<Vec<_>>()
        .join(", ");
    let linked = version.linked_from.clone().map(|l| {
        let link = href(&version_path(
            &l.project,
            &l.name,
            &format!("v{}", l.version),
        ));
        let label = format!("{}/{}:v{}", l.project, l.name, l.version);
        view! { <a href=link data-testid="version-linked-from">{label}</a> }
    });
    let description = info.description.clone().filter(|d| !d.trim().is_empty());
    let metadata = Value::Object(version.metadata.clone());
    let has_metadata = !version.metadata.is_empty();

    view! {
        <div class="run-head">
            <h1 data-testid="version-title">{title}</h1>
            <span class="tag">{info.kind.clone()}</span>
            <AliasList project=project.clone() info=info.clone() on_change />
            <span class="spacer"></span>
            <a class="btn" href=zip_url(&project, &name, number) data-testid="version-zip">
                "Download all (zip)"
            </a>
        </div>
        <OwnerActions project=project.clone() info=info.clone() on_change on_deleted />
        <div class="panel">
            <div class="panel-body">
                <dl class="af-facts" data-testid="version-facts">
                    <dt>"Digest"</dt><dd><code data-testid="version-digest">{info.digest.clone()}</code></dd>
                    <dt>"Size"</dt><dd>{format!("{} in {}", fmt_bytes(info.size), plural(info.file_count, "file"))}</dd>
                    <dt>"Created"</dt><dd>{local_datetime(info.created_at)}</dd>
                    <dt>"Logged by"</dt><dd>{producer.map(IntoAny::into_any).unwrap_or_else(|| "no run".into_any())}</dd>
                    {(!metrics.is_empty()).then(|| view! { <dt>"Goal metrics"</dt><dd data-testid="version-metrics">{metrics}</dd> })}
                    <dt>"TTL"</dt><dd>{ttl_text(version.ttl_secs, info.created_at)}</dd>
                    {linked.map(|l| view! { <dt>"Linked from"</dt><dd>{l}</dd> })}
                    {description.map(|d| view! { <dt>"Description"</dt><dd data-testid="version-description">{d}</dd> })}
                </dl>
            </div>
        </div>
        {has_metadata.then(|| view! {
            <div class="panel">
                <h2>"Metadata"</h2>
                <div class="panel-body"><JsonTree value=metadata testid="version-metadata" /></div>
            </div>
        })}
        <FilesPanel project=project.clone() name=name.clone() version=version.clone() />
        <div class="panel">
            <h2>"Lineage"</h2>
            <div class="panel-body"><LineageGraph project=project.clone() version=version.clone() /></div>
        </div>
        <div class="panel">
            <h2>"Compare"</h2>
            <div class="panel-body">
                <VersionDiff project=project.clone() name=name.clone() this=version versions />
            </div>
        </div>
    }
}

/// The file tree (folders with summed sizes) and the preview of the chosen file.
#[component]
fn FilesPanel(project: String, name: String, version: ArtifactVersion) -> impl IntoView {
    let rows = tree_rows(&version.files);
    let first = rows.iter().find_map(|r| r.file);
    let chosen = RwSignal::new(first);
    let files = StoredValue::new(version.files.clone());
    let number = version.info.version;
    let lines = rows
        .into_iter()
        .map(|r| {
            let indent = format!("padding-left: {}px", 6 + r.depth * 16);
            match r.file {
                None => view! {
                    <div class="af-tree-row folder" style=indent data-testid="artifact-folder" data-path=r.path.clone()>
                        <span class="af-tree-name">{format!("{}/", r.name)}</span>
                        <span class="muted">{plural(r.count as u64, "file")}</span>
                        <span class="muted num">{fmt_size(r.size)}</span>
                    </div>
                }
                .into_any(),
                Some(i) => view! {
                    <div
                        class=move || if chosen.get() == Some(i) { "af-tree-row selected" } else { "af-tree-row" }
                        style=indent
                        data-testid="artifact-file"
                        data-path=r.path.clone()
                        tabindex="0"
                        role="button"
                        on:click=move |_| chosen.set(Some(i))
                        on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                            if ev.key() == "Enter" || ev.key() == " " {
                                ev.prevent_default();
                                chosen.set(Some(i));
                            }
                        }
                    >
                        <span class="af-tree-name">{r.name.clone()}</span>
                        <span class="muted num" data-testid="file-size">{fmt_size(r.size)}</span>
                    </div>
                }
                .into_any(),
            }
        })
        .collect_view();
    let preview = move || {
        let file = chosen
            .get()
            .and_then(|i| files.with_value(|f| f.get(i).cloned()))?;
        Some(
            view! { <FilePreview project=project.clone() name=name.clone() version=number file /> },
        )
    };
    view! {
        <div class="panel">
            <h2>{format!("Files ({})", version.files.len())}</h2>
            <div class="panel-body af-cols">
                <div class="af-tree" data-testid="file-tree">{lines}</div>
                <div>{preview}</div>
            </div>
        </div>
    }
}
