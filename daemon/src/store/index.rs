//! The run index in SQLite (`<dir>/.trackline/index.sqlite`, WAL): every run's metadata with a
//! fingerprint of the files it came from, so a restart re-reads only runs whose files changed.
//! Later features (annotations, views, tokens) keep their tables in the same database.

use crate::error::Result;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use std::path::Path;
use trackline_shared::{RunInfo, RunState};

const SCHEMA_VERSION: i64 = 1;

#[derive(Debug)]
pub struct Index {
    conn: Connection,
}

/// A run as remembered from the last time its files were read.
#[derive(Debug, Clone)]
pub struct IndexedRun {
    pub fingerprint: String,
    pub info: RunInfo,
    pub reported_state: RunState,
}

impl Index {
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| crate::error::Error::io(parent, e))?;
        }
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS runs (
                 project TEXT NOT NULL,
                 id TEXT NOT NULL,
                 fingerprint TEXT NOT NULL,
                 reported_state TEXT NOT NULL,
                 info_json TEXT NOT NULL,
                 PRIMARY KEY (project, id)
             );",
        )?;
        let version: Option<i64> = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .and_then(|v| v.parse().ok());
        if version.is_none() {
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?1)",
                params![SCHEMA_VERSION.to_string()],
            )?;
        }
        Ok(Index { conn })
    }

    /// Everything indexed, keyed by (project, run id).
    pub fn load_all(&self) -> Result<HashMap<(String, String), IndexedRun>> {
        let mut stmt = self
            .conn
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
    }

    /// Writes a batch of runs in one transaction.
    pub fn upsert_many<'a>(
        &mut self,
        runs: impl IntoIterator<Item = (&'a str, &'a RunInfo, RunState)>,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR REPLACE INTO runs (project, id, fingerprint, reported_state, info_json)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (fingerprint, info, reported) in runs {
                let json = serde_json::to_string(info)
                    .map_err(|e| crate::error::Error::Internal(e.to_string()))?;
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
    }

    pub fn remove(&self, project: &str, id: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM runs WHERE project = ?1 AND id = ?2",
            params![project, id],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_runs_in_a_real_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".trackline/index.sqlite");
        let info = RunInfo {
            project: "p".into(),
            id: "r1".into(),
            name: "first".into(),
            state: RunState::Crashed,
            ..RunInfo::default()
        };
        {
            let mut index = Index::open(&path).unwrap();
            index
                .upsert_many([("fp1", &info, RunState::Running)])
                .unwrap();
        }
        let index = Index::open(&path).unwrap();
        let all = index.load_all().unwrap();
        let got = &all[&("p".to_string(), "r1".to_string())];
        assert_eq!(got.fingerprint, "fp1");
        assert_eq!(got.info, info);
        assert_eq!(got.reported_state, RunState::Running);
        index.remove("p", "r1").unwrap();
        assert!(index.load_all().unwrap().is_empty());
    }
}
