//! A run's logged media values (images, histograms, tables, audio, ...) by key: the reference
//! objects of its history rows in step order, kept as their JSON text, as the media routes and the
//! `media` topic serve them. The files they name stay on disk and are served from there.

use std::collections::HashMap;
use trackline_shared::media::{
    MAX_MEDIA_VALUE_BYTES, MediaEntry, MediaKeyInfo, MediaKind, MediaValue,
};

/// Most bytes of media reference JSON one run keeps in memory (about 100k image refs); values
/// past it are dropped with one warning per run, and counted.
pub const MAX_MEDIA_BYTES_PER_RUN: usize = 32 << 20;

/// One logged value: the row's step and wall time and the reference JSON as logged.
#[derive(Debug)]
struct StoredEntry {
    step: f64,
    wall: f64,
    json: Box<str>,
}

#[derive(Debug)]
struct KeyEntries {
    key: String,
    kind: MediaKind,
    entries: Vec<StoredEntry>,
}

/// The media values of one run, by key in the order keys first appeared.
#[derive(Debug, Default)]
pub struct MediaIndex {
    keys: Vec<KeyEntries>,
    index: HashMap<String, usize>,
    bytes: usize,
    total: u64,
    /// Values not kept: over a cap, malformed, or of another kind than their key's first value.
    dropped: u64,
    cap_reported: bool,
}

/// Why a value offered to [`MediaIndex::add`] was not kept.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// Not media at all (a plain list or object): nothing to report.
    NotMedia,
    TooLarge,
    OtherKind(MediaKind),
    OverCap,
}

/// Whether the raw bytes of a nested value may be a media reference (cheap test before parsing).
pub fn looks_like_media(raw: &[u8]) -> bool {
    raw.windows(7).any(|w| w == b"\"_type\"")
}

impl MediaIndex {
    /// Keeps `raw`, the JSON of the value logged under `key` at `step`, when it is a media
    /// reference. `max_keys` caps the number of media keys.
    pub fn add(
        &mut self,
        key: &str,
        step: f64,
        wall: f64,
        raw: &[u8],
        max_keys: usize,
    ) -> Result<(), Refused> {
        if !looks_like_media(raw) {
            return Err(Refused::NotMedia);
        }
        if raw.len() > MAX_MEDIA_VALUE_BYTES {
            self.dropped += 1;
            return Err(Refused::TooLarge);
        }
        let value: serde_json::Value =
            serde_json::from_slice(raw).map_err(|_| Refused::NotMedia)?;
        let kind = MediaValue::parse(&value).ok_or(Refused::NotMedia)?.kind();
        // Kept compact: the index holds what the topic sends.
        let json = serde_json::to_string(&value).map_err(|_| Refused::NotMedia)?;
        let cost = json.len() + key.len() + size_of::<StoredEntry>();
        if self.bytes + cost > MAX_MEDIA_BYTES_PER_RUN {
            self.dropped += 1;
            return Err(Refused::OverCap);
        }
        let i = match self.index.get(key) {
            Some(&i) => i,
            None if self.keys.len() < max_keys => {
                self.keys.push(KeyEntries {
                    key: key.to_string(),
                    kind,
                    entries: Vec::new(),
                });
                self.index.insert(key.to_string(), self.keys.len() - 1);
                self.bytes += 2 * key.len() + size_of::<KeyEntries>();
                self.keys.len() - 1
            }
            None => {
                self.dropped += 1;
                return Err(Refused::OverCap);
            }
        };
        let entries = &mut self.keys[i];
        if entries.kind != kind {
            self.dropped += 1;
            return Err(Refused::OtherKind(entries.kind));
        }
        entries.entries.push(StoredEntry {
            step,
            wall,
            json: json.into_boxed_str(),
        });
        self.bytes += cost;
        self.total += 1;
        Ok(())
    }

    /// Whether the over-cap warning is still to be given (answers true once).
    pub fn report_cap_once(&mut self) -> bool {
        !std::mem::replace(&mut self.cap_reported, true)
    }

    /// Values kept, over all keys (grows with every kept value: tells a sync what is new).
    pub fn total(&self) -> u64 {
        self.total
    }

    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Every kept value as `(key, step, wall, JSON)`, key by key in the order keys appeared, to
    /// save them (`history::cache`); [`MediaIndex::add`] of each in this order rebuilds the index.
    pub fn saved_entries(&self) -> Vec<(&str, f64, f64, &str)> {
        self.keys
            .iter()
            .flat_map(|k| {
                k.entries
                    .iter()
                    .map(|e| (k.key.as_str(), e.step, e.wall, &*e.json))
            })
            .collect()
    }

