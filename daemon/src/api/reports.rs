//! `GET /api/projects/{project}/reports` (the project's reports as the caller may see them,
//! oldest first), `GET /api/projects/{project}/reports/{report}` and `GET /api/reports/{report}`
//! (one report with the op-log `seq` it is current as of; report ids are unique across the
//! daemon). A viewer link of a shared daemon sees only published reports, as their published
//! copy; a deleted report, or one a viewer may not see, is `404`. Reports change through the
//! annotation ops (`api/annotations.rs`).

use super::extract::PathParams;
use super::{AppState, blocking};
use crate::auth::sharing::Principal;
use crate::error::{Error, Result};
use crate::reports::{sees_drafts, viewer_copy};
use axum::Json;
use axum::extract::{Extension, State};
use trackline_shared::reports::{Report, ReportSnapshot};

pub async fn list(
    State(s): State<AppState>,
    PathParams(project): PathParams<String>,
    principal: Option<Extension<Principal>>,
) -> Result<Json<Vec<Report>>> {
    let drafts = sees_drafts(principal.as_deref());
    let annotations = s.annotations.clone();
    let (_, reports) = blocking(move || Ok(annotations.reports(&project)?)).await?;
    Ok(Json(if drafts {
        reports
    } else {
        reports.iter().filter_map(viewer_copy).collect()
    }))
}

pub async fn in_project(
    State(s): State<AppState>,
    PathParams((project, report)): PathParams<(String, String)>,
    principal: Option<Extension<Principal>>,
) -> Result<Json<ReportSnapshot>> {
    one(&s, report, Some(project), principal.as_deref()).await
}

pub async fn by_id(
    State(s): State<AppState>,
    PathParams(report): PathParams<String>,
    principal: Option<Extension<Principal>>,
) -> Result<Json<ReportSnapshot>> {
    one(&s, report, None, principal.as_deref()).await
}

/// Report `id` (of `project` when given) as `principal` may see it, or `404`.
async fn one(
    s: &AppState,
    id: String,
    project: Option<String>,
    principal: Option<&Principal>,
) -> Result<Json<ReportSnapshot>> {
    let drafts = sees_drafts(principal);
    let annotations = s.annotations.clone();
    let wanted = id.clone();
    let found = blocking(move || Ok(annotations.report(&wanted)?)).await?;
    let seen = found
        .filter(|s| !s.report.deleted && project.as_ref().is_none_or(|p| *p == s.report.project))
        .and_then(|ReportSnapshot { seq, report }| {
            let report = if drafts {
                report
            } else {
                viewer_copy(&report)?
            };
            Some(ReportSnapshot { seq, report })
        });
    seen.map(Json)
        .ok_or_else(|| Error::NotFound(format!("no report '{id}'")))
}
