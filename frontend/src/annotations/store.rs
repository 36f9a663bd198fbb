//! A project's annotations, live on the page: `GET api/projects/{p}/annotations`, then the
//! `annotations` WebSocket topic from the snapshot's `seq` (through [`crate::live::load`], so it
//! ends with the view), each event applied to the [`Model`]. Ops go out by `POST
//! …/annotations/ops` with this tab's `client_id` and a fresh `op_id`, and are sent again with the
//! SAME ids after no answer, a 5xx, a 408 or a 429 (its `Retry-After`): the daemon applies a
//! retried op once. The answer's event is applied at once; its WebSocket copy then changes nothing.
//!
//! Who am I: `GET api/me` ([`crate::share`]): the share link's id and label, or the local user
//! `{id: "local"}` without sharing; the `author` of this tab's own committed events (matched by
//! `client_id`) says the same and is used when it comes first. The daemon checks authorship
//! itself, so a wrong guess would only show a button the daemon then refuses.

use leptos::prelude::*;
use std::cell::RefCell;
use trackline_shared::annotations::{
    AnnotationEvent, Author, Op, OpOutcome, OpRequest, ProjectAnnotations,
};
use trackline_shared::share::Identity;
use trackline_shared::ws::{ServerMsg, Topic};

use super::model::{Model, local_author};
use super::ops::{Attempt, Ids, retry_delay};
use crate::api::{self, ApiError};
use crate::live::load;
use crate::util::encode;

thread_local! {
    /// This tab's ids; made on first use.
    static IDS: RefCell<Option<Ids>> = const { RefCell::new(None) };
    /// The author of this tab's committed events, once one was seen.
    static ME: RefCell<Option<Author>> = const { RefCell::new(None) };
}

fn with_ids<T>(f: impl FnOnce(&mut Ids) -> T) -> T {
    IDS.with_borrow_mut(|ids| f(ids.get_or_insert_with(|| Ids::new(js_sys::Math::random))))
}

/// A new thread (`'t'`) or comment (`'c'`) id.
pub fn new_id(kind: char) -> String {
    with_ids(|ids| ids.entity(kind))
}

pub fn annotations_url(project: &str) -> String {
    format!("api/projects/{}/annotations", encode(project))
}

pub fn ops_url(project: &str) -> String {
    format!("api/projects/{}/annotations/ops", encode(project))
}

/// One project's annotations on this page; `Copy`, shared as context.
#[derive(Clone, Copy)]
pub struct Annotations {
    pub project: StoredValue<String>,
    pub model: RwSignal<Model>,
    pub me: RwSignal<Author>,
    /// An owner may delete anyone's comment.
    pub owner: RwSignal<bool>,
    /// Whether this page may annotate (a viewer's link may not: its editors are hidden).
    pub writer: RwSignal<bool>,
    pub loaded: RwSignal<bool>,
    pub error: RwSignal<Option<String>>,
    /// A thread asked to be shown (a chart marker was clicked), with a counter so clicking the
    /// same marker twice opens it twice.
    pub focus: RwSignal<Option<(String, u64)>>,
}

/// Loads `project`'s annotations for as long as the current view lives and provides them as
/// context to the views below (charts draw pins from it).
pub fn provide_annotations(project: &str) -> Annotations {
    let a = Annotations {
        project: StoredValue::new(project.to_string()),
        model: RwSignal::new(Model::default()),
        me: RwSignal::new(ME.with_borrow(Clone::clone).unwrap_or_else(local_author)),
        owner: RwSignal::new(false),
        writer: RwSignal::new(true),
        loaded: RwSignal::new(false),
        error: RwSignal::new(None),
        focus: RwSignal::new(None),
    };
    provide_context(a);
    if let Some(sharing) = use_context::<crate::share::Sharing>() {
        Effect::new(move |_| {
            if let Some(id) = sharing.me.get() {
                a.owner.set(id.is_owner());
                a.writer.set(id.scope != "viewer");
                a.learn_me(&author_of(&id));
            }
        });
    }
    let url = annotations_url(project);
    let project = project.to_string();
    load(
        async move { api::get_json::<ProjectAnnotations>(&url).await },
        move |res| {
            let since = match res {
                Ok(snap) => {
                    let since = snap.seq;
                    a.model.set(Model::from_snapshot(snap));
                    since
                }
                Err(e) => {
                    a.error
                        .set(Some(format!("Could not load annotations: {e}")));
                    0
                }
            };
            a.loaded.set(true);
            crate::ws::use_subscription(
                Topic::Annotations { project, since },
                move |msg| match msg {
                    ServerMsg::Annotations { events, .. } => a.apply(&events),
                    ServerMsg::Error { message, .. } => {
                        a.error
                            .try_set(Some(format!("Live annotations failed: {message}")));
                    }
                    _ => {}
                },
            );
        },
    );
    a
}

