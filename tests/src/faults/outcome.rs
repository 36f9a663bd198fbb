//! What a scenario reports: its verdict, its tally and figures, and the summary table at the end.

use crate::faults::ledger::Tally;

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Ok,
    /// Acknowledged or flushed data was lost, doubled or changed.
    Lost,
    /// A check other than the data's failed (a run not shown crashed, a daemon that died).
    Failed(String),
    Skipped(String),
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub name: &'static str,
    pub tally: Tally,
    pub peak_rss_kib: u64,
    pub verdict: Verdict,
    /// The scenario's own figures, one short phrase.
    pub figures: String,
    pub secs: f64,
}

impl Outcome {
    pub fn new(name: &'static str) -> Outcome {
        Outcome {
            name,
            tally: Tally::default(),
            peak_rss_kib: 0,
            verdict: Verdict::Ok,
            figures: String::new(),
            secs: 0.0,
        }
    }

    /// Records a failed check; a loss stays the verdict when both happen.
    pub fn fail(&mut self, why: impl Into<String>) {
        let why = why.into();
        println!("  FAILED: {why}");
        match &mut self.verdict {
            Verdict::Ok => self.verdict = Verdict::Failed(why),
            Verdict::Failed(all) => {
                all.push_str("; ");
                all.push_str(&why);
            }
            Verdict::Lost | Verdict::Skipped(_) => {}
        }
    }

    pub fn peak(&mut self, kib: u64) {
        self.peak_rss_kib = self.peak_rss_kib.max(kib);
    }

    /// Closes the scenario: the verdict from the tally, and its closing line.
    pub fn finish(&mut self) {
        if !self.tally.exact() && !matches!(self.verdict, Verdict::Skipped(_)) {
            self.verdict = Verdict::Lost;
        }
        if let Verdict::Skipped(why) = &self.verdict {
            println!("  {}: skipped: {why}", self.name);
            return;
        }
        println!(
            "  {}: {}; daemon peak RSS {}",
            self.name,
            self.tally.line(),
            mib(self.peak_rss_kib)
        );
    }

    pub fn passed(&self) -> bool {
        matches!(self.verdict, Verdict::Ok | Verdict::Skipped(_))
    }
}

pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// The summary table of every scenario run.
pub fn print_summary(outcomes: &[Outcome]) {
    println!("\n== summary");
    println!(
        "| scenario | verdict | points logged | present exactly once | daemon peak RSS | time | figures |"
    );
    println!("|---|---|---:|---:|---:|---:|---|");
    for o in outcomes {
        let verdict = match &o.verdict {
            Verdict::Ok => "ok".to_owned(),
            Verdict::Lost => "LOST DATA".to_owned(),
            Verdict::Failed(why) => format!("FAILED ({why})"),
            Verdict::Skipped(why) => format!("skipped ({why})"),
        };
        println!(
            "| {} | {verdict} | {} | {} | {} | {:.0} s | {} |",
            o.name,
            o.tally.logged,
            o.tally.once,
            mib(o.peak_rss_kib),
            o.secs,
            o.figures
        );
    }
}
