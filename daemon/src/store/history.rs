//! A run's history in memory: its metric keys, one [`Series`] per key, and how far into
//! `history.jsonl` and `system.jsonl` it has read. [`sync`] reads whatever was appended since
//! through the run's [`RunSource`](crate::source::RunSource), and parses complete lines with the
//! format's [`parse_line`].
//!
//! System metrics (`system/…` keys, sampled by the client every few seconds, without `_step`) live
//! in the same key space; their "step" is the sample's index in `system.jsonl`, so they are best
//! drawn against wall or relative time.
//!
//! What a hostile or broken file can cost is bounded (docs/format.md, "What readers do with bad
//! input"): bytes are read once (an unfinished line is kept, not re-read on every change); a line
//! longer than [`Limits::max_line_bytes`] is dropped as it streams past; a run holds at most
//! [`Limits::max_keys`] keys; a bad `_step` skips its row only; and [`History::memory_bytes`]
//! counts keys as well as points, for the store's memory budget.

mod cache;

pub use cache::{MIN_CACHED_POINTS, Miss, SeriesCache};

use super::media::{self, MediaIndex};
use super::series::{ALLOC_OVERHEAD_BYTES, Series};
use super::{DEFAULT_MAX_KEYS_PER_RUN, DEFAULT_MAX_LINE_BYTES, Run};
use crate::error::Result;
use crate::format::line::{ParseError, RawKey, RowHeader, check_step, parse_line_raw, torn_suffix};
use crate::format::{HISTORY_FILE, SYSTEM_FILE};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Read at most this much per read call.
const CHUNK_BYTES: usize = 4 << 20;

/// An unfinished line's buffer keeps its capacity up to this size once the line is done; a larger
/// one (a rare long line) is given back.
const KEEP_PENDING_CAPACITY: usize = 64 << 10;

/// Bad lines of a run reported one by one; past this, only the 128th, 256th, 512th, … are, so a
/// file of millions of bad lines cannot flood the log.
const BAD_LINES_REPORTED_EACH: u64 = 100;

/// The two append-only files a run's series come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesFile {
    /// `history.jsonl`: rows with a strictly increasing `_step`.
    History,
    /// `system.jsonl`: samples without `_step`; a sample's index is its step.
    System,
}

impl SeriesFile {
    /// The series file called `name`, if it is one.
    pub fn named(name: &str) -> Option<SeriesFile> {
        match name {
            HISTORY_FILE => Some(SeriesFile::History),
            SYSTEM_FILE => Some(SeriesFile::System),
            _ => None,
        }
    }

    pub fn file_name(self) -> &'static str {
        match self {
            SeriesFile::History => HISTORY_FILE,
            SeriesFile::System => SYSTEM_FILE,
        }
    }
}

/// Caps on what one run's history holds (from the store's settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Distinct metric keys of a run; values of further keys are dropped.
    pub max_keys: usize,
    /// Bytes of one line, without its `\n`; a longer line is skipped.
    pub max_line_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_keys: DEFAULT_MAX_KEYS_PER_RUN,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
        }
    }
}

/// How far into one file the history has read.
#[derive(Debug)]
struct Cursor {
    /// Bytes of the file read so far: the next read starts here.
    read_to: u64,
    /// The bytes read after the last `\n`: a line still being written (never longer than the cap).
    pending: Vec<u8>,
    /// Inside a line longer than the cap, already reported: bytes are dropped up to its `\n`.
    skipping: bool,
    rows: u64,
    last_step: f64,
}

impl Default for Cursor {
    fn default() -> Self {
        Cursor {
            read_to: 0,
            pending: Vec::new(),
            skipping: false,
            rows: 0,
            last_step: f64::NEG_INFINITY,
        }
    }
}

/// The keys and series of a run, and what reading rows into them has skipped.
#[derive(Debug, Default)]
struct Columns {
    limits: Limits,
    keys: Vec<String>,
    /// Hashed with foldhash, not SipHash: a wide run's first read looks up every value's key
    /// (500 a row), and SipHash was 5% of it. Still seeded per map, against crafted keys. Keyed by
    /// bytes so that a known key is found without checking its UTF-8 again (`keys` holds the text).
    index: foldhash::HashMap<Box<[u8]>, usize>,
    series: Vec<Series>,
    /// (key index, value) of the row being read.
    scratch: Vec<(usize, f64)>,
    /// For each key, where its value of the row being read is in `scratch` (if that entry is
    /// the key's): a key written twice in a row keeps its last value, as JSON readers do.
    scratch_slots: Vec<u32>,
    /// (key, byte range in the parsed line) of the row's values that may be media references.
    media_scratch: Vec<(String, std::ops::Range<usize>)>,
    /// The run's logged media values (history rows only).
    media: MediaIndex,
    /// Lines that were not valid rows, or started with torn bytes (skipped and reported, the
    /// first [`BAD_LINES_REPORTED_EACH`] one by one).
    bad_lines: u64,
    /// Values not kept because their key came after the run's key cap.
    dropped_values: u64,
    /// Whether the key cap was reported (once per run).
    key_cap_reported: bool,
}

