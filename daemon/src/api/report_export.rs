//! `GET /api/projects/{project}/reports/{report}/export.html` (one self-contained HTML file) and
//! `GET /api/projects/{project}/reports/{report}/export.zip` (the Markdown export: `report.md` and
//! its SVG charts), both as downloads (`Content-Disposition: attachment`). `?version=draft|published`
//! picks the copy (default: the draft for annotators and owners, the published copy for viewers);
//! a viewer link of a shared daemon gets only published reports (`404` for the others, `403` for
//! `version=draft`). The export is built by [`crate::reports::export::collect`], as the CLI's is.

use super::extract::{PathParams, QueryParams};
use super::{AppState, blocking};
use crate::auth::sharing::Principal;
use crate::error::{Error, Result};
use crate::reports::export::{self, Export, Version, file_part, html, md, zip};
use crate::reports::sees_drafts;
use axum::extract::{Extension, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

#[derive(Deserialize, Debug)]
pub struct ExportQuery {
    #[serde(default)]
    version: Option<Version>,
}

pub async fn html_file(
    State(s): State<AppState>,
    PathParams((project, report)): PathParams<(String, String)>,
    QueryParams(q): QueryParams<ExportQuery>,
    principal: Option<Extension<Principal>>,
) -> Result<Response> {
    let export = build(&s, project, report, q.version, principal.as_deref()).await?;
    let name = format!("report-{}.html", file_part(&export.report_id));
    let page = blocking(move || Ok(html::render_page(&export))).await?;
    Ok(download(
        "text/html; charset=utf-8",
        &name,
        page.into_bytes(),
    ))
}

pub async fn zip_file(
    State(s): State<AppState>,
    PathParams((project, report)): PathParams<(String, String)>,
    QueryParams(q): QueryParams<ExportQuery>,
    principal: Option<Extension<Principal>>,
) -> Result<Response> {
    let export = build(&s, project, report, q.version, principal.as_deref()).await?;
    let name = format!("report-{}.zip", file_part(&export.report_id));
    let archive = blocking(move || Ok(zip::write(&md::render_files(&export)))).await?;
    Ok(download("application/zip", &name, archive))
}

/// The export of report `id` of `project` as `principal` may have it.
async fn build(
    s: &AppState,
    project: String,
    id: String,
    version: Option<Version>,
    principal: Option<&Principal>,
) -> Result<Export> {
    let drafts = sees_drafts(principal);
    let (annotations, store) = (s.annotations.clone(), s.store.clone());
    blocking(move || {
        let missing = || Error::NotFound(format!("no report '{id}' in project '{project}'"));
        let snapshot = annotations
            .report(&id)?
            .filter(|r| !r.report.deleted && r.report.project == project)
            .ok_or_else(missing)?;
        if !drafts && snapshot.report.published.is_none() {
            return Err(missing());
        }
        let version = match (version, drafts) {
            (Some(Version::Draft), false) => {
                return Err(Error::Forbidden(
                    "this link may read published reports only (version=published)".into(),
                ));
            }
            (Some(v), _) => v,
            (None, true) => Version::Draft,
            (None, false) => Version::Published,
        };
        export::collect(&store, &snapshot, version, crate::util::now_secs())
    })
    .await
}

fn download(content_type: &'static str, file_name: &str, body: Vec<u8>) -> Response {
    (
        [
            (CONTENT_TYPE, content_type.to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        body,
    )
        .into_response()
}
