//! Push: one [`Session`] per WebSocket connection turns store [`Event`]s into protocol messages for
//! the topics that connection subscribed to.
//!
//! Every subscription remembers how far it has been served (a series' point offset, a project's
//! last run `version`), and deltas are read from the store, not from the event. So a burst of events,
//! or a lagging event receiver, never produces a gap or a duplicate: the session simply serves the
//! difference. Outgoing messages go through a bounded queue; a client that leaves it full for
//! longer than the send timeout is dropped rather than buffered without bound.

use crate::query::decimate;
use crate::store::{Event, Run, Store};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use trackline_shared::{
    ClientMsg, MAX_POINTS_PER_MESSAGE, PROTOCOL_VERSION, ProjectInfo, ServerMsg, SubId, Topic,
};

/// The client stopped reading: its queue stayed full past the send timeout. The connection is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("slow consumer")]
pub struct SlowConsumer;

type Sent = Result<(), SlowConsumer>;

#[derive(Debug)]
enum Sub {
    Projects {
        last: Vec<ProjectInfo>,
    },
    Project {
        project: String,
        since: u64,
    },
    Run {
        run: Arc<Run>,
        keys_sent: usize,
    },
    Series {
        run: Arc<Run>,
        key: String,
        key_idx: Option<usize>,
        sent: u64,
    },
}

#[derive(Debug)]
pub struct Session {
    store: Arc<Store>,
    out: mpsc::Sender<ServerMsg>,
    send_timeout: Duration,
    subs: HashMap<SubId, Sub>,
}

impl Session {
    pub fn new(store: Arc<Store>, out: mpsc::Sender<ServerMsg>, send_timeout: Duration) -> Self {
        Session {
            store,
            out,
            send_timeout,
            subs: HashMap::new(),
        }
    }

    pub fn hello() -> ServerMsg {
        ServerMsg::Hello {
            protocol: PROTOCOL_VERSION,
            version: crate::VERSION.to_owned(),
            instance: instance_id().to_owned(),
        }
    }

    /// Queues a message, waiting at most the send timeout for room. While it waits, store events
    /// pile up in the (bounded) broadcast receiver; if that lags, [`Session::resync`] catches up.
    async fn send(&self, msg: ServerMsg) -> Sent {
        match tokio::time::timeout(self.send_timeout, self.out.send(msg)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(SlowConsumer),
        }
    }

    /// Handles one text frame from the client.
    pub async fn on_text(&mut self, text: &str) -> Sent {
        let msg: ClientMsg = match serde_json::from_str(text) {
            Ok(m) => m,
            Err(e) => {
                return self
                    .send(ServerMsg::Error {
                        sub: None,
                        message: format!("bad message: {e}"),
                    })
                    .await;
            }
        };
        match msg {
            ClientMsg::Ping { nonce } => self.send(ServerMsg::Pong { nonce }).await,
            ClientMsg::Unsubscribe { id } => {
                if let Some(sub) = self.subs.remove(&id) {
                    release(&sub);
                }
                Ok(())
            }
            ClientMsg::Subscribe { id, topic } => self.subscribe(id, topic).await,
        }
    }

    async fn subscribe(&mut self, id: SubId, topic: Topic) -> Sent {
        if let Some(old) = self.subs.remove(&id) {
            release(&old);
        }
        let sub = match topic {
            Topic::Projects => Sub::Projects { last: Vec::new() },
            Topic::Project { project, since } => Sub::Project { project, since },
            Topic::Run { project, run } => match self.find(id, &project, &run).await? {
                Some(run) => Sub::Run { run, keys_sent: 0 },
                None => return Ok(()),
            },
            Topic::Series {
                project,
                run,
                key,
                from,
            } => {
                let Some(run) = self.find(id, &project, &run).await? else {
                    return Ok(());
                };
                run.history.lock().subscribers += 1;
                Sub::Series {
                    run,
                    key,
                    key_idx: None,
                    sent: from,
                }
            }
        };
        self.send(ServerMsg::Subscribed { id }).await?;
        self.subs.insert(id, sub);
        self.serve(id, true).await
    }

    async fn find(
        &self,
        id: SubId,
        project: &str,
        run: &str,
    ) -> Result<Option<Arc<Run>>, SlowConsumer> {
        let found = self.store.get(project, run);
        let loaded = match &found {
            Some(r) => {
                let (store, r) = (self.store.clone(), r.clone());
                tokio::task::spawn_blocking(move || store.ensure_loaded(&r))
                    .await
                    .unwrap_or_else(|e| Err(crate::error::Error::Internal(e.to_string())))
            }
            None => Err(crate::error::Error::NotFound(format!(
                "no run '{run}' in project '{project}'"
            ))),
        };
        match loaded {
            Ok(()) => Ok(found),
            Err(e) => {
                self.send(ServerMsg::Error {
                    sub: Some(id),
                    message: e.to_string(),
                })
                .await?;
                Ok(None)
            }
        }
    }