    /// Sets the count of values not kept to what was saved with the entries.
    pub fn restore_dropped(&mut self, dropped: u64) {
        self.dropped = dropped;
        self.cap_reported |= dropped > 0;
    }

    pub fn memory_bytes(&self) -> usize {
        self.bytes
    }

    pub fn keys(&self) -> Vec<MediaKeyInfo> {
        self.keys
            .iter()
            .map(|k| MediaKeyInfo {
                key: k.key.clone(),
                kind: k.kind,
                count: k.entries.len() as u64,
                first_step: k.entries.first().map_or(0.0, |e| e.step),
                last_step: k.entries.last().map_or(0.0, |e| e.step),
            })
            .collect()
    }

    /// How many values `key` has.
    pub fn len(&self, key: &str) -> usize {
        self.index
            .get(key)
            .map_or(0, |&i| self.keys[i].entries.len())
    }

    /// Entries `from..` of `key`: at most `limit` of them and, past the first, no more than
    /// `max_bytes` of JSON in all.
    pub fn entries(
        &self,
        key: &str,
        from: usize,
        limit: usize,
        max_bytes: usize,
    ) -> Vec<MediaEntry> {
        let Some(&i) = self.index.get(key) else {
            return Vec::new();
        };
        let mut bytes = 0;
        let mut out = Vec::new();
        for e in self.keys[i].entries.iter().skip(from).take(limit) {
            bytes += e.json.len();
            if !out.is_empty() && bytes > max_bytes {
                break;
            }
            out.push(MediaEntry {
                step: e.step,
                wall_time: e.wall,
                // Checked JSON when it was kept.
                value: serde_json::from_str(&e.json).unwrap_or_default(),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IMG: &[u8] = br#"{"_type": "image-file", "path": "media/images/a_1_ff.png", "width": 2}"#;

    #[test]
    fn keeps_media_in_order_and_skips_the_rest() {
        let mut m = MediaIndex::default();
        assert_eq!(m.add("img", 1.0, 10.0, IMG, 8), Ok(()));
        assert_eq!(m.add("img", 2.0, 11.0, IMG, 8), Ok(()));
        assert_eq!(
            m.add("list", 2.0, 11.0, b"[1, 2]", 8),
            Err(Refused::NotMedia)
        );
        assert_eq!(
            m.add("obj", 2.0, 11.0, br#"{"_type": "mystery"}"#, 8),
            Err(Refused::NotMedia)
        );
        let keys = m.keys();
        assert_eq!(keys.len(), 1);
        assert_eq!(
            (keys[0].count, keys[0].first_step, keys[0].last_step),
            (2, 1.0, 2.0)
        );
        let entries = m.entries("img", 1, 10, 1 << 20);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].step, 2.0);
        assert_eq!(entries[0].value["width"], 2);
        assert_eq!(m.total(), 2);
    }

    #[test]
    fn a_key_keeps_its_first_kind_and_caps_hold() {
        let mut m = MediaIndex::default();
        m.add("x", 1.0, 0.0, IMG, 1).unwrap();
        let hist = br#"{"_type": "histogram", "bins": [0, 1], "values": [3]}"#;
        assert_eq!(
            m.add("x", 2.0, 0.0, hist, 1),
            Err(Refused::OtherKind(MediaKind::Image))
        );
        assert_eq!(m.add("y", 2.0, 0.0, hist, 1), Err(Refused::OverCap));
        let huge = format!(
            r#"{{"_type": "histogram", "bins": [0, 1], "values": [3], "pad": "{}"}}"#,
            "x".repeat(MAX_MEDIA_VALUE_BYTES)
        );
        assert_eq!(
            m.add("x", 3.0, 0.0, huge.as_bytes(), 1),
            Err(Refused::TooLarge)
        );
        assert_eq!(m.dropped(), 3);
    }

    #[test]
    fn pages_are_bounded_by_bytes_but_never_empty() {
        let mut m = MediaIndex::default();
        for s in 0..10 {
            m.add("img", s as f64, 0.0, IMG, 8).unwrap();
        }
        assert_eq!(m.entries("img", 0, 100, 1).len(), 1);
        assert_eq!(m.entries("img", 0, 3, 1 << 20).len(), 3);
        assert_eq!(m.entries("img", 20, 3, 1 << 20).len(), 0);
    }
}
