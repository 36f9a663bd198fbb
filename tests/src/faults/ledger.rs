//! The books every scenario keeps: which points were logged, which lines a history file or the
//! daemon's REST API holds, and a tally of each logged point found exactly once, missing, doubled
//! or changed.

use crate::daemon::Daemon;
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// The metric every writer in the scenarios logs.
pub const KEY: &str = "loss";

/// One logged point of `KEY`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    pub step: u64,
    pub value: f64,
}

/// The value every writer logs at `step` (exact in binary, so equality is a fair check).
pub fn value_at(step: u64) -> f64 {
    step as f64 * 0.5 + 0.25
}

/// The rows `0..n`, as logged.
pub fn logged(n: u64) -> Vec<Row> {
    (0..n)
        .map(|step| Row {
            step,
            value: value_at(step),
        })
        .collect()
}

/// The `KEY` rows of the complete (newline-ended) lines of history text; lines that are not JSON
/// objects with a `_step` and a numeric `KEY` are counted in `unreadable`.
#[derive(Debug, Default)]
pub struct Lines {
    pub rows: Vec<Row>,
    pub unreadable: usize,
    /// Bytes after the last newline (a torn line).
    pub tail_bytes: usize,
}

pub fn read_lines(text: &[u8]) -> Lines {
    let complete = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let mut out = Lines {
        tail_bytes: text.len() - complete,
        ..Lines::default()
    };
    for line in text[..complete].split(|&b| b == b'\n') {
        if line.is_empty() {
            continue;
        }
        let row = serde_json::from_slice::<serde_json::Value>(line)
            .ok()
            .and_then(|v| {
                Some(Row {
                    step: v["_step"].as_u64()?,
                    value: v[KEY].as_f64()?,
                })
            });
        match row {
            Some(row) => out.rows.push(row),
            None => out.unreadable += 1,
        }
    }
    out
}

pub fn read_file(path: &Path) -> Lines {
    read_lines(&std::fs::read(path).unwrap_or_default())
}

/// How the rows found compare with the rows logged.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Tally {
    pub logged: u64,
    pub once: u64,
    pub missing: u64,
    pub doubled: u64,
    pub changed: u64,
    /// Rows found that were never logged.
    pub unexpected: u64,
}

impl Tally {
    pub fn of(logged: &[Row], found: &[Row]) -> Tally {
        let mut seen: HashMap<u64, Vec<f64>> = HashMap::new();
        for r in found {
            seen.entry(r.step).or_default().push(r.value);
        }
        let mut t = Tally {
            logged: logged.len() as u64,
            ..Tally::default()
        };
        for r in logged {
            match seen.remove(&r.step).as_deref() {
                None | Some([]) => t.missing += 1,
                Some([v]) if *v == r.value => t.once += 1,
                Some([_]) => t.changed += 1,
                Some(_) => t.doubled += 1,
            }
        }
        t.unexpected = seen.values().map(|v| v.len() as u64).sum();
        t
    }

    pub fn exact(&self) -> bool {
        self.once == self.logged && self.unexpected == 0
    }

    pub fn add(&mut self, o: Tally) {
        self.logged += o.logged;
        self.once += o.once;
        self.missing += o.missing;
        self.doubled += o.doubled;
        self.changed += o.changed;
        self.unexpected += o.unexpected;
    }

    /// "N points logged, N present exactly once", and what went wrong when it is not exact.
    pub fn line(&self) -> String {
        let mut s = format!(
            "{} points logged, {} present exactly once",
            self.logged, self.once
        );
        if !self.exact() {
            s.push_str(&format!(
                " -- LOST: {} missing, {} doubled, {} with a changed value, {} never logged",
                self.missing, self.doubled, self.changed, self.unexpected
            ));
        }
        s
    }
}