#[derive(Debug)]
pub struct History {
    loaded: bool,
    history: Cursor,
    system: Cursor,
    columns: Columns,
    pub last_used: Instant,
    /// Live subscriptions on this run's series; a subscribed run is never evicted.
    pub subscribers: usize,
    /// Points of the history when it was last saved to or read from the [`SeriesCache`].
    saved_points: usize,
}

impl Default for History {
    fn default() -> Self {
        History::new(Limits::default())
    }
}

/// What one [`sync`] did.
#[derive(Debug, Default)]
pub struct SyncOutcome {
    pub loaded_now: bool,
    /// Whether the keys with points changed: a new key, or a key's first point.
    pub new_keys: bool,
    /// Whether media values were added.
    pub media_grown: bool,
    /// (key index, new length) of every series that grew.
    pub grown: Vec<(usize, u64)>,
    /// Bytes of this run in memory ([`History::memory_bytes`]) before and after, measured under
    /// the same lock.
    pub memory_before: usize,
    pub memory_after: usize,
    /// Whether the cache given holds less than half of the history now
    /// ([`History::cache_is_behind`]): the caller saves it, off the request's path.
    pub cache_behind: bool,
}

impl History {
    pub fn new(limits: Limits) -> Self {
        History {
            loaded: false,
            history: Cursor::default(),
            system: Cursor::default(),
            columns: Columns {
                limits,
                ..Columns::default()
            },
            last_used: Instant::now(),
            subscribers: 0,
            saved_points: 0,
        }
    }

    /// Whether the cache holds less than half of what is in memory now (and the run is large
    /// enough to be worth a cache file): saving then keeps the cost of saves linear in the points.
    pub fn cache_is_behind(&self) -> bool {
        let points = self.resident_points();
        self.loaded
            && !self.history.skipping
            && !self.system.skipping
            && points >= MIN_CACHED_POINTS
            && points >= 2 * self.saved_points
    }

    /// Gives back the growth slack of every series and of the key list.
    pub fn shrink_to_fit(&mut self) {
        let c = &mut self.columns;
        c.series.iter_mut().for_each(Series::shrink_to_fit);
        c.series.shrink_to_fit();
        c.keys.shrink_to_fit();
    }

    /// Whether memory holds points the cache does not.
    pub fn has_unsaved_points(&self) -> bool {
        self.loaded && self.resident_points() > self.saved_points
    }

    pub fn is_loaded(&self) -> bool {
        self.loaded
    }

    fn cursor(&self, file: SeriesFile) -> &Cursor {
        match file {
            SeriesFile::History => &self.history,
            SeriesFile::System => &self.system,
        }
    }

    pub fn rows_if_loaded(&self) -> Option<u64> {
        self.loaded.then_some(self.history.rows)
    }

    pub fn keys(&self) -> &[String] {
        &self.columns.keys
    }

    pub fn key_index(&self, key: &str) -> Option<usize> {
        self.columns.index.get(key.as_bytes()).copied()
    }

    pub fn series(&self, key: usize) -> &Series {
        &self.columns.series[key]
    }

    pub fn series_by_key(&self, key: &str) -> Option<&Series> {
        self.key_index(key).map(|i| &self.columns.series[i])
    }

    /// Lines skipped as bad rows (or as torn starts of lines) since the daemon started.
    pub fn bad_lines(&self) -> u64 {
        self.columns.bad_lines
    }

    /// Values not kept because their key came after the run's key cap.
    pub fn dropped_values(&self) -> u64 {
        self.columns.dropped_values
    }

    /// The run's logged media values.
    pub fn media(&self) -> &MediaIndex {
        &self.columns.media
    }

    pub fn resident_points(&self) -> usize {
        self.columns.series.iter().map(Series::len).sum()
    }

    /// Bytes this history holds in memory: every series' columns and pyramid, every key (twice:
    /// in the key list and the index, each with the allocator's overhead), the per-key `Series`
    /// and hash-table slots, and unfinished lines. O(keys), and the keys are capped.
    pub fn memory_bytes(&self) -> usize {
        let c = &self.columns;
        let series: usize = c.series.iter().map(Series::memory_bytes).sum();
        let key_text: usize = c
            .keys
            .iter()
            .map(|k| 2 * (k.capacity() + ALLOC_OVERHEAD_BYTES))
            .sum();
        // hashbrown keeps 1 control byte per bucket and about 8 buckets per 7 entries.
        let index_slot = size_of::<(Box<[u8]>, usize)>() + 1;
        let tables = c.keys.capacity() * size_of::<String>()
            + (c.series.capacity() - c.series.len()) * size_of::<Series>()
            + c.index.capacity() * index_slot * 8 / 7
            + c.scratch_slots.capacity() * size_of::<u32>();
        let pending = self.history.pending.capacity() + self.system.pending.capacity();
        series + key_text + tables + pending + c.media.memory_bytes()
    }

    /// Drops the series (they are rebuilt from disk on next use); returns the bytes freed.
    pub fn unload(&mut self) -> usize {
        let freed = self.memory_bytes();
        *self = self.emptied();
        freed
    }

