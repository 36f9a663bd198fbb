//! `trackline gc`: deletes artifact versions a keep-policy does not keep and the blobs no live
//! version names (docs/format.md, "Artifacts"). Safe while a daemon runs: a version is deleted by
//! renaming it to its tombstone (never rewritten), and a blob or temp file is removed only when it
//! has not changed for an hour, since a writer may be between storing a version's blobs and
//! linking the version.

use super::commit::{list_names, read_aliases, read_folder};
use super::files::{ARTIFACTS_DIR, VersionFile, tombstone_file_name, version_file_name};
use crate::blobs::local::{LocalBlobs, ScannedFile, TEMP_PREFIX};
use crate::blobs::{BlobHash, BlobStore};
use crate::format::beneath::Dir;
use crate::format::{FormatError, is_hidden};
use anyhow::Context;
use std::collections::{BTreeSet, HashSet};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// How long a blob or temp file must have been left alone before gc may remove it.
pub const GRACE: Duration = Duration::from_secs(3600);

/// Which versions to keep. With none of `keep_last`, `keep_top` and `older_than` set, no version
/// is deleted but those past their `ttl_secs`.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Keep this many newest live versions of each name (at least the latest is always kept).
    pub keep_last: Option<usize>,
    /// Keep the `k` versions with the best value of this metric (by its goal).
    pub keep_top: Option<(usize, String)>,
    /// Keep versions younger than this.
    pub older_than: Option<Duration>,
    /// Say what would go, delete nothing.
    pub dry_run: bool,
    /// How long a blob or temp file must have been left alone to go ([`GRACE`] unless a test
    /// says otherwise).
    pub grace: Duration,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            keep_last: None,
            keep_top: None,
            older_than: None,
            dry_run: false,
            grace: GRACE,
        }
    }
}

impl Policy {
    fn deletes_by_age_or_rank(&self) -> bool {
        self.keep_last.is_some() || self.keep_top.is_some() || self.older_than.is_some()
    }
}

/// What a gc did (or, dry, would do).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// `project/name:vN` of each version deleted.
    pub versions: Vec<String>,
    pub blobs: u64,
    pub blob_bytes: u64,
    pub temps: u64,
    pub temp_bytes: u64,
}

/// Runs gc over the data directory `data_dir` at `now`, writing one line per deleted version
/// to `out` and its progress to `progress` (a bar when `terminal`, else plain lines).
pub fn run(
    data_dir: &Path,
    policy: &Policy,
    now: SystemTime,
    out: &mut dyn Write,
    progress: &mut dyn Write,
    terminal: bool,
) -> anyhow::Result<Report> {
    let root = Dir::open_root(data_dir)
        .with_context(|| format!("cannot open the data directory {}", data_dir.display()))?;
    let blobs = LocalBlobs::in_data_dir(data_dir);
    // Listed before the versions are read: a blob stored after this is not looked at.
    let scanned = blobs.scan()?;
    let mut report = Report::default();
    let mut named: HashSet<BlobHash> = HashSet::new();
    let now_secs = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    for project in list_names(&root)? {
        if is_hidden(&project) {
            continue;
        }
        let Some(artifacts) = root.open_dir(&format!("{project}/{ARTIFACTS_DIR}"))? else {
            continue;
        };
        for name in list_names(&artifacts)? {
            let Ok(Some(dir)) = artifacts.open_dir(&name) else {
                continue;
            };
            let folder = read_folder(&dir)?;
            let (aliases, best_named) = read_aliases(&dir, &folder.live)?;
            let mut keep: BTreeSet<u64> = aliases.values().copied().collect();
            if !best_named && let Some(best) = automatic_best(&folder.live) {
                keep.insert(best);
            }
            let doomed = doomed(&folder.live, &keep, policy, now_secs);
            for version in &folder.live {
                if doomed.contains(&version.version) {
                    let label = format!("{project}/{name}:v{}", version.version);
                    if !policy.dry_run {
                        tombstone(&dir, version.version)?;
                    }
                    let _ = writeln!(
                        out,
                        "{} {label}",
                        if policy.dry_run {
                            "would delete"
                        } else {
                            "deleted"
                        }
                    );
                    report.versions.push(label);
                } else {
                    named.extend(
                        version
                            .manifest
                            .contents
                            .values()
                            .filter(|e| e.reference.is_none())
                            .filter_map(|e| BlobHash::parse(&e.digest).ok()),
                    );
                }
            }
            remove_old_temps(&dir, policy, now, &mut report)?;
        }
    }
    remove_old_staging(&root, policy, now, &mut report)?;
    let removable: Vec<&ScannedFile> = scanned
        .iter()
        .filter(|f| f.blob.as_ref().is_none_or(|h| !named.contains(h)))
        .filter(|f| {
            now.duration_since(f.changed)
                .is_ok_and(|age| age >= policy.grace)
        })
        .collect();
    let total: u64 = removable.iter().map(|f| f.len).sum();
    let mut done = 0u64;
    for file in removable {
        let removed = if policy.dry_run {
            true
        } else {
            match &file.blob {
                Some(hash) => blobs.delete(hash)?,
                None => blobs.remove_temp(&file.rel)?,
            }
        };
        if removed {
            match file.blob {
                Some(_) => {
                    report.blobs += 1;
                    report.blob_bytes += file.len;
                }
                None => {
                    report.temps += 1;
                    report.temp_bytes += file.len;
                }
            }
        }
        done += file.len;
        show_progress(progress, terminal, &file.rel, done, total, policy.dry_run);
    }
    if terminal && total > 0 {
        let _ = writeln!(progress);
    }
    Ok(report)
}

