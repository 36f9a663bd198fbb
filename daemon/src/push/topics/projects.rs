//! Topic `projects`: the project list, sent whole whenever it changes.

use super::Subscription;
use crate::store::{Event, Store};
use trackline_shared::{ProjectInfo, ServerMsg, SubId};

#[derive(Debug, Default)]
pub struct Projects {
    /// The list last sent.
    last: Vec<ProjectInfo>,
}

impl Subscription for Projects {
    fn serve(&mut self, store: &Store, id: SubId, first: bool) -> Vec<ServerMsg> {
        let now = store.projects();
        if !first && now == self.last {
            return Vec::new();
        }
        self.last = now.clone();
        vec![ServerMsg::Projects {
            sub: id,
            projects: now,
        }]
    }

    fn on_event(&mut self, store: &Store, id: SubId, event: &Event) -> Vec<ServerMsg> {
        match event {
            Event::Run(_) | Event::Removed(_) => self.serve(store, id, false),
            _ => Vec::new(),
        }
    }
}