/// The author this identity's ops are logged under.
pub fn author_of(id: &Identity) -> Author {
    Author {
        id: id.link_id.clone().unwrap_or_else(|| local_author().id),
        label: id.label.clone(),
    }
}

pub fn use_annotations() -> Option<Annotations> {
    use_context::<Annotations>()
}

impl Annotations {
    fn apply(self, events: &[AnnotationEvent]) {
        if events.is_empty() {
            return;
        }
        let mine = with_ids(|ids| ids.client_id.clone());
        if let Some(e) = events.iter().rev().find(|e| e.client_id == mine) {
            self.learn_me(&e.author);
        }
        self.model.try_update(|m| {
            for e in events {
                m.apply(e);
            }
        });
    }

    fn learn_me(self, author: &Author) {
        ME.with_borrow_mut(|me| *me = Some(author.clone()));
        if self.me.try_with_untracked(|m| m != author) == Some(true) {
            self.me.try_set(author.clone());
        }
    }

    /// Sends `op` (retrying as the module doc says) and applies what it answers: the committed
    /// event, or the current value of a conflict (also returned, for the editor to show).
    pub async fn send(self, op: Op) -> Result<OpOutcome, ApiError> {
        let (client_id, op_id) = with_ids(|ids| (ids.client_id.clone(), ids.op()));
        let req = OpRequest {
            client_id,
            op_id,
            op,
        };
        let url = ops_url(&self.project.get_value());
        let outcome = post_with_retry(&url, &req).await?;
        match &outcome {
            OpOutcome::Committed { event } => self.apply(std::slice::from_ref(event)),
            OpOutcome::Conflict { current } => {
                self.model.try_update(|m| m.apply_current(current));
            }
        }
        Ok(outcome)
    }
}

async fn post_with_retry(url: &str, req: &OpRequest) -> Result<OpOutcome, ApiError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let (what, err) = match post_once(url, req).await {
            Ok(outcome) => return Ok(outcome),
            Err(e) => e,
        };
        match retry_delay(attempt, &what) {
            Some(delay) => gloo_timers::future::sleep(delay).await,
            None => return Err(err),
        }
    }
}

async fn post_once(url: &str, req: &OpRequest) -> Result<OpOutcome, (Attempt, ApiError)> {
    let no_answer = |message: String| {
        (
            Attempt::NoAnswer,
            ApiError {
                status: None,
                code: None,
                message,
            },
        )
    };
    let request = gloo_net::http::Request::post(url)
        .json(req)
        .map_err(|e| no_answer(format!("could not send the change ({e})")))?;
    let resp = request
        .send()
        .await
        .map_err(|e| no_answer(format!("could not reach the Trackline daemon ({e})")))?;
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.trim().parse::<f64>().ok());
    let body = resp
        .text()
        .await
        .map_err(|e| no_answer(format!("the answer broke off ({e})")))?;
    if !(200..300).contains(&status) {
        return Err((
            Attempt::Status {
                code: status,
                retry_after,
            },
            ApiError::from_response(status, &body),
        ));
    }
    serde_json::from_str(&body).map_err(|e| {
        (
            Attempt::Status {
                code: 400,
                retry_after: None,
            },
            ApiError {
                status: Some(status),
                code: None,
                message: format!("unexpected answer from {url}: {e}"),
            },
        )
    })
}