/// The live versions `policy` deletes: past their TTL, or (with a keep rule) in none of latest,
/// `keep` (aliased), the newest `keep_last`, the top `k` by the metric, younger than `older_than`.
fn doomed(live: &[VersionFile], keep: &BTreeSet<u64>, policy: &Policy, now: f64) -> BTreeSet<u64> {
    let mut out: BTreeSet<u64> = live
        .iter()
        .filter(|v| v.ttl_secs.is_some_and(|ttl| v.created_at + ttl <= now))
        .map(|v| v.version)
        .collect();
    if !policy.deletes_by_age_or_rank() {
        return out;
    }
    let mut kept = keep.clone();
    // `live` is in version order: the newest last.
    let newest = policy.keep_last.unwrap_or(1).max(1);
    kept.extend(live.iter().rev().take(newest).map(|v| v.version));
    if let Some((k, metric)) = &policy.keep_top {
        kept.extend(top_by_metric(live, metric, *k));
    }
    if let Some(age) = policy.older_than {
        let cutoff = now - age.as_secs_f64();
        kept.extend(
            live.iter()
                .filter(|v| v.created_at > cutoff)
                .map(|v| v.version),
        );
    }
    out.extend(live.iter().map(|v| v.version).filter(|n| !kept.contains(n)));
    out
}

/// The `k` versions with the best value of `metric` by its goal (ties: the newer).
fn top_by_metric(live: &[VersionFile], metric: &str, k: usize) -> Vec<u64> {
    let mut ranked: Vec<(f64, u64)> = live
        .iter()
        .filter_map(|v| {
            let m = v.metrics.iter().find(|m| m.name == metric)?;
            let value = m.value?;
            let score = if m.goal == "maximize" { -value } else { value };
            Some((score, v.version))
        })
        .collect();
    ranked.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
    ranked.into_iter().take(k).map(|(_, n)| n).collect()
}

/// The automatic `best`: the live `model` version whose first metric is best by its goal (ties:
/// the newer), while no alias line named `best`.
fn automatic_best(live: &[VersionFile]) -> Option<u64> {
    let mut best: Option<(f64, u64)> = None;
    for v in live.iter().filter(|v| v.kind == "model") {
        let Some(m) = v.metrics.first() else { continue };
        let Some(value) = m.value else { continue };
        let score = if m.goal == "maximize" { -value } else { value };
        if best.is_none_or(|(held, _)| score <= held) {
            best = Some((score, v.version));
        }
    }
    best.map(|(_, n)| n)
}

