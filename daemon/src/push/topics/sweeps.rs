//! Topics `sweeps` (a project's sweeps, the whole list) and `sweep` (one sweep whole): sent now,
//! and again on each [`Event::Sweeps`] of theirs when what they show changed. Both read the
//! sweep tables through `sweeps::controller` (a few small queries).

use super::Subscription;
use crate::store::{Event, Store};
use crate::sweeps::controller::Controller;
use std::sync::Arc;
use trackline_shared::sweeps::{SweepDetail, SweepInfo};
use trackline_shared::{ServerMsg, SubId};

#[derive(Debug)]
pub struct SweepList {
    project: String,
    sweeps: Arc<Controller>,
    sent: Option<Vec<SweepInfo>>,
}

impl SweepList {
    pub fn new(sweeps: Arc<Controller>, project: String) -> SweepList {
        SweepList {
            project,
            sweeps,
            sent: None,
        }
    }
}

impl Subscription for SweepList {
    fn serve(&mut self, _store: &Store, id: SubId, first: bool) -> Vec<ServerMsg> {
        let list = match self.sweeps.list(&self.project) {
            Ok(list) => list,
            Err(e) => {
                tracing::warn!(project = %self.project, error = %e, "reading sweeps");
                return Vec::new();
            }
        };
        if !first && self.sent.as_ref() == Some(&list) {
            return Vec::new();
        }
        self.sent = Some(list.clone());
        vec![ServerMsg::Sweeps {
            sub: id,
            sweeps: list,
        }]
    }

    fn on_event(&mut self, store: &Store, id: SubId, event: &Event) -> Vec<ServerMsg> {
        match event {
            Event::Sweeps { project, .. } if *project == self.project => {
                self.serve(store, id, false)
            }
            _ => Vec::new(),
        }
    }
}

#[derive(Debug)]
pub struct SweepOne {
    project: String,
    sweep: String,
    sweeps: Arc<Controller>,
    /// The detail read when the subscription opened, served as its first snapshot.
    opened: Option<SweepDetail>,
    sent: Option<SweepDetail>,
}

impl SweepOne {
    /// The subscription, or the message for a sweep that does not exist in `project`.
    pub fn open(
        sweeps: Arc<Controller>,
        project: String,
        sweep: String,
    ) -> Result<SweepOne, String> {
        let first = sweeps
            .detail(Some(&project), &sweep)
            .map_err(|e| e.client_message())?;
        Ok(SweepOne {
            project,
            sweep,
            sweeps,
            opened: Some(first),
            sent: None,
        })
    }
}

impl Subscription for SweepOne {
    fn serve(&mut self, _store: &Store, id: SubId, first: bool) -> Vec<ServerMsg> {
        let read = match self.opened.take() {
            Some(detail) => Ok(detail),
            None => self.sweeps.detail(Some(&self.project), &self.sweep),
        };
        let detail = match read {
            Ok(detail) => detail,
            Err(e) => {
                tracing::warn!(sweep = %self.sweep, error = %e, "reading a sweep");
                return Vec::new();
            }
        };
        if !first && self.sent.as_ref() == Some(&detail) {
            return Vec::new();
        }
        self.sent = Some(detail.clone());
        vec![ServerMsg::Sweep {
            sub: id,
            detail: Box::new(detail),
        }]
    }

    fn on_event(&mut self, store: &Store, id: SubId, event: &Event) -> Vec<ServerMsg> {
        match event {
            Event::Sweeps { sweep, .. } if *sweep == self.sweep => self.serve(store, id, false),
            _ => Vec::new(),
        }
    }
}
