//! Topic `artifacts`: a project's artifact names ([`ServerMsg::Artifacts`], the whole list) now and
//! again whenever it changes. The store lives in hidden folders (`.artifacts/`) that the file
//! watcher does not report, so while a project has subscriptions one task polls the stats the
//! store's cache is keyed on about every second (a few `fstat`s), shared by all of them; when they
//! change it reads the list off the async threads, keeps it and emits [`Event::Artifacts`], on
//! which each subscription sends the list if it differs from the last one it sent.

use super::Subscription;
use crate::artifacts::store::ArtifactStore;
use crate::store::{Event, Store};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;
use trackline_shared::artifacts::ArtifactCollection;
use trackline_shared::{ServerMsg, SubId};

/// How often a subscribed project's artifact store is looked at.
pub const POLL_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub struct ArtifactCollections {
    project: String,
    poll: Arc<ProjectPoll>,
    /// The list last sent.
    sent: Option<Arc<Vec<ArtifactCollection>>>,
}

/// One project's poller and the newest list it read, shared by the project's subscriptions;
/// the poller ends with the last of them.
#[derive(Debug)]
struct ProjectPoll {
    latest: Arc<Mutex<Arc<Vec<ArtifactCollection>>>>,
    poller: tokio::task::AbortHandle,
}

impl Drop for ProjectPoll {
    fn drop(&mut self) {
        self.poller.abort();
    }
}

/// The pollers by data directory and project (dead ones are swept when one starts).
type Pollers = Mutex<HashMap<(PathBuf, String), Weak<ProjectPoll>>>;

/// The live pollers of this process.
fn pollers() -> &'static Pollers {
    static POLLERS: OnceLock<Pollers> = OnceLock::new();
    POLLERS.get_or_init(Default::default)
}

impl ArtifactCollections {
    /// Joins the poller of `project` in the store of `data_dir`, or reads the list and starts
    /// one.
    pub async fn open(
        store: Arc<Store>,
        data_dir: &Path,
        project: String,
    ) -> Result<ArtifactCollections, String> {
        let key = (data_dir.to_owned(), project.clone());
        if let Some(poll) = pollers().lock().get(&key).and_then(Weak::upgrade) {
            return Ok(ArtifactCollections {
                project,
                poll,
                sent: None,
            });
        }
        let artifacts = ArtifactStore::shared(data_dir);
        let (first, stamp) = read(artifacts.clone(), project.clone()).await?;
        let latest = Arc::new(Mutex::new(Arc::new(first)));
        let poller = tokio::spawn(poll(
            store,
            artifacts,
            project.clone(),
            stamp,
            latest.clone(),
        ))
        .abort_handle();
        let poll = Arc::new(ProjectPoll { latest, poller });
        let mut live = pollers().lock();
        live.retain(|_, p| p.strong_count() > 0);
        // Two first subscriptions at once each start one; the later one is shared from now on.
        live.insert(key, Arc::downgrade(&poll));
        Ok(ArtifactCollections {
            project,
            poll,
            sent: None,
        })
    }

    /// Whether `project` of `data_dir` is polled now (for tests).
    #[cfg(test)]
    fn polled(data_dir: &Path, project: &str) -> bool {
        pollers()
            .lock()
            .get(&(data_dir.to_owned(), project.to_string()))
            .is_some_and(|p| p.strong_count() > 0)
    }
}

type ProjectStamp = Vec<(
    String,
    crate::artifacts::store::Stamp,
    Option<crate::artifacts::store::Stamp>,
)>;

/// The list and the stamp it was read at, off the async threads.
async fn read(
    artifacts: Arc<ArtifactStore>,
    project: String,
) -> Result<(Vec<ArtifactCollection>, ProjectStamp), String> {
    tokio::task::spawn_blocking(move || {
        let stamp = artifacts.project_stamp(&project)?;
        Ok::<_, crate::format::FormatError>((artifacts.collections(&project)?, stamp))
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| crate::error::Error::from(e).client_message())
}

/// Looks at the project's stamp every [`POLL_EVERY`]; on a change, reads the list into `latest`
/// and tells the subscriptions. Ends when aborted (the subscription is dropped).
async fn poll(
    store: Arc<Store>,
    artifacts: Arc<ArtifactStore>,
    project: String,
    mut stamp: ProjectStamp,
    latest: Arc<Mutex<Arc<Vec<ArtifactCollection>>>>,
) {
    let mut ticks = tokio::time::interval(POLL_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let (a, p) = (artifacts.clone(), project.clone());
        let now = tokio::task::spawn_blocking(move || a.project_stamp(&p)).await;
        let Ok(Ok(now)) = now else {
            continue;
        };
        if now == stamp {
            continue;
        }
        match read(artifacts.clone(), project.clone()).await {
            Ok((list, read_at)) => {
                stamp = read_at;
                *latest.lock() = Arc::new(list);
                store.emit(Event::Artifacts {
                    project: project.clone(),
                });
            }
            Err(e) => tracing::debug!(project = %project, "reading artifacts: {e}"),
        }
    }
}

impl Subscription for ArtifactCollections {
    fn serve(&mut self, _store: &Store, id: SubId, first: bool) -> Vec<ServerMsg> {
        let latest = self.poll.latest.lock().clone();
        if !first && self.sent.as_deref() == Some(&*latest) {
            return Vec::new();
        }
        self.sent = Some(latest.clone());
        vec![ServerMsg::Artifacts {
            sub: id,
            collections: latest.to_vec(),
        }]
    }

    fn on_event(&mut self, store: &Store, id: SubId, event: &Event) -> Vec<ServerMsg> {
        match event {
            Event::Artifacts { project } if *project == self.project => {
                self.serve(store, id, false)
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreSettings;

    #[tokio::test]
    async fn the_subscriptions_of_a_project_share_one_poller_that_ends_with_the_last() {
        let data = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::new(StoreSettings::default()));
        let open = |project: &str| {
            ArtifactCollections::open(store.clone(), data.path(), project.to_string())
        };
        let first = open("p").await.unwrap();
        let second = open("p").await.unwrap();
        let other = open("q").await.unwrap();
        assert!(Arc::ptr_eq(&first.poll, &second.poll));
        assert!(!Arc::ptr_eq(&first.poll, &other.poll));
        let handle = first.poll.poller.clone();
        drop(first);
        assert!(
            !handle.is_finished(),
            "one subscription of the project is left"
        );
        assert!(ArtifactCollections::polled(data.path(), "p"));
        drop(second);
        tokio::task::yield_now().await;
        assert!(
            handle.is_finished(),
            "the last subscription ended the poller"
        );
        assert!(!ArtifactCollections::polled(data.path(), "p"));
        assert!(ArtifactCollections::polled(data.path(), "q"));
        drop(other);
    }
}
