//! A run's history in memory: its metric keys, one [`Series`] per key, and how far into
//! `history.jsonl` and `system.jsonl` it has read. [`sync`] reads whatever was appended since,
//! complete lines only, through the run's [`RunSource`](crate::source::RunSource), and parses
//! them with the format's [`parse_line`].
//!
//! System metrics (`system/…` keys, sampled by the client every few seconds, without `_step`) live
//! in the same key space; their "step" is the sample's index in `system.jsonl`, so they are best
//! drawn against wall or relative time.

use super::Run;
use super::series::Series;
use crate::error::Result;
use crate::format::line::parse_line;
use crate::format::{HISTORY_FILE, SYSTEM_FILE};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// Read at most this much per read call; a torn tail is kept for the next sync.
const CHUNK_BYTES: usize = 4 << 20;

/// The two append-only files a run's series come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesFile {
    /// `history.jsonl`: rows with a strictly increasing `_step`.
    History,
    /// `system.jsonl`: samples without `_step`; a sample's index is its step.
    System,
}

impl SeriesFile {
    pub fn file_name(self) -> &'static str {
        match self {
            SeriesFile::History => HISTORY_FILE,
            SeriesFile::System => SYSTEM_FILE,
        }
    }
}

/// How far into one file the history has read.
#[derive(Debug, Clone, Copy)]
struct Cursor {
    /// Bytes consumed: always just after a `\n`.
    offset: u64,
    rows: u64,
    last_step: f64,
}

impl Default for Cursor {
    fn default() -> Self {
        Cursor {
            offset: 0,
            rows: 0,
            last_step: f64::NEG_INFINITY,
        }
    }
}

#[derive(Debug)]
pub struct History {
    loaded: bool,
    history: Cursor,
    system: Cursor,
    /// Lines that were not valid rows (skipped and reported).
    pub bad_lines: u64,
    keys: Vec<String>,
    index: HashMap<String, usize>,
    series: Vec<Series>,
    pub last_used: Instant,
    /// Live subscriptions on this run's series; a subscribed run is never evicted.
    pub subscribers: usize,
}

impl Default for History {
    fn default() -> Self {
        History {
            loaded: false,
            history: Cursor::default(),
            system: Cursor::default(),
            bad_lines: 0,
            keys: Vec::new(),
            index: HashMap::new(),
            series: Vec::new(),
            last_used: Instant::now(),
            subscribers: 0,
        }
    }
}

/// What one [`sync`] did.
#[derive(Debug, Default)]
pub struct SyncOutcome {
    pub loaded_now: bool,
    pub new_keys: bool,
    /// (key index, new length) of every series that grew.
    pub grown: Vec<(usize, u64)>,
    /// Points of this run in memory before and after, measured under the same lock.
    pub resident_before: usize,
    pub resident_after: usize,
}

impl History {
    pub fn is_loaded(&self) -> bool {
        self.loaded
    }

    fn cursor(&self, file: SeriesFile) -> Cursor {
        match file {
            SeriesFile::History => self.history,
            SeriesFile::System => self.system,
        }
    }

    pub fn rows_if_loaded(&self) -> Option<u64> {
        self.loaded.then_some(self.history.rows)
    }

    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    pub fn key_index(&self, key: &str) -> Option<usize> {
        self.index.get(key).copied()
    }

    pub fn series(&self, key: usize) -> &Series {
        &self.series[key]
    }

    pub fn series_by_key(&self, key: &str) -> Option<&Series> {
        self.key_index(key).map(|i| &self.series[i])
    }

    pub fn resident_points(&self) -> usize {
        self.series.iter().map(Series::len).sum()
    }

    /// Drops the series (they are rebuilt from disk on next use); returns the points freed.
    pub fn unload(&mut self) -> usize {
        let freed = self.resident_points();
        let (used, subscribers, bad) = (self.last_used, self.subscribers, self.bad_lines);
        *self = History {
            last_used: used,
            subscribers,
            bad_lines: bad,
            ..History::default()
        };
        freed
    }

    /// Ingests the complete `history.jsonl` lines at the start of `chunk`; returns the bytes
    /// consumed. `fallback_wall` is used for rows without `_timestamp`.
    pub fn ingest(&mut self, chunk: &[u8], fallback_wall: f64, run: &str) -> usize {
        self.ingest_from(SeriesFile::History, chunk, fallback_wall, run)
    }

