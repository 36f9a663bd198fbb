//! Per-client limits at the API's edge: the request body deadline, and the guard of the ingest
//! routes, which checks the write token from the headers before any body byte is read and answers
//! `429 rate_limited` to an address that sent too many wrong tokens or too many ingest bytes.

use super::AppState;
use super::error::error_response;
use crate::auth::WriteToken;
use crate::config::Config;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{CONNECTION, CONTENT_LENGTH, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Client addresses whose failures, or whose ingest allowance, are remembered at once. Past it the
/// stalest entries are forgotten, so an attacker with many addresses costs bounded memory.
const MAX_TRACKED_CLIENTS: usize = 4096;

/// The daemon's limits and what it remembers about each client address.
#[derive(Debug)]
pub struct Limits {
    /// How long reading one request body may take in total.
    pub body_read_timeout: Duration,
    auth_failures: Mutex<AuthFailures>,
    ingest_rate: Mutex<IngestRate>,
}

impl Limits {
    pub fn new(config: &Config) -> Limits {
        Limits {
            body_read_timeout: config.body_read_timeout,
            auth_failures: Mutex::new(AuthFailures {
                limit: config.auth_failure_limit.max(1),
                window: config.auth_failure_window,
                clients: HashMap::new(),
            }),
            ingest_rate: Mutex::new(IngestRate {
                bytes_per_sec: config.max_ingest_bytes_per_sec,
                clients: HashMap::new(),
            }),
        }
    }
}

impl Limits {
    /// How much longer `client` is refused for wrong tokens, if it is (share tokens and the write
    /// token count toward one limit).
    pub(super) fn auth_blocked_for(&self, client: IpAddr) -> Option<Duration> {
        self.auth_failures
            .lock()
            .blocked_for(client, Instant::now())
    }

    /// Counts a wrong token from `client`; answers whether this one blocked the address.
    pub(super) fn auth_failed(&self, client: IpAddr) -> bool {
        self.auth_failures.lock().failed(client, Instant::now())
    }

    pub(super) fn auth_succeeded(&self, client: IpAddr) {
        self.auth_failures.lock().succeeded(client);
    }
}

/// Route layer of the ingest routes: refuses a blocked address, a wrong token and a body over the
/// address's byte allowance from the request's headers alone, so a refused body is never read
/// (the connection is closed after the answer).
pub async fn ingest_guard(State(s): State<Guarding>, request: Request, next: Next) -> Response {
    let client = client_address(&request);
    let now = Instant::now();
    if let Some(wait) = s.limits.auth_failures.lock().blocked_for(client, now) {
        return rate_limited(
            wait,
            "too many requests with a wrong write token from this address",
        );
    }
    if let Err(e) = s.token.check(request.headers()) {
        let blocked = s.limits.auth_failures.lock().failed(client, now);
        if blocked {
            tracing::warn!(%client, "too many wrong write tokens: refusing this address for a while");
        }
        return closing(e.into_response());
    }
    s.limits.auth_failures.lock().succeeded(client);
    let bytes = declared_body_bytes(request.headers());
    if let Err(wait) = s.limits.ingest_rate.lock().take(client, bytes, now) {
        return rate_limited(
            wait,
            "this address is sending more ingest bytes per second than the daemon allows",
        );
    }
    next.run(request).await
}

/// The state of [`ingest_guard`]: the two handles it needs, so that the layer does not copy the
/// whole [`AppState`] for every request.
#[derive(Debug, Clone)]
pub struct Guarding {
    limits: Arc<Limits>,
    token: Arc<WriteToken>,
}

impl Guarding {
    pub fn new(s: &AppState) -> Guarding {
        Guarding {
            limits: s.limits.clone(),
            token: s.token.clone(),
        }
    }
}

/// The address a request came from, as one client: an IPv6 address stands for its /64 (one host's
/// share, which it can vary at will); unknown (no socket, as in router tests) is `0.0.0.0`.
pub(super) fn client_address(request: &Request) -> IpAddr {
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    match ip {
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        },
        Some(v4) => v4,
        None => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
    }
}

/// The largest body any ingest route takes (an artifact commit; a blob chunk is 8 MiB, a batch
/// 1 MiB): each route refuses more itself, so no request counts for more than this.
const MAX_INGEST_BODY_BYTES: u64 = super::ingest_artifacts::MAX_COMMIT_BYTES as u64;

/// The body's size as the headers declare it; without `Content-Length` (a chunked body) the most
/// any ingest route takes.
fn declared_body_bytes(headers: &HeaderMap) -> u64 {
    headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(MAX_INGEST_BODY_BYTES, |n| n.min(MAX_INGEST_BODY_BYTES))
}

