//! A remote writer that speaks the batch protocol itself (`POST /api/ingest/v1/batch`), so a
//! scenario knows exactly which bytes were acknowledged, how long each acknowledgement took, and
//! which statuses (and `Retry-After`s) the daemon answered.

use crate::faults::ledger::{self, Row, Tally};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Bytes of appended data per batch at most (the daemon's body cap is 1 MiB).
const MAX_BATCH: usize = 512 * 1024;

#[derive(Debug)]
pub struct RemoteWriter {
    http: reqwest::Client,
    url: String,
    token: String,
    pub project: String,
    pub run: String,
    /// Every history byte this writer has produced; the daemon should end up with all of them.
    pub sent: Vec<u8>,
    /// Bytes the daemon acknowledged (its `lengths` in a 200).
    pub acked: usize,
    /// Rows produced so far (the next step).
    pub steps: u64,
    /// Characters of padding per row (to fill a disk sooner).
    pub pad: usize,
    meta_sent: bool,
    /// Answers by HTTP status; 0 counts requests that got no answer.
    pub statuses: BTreeMap<u16, u64>,
    pub retry_after: u64,
    /// The longest `Retry-After` answered, in seconds.
    pub retry_after_max_secs: f64,
    /// `"<status> <error code>"` of every refusal seen (e.g. `"507 insufficient_storage"`).
    pub refusals: std::collections::BTreeSet<String>,
    /// Request → 200, for every acknowledged batch.
    pub ack_latencies: Vec<Duration>,
    /// Times the daemon claimed more bytes than were ever sent.
    pub overclaims: u64,
}

/// What one push did.
#[derive(Debug, PartialEq)]
pub enum Push {
    /// Everything produced is acknowledged.
    Done,
    /// Acknowledged or resumed: push again for the rest.
    Progress,
    /// Refused or unreachable: wait this long, then push again.
    Wait(Duration),
}

impl RemoteWriter {
    pub fn new(http: reqwest::Client, url: &str, token: &str, project: &str, run: &str) -> Self {
        RemoteWriter {
            http,
            url: format!("{url}/api/ingest/v1/batch"),
            token: token.to_owned(),
            project: project.to_owned(),
            run: run.to_owned(),
            sent: Vec::new(),
            acked: 0,
            steps: 0,
            pad: 0,
            meta_sent: false,
            statuses: BTreeMap::new(),
            retry_after: 0,
            retry_after_max_secs: 0.0,
            refusals: std::collections::BTreeSet::new(),
            ack_latencies: Vec::new(),
            overclaims: 0,
        }
    }

    /// Produces `n` more rows (not sent until `push`).
    pub fn produce(&mut self, n: u64) {
        for _ in 0..n {
            let s = self.steps;
            let pad = if self.pad > 0 {
                format!(", \"note\": \"{}\"", "x".repeat(self.pad))
            } else {
                String::new()
            };
            self.sent.extend_from_slice(
                format!(
                    "{{\"_step\": {s}, \"_timestamp\": {:.3}, \"{}\": {}{pad}}}\n",
                    unix_now(),
                    ledger::KEY,
                    ledger::value_at(s)
                )
                .as_bytes(),
            );
            self.steps += 1;
        }
    }

    pub fn pending(&self) -> usize {
        self.sent.len() - self.acked
    }

    /// Sends the next batch of unacknowledged bytes (whole lines).
    pub async fn push(&mut self) -> Push {
        if self.pending() == 0 && self.meta_sent {
            return Push::Done;
        }
        let rest = &self.sent[self.acked..];
        let cut = if rest.len() <= MAX_BATCH {
            rest.len()
        } else {
            rest[..MAX_BATCH]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(rest.len(), |i| i + 1)
        };
        let data = String::from_utf8_lossy(&rest[..cut]).into_owned();
        let mut body = json!({"project": self.project, "run": self.run});
        if !self.meta_sent {
            let now = unix_now();
            body["files"] = json!({"run.json": {
                "format_version": 1, "id": self.run, "name": self.run, "project": self.project,
                "state": "running", "created_at": now, "heartbeat_at": now, "tags": [],
            }});
        }
        if cut > 0 {
            body["append"] = json!({"history.jsonl": {"offset": self.acked, "data": data}});
        }
        let started = Instant::now();
        let resp = self
            .http
            .post(&self.url)
            .bearer_auth(&self.token)
            .timeout(Duration::from_secs(30))
            .json(&body)
            .send()
            .await;
        let resp = match resp {
            Ok(r) => r,
            Err(_) => {
                *self.statuses.entry(0).or_default() += 1;
                return Push::Wait(Duration::from_millis(100));
            }
        };
        let status = resp.status().as_u16();
        *self.statuses.entry(status).or_default() += 1;
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()?.trim().parse::<f64>().ok());
        let answer: Value = resp.json().await.unwrap_or(Value::Null);
        let length = answer["lengths"]["history.jsonl"]
            .as_u64()
            .map(|l| l as usize);
        match status {
            200 => {
                self.ack_latencies.push(started.elapsed());
                self.meta_sent = true;
                if let Some(l) = length {
                    self.resume_at(l);
                } else if cut > 0 {
                    self.acked += cut;
                }
                Push::Progress
            }
            409 => {
                self.resume_at(length.unwrap_or(self.acked));
                Push::Progress
            }
            _ => {
                let code = answer["error"]["code"]
                    .as_str()
                    .unwrap_or("(no JSON error)");
                self.refusals.insert(format!("{status} {code}"));
                if let Some(secs) = retry_after {
                    self.retry_after += 1;
                    self.retry_after_max_secs = self.retry_after_max_secs.max(secs);
                    Push::Wait(Duration::from_secs_f64(secs.clamp(0.01, 5.0)))
                } else {
                    Push::Wait(Duration::from_millis(250))
                }
            }
        }
    }

    fn resume_at(&mut self, length: usize) {
        if length > self.sent.len() {
            self.overclaims += 1;
        }
        self.acked = length.min(self.sent.len());
    }

    /// Pushes until everything produced is acknowledged or `timeout` passes.
    pub async fn drain(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            match self.push().await {
                Push::Done => return true,
                Push::Progress => {}
                Push::Wait(d) => tokio::time::sleep(d).await,
            }
            if Instant::now() > deadline {
                return false;
            }
        }
    }

    /// The rows acknowledged so far.
    pub fn acked_rows(&self) -> Vec<Row> {
        ledger::read_lines(&self.sent[..self.acked]).rows
    }

    /// The daemon's file against what was acknowledged: every acknowledged row exactly once, and
    /// the bytes on disk equal to what was sent (extra bytes past `acked` may be a batch applied
    /// whose answer never came, but must still be what was sent).
    pub fn check_disk(&self, data_dir: &std::path::Path) -> (Tally, bool) {
        let path = data_dir
            .join(&self.project)
            .join(&self.run)
            .join("history.jsonl");
        let disk = std::fs::read(&path).unwrap_or_default();
        let bytes_agree = disk.len() >= self.acked
            && disk.len() <= self.sent.len()
            && disk[..] == self.sent[..disk.len()];
        let found = ledger::read_lines(&disk).rows;
        let logged = self.acked_rows();
        let found: Vec<Row> = found
            .into_iter()
            .filter(|r| r.step < logged.len() as u64 || r.step >= self.steps)
            .collect();
        (Tally::of(&logged, &found), bytes_agree)
    }
}

pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Nearest-rank percentile of durations, in ms.
pub fn percentile_ms(times: &[Duration], p: f64) -> f64 {
    if times.is_empty() {
        return 0.0;
    }
    let mut sorted = times.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1e3
}

/// Statuses as "200×812, 507×40 (Retry-After on 40)".
pub fn statuses_line(statuses: &BTreeMap<u16, u64>, retry_after: u64) -> String {
    let mut parts: Vec<String> = statuses
        .iter()
        .map(|(s, n)| {
            if *s == 0 {
                format!("no answer×{n}")
            } else {
                format!("{s}×{n}")
            }
        })
        .collect();
    if parts.is_empty() {
        parts.push("none".into());
    }
    format!("{} (Retry-After on {retry_after})", parts.join(", "))
}
