//! The project's saved layout (`GET`/`PUT api/projects/{p}/workspace`, docs/api.md), which two
//! parts of the project page share: the runs table (`layout.table`) and the chart workspace
//! (`layout.workspace`). Each is a [`Part`] and saves only its own key.
//!
//! Saves are versioned, so neither a teammate's save nor the other part's is lost:
//!
//! - An editor remembers the part as it last read or saved it (its *base*). To save, it reads the
//!   layout afresh, merges its own changes (base → now) into the part as stored ([`merge3`]: keys it
//!   did not touch keep the stored values, a teammate's included), and `PUT`s the result with the
//!   version it read.
//! - If someone saved in between, the daemon answers `409` with the stored layout and version; the
//!   same merge is done on that and saved again (a few times at most, never in a loop).
//! - The part as stored is handed back, so the editor can show the teammate's changes and keep its
//!   own edits made meanwhile on top ([`rebase`]).
//!
//! [`Saver`] does all of this for an editor, one save at a time.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

use crate::api::{ApiError, unreachable};
use crate::util::encode;

/// A part of the layout, stored under [`Part::KEY`]. Missing or malformed fields take defaults.
pub trait Part: Serialize + DeserializeOwned + Default + PartialEq + Clone {
    const KEY: &'static str;

    /// This part of a saved layout (defaults when absent or malformed).
    fn from_layout(layout: &Value) -> Self {
        layout.get(Self::KEY).map_or_else(Self::default, from_value)
    }
}

fn from_value<P: Part>(v: &Value) -> P {
    serde_json::from_value(v.clone()).unwrap_or_default()
}

fn to_value<P: Part>(p: &P) -> Value {
    serde_json::to_value(p).unwrap_or(Value::Null)
}

/// A saved layout and its version (`0`: nothing saved yet).
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct Saved {
    #[serde(default)]
    pub layout: Value,
    #[serde(default)]
    pub version: u64,
}

/// The answer to a `PUT`.
#[derive(Clone, Debug, PartialEq)]
pub enum Put {
    Saved,
    /// Someone saved first: this is what is stored now.
    Conflict(Saved),
}

/// Saves made one after another before giving up (each after a teammate's save came first).
pub const MAX_ATTEMPTS: usize = 5;

/// Three-way merge of JSON values (`None`: absent): `ours` and `theirs` both derive from `base`.
/// A side that left a value as it was takes the other's; objects changed on both sides are merged
/// key by key; anything else changed on both sides takes `ours` (the change being saved).
pub fn merge3(base: Option<&Value>, ours: Option<&Value>, theirs: Option<&Value>) -> Option<Value> {
    if ours == base {
        return theirs.cloned();
    }
    if theirs == base || theirs == ours {
        return ours.cloned();
    }
    if let (Some(Value::Object(b)), Some(Value::Object(o)), Some(Value::Object(t))) =
        (base, ours, theirs)
    {
        let keys: BTreeSet<&String> = b.keys().chain(o.keys()).chain(t.keys()).collect();
        let mut out = Map::new();
        for k in keys {
            if let Some(v) = merge3(b.get(k), o.get(k), t.get(k)) {
                out.insert(k.clone(), v);
            }
        }
        return Some(Value::Object(out));
    }
    ours.cloned()
}

