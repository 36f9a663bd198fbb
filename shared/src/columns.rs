//! What a runs-table column is, and the value a run has in it; how runs sort by it.
//!
//! A column is named by an id that is also how the filter language ([`crate::filter`]) names it:
//! a run field (`name`, `state`, `created`, `runtime`, `tags`, `group`, `notes`, `id`, `host`,
//! `job_type`), or `config.<key>` / `summary.<key>` with nested keys flattened by `.`
//! (`config.optimizer.lr`, `summary.val/loss`). `flat.rs` flattens and formats JSON values,
//! `order.rs` sorts runs by a column exactly as the runs table does.

mod flat;
mod order;

use serde_json::{Map, Value};
use std::borrow::Cow;

use crate::api::{RunInfo, RunState};
use crate::num;

pub use flat::{flatten, lookup, value, walk_flat};
pub use order::{Key, base_order, cmp_keys, compare, key, natural_cmp, sort};

/// A column (and a filter field).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Name,
    State,
    Created,
    Runtime,
    Tags,
    Group,
    Notes,
    Id,
    Host,
    JobType,
    Config(String),
    Summary(String),
}

/// The run fields, in the order the column picker lists them.
pub const RUN_FIELDS: [Field; 10] = [
    Field::Name,
    Field::State,
    Field::Created,
    Field::Runtime,
    Field::Tags,
    Field::Group,
    Field::Notes,
    Field::Id,
    Field::Host,
    Field::JobType,
];

impl Field {
    /// Parses a column id (`name`, `config.lr`, `summary.val/loss`). `created_at`, `runtime_secs`
    /// and `job` are accepted as aliases.
    pub fn parse(id: &str) -> Option<Field> {
        if let Some(k) = id.strip_prefix("config.") {
            return (!k.is_empty()).then(|| Field::Config(k.to_string()));
        }
        if let Some(k) = id.strip_prefix("summary.") {
            return (!k.is_empty()).then(|| Field::Summary(k.to_string()));
        }
        Some(match id {
            "name" => Field::Name,
            "state" => Field::State,
            "created" | "created_at" => Field::Created,
            "runtime" | "runtime_secs" => Field::Runtime,
            "tags" => Field::Tags,
            "group" => Field::Group,
            "notes" => Field::Notes,
            "id" => Field::Id,
            "host" => Field::Host,
            "job_type" | "job" => Field::JobType,
            _ => return None,
        })
    }

    /// The column id, the inverse of [`Field::parse`].
    pub fn id(&self) -> String {
        match self {
            Field::Config(k) => format!("config.{k}"),
            Field::Summary(k) => format!("summary.{k}"),
            other => other.short().to_string(),
        }
    }

    fn short(&self) -> &str {
        match self {
            Field::Name => "name",
            Field::State => "state",
            Field::Created => "created",
            Field::Runtime => "runtime",
            Field::Tags => "tags",
            Field::Group => "group",
            Field::Notes => "notes",
            Field::Id => "id",
            Field::Host => "host",
            Field::JobType => "job_type",
            Field::Config(k) | Field::Summary(k) => k,
        }
    }

    /// Header text: the key without its `config.`/`summary.` prefix (the header's colour tells
    /// which), a capitalised word for run fields.
    pub fn label(&self) -> String {
        match self {
            Field::Config(k) | Field::Summary(k) => k.clone(),
            Field::Name => "Name".into(),
            Field::State => "State".into(),
            Field::Created => "Created".into(),
            Field::Runtime => "Runtime".into(),
            Field::Tags => "Tags".into(),
            Field::Group => "Group".into(),
            Field::Notes => "Notes".into(),
            Field::Id => "ID".into(),
            Field::Host => "Host".into(),
            Field::JobType => "Job type".into(),
        }
    }

    /// The key as group headers show it (`optimizer = adam`).
    pub fn group_label(&self) -> &str {
        self.short()
    }

    /// Default width in CSS pixels.
    pub fn default_width(&self) -> f64 {
        match self {
            Field::Name => 200.0,
            Field::State => 92.0,
            Field::Created => 164.0,
            Field::Runtime => 88.0,
            Field::Tags | Field::Notes => 160.0,
            Field::Id => 96.0,
            _ => 120.0,
        }
    }
}

