//! Share-link tokens and session secrets: 256 bits of OS randomness in hex, the token behind a
//! `tl_` prefix so secret scanners catch a leaked one; stored only as SHA-256, and compared in
//! constant time.

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};

/// Every share token starts with this.
pub const TOKEN_PREFIX: &str = "tl_";

/// Random bytes in a token or session secret.
const SECRET_BYTES: usize = 32;
/// Random bytes in a link's public id.
const ID_BYTES: usize = 6;

fn random_hex(n: usize) -> Result<String> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|e| Error::Internal(format!("no randomness: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A new share token: `tl_` and 64 hex digits.
pub fn new_token() -> Result<String> {
    Ok(format!("{TOKEN_PREFIX}{}", random_hex(SECRET_BYTES)?))
}

/// A new session secret (the session cookie's value): 64 hex digits.
pub fn new_session_secret() -> Result<String> {
    random_hex(SECRET_BYTES)
}

/// A new public link id: 12 hex digits.
pub fn new_link_id() -> Result<String> {
    random_hex(ID_BYTES)
}

/// What is stored of a token or session secret.
pub fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Equal, in time that depends only on the lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `text` has a token's shape (prefix, then 64 lower-case hex digits).
pub fn looks_like_token(text: &str) -> bool {
    text.strip_prefix(TOKEN_PREFIX).is_some_and(|rest| {
        rest.len() == 2 * SECRET_BYTES
            && rest.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_stored_as_their_hash() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_ne!(a, b);
        assert!(looks_like_token(&a), "{a}");
        assert_eq!(a.len(), 3 + 64);
        assert!(!looks_like_token(&a[..a.len() - 1]));
        assert!(!looks_like_token(&a.to_uppercase()));
        assert!(!looks_like_token(&a[3..]));
        // SHA-256 of "abc", the FIPS 180-2 example.
        let abc: String = hash("abc").iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            abc,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_ne!(hash(&a), hash(&b));
        assert!(constant_time_eq(&hash(&a), &hash(&a)));
        assert!(!constant_time_eq(&hash(&a), &hash(&b)));
        assert!(!constant_time_eq(b"ab", b"abc"));
        assert_eq!(new_link_id().unwrap().len(), 12);
        assert_eq!(new_session_secret().unwrap().len(), 64);
    }
}