/// `429 rate_limited` with `Retry-After` in whole seconds (at least 1).
pub(super) fn rate_limited(wait: Duration, why: &str) -> Response {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let secs = secs.max(1);
    let mut response = error_response(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("{why}; retry after {secs} s"),
    );
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(secs));
    closing(response)
}

/// Tells the client the connection ends after this answer (its unread body is not wanted).
fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Wrong write tokens per address: `limit` of them within `window` of the first block the address
/// for one `window` from the last.
#[derive(Debug)]
struct AuthFailures {
    limit: u32,
    window: Duration,
    clients: HashMap<IpAddr, Failures>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    first_at: Instant,
    count: u32,
    blocked_until: Option<Instant>,
}

impl AuthFailures {
    /// How much longer `client` is refused, if it is.
    fn blocked_for(&self, client: IpAddr, now: Instant) -> Option<Duration> {
        let until = self.clients.get(&client)?.blocked_until?;
        (until > now).then(|| until - now)
    }

    /// Counts a wrong token; answers whether this one blocked the address.
    fn failed(&mut self, client: IpAddr, now: Instant) -> bool {
        if !self.clients.contains_key(&client) && self.clients.len() >= MAX_TRACKED_CLIENTS {
            self.forget_stalest(now);
        }
        let window = self.window;
        let entry = self.clients.entry(client).or_insert(Failures {
            first_at: now,
            count: 0,
            blocked_until: None,
        });
        let expired = entry.blocked_until.map_or_else(
            || now.duration_since(entry.first_at) >= window,
            |until| until <= now,
        );
        if expired {
            *entry = Failures {
                first_at: now,
                count: 0,
                blocked_until: None,
            };
        }
        entry.count += 1;
        if entry.count >= self.limit && entry.blocked_until.is_none() {
            entry.blocked_until = Some(now + window);
            return true;
        }
        false
    }

    /// A right token clears the address's failures (a blocked address stays blocked).
    fn succeeded(&mut self, client: IpAddr) {
        if self
            .clients
            .get(&client)
            .is_some_and(|f| f.blocked_until.is_none())
        {
            self.clients.remove(&client);
        }
    }

    /// Drops every entry whose window and block are over; if none is, the one with the oldest
    /// first failure.
    fn forget_stalest(&mut self, now: Instant) {
        let window = self.window;
        self.clients.retain(|_, f| {
            f.blocked_until.map_or_else(
                || now.duration_since(f.first_at) < window,
                |until| until > now,
            )
        });
        if self.clients.len() >= MAX_TRACKED_CLIENTS
            && let Some(stalest) = self
                .clients
                .iter()
                .min_by_key(|(_, f)| f.first_at)
                .map(|(ip, _)| *ip)
        {
            self.clients.remove(&stalest);
        }
    }
}

/// Ingest bytes per address: a token bucket refilled at `bytes_per_sec`, holding a second's worth
/// or one largest body, whichever is more (so any body the daemon accepts can pass).
#[derive(Debug)]
struct IngestRate {
    /// 0 = no limit.
    bytes_per_sec: u64,
    clients: HashMap<IpAddr, Bucket>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    bytes: f64,
    at: Instant,
}

impl IngestRate {
    /// A full bucket holds a second of the rate (at least one batch).
    fn capacity(&self) -> f64 {
        self.bytes_per_sec.max(super::MAX_BODY_BYTES as u64) as f64
    }

