//! An owner's edits of an artifact (docs/format.md, "Artifacts"): moving or removing an alias (one
//! line appended to `aliases.jsonl` with one `write` through `O_APPEND`, then `fsync`, so lines of
//! several writers never interleave) and deleting a version (renamed to its tombstone
//! `v<N>.deleted.json`; its blobs go at the next `trackline gc`).

use super::files::{
    ALIASES_FILE, ARTIFACTS_DIR, AliasLine, tombstone_file_name, version_file_name,
};
use super::store::ArtifactStore;
use crate::error::{Error, Result};
use std::io::Write;
use trackline_shared::artifacts::{check_alias, check_name};

/// Why an edit was refused before anything was written.
fn bad_name(name: &str) -> Result<()> {
    check_name(name).map_err(|e| Error::BadRequest(e.to_string()))
}

fn unknown(project: &str, name: &str) -> Error {
    Error::NotFound(format!("no artifact '{name}' in project '{project}'"))
}

/// Points `alias` of `project`/`name` at live version `version`, or removes it (`None`).
pub fn set_alias(
    store: &ArtifactStore,
    project: &str,
    name: &str,
    alias: &str,
    version: Option<u64>,
) -> Result<()> {
    bad_name(name)?;
    check_alias(alias).map_err(|e| Error::BadRequest(e.to_string()))?;
    let artifact = store
        .artifact(project, name)?
        .ok_or_else(|| unknown(project, name))?;
    if let Some(n) = version
        && !artifact.versions.contains_key(&n)
    {
        return Err(Error::NotFound(format!(
            "artifact '{name}' has no version v{n}"
        )));
    }
    append_alias_lines(
        store,
        project,
        name,
        &[AliasLine {
            alias: alias.to_string(),
            version,
            at: crate::util::now_secs(),
        }],
    )
}

/// Appends `lines` to the alias log of `project`/`name`, each with one `write`, then `fsync`s it.
fn append_alias_lines(
    store: &ArtifactStore,
    project: &str,
    name: &str,
    lines: &[AliasLine],
) -> Result<()> {
    let rel = format!("{project}/{ARTIFACTS_DIR}/{name}/{ALIASES_FILE}");
    let root = store.root()?;
    let mut file = root.open_append(&rel, false)?;
    let path = root.path().join(&rel);
    for line in lines {
        let mut bytes = serde_json::to_vec(line)
            .map_err(|e| Error::Internal(format!("encoding an alias line: {e}")))?;
        bytes.push(b'\n');
        let written = file.write(&bytes).map_err(|e| Error::io(&path, e))?;
        if written != bytes.len() {
            return Err(Error::Internal(format!(
                "{}: wrote {written} of an alias line's {} bytes",
                ALIASES_FILE,
                bytes.len()
            )));
        }
    }
    file.sync_all().map_err(|e| Error::io(&path, e))?;
    Ok(())
}

