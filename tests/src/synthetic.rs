//! Synthetic run folders for the benchmarks: a history of a noisy decay with one spike, written as
//! the Python client lays a run out, so a benchmark measures realistic files without a training
//! script.

use serde_json::{Map, Value, json};
use std::io::Write;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// Unix time now, in seconds.
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// One run to write.
pub struct SyntheticRun<'a> {
    pub project: &'a str,
    pub id: &'a str,
    pub name: String,
    pub steps: u64,
    pub keys: &'a [&'a str],
    /// Seeds the noise and places the spike (key 0 reads 10.0 at step `steps / 2 + seed`).
    pub seed: u64,
    pub config: Value,
    /// A finished run also gets a `summary.json` of each key's last value; a running one a
    /// heartbeat of now.
    pub finished: bool,
}

impl SyntheticRun<'_> {
    /// Writes `config.json`, `history.jsonl` (`_step`, `_timestamp`, `_runtime` at 100 steps a
    /// second ending an hour ago, then every key to 5 decimals), the summary of a finished run,
    /// then `run.json`.
    pub fn write(&self, root: &Path) -> anyhow::Result<()> {
        let dir = root.join(self.project).join(self.id);
        std::fs::create_dir_all(&dir)?;
        let t0 = unix_now() - self.steps as f64 * 0.01 - 3600.0;
        std::fs::write(dir.join("config.json"), self.config.to_string())?;
        let mut out = std::io::BufWriter::with_capacity(
            1 << 20,
            std::fs::File::create(dir.join("history.jsonl"))?,
        );
        let mut x = self
            .seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut line = String::with_capacity(64 + self.keys.len() * 24);
        let mut last = vec![0.0; self.keys.len()];
        for s in 0..self.steps {
            line.clear();
            let t = t0 + s as f64 * 0.01;
            use std::fmt::Write as _;
            let _ = write!(
                line,
                "{{\"_step\":{s},\"_timestamp\":{t:.3},\"_runtime\":{:.3}",
                s as f64 * 0.01
            );
            for (k, key) in self.keys.iter().enumerate() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let noise = (x % 1000) as f64 / 10_000.0;
                let v = if s == self.steps / 2 + self.seed && k == 0 {
                    10.0
                } else {
                    2.0 / (1.0 + s as f64 / 5000.0) + noise + k as f64 * 0.01
                };
                last[k] = v;
                let _ = write!(line, ",\"{key}\":{v:.5}");
            }
            line.push_str("}\n");
            out.write_all(line.as_bytes())?;
        }
        out.flush()?;
        let (state, heartbeat) = if self.finished {
            let summary: Map<String, Value> = self
                .keys
                .iter()
                .zip(last)
                .map(|(k, v)| ((*k).to_string(), json!(v)))
                .collect();
            std::fs::write(dir.join("summary.json"), Value::Object(summary).to_string())?;
            ("finished", t0 + self.steps as f64 * 0.01)
        } else {
            ("running", unix_now())
        };
        std::fs::write(
            dir.join("run.json"),
            json!({
                "format_version": 1, "id": self.id, "name": self.name, "project": self.project,
                "state": state, "created_at": t0, "heartbeat_at": heartbeat, "tags": [],
                "host": "bench", "command": ["bench"], "pid": 1,
            })
            .to_string(),
        )?;
        Ok(())
    }
}

/// Writes runs `0..runs` with `write(i)` on two threads (the machine has two cores).
pub fn write_runs(
    runs: u64,
    write: impl Fn(u64) -> anyhow::Result<()> + Sync,
) -> anyhow::Result<()> {
    std::thread::scope(|sc| {
        let write = &write;
        let handles: Vec<_> = (0..2u64)
            .map(|part| {
                sc.spawn(move || -> anyhow::Result<()> {
                    for i in (part..runs).step_by(2) {
                        write(i)?;
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join()
                .map_err(|_| anyhow::anyhow!("writer thread panicked"))??;
        }
        Ok(())
    })
}

/// The `p` quantile (0..=1) of `v`, nearest rank; NaN when empty.
pub fn pct(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[((s.len() - 1) as f64 * p).round() as usize]
}