    /// What [`History::unload`] leaves: no points, this history's limits, counts and bookkeeping.
    fn emptied(&self) -> History {
        let c = &self.columns;
        let columns = Columns {
            limits: c.limits,
            bad_lines: c.bad_lines,
            dropped_values: c.dropped_values,
            key_cap_reported: c.key_cap_reported,
            ..Columns::default()
        };
        History {
            columns,
            last_used: self.last_used,
            subscribers: self.subscribers,
            ..History::new(c.limits)
        }
    }

    /// Ingests bytes of `history.jsonl` that follow those ingested before (see [`Self::feed`]).
    pub fn ingest(&mut self, bytes: &[u8], fallback_wall: f64, run: &str) {
        self.feed(SeriesFile::History, bytes, fallback_wall, run);
    }

    /// Ingests `bytes`, the next bytes of series file `from` after those fed before: every line
    /// they complete becomes a row; the unfinished last line is kept until its `\n` comes, so no
    /// byte is read twice. A line longer than the cap is reported once and dropped, including the
    /// rest of it still to come. `fallback_wall` is used for rows without `_timestamp`.
    pub fn feed(&mut self, from: SeriesFile, bytes: &[u8], fallback_wall: f64, run: &str) {
        let (cursor, columns) = match from {
            SeriesFile::History => (&mut self.history, &mut self.columns),
            SeriesFile::System => (&mut self.system, &mut self.columns),
        };
        let ctx = LineContext {
            from,
            fallback_wall,
            run,
        };
        columns.feed(cursor, bytes, &ctx);
    }
}

/// Where lines come from, to read and report them.
struct LineContext<'a> {
    from: SeriesFile,
    fallback_wall: f64,
    run: &'a str,
}

impl Columns {
    fn feed(&mut self, cursor: &mut Cursor, mut data: &[u8], ctx: &LineContext<'_>) {
        let max = self.limits.max_line_bytes;
        // The file offset of `data[0]`.
        let mut at = cursor.read_to;
        cursor.read_to += data.len() as u64;
        if cursor.skipping {
            let Some(nl) = memchr(b'\n', data) else {
                return;
            };
            cursor.skipping = false;
            data = &data[nl + 1..];
            at += nl as u64 + 1;
        }
        if !cursor.pending.is_empty() {
            let line_start = at - cursor.pending.len() as u64;
            let Some(nl) = memchr(b'\n', data) else {
                if cursor.pending.len() + data.len() > max {
                    self.too_long(line_start, ctx);
                    cursor.pending = Vec::new();
                    cursor.skipping = true;
                } else {
                    cursor.pending.extend_from_slice(data);
                }
                return;
            };
            let mut line = std::mem::take(&mut cursor.pending);
            if line.len() + nl > max {
                self.too_long(line_start, ctx);
                line = Vec::new();
            } else {
                line.extend_from_slice(&data[..nl]);
                self.line(cursor, &line, line_start, ctx);
                line.clear();
                if line.capacity() > KEEP_PENDING_CAPACITY {
                    line = Vec::new();
                }
            }
            cursor.pending = line;
            data = &data[nl + 1..];
            at += nl as u64 + 1;
        }
        let mut start = 0;
        while let Some(nl) = memchr(b'\n', &data[start..]) {
            let line = &data[start..start + nl];
            let line_start = at + start as u64;
            if line.len() > max {
                self.too_long(line_start, ctx);
            } else {
                self.line(cursor, line, line_start, ctx);
            }
            start += nl + 1;
        }
        let rest = &data[start..];
        if rest.len() > max {
            self.too_long(at + start as u64, ctx);
            cursor.skipping = true;
        } else {
            cursor.pending.extend_from_slice(rest);
        }
    }

    fn too_long(&mut self, line_start: u64, ctx: &LineContext<'_>) {
        if self.count_bad_line() {
            tracing::warn!(
                run = ctx.run,
                file = ctx.from.file_name(),
                byte = line_start,
                max_line_bytes = self.limits.max_line_bytes,
                bad_lines = self.bad_lines,
                "skipping a line longer than the cap"
            );
        }
    }

    /// Counts one more bad line; answers whether to report it (see [`BAD_LINES_REPORTED_EACH`]).
    fn count_bad_line(&mut self) -> bool {
        self.bad_lines += 1;
        self.bad_lines <= BAD_LINES_REPORTED_EACH || self.bad_lines.is_power_of_two()
    }