/// A run's value in a column, borrowed from the run where it can be.
#[derive(Clone, Debug, PartialEq)]
pub enum Val<'a> {
    /// The run has no such key (or the optional field is unset).
    Missing,
    Json(&'a Value),
    Str(&'a str),
    Num(f64),
    Tags(&'a [String]),
}

impl<'a> Val<'a> {
    /// The number it reads as: JSON numbers, the non-finite strings (`"NaN"`, ...), numbers.
    /// Booleans are not numbers here.
    pub fn number(&self) -> Option<f64> {
        match self {
            Val::Num(x) => Some(*x),
            Val::Json(Value::Number(n)) => n.as_f64(),
            Val::Json(Value::String(s)) => num::parse_nonfinite(s),
            _ => None,
        }
    }

    /// A string value's text (not numbers', not lists').
    pub fn str(&self) -> Option<&'a str> {
        match self {
            Val::Str(s) => Some(s),
            Val::Json(Value::String(s)) if num::parse_nonfinite(s).is_none() => Some(s.as_str()),
            _ => None,
        }
    }

    pub fn bool(&self) -> Option<bool> {
        match self {
            Val::Json(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    pub fn is_missing(&self) -> bool {
        matches!(self, Val::Missing)
    }

    /// Missing, or an explicit JSON `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Val::Missing | Val::Json(Value::Null))
    }

    /// Text for display and for text comparisons: numbers as the table shows them, tags joined
    /// by `, `, missing as `None`.
    pub fn text(&self) -> Option<Cow<'a, str>> {
        match self {
            Val::Missing => None,
            Val::Str(s) => Some(Cow::Borrowed(s)),
            Val::Json(Value::String(s)) if num::parse_nonfinite(s).is_none() => {
                Some(Cow::Borrowed(s.as_str()))
            }
            Val::Json(v) => Some(Cow::Owned(value(v))),
            Val::Num(x) => Some(Cow::Owned(num::display(*x))),
            Val::Tags(t) => Some(Cow::Owned(t.join(", "))),
        }
    }

    /// The elements when it is a list (tags, a JSON array).
    pub fn elements(&self) -> Option<Vec<Val<'a>>> {
        match self {
            Val::Tags(t) => Some(t.iter().map(|s| Val::Str(s)).collect()),
            Val::Json(Value::Array(a)) => Some(a.iter().map(Val::Json).collect()),
            _ => None,
        }
    }
}

/// The run's value in column `f`. `now` (unix seconds) is for the runtime of running runs.
pub fn get<'a>(r: &'a RunInfo, f: &Field, now: f64) -> Val<'a> {
    fn opt(s: &Option<String>) -> Val<'_> {
        s.as_deref().map_or(Val::Missing, Val::Str)
    }
    match f {
        Field::Name => Val::Str(&r.name),
        Field::State => Val::Str(r.state.as_str()),
        Field::Created => Val::Num(r.created_at_secs),
        Field::Runtime => Val::Num(live_runtime(r, now)),
        Field::Tags => Val::Tags(&r.tags),
        Field::Group => opt(&r.group),
        Field::Notes => opt(&r.notes),
        Field::Id => Val::Str(&r.id),
        Field::Host => opt(&r.host),
        Field::JobType => opt(&r.job_type),
        Field::Config(k) => json_at(&r.config, k),
        Field::Summary(k) => json_at(&r.summary, k),
    }
}

fn json_at<'a>(map: &'a Map<String, Value>, key: &str) -> Val<'a> {
    lookup(map, key).map_or(Val::Missing, Val::Json)
}

/// A rank for sorting states: running first, then crashed, failed, finished.
pub fn state_rank(s: &str) -> u8 {
    match s {
        "running" => 0,
        "crashed" => 1,
        "failed" => 2,
        "finished" => 3,
        _ => 4,
    }
}

/// Runtime to show: the daemon's figure, or for a running run the time since creation if later.
pub fn live_runtime(r: &RunInfo, now: f64) -> f64 {
    if r.state == RunState::Running && now.is_finite() {
        r.runtime_secs.max(now - r.created_at_secs)
    } else {
        r.runtime_secs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_round_trip() {
        for id in [
            "name",
            "state",
            "created",
            "runtime",
            "tags",
            "group",
            "notes",
            "id",
            "host",
            "job_type",
            "config.opt.lr",
            "summary.val/loss",
        ] {
            assert_eq!(Field::parse(id).unwrap().id(), id);
        }
        assert_eq!(Field::parse("created_at"), Some(Field::Created));
        assert_eq!(Field::parse("config."), None);
        assert_eq!(Field::parse("nme"), None);
    }

    #[test]
    fn values() {
        let r = RunInfo {
            name: "resnet".into(),
            tags: vec!["a".into()],
            config: json!({"opt": {"lr": 0.1}, "bad": "NaN", "s": "x"})
                .as_object()
                .unwrap()
                .clone(),
            ..Default::default()
        };
        assert_eq!(
            get(&r, &Field::Config("opt.lr".into()), 0.0).number(),
            Some(0.1)
        );
        assert!(
            get(&r, &Field::Config("bad".into()), 0.0)
                .number()
                .unwrap()
                .is_nan()
        );
        assert_eq!(get(&r, &Field::Config("bad".into()), 0.0).str(), None);
        assert_eq!(get(&r, &Field::Config("s".into()), 0.0).str(), Some("x"));
        assert!(get(&r, &Field::Group, 0.0).is_missing());
        assert!(get(&r, &Field::Summary("x".into()), 0.0).is_missing());
        assert_eq!(get(&r, &Field::Tags, 0.0).text().unwrap(), "a");
    }
}
