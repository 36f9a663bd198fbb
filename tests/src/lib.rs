//! End-to-end tests for Trackline live in `tests/it/`; this crate builds the daemon binary
//! (`trackline-under-test`) so those tests can spawn and kill it as a real process, and holds what
//! the benchmark programs share: the daemon process they measure (`daemon`), synthetic run folders
//! and percentiles (`synthetic`), chromedriver, kill-on-drop children and a daemon with a browser at one of its pages (`chrome`), the machine's load and a busy core (`machine`), PNG files for media (`png`) and the fault and soak
//! program's helpers (`faults`, run by `benches/faults.rs`), and the reverse proxy the prefix tests
//! put in front of a daemon (`proxy`).

pub mod chart_page;
pub mod chrome;
pub mod daemon;
pub mod faults;
pub mod machine;
pub mod png;
pub mod proxy;
pub mod synthetic;
