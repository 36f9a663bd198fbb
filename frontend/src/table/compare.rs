//! The compare view's tables: one row per flattened key, one column per run, whether the values
//! differ, and which value is best when the key reads like a loss (lowest) or an accuracy
//! (highest).

use serde_json::{Map, Value};
use std::collections::BTreeMap;

use crate::util;

/// Which end of a metric is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    Min,
    Max,
}

/// Words (of a key split at non-alphanumerics, lower case) that mark lower as better.
const MIN_WORDS: [&str; 14] = [
    "loss",
    "error",
    "err",
    "errors",
    "perplexity",
    "ppl",
    "mse",
    "mae",
    "rmse",
    "wer",
    "cer",
    "nll",
    "fid",
    "regret",
];
/// Words that mark higher as better; `acc…` and `top1`/`top5` too.
const MAX_WORDS: [&str; 15] = [
    "acc",
    "accuracy",
    "f1",
    "auc",
    "auroc",
    "precision",
    "recall",
    "map",
    "bleu",
    "rouge",
    "iou",
    "miou",
    "dice",
    "r2",
    "reward",
];

/// Whether lower or higher values of `key` are better, if its name says (`val/loss`: lower,
/// `top1_accuracy`: higher). For aggregates (`val/loss.max`) the metric's name decides.
pub fn better(key: &str) -> Option<Better> {
    let lower = key.to_lowercase();
    // The last word decides (`loss_acc_ratio` is unusual; `train/acc_loss` is a loss).
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty() && !matches!(*w, "min" | "max" | "mean" | "last" | "best"))
        .collect();
    for w in words.iter().rev() {
        if MIN_WORDS.contains(w) || w.ends_with("loss") {
            return Some(Better::Min);
        }
        if MAX_WORDS.contains(w) || w.starts_with("acc") || matches!(*w, "top1" | "top5") {
            return Some(Better::Max);
        }
    }
    None
}

/// One key across the compared runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub key: String,
    /// One per run, `None` where the run lacks the key.
    pub cells: Vec<Option<Value>>,
    /// Not every run has the same value (a missing value differs from any value).
    pub differs: bool,
    /// Indices of the best cells (ties all marked); empty when the key says nothing or fewer than
    /// two runs have a number.
    pub best: Vec<usize>,
}

fn same(a: &Option<Value>, b: &Option<Value>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => match (util::sort_number(x), util::sort_number(y)) {
            (Some(p), Some(q)) if !x.is_boolean() && !y.is_boolean() => {
                p == q || (p.is_nan() && q.is_nan())
            }
            _ => x == y,
        },
        _ => false,
    }
}

/// The rows for `maps` (one per run), keys in alphabetical order; `mark_best` looks for the best
/// value of keys that read like losses or accuracies.
pub fn rows(maps: &[&Map<String, Value>], mark_best: bool) -> Vec<Row> {
    let mut by_key: BTreeMap<String, Vec<Option<Value>>> = BTreeMap::new();
    for (i, m) in maps.iter().enumerate() {
        for (k, v) in util::flatten(m) {
            by_key.entry(k).or_insert_with(|| vec![None; maps.len()])[i] = Some(v);
        }
    }
    by_key
        .into_iter()
        .map(|(key, cells)| {
            let differs = cells.windows(2).any(|w| !same(&w[0], &w[1]));
            let best = if mark_best {
                best_of(&key, &cells)
            } else {
                Vec::new()
            };
            Row {
                key,
                cells,
                differs,
                best,
            }
        })
        .collect()
}

fn best_of(key: &str, cells: &[Option<Value>]) -> Vec<usize> {
    let Some(dir) = better(key) else {
        return Vec::new();
    };
    let nums: Vec<(usize, f64)> = cells
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let v = c.as_ref()?;
            if v.is_boolean() {
                return None;
            }
            util::sort_number(v).filter(|x| !x.is_nan()).map(|x| (i, x))
        })
        .collect();
    if nums.len() < 2 {
        return Vec::new();
    }
    let pick = |a: f64, b: f64| match dir {
        Better::Min => a.min(b),
        Better::Max => a.max(b),
    };
    let target = nums.iter().map(|n| n.1).reduce(pick).unwrap_or(f64::NAN);
    if nums.iter().all(|n| n.1 == target) {
        return Vec::new();
    }
    nums.iter().filter(|n| n.1 == target).map(|n| n.0).collect()
}

/// Run ids from a `runs=a,b,c` query value: trimmed, empty and repeated ids dropped.
pub fn parse_ids(q: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in q.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if !out.iter().any(|x| x == id) {
            out.push(id.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn loss_and_accuracy_keys() {
        for k in [
            "loss",
            "val/loss",
            "Train Loss",
            "val_loss.min",
            "eval/error_rate",
            "ppl",
            "wer",
        ] {
            assert_eq!(better(k), Some(Better::Min), "{k}");
        }
        for k in [
            "acc",
            "val/accuracy",
            "top1_acc",
            "eval/f1",
            "mAP",
            "test/top5",
        ] {
            assert_eq!(better(k), Some(Better::Max), "{k}");
        }
        for k in ["lr", "epoch", "_step", "batch_size", "lossless"] {
            assert_eq!(better(k), None, "{k}");
        }
        assert_eq!(
            better("val/loss_scale"),
            Some(Better::Min),
            "the last telling word"
        );
    }

    #[test]
    fn rows_differ_and_best() {
        let a = json!({"lr": 0.1, "opt": {"name": "adam", "b1": 0.9}, "seed": 1, "loss": 0.5, "acc": 0.7});
        let b = json!({"lr": 0.1, "opt": {"name": "sgd", "b1": 0.9}, "loss": 0.25, "acc": 0.9});
        let c = json!({"lr": 1e-1, "opt": {"name": "adam", "b1": 0.9}, "loss": "NaN", "acc": 0.9});
        let maps = [
            a.as_object().unwrap(),
            b.as_object().unwrap(),
            c.as_object().unwrap(),
        ];
        let rows = rows(&maps, true);
        let keys: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["acc", "loss", "lr", "opt.b1", "opt.name", "seed"]);
        let get = |k: &str| rows.iter().find(|r| r.key == k).unwrap();
        assert!(!get("lr").differs);
        assert!(!get("opt.b1").differs);
        assert!(get("opt.name").differs);
        assert!(get("seed").differs, "missing in two runs");
        assert_eq!(get("seed").cells, [Some(json!(1)), None, None]);
        assert_eq!(get("loss").best, [1], "lowest loss; NaN never best");
        assert_eq!(get("acc").best, [1, 2], "ties are all best");
        assert!(get("lr").best.is_empty());
        // Without marking (config), no best.
        assert!(super::rows(&maps, false).iter().all(|r| r.best.is_empty()));
    }

    #[test]
    fn best_needs_two_numbers_that_differ() {
        let a = json!({"loss": 0.5});
        let b = json!({"loss": 0.5});
        let c = json!({"loss": "x"});
        assert!(
            rows(&[a.as_object().unwrap(), b.as_object().unwrap()], true)[0]
                .best
                .is_empty()
        );
        assert!(
            rows(&[a.as_object().unwrap(), c.as_object().unwrap()], true)[0]
                .best
                .is_empty()
        );
    }

    #[test]
    fn ids_from_the_query() {
        assert_eq!(parse_ids(" a, b,,a ,c"), ["a", "b", "c"]);
        assert!(parse_ids("").is_empty());
    }
}
