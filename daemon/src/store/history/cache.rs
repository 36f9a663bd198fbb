//! A run's history saved as columns next to the index, so that the first chart after a restart
//! reads a few typed arrays instead of parsing `history.jsonl` again: one file per run,
//! `.trackline/cache/series/<project>/<run>.tlsc`.
//!
//! The run's files stay the source of truth. A cache file records how far into each series file it
//! is (a line boundary) and fingerprints of the bytes at the start and just before that point; it
//! is used only when its checksum, its version and the run's caps match and both fingerprints
//! still match the files, and then only the bytes appended after it are parsed. Anything else (no
//! file, a damaged or stale one, a file that was replaced) means the run is parsed from its files
//! as before and the cache written again. Files are written whole to a temporary name and renamed
//! over the old one; a torn write fails the checksum.
//!
//! # Layout (little-endian)
//!
//! `TLSC`, version `u32`; the caps (`max_keys`, `max_line_bytes`, `u64`); per series file
//! (history, system): `read_to`, `rows` (`u64`), `last_step` (`f64`), the fingerprints (`u64`);
//! the counters; the keys (`u32` count, each `u32` length + UTF-8); per key its points (`u64`),
//! steps (`0` + `f64`s, or `1` + the first step when they rise by one), wall times, values (`f64`);
//! media values (`u32` count, each key, step, wall, JSON); then a `u64` checksum of all before it.

use super::{Columns, Cursor, History, Limits, SERIES_FILES, SeriesFile};
use crate::format::RunKey;
use crate::format::beneath::HeldDir;
use crate::store::Run;
use crate::store::series::Series;
use std::io::Write;
use std::path::PathBuf;

const MAGIC: &[u8; 4] = b"TLSC";
/// Bumped whenever the layout changes: an older file is then simply rebuilt.
const VERSION: u32 = 1;
/// Bytes fingerprinted at the start of a series file and before the cached offset.
const FINGERPRINT_BYTES: u64 = 4096;
/// The list of recently viewed projects, one name a line.
const VIEWED_FILE: &str = "cache/viewed";
/// Projects kept in that list.
const MAX_VIEWED: usize = 8;
/// Runs with fewer points are parsed from their files, which is as fast as reading a cache.
pub const MIN_CACHED_POINTS: usize = 20_000;

/// The cache folder of one data directory (beneath its `.trackline/`).
#[derive(Debug)]
pub struct SeriesCache {
    state_dir: HeldDir,
    /// The front of the viewed list as last written, so a view of the same project costs nothing.
    viewed_front: parking_lot::Mutex<Option<String>>,
    /// Held while a cache file is written (the saving thread and an eviction may both write one).
    writing: parking_lot::Mutex<()>,
}

