//! Small helpers shared across layers: the clock, facts about this machine, CRC-32.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now as unix seconds.
pub fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Whether a local process exists (Linux: `/proc/<pid>`; elsewhere assumed alive).
pub fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        // A zombie (killed, not yet reaped) counts as gone.
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => stat
                .rsplit(") ")
                .next()
                .is_some_and(|rest| !rest.starts_with('Z')),
            Err(_) => false,
        }
    } else {
        true
    }
}

/// This machine's host name as Python's `socket.gethostname()` reports it.
pub fn local_hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .filter(|s| !s.is_empty())
}

/// Unix seconds as `YYYY-MM-DD HH:MM UTC` (what the CLI prints for dates).
pub fn utc(secs: f64) -> String {
    let (date, h, m, _) = civil(secs);
    format!("{date} {h:02}:{m:02} UTC")
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn utc_seconds(secs: f64) -> String {
    let (date, h, m, s) = civil(secs);
    format!("{date} {h:02}:{m:02}:{s:02} UTC")
}

/// Unix seconds as ISO 8601 UTC with milliseconds, `YYYY-MM-DDTHH:MM:SS.mmmZ` (console lines).
pub fn utc_iso_millis(secs: f64) -> String {
    let (date, h, m, s) = civil(secs);
    let millis = if secs.is_finite() && secs > 0.0 {
        ((secs.fract() * 1000.0) as i64).clamp(0, 999)
    } else {
        0
    };
    format!("{date}T{h:02}:{m:02}:{s:02}.{millis:03}Z")
}

/// The UTC date (`YYYY-MM-DD`), hour, minute and second of unix seconds (before 1970 or not a
/// number: 1970-01-01 00:00:00).
fn civil(secs: f64) -> (String, i64, i64, i64) {
    let secs = if secs.is_finite() {
        secs.max(0.0) as i64
    } else {
        0
    };
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        format!("{year:04}-{month:02}-{day:02}"),
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
    )
}

/// The lookup table of a reflected CRC-32 with polynomial `poly` (reversed bit order).
pub const fn crc32_table(poly: u32) -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { poly ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

/// Continues a reflected CRC-32 with the lookup `table`: the CRC `crc` of earlier bytes over
/// `data`; start from 0.
pub fn crc32_with(table: &[u32; 256], crc: u32, data: &[u8]) -> u32 {
    let mut c = !crc;
    for &b in data {
        c = table[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

/// Continues the CRC-32 (IEEE 802.3, polynomial 0xEDB88320: what ZIP and zlib compute) `crc` of
/// earlier bytes over `data`; start from 0.
pub fn crc32_update(crc: u32, data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = crc32_table(0xEDB8_8320);
    crc32_with(&TABLE, crc, data)
}
