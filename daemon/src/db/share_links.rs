//! Share links: the scoped tokens `trackline share` hands out, and the browser sessions traded for
//! them. Only the SHA-256 of a token or session secret is stored (the secret itself is shown once
//! and never kept); a link is looked up by that hash. The table also holds this data directory's
//! instance id, which names the session cookie (cookies ignore ports, so two daemons on one host
//! must not share a cookie name).
//!
//! Written by the daemon and by `trackline share` in another process at once: WAL and the busy
//! timeout of [`Db::open`] make that safe, and every change is one statement.

use super::{Db, DbResult};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};
use std::sync::Arc;

/// Migration 3: `share_links`, `share_sessions`, and the one-row `share_instance` with a random id.
pub(super) fn migrate(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE share_links (
             id TEXT PRIMARY KEY,
             label TEXT NOT NULL,
             scope TEXT NOT NULL,
             hash BLOB NOT NULL UNIQUE,
             created_at REAL NOT NULL,
             expires_at REAL,
             last_used_at REAL,
             revoked_at REAL
         );
         CREATE TABLE share_sessions (
             hash BLOB PRIMARY KEY,
             link_id TEXT NOT NULL REFERENCES share_links(id),
             created_at REAL NOT NULL
         );
         CREATE TABLE share_instance (
             one INTEGER PRIMARY KEY CHECK (one = 1),
             id TEXT NOT NULL
         );
         INSERT INTO share_instance (one, id) VALUES (1, lower(hex(randomblob(8))));",
    )
}

/// A share link as stored (never its token).
#[derive(Debug, Clone, PartialEq)]
pub struct ShareLink {
    /// Public: listed and used to revoke.
    pub id: String,
    pub label: String,
    /// `viewer`, `annotator` or `owner`.
    pub scope: String,
    /// SHA-256 of the token.
    pub hash: [u8; 32],
    /// Unix seconds.
    pub created_at: f64,
    /// `None`: never expires.
    pub expires_at: Option<f64>,
    pub last_used_at: Option<f64>,
    pub revoked_at: Option<f64>,
}

impl ShareLink {
    /// Neither revoked nor expired at `now`.
    pub fn is_live(&self, now: f64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > now)
    }
}

/// What [`ShareLinks::revoke`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    Now,
    Already,
    NoSuchLink,
}

/// The share links and sessions of one data directory.
#[derive(Debug, Clone)]
pub struct ShareLinks {
    db: Arc<Db>,
}

impl Db {
    pub fn share_links(self: &Arc<Self>) -> ShareLinks {
        ShareLinks { db: self.clone() }
    }
}

const COLUMNS: &str = "id, label, scope, hash, created_at, expires_at, last_used_at, revoked_at";

fn link_from(row: &Row) -> rusqlite::Result<ShareLink> {
    let hash: Vec<u8> = row.get(3)?;
    Ok(ShareLink {
        id: row.get(0)?,
        label: row.get(1)?,
        scope: row.get(2)?,
        hash: hash.try_into().unwrap_or([0; 32]),
        created_at: row.get(4)?,
        expires_at: row.get(5)?,
        last_used_at: row.get(6)?,
        revoked_at: row.get(7)?,
    })
}

impl ShareLinks {
    /// This data directory's instance id (16 hex digits), made by the migration.
    pub fn instance_id(&self) -> DbResult<String> {
        self.db.with(|conn| {
            Ok(
                conn.query_row("SELECT id FROM share_instance WHERE one = 1", [], |r| {
                    r.get(0)
                })?,
            )
        })
    }