    /// Reads one complete line (without its `\n`) that starts at byte `line_start` of the file.
    fn line(&mut self, cursor: &mut Cursor, line: &[u8], line_start: u64, ctx: &LineContext<'_>) {
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let (run, file) = (ctx.run, ctx.from.file_name());
        let keys_before = self.keys.len();
        let mut body = line;
        let (header, dropped) = match self.parse(line) {
            Ok(parsed) => parsed,
            Err(e) => {
                self.forget_keys_from(keys_before);
                let report = self.count_bad_line();
                // A torn write followed by an appended line: keep the whole object at the end.
                let recovered =
                    torn_suffix(line).and_then(|at| Some((at, self.parse(&line[at..]).ok()?)));
                let bad_lines = self.bad_lines;
                match recovered {
                    Some((skipped, parsed)) => {
                        body = &line[skipped..];
                        if report {
                            tracing::warn!(
                                run,
                                file,
                                byte = line_start,
                                skipped,
                                bad_lines,
                                "skipping the torn start of a line ({e}); keeping the object after it"
                            );
                        }
                        parsed
                    }
                    None => {
                        self.forget_keys_from(keys_before);
                        if report {
                            tracing::warn!(
                                run,
                                file,
                                byte = line_start,
                                bad_lines,
                                "skipping bad line: {e}"
                            );
                        }
                        return;
                    }
                }
            }
        };
        let step = match (ctx.from, header.step) {
            (SeriesFile::History, Some(step)) => step,
            _ => cursor.rows as f64,
        };
        let refused = check_step(step)
            .err()
            .or((step <= cursor.last_step).then_some("_step did not increase"));
        if let Some(why) = refused {
            self.forget_keys_from(keys_before);
            if self.count_bad_line() {
                let bad_lines = self.bad_lines;
                tracing::warn!(
                    run,
                    file,
                    byte = line_start,
                    step,
                    bad_lines,
                    "skipping row: {why}"
                );
            }
            return;
        }
        if dropped > 0 {
            self.dropped_values += dropped;
            if !self.key_cap_reported {
                self.key_cap_reported = true;
                tracing::warn!(
                    run,
                    file,
                    byte = line_start,
                    max_keys = self.limits.max_keys,
                    "the run has reached its cap of metric keys: values of new keys are dropped from here on (existing keys keep ingesting)"
                );
            }
        }
        cursor.last_step = step;
        let wall = header.timestamp.unwrap_or(ctx.fallback_wall);
        self.series.resize_with(self.keys.len(), Series::new);
        for &(i, value) in &self.scratch {
            self.series[i].push(step, wall, value);
        }
        if matches!(ctx.from, SeriesFile::History) {
            self.keep_media(body, step, wall, ctx);
        }
        cursor.rows += 1;
    }

    /// Adds the row's media references (found by [`Self::parse`] in `body`) to the media index.
    fn keep_media(&mut self, body: &[u8], step: f64, wall: f64, ctx: &LineContext<'_>) {
        let max_keys = self.limits.max_keys;
        for (key, range) in std::mem::take(&mut self.media_scratch) {
            let Some(raw) = body.get(range) else {
                continue;
            };
            match self.media.add(&key, step, wall, raw, max_keys) {
                Ok(()) | Err(media::Refused::NotMedia) => {}
                Err(media::Refused::OtherKind(kind)) => tracing::debug!(
                    run = ctx.run,
                    key,
                    step,
                    "skipping a media value: the key holds {kind:?} values"
                ),
                Err(why) => {
                    if self.media.report_cap_once() {
                        tracing::warn!(
                            run = ctx.run,
                            key,
                            step,
                            dropped = self.media.dropped(),
                            "media values of this run are dropped from here on ({why:?}): caps are \
                             {} bytes a value, {} bytes a run, {max_keys} keys",
                            trackline_shared::media::MAX_MEDIA_VALUE_BYTES,
                            media::MAX_MEDIA_BYTES_PER_RUN
                        );
                    }
                }
            }
        }
    }

    /// Parses a line into `scratch`, adding its new keys while under the cap. Answers the row's
    /// header and how many values were dropped at the cap; on an error the caller forgets the
    /// keys it added.
    fn parse(&mut self, line: &[u8]) -> std::result::Result<(RowHeader, u64), ParseError> {
        let (keys, index, scratch) = (&mut self.keys, &mut self.index, &mut self.scratch);
        let slots = &mut self.scratch_slots;
        let media_scratch = &mut self.media_scratch;
        let max_keys = self.limits.max_keys;
        let mut dropped = 0u64;
        scratch.clear();
        media_scratch.clear();
        let mut nested = |key: RawKey<'_>, range: std::ops::Range<usize>| {
            if line.get(range.clone()).is_some_and(media::looks_like_media) {
                media_scratch.push((key.into_str()?.into_owned(), range));
            }
            Ok(())
        };
        let header = parse_line_raw(
            line,
            |key, value| {
                let i = match index.get(key.bytes()) {
                    Some(&i) => i,
                    None if keys.len() < max_keys => {
                        let i = keys.len();
                        let text = key.into_str()?.into_owned();
                        index.insert(text.as_bytes().into(), i);
                        keys.push(text);
                        i
                    }
                    None => {
                        dropped += 1;
                        return Ok(());
                    }
                };
                if i >= slots.len() {
                    slots.resize(i + 1, u32::MAX);
                }
                let slot = slots[i] as usize;
                match scratch.get_mut(slot) {
                    Some(seen) if seen.0 == i => seen.1 = value,
                    _ => {
                        slots[i] = scratch.len() as u32;
                        scratch.push((i, value));
                    }
                }
                Ok(())
            },
            &mut nested,
        )?;
        Ok((header, dropped))
    }

    /// Forgets the keys added since there were `len` (by a line that was then refused).
    fn forget_keys_from(&mut self, len: usize) {
        for key in self.keys.drain(len..) {
            self.index.remove(key.as_bytes());
        }
    }
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

/// Both series files.
pub const SERIES_FILES: [SeriesFile; 2] = [SeriesFile::History, SeriesFile::System];

