//! MLflow's SQLite store (`sqlite:///mlflow.db`), opened read-only and read as MLflow's
//! `SqlAlchemyStore` reads it (`dbmodels/models.py`): `experiments`, `runs` (`status` by name,
//! times in ms), `params`, `tags` and `metrics` (`is_nan` marks a NaN, whose `value` is 0; ±inf
//! are stored as ±1.7976931348623157e308, read back here as ±Infinity).

use super::mlflow::{MlRun, Point};
use anyhow::{Context, bail};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::collections::HashMap;
use std::path::Path;

/// The first bytes of every SQLite database file.
const HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Whether the file at `path` is a SQLite database.
pub fn is_sqlite(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head == HEADER
}

/// Whether a file found while searching a folder is an MLflow SQLite store: a SQLite database
/// named `*.db`, `*.sqlite` or `*.sqlite3` with MLflow's `runs` and `experiments` tables.
pub fn looks_like_store(path: &Path) -> bool {
    let named = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e, "db" | "sqlite" | "sqlite3"));
    named && is_sqlite(path) && open(path).is_ok()
}

/// Opens an MLflow store read-only, checking that it has MLflow's tables.
fn open(path: &Path) -> anyhow::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let db = Connection::open_with_flags(path, flags)
        .with_context(|| format!("opening {} read-only", path.display()))?;
    for table in ["experiments", "runs", "metrics", "params", "tags"] {
        let found: Option<String> = db
            .query_row(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |row| row.get(0),
            )
            .optional()
            .with_context(|| format!("reading {}", path.display()))?;
        if found.is_none() {
            bail!(
                "{} is not an MLflow store (it has no {table} table)",
                path.display()
            );
        }
    }
    Ok(db)
}

/// The ids of every run in the store, by experiment and start time.
pub fn run_ids(path: &Path) -> anyhow::Result<Vec<String>> {
    let db = open(path)?;
    let mut query =
        db.prepare("SELECT run_uuid FROM runs ORDER BY experiment_id, start_time, run_uuid")?;
    let ids = query
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("listing the runs of {}", path.display()))?;
    Ok(ids)
}

/// A stored metric value as the value logged: NaN from `is_nan`, ±inf from MLflow's stand-ins.
pub fn logged_value(value: f64, is_nan: bool) -> f64 {
    if is_nan {
        f64::NAN
    } else if value == f64::MAX {
        f64::INFINITY
    } else if value == -f64::MAX {
        f64::NEG_INFINITY
    } else {
        value
    }
}

