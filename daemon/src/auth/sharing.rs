//! Sharing mode (`serve --public-url`): who a request is, from `Authorization: Bearer <share
//! token>` or the session cookie the page traded its link's token for; and the set of revoked or
//! expired links, re-read every [`POLL_INTERVAL`] so that open WebSockets of a link revoked from
//! another process (`trackline share revoke`) close within a second.
//!
//! Requests are checked against the database itself (not a cache), so a revoked link's next
//! request is refused at once. Nothing here logs a token or a session secret.

use super::scope::Scope;
use super::token;
use crate::db::share_links::{ShareLink, ShareLinks};
use crate::error::Result;
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How often the revoked and expired links are re-read for open WebSockets.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// A link's `last_used_at` is written at most this often.
pub const TOUCH_INTERVAL: Duration = Duration::from_secs(60);
/// A link's lifetime unless `--expires` says otherwise.
pub const DEFAULT_EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);

/// A `--public-url`: where people reach this daemon (a tunnel or proxy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    /// As given, without a trailing `/`.
    pub url: String,
    /// `scheme://host[:port]`, lower-case, without a default port: what browsers send as `Origin`.
    pub origin: String,
    /// The host name, lower-case, without port: allowed as `Host`.
    pub host: String,
    /// The URL's path, which the web app is served under (`/team`, or the root).
    pub base_path: crate::api::base_path::BasePath,
}

impl PublicUrl {
    /// Parses `http(s)://host[:port][/path]` (no user info, query or fragment).
    pub fn parse(text: &str) -> Result<PublicUrl, String> {
        let text = text.trim().trim_end_matches('/');
        let bad = |why: &str| format!("--public-url '{text}': {why}");
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| bad("must start with http:// or https://"))?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => "80",
            "https" => "443",
            _ => return Err(bad("must start with http:// or https://")),
        };
        if rest.contains(['?', '#', '@', '\\']) {
            return Err(bad("may not hold a query, fragment or user name"));
        }
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let authority = authority.to_ascii_lowercase();
        let base_path = crate::api::base_path::BasePath::parse(path).map_err(|why| bad(&why))?;
        let host = crate::api::security::host_name(&authority).to_owned();
        if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c.is_control()) {
            return Err(bad("has no host"));
        }
        let authority = match authority.strip_suffix(&format!(":{default_port}")) {
            Some(without) if !without.is_empty() => without.to_owned(),
            _ => authority,
        };
        Ok(PublicUrl {
            url: text.to_owned(),
            origin: format!("{scheme}://{authority}"),
            host,
            base_path,
        })
    }
}

/// Who a request is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub link_id: String,
    pub label: String,
    pub scope: Scope,
}

/// Why a request has no principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No token and no session cookie.
    Missing,
    /// A token or cookie that names no link: a guess, counted toward the bad-token limit.
    Unknown,
    /// A link that was revoked or has expired (not counted: it is no guess).
    Dead,
}

/// A new link's details and the token, shown once.
#[derive(Debug)]
pub struct CreatedLink {
    pub link: ShareLink,
    pub token: String,
}

/// Makes a link of `scope` that expires after `expires_in` (`None`: never).
pub fn create_link(
    links: &ShareLinks,
    scope: Scope,
    label: &str,
    expires_in: Option<Duration>,
) -> Result<CreatedLink> {
    let now = crate::util::now_secs();
    let token = token::new_token()?;
    let link = ShareLink {
        id: token::new_link_id()?,
        label: label.to_owned(),
        scope: scope.as_str().to_owned(),
        hash: token::hash(&token),
        created_at: now,
        expires_at: expires_in.map(|d| now + d.as_secs_f64()),
        last_used_at: None,
        revoked_at: None,
    };
    links.create(&link)?;
    Ok(CreatedLink { link, token })
}

