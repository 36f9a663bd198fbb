//! The security baseline: the `Host` allow-list against DNS rebinding (exactly one `Host`, and an
//! absolute-form request line's authority checked like it), `Origin` checks for WebSocket
//! handshakes (browsers do not apply the same-origin policy to WebSockets), and the headers every
//! answer carries (CSP, framing, referrer, sniffing, caching), which also turn any error a layer
//! answered in plain text into the one JSON error body. In sharing mode, the stricter `Origin`
//! rule of [`check_shared_origin`] applies to every state-changing request and WebSocket handshake.

use super::error::{code_for_status, error_response};
use crate::auth::sharing::Sharing;
use crate::error::Error;
use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_LENGTH, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HOST, ORIGIN,
    REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::IpAddr;
use std::sync::Arc;

/// The page runs only the daemon's own scripts (no inline script, no `eval`; compiling the
/// WebAssembly module needs `'wasm-unsafe-eval'`), talks only to the daemon (REST and WebSocket),
/// and may not be framed. Styles may be inline: the web app sets `style` attributes.
pub const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'self'; \
     script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; \
     form-action 'self'; object-src 'none'";

/// The longest plain-text error body whose text is kept as the JSON error's message.
const MAX_PLAIN_ERROR_BYTES: usize = 4096;

/// Which `Host` names this daemon answers to, and, once it is shared, who may call it.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Names given with `--allow-host` and the hosts of the public URLs, lower-case, without port.
    pub extra_hosts: Vec<String>,
    /// Sharing mode (`--public-url`): every API route but the page's token trade needs a share
    /// token or session, and state-changing requests and WebSocket handshakes a trusted `Origin`.
    pub sharing: Option<Arc<Sharing>>,
}

impl Policy {
    pub fn new(extra_hosts: &[String]) -> Self {
        Policy {
            extra_hosts: extra_hosts
                .iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .collect(),
            sharing: None,
        }
    }

    /// The policy of a shared daemon: the public URLs' hosts are allowed too.
    pub fn shared(extra_hosts: &[String], sharing: Arc<Sharing>) -> Self {
        let mut policy = Policy::new(extra_hosts);
        for url in sharing.public_urls() {
            if !policy.extra_hosts.contains(&url.host) {
                policy.extra_hosts.push(url.host.clone());
            }
        }
        policy.sharing = Some(sharing);
        policy
    }

    /// `localhost`, any IP literal (a rebinding attack needs a domain name), or a configured name.
    pub fn allows_host_name(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        name == "localhost"
            || name.ends_with(".localhost")
            || name
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok()
            || self.extra_hosts.contains(&name)
    }
}

/// Splits `host[:port]` / `[v6]:port` into the host name.
pub fn host_name(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match authority.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => authority,
    }
}

/// Refuses a request whose host is not allowed (see [`check_request_host`]) before any handler runs.
/// Its state is the policy alone, not the whole [`AppState`](super::AppState), which the layer
/// would copy for every request.
pub async fn check_host(State(policy): State<Arc<Policy>>, req: Request, next: Next) -> Response {
    if let Err(e) = check_request_host(&policy, req.headers(), req.uri()) {
        tracing::warn!(error = %e, "refused a request by its host");
        return e.into_response();
    }
    next.run(req).await
}

/// The host a request names must be allowed: exactly one `Host` header (`400` otherwise), and a
/// request line in absolute form (`GET http://name/ HTTP/1.1`) or HTTP/2's `:authority` must name
/// an allowed host too, the same one as `Host` when both are there (`403 forbidden_host`).
pub fn check_request_host(policy: &Policy, headers: &HeaderMap, uri: &Uri) -> Result<(), Error> {
    let mut hosts = headers.get_all(HOST).iter();
    let host = hosts.next();
    if hosts.next().is_some() {
        return Err(Error::BadRequest(
            "a request must carry exactly one Host header".into(),
        ));
    }
    let not_text = |value: &HeaderValue| {
        Error::ForbiddenHost(String::from_utf8_lossy(value.as_bytes()).into_owned())
    };
    let host = host
        .map(|value| value.to_str().map_err(|_| not_text(value)))
        .transpose()?;
    let authority = uri.authority().map(|a| a.as_str());
    let named = match (host, authority) {
        (Some(host), Some(authority)) if !host.eq_ignore_ascii_case(authority) => {
            return Err(Error::HostMismatch {
                host: host.to_owned(),
                authority: authority.to_owned(),
            });
        }
        (Some(host), _) => host,
        (None, Some(authority)) => authority,
        (None, None) => "",
    };
    if named.is_empty() || !policy.allows_host_name(host_name(named)) {
        return Err(Error::ForbiddenHost(host_name(named).to_owned()));
    }
    Ok(())
}