/// Deletes version `n`: renamed to its tombstone (a version gone already is no error).
fn tombstone(dir: &Dir, n: u64) -> Result<(), FormatError> {
    match dir.rename(&version_file_name(n), &tombstone_file_name(n)) {
        Err(FormatError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {}
        other => other?,
    }
    super::commit::sync_dir(dir)
}

/// Removes a name folder's version temp files (`.tmp-*`) untouched for the policy's grace.
fn remove_old_temps(
    dir: &Dir,
    policy: &Policy,
    now: SystemTime,
    report: &mut Report,
) -> Result<(), FormatError> {
    for name in list_names(dir)? {
        if !name.starts_with(TEMP_PREFIX) {
            continue;
        }
        let Ok(Some(meta)) = dir.stat(&name) else {
            continue;
        };
        let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        if now
            .duration_since(modified)
            .is_ok_and(|age| age >= policy.grace)
        {
            if !policy.dry_run {
                dir.remove_file(&name)?;
            }
            report.temps += 1;
            report.temp_bytes += meta.len();
        }
    }
    Ok(())
}

/// Where the Python client writes an artifact's own files (`new_file`, `add`) until the version
/// is logged; a folder is left there by an artifact that was built and never logged.
const STAGING_DIR: &str = ".trackline/staging";

/// Removes the staging folders (`.trackline/staging/artifact-*`) in which nothing changed for the
/// policy's grace: artifacts built and never logged (W&B's staging copies fill users' disks).
fn remove_old_staging(
    root: &Dir,
    policy: &Policy,
    now: SystemTime,
    report: &mut Report,
) -> Result<(), FormatError> {
    let Some(staging) = root.open_dir(STAGING_DIR)? else {
        return Ok(());
    };
    for name in list_names(&staging)? {
        if !name.starts_with("artifact-") {
            continue;
        }
        let Ok(Some(dir)) = staging.open_dir(&name) else {
            continue; // a file or a link: not a staging folder
        };
        let (newest, bytes, files) = tree_stats(&dir)?;
        if !now
            .duration_since(newest)
            .is_ok_and(|age| age >= policy.grace)
        {
            continue;
        }
        if !policy.dry_run {
            remove_tree(&dir)?;
            staging.remove_dir(&name)?;
        }
        report.temps += files;
        report.temp_bytes += bytes;
    }
    Ok(())
}

/// The newest modification time in the folder `dir` (itself included), its files' bytes and
/// count; links are not followed.
fn tree_stats(dir: &Dir) -> Result<(SystemTime, u64, u64), FormatError> {
    let mut newest = dir.metadata()?.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    let (mut bytes, mut files) = (0, 0);
    for name in list_names(dir)? {
        match dir.stat(&name) {
            Ok(Some(meta)) => {
                newest = newest.max(meta.modified().unwrap_or(SystemTime::UNIX_EPOCH));
                bytes += meta.len();
                files += 1;
            }
            Ok(None) => {}
            Err(_) => {
                if let Ok(Some(sub)) = dir.open_dir(&name) {
                    let (n, b, f) = tree_stats(&sub)?;
                    newest = newest.max(n);
                    bytes += b;
                    files += f;
                } else {
                    files += 1; // a link or another non-regular file: removed with the folder
                }
            }
        }
    }
    Ok((newest, bytes, files))
}

/// Empties the folder `dir` (folders beneath it first; links removed, never followed).
fn remove_tree(dir: &Dir) -> Result<(), FormatError> {
    for name in list_names(dir)? {
        if dir.stat(&name).is_err()
            && let Ok(Some(sub)) = dir.open_dir(&name)
        {
            remove_tree(&sub)?;
            dir.remove_dir(&name)?;
        } else {
            dir.remove_file(&name)?; // a file, a link (not followed) or another non-folder
        }
    }
    Ok(())
}

/// One step of the blob sweep: a bar redrawn in place on a terminal, else one line per file.
fn show_progress(
    out: &mut dyn Write,
    terminal: bool,
    rel: &str,
    done: u64,
    total: u64,
    dry_run: bool,
) {
    if terminal {
        let frac = if total == 0 {
            1.0
        } else {
            done as f64 / total as f64
        };
        let filled = ((frac * 30.0).round() as usize).min(30);
        let _ = write!(
            out,
            "\rgc [{}{}] {:>3.0}% {:.1}/{:.1} MB",
            "#".repeat(filled),
            " ".repeat(30 - filled),
            frac * 100.0,
            done as f64 / 1e6,
            total as f64 / 1e6
        );
    } else {
        let verb = if dry_run { "would remove" } else { "removed" };
        let _ = writeln!(out, "{verb} blobs/{rel}");
    }
    let _ = out.flush();
}

/// An age such as `30d`, `12h`, `90m`, `45s` or a number of seconds.
pub fn parse_age(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not an age (e.g. 30d, 12h, 90m)"))?;
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        other => {
            return Err(format!(
                "unknown unit '{other}' in '{text}' (use s, m, h, d, w)"
            ));
        }
    };
    number
        .checked_mul(scale)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("'{text}' is out of range"))
}