/// The layout to save: `stored` with part `P` holding our changes (`base` → `ours`) merged into
/// what it holds now; and that part.
pub fn merged_layout<P: Part>(stored: &Value, base: &P, ours: &P) -> (Value, Option<Value>) {
    let part = merge3(
        Some(&to_value(base)),
        Some(&to_value(ours)),
        stored.get(P::KEY),
    );
    let mut obj = match stored {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    match &part {
        Some(v) => obj.insert(P::KEY.to_string(), v.clone()),
        None => obj.remove(P::KEY),
    };
    (Value::Object(obj), part)
}

/// The editor's part after a save of `sent` stored `stored`: `stored`, with the edits made since
/// `sent` (`sent` → `local`) on top.
pub fn rebase<P: Part>(sent: &P, local: &P, stored: &P) -> P {
    if local == sent {
        return stored.clone();
    }
    merge3(
        Some(&to_value(sent)),
        Some(&to_value(local)),
        Some(&to_value(stored)),
    )
    .map_or_else(P::default, |v| from_value(&v))
}

/// Saves our changes to part `P` (`base` → `ours`) into the layout `stored` (as read), through
/// `put(layout, version)`; on a conflict, merges into what the daemon says is stored and tries
/// again. Returns the part as stored.
pub async fn save_onto<P, F, Fut>(
    mut stored: Saved,
    base: &P,
    ours: &P,
    mut put: F,
) -> Result<P, ApiError>
where
    P: Part,
    F: FnMut(Value, u64) -> Fut,
    Fut: Future<Output = Result<Put, ApiError>>,
{
    for _ in 0..MAX_ATTEMPTS {
        let (layout, part) = merged_layout(&stored.layout, base, ours);
        match put(layout, stored.version).await? {
            Put::Saved => return Ok(part.as_ref().map_or_else(P::default, from_value)),
            Put::Conflict(now) => stored = now,
        }
    }
    Err(ApiError {
        status: Some(409),
        code: Some("version_conflict".into()),
        message: format!(
            "the workspace changed {MAX_ATTEMPTS} times while saving; the next change saves again"
        ),
    })
}

pub fn workspace_url(project: &str) -> String {
    format!("api/projects/{}/workspace", encode(project))
}

fn unexpected(status: u16, e: impl std::fmt::Display) -> ApiError {
    ApiError {
        status: Some(status),
        code: None,
        message: format!("unexpected workspace answer: {e}"),
    }
}

/// The saved layout (`Value::Null` when nothing was saved yet) and its version.
pub async fn load(project: &str) -> Result<Saved, ApiError> {
    let resp = gloo_net::http::Request::get(&workspace_url(project))
        .send()
        .await
        .map_err(unreachable)?;
    let status = resp.status();
    let text = resp.text().await.map_err(unreachable)?;
    if !(200..300).contains(&status) {
        return Err(ApiError::from_response(status, &text));
    }
    serde_json::from_str(&text).map_err(|e| unexpected(status, e))
}

/// `PUT`s `layout` as based on `version`.
async fn put(project: &str, layout: Value, version: u64) -> Result<Put, ApiError> {
    let resp = gloo_net::http::Request::put(&workspace_url(project))
        .json(&json!({ "layout": layout, "version": version }))
        .map_err(unreachable)?
        .send()
        .await
        .map_err(unreachable)?;
    let status = resp.status();
    if (200..300).contains(&status) {
        return Ok(Put::Saved);
    }
    let text = resp.text().await.unwrap_or_default();
    if status == 409 {
        return serde_json::from_str(&text)
            .map(Put::Conflict)
            .map_err(|e| unexpected(status, e));
    }
    Err(ApiError::from_response(status, &text))
}

/// Saves our changes to part `P` (`base`: as last read or saved; `ours`: now) without losing
/// anyone else's; returns the part as stored.
pub async fn save<P: Part>(project: &str, base: &P, ours: &P) -> Result<P, ApiError> {
    let stored = load(project).await?;
    save_onto(stored, base, ours, |layout, version| {
        put(project, layout, version)
    })
    .await
}

/// Saves one editor's part `P` (held in `local`): one save at a time, always of the latest state,
/// each merged onto what is stored (see the module's doc). Nothing is saved before [`Saver::loaded`]
/// gave the part as stored: a failed load is never saved over.
#[derive(Debug)]
pub struct Saver<P: Part + Send + Sync + 'static> {
    project: StoredValue<String>,
    local: RwSignal<P>,
    /// The part as last loaded or saved: what the local changes are made from.
    base: StoredValue<Option<P>>,
    busy: StoredValue<bool>,
    again: StoredValue<bool>,
    /// The last save's failure, for people (`None` after a save that worked).
    error: RwSignal<Option<String>>,
    what: &'static str,
}

impl<P: Part + Send + Sync + 'static> Clone for Saver<P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P: Part + Send + Sync + 'static> Copy for Saver<P> {}

