//! The diff of this version with another one the user picks (the previous version at first):
//! files added, removed and changed with their sizes, and the metadata keys whose values
//! differ, from [`trackline_shared::artifacts::diff_versions`] (the older version is the base).

use leptos::prelude::*;
use trackline_shared::artifacts::{
    ArtifactVersion, ArtifactVersionInfo, FileChange, diff_versions,
};

use super::tree::{fmt_size, plural};
use super::version_url;
use crate::api;
use crate::live::load;

/// The version to compare `this` with at first: the newest older one, else the oldest newer one.
pub fn default_other(this: u64, versions: &[ArtifactVersionInfo]) -> Option<u64> {
    let older = versions
        .iter()
        .map(|v| v.version)
        .filter(|&v| v < this)
        .max();
    older.or_else(|| {
        versions
            .iter()
            .map(|v| v.version)
            .filter(|&v| v > this)
            .min()
    })
}

fn change_name(c: FileChange) -> &'static str {
    match c {
        FileChange::Added => "added",
        FileChange::Removed => "removed",
        FileChange::Changed => "changed",
        FileChange::Same => "same",
    }
}

#[component]
pub fn VersionDiff(
    project: String,
    name: String,
    this: ArtifactVersion,
    versions: Vec<ArtifactVersionInfo>,
) -> impl IntoView {
    let this_number = this.info.version;
    let chosen = RwSignal::new(default_other(this_number, &versions));
    let other = RwSignal::new(None::<Result<ArtifactVersion, String>>);
    let this = StoredValue::new(this);
    let names = StoredValue::new((project, name));
    Effect::new(move |_| {
        let Some(v) = chosen.get() else {
            other.set(None);
            return;
        };
        other.set(None);
        let (project, name) = names.get_value();
        let url = version_url(&project, &name, &format!("v{v}"));
        load(
            async move { api::get_json::<ArtifactVersion>(&url).await },
            move |res| {
                // A late answer for a version no longer chosen is dropped.
                if chosen.get_untracked() == Some(v) {
                    other.set(Some(res.map_err(|e| e.to_string())));
                }
            },
        );
    });
    let options = versions
        .iter()
        .filter(|v| v.version != this_number)
        .map(|v| {
            let value = v.version.to_string();
            let label = format!("v{}", v.version);
            view! { <option value=value.clone() selected=move || chosen.get() == value.parse().ok()>{label}</option> }
        })
        .collect_view();
    let on_pick = move |ev: leptos::ev::Event| {
        chosen.set(event_target_value(&ev).parse().ok());
    };
    let result = move || match other.get() {
        None if chosen.get().is_none() => {
            view! { <p class="faint">"This is the only version."</p> }.into_any()
        }
        None => view! { <div class="loading">"Loading…"</div> }.into_any(),
        Some(Err(e)) => view! { <p class="error">{e}</p> }.into_any(),
        Some(Ok(other)) => this.with_value(|this| diff_view(this, &other)),
    };
    view! {
        <div class="af-diff" data-testid="artifact-diff">
            <label>
                "Compare with "
                <select data-testid="diff-pick" on:change=on_pick>{options}</select>
            </label>
            {result}
        </div>
    }
}

fn diff_view(this: &ArtifactVersion, other: &ArtifactVersion) -> AnyView {
    let (old, new) = if other.info.version < this.info.version {
        (other, this)
    } else {
        (this, other)
    };
    let (files, metadata) = diff_versions(old, new);
    let same = files
        .iter()
        .filter(|f| f.change == FileChange::Same)
        .count();
    let changes: Vec<_> = files
        .into_iter()
        .filter(|f| f.change != FileChange::Same)
        .collect();
    let heading = format!(
        "From v{} to v{}: {} differ, {} the same",
        old.info.version,
        new.info.version,
        plural(changes.len() as u64, "file"),
        same
    );
    let file_rows = changes
        .into_iter()
        .map(|f| {
            let change = change_name(f.change);
            let path = f.path.clone();
            view! {
                <tr class=change data-testid="diff-file" data-path=path data-change=change>
                    <td>{change}</td>
                    <td>{f.path}</td>
                    <td class="num">{f.old_size.map(|s| fmt_size(Some(s))).unwrap_or_default()}</td>
                    <td class="num">{f.new_size.map(|s| fmt_size(Some(s))).unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    let show = |v: &Option<serde_json::Value>| {
        v.as_ref()
            .map(|v| v.to_string())
            .unwrap_or_else(|| "–".into())
    };
    let meta_rows = metadata
        .iter()
        .map(|m| {
            view! {
                <tr data-testid="diff-meta" data-key=m.key.clone()>
                    <td>{m.key.clone()}</td>
                    <td>{show(&m.old)}</td>
                    <td>{show(&m.new)}</td>
                </tr>
            }
        })
        .collect_view();
    let old_label = format!("v{}", old.info.version);
    let new_label = format!("v{}", new.info.version);
    view! {
        <p class="muted" data-testid="diff-heading">{heading}</p>
        <table class="grid">
            <thead><tr><th>"Change"</th><th>"Path"</th><th class="num">{old_label.clone()}</th><th class="num">{new_label.clone()}</th></tr></thead>
            <tbody>{file_rows}</tbody>
        </table>
        {(!metadata.is_empty()).then(|| view! {
            <h3>"Metadata"</h3>
            <table class="grid">
                <thead><tr><th>"Key"</th><th>{old_label}</th><th>{new_label}</th></tr></thead>
                <tbody>{meta_rows}</tbody>
            </table>
        })}
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(version: u64) -> ArtifactVersionInfo {
        ArtifactVersionInfo {
            name: "m".into(),
            version,
            kind: "model".into(),
            ..ArtifactVersionInfo::default()
        }
    }

    #[test]
    fn compares_with_the_previous_version_first() {
        let versions = vec![info(4), info(2), info(1)];
        assert_eq!(default_other(4, &versions), Some(2));
        assert_eq!(default_other(2, &versions), Some(1));
        assert_eq!(default_other(1, &versions), Some(2));
        assert_eq!(default_other(1, &[info(1)]), None);
    }
}
