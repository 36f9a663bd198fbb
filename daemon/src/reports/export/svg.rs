//! A line chart as a standalone SVG for the Markdown export: axes with ticks, each run's (or
//! group's) line — the raw line faded under the smoothed one when smoothing is on, a group's band
//! filled — and a legend. All text is escaped; no script, no external reference.

use super::chart::{Chart, Line};
use std::fmt::Write;
use trackline_shared::markdown::escape;

const WIDTH: f64 = 720.0;
const PLOT_TOP: f64 = 28.0;
const PLOT_HEIGHT: f64 = 260.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const LEGEND_ROW: f64 = 18.0;
/// Most legend entries; the rest are summed up in one line.
const MAX_LEGEND: usize = 20;

/// One axis: its domain and whether it is log10-scaled.
#[derive(Clone, Copy, Debug)]
pub struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub log: bool,
}

impl Axis {
    fn t(&self, v: f64) -> f64 {
        if self.log { v.log10() } else { v }
    }

    /// Where `v` falls, 0 at `lo` and 1 at `hi`.
    pub fn frac(&self, v: f64) -> f64 {
        let (a, b) = (self.t(self.lo), self.t(self.hi));
        if b == a {
            0.5
        } else {
            (self.t(v) - a) / (b - a)
        }
    }

    /// About `target` round tick values inside the domain.
    pub fn ticks(&self, target: usize) -> Vec<f64> {
        if self.log {
            let (a, b) = (
                self.lo.log10().ceil() as i32,
                self.hi.log10().floor() as i32,
            );
            if b - a >= 1 {
                let every = ((b - a) as usize / target.max(1)).max(1);
                return (a..=b).step_by(every).map(|e| 10f64.powi(e)).collect();
            }
        }
        let step = nice_step((self.hi - self.lo) / target.max(1) as f64);
        if !(step.is_finite() && step > 0.0) {
            return vec![self.lo];
        }
        let mut v = (self.lo / step).ceil() * step;
        let mut out = Vec::new();
        while v <= self.hi + step * 1e-9 && out.len() < 50 {
            out.push(if v.abs() < step * 1e-9 { 0.0 } else { v });
            v += step;
        }
        out
    }
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let p = 10f64.powf(raw.log10().floor());
    let m = raw / p;
    p * if m <= 1.0 {
        1.0
    } else if m <= 2.0 {
        2.0
    } else if m <= 5.0 {
        5.0
    } else {
        10.0
    }
}

/// The y domain of the lines' drawn values (and bands), padded; `None` with nothing to draw.
pub fn y_domain(lines: &[Line], log: bool) -> Option<Axis> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for l in lines {
        let bands = if l.group {
            [&l.lo, &l.hi]
        } else {
            [&l.y, &l.y]
        };
        for v in
            l.y.iter()
                .chain(&l.smooth)
                .chain(bands[0])
                .chain(bands[1])
                .flatten()
        {
            lo = lo.min(*v);
            hi = hi.max(*v);
        }
    }
    if lo > hi {
        return None;
    }
    Some(if log {
        let (a, b) = (lo.log10(), hi.log10());
        let pad = if b > a { (b - a) * 0.05 } else { 0.5 };
        Axis {
            lo: 10f64.powf(a - pad),
            hi: 10f64.powf(b + pad),
            log,
        }
    } else {
        let pad = if hi > lo {
            (hi - lo) * 0.05
        } else {
            lo.abs().max(1.0) * 0.5
        };
        Axis {
            lo: lo - pad,
            hi: hi + pad,
            log,
        }
    })
}