impl<P: Part + Send + Sync + 'static> Saver<P> {
    /// A saver of `local` for `project`; failures go to `error` as "Could not save the {what}: …".
    pub fn new(
        project: String,
        local: RwSignal<P>,
        error: RwSignal<Option<String>>,
        what: &'static str,
    ) -> Saver<P> {
        Saver {
            project: StoredValue::new(project),
            local,
            base: StoredValue::new(None),
            busy: StoredValue::new(false),
            again: StoredValue::new(false),
            error,
            what,
        }
    }

    /// Reads the part as stored (defaults when nothing was saved yet). Hand it to
    /// [`Saver::loaded`] once the page took it.
    pub async fn load(self) -> Result<P, ApiError> {
        let project = self.project.get_value();
        let saved = load(&project).await?;
        Ok(P::from_layout(&saved.layout))
    }

    /// The part as stored, read when the page opened: saves may start.
    pub fn loaded(self, stored: P) {
        self.base.set_value(Some(stored));
    }

    pub fn is_loaded(self) -> bool {
        self.base.try_with_value(Option::is_some).unwrap_or(false)
    }

    /// Whether `p` is the part as last loaded or saved (nothing to save).
    pub fn is_saved(self, p: &P) -> bool {
        self.base
            .try_with_value(|b| b.as_ref() == Some(p))
            .unwrap_or(false)
    }

    /// Saves the local part if it changed (after the save under way, if there is one). When the
    /// save is done, `local` shows the part as stored with the edits made meanwhile on top.
    pub fn save(self) {
        let Some(Some(base)) = self.base.try_get_value() else {
            return;
        };
        if self.busy.get_value() {
            self.again.set_value(true);
            return;
        }
        let Some(sent) = self.local.try_get_untracked() else {
            return;
        };
        if sent == base {
            return;
        }
        self.busy.set_value(true);
        let project = self.project.get_value();
        spawn_local(async move {
            let res = save(&project, &base, &sent).await;
            if self.busy.is_disposed() {
                return;
            }
            self.busy.set_value(false);
            match res {
                Ok(stored) => {
                    self.base.set_value(Some(stored.clone()));
                    let local = self.local.get_untracked();
                    let next = rebase(&sent, &local, &stored);
                    if next != local {
                        self.local.set(next);
                    }
                    self.error.set(None);
                }
                // Not retried: the next change saves again (the base stays, so it carries this
                // one's changes too).
                Err(e) => self
                    .error
                    .set(Some(format!("Could not save the {}: {e}", self.what))),
            }
            if self.again.get_value() {
                self.again.set_value(false);
                self.save();
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::cell::RefCell;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    #[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
    #[serde(default)]
    struct Demo {
        search: String,
        collapsed: Vec<String>,
        panels: std::collections::BTreeMap<String, Value>,
    }

    impl Part for Demo {
        const KEY: &'static str = "demo";
    }

    /// Runs a future that never waits (the fake daemon below answers at once).
    fn now<T>(f: impl Future<Output = T>) -> T {
        let mut cx = Context::from_waker(Waker::noop());
        match pin!(f).as_mut().poll(&mut cx) {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("the fake daemon never waits"),
        }
    }

    fn v(x: Value) -> Option<Value> {
        Some(x)
    }

    #[test]
    fn merge3_keeps_both_sides_changes() {
        let base = json!({"a": 1, "b": {"x": 1, "y": 1}, "gone": 1, "kept": 1});
        let ours = json!({"a": 2, "b": {"x": 2, "y": 1}, "kept": 1, "new": 1});
        let theirs = json!({"a": 1, "b": {"x": 1, "y": 3}, "gone": 1, "kept": 5, "extra": true});
        assert_eq!(
            merge3(Some(&base), Some(&ours), Some(&theirs)),
            v(json!({"a": 2, "b": {"x": 2, "y": 3}, "kept": 5, "new": 1, "extra": true}))
        );
        // Both changed the same value: ours (the change being saved).
        assert_eq!(
            merge3(Some(&json!(1)), Some(&json!(2)), Some(&json!(3))),
            v(json!(2))
        );
        // Unchanged by us: theirs, even when they removed it.
        assert_eq!(merge3(Some(&json!(1)), Some(&json!(1)), None), None);
        // Nothing stored yet: ours.
        assert_eq!(merge3(Some(&base), Some(&ours), None), v(ours.clone()));
        // They removed what we changed: ours comes back.
        assert_eq!(
            merge3(
                Some(&json!({"k": 1})),
                Some(&json!({"k": 2})),
                Some(&json!({}))
            ),
            v(json!({"k": 2}))
        );
    }

    #[test]
    fn the_layout_keeps_other_parts_and_teammates_changes() {
        let base = Demo {
            search: "loss".into(),
            ..Default::default()
        };
        let ours = Demo {
            search: "acc".into(),
            ..base.clone()
        };
        // Since we read it: a teammate folded a section, and the table saved its part.
        let stored = json!({
            "table": {"filter": "x"},
            "demo": {"search": "loss", "collapsed": ["train"], "panels": {}, "future": 1},
        });
        let (layout, part) = merged_layout(&stored, &base, &ours);
        assert_eq!(layout["table"], json!({"filter": "x"}));
        assert_eq!(
            layout["demo"],
            json!({"search": "acc", "collapsed": ["train"], "panels": {}, "future": 1})
        );
        assert_eq!(part.as_ref(), Some(&layout["demo"]));
        // Nothing saved yet.
        let (layout, _) = merged_layout(&Value::Null, &base, &ours);
        assert_eq!(layout, json!({"demo": to_value(&ours)}));
    }

    #[test]
    fn rebase_keeps_edits_made_while_saving() {
        let sent = Demo {
            search: "a".into(),
            ..Default::default()
        };
        let stored = Demo {
            collapsed: vec!["train".into()],
            ..sent.clone()
        };
        assert_eq!(rebase(&sent, &sent, &stored), stored);
        let local = Demo {
            search: "ab".into(),
            ..sent.clone()
        };
        assert_eq!(
            rebase(&sent, &local, &stored),
            Demo {
                search: "ab".into(),
                collapsed: vec!["train".into()],
                ..Default::default()
            }
        );
    }

    /// A daemon in memory: versions and 409s as the real one answers them.
    struct Fake {
        stored: RefCell<Saved>,
        puts: RefCell<Vec<u64>>,
        /// Saves a teammate makes just before each of our next PUTs.
        interleave: RefCell<Vec<Value>>,
    }

    impl Fake {
        fn new(layout: Value, version: u64) -> Fake {
            Fake {
                stored: RefCell::new(Saved { layout, version }),
                puts: RefCell::new(Vec::new()),
                interleave: RefCell::new(Vec::new()),
            }
        }

        async fn put(&self, layout: Value, version: u64) -> Result<Put, ApiError> {
            self.puts.borrow_mut().push(version);
            if !self.interleave.borrow().is_empty() {
                let theirs = self.interleave.borrow_mut().remove(0);
                let mut s = self.stored.borrow_mut();
                s.layout = theirs;
                s.version += 1;
            }
            let mut s = self.stored.borrow_mut();
            if version != s.version {
                return Ok(Put::Conflict(s.clone()));
            }
            *s = Saved {
                layout,
                version: version + 1,
            };
            Ok(Put::Saved)
        }
    }

    #[test]
    fn a_conflict_is_merged_and_saved_again() {
        let base = Demo::default();
        let ours = Demo {
            search: "loss".into(),
            ..Default::default()
        };
        let fake = Fake::new(json!({"demo": to_value(&base)}), 3);
        // A teammate folds a section between our read and our save.
        fake.interleave.borrow_mut().push(json!({
            "demo": {"search": "", "collapsed": ["val"], "panels": {}},
            "table": {"filter": "t"},
        }));
        let read = fake.stored.borrow().clone();
        let stored = now(save_onto(read, &base, &ours, |l, ver| fake.put(l, ver))).unwrap();
        assert_eq!(
            *fake.puts.borrow(),
            [3, 4],
            "refused once, then saved on version 4"
        );
        assert_eq!(stored.search, "loss");
        assert_eq!(stored.collapsed, ["val"]);
        let s = fake.stored.borrow();
        assert_eq!(s.version, 5);
        assert_eq!(s.layout["table"], json!({"filter": "t"}));
        assert_eq!(Demo::from_layout(&s.layout), stored);
    }

    #[test]
    fn saving_gives_up_after_a_few_conflicts() {
        let fake = Fake::new(Value::Null, 0);
        for i in 0..MAX_ATTEMPTS {
            fake.interleave
                .borrow_mut()
                .push(json!({"demo": {"search": format!("t{i}")}}));
        }
        let ours = Demo {
            search: "mine".into(),
            ..Default::default()
        };
        let read = fake.stored.borrow().clone();
        let res = now(save_onto(read, &Demo::default(), &ours, |l, ver| {
            fake.put(l, ver)
        }));
        let err = res.unwrap_err();
        assert_eq!(err.status, Some(409));
        assert_eq!(fake.puts.borrow().len(), MAX_ATTEMPTS);
    }
}