/// Brings a run's in-memory history up to date with its series files: loads them whole if they
/// are not in memory, else reads only what was appended. A file that shrank is read again from the
/// start.
pub fn sync(run: &Arc<Run>) -> Result<SyncOutcome> {
    sync_files(run, &SERIES_FILES, None)
}

/// [`sync`] of the series files in `files` only (the ones a change was seen in); a history not in
/// memory is loaded from both, through `cache` when it holds a valid copy (then only what was
/// appended since is parsed); [`SyncOutcome::cache_behind`] says when it is worth saving.
pub fn sync_files(
    run: &Arc<Run>,
    files: &[SeriesFile],
    cache: Option<&SeriesCache>,
) -> Result<SyncOutcome> {
    let mut outcome = SyncOutcome::default();
    let mut h = run.history.lock();
    h.last_used = Instant::now();
    outcome.memory_before = h.memory_bytes();
    let files = if h.loaded { files } else { &SERIES_FILES };
    if !h.loaded {
        run.read_under_lock.store(true, Ordering::Relaxed);
    }
    let result = sync_locked(run, &mut h, files, cache, &mut outcome, None);
    outcome.cache_behind = result.is_ok() && cache.is_some() && h.cache_is_behind();
    outcome.memory_after = h.memory_bytes();
    result.map(|()| outcome)
}

/// [`sync_files`] of a run not in memory, for the warm-up: its files (or cache) are read into a
/// history of its own without the run's lock, put in place only if the run is still not loaded.
/// A request for the run meanwhile loads it itself, at its own priority, instead of waiting for
/// the warm-up's lower one: with training on the other core a `nice` 10 thread gets about a tenth
/// of a core, so a wide run's ~100 ms parse could keep a request waiting up to a second; and
/// this read then stops at its next chunk ([`Run::read_under_lock`]), not to take the machine
/// twice for the run. `None` when the run was loaded before or meanwhile (what was read is dropped).
pub fn load_aside(run: &Arc<Run>, cache: Option<&SeriesCache>) -> Result<Option<SyncOutcome>> {
    let superseded = &run.read_under_lock;
    let mut read = {
        let h = run.history.lock();
        if h.loaded || superseded.load(Ordering::Relaxed) {
            return Ok(None);
        }
        h.emptied()
    };
    let mut outcome = SyncOutcome::default();
    sync_locked(
        run,
        &mut read,
        &SERIES_FILES,
        cache,
        &mut outcome,
        Some(superseded),
    )?;
    let mut h = run.history.lock();
    if h.loaded || superseded.load(Ordering::Relaxed) {
        return Ok(None);
    }
    read.last_used = Instant::now();
    read.subscribers = h.subscribers;
    outcome.memory_before = h.memory_bytes();
    *h = read;
    outcome.cache_behind = cache.is_some() && h.cache_is_behind();
    outcome.memory_after = h.memory_bytes();
    Ok(Some(outcome))
}

/// Saves a history to the cache; a failure is logged and changes nothing else (the cache is only
/// ever a shortcut).
pub fn save_to_cache(run: &Run, h: &mut History, cache: &SeriesCache) {
    if let Some(snapshot) = snapshot_for_cache(run, h, cache) {
        snapshot.write(run, cache);
    }
}

/// A history's cache file, taken under the run's lock by [`snapshot_for_cache`] and written by
/// [`CacheSnapshot::write`] once the lock is released.
pub struct CacheSnapshot {
    bytes: Vec<u8>,
    points: usize,
    started: Instant,
}

/// The bytes of `h`'s cache file. The history counts its points as saved from here on, so a
/// failure (logged; `None`) is not tried again before the run doubles.
pub fn snapshot_for_cache(
    run: &Run,
    h: &mut History,
    cache: &SeriesCache,
) -> Option<CacheSnapshot> {
    let started = Instant::now();
    h.saved_points = h.resident_points();
    match cache.snapshot(run, h) {
        Ok(bytes) => Some(CacheSnapshot {
            bytes,
            points: h.saved_points,
            started,
        }),
        Err(e) => {
            tracing::warn!(project = %run.key.project, run = %run.key.run, "cannot save the series cache: {e}");
            None
        }
    }
}

impl CacheSnapshot {
    /// Writes the snapshot of `run`'s history; a failure is logged.
    pub fn write(self, run: &Run, cache: &SeriesCache) {
        match cache.write(&run.key, &self.bytes) {
            Ok(()) => tracing::debug!(
                project = %run.key.project,
                run = %run.key.run,
                points = self.points,
                elapsed_ms = self.started.elapsed().as_millis() as u64,
                "saved series cache"
            ),
            Err(e) => {
                tracing::warn!(project = %run.key.project, run = %run.key.run, "cannot save the series cache: {e}");
            }
        }
    }
}

