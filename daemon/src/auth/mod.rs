//! Who may do what. This file: the ingest write token that remote clients present
//! (`Authorization: Bearer …`), created once, stored 0600 in the daemon's state directory, compared
//! in constant time; it grants writes of run data only, no UI read. [`scope`]: what a share link
//! allows; [`token`]: share tokens and session secrets; [`sharing`]: who a request is once the
//! daemon is shared (`serve --public-url`); [`owner`]: the data directory's one owner link.

pub mod owner;
pub mod scope;
pub mod sharing;
pub mod token;

use crate::error::{Error, Result};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const TOKEN_FILE: &str = "api_key";

/// The token and where it lives.
#[derive(Clone)]
pub struct WriteToken {
    token: String,
    pub path: PathBuf,
    /// Where it lives as a client may be told: relative to the data directory
    /// (`<data dir>/.trackline/api_key`), never the absolute path.
    location: String,
}

impl std::fmt::Debug for WriteToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteToken")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl WriteToken {
    /// Reads the token from `state_dir`, creating it (0600) on first use.
    pub fn load_or_create(state_dir: &Path) -> Result<WriteToken> {
        let path = state_dir.join(TOKEN_FILE);
        let location = match state_dir.file_name() {
            Some(dir) => format!("<data dir>/{}/{TOKEN_FILE}", dir.to_string_lossy()),
            None => TOKEN_FILE.to_owned(),
        };
        match std::fs::read_to_string(&path) {
            Ok(t) if !t.trim().is_empty() => {
                return Ok(WriteToken {
                    token: t.trim().to_owned(),
                    path,
                    location,
                });
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&path, e)),
        }
        std::fs::create_dir_all(state_dir).map_err(|e| Error::io(state_dir, e))?;
        let mut bytes = [0u8; 24];
        getrandom::fill(&mut bytes).map_err(|e| Error::Internal(format!("no randomness: {e}")))?;
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let token = format!("tl_{token}");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&path).map_err(|e| Error::io(&path, e))?;
        f.write_all(token.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(|e| Error::io(&path, e))?;
        Ok(WriteToken {
            token,
            path,
            location,
        })
    }

    /// Accepts a request that carries this token.
    pub fn check(&self, headers: &HeaderMap) -> Result<()> {
        let given = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if token::constant_time_eq(given.trim().as_bytes(), self.token.as_bytes()) {
            Ok(())
        } else {
            Err(Error::Unauthorized(self.location.clone()))
        }
    }

    pub fn token(&self) -> &str {
        &self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_created_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let t1 = WriteToken::load_or_create(dir.path()).unwrap();
        let t2 = WriteToken::load_or_create(dir.path()).unwrap();
        assert_eq!(t1.token(), t2.token());
        assert!(t1.token().len() > 40);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&t1.path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let mut h = HeaderMap::new();
        assert!(t1.check(&h).is_err());
        h.insert(AUTHORIZATION, "Bearer wrong".parse().unwrap());
        assert!(t1.check(&h).is_err());
        h.insert(
            AUTHORIZATION,
            format!("Bearer {}", t1.token()).parse().unwrap(),
        );
        assert!(t1.check(&h).is_ok());
    }

    #[test]
    fn the_refusal_names_the_token_file_relative_to_the_data_dir() {
        let data_dir = tempfile::tempdir().unwrap();
        let token = WriteToken::load_or_create(&data_dir.path().join(".trackline")).unwrap();
        let message = token.check(&HeaderMap::new()).unwrap_err().to_string();
        assert!(
            message.contains("<data dir>/.trackline/api_key"),
            "{message}"
        );
        let absolute = data_dir.path().display().to_string();
        assert!(!message.contains(&absolute), "{message}");
    }
}