/// A tick's label: dates for wall time, else a short number.
pub fn tick_label(v: f64, time: bool) -> String {
    if time {
        // `YYYY-MM-DD HH:MM:SS UTC` → `MM-DD HH:MM`.
        let s = crate::util::utc_seconds(v);
        return s.get(5..16).unwrap_or(&s).to_string();
    }
    if v == 0.0 {
        return "0".into();
    }
    if v.abs() >= 1e5 || v.abs() < 1e-3 {
        return format!("{v:.1e}");
    }
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The chart as an SVG document.
pub fn render(chart: &Chart) -> String {
    let legend_rows =
        chart.lines.len().min(MAX_LEGEND) + usize::from(chart.lines.len() > MAX_LEGEND);
    let height = PLOT_TOP + PLOT_HEIGHT + 44.0 + legend_rows as f64 * LEGEND_ROW;
    let pw = WIDTH - LEFT - RIGHT;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\" font-family=\"sans-serif\" font-size=\"11\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n\
         <text x=\"{LEFT}\" y=\"18\" font-size=\"13\" font-weight=\"bold\">{}</text>",
        escape(&chart.key)
    );
    let x_axis = chart.window.map(|(lo, hi)| Axis {
        lo,
        hi: if hi > lo { hi } else { lo + 1.0 },
        log: chart.x_log,
    });
    let y_axis = y_domain(&chart.lines, chart.y_log);
    let _ = writeln!(
        s,
        "<rect x=\"{LEFT}\" y=\"{PLOT_TOP}\" width=\"{pw}\" height=\"{PLOT_HEIGHT}\" fill=\"none\" \
         stroke=\"#cccccc\"/>"
    );
    let (Some(xa), Some(ya)) = (x_axis, y_axis) else {
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#777777\">no data</text>\n</svg>",
            LEFT + pw / 2.0,
            PLOT_TOP + PLOT_HEIGHT / 2.0
        );
        return s;
    };
    let px = |x: f64| LEFT + xa.frac(x) * pw;
    let py = |y: f64| PLOT_TOP + (1.0 - ya.frac(y)) * PLOT_HEIGHT;
    let bottom = PLOT_TOP + PLOT_HEIGHT;
    for t in xa.ticks(6) {
        let x = px(t);
        let _ = writeln!(
            s,
            "<line x1=\"{x:.1}\" y1=\"{PLOT_TOP}\" x2=\"{x:.1}\" y2=\"{bottom}\" stroke=\"#eeeeee\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            bottom + 14.0,
            escape(&tick_label(t, chart.x_time))
        );
    }
    for t in ya.ticks(5) {
        let y = py(t);
        let _ = writeln!(
            s,
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#eeeeee\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            LEFT + pw,
            LEFT - 4.0,
            y + 4.0,
            escape(&tick_label(t, false))
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555555\">{}</text>",
        LEFT + pw / 2.0,
        bottom + 30.0,
        escape(&chart.x_name)
    );
    let _ = writeln!(
        s,
        "<clipPath id=\"plot\"><rect x=\"{LEFT}\" y=\"{PLOT_TOP}\" width=\"{pw}\" height=\"{PLOT_HEIGHT}\"/></clipPath>\n<g clip-path=\"url(#plot)\" fill=\"none\" stroke-linejoin=\"round\">"
    );
    for l in &chart.lines {
        if l.group && !l.lo.is_empty() {
            band(&mut s, l, &px, &py);
        }
        let smoothed = !l.smooth.is_empty();
        let raw_opacity = if smoothed { 0.3 } else { 1.0 };
        path(&mut s, &l.x, &l.y, l.color, raw_opacity, &px, &py);
        if smoothed {
            path(&mut s, &l.x, &l.smooth, l.color, 1.0, &px, &py);
        }
    }
    s.push_str("</g>\n");
    let mut y = bottom + 48.0;
    for l in chart.lines.iter().take(MAX_LEGEND) {
        let _ = writeln!(
            s,
            "<rect x=\"{LEFT}\" y=\"{:.1}\" width=\"12\" height=\"3\" fill=\"{}\"/>\
             <text x=\"{:.1}\" y=\"{y:.1}\">{}</text>",
            y - 5.0,
            l.color,
            LEFT + 18.0,
            escape(&l.label)
        );
        y += LEGEND_ROW;
    }
    if chart.lines.len() > MAX_LEGEND {
        let _ = writeln!(
            s,
            "<text x=\"{LEFT}\" y=\"{y:.1}\" fill=\"#555555\">and {} more</text>",
            chart.lines.len() - MAX_LEGEND
        );
    }
    s.push_str("</svg>\n");
    s
}

/// A polyline through the points with a value, broken where there is none; a point alone is a
/// dot.
fn path(
    s: &mut String,
    xs: &[f64],
    ys: &[Option<f64>],
    color: &str,
    opacity: f64,
    px: &impl Fn(f64) -> f64,
    py: &impl Fn(f64) -> f64,
) {
    let mut d = String::new();
    // Points with no neighbour on either side are drawn as dots (a path of one point is invisible).
    let mut alone: Vec<(f64, f64)> = Vec::new();
    let mut run = 0;
    for i in 0..=xs.len() {
        match ys.get(i).copied().flatten() {
            Some(y) => {
                let _ = write!(
                    d,
                    "{}{:.1},{:.1}",
                    if run > 0 { "L" } else { "M" },
                    px(xs[i]),
                    py(y)
                );
                run += 1;
            }
            None => {
                if run == 1
                    && let Some(y) = ys[i - 1]
                {
                    alone.push((px(xs[i - 1]), py(y)));
                }
                run = 0;
            }
        }
    }
    for (x, y) in alone {
        let _ = writeln!(
            s,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"2\" fill=\"{color}\" fill-opacity=\"{opacity}\"/>"
        );
    }
    if !d.is_empty() {
        let _ = writeln!(
            s,
            "<path d=\"{d}\" stroke=\"{color}\" stroke-width=\"1.5\" stroke-opacity=\"{opacity}\"/>"
        );
    }
}

/// A group's band: the area between `lo` and `hi` where both are known.
fn band(s: &mut String, l: &Line, px: &impl Fn(f64) -> f64, py: &impl Fn(f64) -> f64) {
    let pts: Vec<(f64, f64, f64)> =
        l.x.iter()
            .zip(l.lo.iter().zip(&l.hi))
            .filter_map(|(&x, (lo, hi))| Some((x, (*lo)?, (*hi)?)))
            .collect();
    if pts.len() < 2 {
        return;
    }
    let mut d = String::new();
    for (i, (x, _, hi)) in pts.iter().enumerate() {
        let _ = write!(
            d,
            "{}{:.1},{:.1}",
            if i == 0 { "M" } else { "L" },
            px(*x),
            py(*hi)
        );
    }
    for (x, lo, _) in pts.iter().rev() {
        let _ = write!(d, "L{:.1},{:.1}", px(*x), py(*lo));
    }
    let _ = writeln!(
        s,
        "<path d=\"{d}Z\" fill=\"{}\" fill-opacity=\"0.2\" stroke=\"none\"/>",
        l.color
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_inside() {
        let a = Axis {
            lo: 0.0,
            hi: 97.0,
            log: false,
        };
        assert_eq!(a.ticks(5), [0.0, 20.0, 40.0, 60.0, 80.0]);
        let l = Axis {
            lo: 0.5,
            hi: 2000.0,
            log: true,
        };
        assert_eq!(l.ticks(6), [1.0, 10.0, 100.0, 1000.0]);
        assert_eq!(tick_label(0.30000000000000004, false), "0.3");
        assert_eq!(tick_label(86_400.0 + 3_660.0, true), "01-02 01:01");
    }
}
