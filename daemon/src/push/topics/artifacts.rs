//! Topic `artifacts`: a project's artifact names ([`ServerMsg::Artifacts`], the whole list) now and
//! again whenever it changes. The store lives in hidden folders (`.artifacts/`) that the file
//! watcher does not report, so while subscribed a task polls the stats the store's cache is keyed
//! on about every second (a few `fstat`s); when they change it reads the list off the async
//! threads, keeps it for the subscription and emits [`Event::Artifacts`], on which the subscription
//! sends the list if it differs from the last one sent.

use super::Subscription;
use crate::artifacts::store::ArtifactStore;
use crate::store::{Event, Store};
use parking_lot::Mutex;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use trackline_shared::artifacts::ArtifactCollection;
use trackline_shared::{ServerMsg, SubId};

/// How often a subscribed project's artifact store is looked at.
pub const POLL_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub struct ArtifactCollections {
    project: String,
    /// The newest list the poller read.
    latest: Arc<Mutex<Arc<Vec<ArtifactCollection>>>>,
    /// The list last sent.
    sent: Option<Arc<Vec<ArtifactCollection>>>,
    poller: tokio::task::AbortHandle,
}

impl ArtifactCollections {
    /// Reads `project`'s list from the store of `data_dir` and starts polling it.
    pub async fn open(
        store: Arc<Store>,
        data_dir: &Path,
        project: String,
    ) -> Result<ArtifactCollections, String> {
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
        Ok(ArtifactCollections {
            project,
            latest,
            sent: None,
            poller,
        })
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
        let latest = self.latest.lock().clone();
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

impl Drop for ArtifactCollections {
    fn drop(&mut self) {
        self.poller.abort();
    }
}
