//! Topic `run`: one run's info on every change, and its metric keys whenever new ones appear.

use super::Subscription;
use crate::store::{Event, Run, Store};
use std::sync::Arc;
use trackline_shared::{ServerMsg, SubId};

#[derive(Debug)]
pub struct RunInfoAndKeys {
    run: Arc<Run>,
    /// How many keys (with points) were sent.
    keys_sent: usize,
}

impl RunInfoAndKeys {
    pub fn new(run: Arc<Run>) -> Self {
        RunInfoAndKeys { run, keys_sent: 0 }
    }
}

impl Subscription for RunInfoAndKeys {
    fn serve(&mut self, _store: &Store, id: SubId, first: bool) -> Vec<ServerMsg> {
        let mut msgs = vec![ServerMsg::Runs {
            sub: id,
            runs: vec![self.run.info()],
        }];
        let h = self.run.history.lock();
        let keys: Vec<String> = h
            .keys()
            .iter()
            .enumerate()
            .filter(|(i, _)| !h.series(*i).is_empty())
            .map(|(_, k)| k.clone())
            .collect();
        if first || keys.len() != self.keys_sent {
            self.keys_sent = keys.len();
            msgs.push(ServerMsg::Keys {
                sub: id,
                run: self.run.key.run.clone(),
                keys,
            });
        }
        msgs
    }

    fn on_event(&mut self, store: &Store, id: SubId, event: &Event) -> Vec<ServerMsg> {
        match event {
            Event::Run(r) | Event::Keys(r) if Arc::ptr_eq(&self.run, r) => {
                self.serve(store, id, false)
            }
            _ => Vec::new(),
        }
    }
}
