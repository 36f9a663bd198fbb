//! What this browser remembers of a project page between visits, in `localStorage`: the runs
//! selected for the charts and the groups folded in the runs table.
//!
//! This is per browser on purpose. The shared layout (columns, filter, charts) lives in the daemon
//! so a teammate sees it too; which runs one person is looking at right now is theirs, and a
//! teammate opening the same project must not have it overwritten by someone else's choice.
//!
//! Everything here is a plain function, tested on the host; [`crate::browser::local_get`] and
//! [`crate::browser::local_set`] do the storing. What is read may be anything (an older version, a
//! value written by hand or by another page of the same origin, a truncated write), so reading
//! never fails: what cannot be understood is ignored, and at most [`MAX_RAW`] bytes,
//! [`MAX_SELECTED`] run ids and [`MAX_GROUP_KEYS`] × [`MAX_FOLDS`] group values are taken.
//!
//! Stored values (`v` is the format; another version is ignored):
//!
//! ```json
//! {"v": 1, "selected": ["k3x9q2ab", "p0a8d1zz"], "seen_until": 1764430000.5}
//! {"v": 1, "folded": {"config.optimizer": ["sgd"], "state": ["crashed", "failed"]}}
//! ```

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::collections::BTreeSet;
use std::fmt;

/// Longest stored value that is parsed at all (bytes); a longer one is ignored whole.
pub const MAX_RAW: usize = 1 << 20;
/// Most run ids kept of a stored selection (and written: with more selected, those the charts
/// draw first). 10,000 ids of the longest kind (64 characters) stay under [`MAX_RAW`].
pub const MAX_SELECTED: usize = 10_000;
/// Most group-by columns whose folds are remembered (the most recently changed ones).
pub const MAX_GROUP_KEYS: usize = 20;
/// Most folded groups remembered per group-by column.
pub const MAX_FOLDS: usize = 1_000;
/// Longest group value or group-by id remembered (characters); longer ones are not.
pub const MAX_VALUE_LEN: usize = 500;
/// The stored format.
const VERSION: u32 = 1;

/// The `localStorage` key of `kind` (`selection`, `folds`) for a project of the app mounted at
/// `base` (`""` or `/prefix`): `trackline:selection:/projects/mnist`. The mount path is part of
/// it, so two daemons behind one origin under different prefixes do not share it.
pub fn storage_key(kind: &str, base: &str, project: &str) -> String {
    format!(
        "trackline:{kind}:{base}{}",
        crate::util::project_path(project)
    )
}

/// A run id as the run format allows it: `[A-Za-z0-9_-]{1,64}` (docs/format.md).
pub fn is_run_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `v` if it is a string of at most [`MAX_VALUE_LEN`] characters.
fn short_string(v: serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) if s.chars().count() <= MAX_VALUE_LEN => Some(s),
        _ => None,
    }
}

/// At most `N` strings of at most [`MAX_VALUE_LEN`] characters from a JSON array, in order;
/// other elements are skipped, and the rest of the array is read without keeping anything.
struct Capped<const N: usize>(Vec<String>);

impl<'de, const N: usize> Deserialize<'de> for Capped<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<const N: usize>;
        impl<'de, const N: usize> Visitor<'de> for V<N> {
            type Value = Capped<N>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of strings")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Capped<N>, A::Error> {
                let mut out = Vec::new();
                while out.len() < N {
                    match seq.next_element::<serde_json::Value>()? {
                        None => return Ok(Capped(out)),
                        Some(v) => out.extend(short_string(v)),
                    }
                }
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Capped(out))
            }
        }
        d.deserialize_seq(V::<N>)
    }
}

#[derive(Deserialize)]
struct StoredSelection {
    v: u32,
    selected: Capped<MAX_SELECTED>,
    /// The newest creation time (unix seconds) among the runs the page knew when it saved.
    #[serde(default)]
    seen_until: Option<f64>,
}

/// A stored selection as read back.
#[derive(Clone, Debug, PartialEq)]
pub struct Remembered {
    pub ids: Vec<String>,
    /// Runs created after this (unix seconds) were not there when it was saved: they join the
    /// selection, as a run that appears while the page is open does. `None` in older values.
    pub seen_until: Option<f64>,
}

/// The run ids of a stored selection (at most [`MAX_SELECTED`], valid run ids only), or `None`
/// when `raw` is not a stored selection of this version (garbage, too long, another format).
pub fn parse_selection(raw: &str) -> Option<Vec<String>> {
    parse_remembered(raw).map(|r| r.ids)
}

/// [`parse_selection`] with the time up to which runs were known when it was saved.
pub fn parse_remembered(raw: &str) -> Option<Remembered> {
    if raw.len() > MAX_RAW {
        return None;
    }
    let s: StoredSelection = serde_json::from_str(raw).ok()?;
    (s.v == VERSION).then(|| Remembered {
        ids: s
            .selected
            .0
            .into_iter()
            .filter(|id| is_run_id(id))
            .collect(),
        seen_until: s.seen_until.filter(|t| t.is_finite()),
    })
}

