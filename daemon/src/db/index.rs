//! The run index table: every run's metadata with a fingerprint of the files it came from, so a
//! restart re-reads only runs whose files changed.
//!
//! The index is a cache of the run files: a migration that changes its shape may simply drop and
//! re-create the `runs` table (the next scan reads every run again). Rows that no longer parse are
//! skipped and re-read from disk.

use super::{Db, DbResult};
use rusqlite::{Transaction, params};
use std::collections::HashMap;
use std::sync::Arc;
use trackline_shared::{RunInfo, RunState};

/// Migration 1: the `runs` table. Databases from before numbered migrations already have it (and
/// a `meta` table that only held the index's own schema code, which `user_version` replaces).
pub(super) fn migrate(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS runs (
             project TEXT NOT NULL,
             id TEXT NOT NULL,
             fingerprint TEXT NOT NULL,
             reported_state TEXT NOT NULL,
             info_json TEXT NOT NULL,
             PRIMARY KEY (project, id)
         );
         DROP TABLE IF EXISTS meta;",
    )
}

/// The run index, read at start-up and written by the ingest thread.
#[derive(Debug, Clone)]
pub struct RunIndex {
    db: Arc<Db>,
}

/// A run as remembered from the last time its files were read.
#[derive(Debug, Clone)]
pub struct IndexedRun {
    pub fingerprint: String,
    pub info: RunInfo,
    pub reported_state: RunState,
}

impl Db {
    pub fn run_index(self: &Arc<Self>) -> RunIndex {
        RunIndex { db: self.clone() }
    }
}

impl RunIndex {
    /// Everything indexed, keyed by (project, run id).
    pub fn load_all(&self) -> DbResult<HashMap<(String, String), IndexedRun>> {
        self.db.with(|conn| {
            let mut stmt = conn
                .prepare("SELECT project, id, fingerprint, reported_state, info_json FROM runs")?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?;
            let mut out = HashMap::new();
            for row in rows {
                let (project, id, fingerprint, state, json) = row?;
                // A row that no longer parses (older daemon, say) is simply re-read from disk.
                let (Ok(info), Ok(reported_state)) = (
                    serde_json::from_str::<RunInfo>(&json),
                    serde_json::from_value::<RunState>(serde_json::Value::String(state)),
                ) else {
                    continue;
                };
                out.insert(
                    (project, id),
                    IndexedRun {
                        fingerprint,
                        info,
                        reported_state,
                    },
                );
            }
            Ok(out)
        })
    }

    /// Writes a batch of runs (fingerprint, info, reported state) in one transaction.
    pub fn upsert_many<'a>(
        &self,
        runs: impl IntoIterator<Item = (&'a str, &'a RunInfo, RunState)>,
    ) -> DbResult<()> {
        self.db.with(|conn| {
            let tx = conn.transaction()?;
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT OR REPLACE INTO runs (project, id, fingerprint, reported_state, info_json)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                for (fingerprint, info, reported) in runs {
                    let json = serde_json::to_string(info)?;
                    stmt.execute(params![
                        info.project,
                        info.id,
                        fingerprint,
                        reported.as_str(),
                        json
                    ])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    pub fn remove(&self, project: &str, id: &str) -> DbResult<()> {
        self.db.with(|conn| {
            conn.execute(
                "DELETE FROM runs WHERE project = ?1 AND id = ?2",
                params![project, id],
            )?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_runs_in_a_real_file() {
        let dir = tempfile::tempdir().unwrap();
        let info = RunInfo {
            project: "p".into(),
            id: "r1".into(),
            name: "first".into(),
            state: RunState::Crashed,
            ..RunInfo::default()
        };
        {
            let index = Db::open_in(dir.path()).unwrap().run_index();
            index
                .upsert_many([("fp1", &info, RunState::Running)])
                .unwrap();
        }
        let index = Db::open_in(dir.path()).unwrap().run_index();
        let all = index.load_all().unwrap();
        let got = &all[&("p".to_string(), "r1".to_string())];
        assert_eq!(got.fingerprint, "fp1");
        assert_eq!(got.info, info);
        assert_eq!(got.reported_state, RunState::Running);
        index.remove("p", "r1").unwrap();
        assert!(index.load_all().unwrap().is_empty());
    }
}
