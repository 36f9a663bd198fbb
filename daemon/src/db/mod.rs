//! The daemon's own database (`<data dir>/.trackline/index.sqlite`, SQLite in WAL mode): one place
//! that opens it, one ordered list of numbered [`MIGRATIONS`], one owner of the connection, and one
//! file per table group ([`index`]: the run index; [`workspaces`]: saved workspace layouts;
//! [`share_links`]: share links, their sessions and the instance id; [`annotations`]: notes,
//! threads, comments and their op log; [`sweeps`]: sweeps, their runs and agents).
//!
//! The schema version is SQLite's `PRAGMA user_version`: migration `n` brings the database from
//! version `n - 1` to `n`, in one transaction with the version bump. A database of a newer version
//! than this daemon knows is refused before anything is written to it.
//!
//! To add a table group (tokens, annotations, sweeps): write `db/<group>.rs` with its `migrate`
//! function and its queries, and append one [`Migration`] to [`MIGRATIONS`]. SQL stays in this
//! folder; nothing outside it sees `rusqlite`.

pub mod annotations;
pub mod index;
pub mod share_links;
pub mod sweeps;
pub mod workspaces;

use parking_lot::Mutex;
use rusqlite::{Connection, OpenFlags, Transaction};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The database's file name inside the daemon's state directory (`<data dir>/.trackline`).
pub const DB_FILE: &str = "index.sqlite";

/// A database failure, with no SQL types in sight of the callers.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("index database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("index database: cannot encode a row: {0}")]
    Encode(#[from] serde_json::Error),
    #[error(
        "the database {path} has schema version {found}, newer than this daemon knows (version \
         {known}); run a newer trackline, or point this one at another data directory"
    )]
    TooNew {
        path: PathBuf,
        found: u32,
        known: u32,
    },
}

pub type DbResult<T> = Result<T, DbError>;

/// One numbered step of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The schema version the database has once this step is applied (1, 2, 3, …, in order).
    pub version: u32,
    /// What the step adds, for the log.
    pub what: &'static str,
    /// Runs inside the migration's transaction.
    pub apply: fn(&Transaction) -> rusqlite::Result<()>,
}

/// Every migration, oldest first. Append only: a released step is never edited.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        what: "the run index",
        apply: index::migrate,
    },
    Migration {
        version: 2,
        what: "saved workspaces",
        apply: workspaces::migrate,
    },
    Migration {
        version: 3,
        what: "share links and their sessions",
        apply: share_links::migrate,
    },
    Migration {
        version: 4,
        what: "annotations: notes, threads, comments and their op log",
        apply: annotations::migrate,
    },
    Migration {
        version: 5,
        what: "run names and tags set in the web app",
        apply: annotations::migrate_run_overlays,
    },
    Migration {
        version: 6,
        what: "reports",
        apply: annotations::migrate_reports,
    },
    Migration {
        version: 7,
        what: "sweeps, their runs and agents",
        apply: sweeps::migrate,
    },
];

/// The newest schema version this daemon knows.
pub fn latest_version() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// The open database: the daemon's one connection to it, shared by the table groups.
#[derive(Debug)]
pub struct Db {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl Db {
    /// Opens (creating it if needed) the database in the daemon's state directory, and migrates it.
    pub fn open_in(state_dir: &Path) -> DbResult<Arc<Db>> {
        Db::open(&state_dir.join(DB_FILE))
    }