/// `7d`, `12h`, `30m`, `45s` or `never` (`None`).
pub fn parse_expiry(text: &str) -> Result<Option<Duration>, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("never") {
        return Ok(None);
    }
    let bad = || format!("'{text}' is not an expiry (e.g. 7d, 12h, 30m, never)");
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| bad())?;
    let secs = match unit {
        "d" => n.checked_mul(86_400),
        "h" => n.checked_mul(3_600),
        "m" => n.checked_mul(60),
        "s" => Some(n),
        _ => None,
    }
    .filter(|&s| s > 0)
    .ok_or_else(bad)?;
    Ok(Some(Duration::from_secs(secs)))
}

/// The daemon's sharing state.
#[derive(Debug)]
pub struct Sharing {
    links: ShareLinks,
    public_urls: Vec<PublicUrl>,
    cookie_name: String,
    /// When each link's `last_used_at` was last written.
    touched: Mutex<HashMap<String, Instant>>,
    /// Ids of revoked or expired links, as of the last poll.
    dead: watch::Sender<Arc<HashSet<String>>>,
}

impl Sharing {
    pub fn new(links: ShareLinks, public_urls: Vec<PublicUrl>) -> Result<Sharing> {
        let instance = links.instance_id()?;
        let dead = links.dead_ids(crate::util::now_secs())?;
        Ok(Sharing {
            cookie_name: format!("tl_session_{}", &instance[..8.min(instance.len())]),
            links,
            public_urls,
            touched: Mutex::default(),
            dead: watch::Sender::new(Arc::new(dead.into_iter().collect())),
        })
    }

    pub fn links(&self) -> &ShareLinks {
        &self.links
    }

    pub fn public_urls(&self) -> &[PublicUrl] {
        &self.public_urls
    }

    /// The session cookie's name: per data directory, since cookies ignore ports.
    pub fn cookie_name(&self) -> &str {
        &self.cookie_name
    }

    /// Whether the request authenticates with `Authorization: Bearer` (which a browser cannot
    /// attach to a cross-site request without a CORS preflight this daemon never grants).
    pub fn has_bearer(headers: &HeaderMap) -> bool {
        headers.contains_key(AUTHORIZATION)
    }

    /// Who the request is: its bearer token if it has one, else its session cookie. Blocking
    /// (reads the database).
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, Refusal> {
        let now = crate::util::now_secs();
        if let Some(value) = headers.get(AUTHORIZATION) {
            let given = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .unwrap_or("");
            return self.check_token(given, now);
        }
        match self.session_cookie(headers) {
            Some(secret) => {
                let hash = token::hash(secret);
                let link = self.links.by_session_hash(&hash).map_err(|e| {
                    tracing::error!(error = %e, "cannot read a session");
                    Refusal::Unknown
                })?;
                self.principal(link, now)
            }
            None => Err(Refusal::Missing),
        }
    }

    /// The link a token belongs to, if it is live. Blocking.
    pub fn check_token(&self, given: &str, now: f64) -> Result<Principal, Refusal> {
        if !token::looks_like_token(given) {
            return Err(Refusal::Unknown);
        }
        let hash = token::hash(given);
        let link = self.links.by_token_hash(&hash).map_err(|e| {
            tracing::error!(error = %e, "cannot read the share links");
            Refusal::Unknown
        })?;
        // Found by its hash; compared again in constant time all the same.
        let link = link.filter(|l| token::constant_time_eq(&l.hash, &hash));
        self.principal(link, now)
    }

    /// Trades a link's token for a new session: the cookie's value and the seconds it lives.
    /// Blocking.
    pub fn open_session(&self, given: &str) -> Result<(Principal, String, Option<f64>), Refusal> {
        let now = crate::util::now_secs();
        let principal = self.check_token(given, now)?;
        let link = self
            .links
            .by_token_hash(&token::hash(given))
            .ok()
            .flatten()
            .ok_or(Refusal::Unknown)?;
        let secret = token::new_session_secret().map_err(|_| Refusal::Unknown)?;
        if let Err(e) = self
            .links
            .create_session(&token::hash(&secret), &principal.link_id, now)
        {
            tracing::error!(error = %e, "cannot store a session");
            return Err(Refusal::Unknown);
        }
        let lifetime = link.expires_at.map(|at| (at - now).max(1.0));
        Ok((principal, secret, lifetime))
    }