/// The router's outermost layer: adds the security headers to every answer (API, assets, page,
/// errors, refusals), and `Cache-Control: no-store` to API answers and errors that set no caching
/// of their own; rewrites an error a layer answered in plain text (or with no body) into the one
/// JSON error body. (A declared body over the limit is refused by the body extractors, after the
/// ingest routes' token check.)
pub async fn edge(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let mut response = next.run(req).await;
    let status = response.status();
    let error = status.is_client_error() || status.is_server_error();
    if error && !is_json(response.headers()) {
        response = as_json_error(response).await;
    }
    add_safety_headers(response.headers_mut(), api || error);
    response
}

/// The headers every answer carries: CSP, framing, referrer, nosniff, and `no-store` for API
/// answers and errors (`uncacheable`) unless the handler chose a cache policy (or, for a
/// sandboxed document, its own CSP and framing).
pub fn add_safety_headers(headers: &mut HeaderMap, uncacheable: bool) {
    // A handler that set its own policy (a logged HTML page, served sandboxed) keeps it.
    if !headers.contains_key(CONTENT_SECURITY_POLICY) {
        headers.insert(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE),
        );
        headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if uncacheable && !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// The same status and headers (`Retry-After`, `Allow`, …) with the JSON error body: the code from
/// the status, the message from the plain text if it is short (a `500`'s text is logged, not
/// sent).
async fn as_json_error(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let status = parts.status;
    let text = to_bytes(body, MAX_PLAIN_ERROR_BYTES)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .map(|t| t.trim().to_owned())
        .unwrap_or_default();
    let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
        if !text.is_empty() {
            tracing::error!(text, "request failed");
        }
        "internal error; see the daemon's log".to_owned()
    } else if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("request failed")
            .to_lowercase()
    } else {
        text
    };
    let json = error_response(status, code_for_status(status), message);
    parts.headers.remove(CONTENT_LENGTH);
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, json.into_body())
}

