//! Saved workspaces: a project's workspace layout (panel sections, order, chart settings), kept in
//! the daemon's database so every teammate opening the project sees the same workspace. This table
//! holds user data: its migrations keep every row.
//!
//! Each saved layout has a `version`, 1 on the first save and one more on every save after, so two
//! teammates saving at once cannot silently overwrite each other: a save may say which version it
//! was based on ([`Workspaces::save_workspace`]), and is refused if that is no longer the stored one.
//! `0` stands for "nothing saved yet".

use super::{Db, DbResult};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde_json::Value;
use std::sync::Arc;

/// Migration 2: the `workspaces` table. Databases from before numbered migrations may already have
/// it, with or without the `version` column (added with versioned saves): a layout saved before
/// that is version 1.
pub(super) fn migrate(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS workspaces (
             project TEXT PRIMARY KEY,
             layout_json TEXT NOT NULL,
             updated_at REAL NOT NULL,
             version INTEGER NOT NULL DEFAULT 1
         );",
    )?;
    let has_version = tx
        .prepare("SELECT 1 FROM pragma_table_info('workspaces') WHERE name = 'version'")?
        .exists([])?;
    if !has_version {
        tx.execute_batch("ALTER TABLE workspaces ADD COLUMN version INTEGER NOT NULL DEFAULT 1;")?;
    }
    Ok(())
}

/// The saved workspaces of every project.
#[derive(Debug, Clone)]
pub struct Workspaces {
    db: Arc<Db>,
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

impl Db {
    pub fn workspaces(self: &Arc<Self>) -> Workspaces {
        Workspaces { db: self.clone() }
    }
}

impl Workspaces {
    /// A project's saved workspace, if any.
    pub fn workspace(&self, project: &str) -> DbResult<Option<SavedWorkspace>> {
        self.db.with(|conn| read(conn, project))
    }

    /// Saves a project's layout. With `based_on: Some(v)` only if `v` is the stored version (`0`:
    /// only if nothing is stored yet); with `None`, whatever is stored (last writer wins).
    pub fn save_workspace(
        &self,
        project: &str,
        layout: &Value,
        now_secs: f64,
        based_on: Option<u64>,
    ) -> DbResult<Saved> {
        self.db.with(|conn| {
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
        })
    }
}

fn read(conn: &Connection, project: &str) -> DbResult<Option<SavedWorkspace>> {
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
        let workspaces = Db::open_in(dir.path()).unwrap().workspaces();
        assert!(workspaces.workspace("p").unwrap().is_none());
        let saved = workspaces
            .save_workspace("p", &json!({"sections": ["train/"]}), 1.0, None)
            .unwrap();
        assert_eq!(saved, Saved::Ok { version: 1 });
        let saved = workspaces
            .save_workspace("p", &json!({"sections": ["val/"]}), 2.0, None)
            .unwrap();
        assert_eq!(saved, Saved::Ok { version: 2 });
        let reopened = Db::open_in(dir.path()).unwrap().workspaces();
        let w = reopened.workspace("p").unwrap().unwrap();
        assert_eq!(w.layout["sections"][0], "val/");
        assert_eq!((w.updated_at, w.version), (2.0, 2));
    }

    #[test]
    fn a_save_based_on_an_old_version_is_refused_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let workspaces = Db::open_in(dir.path()).unwrap().workspaces();
        // Nothing saved: only a save based on "nothing" (0) goes through.
        assert_eq!(
            workspaces
                .save_workspace("p", &json!({"a": 1}), 1.0, Some(3))
                .unwrap(),
            Saved::Conflict(None)
        );
        assert_eq!(
            workspaces
                .save_workspace("p", &json!({"a": 1}), 1.0, Some(0))
                .unwrap(),
            Saved::Ok { version: 1 }
        );
        // Two teammates both read version 1; the first save wins, the second is refused.
        assert_eq!(
            workspaces
                .save_workspace("p", &json!({"a": 2}), 2.0, Some(1))
                .unwrap(),
            Saved::Ok { version: 2 }
        );
        let Saved::Conflict(Some(now)) = workspaces
            .save_workspace("p", &json!({"a": 3}), 3.0, Some(1))
            .unwrap()
        else {
            panic!("a stale save must conflict");
        };
        assert_eq!((now.layout, now.version), (json!({"a": 2}), 2));
        assert_eq!(
            workspaces
                .save_workspace("p", &json!({"a": 1}), 4.0, Some(0))
                .unwrap(),
            Saved::Conflict(workspaces.workspace("p").unwrap())
        );
        assert_eq!(
            workspaces.workspace("p").unwrap().unwrap().layout,
            json!({"a": 2})
        );
        // Based on the current version, or on none (last writer wins): saved.
        assert_eq!(
            workspaces
                .save_workspace("p", &json!({"a": 4}), 5.0, Some(2))
                .unwrap(),
            Saved::Ok { version: 3 }
        );
        assert_eq!(
            workspaces
                .save_workspace("p", &json!({"a": 5}), 6.0, None)
                .unwrap(),
            Saved::Ok { version: 4 }
        );
        // Projects are versioned apart.
        assert_eq!(
            workspaces
                .save_workspace("q", &json!({}), 6.0, Some(0))
                .unwrap(),
            Saved::Ok { version: 1 }
        );
    }
}