    /// Opens (creating it if needed) the database file at `path`, and migrates it to the newest
    /// version. Refuses, leaving the file untouched, a database newer than this daemon.
    pub fn open(path: &Path) -> DbResult<Arc<Db>> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| DbError::Io {
                path: parent.to_owned(),
                source,
            })?;
        }
        // The database lives beneath the data directory: a symbolic link in its place is refused,
        // never followed (docs/format.md).
        let flags = OpenFlags::default() | OpenFlags::SQLITE_OPEN_NOFOLLOW;
        let mut conn = Connection::open_with_flags(path, flags)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        // Checked before anything (even the journal mode) is written.
        let found = schema_version(&conn)?;
        let known = latest_version();
        if found > known {
            return Err(DbError::TooNew {
                path: path.to_owned(),
                found,
                known,
            });
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        migrate(&mut conn, found)?;
        Ok(Arc::new(Db {
            path: path.to_owned(),
            conn: Mutex::new(conn),
        }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The database's schema version (after opening: [`latest_version`]).
    pub fn version(&self) -> DbResult<u32> {
        Ok(schema_version(&self.conn.lock())?)
    }

    /// Runs `f` on the one connection, holding it for the duration (for the table groups).
    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> DbResult<T>) -> DbResult<T> {
        f(&mut self.conn.lock())
    }
}

fn schema_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

/// Applies every migration above version `from`, each with its version bump in one transaction.
fn migrate(conn: &mut Connection, from: u32) -> DbResult<()> {
    for step in MIGRATIONS.iter().filter(|m| m.version > from) {
        let tx = conn.transaction()?;
        (step.apply)(&tx)?;
        tx.pragma_update(None, "user_version", step.version)?;
        tx.commit()?;
        tracing::info!(
            version = step.version,
            what = step.what,
            "migrated the database"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::workspaces::Saved;
    use super::*;
    use serde_json::json;

    /// A column as `pragma_table_info` describes it: name, type, not null, default, primary key.
    type Column = (String, String, bool, Option<String>, i64);

    /// Every table with its columns, for comparing schemas.
    fn columns(db: &Db) -> Vec<(String, Vec<Column>)> {
        db.with(|conn| {
            let mut tables: Vec<String> = conn
                .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            tables.retain(|t| !t.starts_with("sqlite_"));
            let mut out = Vec::new();
            for t in tables {
                let cols = conn
                    .prepare(
                        "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1)",
                    )?
                    .query_map([&t], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })?
                    .collect::<rusqlite::Result<_>>()?;
                out.push((t, cols));
            }
            Ok(out)
        })
        .unwrap()
    }

    #[test]
    fn migrations_are_numbered_one_by_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1, "{}", m.what);
        }
    }

    #[test]
    fn an_empty_database_gets_the_whole_schema_in_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open_in(dir.path()).unwrap();
        assert_eq!(db.path(), dir.path().join(DB_FILE));
        assert_eq!(db.version().unwrap(), latest_version());
        let mode: String = db
            .with(|c| Ok(c.pragma_query_value(None, "journal_mode", |r| r.get(0))?))
            .unwrap();
        assert_eq!(mode, "wal");
        let tables: Vec<String> = columns(&db).into_iter().map(|(t, _)| t).collect();
        assert_eq!(
            tables,
            [
                "annotation_comments",
                "annotation_notes",
                "annotation_ops",
                "annotation_threads",
                "reports",
                "run_overlays",
                "runs",
                "share_instance",
                "share_links",
                "share_sessions",
                "sweep_agents",
                "sweep_runs",
                "sweeps",
                "workspaces"
            ]
        );
    }

    #[test]
    fn a_database_file_that_is_a_symbolic_link_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let target = elsewhere.path().join("other.sqlite");
        drop(Db::open(&target).unwrap());
        std::os::unix::fs::symlink(&target, dir.path().join(DB_FILE)).unwrap();
        assert!(Db::open_in(dir.path()).is_err());
    }

    /// The database exactly as the daemon wrote it before `db/` existed: the run index with its
    /// own `meta.schema_version`, and the workspaces table (`with_version`: after versioned saves).
    fn write_old_database(path: &Path, with_version: bool) {
        let conn = Connection::open(path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS runs (
                 project TEXT NOT NULL,
                 id TEXT NOT NULL,
                 fingerprint TEXT NOT NULL,
                 reported_state TEXT NOT NULL,
                 info_json TEXT NOT NULL,
                 PRIMARY KEY (project, id)
             );
             INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', '1');",
        )
        .unwrap();
        let info = trackline_shared::RunInfo {
            project: "p".into(),
            id: "r1".into(),
            name: "first".into(),
            ..Default::default()
        };
        conn.execute(
            "INSERT INTO runs VALUES ('p', 'r1', 'fp1', 'finished', ?1)",
            [serde_json::to_string(&info).unwrap()],
        )
        .unwrap();
        if with_version {
            conn.execute_batch(
                "CREATE TABLE IF NOT EXISTS workspaces (
                     project TEXT PRIMARY KEY,
                     layout_json TEXT NOT NULL,
                     updated_at REAL NOT NULL,
                     version INTEGER NOT NULL DEFAULT 1
                 );
                 INSERT INTO workspaces VALUES ('p', '{\"workspace\": {\"search\": \"loss\"}}', 7.0, 3);",
            )
            .unwrap();
        } else {
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
    }

    #[test]
    fn a_data_dir_from_before_migrations_opens_and_keeps_its_workspace() {
        for (with_version, version) in [(true, 3), (false, 1)] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(dir.path()).unwrap();
            write_old_database(&dir.path().join(DB_FILE), with_version);
            let db = Db::open_in(dir.path()).unwrap();
            assert_eq!(db.version().unwrap(), latest_version());
            let workspaces = db.workspaces();
            let w = workspaces.workspace("p").unwrap().unwrap();
            assert_eq!(w.layout["workspace"]["search"], "loss");
            assert_eq!((w.updated_at, w.version), (7.0, version));
            assert_eq!(
                workspaces
                    .save_workspace("p", &json!({}), 8.0, Some(version))
                    .unwrap(),
                Saved::Ok {
                    version: version + 1
                }
            );
            // The cached run rows are still there, and the schema is the one made from empty.
            let runs = db.run_index().load_all().unwrap();
            // The share tables came with the migration, the instance id with them.
            assert_eq!(db.share_links().instance_id().unwrap().len(), 16);
            assert!(db.share_links().list().unwrap().is_empty());
            assert_eq!(runs[&("p".into(), "r1".into())].info.name, "first");
            let fresh = tempfile::tempdir().unwrap();
            assert_eq!(columns(&db), columns(&Db::open_in(fresh.path()).unwrap()));
        }
    }

    #[test]
    fn a_newer_database_is_refused_and_left_byte_for_byte_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE);
        let newer = latest_version() + 1;
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE workspaces (project TEXT PRIMARY KEY, layout_json TEXT NOT NULL);
                 INSERT INTO workspaces VALUES ('p', '{}');",
            )
            .unwrap();
            conn.pragma_update(None, "user_version", newer).unwrap();
        }
        let before = std::fs::read(&path).unwrap();
        let err = Db::open(&path).unwrap_err();
        assert!(
            matches!(err, DbError::TooNew { found, known, .. } if found == newer && known == latest_version())
        );
        let message = err.to_string();
        assert!(
            message.contains(&format!("schema version {newer}")),
            "{message}"
        );
        assert!(
            message.contains(&format!("version {})", latest_version())),
            "{message}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }

    #[test]
    fn opening_twice_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (schema, saved) = {
            let db = Db::open_in(dir.path()).unwrap();
            db.workspaces()
                .save_workspace("p", &json!({"a": 1}), 1.0, None)
                .unwrap();
            (columns(&db), db.workspaces().workspace("p").unwrap())
        };
        let db = Db::open_in(dir.path()).unwrap();
        assert_eq!(db.version().unwrap(), latest_version());
        assert_eq!(columns(&db), schema);
        assert_eq!(db.workspaces().workspace("p").unwrap(), saved);
    }
}
