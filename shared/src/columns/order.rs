//! Sorting runs by a column: stable, numbers numerically, text in natural order
//! (`run 2` before `run 10`), and NaN then missing values last whatever the direction.

use std::borrow::Borrow;
use std::cmp::Ordering;

use super::{Field, Val, get, state_rank};
use crate::api::RunInfo;

/// What a cell sorts by. Classes sort in this order in both directions; only the values within
/// `Num` and `Text` are reversed by a descending sort.
#[derive(Clone, Debug, PartialEq)]
pub enum Key {
    Num(f64),
    Text(String),
    Nan,
    Missing,
}

impl Key {
    fn class(&self) -> u8 {
        match self {
            Key::Num(_) => 0,
            Key::Text(_) => 1,
            Key::Nan => 2,
            Key::Missing => 3,
        }
    }
}

/// The sort key of a run's value in column `f`.
pub fn key(v: &Val, f: &Field) -> Key {
    if *f == Field::State
        && let Some(s) = v.str()
    {
        return Key::Num(f64::from(state_rank(s)));
    }
    if v.is_null() {
        return Key::Missing;
    }
    if let Some(x) = v.number() {
        return if x.is_nan() { Key::Nan } else { Key::Num(x) };
    }
    if let Some(b) = v.bool() {
        return Key::Num(f64::from(u8::from(b)));
    }
    match v.text() {
        Some(t) if !t.is_empty() => Key::Text(t.into_owned()),
        _ => Key::Missing,
    }
}

/// Orders two keys; `desc` reverses numbers and text only.
pub fn cmp_keys(a: &Key, b: &Key, desc: bool) -> Ordering {
    let ord = match (a, b) {
        (Key::Num(x), Key::Num(y)) => x.total_cmp(y),
        (Key::Text(x), Key::Text(y)) => natural_cmp(x, y),
        _ => return a.class().cmp(&b.class()),
    };
    if desc { ord.reverse() } else { ord }
}

/// Case-insensitive comparison in which runs of digits compare as numbers.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.chars().peekable(), b.chars().peekable());
    loop {
        match (a.peek().copied(), b.peek().copied()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let mut da = String::new();
                while let Some(c) = a.next_if(char::is_ascii_digit) {
                    da.push(c);
                }
                let mut db = String::new();
                while let Some(c) = b.next_if(char::is_ascii_digit) {
                    db.push(c);
                }
                let (ta, tb) = (da.trim_start_matches('0'), db.trim_start_matches('0'));
                let ord = ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb));
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            (Some(x), Some(y)) => {
                let ord = x.to_lowercase().cmp(y.to_lowercase());
                if ord != Ordering::Equal {
                    return ord;
                }
                a.next();
                b.next();
            }
        }
    }
}

/// Indices of `runs`, newest first (ties by id): the order before any sort, and the tie-break of
/// every sort.
pub fn base_order<R: Borrow<RunInfo>>(runs: &[R]) -> Vec<u32> {
    let mut idx: Vec<u32> = (0..runs.len() as u32).collect();
    idx.sort_by(|&a, &b| {
        let (a, b) = (runs[a as usize].borrow(), runs[b as usize].borrow());
        b.created_at_secs
            .total_cmp(&a.created_at_secs)
            .then_with(|| a.id.cmp(&b.id))
    });
    idx
}

/// Orders two runs by column `f` as the table's sort does (`desc` reverses numbers and text
/// only); runs that tie compare equal, so a stable sort keeps their order.
pub fn compare(a: &RunInfo, b: &RunInfo, f: &Field, desc: bool, now: f64) -> Ordering {
    cmp_keys(&key(&get(a, f, now), f), &key(&get(b, f, now), f), desc)
}

