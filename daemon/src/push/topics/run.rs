//! Topic `run`: one run's info on every change, its metric keys whenever new ones appear, and its
//! media keys whenever one appears or gets a new value.

use super::Subscription;
use crate::store::{Event, Run, Store};
use std::sync::Arc;
use trackline_shared::{ServerMsg, SubId};

#[derive(Debug)]
pub struct RunInfoAndKeys {
    run: Arc<Run>,
    /// How many keys (with points) were sent.
    keys_sent: usize,
    /// How many media values there were when media keys were last sent.
    media_sent: u64,
}

impl RunInfoAndKeys {
    pub fn new(run: Arc<Run>) -> Self {
        RunInfoAndKeys {
            run,
            keys_sent: 0,
            media_sent: 0,
        }
    }
}

impl RunInfoAndKeys {
    fn info(&self, id: SubId) -> ServerMsg {
        ServerMsg::Runs {
            sub: id,
            runs: vec![self.run.info()],
        }
    }

    /// The run's keys with points when they changed since last sent (on the first serve:
    /// always). Locks the history, so it is asked only on a subscription's first serve and when
    /// the store says the keys changed ([`Event::Keys`]), never on each change of the run.
    fn keys(&mut self, id: SubId, first: bool) -> Option<ServerMsg> {
        let h = self.run.history.lock();
        let keys: Vec<String> = h
            .keys()
            .iter()
            .enumerate()
            .filter(|(i, _)| !h.series(*i).is_empty())
            .map(|(_, k)| k.clone())
            .collect();
        drop(h);
        (first || keys.len() != self.keys_sent).then(|| {
            self.keys_sent = keys.len();
            ServerMsg::Keys {
                sub: id,
                run: self.run.key.run.clone(),
                keys,
            }
        })
    }

    /// The run's media keys when they changed since last sent (on the first serve: when any).
    fn media_keys(&mut self, id: SubId, first: bool) -> Option<ServerMsg> {
        let h = self.run.history.lock();
        let media = h.media();
        let changed = media.total() != self.media_sent || (first && media.total() > 0);
        changed.then(|| {
            self.media_sent = media.total();
            ServerMsg::MediaKeys {
                sub: id,
                run: self.run.key.run.clone(),
                keys: media.keys(),
            }
        })
    }
}

impl Subscription for RunInfoAndKeys {
    fn serve(&mut self, _store: &Store, id: SubId, first: bool) -> Vec<ServerMsg> {
        let mut msgs = vec![self.info(id)];
        msgs.extend(self.keys(id, first));
        msgs.extend(self.media_keys(id, first));
        msgs
    }

    /// A change of the run sends its info alone: it comes with every batch of rows a live run
    /// logs, and the keys (hundreds for a wide run) are sent only when they change. Reading them
    /// locks the history, which a low-priority thread saving it to the cache may hold a while
    /// on a busy machine; the async thread serving this connection would wait with it.
    fn on_event(&mut self, _store: &Store, id: SubId, event: &Event) -> Vec<ServerMsg> {
        match event {
            Event::Run(r) if Arc::ptr_eq(&self.run, r) => vec![self.info(id)],
            Event::Keys(r) if Arc::ptr_eq(&self.run, r) => {
                let mut msgs = vec![self.info(id)];
                msgs.extend(self.keys(id, false));
                msgs
            }
            Event::Media(r) if Arc::ptr_eq(&self.run, r) => {
                self.media_keys(id, false).into_iter().collect()
            }
            _ => Vec::new(),
        }
    }
}