    /// Handles one store event.
    pub async fn on_event(&mut self, event: &Event) -> Sent {
        let ids: Vec<SubId> = self.subs.keys().copied().collect();
        for id in ids {
            let relevant = match (&self.subs[&id], event) {
                (Sub::Projects { .. }, Event::Run(_) | Event::Removed(_)) => true,
                (Sub::Project { project, .. }, Event::Run(r)) => &r.key.project == project,
                (Sub::Project { project, .. }, Event::Removed(k)) => &k.project == project,
                (Sub::Run { run, .. }, Event::Run(r) | Event::Keys(r)) => Arc::ptr_eq(run, r),
                (Sub::Series { run, .. }, Event::Points { run: r, .. }) => Arc::ptr_eq(run, r),
                _ => false,
            };
            if !relevant {
                continue;
            }
            if let (Sub::Project { project, .. }, Event::Removed(k)) = (&self.subs[&id], event)
                && &k.project == project
            {
                let (project, run) = (k.project.clone(), k.run.clone());
                self.send(ServerMsg::RunRemoved {
                    sub: id,
                    project,
                    run,
                })
                .await?;
                continue;
            }
            self.serve(id, false).await?;
        }
        Ok(())
    }

    /// Brings every subscription up to date (after the event receiver lagged).
    pub async fn resync(&mut self) -> Sent {
        let ids: Vec<SubId> = self.subs.keys().copied().collect();
        for id in ids {
            self.serve(id, false).await?;
        }
        Ok(())
    }

    /// Sends subscription `id` whatever it has not been sent yet.
    async fn serve(&mut self, id: SubId, first: bool) -> Sent {
        let mut msgs = Vec::new();
        let Some(sub) = self.subs.get_mut(&id) else {
            return Ok(());
        };
        match sub {
            Sub::Projects { last } => {
                let now = self.store.projects();
                if first || now != *last {
                    msgs.push(ServerMsg::Projects {
                        sub: id,
                        projects: now.clone(),
                    });
                    *last = now;
                }
            }
            Sub::Project { project, since } => {
                let runs: Vec<_> = self
                    .store
                    .project_runs(project)
                    .iter()
                    .map(|r| r.info())
                    .filter(|info| info.version > *since)
                    .collect();
                if let Some(max) = runs.iter().map(|r| r.version).max() {
                    *since = max;
                }
                if first || !runs.is_empty() {
                    msgs.push(ServerMsg::Runs { sub: id, runs });
                }
            }
            Sub::Run { run, keys_sent } => {
                msgs.push(ServerMsg::Runs {
                    sub: id,
                    runs: vec![run.info()],
                });
                let h = run.history.lock();
                let keys: Vec<String> = h
                    .keys()
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !h.series(*i).is_empty())
                    .map(|(_, k)| k.clone())
                    .collect();
                if first || keys.len() != *keys_sent {
                    *keys_sent = keys.len();
                    msgs.push(ServerMsg::Keys {
                        sub: id,
                        run: run.key.run.clone(),
                        keys,
                    });
                }
            }
            Sub::Series {
                run,
                key,
                key_idx,
                sent,
            } => {
                let h = run.history.lock();
                if key_idx.is_none() {
                    *key_idx = h.key_index(key);
                }
                if let Some(i) = *key_idx {
                    let series = h.series(i);
                    while (*sent as usize) < series.len() {
                        let (step, wall_time, value) =
                            decimate::points_since(series, *sent as usize, MAX_POINTS_PER_MESSAGE);
                        let start = *sent;
                        *sent += value.len() as u64;
                        msgs.push(ServerMsg::Points {
                            sub: id,
                            run: run.key.run.clone(),
                            key: key.clone(),
                            start,
                            step,
                            wall_time,
                            value,
                        });
                    }
                }
            }
        }
        for msg in msgs {
            self.send(msg).await?;
        }
        Ok(())
    }
}

/// A random id of this daemon process, sent in every hello.
pub fn instance_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        let mut bytes = [0u8; 8];
        if getrandom::fill(&mut bytes).is_err() {
            bytes = std::process::id()
                .to_le_bytes()
                .repeat(2)
                .try_into()
                .unwrap_or_default();
        }
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    })
}

fn release(sub: &Sub) {
    if let Sub::Series { run, .. } = sub {
        let mut h = run.history.lock();
        h.subscribers = h.subscribers.saturating_sub(1);
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        for sub in self.subs.values() {
            release(sub);
        }
    }
}
