//! End-to-end tests for Trackline live in `tests/it/`; this crate only builds the daemon binary
//! (`trackline-under-test`) so those tests can spawn and kill it as a real process.