/// Sorts `order` (indices into `runs`) by column `f`, stably: runs with equal keys keep their order.
pub fn sort<R: Borrow<RunInfo>>(runs: &[R], order: &mut [u32], f: &Field, desc: bool, now: f64) {
    let keys: Vec<Key> = runs
        .iter()
        .map(|r| key(&get(r.borrow(), f, now), f))
        .collect();
    order.sort_by(|&a, &b| cmp_keys(&keys[a as usize], &keys[b as usize], desc));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::RunState;
    use serde_json::json;

    fn run(id: &str, created: f64, lr: serde_json::Value) -> RunInfo {
        let mut config = serde_json::Map::new();
        if !lr.is_null() {
            config.insert("lr".into(), lr);
        }
        RunInfo {
            id: id.into(),
            name: id.into(),
            created_at_secs: created,
            config,
            ..Default::default()
        }
    }

    fn sorted(runs: &[RunInfo], f: &Field, desc: bool) -> Vec<String> {
        let mut order = base_order(runs);
        sort(runs, &mut order, f, desc, 0.0);
        order.iter().map(|&i| runs[i as usize].id.clone()).collect()
    }

    #[test]
    fn compare_orders_like_sort() {
        let runs = [
            run("a", 1.0, json!(2)),
            run("b", 2.0, json!("NaN")),
            run("c", 3.0, json!(1)),
            run("d", 4.0, json!(null)),
        ];
        let lr = Field::Config("lr".into());
        for desc in [false, true] {
            let mut by_compare: Vec<&RunInfo> = runs.iter().collect();
            by_compare.sort_by(|a, b| compare(a, b, &lr, desc, 0.0));
            let ids: Vec<_> = by_compare.iter().map(|r| r.id.clone()).collect();
            let mut order: Vec<u32> = (0..runs.len() as u32).collect();
            sort(&runs, &mut order, &lr, desc, 0.0);
            let by_sort: Vec<_> = order.iter().map(|&i| runs[i as usize].id.clone()).collect();
            assert_eq!(ids, by_sort);
        }
        assert_eq!(
            compare(&runs[0], &runs[2], &lr, false, 0.0),
            Ordering::Greater
        );
        assert_eq!(compare(&runs[0], &runs[2], &lr, true, 0.0), Ordering::Less);
        // NaN then missing last in both directions.
        assert_eq!(compare(&runs[1], &runs[3], &lr, true, 0.0), Ordering::Less);
    }

    #[test]
    fn base_order_is_newest_first() {
        let runs = [
            run("a", 1.0, json!(null)),
            run("c", 3.0, json!(null)),
            run("b", 3.0, json!(null)),
        ];
        assert_eq!(base_order(&runs), [2, 1, 0]);
    }

    #[test]
    fn numbers_nan_and_missing() {
        let runs = [
            run("ten", 1.0, json!(10)),
            run("nan", 2.0, json!("NaN")),
            run("two", 3.0, json!(2)),
            run("none", 4.0, json!(null)),
            run("inf", 5.0, json!("Infinity")),
            run("neg", 6.0, json!(-1.5)),
            run("null", 7.0, json!(null)),
        ];
        let lr = Field::Config("lr".into());
        assert_eq!(
            sorted(&runs, &lr, false),
            ["neg", "two", "ten", "inf", "nan", "null", "none"]
        );
        // Descending reverses the numbers only: NaN and missing stay last.
        assert_eq!(
            sorted(&runs, &lr, true),
            ["inf", "ten", "two", "neg", "nan", "null", "none"]
        );
    }

    #[test]
    fn stable_ties_keep_the_newest_first() {
        let runs = [
            run("old", 1.0, json!(1)),
            run("mid", 2.0, json!(1)),
            run("new", 3.0, json!(1)),
            run("x", 4.0, json!(0)),
        ];
        let lr = Field::Config("lr".into());
        assert_eq!(sorted(&runs, &lr, false), ["x", "new", "mid", "old"]);
        assert_eq!(sorted(&runs, &lr, true), ["new", "mid", "old", "x"]);
        // Sorting an already sorted order by another column keeps ties in that order.
        let mut order = base_order(&runs);
        sort(&runs, &mut order, &Field::Created, false, 0.0);
        sort(&runs, &mut order, &lr, true, 0.0);
        let ids: Vec<_> = order
            .iter()
            .map(|&i| runs[i as usize].id.as_str())
            .collect();
        assert_eq!(ids, ["old", "mid", "new", "x"]);
    }

    #[test]
    fn text_naturally_and_mixed() {
        let runs = [
            run("run 10", 1.0, json!("b")),
            run("Run 9", 2.0, json!(3)),
            run("run 1", 3.0, json!("A")),
            run("run 010", 4.0, json!(null)),
        ];
        assert_eq!(
            sorted(&runs, &Field::Name, false),
            ["run 1", "Run 9", "run 010", "run 10"]
        );
        // Numbers before text in both directions; missing last.
        let lr = Field::Config("lr".into());
        assert_eq!(
            sorted(&runs, &lr, false),
            ["Run 9", "run 1", "run 10", "run 010"]
        );
        assert_eq!(
            sorted(&runs, &lr, true),
            ["Run 9", "run 10", "run 1", "run 010"]
        );
    }

    #[test]
    fn states_by_rank_and_tags() {
        let mut runs = [
            run("f", 1.0, json!(null)),
            run("r", 2.0, json!(null)),
            run("c", 3.0, json!(null)),
        ];
        runs[0].state = RunState::Finished;
        runs[1].state = RunState::Running;
        runs[2].state = RunState::Crashed;
        assert_eq!(sorted(&runs, &Field::State, false), ["r", "c", "f"]);
        runs[0].tags = vec!["b".into()];
        runs[2].tags = vec!["a".into()];
        assert_eq!(sorted(&runs, &Field::Tags, false), ["c", "f", "r"]);
        assert_eq!(sorted(&runs, &Field::Tags, true), ["f", "c", "r"]);
    }
}