/// Feeds `bytes`, which the daemon itself has just appended at `offset` of the run's series file
/// `from` (remote ingest, right after writing them), straight into the history when it has read
/// that file exactly up to `offset`, so they need not be read back from disk. Otherwise (not
/// loaded, not yet that far, or already past them) nothing happens and [`sync`] reads them from
/// the file as usual: either way every byte is read once, and the file stays what the history
/// follows. `None` when nothing was fed.
pub fn feed_written(
    run: &Arc<Run>,
    from: SeriesFile,
    offset: u64,
    bytes: &[u8],
) -> Option<SyncOutcome> {
    let mut h = run.history.lock();
    if bytes.is_empty() || !h.loaded || h.cursor(from).read_to != offset {
        return None;
    }
    let mut outcome = SyncOutcome::default();
    h.last_used = Instant::now();
    outcome.memory_before = h.memory_bytes();
    let before = Growth::before(&h);
    h.feed(from, bytes, crate::util::now_secs(), &run.key.run);
    before.note(&h, &mut outcome);
    outcome.memory_after = h.memory_bytes();
    Some(outcome)
}

/// A history's keys and series lengths before it reads more, to tell what grew.
struct Growth {
    keys: usize,
    lens: Vec<usize>,
    media: u64,
}

impl Growth {
    fn before(h: &History) -> Growth {
        Growth {
            keys: h.keys().len(),
            lens: h.columns.series.iter().map(Series::len).collect(),
            media: h.columns.media.total(),
        }
    }

    /// Notes in `outcome` the new keys and every series that grew since.
    fn note(self, h: &History, outcome: &mut SyncOutcome) {
        outcome.new_keys = h.keys().len() > self.keys;
        outcome.media_grown = h.columns.media.total() > self.media;
        for (i, s) in h.columns.series.iter().enumerate() {
            let before = self.lens.get(i).copied().unwrap_or(0);
            if s.len() > before {
                outcome.grown.push((i, s.len() as u64));
                outcome.new_keys |= before == 0;
            }
        }
    }
}