/// Why a cache file was not used (logged at debug level; the run is parsed instead).
#[derive(Debug, thiserror::Error)]
pub enum Miss {
    #[error("no cache file")]
    Missing,
    #[error("damaged cache file: {0}")]
    Damaged(&'static str),
    #[error("cache file of another version or other caps")]
    Other,
    #[error("the run's {0} changed since the cache was written")]
    Stale(&'static str),
    #[error("{0}")]
    Io(#[from] crate::format::FormatError),
}

impl SeriesCache {
    /// The cache of the data directory whose state folder is `state_dir`; nothing is opened yet.
    pub fn new(state_dir: PathBuf) -> SeriesCache {
        SeriesCache {
            state_dir: HeldDir::new(state_dir),
            viewed_front: parking_lot::Mutex::new(None),
            writing: parking_lot::Mutex::new(()),
        }
    }

    fn folder(key: &RunKey) -> String {
        format!("cache/series/{}", key.project)
    }

    fn file_name(key: &RunKey) -> String {
        format!("{}.tlsc", key.run)
    }

    /// The history saved for `run`, checked against its files; see the module docs.
    pub(super) fn load(&self, run: &Run, limits: Limits) -> Result<History, Miss> {
        let rel = format!("{}/{}", Self::folder(&run.key), Self::file_name(&run.key));
        let bytes = self.state_dir.get()?.read(&rel)?.ok_or(Miss::Missing)?;
        let saved = decode(&bytes, limits)?;
        for (file, fingerprint) in SERIES_FILES.iter().zip(&saved.fingerprints) {
            let read_to = saved.history.cursor(*file).read_to;
            if fingerprint_of(run, *file, read_to)? != *fingerprint {
                return Err(Miss::Stale(file.file_name()));
            }
        }
        Ok(saved.history)
    }

    /// What is saved of `h`, the history of `run` read up to its cursors, for the next start:
    /// taken under the run's lock, written by [`SeriesCache::write`] after it.
    pub(super) fn snapshot(&self, run: &Run, h: &History) -> Result<Vec<u8>, Miss> {
        let mut fingerprints = [0u64; 2];
        for (file, out) in SERIES_FILES.iter().zip(&mut fingerprints) {
            *out = fingerprint_of(run, *file, line_boundary(h.cursor(*file)))?;
        }
        Ok(encode(h, fingerprints))
    }

    /// Writes a snapshot of run `key`'s history in place of what was saved before. A snapshot
    /// older than the one it replaces is still valid (its fingerprints are of the files' prefix
    /// it holds): the next start only parses more.
    pub(super) fn write(&self, key: &RunKey, bytes: &[u8]) -> Result<(), Miss> {
        let _writing = self.writing.lock();
        let dir = self.state_dir.get()?.create_dirs(&Self::folder(key))?;
        let name = Self::file_name(key);
        let temp = format!("{name}.tmp");
        match dir.remove_file(&temp) {
            Err(crate::format::FormatError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound => {}
            other => other?,
        }
        let mut file = dir.create_new(&temp)?;
        file.write_all(bytes)
            .map_err(|e| crate::format::FormatError::io(dir.path().join(&temp), e))?;
        drop(file);
        dir.rename(&temp, &name)?;
        Ok(())
    }

    /// Forgets what was saved for a run (it left the data directory).
    pub fn remove(&self, key: &RunKey) {
        let Ok(root) = self.state_dir.get() else {
            return;
        };
        if let Ok(Some(dir)) = root.open_dir(&Self::folder(key)) {
            let _ = dir.remove_file(&Self::file_name(key));
        }
    }

    /// The projects whose charts were last looked at, most recent first (for the warm-up after
    /// the next start).
    pub fn viewed_projects(&self) -> Vec<String> {
        let Ok(Some(bytes)) = self.state_dir.get().and_then(|d| d.read(VIEWED_FILE)) else {
            return Vec::new();
        };
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter(|l| crate::format::valid_project_name(l))
            .take(MAX_VIEWED)
            .map(str::to_owned)
            .collect()
    }

    /// Records that `project`'s charts were looked at: it moves to the front of the list (written
    /// only when the front changes, by atomic replace).
    pub fn note_viewed(&self, project: &str) {
        let mut front = self.viewed_front.lock();
        if front.as_deref() == Some(project) {
            return;
        }
        *front = Some(project.to_owned());
        let mut list = self.viewed_projects();
        if list.first().map(String::as_str) == Some(project) {
            return;
        }
        list.retain(|p| p != project);
        list.insert(0, project.to_owned());
        list.truncate(MAX_VIEWED);
        let text: String = list.iter().map(|p| format!("{p}\n")).collect();
        let written = self.state_dir.get().and_then(|d| {
            let dir = d.create_dirs("cache")?;
            crate::format::writer::replace_in(&dir, "viewed", text.as_bytes())
        });
        if let Err(e) = written {
            tracing::debug!("cannot note the viewed project: {e}");
        }
    }

    /// Where the cache file of `key` is (for tests and tools).
    pub fn path_of(&self, key: &RunKey) -> PathBuf {
        self.state_dir
            .path()
            .join(Self::folder(key))
            .join(Self::file_name(key))
    }
}

/// The offset of the last complete line read: an unfinished line is read again after a restart.
fn line_boundary(cursor: &Cursor) -> u64 {
    cursor.read_to - cursor.pending.len() as u64
}

/// A fast checksum of `bytes` (not cryptographic: it catches torn and damaged files): four lanes of
/// multiply-rotate over 8-byte words, then the tail, then the length.
pub fn checksum(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut lanes = [K, K ^ 1, K ^ 2, K ^ 3];
    let mut chunks = bytes.chunks_exact(32);
    for chunk in &mut chunks {
        for (lane, word) in lanes.iter_mut().zip(chunk.chunks_exact(8)) {
            let w = u64::from_le_bytes(word.try_into().expect("8 bytes"));
            *lane = (*lane ^ w).wrapping_mul(K).rotate_left(29);
        }
    }
    let mut h = lanes.iter().fold(bytes.len() as u64, |h, &l| {
        (h ^ l).wrapping_mul(K).rotate_left(31)
    });
    for (i, &b) in chunks.remainder().iter().enumerate() {
        h = (h ^ (u64::from(b) << ((i % 8) * 8)))
            .wrapping_mul(K)
            .rotate_left(23);
    }
    h ^ (h >> 32)
}

/// The fingerprint of series file `file` of `run` up to `read_to`: the checksum of its first
/// bytes and of those just before `read_to`, and the offset itself; fails as stale when the file
/// is now shorter.
fn fingerprint_of(run: &Run, file: SeriesFile, read_to: u64) -> Result<u64, Miss> {
    if read_to == 0 {
        return Ok(0);
    }
    let Some(mut opened) = run.source.open(&run.key, file.file_name(), 0)? else {
        return Err(Miss::Stale(file.file_name()));
    };
    if opened.len < read_to {
        return Err(Miss::Stale(file.file_name()));
    }
    let head_len = read_to.min(FINGERPRINT_BYTES);
    let mut head = vec![0u8; head_len as usize];
    if opened.read_up_to(&mut head)? != head.len() {
        return Err(Miss::Stale(file.file_name()));
    }
    let tail_at = read_to - read_to.min(FINGERPRINT_BYTES);
    let tail = if tail_at < head_len {
        // The two overlap: the head already holds the end.
        head[tail_at as usize..].to_vec()
    } else {
        let Some(mut opened) = run.source.open(&run.key, file.file_name(), tail_at)? else {
            return Err(Miss::Stale(file.file_name()));
        };
        let mut tail = vec![0u8; (read_to - tail_at) as usize];
        if opened.read_up_to(&mut tail)? != tail.len() {
            return Err(Miss::Stale(file.file_name()));
        }
        tail
    };
    Ok(checksum(&head) ^ checksum(&tail).rotate_left(17) ^ read_to.wrapping_mul(0x2545_f491))
}

/// A history read back, with the fingerprints it was saved with.
struct Saved {
    history: History,
    fingerprints: [u64; 2],
}

fn encode(h: &History, fingerprints: [u64; 2]) -> Vec<u8> {
    let c = &h.columns;
    let points = h.resident_points();
    let mut out = Vec::with_capacity(256 + points * 24 + c.keys.len() * 32);
    out.extend_from_slice(MAGIC);
    put_u32(&mut out, VERSION);
    put_u64(&mut out, c.limits.max_keys as u64);
    put_u64(&mut out, c.limits.max_line_bytes as u64);
    for (file, fingerprint) in SERIES_FILES.iter().zip(fingerprints) {
        let cursor = h.cursor(*file);
        put_u64(&mut out, line_boundary(cursor));
        put_u64(&mut out, cursor.rows);
        put_f64(&mut out, cursor.last_step);
        put_u64(&mut out, fingerprint);
    }
    put_u64(&mut out, c.bad_lines);
    put_u64(&mut out, c.dropped_values);
    out.push(u8::from(c.key_cap_reported));
    put_u32(&mut out, c.keys.len() as u32);
    for key in &c.keys {
        put_str(&mut out, key);
    }
    for series in &c.series {
        put_u64(&mut out, series.len() as u64);
        let steps = series.steps().to_vec();
        let first = steps.first().copied().unwrap_or(0.0);
        let counting = steps
            .iter()
            .enumerate()
            .all(|(i, &s)| s.to_bits() == (first + i as f64).to_bits());
        if counting {
            out.push(1);
            put_f64(&mut out, first);
        } else {
            out.push(0);
            put_f64s(&mut out, &steps);
        }
        put_f64s(&mut out, &series.wall().to_vec());
        put_f64s(&mut out, series.values());
    }
    let media = c.media.saved_entries();
    put_u32(&mut out, media.len() as u32);
    for (key, step, wall, json) in media {
        put_str(&mut out, key);
        put_f64(&mut out, step);
        put_f64(&mut out, wall);
        put_str(&mut out, json);
    }
    put_u64(&mut out, c.media.dropped());
    let sum = checksum(&out);
    put_u64(&mut out, sum);
    out
}

fn decode(bytes: &[u8], limits: Limits) -> Result<Saved, Miss> {
    if bytes.len() < 16 || &bytes[..4] != MAGIC {
        return Err(Miss::Damaged("not a series cache file"));
    }
    let (body, sum) = bytes.split_at(bytes.len() - 8);
    if checksum(body) != u64::from_le_bytes(sum.try_into().expect("8 bytes")) {
        return Err(Miss::Damaged("checksum"));
    }
    let mut r = Reader { bytes: body, at: 4 };
    if r.u32()? != VERSION
        || r.u64()? != limits.max_keys as u64
        || r.u64()? != limits.max_line_bytes as u64
    {
        return Err(Miss::Other);
    }
    let mut h = History::new(limits);
    let mut fingerprints = [0u64; 2];
    for (file, fingerprint) in SERIES_FILES.iter().zip(&mut fingerprints) {
        let cursor = match file {
            SeriesFile::History => &mut h.history,
            SeriesFile::System => &mut h.system,
        };
        cursor.read_to = r.u64()?;
        cursor.rows = r.u64()?;
        cursor.last_step = r.f64()?;
        *fingerprint = r.u64()?;
    }
    let c: &mut Columns = &mut h.columns;
    c.bad_lines = r.u64()?;
    c.dropped_values = r.u64()?;
    c.key_cap_reported = r.u8()? != 0;
    let keys = r.u32()? as usize;
    if keys > limits.max_keys {
        return Err(Miss::Damaged("more keys than the cap"));
    }
    for i in 0..keys {
        let key = r.str()?.to_owned();
        if c.index.insert(key.as_bytes().into(), i).is_some() {
            return Err(Miss::Damaged("a key twice"));
        }
        c.keys.push(key);
    }
    for _ in 0..keys {
        let len = usize::try_from(r.u64()?).map_err(|_| Miss::Damaged("length"))?;
        // Every point takes at least 16 bytes: a length past the file is damage, not an allocation.
        if len > r.remaining() / 16 {
            return Err(Miss::Damaged("series longer than the file"));
        }
        let steps: Vec<f64> = match r.u8()? {
            1 => {
                let first = r.f64()?;
                (0..len).map(|i| first + i as f64).collect()
            }
            0 => r.f64s(len)?,
            _ => return Err(Miss::Damaged("step encoding")),
        };
        let wall = r.f64s(len)?;
        let values = r.f64s(len)?;
        c.series.push(Series::from_columns(&steps, &wall, values));
    }
    let media = r.u32()?;
    for _ in 0..media {
        let key = r.str()?;
        let (step, wall) = (r.f64()?, r.f64()?);
        let json = r.str()?;
        // Saved entries were kept once, so they are kept again (re-checked all the same).
        let _ = c
            .media
            .add(key, step, wall, json.as_bytes(), limits.max_keys);
    }
    c.media.restore_dropped(r.u64()?);
    if r.remaining() != 0 {
        return Err(Miss::Damaged("trailing bytes"));
    }
    h.loaded = true;
    Ok(Saved {
        history: h,
        fingerprints,
    })
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_f64(out: &mut Vec<u8>, v: f64) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_f64s(out: &mut Vec<u8>, vs: &[f64]) {
    out.reserve(vs.len() * 8);
    for v in vs {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u32(out, s.len() as u32);
    out.extend_from_slice(s.as_bytes());
}

/// Reads the layout back; every read is bounds-checked, so damage is an error, never a panic.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Miss> {
        if n > self.remaining() {
            return Err(Miss::Damaged("truncated"));
        }
        let out = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, Miss> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, Miss> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4")))
    }

    fn u64(&mut self) -> Result<u64, Miss> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8")))
    }

    fn f64(&mut self) -> Result<f64, Miss> {
        Ok(f64::from_bits(self.u64()?))
    }

    fn f64s(&mut self, n: usize) -> Result<Vec<f64>, Miss> {
        let raw = self.take(n.checked_mul(8).ok_or(Miss::Damaged("length"))?)?;
        Ok(raw
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().expect("8")))
            .collect())
    }

    fn str(&mut self) -> Result<&'a str, Miss> {
        let len = self.u32()? as usize;
        std::str::from_utf8(self.take(len)?).map_err(|_| Miss::Damaged("text"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{HISTORY_FILE, SYSTEM_FILE};
    use crate::source::disk::DiskSource;
    use crate::store::{RunMeta, Store, StoreSettings};
    use std::sync::Arc;
    use std::sync::atomic::Ordering;
    use trackline_shared::RunState;

    struct Fixture {
        _root: tempfile::TempDir,
        source: Arc<DiskSource>,
        key: RunKey,
        dir: PathBuf,
        state: PathBuf,
    }

    /// A run of `rows` history rows (two metrics, a media value, a bad line) and a few system
    /// samples, with the cache folder of its data directory.
    fn fixture(rows: usize) -> Fixture {
        let root = tempfile::tempdir().unwrap();
        let source = Arc::new(DiskSource::new(root.path().to_owned()));
        let key = RunKey {
            project: "p".into(),
            run: "r".into(),
        };
        let dir = source.run_dir(&key);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(HISTORY_FILE), rows_text(0..rows)).unwrap();
        let system: String = (0..5)
            .map(|i| {
                format!(
                    "{{\"_timestamp\": {}.5, \"system/cpu\": {i}}}\n",
                    1_700_000_000 + i
                )
            })
            .collect();
        std::fs::write(dir.join(SYSTEM_FILE), system).unwrap();
        let state = root.path().join(".trackline");
        std::fs::create_dir_all(&state).unwrap();
        Fixture {
            _root: root,
            source,
            key,
            dir,
            state,
        }
    }

    fn rows_text(steps: std::ops::Range<usize>) -> String {
        let mut out = String::new();
        for s in steps {
            let loss = 1.0 / (s as f64 + 1.0);
            out.push_str(&format!(
                "{{\"_step\": {s}, \"_timestamp\": {}.{:06}, \"loss\": {loss:?}, \"acc\": {}",
                1_700_000_000 + s / 10,
                (s % 10) * 100_000 + 17,
                if s % 7 == 0 {
                    "NaN".into()
                } else {
                    format!("{}", s % 100)
                }
            ));
            if s == 3 {
                out.push_str(r#", "img": {"_type": "image-file", "path": "media/images/a.png", "width": 2, "height": 2}"#);
            }
            out.push_str("}\n");
            if s == 5 {
                out.push_str("not json\n");
            }
        }
        out
    }

    fn store(f: &Fixture, cached: bool) -> (Store, Arc<Run>) {
        let store = Store::new(StoreSettings {
            cache_dir: cached.then(|| f.state.clone()),
            ..StoreSettings::default()
        });
        let meta = RunMeta::of(&f.key, RunState::Finished);
        let run = store.upsert(f.key.clone(), f.dir.clone(), f.source.clone(), meta, 2.0);
        store.ensure_loaded(&run).unwrap();
        (store, run)
    }

    /// Everything a history holds that a reader sees, bit for bit.
    fn contents(run: &Run) -> String {
        let h = run.history.lock();
        let mut out = format!(
            "rows {} {} last {:?} {:?} bad {} dropped {}\n",
            h.history.rows,
            h.system.rows,
            h.history.last_step,
            h.system.last_step,
            h.bad_lines(),
            h.dropped_values()
        );
        for (i, key) in h.keys().iter().enumerate() {
            let s = h.series(i);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            out.push_str(&format!(
                "{key}: {:?} {:?} {:?} {:?}\n",
                bits(&s.steps().to_vec()),
                bits(&s.wall().to_vec()),
                bits(s.values()),
                s.range_stats(0, s.len())
            ));
        }
        for (key, step, wall, json) in h.media().saved_entries() {
            out.push_str(&format!("media {key} {step} {wall} {json}\n"));
        }
        out
    }

    /// Rewrites a value in the middle of the history file without changing its length or the
    /// fingerprinted bytes: a store that still shows the old value read the cache.
    fn change_middle_value(f: &Fixture) {
        let path = f.dir.join(HISTORY_FILE);
        let text = std::fs::read_to_string(&path).unwrap();
        let at = text.len() / 2;
        let line = at + text[at..].find("\"acc\": 1").unwrap();
        let mut bytes = text.into_bytes();
        bytes[line + 7] = b'9';
        std::fs::write(&path, bytes).unwrap();
    }

    fn acc_values(run: &Run) -> Vec<u64> {
        let h = run.history.lock();
        let s = h.series_by_key("acc").unwrap();
        s.values().iter().map(|v| v.to_bits()).collect()
    }

    /// The warm-up's read aside (`Store::load_aside`) puts in place what a load reads, through the
    /// cache too, and leaves a run loaded meanwhile alone.
    #[test]
    fn a_read_aside_is_what_a_load_reads_and_never_replaces_a_loaded_history() {
        let f = fixture(MIN_CACHED_POINTS + 10);
        let (_loaded_store, loaded) = store(&f, false);
        for cached in [false, true] {
            // With the cache: the first store saved it, the second reads it aside.
            for _ in 0..=usize::from(cached) {
                let aside = Store::new(StoreSettings {
                    cache_dir: cached.then(|| f.state.clone()),
                    ..StoreSettings::default()
                });
                let meta = RunMeta::of(&f.key, RunState::Finished);
                let run = aside.upsert(f.key.clone(), f.dir.clone(), f.source.clone(), meta, 2.0);
                assert!(aside.load_aside(&run).unwrap());
                assert_eq!(contents(&run), contents(&loaded), "cached: {cached}");
                assert_eq!(aside.resident_bytes(), run.history.lock().memory_bytes());
                assert!(!aside.load_aside(&run).unwrap(), "loaded already");
                assert_eq!(contents(&run), contents(&loaded));
            }
        }
    }

    /// A read aside that a request's own read of the run overtakes stops and puts nothing in
    /// place; a request's read of the run sets the sign.
    #[test]
    fn a_read_aside_stops_when_a_request_reads_the_run() {
        let f = fixture(MIN_CACHED_POINTS + 10);
        let aside = Store::new(StoreSettings::default());
        let meta = RunMeta::of(&f.key, RunState::Finished);
        let run = aside.upsert(f.key.clone(), f.dir.clone(), f.source.clone(), meta, 2.0);
        run.read_under_lock.store(true, Ordering::Relaxed);
        assert!(!aside.load_aside(&run).unwrap());
        assert!(!run.history.lock().is_loaded());
        assert_eq!(aside.resident_bytes(), 0);

        let other = Store::new(StoreSettings::default());
        let meta = RunMeta::of(&f.key, RunState::Finished);
        let run = other.upsert(f.key.clone(), f.dir.clone(), f.source.clone(), meta, 2.0);
        other.ensure_loaded(&run).unwrap();
        assert!(run.read_under_lock.load(Ordering::Relaxed));
        assert_eq!(acc_values(&run).len(), MIN_CACHED_POINTS + 10);
    }

    #[test]
    fn a_restart_reads_the_cache_and_then_only_what_was_appended() {
        let f = fixture(MIN_CACHED_POINTS + 10);
        let (_first, run) = store(&f, true);
        let path = SeriesCache::new(f.state.clone()).path_of(&f.key);
        assert!(path.is_file(), "a large run is saved when first read");
        let saved = contents(&run);

        // Appended after the save, including an unfinished line.
        let more = rows_text(MIN_CACHED_POINTS + 10..MIN_CACHED_POINTS + 20);
        let history = f.dir.join(HISTORY_FILE);
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&history)
            .unwrap();
        file.write_all(more.as_bytes()).unwrap();
        file.write_all(b"{\"_step\": 99999999, \"loss\"").unwrap();
        let (_plain, parsed) = store(&f, false);

        change_middle_value(&f);
        let (_second, restored) = store(&f, true);
        assert_eq!(contents(&restored), contents(&parsed));
        assert_ne!(contents(&restored), saved, "the appended rows were read");
        assert_ne!(
            acc_values(&restored),
            acc_values(&store(&f, false).1),
            "the cache was used"
        );
    }

    #[test]
    fn a_damaged_deleted_or_stale_cache_is_rebuilt_from_the_files() {
        let f = fixture(MIN_CACHED_POINTS + 10);
        let path = SeriesCache::new(f.state.clone()).path_of(&f.key);
        let cases: [(&str, &dyn Fn()); 4] = [
            ("flipped byte", &|| {
                let mut bytes = std::fs::read(&path).unwrap();
                let mid = bytes.len() / 2;
                bytes[mid] ^= 0x40;
                std::fs::write(&path, bytes).unwrap();
            }),
            ("truncated", &|| {
                let bytes = std::fs::read(&path).unwrap();
                std::fs::write(&path, &bytes[..bytes.len() - 100]).unwrap();
            }),
            ("deleted", &|| std::fs::remove_file(&path).unwrap()),
            ("garbage", &|| {
                std::fs::write(&path, b"TLSC garbage").unwrap()
            }),
        ];
        for (what, damage) in cases {
            store(&f, true);
            change_middle_value(&f);
            damage();
            let (_s, rebuilt) = store(&f, true);
            assert_eq!(
                acc_values(&rebuilt),
                acc_values(&store(&f, false).1),
                "{what}: read from the files"
            );
            let bytes = std::fs::read(&path).unwrap();
            let limits = Limits::default();
            assert!(decode(&bytes, limits).is_ok(), "{what}: saved again");
        }
        // A history file replaced by another of the same length: its fingerprint differs.
        store(&f, true);
        let history = f.dir.join(HISTORY_FILE);
        let text = std::fs::read_to_string(&history).unwrap();
        std::fs::write(&history, text.replacen("\"loss\": 1.0", "\"loss\": 2.0", 1)).unwrap();
        let (_s, run) = store(&f, true);
        let h = run.history.lock();
        assert_eq!(h.series_by_key("loss").unwrap().values()[0], 2.0);
    }

    /// A store of `f`'s run that queues its cache saves with no thread taking them yet, the run
    /// loaded: the load answered without saving, and queued the run.
    fn store_saving_later(f: &Fixture) -> (Arc<Store>, Arc<Run>) {
        let saving = Arc::new(Store::new(StoreSettings {
            cache_dir: Some(f.state.clone()),
            ..StoreSettings::default()
        }));
        let meta = RunMeta::of(&f.key, RunState::Finished);
        let run = saving.upsert(f.key.clone(), f.dir.clone(), f.source.clone(), meta, 2.0);
        saving.defer_cache_saves();
        saving.ensure_loaded(&run).unwrap();
        assert!(run.history.lock().cache_is_behind());
        assert!(
            !saving.series_cache().unwrap().path_of(&f.key).exists(),
            "saved on the request's path"
        );
        assert_eq!(saving.queued_cache_saves(), 1);
        (saving, run)
    }

    /// Runs the saving thread over `saving` until `done`, then stops it.
    fn save_until(saving: &Arc<Store>, done: impl Fn() -> bool) {
        use crate::store::cache_saves;
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::time::{Duration, Instant};
        let stop = Arc::new(AtomicBool::new(false));
        let thread = cache_saves::spawn(saving.clone(), stop.clone()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !done() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        stop.store(true, Ordering::Relaxed);
        thread.join().unwrap();
    }

    #[test]
    fn a_loaded_history_is_answered_first_and_saved_by_the_saving_thread() {
        let f = fixture(MIN_CACHED_POINTS);
        let (saving, run) = store_saving_later(&f);
        let cached = saving.series_cache().unwrap().path_of(&f.key);
        save_until(&saving, || cached.exists());
        assert!(cached.exists(), "never saved");
        assert!(!run.history.lock().cache_is_behind());
        assert_eq!(saving.queued_cache_saves(), 0);
        // What was saved is what was loaded.
        let (_again_store, again) = store(&f, true);
        assert_eq!(contents(&again), contents(&run));
    }

    #[test]
    fn a_run_removed_while_its_save_waits_is_not_saved() {
        let f = fixture(MIN_CACHED_POINTS);
        let (saving, _run) = store_saving_later(&f);
        saving.remove(&f.key);
        save_until(&saving, || saving.queued_cache_saves() == 0);
        let cached = saving.series_cache().unwrap().path_of(&f.key);
        assert!(!cached.exists(), "a removed run's cache was written");
    }

    #[test]
    fn damaged_bytes_never_panic() {
        let f = fixture(300);
        let (_s, run) = store(&f, false);
        let bytes = encode(&run.history.lock(), [1, 2]);
        let limits = Limits::default();
        assert!(decode(&bytes, limits).is_ok());
        for cut in (0..bytes.len()).step_by(7) {
            assert!(decode(&bytes[..cut], limits).is_err(), "cut at {cut}");
        }
        // A bad length behind a recomputed checksum is refused without allocating it.
        let mut forged = bytes[..bytes.len() - 8].to_vec();
        // The first series' length follows the last key's text.
        let (last, first_len) = {
            let h = run.history.lock();
            (h.keys().last().unwrap().clone(), h.series(0).len() as u64)
        };
        let at = forged
            .windows(last.len())
            .position(|w| w == last.as_bytes())
            .unwrap()
            + last.len();
        assert_eq!(forged[at..at + 8], first_len.to_le_bytes());
        forged[at..at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        let sum = checksum(&forged);
        forged.extend_from_slice(&sum.to_le_bytes());
        assert!(decode(&forged, limits).is_err());
        // Other caps: rebuilt, since the files may hold keys or lines the cache dropped.
        let other = Limits {
            max_keys: 5,
            ..limits
        };
        assert!(matches!(decode(&bytes, other), Err(Miss::Other)));
    }

    #[test]
    fn small_runs_are_not_saved() {
        let f = fixture(100);
        store(&f, true);
        assert!(!SeriesCache::new(f.state.clone()).path_of(&f.key).exists());
    }
}

#[cfg(test)]
#[allow(
    clippy::print_stdout,
    reason = "a timing probe reports on its standard output"
)]
mod timing {
    use super::*;
    use std::time::Instant;

    /// A wide run's first read: 500 keys × 2,000 rows (the scale bench's `keys` runs, 17 MB),
    /// with values of 5 decimals as the bench writes them, then written in full (the shortest
    /// text that reads back exactly, 16–17 digits, as Python's `json` writes a computed float).
    /// `cargo test --release -p trackline --lib wide_parse_timing -- --ignored --nocapture`
    #[test]
    #[ignore = "a timing probe, not a test"]
    fn wide_parse_timing() {
        for full in [false, true] {
            let mut text = String::new();
            for s in 0..2_000u64 {
                text.push_str(&format!(
                    "{{\"_step\":{s},\"_timestamp\":{:.3},\"_runtime\":{:.3}",
                    1.7e9 + s as f64 * 0.01,
                    s as f64 * 0.01
                ));
                for k in 0..500u64 {
                    let v =
                        2.0 / (1.0 + s as f64 / 5000.0) + ((s * 31 + k * 17) % 1000) as f64 / 1e4;
                    if full {
                        text.push_str(&format!(",\"m/k{k:03}\":{v}"));
                    } else {
                        text.push_str(&format!(",\"m/k{k:03}\":{v:.5}"));
                    }
                }
                text.push_str("}\n");
            }
            for _ in 0..3 {
                let mut h = History::default();
                let t = Instant::now();
                h.ingest(text.as_bytes(), 0.0, "r");
                let s = t.elapsed().as_secs_f64();
                println!(
                    "{}: parsed {:.1} MB in {:.1} ms: {:.0} MB/s, {:.0} ns a value",
                    if full { "full digits" } else { "5 decimals" },
                    text.len() as f64 / 1e6,
                    s * 1e3,
                    text.len() as f64 / 1e6 / s,
                    s * 1e9 / 1e6
                );
            }
        }
    }

    /// `cargo test --release -p trackline --lib cache_load_timing -- --ignored --nocapture`
    #[test]
    #[ignore = "a timing probe, not a test"]
    fn cache_load_timing() {
        let mut h = History::default();
        let mut text = String::new();
        for s in 0..100_000u64 {
            text.push_str(&format!(
                "{{\"_step\":{s},\"_timestamp\":{:.3},\"loss\":{:.5}}}\n",
                1.7e9 + s as f64 * 0.01,
                (s as f64 * 0.001).sin()
            ));
        }
        h.ingest(text.as_bytes(), 0.0, "r");
        h.loaded = true;
        let bytes = encode(&h, [0, 0]);
        let t = Instant::now();
        for _ in 0..20 {
            std::hint::black_box(checksum(&bytes));
        }
        println!("checksum {:.2} ms", t.elapsed().as_secs_f64() * 50.0);
        let t = Instant::now();
        for _ in 0..20 {
            std::hint::black_box(decode(&bytes, Limits::default()).is_ok());
        }
        println!(
            "decode {:.2} ms for {} bytes",
            t.elapsed().as_secs_f64() * 50.0,
            bytes.len()
        );
    }
}
