//! A report's runs-table and compare panels as plain text tables: cells as the runs table shows
//! them (`trackline_shared::columns`), `–` where a run has no value.

use trackline_shared::RunInfo;
use trackline_shared::columns::{self, Field, Val};
use trackline_shared::reports::MAX_PANEL_COLUMNS;
use trackline_shared::runset::differing_config_keys;

/// A table of text cells (plain text: escape it where it goes).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub title: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The runs as rows with these column ids; no columns: name, state, created and the config
/// columns whose values differ. Ids that are not columns are left out.
pub fn runs_table(runs: &[&RunInfo], columns: &[String], now_secs: f64) -> Table {
    let fields: Vec<Field> = if columns.is_empty() {
        [Field::Name, Field::State, Field::Created]
            .into_iter()
            .chain(differing_config_keys(runs).into_iter().map(Field::Config))
            .take(MAX_PANEL_COLUMNS)
            .collect()
    } else {
        columns.iter().filter_map(|c| Field::parse(c)).collect()
    };
    Table {
        title: "Runs".into(),
        header: fields.iter().map(Field::id).collect(),
        rows: runs
            .iter()
            .map(|r| fields.iter().map(|f| cell(r, f, now_secs)).collect())
            .collect(),
    }
}

/// The runs side by side (one column each, headed by its name), one row per column id; no keys:
/// every config key whose values differ, then every summary key.
pub fn compare(runs: &[&RunInfo], keys: &[String], now_secs: f64) -> Table {
    let fields: Vec<Field> = if keys.is_empty() {
        let mut summary: Vec<String> = Vec::new();
        for r in runs {
            columns::walk_flat(&r.summary, &mut |k, _| summary.push(k));
        }
        summary.sort();
        summary.dedup();
        differing_config_keys(runs)
            .into_iter()
            .map(Field::Config)
            .chain(summary.into_iter().map(Field::Summary))
            .take(MAX_PANEL_COLUMNS)
            .collect()
    } else {
        keys.iter().filter_map(|k| Field::parse(k)).collect()
    };
    Table {
        title: "Compare".into(),
        header: std::iter::once("key".to_string())
            .chain(runs.iter().map(|r| r.name.clone()))
            .collect(),
        rows: fields
            .iter()
            .map(|f| {
                std::iter::once(f.id())
                    .chain(runs.iter().map(|r| cell(r, f, now_secs)))
                    .collect()
            })
            .collect(),
    }
}

/// A run's cell: created as a UTC time, runtime in h/m/s, the rest as the table shows them.
fn cell(r: &RunInfo, f: &Field, now_secs: f64) -> String {
    let v = columns::get(r, f, now_secs);
    match (f, &v) {
        (Field::Created, Val::Num(secs)) => crate::util::utc_seconds(*secs),
        (Field::Runtime, Val::Num(secs)) => duration(*secs),
        _ => v.text().map_or_else(|| "–".to_string(), |t| t.into_owned()),
    }
}

/// Seconds as `1h 02m 03s`, `4m 05s` or `6s`.
fn duration(secs: f64) -> String {
    let s = if secs.is_finite() {
        secs.max(0.0) as u64
    } else {
        0
    };
    match (s / 3600, s % 3600 / 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, m, sec) => format!("{m}m {sec:02}s"),
        (h, m, sec) => format!("{h}h {m:02}m {sec:02}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(id: &str, lr: f64) -> RunInfo {
        RunInfo {
            id: id.into(),
            name: format!("{id}-net"),
            config: json!({"lr": lr, "seed": 1}).as_object().unwrap().clone(),
            summary: json!({"loss": lr * 2.0}).as_object().unwrap().clone(),
            created_at_secs: 86_400.0,
            runtime_secs: 3723.0,
            ..Default::default()
        }
    }

    #[test]
    fn default_columns_are_the_differing_config_keys() {
        let (a, b) = (run("a", 0.1), run("b", 0.2));
        let t = runs_table(&[&a, &b], &[], 0.0);
        assert_eq!(t.header, ["name", "state", "created", "config.lr"]);
        assert_eq!(t.rows[0][0], "a-net");
        assert_eq!(t.rows[0][2], "1970-01-02 00:00:00 UTC");
        assert_eq!(t.rows[1][3], "0.2");
        let t = runs_table(
            &[&a],
            &["runtime".into(), "config.nope".into(), "bogus".into()],
            0.0,
        );
        assert_eq!(t.rows, [["1h 02m 03s", "–"]]);
        let c = compare(&[&a, &b], &[], 0.0);
        assert_eq!(c.header, ["key", "a-net", "b-net"]);
        assert_eq!(c.rows[0], ["config.lr", "0.1", "0.2"]);
        assert_eq!(c.rows[1], ["summary.loss", "0.2", "0.4"]);
    }
}