/// What to select on load given the `stored` ids: those of runs that still exist, or `None` (the
/// default selection) when none of a non-empty stored selection is left. A stored empty
/// selection (Clear) stays empty.
pub fn restore(stored: &[String], exists: impl Fn(&str) -> bool) -> Option<BTreeSet<String>> {
    let kept: BTreeSet<String> = stored.iter().filter(|id| exists(id)).cloned().collect();
    (kept.is_empty() == stored.is_empty()).then_some(kept)
}

/// The stored form of `selected`: at most [`MAX_SELECTED`] ids, with more selected the first in
/// the table's `order` (the runs the charts draw), as [`crate::selection::chart_runs`] picks them.
pub fn selection_json(selected: &BTreeSet<String>, order: &[String]) -> String {
    selection_json_seen(selected, order, None)
}

/// [`selection_json`] that also records `seen_until`: the newest creation time among the runs the
/// page knows (see [`Remembered::seen_until`]).
pub fn selection_json_seen(
    selected: &BTreeSet<String>,
    order: &[String],
    seen_until: Option<f64>,
) -> String {
    #[derive(Serialize)]
    struct Out<'a> {
        v: u32,
        selected: &'a [String],
        #[serde(skip_serializing_if = "Option::is_none")]
        seen_until: Option<f64>,
    }
    let ids = crate::selection::chart_runs(selected, order, MAX_SELECTED);
    serde_json::to_string(&Out {
        v: VERSION,
        selected: &ids,
        seen_until: seen_until.filter(|t| t.is_finite()),
    })
    .unwrap_or_default()
}

/// Folded groups of the runs table per group-by column id, the most recently changed first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Folds(Vec<(String, BTreeSet<String>)>);

/// At most [`MAX_GROUP_KEYS`] entries of a JSON object of arrays, as [`Capped`] reads arrays.
struct CappedMap(Vec<(String, BTreeSet<String>)>);

impl<'de> Deserialize<'de> for CappedMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CappedMap;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of arrays")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CappedMap, A::Error> {
                let mut out: Vec<(String, BTreeSet<String>)> = Vec::new();
                while out.len() < MAX_GROUP_KEYS {
                    let Some(key) = map.next_key::<String>()? else {
                        return Ok(CappedMap(out));
                    };
                    // A value that is not an array loses its entry, not the rest.
                    let serde_json::Value::Array(items) = map.next_value()? else {
                        continue;
                    };
                    let values: BTreeSet<String> = items
                        .into_iter()
                        .filter_map(short_string)
                        .take(MAX_FOLDS)
                        .collect();
                    if key.chars().count() <= MAX_VALUE_LEN
                        && !values.is_empty()
                        && !out.iter().any(|(k, _)| *k == key)
                    {
                        out.push((key, values));
                    }
                }
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(CappedMap(out))
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Deserialize)]
struct StoredFolds {
    v: u32,
    folded: CappedMap,
}

impl Folds {
    /// Stored folds, or none when `raw` is not readable as such (see [`parse_selection`]).
    pub fn parse(raw: &str) -> Folds {
        if raw.len() > MAX_RAW {
            return Folds::default();
        }
        match serde_json::from_str::<StoredFolds>(raw) {
            Ok(s) if s.v == VERSION => Folds(s.folded.0),
            _ => Folds::default(),
        }
    }

