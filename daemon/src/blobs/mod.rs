//! Content-addressed storage of whole files (artifacts and media): the narrow [`BlobStore`] trait,
//! addressed by the SHA-256 of a blob's content, so the same bytes are stored once.
//! [`local::LocalBlobs`] keeps blobs in a folder of the data directory (`.trackline/blobs/`); an
//! object store can sit behind the same methods later. Large blobs move in pieces: a resumable
//! upload in chunks ([`BlobStore::write_chunk`]), a file copied in with its hash computed on the
//! way ([`BlobStore::put_file`]), and a reader's handle on the stored file ([`BlobStore::open`]).

pub mod local;

use sha2::{Digest, Sha256};
use std::fmt;
use std::path::PathBuf;

/// A blob's address: the SHA-256 of its content as 64 lowercase hex digits. Every value of this
/// type has been checked, so it is safe to build a path or an object key from.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct BlobHash(String);

/// Hex digits of a SHA-256.
const HASH_HEX_LEN: usize = 64;

impl BlobHash {
    /// The hash of `bytes`.
    pub fn of(bytes: &[u8]) -> BlobHash {
        let digest = Sha256::digest(bytes);
        let mut hex = String::with_capacity(HASH_HEX_LEN);
        for b in digest {
            hex.push(char::from_digit(u32::from(b >> 4), 16).expect("a nibble"));
            hex.push(char::from_digit(u32::from(b & 0xf), 16).expect("a nibble"));
        }
        BlobHash(hex)
    }

    /// Checks a hash given as text (64 hex digits, either case).
    pub fn parse(text: &str) -> Result<BlobHash, BlobError> {
        if text.len() == HASH_HEX_LEN && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(BlobHash(text.to_ascii_lowercase()))
        } else {
            Err(BlobError::BadHash(text.chars().take(80).collect()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BlobHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One stored blob, as [`BlobStore::list`] reports it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct BlobEntry {
    pub hash: BlobHash,
    pub len: u64,
}

/// Why a blob could not be stored or read.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("'{0}' is not a blob hash (want the 64 hex digits of a SHA-256)")]
    BadHash(String),
    #[error(transparent)]
    Write(#[from] crate::format::FormatError),
    /// A chunk of an upload that cannot be part of the blob it names (past its size).
    #[error("{0}")]
    BadChunk(String),
}

/// What became of one chunk of a resumable upload ([`BlobStore::write_chunk`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ChunkOutcome {
    /// The store now holds `length` bytes of the blob; `complete` once it is stored whole under
    /// its hash (verified, durable).
    Accepted { length: u64, complete: bool },
    /// The chunk's offset does not fit what the store holds: resume from `length`.
    OffsetMismatch { length: u64 },
    /// The whole content did not hash to the hash it was uploaded as; what was held is dropped.
    HashMismatch,
}

impl BlobError {
    fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        BlobError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Whole files stored once each, under the hash of their content.
pub trait BlobStore: fmt::Debug + Send + Sync {
    /// Stores `bytes` (once: storing the same bytes again changes nothing) and returns their hash.
    fn put(&self, bytes: &[u8]) -> Result<BlobHash, BlobError>;

    /// The whole blob; `Ok(None)` when there is none with this hash.
    fn get(&self, hash: &BlobHash) -> Result<Option<Vec<u8>>, BlobError>;

    /// Up to `len` bytes of the blob from byte `offset` (fewer at its end, none past it);
    /// `Ok(None)` when there is no blob with this hash.
    fn read_range(
        &self,
        hash: &BlobHash,
        offset: u64,
        len: u64,
    ) -> Result<Option<Vec<u8>>, BlobError>;

    /// Every stored blob, in hash order.
    fn list(&self) -> Result<Vec<BlobEntry>, BlobError>;

    /// Removes a blob; `Ok(false)` when there was none.
    fn delete(&self, hash: &BlobHash) -> Result<bool, BlobError>;

    /// Whether the blob is stored.
    fn has(&self, hash: &BlobHash) -> Result<bool, BlobError>;

    /// The hashes of `hashes` that are not stored, in the order given (each once).
    fn missing(&self, hashes: &[BlobHash]) -> Result<Vec<BlobHash>, BlobError> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for hash in hashes {
            if seen.insert(hash) && !self.has(hash)? {
                out.push(hash.clone());
            }
        }
        Ok(out)
    }

    /// The stored blob, opened to read (streamed, never loaded whole); `Ok(None)` when there is
    /// none. No symbolic link is followed and only a regular file is opened.
    fn open(&self, hash: &BlobHash) -> Result<Option<std::fs::File>, BlobError>;

    /// Takes one chunk of a resumable upload of the blob `hash` of `size` bytes: `data` belongs
    /// at `offset`. The offset rule of remote ingest applies (docs/api.md): a chunk at the held
    /// length is added, a retried chunk the store already holds changes nothing, any other offset
    /// is [`ChunkOutcome::OffsetMismatch`]. The chunk that reaches `size` has the content checked
    /// against `hash` and stored durably under it. A stored blob answers complete at once.
    fn write_chunk(
        &self,
        hash: &BlobHash,
        size: u64,
        offset: u64,
        data: &[u8],
    ) -> Result<ChunkOutcome, BlobError>;

    /// Stores the file at `path` (copied and hashed in one pass, durable before it is named) and
    /// returns its hash and length.
    fn put_file(&self, path: &std::path::Path) -> Result<(BlobHash, u64), BlobError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_sha256_hex_and_checked() {
        // The SHA-256 of "abc" (FIPS 180-2).
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(BlobHash::of(b"abc").as_str(), abc);
        assert_eq!(BlobHash::parse(abc).unwrap(), BlobHash::of(b"abc"));
        assert_eq!(
            BlobHash::parse(&abc.to_ascii_uppercase()).unwrap(),
            BlobHash::of(b"abc")
        );
        let short = &abc[..63];
        let long = format!("{abc}0");
        let not_hex = format!("{}g", &abc[..63]);
        let escape = format!("../../{}", &abc[..58]);
        for bad in ["", short, &long, &not_hex, &escape] {
            assert!(
                matches!(BlobHash::parse(bad), Err(BlobError::BadHash(_))),
                "{bad}"
            );
        }
    }
}
