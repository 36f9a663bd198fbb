//! Topic `project`: a project's runs, each sent again whenever its `version` moves past the last
//! one sent, and `run_removed` when one goes away.

use super::Subscription;
use crate::store::{Event, Store};
use trackline_shared::{ServerMsg, SubId};

#[derive(Debug)]
pub struct ProjectRuns {
    project: String,
    /// The highest run `version` sent.
    since: u64,
}

impl ProjectRuns {
    pub fn new(project: String, since: u64) -> Self {
        ProjectRuns { project, since }
    }
}

impl Subscription for ProjectRuns {
    fn serve(&mut self, store: &Store, id: SubId, first: bool) -> Vec<ServerMsg> {
        let runs: Vec<_> = store
            .project_runs(&self.project)
            .iter()
            .map(|r| r.info())
            .filter(|info| info.version > self.since)
            .collect();
        if let Some(max) = runs.iter().map(|r| r.version).max() {
            self.since = max;
        }
        if first || !runs.is_empty() {
            vec![ServerMsg::Runs { sub: id, runs }]
        } else {
            Vec::new()
        }
    }

    fn on_event(&mut self, store: &Store, id: SubId, event: &Event) -> Vec<ServerMsg> {
        match event {
            Event::Run(r) if r.key.project == self.project => self.serve(store, id, false),
            Event::Removed(k) if k.project == self.project => vec![ServerMsg::RunRemoved {
                sub: id,
                project: k.project.clone(),
                run: k.run.clone(),
            }],
            _ => Vec::new(),
        }
    }
}
