//! The fault-injection and soak program: kill -9 of the daemon and of clients, torn tails, a full
//! disk, two daemons on one dir, and 100 viewers + 50 writers, against the real daemon binary and
//! Python client. Each scenario ends with "N points logged, N present exactly once" and the
//! daemon's peak RSS; a loss makes the exit status non-zero. Not run in CI.
//!
//! `TRACKLINE_SKIP_WEB=1 cargo bench -p trackline-tests --bench faults -- [scenario…] [--quick]
//! [--busy] [--seed N]`; scenarios: daemon-kill, client-kill, torn-tail, disk-full, two-daemons,
//! load (none: all). See docs/benchmarks.md, "Faults and soak".

#![allow(
    clippy::print_stdout,
    reason = "the fault program's report is its standard output"
)]

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use trackline_tests::faults::outcome::print_summary;
use trackline_tests::faults::rng::Rng;
use trackline_tests::faults::{Settings, load_average, scenarios};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let busy = args.iter().any(|a| a == "--busy");
    let seed = args
        .iter()
        .position(|a| a == "--seed")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or_else(Rng::seed_from_time);
    let named: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with('-') && a.parse::<u64>().is_err())
        .map(String::as_str)
        .collect();
    let chosen: Vec<&'static str> = if named.is_empty() {
        scenarios::ALL.to_vec()
    } else {
        match named
            .iter()
            .map(|n| scenarios::ALL.iter().find(|a| *a == n).copied().ok_or(*n))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(v) => v,
            Err(unknown) => {
                println!(
                    "no scenario called {unknown}; known: {}",
                    scenarios::ALL.join(", ")
                );
                return ExitCode::FAILURE;
            }
        }
    };
    let settings = Settings {
        // `TRACKLINE_BENCH_DAEMON=<path>` tries another build of `trackline` (an older one, say).
        daemon_bin: std::env::var_os("TRACKLINE_BENCH_DAEMON").map_or_else(
            || env!("CARGO_BIN_EXE_trackline-under-test").into(),
            Into::into,
        ),
        repo_root: Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the tests crate lives in the workspace")
            .to_owned(),
        quick,
        seed,
    };
    println!(
        "trackline faults{}{} (seed {seed}; {} CPUs; load average {}; daemon {})",
        if quick { " [quick]" } else { "" },
        if busy { " [one core kept busy]" } else { "" },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average(),
        settings.daemon_bin.display()
    );
    let spinning = Arc::new(AtomicBool::new(busy));
    let spinner = busy.then(|| {
        let spinning = spinning.clone();
        std::thread::Builder::new()
            .name("busy-core".into())
            .spawn(move || {
                let mut x = 0u64;
                while spinning.load(Ordering::Relaxed) {
                    x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                }
            })
            .expect("spawn the busy thread")
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let outcomes: Vec<_> = chosen
        .iter()
        .map(|name| rt.block_on(scenarios::run(name, &settings)))
        .collect();
    spinning.store(false, Ordering::Relaxed);
    if let Some(t) = spinner {
        let _ = t.join();
    }
    print_summary(&outcomes);
    println!("load average at the end: {}", load_average());
    if outcomes.iter().all(|o| o.passed()) {
        ExitCode::SUCCESS
    } else {
        println!("FAILED: see the scenarios above");
        ExitCode::FAILURE
    }
}
