//! [`LocalBlobs`]: blobs as files in a local folder, `<root>/<first 2 hex digits>/<other 62>` (as
//! git keeps objects), each written to a hidden temp file and renamed into place, so a reader never
//! sees half a blob and two writers of the same content both succeed.

use super::{BlobEntry, BlobError, BlobHash, BlobStore};
use crate::format::writer::write_atomic;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Hex digits of the hash that name a blob's folder.
const FANOUT_HEX: usize = 2;

/// Blobs in the folder `root` (the daemon keeps them in `<data dir>/.trackline/blobs`).
#[derive(Debug, Clone)]
pub struct LocalBlobs {
    root: PathBuf,
}

impl LocalBlobs {
    pub fn new(root: PathBuf) -> Self {
        LocalBlobs { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where a blob lives: always inside `root`, since a hash is only hex digits.
    fn path(&self, hash: &BlobHash) -> PathBuf {
        let (dir, name) = hash.as_str().split_at(FANOUT_HEX);
        self.root.join(dir).join(name)
    }
}

impl BlobStore for LocalBlobs {
    fn put(&self, bytes: &[u8]) -> Result<BlobHash, BlobError> {
        let hash = BlobHash::of(bytes);
        let path = self.path(&hash);
        if path.is_file() {
            return Ok(hash);
        }
        let dir = path.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir).map_err(|e| BlobError::io(dir, e))?;
        write_atomic(&path, bytes)?;
        Ok(hash)
    }

    fn get(&self, hash: &BlobHash) -> Result<Option<Vec<u8>>, BlobError> {
        let path = self.path(hash);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(BlobError::io(path, e)),
        }
    }

    fn read_range(
        &self,
        hash: &BlobHash,
        offset: u64,
        len: u64,
    ) -> Result<Option<Vec<u8>>, BlobError> {
        let path = self.path(hash);
        let io = |e| BlobError::io(&path, e);
        let mut file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let size = file.metadata().map_err(io)?.len();
        let start = offset.min(size);
        let want = len.min(size - start);
        file.seek(SeekFrom::Start(start)).map_err(io)?;
        let mut out = Vec::with_capacity(want as usize);
        file.take(want).read_to_end(&mut out).map_err(io)?;
        Ok(Some(out))
    }