/// Deletes live version `n` of `project`/`name`: refused with `409 artifact_in_use` while a user
/// alias names it, unless `force` (then those aliases are removed after it).
pub fn delete_version(
    store: &ArtifactStore,
    project: &str,
    name: &str,
    n: u64,
    force: bool,
) -> Result<()> {
    bad_name(name)?;
    let artifact = store
        .artifact(project, name)?
        .ok_or_else(|| unknown(project, name))?;
    if !artifact.versions.contains_key(&n) {
        return Err(Error::NotFound(format!(
            "artifact '{name}' has no version v{n}"
        )));
    }
    let aliases: Vec<String> = artifact
        .user_aliases
        .iter()
        .filter(|(_, v)| **v == n)
        .map(|(alias, _)| alias.clone())
        .collect();
    if !aliases.is_empty() && !force {
        let mut extra = serde_json::Map::new();
        extra.insert("aliases".into(), serde_json::json!(aliases));
        return Err(Error::Conflict {
            code: "artifact_in_use",
            message: format!(
                "v{n} of '{name}' is named by {}: move them first, or delete with force",
                aliases.join(", ")
            ),
            extra,
        });
    }
    let dir = store
        .root()?
        .open_dir(&format!("{project}/{ARTIFACTS_DIR}/{name}"))?
        .ok_or_else(|| unknown(project, name))?;
    dir.rename(&version_file_name(n), &tombstone_file_name(n))?;
    dir.open_to_sync()?
        .sync_all()
        .map_err(|e| Error::io(dir.path(), e))?;
    let at = crate::util::now_secs();
    let removals: Vec<AliasLine> = aliases
        .into_iter()
        .map(|alias| AliasLine {
            alias,
            version: None,
            at,
        })
        .collect();
    if !removals.is_empty() {
        append_alias_lines(store, project, name, &removals)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifacts::store::tests_support::version;

    fn fixture() -> (tempfile::TempDir, ArtifactStore) {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("p/.artifacts/m");
        std::fs::create_dir_all(&dir).unwrap();
        for n in 0..3 {
            std::fs::write(
                dir.join(format!("v{n}.json")),
                serde_json::to_vec(&version("m", n, "model", None)).unwrap(),
            )
            .unwrap();
        }
        let store = ArtifactStore::new(root.path().to_owned());
        (root, store)
    }

    #[test]
    fn aliases_move_and_go_by_appended_lines() {
        let (root, store) = fixture();
        set_alias(&store, "p", "m", "prod", Some(1)).unwrap();
        assert_eq!(
            store.artifact("p", "m").unwrap().unwrap().resolve("prod"),
            Some(1)
        );
        set_alias(&store, "p", "m", "prod", Some(2)).unwrap();
        assert_eq!(
            store.artifact("p", "m").unwrap().unwrap().resolve("prod"),
            Some(2)
        );
        set_alias(&store, "p", "m", "prod", None).unwrap();
        assert_eq!(
            store.artifact("p", "m").unwrap().unwrap().resolve("prod"),
            None
        );
        let log =
            std::fs::read_to_string(root.path().join("p/.artifacts/m/aliases.jsonl")).unwrap();
        assert_eq!(log.lines().count(), 3);
        assert!(matches!(
            set_alias(&store, "p", "m", "latest", Some(1)),
            Err(Error::BadRequest(_))
        ));
        assert!(matches!(
            set_alias(&store, "p", "m", "v1", Some(1)),
            Err(Error::BadRequest(_))
        ));
        assert!(matches!(
            set_alias(&store, "p", "m", "prod", Some(9)),
            Err(Error::NotFound(_))
        ));
        assert!(matches!(
            set_alias(&store, "p", "x", "prod", Some(1)),
            Err(Error::NotFound(_))
        ));
        assert!(matches!(
            set_alias(&store, "p", "../m", "prod", Some(1)),
            Err(Error::BadRequest(_))
        ));
    }

    #[test]
    fn a_version_named_by_an_alias_is_deleted_only_with_force() {
        let (root, store) = fixture();
        set_alias(&store, "p", "m", "prod", Some(1)).unwrap();
        let refused = delete_version(&store, "p", "m", 1, false);
        assert!(
            matches!(
                refused,
                Err(Error::Conflict {
                    code: "artifact_in_use",
                    ..
                })
            ),
            "{refused:?}"
        );
        delete_version(&store, "p", "m", 2, false).unwrap();
        delete_version(&store, "p", "m", 1, true).unwrap();
        let a = store.artifact("p", "m").unwrap().unwrap();
        assert_eq!(a.versions.keys().copied().collect::<Vec<_>>(), [0]);
        assert_eq!(a.resolve("prod"), None);
        assert!(root.path().join("p/.artifacts/m/v1.deleted.json").is_file());
        assert!(matches!(
            delete_version(&store, "p", "m", 1, true),
            Err(Error::NotFound(_))
        ));
    }
}
