//! Progress of a long command (import, sync, gc) on standard error: a bar with counts and rate on
//! a terminal, one plain line per item otherwise, and a one-line summary at the end.

use std::io::{IsTerminal, Write};
use std::time::Instant;

/// Width of the bar in characters.
const BAR: usize = 30;

/// Progress through `total` items.
pub struct Progress {
    label: String,
    total: u64,
    done: u64,
    started: Instant,
    terminal: bool,
}

impl Progress {
    /// Progress of `label` through `total` items, drawn on standard error.
    pub fn new(label: &str, total: u64) -> Progress {
        Progress {
            label: label.to_string(),
            total,
            done: 0,
            started: Instant::now(),
            terminal: std::io::stderr().is_terminal(),
        }
    }

    /// One more item done; `what` names it (and how it went).
    pub fn advance(&mut self, what: &str) {
        self.done += 1;
        let mut err = std::io::stderr().lock();
        let _ = if self.terminal {
            write!(err, "\r\x1b[K{}", self.bar_line(what))
        } else {
            writeln!(err, "{} [{}/{}] {what}", self.label, self.done, self.total)
        };
        let _ = err.flush();
    }

    fn bar_line(&self, what: &str) -> String {
        let frac = if self.total == 0 {
            1.0
        } else {
            self.done as f64 / self.total as f64
        };
        let filled = ((frac * BAR as f64).round() as usize).min(BAR);
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let what: String = what.chars().take(60).collect();
        format!(
            "{} [{}{}] {}/{} {:.1}/s {what}",
            self.label,
            "#".repeat(filled),
            " ".repeat(BAR - filled),
            self.done,
            self.total,
            self.done as f64 / secs
        )
    }

    /// Ends the bar and prints `summary` on its own line.
    pub fn finish(self, summary: &str) {
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = writeln!(err);
        }
        let _ = writeln!(
            err,
            "{summary} ({:.1} s)",
            self.started.elapsed().as_secs_f64()
        );
    }
}