    /// Ingests the complete lines of series file `from` at the start of `chunk`; returns the bytes
    /// consumed.
    pub fn ingest_from(
        &mut self,
        from: SeriesFile,
        chunk: &[u8],
        fallback_wall: f64,
        run: &str,
    ) -> usize {
        let mut cursor = match from {
            SeriesFile::History => self.history,
            SeriesFile::System => self.system,
        };
        let mut consumed = 0;
        let mut scratch: Vec<(usize, f64)> = Vec::new();
        while let Some(nl) = memchr(b'\n', &chunk[consumed..]) {
            let line = &chunk[consumed..consumed + nl];
            let line_start = cursor.offset + consumed as u64;
            consumed += nl + 1;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            scratch.clear();
            let (keys, index) = (&mut self.keys, &mut self.index);
            let parsed = parse_line(line, |key, value| {
                let i = match index.get(key.as_ref()) {
                    Some(&i) => i,
                    None => {
                        let i = keys.len();
                        keys.push(key.clone().into_owned());
                        index.insert(key.into_owned(), i);
                        i
                    }
                };
                scratch.push((i, value));
            });
            while self.series.len() < self.keys.len() {
                self.series.push(Series::new());
            }
            let header = match parsed {
                Ok(h) => h,
                Err(e) => {
                    self.bad_lines += 1;
                    let file = from.file_name();
                    tracing::warn!(run, file, byte = line_start, "skipping bad line: {e}");
                    continue;
                }
            };
            let step = match from {
                SeriesFile::History => header.step.unwrap_or(cursor.rows as f64),
                SeriesFile::System => cursor.rows as f64,
            };
            if step <= cursor.last_step {
                self.bad_lines += 1;
                tracing::warn!(
                    run,
                    byte = line_start,
                    step,
                    "skipping row: _step did not increase"
                );
                continue;
            }
            cursor.last_step = step;
            let wall = header.timestamp.unwrap_or(fallback_wall);
            for &(i, value) in &scratch {
                self.series[i].push(step, wall, value);
            }
            cursor.rows += 1;
        }
        cursor.offset += consumed as u64;
        match from {
            SeriesFile::History => self.history = cursor,
            SeriesFile::System => self.system = cursor,
        }
        consumed
    }
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

/// Brings a run's in-memory history up to date with its `history.jsonl`: loads it whole if it is
/// not in memory, else reads only what was appended. A file that shrank is read again from the start.
pub fn sync(run: &Arc<Run>) -> Result<SyncOutcome> {
    let mut outcome = SyncOutcome::default();
    let mut h = run.history.lock();
    h.last_used = Instant::now();
    outcome.resident_before = h.resident_points();
    let result = sync_locked(run, &mut h, &mut outcome);
    outcome.resident_after = h.resident_points();
    result.map(|()| outcome)
}

fn sync_locked(run: &Run, h: &mut History, outcome: &mut SyncOutcome) -> Result<()> {
    // A file that shrank was replaced: start the whole run over.
    for file in [SeriesFile::History, SeriesFile::System] {
        let offset = h.cursor(file).offset;
        if h.loaded && offset > 0 && file_len(run, file)? < offset {
            tracing::warn!(run = %run.key.run, file = file.file_name(), "file shrank; reading the run again");
            h.unload();
        }
    }
    if !h.loaded {
        outcome.loaded_now = true;
        h.loaded = true;
    }
    let keys_before = h.keys.len();
    let lens_before: Vec<usize> = h.series.iter().map(Series::len).collect();
    for file in [SeriesFile::History, SeriesFile::System] {
        read_appended(run, h, file)?;
    }
    outcome.new_keys = h.keys.len() > keys_before;
    for (i, s) in h.series.iter().enumerate() {
        let before = lens_before.get(i).copied().unwrap_or(0);
        if s.len() > before {
            outcome.grown.push((i, s.len() as u64));
        }
    }
    Ok(())
}

/// The length of one of the run's series files (0 when it does not exist).
fn file_len(run: &Run, file: SeriesFile) -> Result<u64> {
    let stat = run.source.stat(&run.key, file.file_name())?;
    Ok(stat.map_or(0, |s| s.len))
}

/// Reads what was appended to one series file since the history's cursor.
fn read_appended(run: &Run, h: &mut History, file: SeriesFile) -> Result<()> {
    let offset = h.cursor(file).offset;
    let Some(mut opened) = run.source.open(&run.key, file.file_name(), offset)? else {
        return Ok(());
    };
    let len = opened.len;
    if len <= offset {
        return Ok(());
    }
    let fallback_wall = crate::util::now_secs();
    let mut buf: Vec<u8> = Vec::new();
    let mut remaining = len - offset;
    while remaining > 0 {
        let want = (remaining as usize).min(CHUNK_BYTES);
        let start = buf.len();
        buf.resize(start + want, 0);
        let got = opened.read_up_to(&mut buf[start..])?;
        buf.truncate(start + got);
        if got == 0 {
            break;
        }
        remaining -= got as u64;
        let used = h.ingest_from(file, &buf, fallback_wall, &run.key.run);
        buf.drain(..used);
    }
    Ok(())
}