    /// Stores a new link (its `last_used_at` and `revoked_at` are ignored: a new link has neither).
    pub fn create(&self, link: &ShareLink) -> DbResult<()> {
        self.db.with(|conn| {
            conn.execute(
                "INSERT INTO share_links (id, label, scope, hash, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    link.id,
                    link.label,
                    link.scope,
                    &link.hash[..],
                    link.created_at,
                    link.expires_at
                ],
            )?;
            Ok(())
        })
    }

    /// Every link, oldest first.
    pub fn list(&self) -> DbResult<Vec<ShareLink>> {
        self.db.with(|conn| {
            let sql = format!("SELECT {COLUMNS} FROM share_links ORDER BY created_at, id");
            let links = conn
                .prepare(&sql)?
                .query_map([], link_from)?
                .collect::<rusqlite::Result<_>>()?;
            Ok(links)
        })
    }

    /// The link whose token hashes to `hash`, live or not.
    pub fn by_token_hash(&self, hash: &[u8; 32]) -> DbResult<Option<ShareLink>> {
        self.db.with(|conn| by_hash(conn, hash))
    }

    /// Marks a link revoked at `now` (its sessions go with it: they are checked through the link).
    pub fn revoke(&self, id: &str, now: f64) -> DbResult<Revoked> {
        self.db.with(|conn| {
            let changed = conn.execute(
                "UPDATE share_links SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, now],
            )?;
            if changed == 1 {
                return Ok(Revoked::Now);
            }
            let exists = conn
                .prepare("SELECT 1 FROM share_links WHERE id = ?1")?
                .exists([id])?;
            Ok(if exists {
                Revoked::Already
            } else {
                Revoked::NoSuchLink
            })
        })
    }

    /// Records a use of the link.
    pub fn touch(&self, id: &str, now: f64) -> DbResult<()> {
        self.db.with(|conn| {
            conn.execute(
                "UPDATE share_links SET last_used_at = ?2 WHERE id = ?1",
                params![id, now],
            )?;
            Ok(())
        })
    }

    /// The ids of links that are revoked or expired at `now`.
    pub fn dead_ids(&self, now: f64) -> DbResult<Vec<String>> {
        self.db.with(|conn| {
            let ids = conn
                .prepare(
                    "SELECT id FROM share_links
                     WHERE revoked_at IS NOT NULL OR (expires_at IS NOT NULL AND expires_at <= ?1)",
                )?
                .query_map([now], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(ids)
        })
    }

    /// Stores a browser session for link `link_id`, by the hash of its secret.
    pub fn create_session(&self, hash: &[u8; 32], link_id: &str, now: f64) -> DbResult<()> {
        self.db.with(|conn| {
            conn.execute(
                "INSERT INTO share_sessions (hash, link_id, created_at) VALUES (?1, ?2, ?3)",
                params![&hash[..], link_id, now],
            )?;
            Ok(())
        })
    }

    /// The link of the session whose secret hashes to `hash`, live or not.
    pub fn by_session_hash(&self, hash: &[u8; 32]) -> DbResult<Option<ShareLink>> {
        self.db.with(|conn| {
            let sql = format!(
                "SELECT {} FROM share_sessions s JOIN share_links l ON l.id = s.link_id
                 WHERE s.hash = ?1",
                COLUMNS
                    .split(", ")
                    .map(|c| format!("l.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            Ok(conn.query_row(&sql, [&hash[..]], link_from).optional()?)
        })
    }
}

fn by_hash(conn: &Connection, hash: &[u8; 32]) -> DbResult<Option<ShareLink>> {
    let sql = format!("SELECT {COLUMNS} FROM share_links WHERE hash = ?1");
    Ok(conn.query_row(&sql, [&hash[..]], link_from).optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(id: &str, hash: u8, expires_at: Option<f64>) -> ShareLink {
        ShareLink {
            id: id.into(),
            label: format!("label {id}"),
            scope: "viewer".into(),
            hash: [hash; 32],
            created_at: 10.0,
            expires_at,
            last_used_at: None,
            revoked_at: None,
        }
    }

    #[test]
    fn a_link_is_found_by_its_hash_only_and_revoked_once() {
        let dir = tempfile::tempdir().unwrap();
        let links = Db::open_in(dir.path()).unwrap().share_links();
        links.create(&link("a", 1, None)).unwrap();
        links.create(&link("b", 2, Some(100.0))).unwrap();
        assert_eq!(links.by_token_hash(&[1; 32]).unwrap().unwrap().id, "a");
        assert_eq!(links.by_token_hash(&[3; 32]).unwrap(), None);
        // A second link with the same hash is refused (a lookup must name one link).
        assert!(links.create(&link("c", 1, None)).is_err());

        assert!(
            links
                .by_token_hash(&[2; 32])
                .unwrap()
                .unwrap()
                .is_live(99.0)
        );
        assert!(
            !links
                .by_token_hash(&[2; 32])
                .unwrap()
                .unwrap()
                .is_live(100.0)
        );
        assert_eq!(links.dead_ids(99.0).unwrap(), Vec::<String>::new());
        assert_eq!(links.dead_ids(100.0).unwrap(), ["b"]);

        assert_eq!(links.revoke("a", 50.0).unwrap(), Revoked::Now);
        assert_eq!(links.revoke("a", 60.0).unwrap(), Revoked::Already);
        assert_eq!(links.revoke("zz", 60.0).unwrap(), Revoked::NoSuchLink);
        let a = links.by_token_hash(&[1; 32]).unwrap().unwrap();
        assert_eq!(a.revoked_at, Some(50.0));
        assert!(!a.is_live(51.0));
        assert_eq!(links.dead_ids(0.0).unwrap(), ["a"]);

        links.touch("b", 70.0).unwrap();
        let listed = links.list().unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[1].last_used_at, Some(70.0));
    }

    #[test]
    fn a_session_follows_its_link_and_another_process_sees_a_revocation() {
        let dir = tempfile::tempdir().unwrap();
        let daemon = Db::open_in(dir.path()).unwrap().share_links();
        daemon.create(&link("a", 1, None)).unwrap();
        daemon.create_session(&[9; 32], "a", 11.0).unwrap();
        assert!(
            daemon
                .by_session_hash(&[9; 32])
                .unwrap()
                .unwrap()
                .is_live(12.0)
        );
        assert_eq!(daemon.by_session_hash(&[1; 32]).unwrap(), None);
        // `trackline share revoke` opens its own connection while the daemon holds one.
        let cli = Db::open_in(dir.path()).unwrap().share_links();
        assert_eq!(cli.revoke("a", 12.0).unwrap(), Revoked::Now);
        assert!(
            !daemon
                .by_session_hash(&[9; 32])
                .unwrap()
                .unwrap()
                .is_live(13.0)
        );
        let id = daemon.instance_id().unwrap();
        assert_eq!(id.len(), 16);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(cli.instance_id().unwrap(), id);
    }
}
