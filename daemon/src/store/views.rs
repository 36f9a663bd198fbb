//! Saved views: a project's workspace layout (panel sections, order, chart settings), kept in the
//! daemon's SQLite so every teammate opening the project sees the same workspace.
//!
//! Each saved layout has a `version`, 1 on the first save and one more on every save after, so two
//! teammates saving at once cannot silently overwrite each other: a save may say which version it
//! was based on ([`Views::save_workspace`]), and is refused if that is no longer the stored one.
//! `0` stands for "nothing saved yet".

use crate::error::Result;
use parking_lot::Mutex;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::Value;
use std::path::Path;

#[derive(Debug)]
pub struct Views {
    conn: Mutex<Connection>,
}

/// A project's saved workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedWorkspace {
    pub layout: Value,
    /// Unix seconds of the save.
    pub updated_at: f64,
    /// 1 for the first save, one more for each save after it.
    pub version: u64,
}

/// What a save did.
#[derive(Debug, Clone, PartialEq)]
pub enum Saved {
    /// Stored as this version.
    Ok { version: u64 },
    /// Not stored: the save was based on an older version than the stored one (or on "nothing
    /// saved" when something was). This is what is stored (`None`: nothing, when the save was
    /// based on a version that never existed).
    Conflict(Option<SavedWorkspace>),
}

impl Views {
    pub fn open(path: &Path) -> Result<Views> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS workspaces (
                 project TEXT PRIMARY KEY,
                 layout_json TEXT NOT NULL,
                 updated_at REAL NOT NULL,
                 version INTEGER NOT NULL DEFAULT 1
             );",
        )?;
        // Databases from before versioned saves lack the column: a layout saved then is version 1.
        let has_version = conn
            .prepare("SELECT 1 FROM pragma_table_info('workspaces') WHERE name = 'version'")?
            .exists([])?;
        if !has_version {
            conn.execute_batch(
                "ALTER TABLE workspaces ADD COLUMN version INTEGER NOT NULL DEFAULT 1;",
            )?;
        }
        Ok(Views {
            conn: Mutex::new(conn),
        })
    }

    /// A project's saved workspace, if any.
    pub fn workspace(&self, project: &str) -> Result<Option<SavedWorkspace>> {
        read(&self.conn.lock(), project)
    }

    /// Saves a project's layout. With `based_on: Some(v)` only if `v` is the stored version (`0`:
    /// only if nothing is stored yet); with `None`, whatever is stored (last writer wins).
    pub fn save_workspace(
        &self,
        project: &str,
        layout: &Value,
        now_secs: f64,
        based_on: Option<u64>,
    ) -> Result<Saved> {
        let mut conn = self.conn.lock();
        // IMMEDIATE: the check and the write happen under one write lock of the database.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let stored = read(&tx, project)?;
        let current = stored.as_ref().map_or(0, |s| s.version);
        if based_on.is_some_and(|v| v != current) {
            return Ok(Saved::Conflict(stored));
        }
        let version = current + 1;
        tx.execute(
            "INSERT INTO workspaces (project, layout_json, updated_at, version)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(project) DO UPDATE SET layout_json = ?2, updated_at = ?3, version = ?4",
            params![project, layout.to_string(), now_secs, version as i64],
        )?;
        tx.commit()?;
        Ok(Saved::Ok { version })
    }
}

fn read(conn: &Connection, project: &str) -> Result<Option<SavedWorkspace>> {
    let row: Option<(String, f64, i64)> = conn
        .query_row(
            "SELECT layout_json, updated_at, version FROM workspaces WHERE project = ?1",
            params![project],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(row.and_then(|(json, at, version)| {
        serde_json::from_str(&json)
            .ok()
            .map(|layout| SavedWorkspace {
                layout,
                updated_at: at,
                version: version.max(0) as u64,
            })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn saves_and_replaces_a_workspace() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.sqlite");
        let views = Views::open(&path).unwrap();
        assert!(views.workspace("p").unwrap().is_none());
        let saved = views
            .save_workspace("p", &json!({"sections": ["train/"]}), 1.0, None)
            .unwrap();
        assert_eq!(saved, Saved::Ok { version: 1 });
        let saved = views
            .save_workspace("p", &json!({"sections": ["val/"]}), 2.0, None)
            .unwrap();
        assert_eq!(saved, Saved::Ok { version: 2 });
        let reopened = Views::open(&path).unwrap();
        let w = reopened.workspace("p").unwrap().unwrap();
        assert_eq!(w.layout["sections"][0], "val/");
        assert_eq!((w.updated_at, w.version), (2.0, 2));
    }

    #[test]
    fn a_save_based_on_an_old_version_is_refused_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let views = Views::open(&dir.path().join("index.sqlite")).unwrap();
        // Nothing saved: only a save based on "nothing" (0) goes through.
        assert_eq!(
            views
                .save_workspace("p", &json!({"a": 1}), 1.0, Some(3))
                .unwrap(),
            Saved::Conflict(None)
        );
        assert_eq!(
            views
                .save_workspace("p", &json!({"a": 1}), 1.0, Some(0))
                .unwrap(),
            Saved::Ok { version: 1 }
        );
        // Two teammates both read version 1; the first save wins, the second is refused.
        assert_eq!(
            views
                .save_workspace("p", &json!({"a": 2}), 2.0, Some(1))
                .unwrap(),
            Saved::Ok { version: 2 }
        );
        let Saved::Conflict(Some(now)) = views
            .save_workspace("p", &json!({"a": 3}), 3.0, Some(1))
            .unwrap()
        else {
            panic!("a stale save must conflict");
        };
        assert_eq!((now.layout, now.version), (json!({"a": 2}), 2));
        assert_eq!(
            views
                .save_workspace("p", &json!({"a": 1}), 4.0, Some(0))
                .unwrap(),
            Saved::Conflict(views.workspace("p").unwrap())
        );
        assert_eq!(
            views.workspace("p").unwrap().unwrap().layout,
            json!({"a": 2})
        );
        // Based on the current version, or on none (last writer wins): saved.
        assert_eq!(
            views
                .save_workspace("p", &json!({"a": 4}), 5.0, Some(2))
                .unwrap(),
            Saved::Ok { version: 3 }
        );
        assert_eq!(
            views
                .save_workspace("p", &json!({"a": 5}), 6.0, None)
                .unwrap(),
            Saved::Ok { version: 4 }
        );
        // Projects are versioned apart.
        assert_eq!(
            views.save_workspace("q", &json!({}), 6.0, Some(0)).unwrap(),
            Saved::Ok { version: 1 }
        );
    }

    #[test]
    fn databases_from_before_versions_keep_their_layouts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.sqlite");
        {
            // The table as earlier daemons made it.
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE workspaces (
                     project TEXT PRIMARY KEY,
                     layout_json TEXT NOT NULL,
                     updated_at REAL NOT NULL
                 );
                 INSERT INTO workspaces VALUES ('p', '{\"workspace\": {\"search\": \"loss\"}}', 7.0);",
            )
            .unwrap();
        }
        let views = Views::open(&path).unwrap();
        let w = views.workspace("p").unwrap().unwrap();
        assert_eq!(w.layout["workspace"]["search"], "loss");
        assert_eq!((w.updated_at, w.version), (7.0, 1));
        assert_eq!(
            views.save_workspace("p", &json!({}), 8.0, Some(1)).unwrap(),
            Saved::Ok { version: 2 }
        );
        // Opening it again (already migrated) is fine too.
        drop(views);
        let views = Views::open(&path).unwrap();
        assert_eq!(views.workspace("p").unwrap().unwrap().version, 2);
    }
}
