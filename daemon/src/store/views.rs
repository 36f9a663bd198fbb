//! Saved views: a project's workspace layout (panel sections, order, chart settings), kept in the
//! daemon's SQLite so every teammate opening the project sees the same workspace.

use crate::error::Result;
use parking_lot::Mutex;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;
use std::path::Path;

#[derive(Debug)]
pub struct Views {
    conn: Mutex<Connection>,
}

impl Views {
    pub fn open(path: &Path) -> Result<Views> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS workspaces (
                 project TEXT PRIMARY KEY,
                 layout_json TEXT NOT NULL,
                 updated_at REAL NOT NULL
             );",
        )?;
        Ok(Views {
            conn: Mutex::new(conn),
        })
    }

    /// A project's saved workspace and when it was saved, if any.
    pub fn workspace(&self, project: &str) -> Result<Option<(Value, f64)>> {
        let row: Option<(String, f64)> = self
            .conn
            .lock()
            .query_row(
                "SELECT layout_json, updated_at FROM workspaces WHERE project = ?1",
                params![project],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(row.and_then(|(json, at)| serde_json::from_str(&json).ok().map(|v| (v, at))))
    }

    pub fn save_workspace(&self, project: &str, layout: &Value, now_secs: f64) -> Result<()> {
        self.conn.lock().execute(
            "INSERT INTO workspaces (project, layout_json, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(project) DO UPDATE SET layout_json = ?2, updated_at = ?3",
            params![project, layout.to_string(), now_secs],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_and_replaces_a_workspace() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.sqlite");
        let views = Views::open(&path).unwrap();
        assert!(views.workspace("p").unwrap().is_none());
        views
            .save_workspace("p", &serde_json::json!({"sections": ["train/"]}), 1.0)
            .unwrap();
        views
            .save_workspace("p", &serde_json::json!({"sections": ["val/"]}), 2.0)
            .unwrap();
        let reopened = Views::open(&path).unwrap();
        let (layout, at) = reopened.workspace("p").unwrap().unwrap();
        assert_eq!(layout["sections"][0], "val/");
        assert_eq!(at, 2.0);
    }
}
