//! A panel grid's run set evaluated in the browser against the project's live runs
//! ([`trackline_shared::runset::select`]: the runs table's filter, the explicit run ids, the sort,
//! default newest first, and the limit), the filter's error for the editor, and the run set the
//! runs table shows now. Pure, host-tested; the page evaluates it again whenever a run arrives or
//! changes.

use trackline_shared::reports::{RunSet, RunSort};

use crate::table::filter::Filter;
use crate::table::settings::{SortSpec, TableSettings};

/// The runs a run set selects: the daemon's own function, so a report shows the same runs in the
/// app, the export and the CLI.
pub use trackline_shared::runset::select;

/// Why `filter` does not parse, for the run-set editor (`None`: it does).
pub fn filter_error(filter: &str) -> Option<String> {
    Filter::parse(filter).err().map(|e| e.to_string())
}

/// The run set the runs table shows now: its filter, sort and grouping; with `runs`, only those.
pub fn from_table(s: &TableSettings, runs: Vec<String>) -> RunSet {
    RunSet {
        filter: s.filter.clone(),
        runs,
        sort: s.sort.as_ref().map(|SortSpec { column, desc }| RunSort {
            key: column.clone(),
            desc: *desc,
        }),
        limit: None,
        group_by: s.group_by.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use trackline_shared::api::RunInfo;

    fn run(id: &str, created: f64, lr: f64) -> RunInfo {
        let mut config = serde_json::Map::new();
        config.insert("lr".into(), json!(lr));
        RunInfo {
            id: id.into(),
            name: id.into(),
            created_at_secs: created,
            config,
            ..Default::default()
        }
    }

    fn ids(runs: Vec<&RunInfo>) -> Vec<&str> {
        runs.into_iter().map(|r| r.id.as_str()).collect()
    }

    #[test]
    fn filter_ids_sort_and_limit() {
        let runs = vec![
            run("a", 1.0, 0.001),
            run("b", 2.0, 0.1),
            run("c", 3.0, 0.005),
            run("d", 4.0, 0.0001),
        ];
        let mut set = RunSet {
            filter: "config.lr < 0.01".into(),
            ..Default::default()
        };
        assert_eq!(
            ids(select(&runs, &set, 0.0).unwrap()),
            ["d", "c", "a"],
            "newest first"
        );
        set.sort = Some(RunSort {
            key: "config.lr".into(),
            desc: false,
        });
        assert_eq!(ids(select(&runs, &set, 0.0).unwrap()), ["d", "a", "c"]);
        set.limit = Some(2);
        assert_eq!(ids(select(&runs, &set, 0.0).unwrap()), ["d", "a"]);
        set.runs = vec!["c".into(), "b".into()];
        assert_eq!(ids(select(&runs, &set, 0.0).unwrap()), ["c"]);
        set.filter = "config.lr <".into();
        assert!(select(&runs, &set, 0.0).is_err());
        assert!(filter_error("config.lr <").is_some());
        assert_eq!(filter_error(""), None);
        let all = RunSet::default();
        assert_eq!(select(&runs, &all, 0.0).unwrap().len(), 4);
    }

    #[test]
    fn the_tables_settings_make_a_run_set() {
        let s = TableSettings {
            filter: "state == \"running\"".into(),
            sort: Some(SortSpec {
                column: "summary.loss".into(),
                desc: true,
            }),
            group_by: Some("config.opt".into()),
            ..TableSettings::default()
        };
        let set = from_table(&s, vec!["r1".into()]);
        assert_eq!(set.filter, s.filter);
        assert_eq!(
            set.sort.as_ref().map(|s| (s.key.as_str(), s.desc)),
            Some(("summary.loss", true))
        );
        assert_eq!(set.group_by.as_deref(), Some("config.opt"));
        assert_eq!(set.runs, ["r1"]);
    }
}
