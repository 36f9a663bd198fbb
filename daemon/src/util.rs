//! Small helpers shared across layers.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now as unix seconds.
pub fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
