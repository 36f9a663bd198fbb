//! The push topics, one file each. A [`Subscription`] remembers how far it has been served (a
//! series' point offset, a project's last run `version`) and reads deltas from the store, not from
//! the event, so a burst of events or a lagging event receiver never produces a gap or a
//! duplicate: the subscription simply serves the difference. Annotations are served the same way
//! from the op log in the database, by `seq`.

pub mod annotations;
pub mod artifacts;
pub mod media;
pub mod project;
pub mod projects;
pub mod run;
pub mod series;
pub mod sweeps;

use crate::db::annotations::Annotations;
use crate::store::{Event, Run, Store};
use std::sync::Arc;
use trackline_shared::{ServerMsg, SubId, Topic};

/// One live subscription of one connection.
pub trait Subscription: Send + Sync + std::fmt::Debug {
    /// Messages with whatever subscription `id` has not been sent yet (`first`: the snapshot that
    /// follows `subscribed`, sent even when empty).
    fn serve(&mut self, store: &Store, id: SubId, first: bool) -> Vec<ServerMsg>;

    /// Messages for a store event: nothing when the event does not concern this subscription.
    fn on_event(&mut self, store: &Store, id: SubId, event: &Event) -> Vec<ServerMsg>;

    /// The run whose [`Event::Points`] this subscription follows, if any: the session hands such
    /// events only to the subscriptions of their run (a page following 1,000 live runs would
    /// otherwise offer every point event to 1,000 subscriptions), and no other event to them.
    fn points_of(&self) -> Option<&crate::store::RunKey> {
        None
    }
}

/// Starts a subscription to `topic` (runs from `store`, annotations from `annotations`, report
/// drafts only when the caller `sees_drafts`, artifacts from `data_dir`, sweeps from
/// `sweep_controller`); `Err` is the message to send the client instead.
pub async fn open(
    store: &Arc<Store>,
    annotations: &Annotations,
    topic: Topic,
    sees_drafts: bool,
    data_dir: Option<&std::path::Path>,
    sweep_controller: Option<&Arc<crate::sweeps::controller::Controller>>,
) -> Result<Box<dyn Subscription>, String> {
    Ok(match topic {
        Topic::Projects => Box::new(projects::Projects::default()),
        Topic::Project { project, since } => Box::new(project::ProjectRuns::new(project, since)),
        Topic::Run { project, run } => Box::new(run::RunInfoAndKeys::new(
            loaded_run(store, &project, &run).await?,
        )),
        Topic::Series {
            project,
            run,
            key,
            from,
            x_key,
        } => Box::new(series::Points::new(
            loaded_run(store, &project, &run).await?,
            key,
            from,
            x_key,
        )),
        Topic::Media {
            project,
            run,
            key,
            from,
        } => Box::new(media::MediaEntries::new(
            loaded_run(store, &project, &run).await?,
            key,
            from,
        )),
        Topic::Annotations { project, since } => Box::new(
            annotations::AnnotationEvents::new(annotations.clone(), project, since)
                .with_drafts(sees_drafts),
        ),
        Topic::Artifacts { project } => {
            let Some(data_dir) = data_dir else {
                return Err("artifacts are not served on this connection".into());
            };
            Box::new(artifacts::ArtifactCollections::open(store.clone(), data_dir, project).await?)
        }
        Topic::Sweeps { project } => {
            let Some(controller) = sweep_controller else {
                return Err("sweeps are not served on this connection".into());
            };
            Box::new(sweeps::SweepList::new(controller.clone(), project))
        }
        Topic::Sweep { project, sweep } => {
            let Some(controller) = sweep_controller else {
                return Err("sweeps are not served on this connection".into());
            };
            let controller = controller.clone();
            Box::new(
                tokio::task::spawn_blocking(move || {
                    sweeps::SweepOne::open(controller, project, sweep)
                })
                .await
                .map_err(|e| e.to_string())??,
            )
        }
    })
}

/// A run with its series in memory (loaded off the async threads), or why not.
async fn loaded_run(store: &Arc<Store>, project: &str, run: &str) -> Result<Arc<Run>, String> {
    let Some(found) = store.get(project, run) else {
        return Err(format!("no run '{run}' in project '{project}'"));
    };
    // In memory already (and not busy): no trip through the blocking pool.
    if found.history.try_lock().is_some_and(|h| h.is_loaded()) {
        return Ok(found);
    }
    let (store, r) = (store.clone(), found.clone());
    match tokio::task::spawn_blocking(move || store.ensure_loaded(&r)).await {
        Ok(Ok(())) => Ok(found),
        Ok(Err(e)) => Err(e.client_message()),
        Err(e) => Err(e.to_string()),
    }
}
