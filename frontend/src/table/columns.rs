//! The runs table's columns: what a column is and a run's value in it live in
//! `trackline_shared::columns` (the filter language and report run sets use them too); here are
//! the choices the table makes: which columns exist, which show first, which are numeric.

use std::collections::BTreeSet;
use trackline_shared::api::RunInfo;
pub use trackline_shared::columns::{Field, RUN_FIELDS, Val, get, state_rank};

use crate::util;

/// Every column the runs offer: the run fields, then each flattened config key, then each summary
/// key (alphabetical within each).
pub fn available<'a>(runs: impl Iterator<Item = &'a RunInfo>) -> Vec<Field> {
    let mut config = BTreeSet::new();
    let mut summary = BTreeSet::new();
    for r in runs {
        util::walk_flat(&r.config, &mut |key, _| {
            config.insert(key);
        });
        util::walk_flat(&r.summary, &mut |key, _| {
            summary.insert(key);
        });
    }
    RUN_FIELDS
        .iter()
        .cloned()
        .chain(config.into_iter().map(Field::Config))
        .chain(summary.into_iter().map(Field::Summary))
        .collect()
}

/// The columns shown before anyone chooses: name, state, created, runtime, tags, then the five
/// most common config and summary keys.
pub fn default_columns(runs: &[&RunInfo]) -> Vec<Field> {
    let config = util::common_keys(runs.iter().map(|r| &r.config), 5);
    let summary = util::common_keys(runs.iter().map(|r| &r.summary), 5);
    [
        Field::Name,
        Field::State,
        Field::Created,
        Field::Runtime,
        Field::Tags,
    ]
    .into_iter()
    .chain(config.into_iter().map(Field::Config))
    .chain(summary.into_iter().map(Field::Summary))
    .collect()
}

/// Whether most present values of the column are numbers (right-aligned).
pub fn is_numeric_column<'a>(runs: impl Iterator<Item = &'a RunInfo>, f: &Field) -> bool {
    match f {
        Field::Created | Field::Runtime => true,
        Field::Config(_) | Field::Summary(_) => {
            let (mut num, mut all) = (0usize, 0usize);
            for r in runs.take(500) {
                let v = get(r, f, 0.0);
                if !v.is_missing() {
                    all += 1;
                    num += usize::from(v.number().is_some());
                }
            }
            num * 2 > all
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn available_lists_fields_then_flattened_keys() {
        let r = RunInfo {
            config: json!({"opt": {"lr": 0.1}}).as_object().unwrap().clone(),
            summary: json!({"val/loss": 0.5}).as_object().unwrap().clone(),
            ..Default::default()
        };
        let cols: Vec<String> = available([&r].into_iter()).iter().map(Field::id).collect();
        assert_eq!(cols[..RUN_FIELDS.len()], RUN_FIELDS.map(|f| f.id()));
        assert_eq!(
            cols[RUN_FIELDS.len()..],
            ["config.opt.lr", "summary.val/loss"]
        );
    }
}
