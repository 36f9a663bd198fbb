//! Naming ops and deciding retries, as plain functions (host-tested): a random `client_id` per
//! tab, a unique `op_id` per op, thread and comment ids that cannot collide with another tab's,
//! and when to send an op again (with the SAME ids, so the daemon applies it once).

use std::time::Duration;

/// Ids are at most this long, of `[A-Za-z0-9_-]` (the contract's rule).
const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A random id of `len` characters from `random`, a source of numbers in `0..1`.
pub fn random_id(len: usize, mut random: impl FnMut() -> f64) -> String {
    (0..len)
        .map(|_| {
            let i = (random() * ID_ALPHABET.len() as f64) as usize;
            ID_ALPHABET[i.min(ID_ALPHABET.len() - 1)] as char
        })
        .collect()
}

/// Names a tab's ops and the threads and comments it creates.
#[derive(Clone, Debug)]
pub struct Ids {
    pub client_id: String,
    next: u64,
}

impl Ids {
    /// `client_id`: 22 random characters (about 131 bits).
    pub fn new(random: impl FnMut() -> f64) -> Ids {
        Ids {
            client_id: random_id(22, random),
            next: 0,
        }
    }

    fn bump(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    /// A new op id, unique within this client.
    pub fn op(&mut self) -> String {
        format!("o{}", self.bump())
    }

    /// A new thread or comment id, unique across clients (it starts with the client id).
    pub fn entity(&mut self, kind: char) -> String {
        let n = self.bump();
        format!("{kind}{}-{n}", self.client_id)
    }
}

/// What became of one attempt to send an op.
#[derive(Clone, Debug, PartialEq)]
pub enum Attempt {
    /// No answer (network down, daemon killed or restarting).
    NoAnswer,
    /// An HTTP status other than 2xx, with its `Retry-After` in seconds when it had one.
    Status { code: u16, retry_after: Option<f64> },
}

/// Attempts at most this many times in all.
pub const MAX_ATTEMPTS: u32 = 10;

/// How long to wait before attempt number `attempt + 1` (`attempt` counts from 1), or `None`
/// when the op must not be retried: a 4xx other than 408/429 is the op's own fault and a retry
/// would fail the same way.
pub fn retry_delay(attempt: u32, what: &Attempt) -> Option<Duration> {
    if attempt >= MAX_ATTEMPTS {
        return None;
    }
    // 250 ms, 500 ms, 1 s, 2 s, then 4 s each time.
    let backoff = Duration::from_millis(250 << attempt.saturating_sub(1).min(4));
    match what {
        Attempt::NoAnswer => Some(backoff),
        Attempt::Status { code, retry_after } => {
            let retryable = *code >= 500 || *code == 429 || *code == 408;
            if !retryable {
                return None;
            }
            match retry_after {
                Some(s) if s.is_finite() && *s >= 0.0 => Some(Duration::from_secs_f64(s.min(60.0))),
                _ => Some(backoff),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_contract() {
        let mut seed = 0.123_f64;
        let mut ids = Ids::new(move || {
            seed = (seed * 9301.0 + 0.49297) % 1.0;
            seed
        });
        assert_eq!(ids.client_id.len(), 22);
        let (a, b) = (ids.op(), ids.op());
        assert_ne!(a, b);
        let t = ids.entity('t');
        assert!(t.starts_with(&format!("t{}", ids.client_id)), "{t}");
        for id in [&ids.client_id, &a, &t] {
            assert!(id.len() <= 64);
            assert!(
                id.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            );
        }
        assert_eq!(random_id(3, || 0.999_999_999), "999");
        assert_eq!(
            random_id(2, || 1.0),
            "99",
            "1.0 is clamped into the alphabet"
        );
    }

    #[test]
    fn retries() {
        let no = Attempt::NoAnswer;
        assert_eq!(retry_delay(1, &no), Some(Duration::from_millis(250)));
        assert_eq!(retry_delay(3, &no), Some(Duration::from_millis(1000)));
        assert_eq!(retry_delay(9, &no), Some(Duration::from_millis(4000)));
        assert_eq!(retry_delay(MAX_ATTEMPTS, &no), None);
        let busy = Attempt::Status {
            code: 429,
            retry_after: Some(2.0),
        };
        assert_eq!(retry_delay(1, &busy), Some(Duration::from_secs(2)));
        let down = Attempt::Status {
            code: 503,
            retry_after: None,
        };
        assert_eq!(retry_delay(2, &down), Some(Duration::from_millis(500)));
        for code in [400, 401, 403, 404, 409, 413] {
            let refused = Attempt::Status {
                code,
                retry_after: None,
            };
            assert_eq!(retry_delay(1, &refused), None, "{code}");
        }
    }
}
