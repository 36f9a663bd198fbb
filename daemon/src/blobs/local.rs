//! [`LocalBlobs`]: blobs as files in a local folder, `<root>/<first 2 hex digits>/<other 62>` (as
//! git keeps objects). Every blob is written to a hidden file in its folder (`.tmp-<random>`, or
//! `.upload-<hash>` for a resumable upload), fsynced, then hard-linked to its hash, which never
//! replaces a stored blob: a reader never sees half a blob, a blob is never written again, and two
//! writers of the same content both succeed. Every file is opened beneath the blob folder's handle
//! ([`beneath`](crate::format::beneath)): no symbolic link is followed.

use super::{BlobEntry, BlobError, BlobHash, BlobStore, ChunkOutcome};
use crate::format::FormatError;
use crate::format::beneath::{Dir, HeldDir};
use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Hex digits of the hash that name a blob's folder.
const FANOUT_HEX: usize = 2;
/// The name prefix of a blob being written by one writer (then linked to its hash).
pub const TEMP_PREFIX: &str = ".tmp-";
/// The name prefix of a resumable upload's partial file, `.upload-<hash>`, in the blob's folder.
pub const UPLOAD_PREFIX: &str = ".upload-";
/// Bytes read at a time when copying or hashing a file.
const COPY_BUFFER: usize = 1 << 20;
/// Locks that give the uploads of one hash turns (a hash always takes the same one).
const UPLOAD_STRIPES: usize = 64;
/// Uploads whose hash so far is kept in memory; past it they are forgotten, and the content is
/// hashed from disk when it is complete.
const MAX_RUNNING_HASHES: usize = 256;

/// Blobs in the folder `root` (the daemon keeps them in `<data dir>/.trackline/blobs`).
#[derive(Debug)]
pub struct LocalBlobs {
    root: PathBuf,
    dir: HeldDir,
    stripes: Vec<Mutex<()>>,
    running: Mutex<HashMap<BlobHash, RunningHash>>,
}

/// The SHA-256 of the first `len` bytes of an upload's partial file.
#[derive(Clone)]
struct RunningHash {
    len: u64,
    hasher: Sha256,
}

impl std::fmt::Debug for RunningHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RunningHash({} bytes)", self.len)
    }
}

impl LocalBlobs {
    pub fn new(root: PathBuf) -> Self {
        LocalBlobs {
            dir: HeldDir::new(root.clone()),
            root,
            stripes: (0..UPLOAD_STRIPES).map(|_| Mutex::new(())).collect(),
            running: Mutex::new(HashMap::new()),
        }
    }

    /// The one store of the blob folder of `data_dir` in this process, so that uploads of one
    /// hash take turns and keep their running hash across requests.
    pub fn shared(data_dir: &Path) -> std::sync::Arc<LocalBlobs> {
        static STORES: std::sync::OnceLock<Mutex<HashMap<PathBuf, std::sync::Arc<LocalBlobs>>>> =
            std::sync::OnceLock::new();
        STORES
            .get_or_init(Default::default)
            .lock()
            .entry(data_dir.to_owned())
            .or_insert_with(|| std::sync::Arc::new(LocalBlobs::in_data_dir(data_dir)))
            .clone()
    }