    /// The folded group values when grouping by column `by`.
    pub fn get(&self, by: &str) -> BTreeSet<String> {
        self.0
            .iter()
            .find(|(k, _)| k == by)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// Folds group `value` of column `by`, or unfolds it if it was folded.
    pub fn toggle(&mut self, by: &str, value: &str) {
        let mut set = match self.0.iter().position(|(k, _)| k == by) {
            Some(i) => self.0.remove(i).1,
            None => BTreeSet::new(),
        };
        if !set.remove(value) {
            set.insert(value.to_string());
        }
        if !set.is_empty() {
            self.0.insert(0, (by.to_string(), set));
            self.0.truncate(MAX_GROUP_KEYS);
        }
    }

    /// The stored form: at most [`MAX_GROUP_KEYS`] columns (the most recently changed) and
    /// [`MAX_FOLDS`] values each, none longer than [`MAX_VALUE_LEN`] (they would not be read).
    pub fn to_json(&self) -> String {
        struct Map<'a>(&'a [(String, BTreeSet<String>)]);
        impl Serialize for Map<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let fits = |v: &&String| v.chars().count() <= MAX_VALUE_LEN;
                s.collect_map(
                    self.0
                        .iter()
                        .filter(|(k, _)| fits(&k))
                        .take(MAX_GROUP_KEYS)
                        .map(|(k, v)| {
                            let v: Vec<&String> = v.iter().filter(fits).take(MAX_FOLDS).collect();
                            (k, v)
                        }),
                )
            }
        }
        #[derive(Serialize)]
        struct Out<'a> {
            v: u32,
            folded: Map<'a>,
        }
        serde_json::to_string(&Out {
            v: VERSION,
            folded: Map(&self.0),
        })
        .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(v: &[&str]) -> BTreeSet<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn runs_created_after_a_save_are_told_apart() {
        let sel: BTreeSet<String> = strings(&["a"]).into_iter().collect();
        let json = selection_json_seen(&sel, &[], Some(1000.5));
        let back = parse_remembered(&json).unwrap();
        assert_eq!(back.ids, strings(&["a"]));
        assert_eq!(back.seen_until, Some(1000.5));
        // Older values have none; a non-number is ignored with the whole value.
        assert_eq!(
            parse_remembered(r#"{"v": 1, "selected": ["a"]}"#)
                .unwrap()
                .seen_until,
            None
        );
        assert_eq!(
            parse_remembered(r#"{"v": 1, "selected": ["a"], "seen_until": "x"}"#),
            None
        );
    }

    #[test]
    fn keys_are_namespaced_by_kind_mount_and_project() {
        assert_eq!(
            storage_key("selection", "", "mnist"),
            "trackline:selection:/projects/mnist"
        );
        assert_eq!(
            storage_key("folds", "/tl", "a b/c"),
            "trackline:folds:/tl/projects/a%20b%2Fc"
        );
    }

    #[test]
    fn a_selection_round_trips() {
        let sel = set(&["run01", "k3x9q2ab", "a_b-C"]);
        let json = selection_json(&sel, &[]);
        assert_eq!(json, r#"{"v":1,"selected":["a_b-C","k3x9q2ab","run01"]}"#);
        let back = parse_selection(&json).unwrap();
        assert_eq!(back.iter().cloned().collect::<BTreeSet<_>>(), sel);
        assert_eq!(
            parse_selection(&selection_json(&BTreeSet::new(), &[])),
            Some(vec![])
        );
    }

    #[test]
    fn garbage_is_no_selection() {
        for raw in [
            "",
            "{",
            "not json",
            "null",
            "42",
            "[]",
            r#"["run01"]"#,
            "{}",
            r#"{"selected": ["run01"]}"#,
            r#"{"v": 2, "selected": ["run01"]}"#,
            r#"{"v": "1", "selected": ["run01"]}"#,
            r#"{"v": 1, "selected": "run01"}"#,
            r#"{"v": 1, "selected": {"run01": true}}"#,
            r#"{"v": 1, "selected": ["run01""#,
            r#"{"v": 1, "selected": ["run01"]} trailing"#,
        ] {
            assert_eq!(parse_selection(raw), None, "{raw}");
        }
    }

    #[test]
    fn only_run_ids_are_read_and_unknown_fields_ignored() {
        let raw = r#"{"v": 1, "hidden": [1], "selected": ["ok", 7, null, "", "../x",
            "white space", ["nested"], {"a": 1}, "x{}", "ok2", true]}"#
            .replace("x{}", &"y".repeat(65));
        assert_eq!(parse_selection(&raw), Some(strings(&["ok", "ok2"])));
        assert!(is_run_id(&"z".repeat(64)));
        assert!(!is_run_id(&"z".repeat(65)));
    }

    #[test]
    fn a_huge_selection_is_capped_or_ignored() {
        // Many ids: the first MAX_SELECTED are read, the rest skipped.
        let ids: Vec<String> = (0..MAX_SELECTED + 5000).map(|i| format!("r{i}")).collect();
        let raw = serde_json::json!({"v": 1, "selected": ids}).to_string();
        assert!(raw.len() < MAX_RAW);
        let got = parse_selection(&raw).unwrap();
        assert_eq!(got.len(), MAX_SELECTED);
        assert_eq!(got[..], ids[..MAX_SELECTED]);
        // Longer than MAX_RAW: not parsed at all.
        let ids: Vec<String> = (0..200_000).map(|i| format!("run{i:06}")).collect();
        let raw = serde_json::json!({"v": 1, "selected": ids}).to_string();
        assert!(raw.len() > MAX_RAW);
        assert_eq!(parse_selection(&raw), None);
        // Deeply nested junk inside the array is skipped, not a stack overflow.
        let deep = format!(
            r#"{{"v": 1, "selected": ["a", {}{}]}}"#,
            "[".repeat(100),
            "]".repeat(100)
        );
        assert_eq!(parse_selection(&deep), Some(strings(&["a"])));
        let deeper = format!(
            r#"{{"v": 1, "selected": ["a", {}{}]}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert_eq!(parse_selection(&deeper), None);
    }

    #[test]
    fn writing_keeps_the_runs_the_charts_draw_first() {
        let sel: BTreeSet<String> = (0..MAX_SELECTED + 10).map(|i| format!("r{i:05}")).collect();
        // The table shows newest (highest) first.
        let order: Vec<String> = sel.iter().rev().cloned().collect();
        let back = parse_selection(&selection_json(&sel, &order)).unwrap();
        assert_eq!(back.len(), MAX_SELECTED);
        assert_eq!(back.first().map(String::as_str), Some("r00010"));
        assert_eq!(
            back.last().map(String::as_str),
            Some(format!("r{:05}", MAX_SELECTED + 9).as_str())
        );
    }

    #[test]
    fn restoring_drops_runs_that_are_gone() {
        let have = set(&["a", "b", "c"]);
        let exists = |id: &str| have.contains(id);
        assert_eq!(
            restore(&strings(&["a", "gone", "c"]), exists),
            Some(set(&["a", "c"]))
        );
        assert_eq!(
            restore(&[], exists),
            Some(BTreeSet::new()),
            "a cleared selection stays clear"
        );
        assert_eq!(
            restore(&strings(&["gone", "also-gone"]), exists),
            None,
            "nothing left: the default selection"
        );
    }

    #[test]
    fn folds_toggle_per_group_by_and_round_trip() {
        let mut f = Folds::default();
        f.toggle("config.optimizer", "sgd");
        f.toggle("state", "crashed");
        f.toggle("config.optimizer", "adam");
        assert_eq!(f.get("config.optimizer"), set(&["adam", "sgd"]));
        assert_eq!(f.get("state"), set(&["crashed"]));
        assert!(f.get("config.lr").is_empty());
        let json = f.to_json();
        assert_eq!(
            json, r#"{"v":1,"folded":{"config.optimizer":["adam","sgd"],"state":["crashed"]}}"#,
            "the most recently changed column first"
        );
        assert_eq!(Folds::parse(&json), f);
        // Unfolding the last group of a column forgets the column.
        f.toggle("state", "crashed");
        assert_eq!(
            f.to_json(),
            r#"{"v":1,"folded":{"config.optimizer":["adam","sgd"]}}"#
        );
    }

    #[test]
    fn garbage_is_no_folds() {
        for raw in [
            "",
            "[[",
            "null",
            r#"{"v": 1}"#,
            r#"{"v": 3, "folded": {"state": ["x"]}}"#,
            r#"{"v": 1, "folded": ["state"]}"#,
            r#"{"v": 1, "folded": {"state": ["x"]"#,
        ] {
            assert_eq!(Folds::parse(raw), Folds::default(), "{raw}");
        }
        // A bad entry loses itself only.
        let f = Folds::parse(
            r#"{"v": 1, "folded": {"a": 5, "b": ["x", 1, null, "y"], "c": [], "b": ["z"], "d": {"e": 1}}}"#,
        );
        assert_eq!(f.0, vec![("b".to_string(), set(&["x", "y"]))]);
    }

    #[test]
    fn folds_are_capped() {
        let mut f = Folds::default();
        for k in 0..MAX_GROUP_KEYS + 5 {
            for v in 0..3 {
                f.toggle(&format!("config.k{k}"), &format!("v{v}"));
            }
        }
        for v in 0..MAX_FOLDS + 10 {
            f.toggle("config.many", &format!("{v:05}"));
        }
        f.toggle("config.long", &"x".repeat(MAX_VALUE_LEN + 1));
        f.toggle("config.long", "short");
        let back = Folds::parse(&f.to_json());
        assert_eq!(back.0.len(), MAX_GROUP_KEYS);
        assert_eq!(back.get("config.long"), set(&["short"]));
        assert_eq!(back.get("config.many").len(), MAX_FOLDS);
        assert!(
            back.get("config.k0").is_empty(),
            "the oldest column dropped"
        );
        assert_eq!(
            back.get(&format!("config.k{}", MAX_GROUP_KEYS + 4)).len(),
            3
        );

        // A stored value with more columns and values than allowed is read capped.
        let mut folded = serde_json::Map::new();
        for k in 0..100 {
            let vals: Vec<String> = (0..MAX_FOLDS + 50).map(|v| format!("{v}")).collect();
            folded.insert(format!("k{k:03}"), vals.into());
        }
        let raw = serde_json::json!({"v": 1, "folded": folded}).to_string();
        let f = Folds::parse(&raw);
        assert_eq!(f.0.len(), MAX_GROUP_KEYS);
        assert!(f.0.iter().all(|(_, v)| v.len() == MAX_FOLDS));
        assert_eq!(Folds::parse(&"x".repeat(MAX_RAW + 1)), Folds::default());
    }
}
