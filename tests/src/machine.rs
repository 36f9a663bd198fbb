//! What the benchmark machine is doing besides the benchmark: its load averages, printed beside
//! every figure, and [`BusyCore`], the one core a section keeps busy to measure as users run it
//! (the dashboard shares the machine that trains).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether a benchmark was asked for its quick version (`-- --quick`, or
/// `TRACKLINE_BENCH_QUICK=1`): smaller data and fewer samples.
pub fn quick() -> bool {
    std::env::args().any(|a| a == "--quick")
        || std::env::var("TRACKLINE_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The 1, 5 and 15 minute load averages (Linux).
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

/// A thread that spins until dropped: one core kept busy.
pub struct BusyCore {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BusyCore {
    pub fn start() -> anyhow::Result<BusyCore> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("busy-core".into())
            .spawn(move || {
                let mut x = 0u64;
                while !flag.load(Ordering::Relaxed) {
                    x = std::hint::black_box(
                        x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1),
                    );
                }
            })?;
        Ok(BusyCore {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for BusyCore {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
