//! The artifact versions a W&B run logged, into the artifact store (docs/format.md,
//! "Artifacts"): each file's bytes from the copy W&B staged on this machine (`local_path`) into the
//! blob store, references kept as references, and the version committed with its aliases, so
//! equal content becomes one version however often it is imported. W&B's hidden per-table
//! artifacts (`run_table`, `wandb-*`) are left out: their tables are already in the run's media.

use super::wandb_records::ArtifactRecord;
use crate::artifacts::commit::{CommitRequest, ManifestChanges, commit};
use crate::artifacts::files::{LineageLine, ManifestEntry};
use crate::blobs::BlobStore;
use crate::blobs::local::LocalBlobs;
use crate::format::beneath::Dir;
use std::collections::BTreeMap;
use std::path::Path;
use trackline_shared::artifacts::{LATEST, LinkDirection, check_alias};

/// Where imported artifacts go: the data directory's store.
pub struct ArtifactSink {
    root: Dir,
    blobs: LocalBlobs,
}

/// An artifact version the run logged, with the run's step when it did.
pub struct Logged {
    pub record: ArtifactRecord,
    pub step: Option<u64>,
    pub at: f64,
}

impl ArtifactSink {
    pub fn open(data_dir: &Path) -> anyhow::Result<ArtifactSink> {
        Ok(ArtifactSink {
            root: Dir::open_root(data_dir)?,
            blobs: LocalBlobs::in_data_dir(data_dir),
        })
    }

    /// Commits one logged version for run `run_id` of `project`; answers the run's lineage line,
    /// `Ok(None)` for a version left out on purpose, or why it could not be imported.
    pub fn import(
        &self,
        logged: &Logged,
        project: &str,
        run_id: &str,
    ) -> Result<Option<LineageLine>, String> {
        let record = &logged.record;
        if record.kind == "run_table" || record.kind.starts_with("wandb-") {
            return Ok(None);
        }
        if !record.manifest_file_path.is_empty() && record.entries.is_empty() {
            return Err(format!(
                "artifact '{}': its manifest is in a separate file W&B did not keep",
                record.name
            ));
        }
        let mut contents = BTreeMap::new();
        for entry in &record.entries {
            let value = if !entry.reference.is_empty() {
                ManifestEntry {
                    digest: entry.reference.clone(),
                    size: (entry.size > 0).then_some(entry.size),
                    reference: Some(entry.reference.clone()),
                    extra: None,
                }
            } else {
                let staged = Path::new(&entry.local_path);
                if entry.local_path.is_empty() || !staged.is_file() {
                    return Err(format!(
                        "artifact '{}': the copy of '{}' W&B staged is not on this machine",
                        record.name, entry.path
                    ));
                }
                let (hash, size) = self.blobs.put_file(staged).map_err(|e| e.to_string())?;
                ManifestEntry {
                    digest: hash.to_string(),
                    size: Some(size),
                    reference: None,
                    extra: None,
                }
            };
            contents.insert(entry.path.clone(), Some(value));
        }
        let metadata = serde_json::from_str(&record.metadata_json)
            .ok()
            .and_then(|v: serde_json::Value| v.as_object().cloned());
        let aliases = record
            .aliases
            .iter()
            .filter(|a| a.as_str() != LATEST && check_alias(a).is_ok())
            .cloned()
            .collect();
        let request = CommitRequest {
            project: project.to_string(),
            run: Some(run_id.to_string()),
            name: record.name.clone(),
            kind: record.kind.clone(),
            description: (!record.description.is_empty()).then(|| record.description.clone()),
            metadata,
            aliases,
            manifest: ManifestChanges { contents },
            step: logged.step,
            metrics: Vec::new(),
            ttl_secs: None,
            linked_from: None,
            incremental: false,
        };
        let committed =
            commit(&self.root, &self.blobs, request, logged.at).map_err(|e| e.to_string())?;
        Ok(Some(LineageLine {
            direction: LinkDirection::Output,
            project: project.to_string(),
            name: committed.name,
            version: committed.version,
            digest: committed.digest,
            kind: record.kind.clone(),
            step: logged.step,
            at: logged.at,
        }))
    }
}
