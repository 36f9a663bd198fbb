//! Topic `media`: the logged values of one media key of one run from an entry offset on, then every
//! new one, in messages of at most [`MAX_MEDIA_ENTRIES_PER_MESSAGE`] entries and about
//! [`MAX_MEDIA_MESSAGE_BYTES`]. While subscribed, the run is never evicted from memory.

use super::Subscription;
use crate::store::{Event, Run, Store};
use std::sync::Arc;
use trackline_shared::media::MAX_MEDIA_ENTRIES_PER_MESSAGE;
use trackline_shared::{MAX_MESSAGE_BYTES, ServerMsg, SubId};

/// Bytes of reference JSON put in one message: well under the protocol's frame limit, so a page
/// of values at the size cap still fits.
pub const MAX_MEDIA_MESSAGE_BYTES: usize = MAX_MESSAGE_BYTES / 2;

#[derive(Debug)]
pub struct MediaEntries {
    run: Arc<Run>,
    key: String,
    /// Entries sent (the next offset to send from).
    sent: u64,
}

impl MediaEntries {
    /// Subscribes to media `key` of `run` from entry `from`; holds the run in memory until dropped.
    pub fn new(run: Arc<Run>, key: String, from: u64) -> Self {
        run.history.lock().subscribers += 1;
        MediaEntries {
            run,
            key,
            sent: from,
        }
    }
}

impl Subscription for MediaEntries {
    fn serve(&mut self, _store: &Store, id: SubId, _first: bool) -> Vec<ServerMsg> {
        let h = self.run.history.lock();
        let media = h.media();
        let mut msgs = Vec::new();
        loop {
            let entries = media.entries(
                &self.key,
                self.sent as usize,
                MAX_MEDIA_ENTRIES_PER_MESSAGE,
                MAX_MEDIA_MESSAGE_BYTES,
            );
            if entries.is_empty() {
                return msgs;
            }
            let start = self.sent;
            self.sent += entries.len() as u64;
            msgs.push(ServerMsg::Media {
                sub: id,
                run: self.run.key.run.clone(),
                key: self.key.clone(),
                start,
                entries,
            });
        }
    }

    fn on_event(&mut self, store: &Store, id: SubId, event: &Event) -> Vec<ServerMsg> {
        match event {
            Event::Media(run) if Arc::ptr_eq(&self.run, run) => self.serve(store, id, false),
            _ => Vec::new(),
        }
    }
}

impl Drop for MediaEntries {
    /// The run may be evicted again once nobody follows it.
    fn drop(&mut self) {
        let mut h = self.run.history.lock();
        h.subscribers = h.subscribers.saturating_sub(1);
    }
}