fn sync_locked(
    run: &Run,
    h: &mut History,
    files: &[SeriesFile],
    cache: Option<&SeriesCache>,
    outcome: &mut SyncOutcome,
    stop: Option<&AtomicBool>,
) -> Result<()> {
    let mut lens = Vec::with_capacity(files.len());
    for &file in files {
        lens.push((file, file_len(run, file)?));
    }
    // A file that shrank was replaced: start the whole run over.
    for &(file, len) in &lens {
        let read_to = h.cursor(file).read_to;
        if h.loaded && read_to > 0 && len < read_to {
            tracing::warn!(run = %run.key.run, file = file.file_name(), "file shrank; reading the run again");
            h.unload();
        }
    }
    if !h.loaded && lens.len() < SERIES_FILES.len() {
        // Unloaded by a shrink: the whole run is read again, both files.
        return sync_locked(run, h, &SERIES_FILES, cache, outcome, stop);
    }
    let before = Growth::before(h);
    let started = Instant::now();
    if !h.loaded {
        outcome.loaded_now = true;
        if let Some(cache) = cache {
            restore_from_cache(run, h, cache);
        }
        h.loaded = true;
    }
    for (file, len) in lens {
        // Nothing new since the length was taken (bytes fed by `feed_written`, say): not opened.
        if len > h.cursor(file).read_to {
            read_appended(run, h, file, stop)?;
        }
    }
    if stop.is_some_and(|stop| stop.load(Ordering::Relaxed)) {
        // Stopped part way: what was read is dropped.
        return Ok(());
    }
    if outcome.loaded_now {
        // Read whole: what grows from here on is the tail, so the growth slack goes back.
        h.shrink_to_fit();
        tracing::debug!(
            project = %run.key.project,
            run = %run.key.run,
            points = h.resident_points(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            thread = std::thread::current().name().unwrap_or(""),
            "read a run's history"
        );
    }
    before.note(h, outcome);
    Ok(())
}

/// Puts the history saved in `cache` in place of the empty `h`, when it is valid (see
/// [`cache`]); otherwise `h` stays empty and the files are parsed from the start.
fn restore_from_cache(run: &Run, h: &mut History, cache: &SeriesCache) {
    let started = Instant::now();
    match cache.load(run, h.columns.limits) {
        Ok(mut saved) => {
            saved.saved_points = saved.resident_points();
            saved.last_used = h.last_used;
            saved.subscribers = h.subscribers;
            tracing::debug!(
                project = %run.key.project,
                run = %run.key.run,
                points = saved.saved_points,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "read series cache"
            );
            *h = saved;
        }
        Err(Miss::Missing) => {}
        Err(why) => tracing::info!(
            project = %run.key.project,
            run = %run.key.run,
            "rebuilding the series cache from the run's files: {why}"
        ),
    }
}

/// The length of one of the run's series files (0 when it does not exist).
fn file_len(run: &Run, file: SeriesFile) -> Result<u64> {
    let stat = run.source.stat(&run.key, file.file_name())?;
    Ok(stat.map_or(0, |s| s.len))
}

/// Reads what was appended to one series file since the history's cursor, each byte once.
/// Reads what was appended to `file` since `h` last read it; stops early (`h` then holds a part)
/// once `stop` is set.
fn read_appended(
    run: &Run,
    h: &mut History,
    file: SeriesFile,
    stop: Option<&AtomicBool>,
) -> Result<()> {
    let offset = h.cursor(file).read_to;
    let Some(mut opened) = run.source.open(&run.key, file.file_name(), offset)? else {
        return Ok(());
    };
    if opened.len <= offset {
        return Ok(());
    }
    let fallback_wall = crate::util::now_secs();
    let mut remaining = opened.len - offset;
    let mut buf = vec![
        0u8;
        usize::try_from(remaining)
            .unwrap_or(CHUNK_BYTES)
            .min(CHUNK_BYTES)
    ];
    while remaining > 0 {
        if stop.is_some_and(|stop| stop.load(Ordering::Relaxed)) {
            return Ok(());
        }
        let want = usize::try_from(remaining)
            .unwrap_or(CHUNK_BYTES)
            .min(CHUNK_BYTES);
        let got = opened.read_up_to(&mut buf[..want])?;
        if got == 0 {
            break;
        }
        remaining -= got as u64;
        h.feed(file, &buf[..got], fallback_wall, &run.key.run);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(limits: Limits) -> History {
        History::new(limits)
    }

    fn feed(h: &mut History, bytes: &str) {
        h.ingest(bytes.as_bytes(), 1.7e9, "r");
    }

    fn points(h: &History, key: &str) -> Vec<(f64, f64)> {
        let s = h.series_by_key(key).unwrap();
        s.steps()
            .to_vec()
            .into_iter()
            .zip(s.values().iter().copied())
            .collect()
    }

    #[test]
    fn a_bad_step_skips_its_row_and_keeps_later_rows() {
        let mut h = History::default();
        feed(
            &mut h,
            concat!(
                "{\"_step\": 0, \"a\": 0}\n",
                "{\"_step\": NaN, \"a\": 100, \"ghost\": 1}\n",
                "{\"_step\": Infinity, \"a\": 101}\n",
                "{\"_step\": -Infinity, \"a\": 102}\n",
                "{\"_step\": -1, \"a\": 103}\n",
                "{\"_step\": 1.5, \"a\": 104}\n",
                "{\"_step\": 1e400, \"a\": 105}\n",
                "{\"_step\": 9007199254740993, \"a\": 106}\n",
                "{\"_step\": 1, \"a\": 1, \"new\": 7}\n",
                "{\"_step\": 1, \"a\": 107}\n",
                "{\"_step\": 2, \"a\": 2, \"big\": 1e400, \"neg\": -1",
            ),
        );
        feed(&mut h, &format!("{}}}\n", "0".repeat(400)));
        assert_eq!(points(&h, "a"), [(0.0, 0.0), (1.0, 1.0), (2.0, 2.0)]);
        assert_eq!(points(&h, "new"), [(1.0, 7.0)]);
        assert_eq!(points(&h, "big"), [(2.0, f64::INFINITY)]);
        assert_eq!(points(&h, "neg"), [(2.0, f64::NEG_INFINITY)]);
        // A refused row adds no key.
        assert_eq!(h.key_index("ghost"), None);
        assert_eq!(h.keys(), ["a", "new", "big", "neg"]);
        assert_eq!(h.bad_lines(), 8);
        assert_eq!(h.history.rows, 3);
    }

    /// Keys are looked up by their bytes; a new key must still be UTF-8, or its row is refused
    /// whole, and a known key written with an escape is the same key (the row's last value of a
    /// key is the one kept).
    #[test]
    fn a_key_that_is_not_utf8_refuses_its_row() {
        let mut h = History::default();
        h.ingest(b"{\"_step\": 0, \"a\": 1, \"\xff\": 2}\n", 0.0, "r");
        h.ingest(b"{\"_step\": 0, \"b\": 1, \"b\": 2, \"b\": 3}\n", 0.0, "r");
        h.ingest(
            b"{\"_step\": 1, \"a\": 3, \"\\u0061\": 4, \"\xc3\xa9\": 5}\n",
            0.0,
            "r",
        );
        assert_eq!(h.bad_lines(), 1);
        assert_eq!(points(&h, "a"), [(1.0, 4.0)]);
        assert_eq!(points(&h, "é"), [(1.0, 5.0)]);
        assert_eq!(points(&h, "b"), [(0.0, 3.0)]);
        assert_eq!(h.keys(), ["b", "a", "é"]);
    }

    #[test]
    fn an_unfinished_line_is_kept_until_its_newline() {
        let mut h = History::default();
        let pieces = [
            "{\"_st",
            "ep\": 0, \"a\"",
            ": 1}",
            "\n{\"_step\": 1,",
            " \"a\": 2}\n",
        ];
        for piece in pieces {
            feed(&mut h, piece);
        }
        assert_eq!(points(&h, "a"), [(0.0, 1.0), (1.0, 2.0)]);
        assert_eq!(h.history.read_to, pieces.concat().len() as u64);
        assert!(h.history.pending.is_empty());
        assert_eq!(h.bad_lines(), 0);
    }

    #[test]
    fn a_line_over_the_cap_is_reported_once_and_skipped() {
        let limits = Limits {
            max_line_bytes: 64,
            ..Limits::default()
        };
        let mut h = history(limits);
        feed(&mut h, "{\"_step\": 0, \"a\": 0}\n{\"_step\": 1, \"s\": \"");
        // It grows past the cap while unfinished: from then on its bytes are dropped, not kept.
        for _ in 0..50 {
            feed(&mut h, "xxxxxxxxxx");
            assert!(h.history.pending.len() <= 64);
        }
        assert!(h.history.skipping && h.history.pending.is_empty());
        assert_eq!(h.bad_lines(), 1);
        feed(&mut h, "\", \"a\": 9}\n{\"_step\": 2, \"a\": 2}\n");
        assert!(!h.history.skipping);
        // A complete long line in one piece, and one exactly at the cap (kept).
        let long = format!(
            "{{\"_step\": 3, \"a\": 3, \"s\": \"{}\"}}\n",
            "y".repeat(64)
        );
        let at_cap = format!(
            "{{\"_step\": 4, \"a\": 4, \"s\": \"{}\"}}\n",
            "z".repeat(35)
        );
        assert_eq!(at_cap.len(), 65);
        feed(&mut h, &format!("{long}{at_cap}"));
        assert_eq!(h.bad_lines(), 2);
        assert_eq!(points(&h, "a"), [(0.0, 0.0), (2.0, 2.0), (4.0, 4.0)]);
        // A long line that was pending when its newline came is reported once too.
        feed(
            &mut h,
            &format!("{{\"_step\": 5, \"s\": \"{}", "w".repeat(40)),
        );
        feed(
            &mut h,
            &format!("{}\"}}\n{{\"_step\": 6, \"a\": 6}}\n", "w".repeat(40)),
        );
        assert_eq!(h.bad_lines(), 3);
        assert_eq!(points(&h, "a").last(), Some(&(6.0, 6.0)));
    }

    /// A client killed mid-line leaves a torn prefix; a raw append then adds a whole line right
    /// after it. Whatever byte the prefix was cut at, the appended row is kept exactly once.
    #[test]
    fn a_torn_prefix_never_loses_the_appended_line() {
        let good = r#"{"_step": 5, "_timestamp": 1.5e9, "loss": 0.25, "img": {"_type": "image-file", "path": "media/x{1}.png"}, "note": "a\"b}", "ok": true}"#;
        let appended = "{\"_step\": 6, \"loss\": 0.125, \"acc\": 1}\n";
        for cut in 0..=good.len() {
            for split in [false, true] {
                let mut h = History::default();
                feed(&mut h, "{\"_step\": 4, \"loss\": 0.5}\n");
                if split {
                    feed(&mut h, &good[..cut]);
                    feed(&mut h, appended);
                } else {
                    feed(&mut h, &format!("{}{appended}", &good[..cut]));
                }
                let at = format!("cut at {cut}, split {split}: {:?}", &good[..cut]);
                assert_eq!(points(&h, "loss"), [(4.0, 0.5), (6.0, 0.125)], "{at}");
                assert_eq!(points(&h, "acc"), [(6.0, 1.0)], "{at}");
                assert_eq!(h.history.rows, 2, "{at}");
                assert_eq!(h.bad_lines(), u64::from(cut > 0), "{at}");
                assert!(h.key_index("ok").is_none(), "{at}");
            }
        }
    }

    #[test]
    fn keys_past_the_cap_are_dropped_and_existing_keys_keep_ingesting() {
        let mut h = history(Limits {
            max_keys: 3,
            ..Limits::default()
        });
        feed(&mut h, "{\"_step\": 0, \"a\": 1, \"b\": 2}\n");
        feed(&mut h, "{\"_step\": 1, \"c\": 3, \"d\": 4, \"a\": 5}\n");
        feed(&mut h, "{\"_step\": 2, \"e\": 6, \"b\": 7}\n");
        assert_eq!(h.keys(), ["a", "b", "c"]);
        assert_eq!(points(&h, "a"), [(0.0, 1.0), (1.0, 5.0)]);
        assert_eq!(points(&h, "b"), [(0.0, 2.0), (2.0, 7.0)]);
        assert_eq!(h.dropped_values(), 2);
        assert_eq!(h.history.rows, 3);
        assert_eq!(h.bad_lines(), 0);
        // Unloading keeps what was reported, so the cap is not reported again on reload.
        h.unload();
        assert!(h.columns.key_cap_reported && h.keys().is_empty());
        assert_eq!(h.memory_bytes(), 0);
    }

    #[test]
    fn a_flood_of_bad_lines_is_reported_thinly() {
        let mut columns = Columns::default();
        let reported = (0..10_000).filter(|_| columns.count_bad_line()).count();
        // The first 100 one by one, then the 128th, 256th, …, 8192nd.
        assert_eq!(reported, 100 + 7);
        assert_eq!(columns.bad_lines, 10_000);
    }

    #[test]
    fn memory_counts_keys_as_well_as_points() {
        let mut h = History::default();
        feed(&mut h, "{\"_step\": 0, \"a\": 1}\n");
        let one_key = h.memory_bytes();
        let mut row = String::from("{\"_step\": 1");
        for k in 0..1000 {
            row.push_str(&format!(", \"key number {k}\": 1"));
        }
        feed(&mut h, &format!("{row}}}\n"));
        let per_key = (h.memory_bytes() - one_key) / 1000;
        // Each new key holds its text twice, a Series and one point's first allocations.
        assert!(per_key > 300, "{per_key} bytes a key");
        assert_eq!(h.resident_points(), 1001);
    }
}
