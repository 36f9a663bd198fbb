//! One daemon per data directory: an exclusive lock on `<data dir>/.trackline/daemon.lock`, held
//! for the server's life, with the holder's pid and address written into the file so a second
//! daemon can say which one is in its way. The lock is the operating system's (`flock` on Unix),
//! so it goes with the process: a daemon killed with `kill -9` leaves nothing to clean up.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The lock file's name in the state directory.
pub const LOCK_FILE: &str = "daemon.lock";

/// What the lock file says about its holder.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    /// The URL it serves, once it listens.
    #[serde(default)]
    pub url: Option<String>,
    /// Its public URLs (`--public-url`, a tunnel's), through which teammates reach it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub public_urls: Vec<String>,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.url {
            Some(url) => write!(f, "pid {}, {url}", self.pid),
            None => write!(f, "pid {}, still starting", self.pid),
        }
    }
}

/// The held lock; dropping it (or the process ending in any way) releases it.
#[derive(Debug)]
pub struct DaemonLock {
    file: File,
    path: PathBuf,
}

impl DaemonLock {
    /// Takes the lock of the data directory whose state directory is `state_dir`, and writes this
    /// process's pid into it. Another daemon holding it is [`Error::DataDirInUse`], naming that
    /// daemon's pid and address.
    pub fn acquire(state_dir: &Path, data_dir: &Path) -> Result<DaemonLock> {
        std::fs::create_dir_all(state_dir).map_err(|e| Error::io(state_dir, e))?;
        let path = state_dir.join(LOCK_FILE);
        // Not truncated on open: the holder's details must survive a refused daemon's open.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = read_holder(&mut file)
                    .map_or_else(|| "pid unknown".to_owned(), |holder| holder.to_string());
                return Err(Error::DataDirInUse {
                    holder,
                    data_dir: data_dir.to_owned(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        let mut lock = DaemonLock { file, path };
        lock.write_holder(&Holder {
            pid: std::process::id(),
            ..Holder::default()
        })?;
        Ok(lock)
    }

    /// Records the address this daemon serves and its public URLs, for the next daemon to name
    /// and for `trackline share` to print links through.
    pub fn record_url(&mut self, url: &str, public_urls: &[String]) -> Result<()> {
        self.write_holder(&Holder {
            pid: std::process::id(),
            url: Some(url.to_owned()),
            public_urls: public_urls.to_vec(),
        })
    }

    fn write_holder(&mut self, holder: &Holder) -> Result<()> {
        let text = serde_json::to_string(holder)
            .map_err(|e| Error::Internal(format!("cannot encode the lock holder: {e}")))?;
        self.file
            .set_len(0)
            .and_then(|()| self.file.seek(SeekFrom::Start(0)))
            .and_then(|_| self.file.write_all(text.as_bytes()))
            .map_err(|e| Error::io(&self.path, e))
    }
}

/// The holder's details, if the file holds them.
fn read_holder(file: &mut File) -> Option<Holder> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_naming_the_first_and_free_once_it_is_dropped() {
        let data_dir = tempfile::tempdir().unwrap();
        let state_dir = data_dir.path().join(".trackline");
        let mut first = DaemonLock::acquire(&state_dir, data_dir.path()).unwrap();
        first.record_url("http://127.0.0.1:8765", &[]).unwrap();
        let refused = DaemonLock::acquire(&state_dir, data_dir.path()).unwrap_err();
        let message = refused.to_string();
        let pid = std::process::id();
        assert!(
            message.contains(&format!(
                "another trackline daemon (pid {pid}, http://127.0.0.1:8765) is serving {}",
                data_dir.path().display()
            )),
            "{message}"
        );
        assert!(message.contains("--dir"), "{message}");
        drop(first);
        let again = DaemonLock::acquire(&state_dir, data_dir.path()).unwrap();
        let text = std::fs::read_to_string(state_dir.join(LOCK_FILE)).unwrap();
        let holder: Holder = serde_json::from_str(&text).unwrap();
        assert_eq!(
            holder,
            Holder {
                pid,
                ..Holder::default()
            }
        );
        drop(again);
    }

    /// Another process holds the lock (util-linux `flock`, the same `flock(2)` lock std takes):
    /// refused; `kill -9` of that process frees it.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_lock_held_by_a_process_killed_with_sigkill_is_free() {
        let data_dir = tempfile::tempdir().unwrap();
        let state_dir = data_dir.path().join(".trackline");
        std::fs::create_dir_all(&state_dir).unwrap();
        let lock_path = state_dir.join(LOCK_FILE);
        std::fs::write(&lock_path, "").unwrap();
        let mut holder = std::process::Command::new("flock")
            .args(["--exclusive", "--close"])
            .arg(&lock_path)
            .args(["sleep", "60"])
            .spawn()
            .expect("util-linux flock");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match DaemonLock::acquire(&state_dir, data_dir.path()) {
                Err(Error::DataDirInUse { .. }) => break,
                Ok(lock) => drop(lock),
                Err(e) => panic!("{e}"),
            }
            assert!(std::time::Instant::now() < deadline, "flock never took it");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        holder.kill().unwrap();
        holder.wait().unwrap();
        // With --close, flock(1) alone held the lock (its `sleep` child has no copy of the file).
        DaemonLock::acquire(&state_dir, data_dir.path()).unwrap();
    }
}
