//! A report's run set evaluated against a project's runs, the same way in the daemon (export,
//! CLI) and in the web app: the runs table's filter, the explicit run ids, the table's sort
//! (default newest first) and the limit; and which config keys tell the chosen runs apart.

use serde_json::Value;
use std::borrow::Borrow;
use std::collections::{BTreeMap, HashSet};

use crate::api::RunInfo;
use crate::columns::{self, Field};
use crate::filter::{Filter, FilterError};
use crate::reports::RunSet;

/// The runs of `runs` that `set` selects, in its order: those matching `set.filter` (empty
/// matches every run) and, when `set.runs` is not empty, among those ids; sorted by `set.sort`
/// as the runs table sorts (a column id it cannot parse leaves the default order), ties and the
/// default newest `created` first (then by id); at most `set.limit` of them. `now_secs` (unix
/// seconds) is for the `runtime` of running runs. A filter that does not parse is the error.
pub fn select<'a, R: Borrow<RunInfo>>(
    runs: &'a [R],
    set: &RunSet,
    now_secs: f64,
) -> Result<Vec<&'a RunInfo>, FilterError> {
    let filter = Filter::parse(&set.filter)?;
    let ids: HashSet<&str> = set.runs.iter().map(String::as_str).collect();
    let chosen: Vec<&RunInfo> = runs
        .iter()
        .map(Borrow::borrow)
        .filter(|r| ids.is_empty() || ids.contains(r.id.as_str()))
        .filter(|r| filter.matches(r, now_secs))
        .collect();
    let mut order = columns::base_order(&chosen);
    if let Some(s) = &set.sort
        && let Some(f) = Field::parse(&s.key)
    {
        columns::sort(&chosen, &mut order, &f, s.desc, now_secs);
    }
    let limit = set.limit.map_or(usize::MAX, |l| l as usize);
    Ok(order
        .into_iter()
        .take(limit)
        .map(|i| chosen[i as usize])
        .collect())
}

/// The flattened config keys (`optimizer.lr`) whose values are not the same in every one of
/// `runs` (a run without the key differs from one with it), in alphabetical order: the default
/// columns of a report's compare and runs-table panels. Numbers compare by value (`1` and `1.0`
/// are the same; so are two NaNs). Fewer than two runs have no differing keys.
pub fn differing_config_keys(runs: &[&RunInfo]) -> Vec<String> {
    let mut by_key: BTreeMap<String, Vec<Option<&Value>>> = BTreeMap::new();
    for (i, r) in runs.iter().enumerate() {
        columns::walk_flat(&r.config, &mut |key, v| {
            by_key.entry(key).or_insert_with(|| vec![None; runs.len()])[i] = Some(v);
        });
    }
    by_key
        .into_iter()
        .filter(|(_, cells)| cells.windows(2).any(|w| !same(w[0], w[1])))
        .map(|(key, _)| key)
        .collect()
}

/// Whether two cells hold the same value: numbers (and the non-finite strings) by value, the
/// rest as JSON.
fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => {
            let number = |v: &Value| columns::Val::Json(v).number();
            match (number(x), number(y)) {
                (Some(p), Some(q)) => p == q || (p.is_nan() && q.is_nan()),
                _ => x == y,
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::RunState;
    use crate::reports::RunSort;
    use serde_json::json;

    fn run(id: &str, created: f64, config: Value) -> RunInfo {
        RunInfo {
            id: id.into(),
            name: format!("{id}-net"),
            state: RunState::Finished,
            created_at_secs: created,
            config: config.as_object().unwrap().clone(),
            ..Default::default()
        }
    }

    fn runs() -> Vec<RunInfo> {
        vec![
            run("a", 1.0, json!({"lr": 0.1, "opt": {"name": "sgd"}})),
            run("b", 2.0, json!({"lr": 0.01, "opt": {"name": "adam"}})),
            run("c", 3.0, json!({"lr": 0.001, "opt": {"name": "adam"}})),
            run("d", 4.0, json!({"lr": "NaN"})),
        ]
    }

    fn ids(set: &RunSet) -> Vec<String> {
        let runs = runs();
        select(&runs, set, 10.0)
            .unwrap()
            .iter()
            .map(|r| r.id.clone())
            .collect()
    }

    fn sorted(key: &str, desc: bool) -> Option<RunSort> {
        Some(RunSort {
            key: key.into(),
            desc,
        })
    }

    #[test]
    fn empty_set_is_every_run_newest_first() {
        assert_eq!(ids(&RunSet::default()), ["d", "c", "b", "a"]);
        let none: Vec<RunInfo> = Vec::new();
        assert!(select(&none, &RunSet::default(), 0.0).unwrap().is_empty());
    }

    #[test]
    fn filter_ids_sort_and_limit() {
        let lr_below = RunSet {
            filter: "config.lr < 0.05".into(),
            ..Default::default()
        };
        assert_eq!(ids(&lr_below), ["c", "b"]);
        let chosen = RunSet {
            runs: vec!["a".into(), "c".into(), "nope".into()],
            ..Default::default()
        };
        assert_eq!(ids(&chosen), ["c", "a"]);
        let both = RunSet {
            filter: "config.opt.name == \"adam\"".into(),
            runs: vec!["a".into(), "b".into()],
            ..Default::default()
        };
        assert_eq!(ids(&both), ["b"]);
        let by_lr = RunSet {
            sort: sorted("config.lr", false),
            ..Default::default()
        };
        // NaN sorts after the numbers whatever the direction.
        assert_eq!(ids(&by_lr), ["c", "b", "a", "d"]);
        let by_lr_desc = RunSet {
            sort: sorted("config.lr", true),
            limit: Some(2),
            ..Default::default()
        };
        assert_eq!(ids(&by_lr_desc), ["a", "b"]);
        let by_name = RunSet {
            sort: sorted("name", false),
            limit: Some(0),
            ..Default::default()
        };
        assert!(ids(&by_name).is_empty());
        let oldest = RunSet {
            sort: sorted("created_at", false),
            limit: Some(3),
            ..Default::default()
        };
        assert_eq!(ids(&oldest), ["a", "b", "c"]);
        let unknown_column = RunSet {
            sort: sorted("nme", false),
            ..Default::default()
        };
        assert_eq!(ids(&unknown_column), ["d", "c", "b", "a"]);
    }

    #[test]
    fn a_bad_filter_is_the_error() {
        let runs = runs();
        let bad = RunSet {
            filter: "config.lr <".into(),
            ..Default::default()
        };
        let e = select(&runs, &bad, 0.0).unwrap_err();
        assert_eq!(e.column, 12, "{e}");
    }

    #[test]
    fn differing_keys() {
        let runs = runs();
        let all: Vec<&RunInfo> = runs.iter().collect();
        assert_eq!(differing_config_keys(&all), ["lr", "opt.name"]);
        // b and c share the optimizer; d lacks it, which differs.
        assert_eq!(differing_config_keys(&all[1..3]), ["lr"]);
        assert_eq!(differing_config_keys(&all[2..]), ["lr", "opt.name"]);
        assert!(differing_config_keys(&all[..1]).is_empty());
        let same_number = [
            run("x", 1.0, json!({"bs": 1, "nan": "NaN", "_internal": 1})),
            run("y", 2.0, json!({"bs": 1.0, "nan": "NaN", "_internal": 2})),
        ];
        let pair: Vec<&RunInfo> = same_number.iter().collect();
        assert!(differing_config_keys(&pair).is_empty());
    }
}