/// Reads run `run_id` of the store at `path`.
pub fn read_run(path: &Path, run_id: &str) -> anyhow::Result<MlRun> {
    let db = open(path)?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut run = db
        .query_row(
            "SELECT r.run_uuid, r.name, r.user_id, r.status, r.start_time, r.end_time,
                    r.lifecycle_stage, r.artifact_uri, r.experiment_id, e.name, e.lifecycle_stage
             FROM runs r LEFT JOIN experiments e ON e.experiment_id = r.experiment_id
             WHERE r.run_uuid = ?1",
            [run_id],
            |row| {
                let text = |i: usize| -> rusqlite::Result<Option<String>> {
                    Ok(row
                        .get::<_, Option<String>>(i)?
                        .filter(|s: &String| !s.is_empty()))
                };
                Ok(MlRun {
                    run_id: row.get(0)?,
                    run_name: text(1)?,
                    user: text(2)?,
                    status: text(3)?.unwrap_or_else(|| "RUNNING".into()),
                    start_ms: row.get(4)?,
                    end_ms: row.get(5)?,
                    deleted: text(6)?.as_deref() == Some("deleted")
                        || text(10)?.as_deref() == Some("deleted"),
                    artifact_uri: text(7)?,
                    experiment_id: row
                        .get::<_, Option<i64>>(8)?
                        .map(|i| i.to_string())
                        .unwrap_or_default(),
                    experiment_name: text(9)?.unwrap_or_default(),
                    ..MlRun::default()
                })
            },
        )
        .with_context(|| format!("reading run {run_id} of {}", path.display()))?;
    run.artifacts = run
        .artifact_uri
        .as_deref()
        .and_then(|uri| super::mlflow::local_artifacts(uri, base));
    let pairs = |table: &str| -> anyhow::Result<Vec<(String, String)>> {
        let mut query = db.prepare(&format!(
            "SELECT key, value FROM {table} WHERE run_uuid = ?1 ORDER BY key"
        ))?;
        let rows = query
            .query_map([run_id], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, Option<String>>(1)?.unwrap_or_default(),
                ))
            })?
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("reading the {table} of run {run_id}"))?;
        Ok(rows)
    };
    run.params = pairs("params")?;
    run.tags = pairs("tags")?;
    // In the order they were stored (rowid), which is the order they were logged.
    let mut query = db.prepare(
        "SELECT key, value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ?1
         ORDER BY rowid",
    )?;
    let mut rows = query.query([run_id])?;
    let mut keys: HashMap<String, u32> = HashMap::new();
    while let Some(row) = rows.next()? {
        let key: String = row.get(0)?;
        let index = match keys.get(&key) {
            Some(&i) => i,
            None => {
                let i = run.key_index(&key);
                keys.insert(key, i);
                i
            }
        };
        run.points.push(Point {
            key: index,
            value: logged_value(row.get(1)?, row.get::<_, Option<bool>>(4)?.unwrap_or(false)),
            timestamp_ms: row.get(2)?,
            step: row.get::<_, Option<i64>>(3)?.unwrap_or(0),
        });
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &Path) -> std::path::PathBuf {
        let path = dir.join("mlflow.db");
        let db = Connection::open(&path).unwrap();
        db.execute_batch(
            "CREATE TABLE experiments (experiment_id INTEGER PRIMARY KEY, name TEXT,
                artifact_location TEXT, lifecycle_stage TEXT);
             CREATE TABLE runs (run_uuid TEXT PRIMARY KEY, name TEXT, user_id TEXT, status TEXT,
                start_time BIGINT, end_time BIGINT, lifecycle_stage TEXT, artifact_uri TEXT,
                experiment_id INTEGER);
             CREATE TABLE metrics (key TEXT, value FLOAT, timestamp BIGINT, run_uuid TEXT,
                step BIGINT, is_nan BOOLEAN);
             CREATE TABLE params (key TEXT, value TEXT, run_uuid TEXT);
             CREATE TABLE tags (key TEXT, value TEXT, run_uuid TEXT);
             INSERT INTO experiments VALUES (1, 'exp', '', 'active');
             INSERT INTO runs VALUES ('r1', 'first', 'me', 'KILLED', 1000, 2000, 'active',
                's3://bucket/r1', 1);
             INSERT INTO runs VALUES ('r2', '', NULL, 'FINISHED', 3000, NULL, 'deleted', NULL, 1);
             INSERT INTO metrics VALUES ('loss', 0.0, 1001, 'r1', 0, 1);
             INSERT INTO metrics VALUES ('loss', 1.7976931348623157e308, 1002, 'r1', 1, 0);
             INSERT INTO metrics VALUES ('acc', 2, 1003, 'r1', 1, 0);
             INSERT INTO params VALUES ('lr', '0.01', 'r1');
             INSERT INTO tags VALUES ('team', NULL, 'r1');",
        )
        .unwrap();
        path
    }

    #[test]
    fn runs_read_from_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = store(dir.path());
        assert!(is_sqlite(&path) && looks_like_store(&path));
        assert_eq!(run_ids(&path).unwrap(), ["r1", "r2"]);
        let run = read_run(&path, "r1").unwrap();
        assert_eq!(run.run_name.as_deref(), Some("first"));
        assert_eq!(run.status, "KILLED");
        assert_eq!(run.experiment_name, "exp");
        assert_eq!(run.artifacts, None);
        assert_eq!(run.keys, ["loss", "acc"]);
        assert!(run.points[0].value.is_nan());
        assert_eq!(run.points[1].value, f64::INFINITY);
        assert_eq!((run.points[2].value, run.points[2].step), (2.0, 1));
        assert_eq!(run.tags, [("team".to_string(), String::new())]);
        assert!(read_run(&path, "r2").unwrap().deleted);
        assert!(read_run(&path, "nope").is_err());
    }

    #[test]
    fn other_databases_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE runs (x);")
            .unwrap();
        assert!(is_sqlite(&path) && !looks_like_store(&path));
        let err = format!("{:#}", run_ids(&path).unwrap_err());
        assert!(err.contains("not an MLflow store"), "{err}");
        std::fs::write(dir.path().join("text.db"), "hello").unwrap();
        assert!(!is_sqlite(&dir.path().join("text.db")));
    }

    #[test]
    fn stand_ins_become_what_was_logged() {
        assert!(logged_value(0.0, true).is_nan());
        assert_eq!(logged_value(-f64::MAX, false), f64::NEG_INFINITY);
        assert_eq!(logged_value(1.5, false), 1.5);
    }
}