    /// Takes `bytes` from `client`'s allowance, or answers how long until it holds them.
    fn take(&mut self, client: IpAddr, bytes: u64, now: Instant) -> Result<(), Duration> {
        if self.bytes_per_sec == 0 {
            return Ok(());
        }
        let (rate, capacity) = (self.bytes_per_sec as f64, self.capacity());
        if !self.clients.contains_key(&client) && self.clients.len() >= MAX_TRACKED_CLIENTS {
            self.forget_full(now);
        }
        let bucket = self.clients.entry(client).or_insert(Bucket {
            bytes: capacity,
            at: now,
        });
        let refilled = now.duration_since(bucket.at).as_secs_f64() * rate;
        bucket.bytes = (bucket.bytes + refilled).min(capacity);
        bucket.at = now;
        // A request larger than the bucket (an 8 MiB blob chunk at a lower rate) passes once the
        // bucket is full and leaves it in debt, so the rate holds on average.
        let wanted = bytes as f64;
        let needed = wanted.min(capacity);
        if bucket.bytes >= needed {
            bucket.bytes -= wanted;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((needed - bucket.bytes) / rate))
        }
    }

    /// Drops every bucket that has refilled (the same as a new one); if none has, the one
    /// untouched longest.
    fn forget_full(&mut self, now: Instant) {
        let (rate, capacity) = (self.bytes_per_sec as f64, self.capacity());
        self.clients
            .retain(|_, b| b.bytes + now.duration_since(b.at).as_secs_f64() * rate < capacity);
        if self.clients.len() >= MAX_TRACKED_CLIENTS
            && let Some(stalest) = self
                .clients
                .iter()
                .min_by_key(|(_, b)| b.at)
                .map(|(ip, _)| *ip)
        {
            self.clients.remove(&stalest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, last))
    }

    #[test]
    fn wrong_tokens_block_an_address_for_a_window_and_only_that_address() {
        let mut failures = AuthFailures {
            limit: 10,
            window: Duration::from_secs(60),
            clients: HashMap::new(),
        };
        let t0 = Instant::now();
        for i in 0..9 {
            assert!(!failures.failed(ip(1), t0 + Duration::from_secs(i)));
            assert_eq!(
                failures.blocked_for(ip(1), t0 + Duration::from_secs(i)),
                None
            );
        }
        assert!(failures.failed(ip(1), t0 + Duration::from_secs(9)));
        let wait = failures.blocked_for(ip(1), t0 + Duration::from_secs(10));
        assert_eq!(wait, Some(Duration::from_secs(59)));
        assert_eq!(failures.blocked_for(ip(2), t0), None);
        // A right token during the block does not lift it; the block ends with its window.
        failures.succeeded(ip(1));
        assert!(
            failures
                .blocked_for(ip(1), t0 + Duration::from_secs(68))
                .is_some()
        );
        assert_eq!(
            failures.blocked_for(ip(1), t0 + Duration::from_secs(69)),
            None
        );
        assert!(!failures.failed(ip(1), t0 + Duration::from_secs(70)));
    }

    #[test]
    fn failures_spread_over_more_than_a_window_never_block() {
        let mut failures = AuthFailures {
            limit: 3,
            window: Duration::from_secs(60),
            clients: HashMap::new(),
        };
        let t0 = Instant::now();
        for i in 0..10 {
            assert!(!failures.failed(ip(1), t0 + Duration::from_secs(31 * i)));
        }
    }

    #[test]
    fn the_tables_stay_bounded_under_many_addresses() {
        let mut failures = AuthFailures {
            limit: 10,
            window: Duration::from_secs(60),
            clients: HashMap::new(),
        };
        let mut rate = IngestRate {
            bytes_per_sec: 1,
            clients: HashMap::new(),
        };
        let t0 = Instant::now();
        for i in 0..(3 * MAX_TRACKED_CLIENTS as u32) {
            let client = IpAddr::V4(Ipv4Addr::from(i));
            failures.failed(client, t0);
            let _ = rate.take(client, 10, t0);
        }
        assert!(failures.clients.len() <= MAX_TRACKED_CLIENTS);
        assert!(rate.clients.len() <= MAX_TRACKED_CLIENTS);
    }

    #[test]
    fn ingest_beyond_the_rate_waits_for_the_bucket_to_refill() {
        let mib = super::super::MAX_BODY_BYTES as u64;
        let mut rate = IngestRate {
            bytes_per_sec: 2 * mib,
            clients: HashMap::new(),
        };
        let t0 = Instant::now();
        rate.take(ip(1), 2 * mib, t0).unwrap();
        let wait = rate.take(ip(1), mib, t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-6, "{wait:?}");
        rate.take(ip(2), mib, t0).unwrap();
        rate.take(ip(1), mib, t0 + Duration::from_millis(500))
            .unwrap();
        // A chunk bigger than the bucket passes when it is full, then the client repays it.
        let t1 = t0 + Duration::from_secs(10);
        rate.take(ip(3), 8 * mib, t1).unwrap();
        let wait = rate.take(ip(3), mib, t1).unwrap_err();
        assert!((wait.as_secs_f64() - 3.5).abs() < 1e-6, "{wait:?}");
        let unlimited = &mut IngestRate {
            bytes_per_sec: 0,
            clients: HashMap::new(),
        };
        for _ in 0..100 {
            unlimited.take(ip(1), mib, t0).unwrap();
        }
    }

    #[test]
    fn an_ipv6_client_is_its_64_prefix_and_a_mapped_ipv4_is_itself() {
        let request = |addr: &str| {
            let mut request = Request::new(axum::body::Body::empty());
            let addr: SocketAddr = addr.parse().unwrap();
            request.extensions_mut().insert(ConnectInfo(addr));
            request
        };
        assert_eq!(
            client_address(&request("[2001:db8:1:2:aaaa::1]:5")),
            "2001:db8:1:2::".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_address(&request("[::ffff:10.0.0.7]:5")), ip(7));
        assert_eq!(
            client_address(&Request::new(axum::body::Body::empty())),
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        );
    }
}
