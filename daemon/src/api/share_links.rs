//! Who the page is (`GET /api/me`, any scope) and the owner's share links: list
//! (`GET /api/share/links`, never a secret), make (`POST /api/share/links`: the token shown once)
//! and revoke (`DELETE /api/share/links/{id}`: its next request is refused and its open sockets
//! close at once, without waiting for the revocation poll). Managing links needs an `owner` link
//! (`403 forbidden` otherwise); a daemon that is not shared has no links to manage (`409
//! not_shared`, saying how to share it), and its local user is the owner `local`.

use super::error::error_response;
use super::extract::JsonBody;
use super::{AppState, blocking};
use crate::auth::scope::Scope;
use crate::auth::sharing::{self, Principal, Sharing};
use crate::db::share_links::{Revoked, ShareLink};
use crate::error::Error;
use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use trackline_shared::share::{
    CreatedShareLink, Identity, LOCAL_LABEL, NewShareLink, ShareLinkInfo, link_url,
};

/// Longest label accepted, in characters.
const MAX_LABEL_CHARS: usize = 100;

/// `GET /api/me`.
pub async fn me(State(s): State<AppState>, principal: Option<Extension<Principal>>) -> Response {
    let sharing = s.security.sharing.as_deref();
    let identity = match (&principal, sharing) {
        (Some(Extension(p)), Some(sharing)) => Identity {
            label: p.label.clone(),
            scope: p.scope.as_str().to_owned(),
            link_id: Some(p.link_id.clone()),
            sharing: true,
            public_urls: public_urls(sharing),
        },
        (None, None) => Identity {
            label: LOCAL_LABEL.to_owned(),
            scope: Scope::Owner.as_str().to_owned(),
            link_id: None,
            sharing: false,
            public_urls: Vec::new(),
        },
        // The guard lets no request of a shared daemon through without a link.
        _ => return Error::Internal("a shared request without its link".into()).into_response(),
    };
    Json(identity).into_response()
}

/// `GET /api/share/links`: every link, oldest first.
pub async fn list(State(s): State<AppState>, principal: Option<Extension<Principal>>) -> Response {
    let sharing = match owner_of_shared(&s, principal.as_deref()) {
        Ok(sharing) => sharing,
        Err(refused) => return *refused,
    };
    let now = crate::util::now_secs();
    match blocking(move || Ok(sharing.links().list()?)).await {
        Ok(links) => Json(
            links
                .iter()
                .map(|l| info(l, now))
                .collect::<Vec<ShareLinkInfo>>(),
        )
        .into_response(),
        Err(e) => e.into_response(),
    }
}

/// `POST /api/share/links`: a new link; its token is in this answer and nowhere else.
pub async fn create(
    State(s): State<AppState>,
    principal: Option<Extension<Principal>>,
    JsonBody(body): JsonBody<NewShareLink>,
) -> Response {
    let sharing = match owner_of_shared(&s, principal.as_deref()) {
        Ok(sharing) => sharing,
        Err(refused) => return *refused,
    };
    let scope = match body.scope.parse::<Scope>() {
        Ok(scope) => scope,
        Err(e) => return Error::BadRequest(e).into_response(),
    };
    let label = body.label.trim().to_owned();
    if label.is_empty()
        || label.chars().count() > MAX_LABEL_CHARS
        || label.chars().any(char::is_control)
    {
        return Error::BadRequest(format!(
            "a link needs a label of 1 to {MAX_LABEL_CHARS} characters (who it is for), \
             without control characters"
        ))
        .into_response();
    }
    let expires = match sharing::parse_expiry(body.expires.as_deref().unwrap_or("7d")) {
        Ok(expires) => expires,
        Err(e) => return Error::BadRequest(e).into_response(),
    };
    let urls_of = sharing.clone();
    let created =
        blocking(move || sharing::create_link(sharing.links(), scope, &label, expires)).await;
    match created {
        Ok(created) => {
            tracing::info!(
                link = %created.link.id,
                scope = %created.link.scope,
                "made a share link from the web app"
            );
            let answer = CreatedShareLink {
                link: info(&created.link, crate::util::now_secs()),
                urls: urls_of
                    .public_urls()
                    .iter()
                    .map(|u| link_url(&u.url, &created.token))
                    .collect(),
                token: created.token,
            };
            (StatusCode::CREATED, Json(answer)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// `DELETE /api/share/links/{id}`: `204` once revoked (also when it already was), `404` for an
/// unknown id.
pub async fn revoke(
    State(s): State<AppState>,
    principal: Option<Extension<Principal>>,
    Path(id): Path<String>,
) -> Response {
    let sharing = match owner_of_shared(&s, principal.as_deref()) {
        Ok(sharing) => sharing,
        Err(refused) => return *refused,
    };
    let revoking = sharing.clone();
    let target = id.clone();
    let revoked =
        blocking(move || Ok(revoking.links().revoke(&target, crate::util::now_secs())?)).await;
    match revoked {
        Ok(Revoked::Now | Revoked::Already) => {
            tracing::info!(link = %id, "revoked a share link from the web app");
            sharing.note_dead(&id);
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(Revoked::NoSuchLink) => Error::NotFound(format!("no share link '{id}'")).into_response(),
        Err(e) => e.into_response(),
    }
}

/// The daemon's sharing state, if the request is an owner's and the daemon is shared.
fn owner_of_shared(
    s: &AppState,
    principal: Option<&Principal>,
) -> Result<Arc<Sharing>, Box<Response>> {
    let Some(sharing) = s.security.sharing.clone() else {
        return Err(Box::new(
            Error::Conflict {
                code: "not_shared",
                message:
                    "this Trackline is not shared, so it has no links to manage: start it with \
                      `trackline serve --share cloudflared` (or ngrok, ssh:HOST) or with \
                      --public-url URL"
                        .into(),
                extra: serde_json::Map::new(),
            }
            .into_response(),
        ));
    };
    match principal {
        Some(p) if p.scope.allows(Scope::Owner) => Ok(sharing),
        Some(p) => Err(Box::new(error_response(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "only an owner manages share links; this link ('{}') is a {} link: ask the \
                 person who shared it",
                p.label, p.scope
            ),
        ))),
        None => Err(Box::new(
            Error::Internal("a shared request without its link".into()).into_response(),
        )),
    }
}

fn public_urls(sharing: &Sharing) -> Vec<String> {
    sharing
        .public_urls()
        .iter()
        .map(|u| u.url.clone())
        .collect()
}

fn info(link: &ShareLink, now: f64) -> ShareLinkInfo {
    ShareLinkInfo {
        id: link.id.clone(),
        label: link.label.clone(),
        scope: link.scope.clone(),
        created_at_secs: link.created_at,
        expires_at_secs: link.expires_at,
        last_used_at_secs: link.last_used_at,
        revoked_at_secs: link.revoked_at,
        live: link.is_live(now),
    }
}
