//! "Nice" axis ticks (multiples of 1, 2 or 5 × 10ⁿ) and short labels for them.

use trackline_shared::num::display;

/// Tick values inside `[lo, hi]`, about `target` of them, at a step of 1, 2 or 5 × 10ⁿ (whole
/// numbers only when `integer`). Returns the ticks and the step.
pub fn nice_ticks(lo: f64, hi: f64, target: usize, integer: bool) -> (Vec<f64>, f64) {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return (Vec::new(), 1.0);
    }
    let target = target.max(1) as f64;
    let raw = (hi - lo) / target;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = if norm < 1.5 {
        1.0
    } else if norm < 3.0 {
        2.0
    } else if norm < 7.0 {
        5.0
    } else {
        10.0
    };
    let mut step = nice * mag;
    if integer && step < 1.0 {
        step = 1.0;
    }
    if !(step.is_finite() && step > 0.0) {
        return (Vec::new(), 1.0);
    }
    let first = (lo / step).ceil();
    let last = (hi / step).floor();
    let mut out = Vec::new();
    let mut k = first;
    // Bounded even for pathological inputs.
    while k <= last && out.len() < 64 {
        let v = k * step;
        // Snap away float noise (0.30000000000000004) and negative zero.
        let v = if v.abs() < step * 1e-9 { 0.0 } else { v };
        out.push(v);
        k += 1.0;
    }
    (out, step)
}

/// A short label for tick value `v` on an axis of tick spacing `step`: `0.25`, `1e-4`, `12.5k`, `3M`.
pub fn tick_label(v: f64, step: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    // Round to the step's precision so float noise never shows.
    let decimals = if step > 0.0 && step < 1.0 {
        (-step.log10().floor()) as i32 + 1
    } else {
        0
    };
    let scale = 10f64.powi(decimals.clamp(0, 300));
    let v = if scale.is_finite() && (v * scale).is_finite() {
        (v * scale).round() / scale
    } else {
        v
    };
    let a = v.abs();
    if (1e4..1e15).contains(&a) && step >= 1.0 {
        let (div, suffix) = if a >= 1e12 {
            (1e12, "T")
        } else if a >= 1e9 {
            (1e9, "G")
        } else if a >= 1e6 {
            (1e6, "M")
        } else {
            (1e3, "k")
        };
        return format!("{}{suffix}", trim_decimals(&format!("{:.3}", v / div)));
    }
    let s = display(v);
    match s.split_once('e') {
        Some((mant, exp)) => format!("{}e{exp}", trim_decimals(mant)),
        None => s,
    }
}

fn trim_decimals(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}