/// The summary line of a report.
pub fn summary(report: &Report, dry_run: bool) -> String {
    let verb = if dry_run { "would free" } else { "freed" };
    format!(
        "trackline gc: {verb} {:.1} MB: {} version(s) deleted, {} blob(s) ({:.1} MB), {} temp file(s) ({:.1} MB)",
        (report.blob_bytes + report.temp_bytes) as f64 / 1e6,
        report.versions.len(),
        report.blobs,
        report.blob_bytes as f64 / 1e6,
        report.temps,
        report.temp_bytes as f64 / 1e6
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifacts::files::{Manifest, MetricAtLog};

    fn version(n: u64, created_at: f64, loss: Option<f64>, ttl: Option<f64>) -> VersionFile {
        VersionFile {
            format: 1,
            name: "m".into(),
            version: n,
            kind: "model".into(),
            description: None,
            metadata: Default::default(),
            digest: format!("d{n}"),
            size: 0,
            file_count: 0,
            created_at,
            run: None,
            step: None,
            metrics: loss
                .map(|v| MetricAtLog {
                    name: "val/loss".into(),
                    value: Some(v),
                    goal: "minimize".into(),
                })
                .into_iter()
                .collect(),
            ttl_secs: ttl,
            linked_from: None,
            manifest: Manifest {
                version: 1,
                storage_policy: "trackline-cas-v1".into(),
                storage_policy_config: Default::default(),
                contents: Default::default(),
            },
        }
    }

    #[test]
    fn the_policy_keeps_latest_aliased_top_and_young() {
        let day = 86_400.0;
        let now = 100.0 * day;
        let live = vec![
            version(0, 10.0 * day, Some(0.5), None),
            version(1, 20.0 * day, Some(0.1), None),
            version(2, 30.0 * day, Some(0.9), None),
            version(3, 95.0 * day, Some(0.7), None),
            version(4, 96.0 * day, None, Some(day)),
            version(5, 99.0 * day, Some(0.8), None),
        ];
        let aliased: BTreeSet<u64> = [2].into();
        let set = |v: &[u64]| v.iter().copied().collect::<BTreeSet<u64>>();
        // No keep rule: only the expired TTL goes.
        assert_eq!(doomed(&live, &aliased, &Policy::default(), now), set(&[4]));
        let keep_last = Policy {
            keep_last: Some(2),
            ..Policy::default()
        };
        assert_eq!(doomed(&live, &aliased, &keep_last, now), set(&[0, 1, 3, 4]));
        let top = Policy {
            keep_top: Some((1, "val/loss".into())),
            ..Policy::default()
        };
        assert_eq!(doomed(&live, &aliased, &top, now), set(&[0, 3, 4]));
        let young = Policy {
            older_than: Some(Duration::from_secs(30 * 86_400)),
            ..Policy::default()
        };
        assert_eq!(doomed(&live, &aliased, &young, now), set(&[0, 1, 4]));
        assert_eq!(automatic_best(&live), Some(1));
        assert_eq!(top_by_metric(&live, "val/loss", 2), vec![1, 0]);
    }

    #[test]
    fn staging_folders_of_artifacts_never_logged_go_after_the_grace_and_links_are_not_followed() {
        let data = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("keep.txt"), b"not ours").unwrap();
        let staging = data.path().join(".trackline/staging");
        let left = staging.join("artifact-left");
        std::fs::create_dir_all(left.join("sub/deeper")).unwrap();
        std::fs::write(left.join("model.bin"), vec![7u8; 1000]).unwrap();
        std::fs::write(left.join("sub/deeper/notes.txt"), b"12345").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(outside.path(), left.join("sub/link")).unwrap();
        std::fs::write(staging.join("not-a-staging-folder"), b"x").unwrap();
        let quiet = |now: SystemTime, dry_run: bool| {
            let policy = Policy {
                dry_run,
                ..Policy::default()
            };
            run(
                data.path(),
                &policy,
                now,
                &mut Vec::new(),
                &mut Vec::new(),
                false,
            )
            .unwrap()
        };
        // Touched just now: kept.
        let report = quiet(SystemTime::now(), false);
        assert_eq!((report.temps, report.temp_bytes), (0, 0));
        assert!(left.join("sub/deeper/notes.txt").exists());
        // Two hours later: counted when dry, removed when not.
        let later = SystemTime::now() + Duration::from_secs(7200);
        let dry = quiet(later, true);
        assert_eq!(dry.temp_bytes, 1005);
        assert!(left.exists());
        let report = quiet(later, false);
        assert_eq!(report.temp_bytes, 1005);
        assert!(!left.exists());
        assert!(staging.join("not-a-staging-folder").exists());
        assert_eq!(
            std::fs::read(outside.path().join("keep.txt")).unwrap(),
            b"not ours"
        );
    }

    #[test]
    fn ages_parse_with_units() {
        assert_eq!(parse_age("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(parse_age("12h"), Ok(Duration::from_secs(12 * 3600)));
        assert_eq!(parse_age("90"), Ok(Duration::from_secs(90)));
        for bad in ["", "d", "3y", "-1d"] {
            assert!(parse_age(bad).is_err(), "{bad}");
        }
    }
}
