//! Plain helpers (host-tested): URL segment encoding, formatting of times, durations and counts,
//! and the choice of config/summary columns for the runs table. Flattening and formatting JSON
//! values live in `trackline_shared::columns` (report exports show them the same way).

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use trackline_shared::api::RunInfo;
use trackline_shared::num;

pub use trackline_shared::columns::{flatten, live_runtime, lookup, value, walk_flat};

/// Percent-encodes one URL path segment or query value (everything but `A-Za-z0-9-_.~`).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// App-internal paths (without the router base).
pub fn project_path(project: &str) -> String {
    format!("/projects/{}", encode(project))
}

pub fn run_path(project: &str, run: &str) -> String {
    format!("/projects/{}/runs/{}", encode(project), encode(run))
}

/// The path part of a base URL without its trailing slash: `http://h:1/` → `""`,
/// `http://h/a/b/` → `"/a/b"`.
pub fn base_path_of(base: &str) -> String {
    let rest = base.split_once("://").map_or(base, |(_, r)| r);
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    let dir = path.rfind('/').map_or("", |i| &path[..i]);
    dir.to_string()
}

/// A count with thousands separated: `4,312`.
pub fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1h 02m`, `3m 05s`, `42s`, `2d 3h`.
pub fn duration(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "–".into();
    }
    let s = secs.floor() as u64;
    let (d, h, m, sec) = (s / 86_400, (s / 3600) % 24, (s / 60) % 60, s % 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m:02}m")
    } else if m > 0 {
        format!("{m}m {sec:02}s")
    } else {
        format!("{sec}s")
    }
}

/// `just now`, `5 min ago`, `3 h ago`, `2 d ago` for a time `secs` before `now`.
pub fn ago(now: f64, secs: f64) -> String {
    let d = now - secs;
    if !d.is_finite() {
        return "–".into();
    }
    if d < 45.0 {
        "just now".into()
    } else if d < 3600.0 {
        format!("{} min ago", ((d / 60.0).round() as u64).max(1))
    } else if d < 86_400.0 {
        format!("{} h ago", (d / 3600.0).round() as u64)
    } else {
        format!("{} d ago", (d / 86_400.0).round() as u64)
    }
}

/// `2025-11-29 16:15:07` for unix seconds, shifted by `offset_min` minutes (local time zone).
pub fn datetime(secs: f64, offset_min: i64) -> String {
    if !secs.is_finite() {
        return "–".into();
    }
    let t = secs.floor() as i64 + offset_min * 60;
    let days = t.div_euclid(86_400);
    let rem = t.rem_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    format!(
        "{y:04}-{mo:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Whether a cell value reads as a number (right-aligned in tables).
pub fn is_numeric(v: &Value) -> bool {
    match v {
        Value::Number(_) => true,
        Value::String(s) => num::parse_nonfinite(s).is_some(),
        _ => false,
    }
}

/// Whether the value is one of the non-finite number strings (`"NaN"`, `"Infinity"`, ...).
pub fn is_nonfinite(v: &Value) -> bool {
    matches!(v, Value::String(s) if num::parse_nonfinite(s).is_some())
}

/// A number to sort by, if the value is one.
pub fn sort_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => num::parse_nonfinite(s),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

/// The keys (flattened) present in at least half the runs, most common first, at most `max`.
pub fn common_keys<'a>(
    runs: impl Iterator<Item = &'a Map<String, Value>>,
    max: usize,
) -> Vec<String> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut n = 0usize;
    for m in runs {
        n += 1;
        walk_flat(m, &mut |k, _| *counts.entry(k).or_default() += 1);
    }
    let mut keys: Vec<(String, usize)> = counts
        .into_iter()
        .filter(|(_, c)| c * 2 >= n && *c > 0)
        .collect();
    // Most common first; ties keep the alphabetical order of the BTreeMap (stable sort).
    keys.sort_by_key(|k| std::cmp::Reverse(k.1));
    keys.into_iter().take(max).map(|(k, _)| k).collect()
}

/// Config and summary columns for a runs table.
pub fn table_columns(runs: &[RunInfo]) -> (Vec<String>, Vec<String>) {
    (
        common_keys(runs.iter().map(|r| &r.config), 5),
        common_keys(runs.iter().map(|r| &r.summary), 5),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn encodes_segments() {
        assert_eq!(encode("my project/..?#%"), "my%20project%2F..%3F%23%25");
        assert_eq!(encode("k3x9q2ab"), "k3x9q2ab");
        assert_eq!(encode("é"), "%C3%A9");
        assert_eq!(run_path("a b", "r1"), "/projects/a%20b/runs/r1");
    }

    #[test]
    fn base_paths() {
        assert_eq!(base_path_of("http://127.0.0.1:8765/"), "");
        assert_eq!(base_path_of("http://127.0.0.1:8765"), "");
        assert_eq!(base_path_of("https://h/tl/"), "/tl");
        assert_eq!(base_path_of("https://h/a/b/?x#y"), "/a/b");
    }

    #[test]
    fn formats_times() {
        assert_eq!(duration(3725.0), "1h 02m");
        assert_eq!(duration(65.5), "1m 05s");
        assert_eq!(duration(7.9), "7s");
        assert_eq!(duration(90_000.0), "1d 1h");
        assert_eq!(duration(f64::NAN), "–");
        assert_eq!(datetime(0.0, 0), "1970-01-01 00:00:00");
        assert_eq!(datetime(1_764_430_000.0, 0), "2025-11-29 15:26:40");
        assert_eq!(datetime(1_764_430_000.0, 60), "2025-11-29 16:26:40");
        assert_eq!(datetime(951_782_400.0, 0), "2000-02-29 00:00:00");
        assert_eq!(ago(1000.0, 990.0), "just now");
        assert_eq!(ago(10_000.0, 10_000.0 - 300.0), "5 min ago");
        assert_eq!(ago(100_000.0, 100_000.0 - 7200.0), "2 h ago");
    }

    #[test]
    fn counts_have_thousands_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(4312), "4,312");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn tells_numeric_values() {
        assert!(is_numeric(&json!("-Infinity")));
        assert!(!is_numeric(&json!("adam")));
        assert!(
            is_nonfinite(&json!("NaN")) && !is_nonfinite(&json!(1.0)) && !is_nonfinite(&json!("x"))
        );
    }

    #[test]
    fn picks_common_columns() {
        let runs: Vec<Map<String, Value>> = vec![
            json!({"lr": 1, "bs": 2, "rare": 1})
                .as_object()
                .unwrap()
                .clone(),
            json!({"lr": 1, "bs": 2}).as_object().unwrap().clone(),
            json!({"lr": 1}).as_object().unwrap().clone(),
        ];
        assert_eq!(common_keys(runs.iter(), 5), ["lr", "bs"]);
        assert_eq!(common_keys(runs.iter(), 1), ["lr"]);
        assert!(common_keys(std::iter::empty(), 5).is_empty());
    }
}
