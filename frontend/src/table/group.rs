//! Grouping the sorted runs by a column's value, with collapsible group header rows.

use std::borrow::Borrow;
use std::collections::{BTreeSet, HashMap};
use trackline_shared::api::RunInfo;

use super::columns::{self, Field};
use super::sort;

/// One row of the table body.
#[derive(Clone, Debug, PartialEq)]
pub enum Row {
    /// A group header: `optimizer = adam (12)`.
    Group {
        /// The value's text (`(none)` for runs without one); also the collapse key.
        value: String,
        count: usize,
        collapsed: bool,
    },
    /// A run, by index into the runs list.
    Run(u32),
}

/// The group value text of runs that lack the key.
pub const NONE: &str = "(none)";

/// The text a run is grouped under for column `f`.
pub fn value_of(r: &RunInfo, f: &Field) -> String {
    columns::get(r, f, 0.0)
        .text()
        .filter(|t| !t.is_empty())
        .map_or_else(|| NONE.to_string(), |t| t.into_owned())
}

/// The header text: `optimizer = adam (12)`.
pub fn header(f: &Field, value: &str, count: usize) -> String {
    format!("{} = {value} ({count})", f.group_label())
}

/// Rows for `order` (sorted indices into `runs`): without a group-by column, one row per run;
/// with one, each group's header followed by its runs (none when collapsed), runs keeping their
/// order within a group. Groups are ordered by value (numbers numerically), runs without a value
/// last.
pub fn rows<R: Borrow<RunInfo>>(
    runs: &[R],
    order: &[u32],
    by: Option<&Field>,
    collapsed: &BTreeSet<String>,
) -> Vec<Row> {
    let Some(f) = by else {
        return order.iter().map(|&i| Row::Run(i)).collect();
    };
    // Groups in order of first appearance, then sorted by value.
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<(String, sort::Key, Vec<u32>)> = Vec::new();
    for &i in order {
        let r = runs[i as usize].borrow();
        let v = value_of(r, f);
        let g = *index.entry(v.clone()).or_insert_with(|| {
            let key = sort::key(&columns::get(r, f, 0.0), f);
            groups.push((v, key, Vec::new()));
            groups.len() - 1
        });
        groups[g].2.push(i);
    }
    groups.sort_by(|a, b| {
        sort::cmp_keys(&a.1, &b.1, false).then_with(|| sort::natural_cmp(&a.0, &b.0))
    });
    let mut out = Vec::with_capacity(order.len() + groups.len());
    for (value, _, members) in groups {
        let shut = collapsed.contains(&value);
        out.push(Row::Group {
            count: members.len(),
            collapsed: shut,
            value,
        });
        if !shut {
            out.extend(members.into_iter().map(Row::Run));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(id: &str, created: f64, config: serde_json::Value) -> RunInfo {
        RunInfo {
            id: id.into(),
            name: id.into(),
            created_at_secs: created,
            config: config.as_object().unwrap().clone(),
            ..Default::default()
        }
    }

    fn show(runs: &[RunInfo], rows: &[Row], f: &Field) -> Vec<String> {
        rows.iter()
            .map(|r| match r {
                Row::Group {
                    value,
                    count,
                    collapsed,
                } => format!(
                    "{}{}",
                    if *collapsed { "+" } else { "-" },
                    header(f, value, *count)
                ),
                Row::Run(i) => runs[*i as usize].id.clone(),
            })
            .collect()
    }

    #[test]
    fn groups_with_counts_in_value_order() {
        let runs = [
            run("a", 6.0, json!({"optimizer": "sgd", "bs": 64})),
            run("b", 5.0, json!({"optimizer": "adam", "bs": 128})),
            run("c", 4.0, json!({"bs": 64})),
            run("d", 3.0, json!({"optimizer": "adam", "bs": 8})),
            run("e", 2.0, json!({"optimizer": "Adam"})),
        ];
        let order = sort::base_order(&runs);
        let opt = Field::Config("optimizer".into());
        let none = BTreeSet::new();
        assert_eq!(
            show(&runs, &rows(&runs, &order, Some(&opt), &none), &opt),
            [
                "-optimizer = adam (2)",
                "b",
                "d",
                "-optimizer = Adam (1)",
                "e",
                "-optimizer = sgd (1)",
                "a",
                "-optimizer = (none) (1)",
                "c"
            ]
        );
        // Numbers in numeric order (8 < 64 < 128), missing last.
        let bs = Field::Config("bs".into());
        assert_eq!(
            show(&runs, &rows(&runs, &order, Some(&bs), &none), &bs),
            [
                "-bs = 8 (1)",
                "d",
                "-bs = 64 (2)",
                "a",
                "c",
                "-bs = 128 (1)",
                "b",
                "-bs = (none) (1)",
                "e"
            ]
        );
    }

    #[test]
    fn collapsed_groups_hide_their_runs_and_order_is_kept() {
        let runs = [
            run("a", 1.0, json!({"o": "x"})),
            run("b", 2.0, json!({"o": "y"})),
            run("c", 3.0, json!({"o": "x"})),
        ];
        let o = Field::Config("o".into());
        // A custom order (a before c) is kept within the group.
        let order = [0, 1, 2];
        let shut: BTreeSet<String> = ["y".to_string()].into();
        assert_eq!(
            show(&runs, &rows(&runs, &order, Some(&o), &shut), &o),
            ["-o = x (2)", "a", "c", "+o = y (1)"]
        );
        assert_eq!(
            rows(&runs, &order, None, &shut),
            [Row::Run(0), Row::Run(1), Row::Run(2)]
        );
    }
}
