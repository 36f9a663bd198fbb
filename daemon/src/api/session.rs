//! Sharing mode at the API's edge. [`guard`]: every API route but the ingest routes (their own
//! write token) and `POST /api/session` needs a live share link of enough scope, from
//! `Authorization: Bearer` or the session cookie, loopback included; state-changing requests and
//! WebSocket handshakes need a trusted `Origin` first. [`trade`] (`POST /api/session`): the page
//! trades its link's token (from the URL fragment) for an HttpOnly session cookie. Unknown tokens
//! count toward the same per-address `429` limit as wrong write tokens. Without `--public-url`
//! both step aside and the daemon behaves as before.
//!
//! The cookie holds a random session secret (its SHA-256 stored with the link's id), never the
//! token: a session is checked through its link, so revoking the link ends its sessions.

use super::AppState;
use super::error::error_response;
use super::extract::JsonBody;
use super::limits::{client_address, rate_limited};
use super::security::check_shared_origin;
use crate::auth::scope::Scope;
use crate::auth::sharing::{Principal, Refusal};
use crate::error::Error;
use axum::Json;
use axum::extract::{FromRequest, Request, State};
use axum::http::header::{ORIGIN, SET_COOKIE, UPGRADE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::net::IpAddr;

/// How long a session of a link that never expires lasts (browsers cap cookies at 400 days).
const MAX_SESSION_SECS: u64 = 400 * 24 * 3600;

/// Route layer of the API routes in sharing mode.
pub async fn guard(State(s): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(sharing) = s.security.sharing.clone() else {
        return next.run(request).await;
    };
    let needed = Scope::for_method(request.method());
    let handshake = request.headers().contains_key(UPGRADE);
    if (needed != Scope::Viewer || handshake)
        && let Err(e) = check_shared_origin(&s.security, &sharing, request.headers())
    {
        tracing::warn!(error = %e, "refused a request by its origin");
        return e.into_response();
    }
    let client = client_address(&request);
    if let Some(blocked) = blocked_for_wrong_tokens(&s, client) {
        return blocked;
    }
    let headers = request.headers().clone();
    let who = tokio::task::spawn_blocking(move || sharing.authenticate(&headers)).await;
    let principal = match who {
        Ok(Ok(principal)) => principal,
        Ok(Err(refusal)) => return refused(&s, client, refusal),
        Err(e) => return Error::Internal(format!("authentication failed: {e}")).into_response(),
    };
    s.limits.auth_succeeded(client);
    if !principal.scope.allows(needed) {
        return error_response(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "this link ('{}') is a {} link: it may look but not change anything; ask the \
                 owner for an annotator link (trackline share --scope annotator)",
                principal.label, principal.scope
            ),
        );
    }
    request.extensions_mut().insert(principal);
    next.run(request).await
}

/// The `429` for an address that sent too many wrong tokens lately, if it did.
fn blocked_for_wrong_tokens(s: &AppState, client: IpAddr) -> Option<Response> {
    let wait = s.limits.auth_blocked_for(client)?;
    Some(rate_limited(
        wait,
        "too many requests with a wrong token from this address",
    ))
}

/// `401 unauthorized` telling a person what to do; an unknown token counts toward the limit.
fn refused(s: &AppState, client: IpAddr, refusal: Refusal) -> Response {
    let message = match refusal {
        Refusal::Missing => {
            "this Trackline is shared and needs a link: open the link you were given (it ends in \
             #t=…) in this browser, or ask the owner for one (trackline share); scripts send \
             Authorization: Bearer <token>"
        }
        Refusal::Unknown => {
            "this link is not known to this Trackline: check that the whole link was copied, or \
             ask the owner for a new one (trackline share)"
        }
        Refusal::Dead => {
            "this link was revoked or has expired: ask the owner for a new one (trackline share)"
        }
    };
    if refusal == Refusal::Unknown && s.limits.auth_failed(client) {
        tracing::warn!(%client, "too many unknown share tokens: refusing this address for a while");
    }
    error_response(StatusCode::UNAUTHORIZED, "unauthorized", message.to_owned())
}

/// The body of `POST /api/session`.
#[derive(Debug, Deserialize)]
pub struct Trade {
    /// The token from the link's `#t=` fragment.
    pub token: String,
}

/// `POST /api/session`: a live link's token in, a session cookie out (`Set-Cookie`, HttpOnly,
/// SameSite=Strict, its Path the base path (`/` or `/team`), Secure when the page is on https,
/// living as long as the link).
pub async fn trade(State(s): State<AppState>, request: Request) -> Response {
    let Some(sharing) = s.security.sharing.clone() else {
        return Error::NotFound(
            "this daemon is not shared (started without --public-url): it needs no session".into(),
        )
        .into_response();
    };
    if let Err(e) = check_shared_origin(&s.security, &sharing, request.headers()) {
        tracing::warn!(error = %e, "refused a session by its origin");
        return e.into_response();
    }
    let client = client_address(&request);
    if let Some(blocked) = blocked_for_wrong_tokens(&s, client) {
        return blocked;
    }
    let secure = request
        .headers()
        .get(ORIGIN)
        .and_then(|o| o.to_str().ok())
        .is_some_and(|o| o.starts_with("https://"));
    let JsonBody(trade) = match JsonBody::<Trade>::from_request(request, &s).await {
        Ok(body) => body,
        Err(e) => return e.into_response(),
    };
    let opening = sharing.clone();
    let opened =
        tokio::task::spawn_blocking(move || opening.open_session(trade.token.trim())).await;
    let (principal, secret, lifetime): (Principal, String, Option<f64>) = match opened {
        Ok(Ok(opened)) => opened,
        Ok(Err(refusal)) => return refused(&s, client, refusal),
        Err(e) => return Error::Internal(format!("opening a session failed: {e}")).into_response(),
    };
    s.limits.auth_succeeded(client);
    let max_age = lifetime.map_or(MAX_SESSION_SECS, |secs| {
        (secs.ceil() as u64).min(MAX_SESSION_SECS)
    });
    let cookie = format!(
        "{}={secret}; Path={}; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        sharing.cookie_name(),
        s.base_path.cookie_path(),
        if secure { "; Secure" } else { "" }
    );
    let Ok(cookie) = HeaderValue::from_str(&cookie) else {
        return Error::Internal("a session cookie that is no header".into()).into_response();
    };
    let mut response = Json(json!({
        "label": principal.label,
        "scope": principal.scope.as_str(),
        "link_id": principal.link_id,
    }))
    .into_response();
    response.headers_mut().insert(SET_COOKIE, cookie);
    response
}

/// Refuses, in sharing mode, a request whose link is not an owner's (`what` says what only an
/// owner does); without sharing, the local user is the owner.
pub(super) fn require_owner(
    s: &AppState,
    principal: Option<&Principal>,
    what: &str,
) -> crate::error::Result<()> {
    if s.security.sharing.is_none() {
        return Ok(());
    }
    match principal {
        Some(p) if p.scope.allows(Scope::Owner) => Ok(()),
        Some(p) => Err(Error::Forbidden(format!(
            "only an owner {what}; this link ('{}') is a {} link",
            p.label, p.scope
        ))),
        None => Err(Error::Internal("a shared request without its link".into())),
    }
}