    fn principal(&self, link: Option<ShareLink>, now: f64) -> Result<Principal, Refusal> {
        let link = link.ok_or(Refusal::Unknown)?;
        if !link.is_live(now) {
            return Err(Refusal::Dead);
        }
        let scope = link.scope.parse::<Scope>().map_err(|_| Refusal::Dead)?;
        self.touch(&link.id, now);
        Ok(Principal {
            link_id: link.id,
            label: link.label,
            scope,
        })
    }

    /// Writes `last_used_at`, at most once per [`TOUCH_INTERVAL`] per link.
    fn touch(&self, id: &str, now: f64) {
        {
            let mut touched = self.touched.lock();
            let at = Instant::now();
            if touched
                .get(id)
                .is_some_and(|last| at.duration_since(*last) < TOUCH_INTERVAL)
            {
                return;
            }
            touched.insert(id.to_owned(), at);
        }
        if let Err(e) = self.links.touch(id, now) {
            tracing::warn!(error = %e, link = id, "cannot record a link's use");
        }
    }

    fn session_cookie<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str> {
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == self.cookie_name)
            .map(|(_, value)| value.trim())
    }

    /// Marks link `id` dead at once (revoked by this process): its open WebSockets close now,
    /// not at the next poll.
    pub fn note_dead(&self, id: &str) {
        self.dead.send_if_modified(|dead| {
            if dead.contains(id) {
                return false;
            }
            let mut now = HashSet::clone(dead);
            now.insert(id.to_owned());
            *dead = Arc::new(now);
            true
        });
    }

    /// Follows the ids of revoked and expired links.
    pub fn watch_dead(&self) -> watch::Receiver<Arc<HashSet<String>>> {
        self.dead.subscribe()
    }

    /// Re-reads the revoked and expired links every [`POLL_INTERVAL`] until `stop`.
    pub async fn poll_dead(self: Arc<Self>, stop: tokio_util::sync::CancellationToken) {
        let mut tick = tokio::time::interval(POLL_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            let links = self.links.clone();
            let read =
                tokio::task::spawn_blocking(move || links.dead_ids(crate::util::now_secs())).await;
            match read {
                Ok(Ok(ids)) => {
                    let ids: HashSet<String> = ids.into_iter().collect();
                    self.dead.send_if_modified(|dead| {
                        let changed = **dead != ids;
                        if changed {
                            *dead = Arc::new(ids);
                        }
                        changed
                    });
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "cannot read revoked share links"),
                Err(e) => tracing::warn!(error = %e, "revocation poll failed"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;
    use axum::http::HeaderValue;

    #[test]
    fn public_urls_give_their_origin_and_host() {
        let u = PublicUrl::parse("https://X.example/team/").unwrap();
        assert_eq!(u.url, "https://X.example/team");
        assert_eq!(u.origin, "https://x.example");
        assert_eq!(u.host, "x.example");
        assert_eq!(u.base_path.as_str(), "/team");
        assert!(
            PublicUrl::parse("https://x.example")
                .unwrap()
                .base_path
                .is_root()
        );
        assert_eq!(
            PublicUrl::parse("https://x.example:443").unwrap().origin,
            "https://x.example"
        );
        assert_eq!(
            PublicUrl::parse("http://127.0.0.1:9000").unwrap().origin,
            "http://127.0.0.1:9000"
        );
        for bad in [
            "x.example",
            "ftp://x.example",
            "https://",
            "https://u@x.example",
            "https://x.example/?a",
            "https://x.example/a b",
            "https://x.example/api",
        ] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn expiries_parse() {
        assert_eq!(
            parse_expiry("7d"),
            Ok(Some(Duration::from_secs(7 * 86_400)))
        );
        assert_eq!(parse_expiry("12h"), Ok(Some(Duration::from_secs(43_200))));
        assert_eq!(parse_expiry("never"), Ok(None));
        for bad in ["", "7", "d", "0h", "7w", "-1d", "99999999999999999999d"] {
            assert!(parse_expiry(bad).is_err(), "{bad}");
        }
    }

    fn bearer(token: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
        );
        h
    }

    #[test]
    fn a_token_and_its_session_authenticate_until_revoked_or_expired() {
        let dir = tempfile::tempdir().unwrap();
        let links = Db::open_in(dir.path()).unwrap().share_links();
        let sharing = Sharing::new(links.clone(), Vec::new()).unwrap();
        assert!(sharing.cookie_name().starts_with("tl_session_"));
        assert_eq!(sharing.cookie_name().len(), "tl_session_".len() + 8);

        let created = create_link(&links, Scope::Annotator, "alice", None).unwrap();
        let who = sharing.authenticate(&bearer(&created.token)).unwrap();
        assert_eq!((who.scope, who.label.as_str()), (Scope::Annotator, "alice"));
        assert!(links.list().unwrap()[0].last_used_at.is_some());
        assert_eq!(
            sharing.authenticate(&HeaderMap::new()),
            Err(Refusal::Missing)
        );
        let wrong = token::new_token().unwrap();
        assert_eq!(sharing.authenticate(&bearer(&wrong)), Err(Refusal::Unknown));
        assert_eq!(
            sharing.authenticate(&bearer("nonsense")),
            Err(Refusal::Unknown)
        );
        // The stored hash is not a token.
        let stored: String = created
            .link
            .hash
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            sharing.authenticate(&bearer(&format!("tl_{stored}"))),
            Err(Refusal::Unknown)
        );

        let (_, secret, lifetime) = sharing.open_session(&created.token).unwrap();
        assert_eq!(lifetime, None);
        let mut cookie = HeaderMap::new();
        let value = format!("other=1; {}={secret}", sharing.cookie_name());
        cookie.insert(COOKIE, HeaderValue::from_str(&value).unwrap());
        assert_eq!(
            sharing.authenticate(&cookie).unwrap().link_id,
            created.link.id
        );
        let mut forged = HeaderMap::new();
        let value = format!("{}={}", sharing.cookie_name(), created.token);
        forged.insert(COOKIE, HeaderValue::from_str(&value).unwrap());
        assert_eq!(sharing.authenticate(&forged), Err(Refusal::Unknown));

        links
            .revoke(&created.link.id, crate::util::now_secs())
            .unwrap();
        assert_eq!(
            sharing.authenticate(&bearer(&created.token)),
            Err(Refusal::Dead)
        );
        assert_eq!(sharing.authenticate(&cookie), Err(Refusal::Dead));
        assert!(sharing.open_session(&created.token).is_err());

        let expired =
            create_link(&links, Scope::Owner, "bob", Some(Duration::from_secs(1))).unwrap();
        assert!(sharing.authenticate(&bearer(&expired.token)).is_ok());
        let later = crate::util::now_secs() + 2.0;
        assert_eq!(
            sharing.check_token(&expired.token, later),
            Err(Refusal::Dead)
        );
    }

    #[tokio::test]
    async fn the_poll_sees_a_revocation_made_by_another_connection() {
        let dir = tempfile::tempdir().unwrap();
        let links = Db::open_in(dir.path()).unwrap().share_links();
        let created = create_link(&links, Scope::Viewer, "v", None).unwrap();
        let sharing = Arc::new(Sharing::new(links, Vec::new()).unwrap());
        let mut dead = sharing.watch_dead();
        assert!(dead.borrow().is_empty());
        let stop = tokio_util::sync::CancellationToken::new();
        let poll = tokio::spawn(sharing.clone().poll_dead(stop.clone()));
        let other = Db::open_in(dir.path()).unwrap().share_links();
        let started = Instant::now();
        other
            .revoke(&created.link.id, crate::util::now_secs())
            .unwrap();
        tokio::time::timeout(Duration::from_secs(2), dead.changed())
            .await
            .unwrap()
            .unwrap();
        assert!(dead.borrow().contains(&created.link.id));
        assert!(started.elapsed() < Duration::from_secs(1));
        stop.cancel();
        poll.await.unwrap();
    }
}