    fn list(&self) -> Result<Vec<BlobEntry>, BlobError> {
        let mut out = Vec::new();
        let fans = match std::fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(BlobError::io(&self.root, e)),
        };
        for fan in fans {
            let fan = fan.map_err(|e| BlobError::io(&self.root, e))?;
            let Ok(prefix) = fan.file_name().into_string() else {
                continue;
            };
            if prefix.len() != FANOUT_HEX || !fan.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let dir = fan.path();
            for entry in std::fs::read_dir(&dir).map_err(|e| BlobError::io(&dir, e))? {
                let entry = entry.map_err(|e| BlobError::io(&dir, e))?;
                // Temp files (hidden) and anything else that is not a blob are not listed.
                let Some(hash) = entry
                    .file_name()
                    .to_str()
                    .and_then(|rest| BlobHash::parse(&format!("{prefix}{rest}")).ok())
                else {
                    continue;
                };
                let meta = entry
                    .metadata()
                    .map_err(|e| BlobError::io(entry.path(), e))?;
                if meta.is_file() && self.path(&hash) == entry.path() {
                    out.push(BlobEntry {
                        hash,
                        len: meta.len(),
                    });
                }
            }
        }
        out.sort_by(|a, b| a.hash.cmp(&b.hash));
        Ok(out)
    }

    fn delete(&self, hash: &BlobHash) -> Result<bool, BlobError> {
        let path = self.path(hash);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(BlobError::io(path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn store() -> (tempfile::TempDir, LocalBlobs) {
        let dir = tempfile::tempdir().unwrap();
        let blobs = LocalBlobs::new(dir.path().join("blobs"));
        (dir, blobs)
    }

    #[test]
    fn put_twice_stores_once() {
        let (_dir, blobs) = store();
        assert!(blobs.list().unwrap().is_empty());
        let a = blobs.put(b"checkpoint bytes").unwrap();
        assert_eq!(blobs.put(b"checkpoint bytes").unwrap(), a);
        let b = blobs.put(b"other").unwrap();
        assert_ne!(a, b);
        let listed = blobs.list().unwrap();
        let mut want = vec![
            BlobEntry {
                hash: a.clone(),
                len: 16,
            },
            BlobEntry { hash: b, len: 5 },
        ];
        want.sort_by(|x, y| x.hash.cmp(&y.hash));
        assert_eq!(listed, want);
        assert_eq!(blobs.get(&a).unwrap().unwrap(), b"checkpoint bytes");
        assert!(blobs.path(&a).starts_with(blobs.root()));
        assert_eq!(blobs.get(&BlobHash::of(b"never stored")).unwrap(), None);
    }

    #[test]
    fn range_reads_clamp_to_the_blob() {
        let (_dir, blobs) = store();
        let h = blobs.put(b"0123456789").unwrap();
        let range = |offset, len| blobs.read_range(&h, offset, len).unwrap().unwrap();
        assert_eq!(range(2, 3), b"234");
        assert_eq!(range(8, 100), b"89");
        assert_eq!(range(10, 5), b"");
        assert_eq!(range(50, 5), b"");
        assert_eq!(range(0, u64::MAX), b"0123456789");
        let missing = BlobHash::of(b"missing");
        assert_eq!(blobs.read_range(&missing, 0, 1).unwrap(), None);
    }

    #[test]
    fn delete_removes_once() {
        let (_dir, blobs) = store();
        let h = blobs.put(b"x").unwrap();
        assert!(blobs.delete(&h).unwrap());
        assert!(!blobs.delete(&h).unwrap());
        assert_eq!(blobs.get(&h).unwrap(), None);
        assert!(blobs.list().unwrap().is_empty());
        // Stored again after a delete, it comes back whole.
        assert_eq!(blobs.put(b"x").unwrap(), h);
        assert_eq!(blobs.get(&h).unwrap().unwrap(), b"x");
    }

    #[test]
    fn strays_in_the_folder_are_not_blobs() {
        let (_dir, blobs) = store();
        let h = blobs.put(b"real").unwrap();
        let fan = blobs.path(&h).parent().unwrap().to_owned();
        std::fs::write(fan.join(".tmp-partial"), b"half").unwrap();
        std::fs::write(fan.join("not-a-hash"), b"?").unwrap();
        std::fs::write(blobs.root().join("loose"), b"?").unwrap();
        std::fs::create_dir_all(blobs.root().join("zz")).unwrap();
        let listed: Vec<BlobHash> = blobs.list().unwrap().into_iter().map(|e| e.hash).collect();
        assert_eq!(listed, vec![h]);
    }

    #[test]
    fn concurrent_puts_of_the_same_content_are_safe() {
        let (_dir, blobs) = store();
        let blobs = Arc::new(blobs);
        let content: Arc<Vec<u8>> = Arc::new((0..1_000_000u32).map(|i| i as u8).collect());
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (blobs, content) = (blobs.clone(), content.clone());
                std::thread::spawn(move || blobs.put(&content).unwrap())
            })
            .collect();
        let hashes: Vec<BlobHash> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(hashes.iter().all(|h| *h == hashes[0]));
        assert_eq!(blobs.get(&hashes[0]).unwrap().unwrap(), *content);
        let listed = blobs.list().unwrap();
        assert_eq!(listed.len(), 1);
        // No temp file is left behind.
        let fan = blobs.path(&hashes[0]).parent().unwrap().to_owned();
        assert_eq!(std::fs::read_dir(fan).unwrap().count(), 1);
    }
}
