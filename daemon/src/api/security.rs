//! The security baseline: `Host` allow-list against DNS rebinding, and `Origin` checks for
//! WebSocket handshakes (browsers do not apply the same-origin policy to WebSockets).

use super::AppState;
use crate::error::Error;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::IpAddr;

/// Which `Host` names this daemon answers to.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Names given with `--allow-host`, lower-case, without port.
    pub extra_hosts: Vec<String>,
}

impl Policy {
    pub fn new(extra_hosts: &[String]) -> Self {
        Policy {
            extra_hosts: extra_hosts
                .iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .collect(),
        }
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

pub async fn check_host(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if host.is_empty() || !state.security.allows_host_name(host_name(host)) {
        tracing::warn!(host, "refused request with a foreign Host header");
        return Error::ForbiddenHost(host_name(host).to_owned()).into_response();
    }
    next.run(req).await
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

#[cfg(test)]
mod tests {
    use super::*;

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
