//! A run's logged media: its media keys and a key's values from an offset (the media routes; the
//! `media` topic reads the same index live).

use crate::error::{Error, Result};
use crate::store::{Run, Store};
use std::sync::Arc;
use trackline_shared::media::{MAX_MEDIA_ENTRIES_PER_MESSAGE, MediaEntry, MediaKeyInfo};

/// Bytes of reference JSON one answer of [`entries`] carries at most (past its first value).
pub const MAX_MEDIA_ANSWER_BYTES: usize = 8 << 20;

/// The media keys of `run`, in the order they were first logged.
pub fn keys(store: &Store, run: &Arc<Run>) -> Result<Vec<MediaKeyInfo>> {
    store.ensure_loaded(run)?;
    Ok(run.history.lock().media().keys())
}

/// Values `from..` of media `key` of `run`, at most `limit` (default and cap
/// [`MAX_MEDIA_ENTRIES_PER_MESSAGE`] × 8) and about [`MAX_MEDIA_ANSWER_BYTES`]; an empty list past
/// the end. A key the run never logged is "not found".
pub fn entries(
    store: &Store,
    run: &Arc<Run>,
    key: &str,
    from: u64,
    limit: Option<usize>,
) -> Result<Vec<MediaEntry>> {
    store.ensure_loaded(run)?;
    let h = run.history.lock();
    let media = h.media();
    if media.len(key) == 0 {
        return Err(Error::NotFound(format!("no media key '{key}' in this run")));
    }
    let cap = MAX_MEDIA_ENTRIES_PER_MESSAGE * 8;
    let limit = limit.unwrap_or(cap).min(cap);
    let from = usize::try_from(from).unwrap_or(usize::MAX);
    Ok(media.entries(key, from, limit, MAX_MEDIA_ANSWER_BYTES))
}
