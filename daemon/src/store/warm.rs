//! Background warm-up after the daemon starts: the histories of the projects whose charts were
//! viewed last (then of the most recently active ones) are read into memory, newest runs first,
//! through the series cache where it is valid, so the first chart after a restart finds its runs
//! loaded. One thread reads, at low priority: a second reader (tried) made the first visit of a
//! project no clearly faster and took the browser's share of a two-core machine while it drew.
//! It stops at half the memory budget, at shutdown, or when every run of those projects is in.

use super::Store;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Projects warmed at most: the viewed ones first, then the most recently active.
const MAX_PROJECTS: usize = 3;

/// Starts the warm-up on a thread of its own (below normal priority where the OS allows it, since
/// training may share the machine); it ends by itself.
pub fn spawn(
    store: Arc<Store>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("warm-up".into())
        .spawn(move || warm_up(&store, &stop))
}

/// Which projects to warm, in order: viewed last first, then most recently active.
pub fn projects_to_warm(store: &Store) -> Vec<String> {
    let mut projects = store
        .series_cache()
        .map(|c| c.viewed_projects())
        .unwrap_or_default();
    for p in store.projects() {
        if !projects.contains(&p.name) {
            projects.push(p.name);
        }
    }
    projects.truncate(MAX_PROJECTS);
    projects
}

fn warm_up(store: &Store, stop: &AtomicBool) {
    lower_priority();
    let started = std::time::Instant::now();
    let budget = store.settings().memory_limit_bytes / 2;
    let mut loaded = 0usize;
    'projects: for project in projects_to_warm(store) {
        for run in newest_first(store.project_runs(&project)) {
            if stop.load(Ordering::Relaxed) || store.resident_bytes() >= budget {
                break 'projects;
            }
            match store.load_aside(&run) {
                Ok(true) => loaded += 1,
                Ok(false) => {}
                Err(e) => tracing::debug!(%project, run = %run.key.run, "warm-up: {e}"),
            }
        }
    }
    tracing::info!(
        runs = loaded,
        resident_bytes = store.resident_bytes(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "warmed up the series of recent projects"
    );
}

/// `runs` newest first: the order of the runs table, whose first runs a workspace shows, so the
/// warm-up reads first what the first chart asks for.
fn newest_first(runs: Vec<Arc<super::Run>>) -> Vec<Arc<super::Run>> {
    let mut dated: Vec<(f64, Arc<super::Run>)> = runs
        .into_iter()
        .map(|r| {
            let created = r.meta.read().info.created_at_secs;
            (created, r)
        })
        .collect();
    dated.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| b.1.key.run.cmp(&a.1.key.run))
    });
    dated.into_iter().map(|(_, r)| r).collect()
}

/// Asks the OS to run this thread after others (`nice` 10 on Linux); nothing happens elsewhere.
pub(super) fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // On Linux `setpriority(PRIO_PROCESS, 0, …)` sets the calling thread's nice value.
        let _ = rustix::process::setpriority_process(None, 10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::RunKey;
    use crate::source::disk::DiskSource;
    use crate::store::{RunMeta, StoreSettings};
    use trackline_shared::RunState;

    /// Every run of the project is read in, with its points.
    #[test]
    fn the_warm_up_reads_every_run_of_a_recent_project() {
        let root = tempfile::tempdir().unwrap();
        let source = Arc::new(DiskSource::new(root.path().to_owned()));
        let store = Arc::new(Store::new(StoreSettings::default()));
        let runs: Vec<Arc<crate::store::Run>> = (0..9)
            .map(|i| {
                let key = RunKey {
                    project: "p".into(),
                    run: format!("r{i}"),
                };
                let dir = source.run_dir(&key);
                std::fs::create_dir_all(&dir).unwrap();
                let rows: String = (0..=i)
                    .map(|s| format!("{{\"_step\": {s}, \"loss\": {s}.5}}\n"))
                    .collect();
                std::fs::write(dir.join(crate::format::HISTORY_FILE), rows).unwrap();
                let meta = RunMeta::of(&key, RunState::Finished);
                store.upsert(key, dir, source.clone(), meta, 40.0)
            })
            .collect();
        warm_up(&store, &AtomicBool::new(false));
        for (i, run) in runs.iter().enumerate() {
            let h = run.history.lock();
            assert!(h.is_loaded(), "{}", run.key.run);
            assert_eq!(h.series_by_key("loss").map(|s| s.len()), Some(i + 1));
        }
    }

    #[test]
    fn runs_are_warmed_newest_first() {
        let root = tempfile::tempdir().unwrap();
        let source = Arc::new(DiskSource::new(root.path().to_owned()));
        let store = Store::new(StoreSettings::default());
        // Created at 20, 30, 10 and 30 (a tie: the larger id first).
        for (id, created) in [("a", 20.0), ("b", 30.0), ("c", 10.0), ("d", 30.0)] {
            let key = RunKey {
                project: "p".into(),
                run: id.into(),
            };
            let mut meta = RunMeta::of(&key, RunState::Finished);
            meta.info.created_at_secs = created;
            store.upsert(key, root.path().join(id), source.clone(), meta, 40.0);
        }
        let order: Vec<String> = newest_first(store.project_runs("p"))
            .iter()
            .map(|r| r.key.run.clone())
            .collect();
        assert_eq!(order, ["d", "b", "a", "c"]);
    }
}