    /// The blob folder of the data directory `data_dir`.
    pub fn in_data_dir(data_dir: &Path) -> Self {
        LocalBlobs::new(
            data_dir
                .join(".trackline")
                .join(crate::artifacts::files::BLOBS_DIR),
        )
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where a blob lives: always inside `root`, since a hash is only hex digits.
    fn path(&self, hash: &BlobHash) -> PathBuf {
        self.root.join(rel_path(hash))
    }

    /// The blob folder's handle; `Ok(None)` when it does not exist (and `create` is false).
    pub(crate) fn root_dir(&self, create: bool) -> Result<Option<&Dir>, BlobError> {
        if create {
            std::fs::create_dir_all(&self.root).map_err(|e| BlobError::io(&self.root, e))?;
        }
        match self.dir.get() {
            Ok(dir) => Ok(Some(dir)),
            Err(_) if !create && !self.root.exists() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The folder of a hash's blob, made if missing.
    fn fan_dir(&self, hash: &BlobHash) -> Result<Dir, BlobError> {
        let root = self.root_dir(true)?.expect("made above");
        Ok(root.create_dirs(fan_name(hash))?)
    }

    /// Names the fsynced file `tmp` of folder `from` by its hash in `fan` (unless a blob has that
    /// name already), removes `tmp`, and fsyncs `fan` so the name survives a crash.
    fn link_in(&self, from: &Dir, tmp: &str, fan: &Dir, hash: &BlobHash) -> Result<(), BlobError> {
        let linked = match from.link_into(tmp, fan, blob_name(hash)) {
            Err(FormatError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::AlreadyExists =>
            {
                Ok(())
            }
            other => other,
        };
        let _ = from.remove_file(tmp);
        linked?;
        sync_dir(fan)?;
        // The fan folder may be new: its name must survive a crash too.
        if let Some(root) = self.root_dir(false)? {
            sync_dir(root)?;
        }
        Ok(())
    }

    /// The hash of the first `len` bytes of `file`, from the running hash when it is that far.
    fn hash_of_upload(
        &self,
        hash: &BlobHash,
        file: &mut File,
        len: u64,
    ) -> Result<BlobHash, BlobError> {
        if let Some(r) = self.running.lock().remove(hash)
            && r.len == len
        {
            return Ok(BlobHash(hex(&r.hasher.finalize())));
        }
        let path = self.upload_path(hash);
        file.seek(SeekFrom::Start(0))
            .map_err(|e| BlobError::io(&path, e))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; COPY_BUFFER];
        let mut reader = file.take(len);
        loop {
            let n = reader.read(&mut buf).map_err(|e| BlobError::io(&path, e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        Ok(BlobHash(hex(&hasher.finalize())))
    }

    /// Carries the running hash of an upload over a chunk that now sits at `offset..offset+len`.
    fn advance_running(&self, hash: &BlobHash, offset: u64, data: &[u8]) {
        let mut running = self.running.lock();
        let end = offset + data.len() as u64;
        match running.get_mut(hash) {
            Some(r) if r.len == offset => {
                r.hasher.update(data);
                r.len = end;
            }
            Some(r) if r.len == end => {}
            _ if offset == 0 => {
                if running.len() >= MAX_RUNNING_HASHES {
                    running.clear();
                }
                let mut hasher = Sha256::new();
                hasher.update(data);
                running.insert(hash.clone(), RunningHash { len: end, hasher });
            }
            _ => {
                running.remove(hash);
            }
        }
    }

    fn upload_path(&self, hash: &BlobHash) -> PathBuf {
        self.root.join(fan_name(hash)).join(upload_name(hash))
    }
}

/// A file of the blob folder, as [`LocalBlobs::scan`] finds it.
#[derive(Clone, Debug)]
pub struct ScannedFile {
    /// Its path beneath the blob folder (`<2>/<62>`, or a temp file's `[<2>/].tmp-…`).
    pub rel: String,
    /// The blob it holds; `None` for a temp file (`.tmp-*`, `.upload-*`).
    pub blob: Option<BlobHash>,
    pub len: u64,
    /// When it last changed: its inode's change time for a blob (a new hard link, a copy in),
    /// its content's for a temp file (an upload in progress writes to it).
    pub changed: std::time::SystemTime,
}

impl LocalBlobs {
    /// Every blob and temp file of the blob folder (nothing through a symbolic link), in path
    /// order. For `trackline gc`.
    pub fn scan(&self) -> Result<Vec<ScannedFile>, BlobError> {
        let mut out = Vec::new();
        let Some(root) = self.root_dir(false)? else {
            return Ok(out);
        };
        let mut folders = vec![String::new()];
        for name in crate::artifacts::commit::list_names(root)? {
            if name.len() == FANOUT_HEX && name.bytes().all(|b| b.is_ascii_hexdigit()) {
                folders.push(name);
            }
        }
        for fan in folders {
            let dir = if fan.is_empty() {
                None
            } else {
                match root.open_dir(&fan) {
                    Ok(Some(dir)) => Some(dir),
                    _ => continue,
                }
            };
            let names = crate::artifacts::commit::list_names(dir.as_ref().unwrap_or(root))?;
            for name in names {
                let temp = name.starts_with(TEMP_PREFIX) || name.starts_with(UPLOAD_PREFIX);
                let blob = BlobHash::parse(&format!("{fan}{name}"))
                    .ok()
                    .filter(|h| !fan.is_empty() && h.as_str() == format!("{fan}{name}"));
                if !temp && blob.is_none() {
                    continue;
                }
                let rel = if fan.is_empty() {
                    name.clone()
                } else {
                    format!("{fan}/{name}")
                };
                let Ok(Some(meta)) = root.stat(&rel) else {
                    continue;
                };
                let changed = if blob.is_some() {
                    changed_at(&meta)
                } else {
                    meta.modified().unwrap_or(std::time::UNIX_EPOCH)
                };
                out.push(ScannedFile {
                    rel,
                    blob,
                    len: meta.len(),
                    changed,
                });
            }
        }
        out.sort_by(|a, b| a.rel.cmp(&b.rel));
        Ok(out)
    }

    /// Removes a temp file [`LocalBlobs::scan`] found; `Ok(false)` when it was gone.
    pub fn remove_temp(&self, rel: &str) -> Result<bool, BlobError> {
        let Some(root) = self.root_dir(false)? else {
            return Ok(false);
        };
        let (folder, name) = rel.rsplit_once('/').unwrap_or(("", rel));
        if !(name.starts_with(TEMP_PREFIX) || name.starts_with(UPLOAD_PREFIX)) {
            return Err(BlobError::BadChunk(format!("'{rel}' is not a temp file")));
        }
        let dir = if folder.is_empty() {
            None
        } else {
            root.open_dir(folder)?
        };
        match dir.as_ref().unwrap_or(root).remove_file(name) {
            Ok(()) => Ok(true),
            Err(e) if not_found(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

/// The inode change time (Unix), else the modification time.
fn changed_at(meta: &std::fs::Metadata) -> std::time::SystemTime {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let (secs, nanos) = (meta.ctime(), meta.ctime_nsec());
        if secs >= 0 {
            return std::time::UNIX_EPOCH
                + std::time::Duration::new(secs as u64, nanos.clamp(0, 999_999_999) as u32);
        }
    }
    meta.modified().unwrap_or(std::time::UNIX_EPOCH)
}

/// `<2>/<62>` of a hash, beneath the blob folder.
pub fn rel_path(hash: &BlobHash) -> String {
    format!("{}/{}", fan_name(hash), blob_name(hash))
}

fn fan_name(hash: &BlobHash) -> &str {
    &hash.as_str()[..FANOUT_HEX]
}

fn blob_name(hash: &BlobHash) -> &str {
    &hash.as_str()[FANOUT_HEX..]
}

fn upload_name(hash: &BlobHash) -> String {
    format!("{UPLOAD_PREFIX}{hash}")
}

/// A fresh temp file name, `.tmp-<16 random hex digits>`.
pub(crate) fn temp_name() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        // Unique within the process all the same; `create_new` refuses a clash.
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        bytes = (u64::from(std::process::id()) << 32 ^ n).to_be_bytes();
    }
    format!("{TEMP_PREFIX}{}", hex(&bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sync_dir(dir: &Dir) -> Result<(), BlobError> {
    dir.open_to_sync()?
        .sync_all()
        .map_err(|e| BlobError::io(dir.path(), e))
}

fn not_found(e: &FormatError) -> bool {
    matches!(e, FormatError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
}

impl BlobStore for LocalBlobs {
    fn put(&self, bytes: &[u8]) -> Result<BlobHash, BlobError> {
        let hash = BlobHash::of(bytes);
        if self.has(&hash)? {
            return Ok(hash);
        }
        let fan = self.fan_dir(&hash)?;
        let tmp = temp_name();
        let tmp_path = fan.path().join(&tmp);
        let written = fan
            .create_new(&tmp)
            .map_err(BlobError::from)
            .and_then(|mut f| {
                f.write_all(bytes)
                    .map_err(|e| BlobError::io(&tmp_path, e))?;
                f.sync_all().map_err(|e| BlobError::io(&tmp_path, e))
            });
        if let Err(e) = written {
            let _ = fan.remove_file(&tmp);
            return Err(e);
        }
        self.link_in(&fan, &tmp, &fan, &hash)?;
        Ok(hash)
    }

    fn get(&self, hash: &BlobHash) -> Result<Option<Vec<u8>>, BlobError> {
        let Some(mut file) = self.open(hash)? else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| BlobError::io(self.path(hash), e))?;
        Ok(Some(bytes))
    }

    fn read_range(
        &self,
        hash: &BlobHash,
        offset: u64,
        len: u64,
    ) -> Result<Option<Vec<u8>>, BlobError> {
        let path = self.path(hash);
        let io = |e| BlobError::io(&path, e);
        let Some(mut file) = self.open(hash)? else {
            return Ok(None);
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
        let Some(root) = self.root_dir(false)? else {
            return Ok(false);
        };
        let Some(fan) = root.open_dir(fan_name(hash))? else {
            return Ok(false);
        };
        match fan.remove_file(blob_name(hash)) {
            Ok(()) => Ok(true),
            Err(e) if not_found(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    fn has(&self, hash: &BlobHash) -> Result<bool, BlobError> {
        let Some(root) = self.root_dir(false)? else {
            return Ok(false);
        };
        Ok(root.stat(&rel_path(hash))?.is_some())
    }

    fn open(&self, hash: &BlobHash) -> Result<Option<File>, BlobError> {
        let Some(root) = self.root_dir(false)? else {
            return Ok(None);
        };
        Ok(root.open_read(&rel_path(hash))?)
    }

    fn write_chunk(
        &self,
        hash: &BlobHash,
        size: u64,
        offset: u64,
        data: &[u8],
    ) -> Result<ChunkOutcome, BlobError> {
        let end = offset
            .checked_add(data.len() as u64)
            .filter(|end| *end <= size)
            .ok_or_else(|| {
                BlobError::BadChunk(format!(
                    "a chunk of {} bytes at offset {offset} goes past the blob's size {size}",
                    data.len()
                ))
            })?;
        let stripe = usize::from_str_radix(&hash.as_str()[..2], 16).unwrap_or(0) % UPLOAD_STRIPES;
        let _turn = self.stripes[stripe].lock();
        if let Some(root) = self.root_dir(false)?
            && let Some(meta) = root.stat(&rel_path(hash))?
        {
            return Ok(ChunkOutcome::Accepted {
                length: meta.len(),
                complete: true,
            });
        }
        let fan = self.fan_dir(hash)?;
        let partial = upload_name(hash);
        let path = fan.path().join(&partial);
        let io = |e| BlobError::io(&path, e);
        if data.is_empty() && end < size {
            // A question: how much is held.
            let length = fan.stat(&partial)?.map_or(0, |m| m.len());
            return Ok(if length == offset {
                ChunkOutcome::Accepted {
                    length,
                    complete: false,
                }
            } else {
                ChunkOutcome::OffsetMismatch { length }
            });
        }
        let mut file = fan.open_append(&partial, true)?;
        let len = file.metadata().map_err(io)?.len();
        if len > size {
            // Left by an upload that named another size: not this blob's bytes.
            drop(file);
            fan.remove_file(&partial)?;
            self.running.lock().remove(hash);
            return Ok(ChunkOutcome::OffsetMismatch { length: 0 });
        }
        if len < offset || len > end {
            return Ok(ChunkOutcome::OffsetMismatch { length: len });
        }
        // The file already holds `len - offset` bytes of this chunk, if they are the same bytes.
        let have = (len - offset) as usize;
        if have > 0 {
            let mut existing = vec![0u8; have];
            file.seek(SeekFrom::Start(offset)).map_err(io)?;
            file.read_exact(&mut existing).map_err(io)?;
            if existing != data[..have] {
                return Ok(ChunkOutcome::OffsetMismatch { length: len });
            }
        }
        if have < data.len() {
            file.write_all(&data[have..]).map_err(io)?;
            file.sync_data().map_err(io)?;
        }
        self.advance_running(hash, offset, data);
        if end < size {
            return Ok(ChunkOutcome::Accepted {
                length: end,
                complete: false,
            });
        }
        if self.hash_of_upload(hash, &mut file, size)? != *hash {
            drop(file);
            fan.remove_file(&partial)?;
            return Ok(ChunkOutcome::HashMismatch);
        }
        file.sync_all().map_err(io)?;
        drop(file);
        self.link_in(&fan, &partial, &fan, hash)?;
        Ok(ChunkOutcome::Accepted {
            length: size,
            complete: true,
        })
    }

    fn put_file(&self, path: &Path) -> Result<(BlobHash, u64), BlobError> {
        let mut source = File::open(path).map_err(|e| BlobError::io(path, e))?;
        let root = self.root_dir(true)?.expect("made above");
        let tmp = temp_name();
        let tmp_path = root.path().join(&tmp);
        let copied = root
            .create_new(&tmp)
            .map_err(BlobError::from)
            .and_then(|mut out| {
                let mut hasher = Sha256::new();
                let mut buf = vec![0u8; COPY_BUFFER];
                let mut len = 0u64;
                loop {
                    let n = source.read(&mut buf).map_err(|e| BlobError::io(path, e))?;
                    if n == 0 {
                        break;
                    }
                    hasher.update(&buf[..n]);
                    out.write_all(&buf[..n])
                        .map_err(|e| BlobError::io(&tmp_path, e))?;
                    len += n as u64;
                }
                out.sync_all().map_err(|e| BlobError::io(&tmp_path, e))?;
                Ok((BlobHash(hex(&hasher.finalize())), len))
            });
        let (hash, len) = match copied {
            Ok(done) => done,
            Err(e) => {
                let _ = root.remove_file(&tmp);
                return Err(e);
            }
        };
        let fan = match root.create_dirs(fan_name(&hash)) {
            Ok(fan) => fan,
            Err(e) => {
                let _ = root.remove_file(&tmp);
                return Err(e.into());
            }
        };
        self.link_in(root, &tmp, &fan, &hash)?;
        Ok((hash, len))
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

    fn upload(blobs: &LocalBlobs, content: &[u8], offset: u64, len: usize) -> ChunkOutcome {
        let hash = BlobHash::of(content);
        let end = (offset as usize + len).min(content.len());
        blobs
            .write_chunk(
                &hash,
                content.len() as u64,
                offset,
                &content[offset as usize..end],
            )
            .unwrap()
    }

    #[test]
    fn chunked_uploads_resume_and_verify() {
        let (_dir, blobs) = store();
        let content: Vec<u8> = (0..100_000u32).map(|i| (i * 7) as u8).collect();
        let hash = BlobHash::of(&content);
        let size = content.len() as u64;
        let accepted = |length, complete| ChunkOutcome::Accepted { length, complete };
        // Asking first: nothing held.
        assert_eq!(upload(&blobs, &content, 0, 0), accepted(0, false));
        assert_eq!(upload(&blobs, &content, 0, 40_000), accepted(40_000, false));
        // A retry of that chunk (its answer lost) changes nothing; a wrong offset says where to go.
        assert_eq!(upload(&blobs, &content, 0, 40_000), accepted(40_000, false));
        assert_eq!(
            upload(&blobs, &content, 50_000, 10),
            ChunkOutcome::OffsetMismatch { length: 40_000 }
        );
        assert_eq!(upload(&blobs, &content, 40_000, 0), accepted(40_000, false));
        assert!(!blobs.has(&hash).unwrap());
        // Forget the running hash: the last chunk hashes the file from disk.
        blobs.running.lock().clear();
        assert_eq!(
            upload(&blobs, &content, 40_000, 40_000),
            accepted(80_000, false)
        );
        assert_eq!(
            upload(&blobs, &content, 80_000, 40_000),
            accepted(size, true)
        );
        assert_eq!(blobs.get(&hash).unwrap().unwrap(), content);
        // Stored: any chunk now answers complete, and no partial file is left.
        assert_eq!(upload(&blobs, &content, 0, 0), accepted(size, true));
        let fan = blobs.path(&hash).parent().unwrap().to_owned();
        assert_eq!(std::fs::read_dir(fan).unwrap().count(), 1);
        // A chunk past the size is refused.
        let other = BlobHash::of(b"other");
        assert!(matches!(
            blobs.write_chunk(&other, 5, 3, b"abc"),
            Err(BlobError::BadChunk(_))
        ));
    }

    #[test]
    fn content_that_does_not_match_its_hash_is_dropped() {
        let (_dir, blobs) = store();
        let claimed = BlobHash::of(b"what the client said");
        assert_eq!(
            blobs.write_chunk(&claimed, 4, 0, b"ab").unwrap(),
            ChunkOutcome::Accepted {
                length: 2,
                complete: false
            }
        );
        assert_eq!(
            blobs.write_chunk(&claimed, 4, 2, b"cd").unwrap(),
            ChunkOutcome::HashMismatch
        );
        assert!(!blobs.has(&claimed).unwrap());
        let fan = blobs.path(&claimed).parent().unwrap().to_owned();
        assert_eq!(std::fs::read_dir(fan).unwrap().count(), 0, "nothing kept");
        // The empty blob is one chunk of nothing.
        let empty = BlobHash::of(b"");
        assert_eq!(
            blobs.write_chunk(&empty, 0, 0, b"").unwrap(),
            ChunkOutcome::Accepted {
                length: 0,
                complete: true
            }
        );
        assert_eq!(blobs.get(&empty).unwrap().unwrap(), b"");
    }

    #[test]
    fn files_are_copied_in_with_their_hash_and_missing_ones_are_listed() {
        let (dir, blobs) = store();
        let source = dir.path().join("model.bin");
        let content: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&source, &content).unwrap();
        let (hash, len) = blobs.put_file(&source).unwrap();
        assert_eq!((hash.clone(), len), (BlobHash::of(&content), 3_000_000));
        assert_eq!(blobs.put_file(&source).unwrap().0, hash);
        let absent = BlobHash::of(b"absent");
        assert_eq!(
            blobs
                .missing(&[hash.clone(), absent.clone(), absent.clone()])
                .unwrap(),
            vec![absent]
        );
        let mut opened = blobs.open(&hash).unwrap().unwrap();
        let mut read = Vec::new();
        opened.read_to_end(&mut read).unwrap();
        assert_eq!(read, content);
        // Only the blob is left: the temp file was linked and removed.
        let names: Vec<_> = std::fs::read_dir(blobs.root())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_linked_blob_is_not_opened() {
        let (dir, blobs) = store();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, b"secret").unwrap();
        let hash = BlobHash::of(b"secret");
        let path = blobs.path(&hash);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&secret, &path).unwrap();
        assert!(blobs.open(&hash).is_err());
        assert!(blobs.get(&hash).is_err());
    }
}
