//! The owner link of a data directory: one per directory, not one per start. Its token is kept in
//! `<data dir>/.trackline/owner-token` (mode 0600, opened beneath the state folder with no link
//! followed, created on first start) and its SHA-256 is a share link row labelled `owner` that never
//! expires. Every start of a shared daemon reprints the same link; revoking that row (`trackline
//! share revoke ID`, the Share dialog) or `trackline share rotate-owner` makes the next start (or
//! the rotation itself) write a new one.

use super::scope::Scope;
use super::sharing::{CreatedLink, create_link};
use super::token;
use crate::db::share_links::{ShareLink, ShareLinks};
use crate::error::{Error, Result};
use crate::format::beneath::Dir;
use std::io::Write;
use std::path::Path;

/// The file in the state folder holding the owner link's token.
pub const OWNER_TOKEN_FILE: &str = "owner-token";
/// The label of the owner link's row.
pub const OWNER_LABEL: &str = "owner";
/// Written first, then renamed over [`OWNER_TOKEN_FILE`].
const TEMP_FILE: &str = "owner-token.tmp";

/// The owner link and its token.
#[derive(Debug)]
pub struct OwnerLink {
    pub token: String,
    pub link: ShareLink,
    /// Made now (the first start, or the last one was revoked), not found.
    pub created: bool,
}

/// The live owner link of the data directory whose state folder is `state_dir`, made (and its
/// token written) when there is none.
pub fn load_or_create(links: &ShareLinks, state_dir: &Path) -> Result<OwnerLink> {
    let dir = open_state_dir(state_dir)?;
    if let Some(token) = read_token(&dir)?
        && let Some(link) = live_owner_link(links, &token)?
    {
        return Ok(OwnerLink {
            token,
            link,
            created: false,
        });
    }
    create(links, &dir)
}

/// Revokes the current owner link (if it is live) and makes a new one; answers the new link and
/// the id of the one revoked.
pub fn rotate(links: &ShareLinks, state_dir: &Path) -> Result<(OwnerLink, Option<String>)> {
    let dir = open_state_dir(state_dir)?;
    let mut revoked = None;
    if let Some(token) = read_token(&dir)?
        && let Some(link) = live_owner_link(links, &token)?
    {
        links.revoke(&link.id, crate::util::now_secs())?;
        revoked = Some(link.id);
    }
    Ok((create(links, &dir)?, revoked))
}

fn open_state_dir(state_dir: &Path) -> Result<Dir> {
    std::fs::create_dir_all(state_dir).map_err(|e| Error::io(state_dir, e))?;
    Ok(Dir::open_root(state_dir)?)
}

/// The link `token` names if it is a live owner link.
fn live_owner_link(links: &ShareLinks, token: &str) -> Result<Option<ShareLink>> {
    if !token::looks_like_token(token) {
        return Ok(None);
    }
    let hash = token::hash(token);
    Ok(links.by_token_hash(&hash)?.filter(|link| {
        token::constant_time_eq(&link.hash, &hash)
            && link.is_live(crate::util::now_secs())
            && link.scope == Scope::Owner.as_str()
    }))
}

/// The token in the file, if there is one; a file others may read is made private first.
fn read_token(dir: &Dir) -> Result<Option<String>> {
    let Some(mut file) = dir.open_read(OWNER_TOKEN_FILE)? else {
        return Ok(None);
    };
    let path = dir.path().join(OWNER_TOKEN_FILE);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file
            .metadata()
            .map_err(|e| Error::io(&path, e))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                "{} could be read by others (mode {:o}); made it private",
                path.display(),
                mode & 0o777
            );
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(|e| Error::io(&path, e))?;
        }
    }
    let mut text = String::new();
    std::io::Read::read_to_string(&mut file, &mut text).map_err(|e| Error::io(&path, e))?;
    let text = text.trim();
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

/// Makes a new owner link that never expires and writes its token (0600, replaced atomically).
fn create(links: &ShareLinks, dir: &Dir) -> Result<OwnerLink> {
    let CreatedLink { link, token } = create_link(links, Scope::Owner, OWNER_LABEL, None)?;
    match dir.remove_file(TEMP_FILE) {
        Err(crate::format::FormatError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound => {}
        other => other?,
    }
    let temp = dir.path().join(TEMP_FILE);
    let mut file = dir.create_new(TEMP_FILE)?;
    // Private before a byte of the token is in it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::io(&temp, e))?;
    }
    file.write_all(token.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io(&temp, e))?;
    drop(file);
    dir.rename(TEMP_FILE, OWNER_TOKEN_FILE)?;
    dir.open_to_sync()?
        .sync_all()
        .map_err(|e| Error::io(dir.path(), e))?;
    Ok(OwnerLink {
        token,
        link,
        created: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    #[test]
    fn one_owner_link_per_data_dir_until_it_is_revoked_or_rotated() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join(".trackline");
        let links = Db::open_in(&state).unwrap().share_links();

        let first = load_or_create(&links, &state).unwrap();
        assert!(first.created);
        assert_eq!(first.link.label, OWNER_LABEL);
        assert_eq!(first.link.scope, "owner");
        assert_eq!(first.link.expires_at, None);
        let file = state.join(OWNER_TOKEN_FILE);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), first.token);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        // Another start: the same link, no new row.
        let again = load_or_create(&links, &state).unwrap();
        assert!(!again.created);
        assert_eq!(
            (again.token.as_str(), again.link.id.as_str()),
            (first.token.as_str(), first.link.id.as_str())
        );
        assert_eq!(links.list().unwrap().len(), 1);

        // Revoked (e.g. `trackline share revoke`): the next start makes a new one.
        links
            .revoke(&first.link.id, crate::util::now_secs())
            .unwrap();
        let second = load_or_create(&links, &state).unwrap();
        assert!(second.created);
        assert_ne!(second.token, first.token);

        // Rotation revokes the live one and writes a new one.
        let (third, revoked) = rotate(&links, &state).unwrap();
        assert_eq!(revoked.as_deref(), Some(second.link.id.as_str()));
        assert_ne!(third.token, second.token);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), third.token);
        let live: Vec<_> = links
            .list()
            .unwrap()
            .into_iter()
            .filter(|l| l.is_live(crate::util::now_secs()))
            .collect();
        assert_eq!(live.len(), 1);
        assert_eq!(live[0].id, third.link.id);
    }

    #[test]
    fn a_foreign_or_readable_token_file_is_not_trusted_blindly() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join(".trackline");
        let links = Db::open_in(&state).unwrap().share_links();
        let file = state.join(OWNER_TOKEN_FILE);
        // A token that names no link (another data dir's, or made up) is replaced.
        let stranger = token::new_token().unwrap();
        std::fs::write(&file, &stranger).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let owner = load_or_create(&links, &state).unwrap();
        assert!(owner.created);
        assert_ne!(owner.token, stranger);
        // A viewer link's token in the file does not make an owner.
        let viewer = create_link(&links, Scope::Viewer, "v", None).unwrap();
        std::fs::remove_file(&file).unwrap();
        std::fs::write(&file, &viewer.token).unwrap();
        let owner = load_or_create(&links, &state).unwrap();
        assert!(owner.created);
        assert_eq!(owner.link.scope, "owner");
        // A symbolic link in its place is refused, not followed.
        #[cfg(unix)]
        {
            std::fs::remove_file(&file).unwrap();
            let elsewhere = dir.path().join("elsewhere");
            std::fs::write(&elsewhere, &owner.token).unwrap();
            std::os::unix::fs::symlink(&elsewhere, &file).unwrap();
            assert!(load_or_create(&links, &state).is_err());
        }
    }
}