/// A WebSocket handshake is allowed without `Origin` (not a browser), from this daemon's own
/// origin, or from an explicitly allowed host name.
pub fn check_ws_origin(policy: &Policy, headers: &HeaderMap) -> Result<(), Error> {
    let Some(origin) = headers.get(ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("");
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .map(|rest| rest.split('/').next().unwrap_or(""));
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    match authority {
        Some(a) if a.eq_ignore_ascii_case(host) => Ok(()),
        Some(a)
            if policy
                .extra_hosts
                .contains(&host_name(a).to_ascii_lowercase()) =>
        {
            Ok(())
        }
        _ => Err(Error::ForbiddenOrigin(origin.to_owned())),
    }
}

/// The `Origin` rule of a shared daemon, for every state-changing request and WebSocket
/// handshake: the origin of a public URL, or the daemon's own (`http://` + the request's `Host`,
/// for a host that is not a public URL's). `Origin: null` and any other origin are refused; so is
/// no `Origin` at all, unless the request authenticates with `Authorization: Bearer` (a script:
/// a browser page cannot attach that header to another site's request without a CORS preflight,
/// which this daemon never grants). `X-Forwarded-*` headers are never read.
pub fn check_shared_origin(
    policy: &Policy,
    sharing: &Sharing,
    headers: &HeaderMap,
) -> Result<(), Error> {
    let Some(origin) = headers.get(ORIGIN) else {
        if Sharing::has_bearer(headers) {
            return Ok(());
        }
        return Err(Error::ForbiddenOrigin("(none)".into()));
    };
    let refused =
        || Error::ForbiddenOrigin(String::from_utf8_lossy(origin.as_bytes()).into_owned());
    let origin = origin.to_str().map_err(|_| refused())?.to_ascii_lowercase();
    if sharing.public_urls().iter().any(|u| u.origin == origin) {
        return Ok(());
    }
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let public_host = sharing
        .public_urls()
        .iter()
        .any(|u| u.host == host_name(&host));
    let own = !host.is_empty()
        && !public_host
        && policy.allows_host_name(host_name(&host))
        && origin.strip_prefix("http://") == Some(host.as_str());
    if own { Ok(()) } else { Err(refused()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header::AUTHORIZATION;

    #[test]
    fn host_names() {
        assert_eq!(host_name("localhost:8765"), "localhost");
        assert_eq!(host_name("[::1]:80"), "::1");
        assert_eq!(host_name("example.com"), "example.com");
        let p = Policy::new(&["Tunnel.example.com".into()]);
        for ok in [
            "localhost",
            "127.0.0.1",
            "::1",
            "10.1.2.3",
            "tunnel.example.com",
            "a.localhost",
        ] {
            assert!(p.allows_host_name(ok), "{ok}");
        }
        for bad in ["evil.com", "localhost.evil.com", "127.0.0.1.nip.io", ""] {
            assert!(!p.allows_host_name(bad), "{bad}");
        }
    }

    #[test]
    fn the_request_host_is_one_host_agreeing_with_the_request_line() {
        let p = Policy::default();
        let check = |hosts: &[&str], uri: &str| {
            let mut headers = HeaderMap::new();
            for h in hosts {
                headers.append(HOST, h.parse().unwrap());
            }
            match check_request_host(&p, &headers, &uri.parse().unwrap()) {
                Ok(()) => "ok",
                Err(Error::BadRequest(_)) => "400",
                Err(Error::ForbiddenHost(_) | Error::HostMismatch { .. }) => "403",
                Err(e) => panic!("{e}"),
            }
        };
        assert_eq!(check(&["localhost:1"], "/"), "ok");
        assert_eq!(check(&["localhost:1", "localhost:1"], "/"), "400");
        assert_eq!(check(&["localhost:1", "evil.com"], "/"), "400");
        assert_eq!(check(&["evil.com"], "/"), "403");
        assert_eq!(check(&[], "/"), "403");
        assert_eq!(check(&["localhost:1"], "http://evil.com/"), "403");
        assert_eq!(check(&["evil.com"], "http://evil.com/"), "403");
        assert_eq!(check(&["localhost:1"], "http://localhost:2/"), "403");
        assert_eq!(check(&["localhost:1"], "http://localhost:1/x"), "ok");
        assert_eq!(check(&[], "http://[::1]:1/x"), "ok");
        assert_eq!(check(&[], "http://evil.com/x"), "403");
    }

    #[test]
    fn a_shared_daemon_takes_only_its_public_and_own_origins() {
        let dir = tempfile::tempdir().unwrap();
        let links = crate::db::Db::open_in(dir.path()).unwrap().share_links();
        let public = crate::auth::sharing::PublicUrl::parse("https://x.example/team").unwrap();
        let sharing = Arc::new(Sharing::new(links, vec![public]).unwrap());
        let p = Policy::shared(&[], sharing.clone());
        assert!(p.allows_host_name("x.example"));
        let ok = |origin: Option<&str>, host: &str, bearer: bool| {
            let mut m = HeaderMap::new();
            m.insert(HOST, host.parse().unwrap());
            if let Some(o) = origin {
                m.insert(ORIGIN, o.parse().unwrap());
            }
            if bearer {
                m.insert(AUTHORIZATION, "Bearer x".parse().unwrap());
            }
            check_shared_origin(&p, &sharing, &m).is_ok()
        };
        assert!(ok(Some("https://x.example"), "x.example", false));
        assert!(ok(Some("https://X.example"), "127.0.0.1:1", false));
        assert!(ok(Some("http://127.0.0.1:1"), "127.0.0.1:1", false));
        assert!(ok(Some("http://localhost:1"), "localhost:1", false));
        assert!(ok(None, "127.0.0.1:1", true));
        assert!(!ok(None, "127.0.0.1:1", false));
        assert!(!ok(Some("null"), "127.0.0.1:1", true));
        assert!(!ok(Some("https://evil.example"), "127.0.0.1:1", true));
        assert!(!ok(Some("http://localhost:3000"), "localhost:1", false));
        assert!(!ok(Some("http://x.example"), "x.example", false));
        assert!(!ok(Some("https://x.example.evil.com"), "x.example", false));
        assert!(!ok(Some("https://127.0.0.1:1"), "127.0.0.1:1", false));
    }

    #[test]
    fn ws_origins() {
        let p = Policy::new(&["t.example".into()]);
        let h = |origin: Option<&str>, host: &str| {
            let mut m = HeaderMap::new();
            m.insert(HOST, host.parse().unwrap());
            if let Some(o) = origin {
                m.insert(ORIGIN, o.parse().unwrap());
            }
            check_ws_origin(&p, &m).is_ok()
        };
        assert!(h(None, "127.0.0.1:1"));
        assert!(h(Some("http://127.0.0.1:1"), "127.0.0.1:1"));
        assert!(h(Some("https://t.example"), "127.0.0.1:1"));
        assert!(!h(Some("http://evil.com"), "127.0.0.1:1"));
        assert!(!h(Some("http://127.0.0.1:2"), "127.0.0.1:1"));
        assert!(!h(Some("null"), "127.0.0.1:1"));
    }
}
