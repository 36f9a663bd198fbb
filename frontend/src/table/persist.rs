//! Loading and saving the table's settings in the project's workspace layout under its `table`
//! key (`GET`/`PUT api/projects/{p}/workspace`). Saving goes through [`crate::layout`]: only the
//! table's own changes are merged into the layout as stored, so the workspace panels' part and a
//! teammate's changes are kept.

use super::settings::TableSettings;
use crate::api::ApiError;
use crate::layout::{self, Part};

/// The settings as saved (defaults when nothing was saved yet).
pub async fn load(project: &str) -> Result<TableSettings, ApiError> {
    let saved = layout::load(project).await?;
    Ok(TableSettings::from_layout(&saved.layout))
}

/// Saves the changes from `base` (the settings as last loaded or saved) to `ours`; returns the
/// settings as stored, a teammate's changes to other fields included.
pub async fn save(
    project: &str,
    base: &TableSettings,
    ours: &TableSettings,
) -> Result<TableSettings, ApiError> {
    layout::save(project, base, ours).await
}