/// The `KEY` points the daemon's REST API holds for a run, read through the series query in
/// windows narrow enough that each point has its own column (a doubled step shows as a count of 2).
pub async fn rest_rows(
    http: &reqwest::Client,
    d: &Daemon,
    project: &str,
    run: &str,
    last_step: u64,
) -> anyhow::Result<Vec<Row>> {
    const SPAN: u64 = 8192;
    let mut rows = Vec::new();
    let mut from = 0;
    while from <= last_step {
        let path = format!(
            "/api/projects/{project}/series?runs={run}&key={KEY}&x_min={from}&x_max={}&width={}",
            from as f64 + SPAN as f64 - 0.5,
            SPAN * 2
        );
        let (status, body) = d.get(http, &path).await?;
        anyhow::ensure!(status == 200, "GET {path}: {status} {body}");
        let b = &body["runs"][0]["buckets"];
        let col = |name: &str, i: usize| b[name][i].as_f64().unwrap_or(f64::NAN);
        let counts = b["count"].as_array().cloned().unwrap_or_default();
        for (i, count) in counts.iter().enumerate() {
            let n = count.as_u64().unwrap_or(0);
            let (step, first, last) = (col("x_first", i), col("first", i), col("last", i));
            for k in 0..n {
                rows.push(Row {
                    step: step as u64,
                    value: if k + 1 == n { last } else { first },
                });
            }
        }
        from += SPAN;
    }
    Ok(rows)
}

/// The point count `GET …/keys` gives for `KEY` (0 when the run or key is unknown).
pub async fn rest_count(
    http: &reqwest::Client,
    d: &Daemon,
    project: &str,
    run: &str,
) -> anyhow::Result<u64> {
    let (_, keys) = d
        .get(http, &format!("/api/projects/{project}/runs/{run}/keys"))
        .await?;
    Ok(keys
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["key"] == KEY))
        .and_then(|k| k["points"].as_u64())
        .unwrap_or(0))
}

/// Waits up to `timeout` for the REST count of a run to reach `n`; then tallies the REST rows
/// against `logged` (so a count that never arrived shows as missing points).
pub async fn rest_tally(
    http: &reqwest::Client,
    d: &Daemon,
    project: &str,
    run: &str,
    logged: &[Row],
    timeout: Duration,
) -> anyhow::Result<Tally> {
    let n = logged.len() as u64;
    let deadline = Instant::now() + timeout;
    while rest_count(http, d, project, run).await? < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let last = logged.iter().map(|r| r.step).max().unwrap_or(0);
    let found = if n == 0 {
        Vec::new()
    } else {
        rest_rows(http, d, project, run, last).await?
    };
    let mut tally = Tally::of(logged, &found);
    // Points past the last logged step are outside the windows read: the count shows them.
    let count = rest_count(http, d, project, run).await?;
    tally.unexpected += count.saturating_sub(found.len() as u64);
    Ok(tally)
}

/// Waits up to `timeout` for a history file to hold `n` readable rows; returns what it holds.
pub async fn wait_for_file(path: &Path, n: usize, timeout: Duration) -> Lines {
    let deadline = Instant::now() + timeout;
    loop {
        let lines = read_file(path);
        if lines.rows.len() >= n || Instant::now() > deadline {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tally_counts_each_kind_of_loss() {
        let logged = logged(5);
        assert!(Tally::of(&logged, &logged).exact());
        let mut found = logged.clone();
        found.remove(1); // step 1 missing
        found.push(logged[2]); // step 2 doubled
        found[2].value += 1.0; // step 3 changed (index 2 after the removal)
        found.push(Row {
            step: 9,
            value: value_at(9),
        }); // never logged
        let t = Tally::of(&logged, &found);
        assert_eq!(
            (
                t.logged,
                t.once,
                t.missing,
                t.doubled,
                t.changed,
                t.unexpected
            ),
            (5, 2, 1, 1, 1, 1)
        );
        assert!(!t.exact());
        assert!(
            t.line().contains("LOST: 1 missing, 1 doubled"),
            "{}",
            t.line()
        );
        // A point that was never logged alone is also not exact.
        let t = Tally::of(&logged[..4], &logged);
        assert!(!t.exact());
    }

    #[test]
    fn only_complete_readable_lines_count() {
        let text =
            b"{\"_step\": 0, \"loss\": 0.25}\nnot json\n{\"_step\": 1, \"loss\": 0.75}\n{\"_st";
        let lines = read_lines(text);
        assert_eq!(lines.rows, logged(2));
        assert_eq!((lines.unreadable, lines.tail_bytes), (1, 5));
    }
}
