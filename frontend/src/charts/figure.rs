//! A figure as plain data (subplots, traces of scatter, bar, heatmap and box kind) laid out into
//! drawing [`Shape`]s and hover targets for a canvas of a given size. Plotly JSON
//! ([`super::plotly_traces`]) and W&B custom charts ([`super::custom_tables`]) both become a
//! [`Figure`], so they are drawn by one painter in `media/` and tested here on the host.

use super::plot::Axis;
use super::{nice_ticks, tick_label};

/// A colour with alpha, parsed from the CSS forms plotly JSON uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgba(pub [u8; 4]);

impl Rgba {
    pub const BLACK: Rgba = Rgba([0, 0, 0, 255]);
    pub const TEXT: Rgba = Rgba([31, 35, 40, 255]);
    pub const MUTED: Rgba = Rgba([101, 109, 118, 255]);
    pub const GRID: Rgba = Rgba([234, 238, 242, 255]);
    pub const AXIS: Rgba = Rgba([140, 149, 159, 255]);
    pub const WHITE: Rgba = Rgba([255, 255, 255, 255]);

    /// The CSS text of the colour, for `fillStyle`/`strokeStyle`.
    pub fn css(self) -> String {
        let [r, g, b, a] = self.0;
        if a == 255 {
            format!("#{r:02x}{g:02x}{b:02x}")
        } else {
            format!("rgba({r},{g},{b},{:.3})", f64::from(a) / 255.0)
        }
    }

    pub fn with_alpha(self, alpha: f64) -> Rgba {
        let [r, g, b, _] = self.0;
        Rgba([r, g, b, (alpha.clamp(0.0, 1.0) * 255.0).round() as u8])
    }

    /// The colour scaled towards black (`f` < 1) for shading faces.
    pub fn shade(self, f: f64) -> Rgba {
        let [r, g, b, a] = self.0;
        let s = |c: u8| (f64::from(c) * f.clamp(0.0, 1.0)).round() as u8;
        Rgba([s(r), s(g), s(b), a])
    }

    /// `#rgb`, `#rrggbb`, `#rrggbbaa`, `rgb(…)`, `rgba(…)` and a few named colours; `None`
    /// otherwise.
    pub fn parse(s: &str) -> Option<Rgba> {
        let s = s.trim();
        if let Some(hex) = s.strip_prefix('#') {
            let digit = |i: usize| u8::from_str_radix(hex.get(i..i + 1)?, 16).ok();
            let byte = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
            return match hex.len() {
                3 => Some(Rgba([digit(0)? * 17, digit(1)? * 17, digit(2)? * 17, 255])),
                6 => Some(Rgba([byte(0)?, byte(2)?, byte(4)?, 255])),
                8 => Some(Rgba([byte(0)?, byte(2)?, byte(4)?, byte(6)?])),
                _ => None,
            };
        }
        let lower: String = s
            .to_ascii_lowercase()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if let Some(inner) = lower
            .strip_prefix("rgba(")
            .or_else(|| lower.strip_prefix("rgb("))
            .and_then(|r| r.strip_suffix(')'))
        {
            let parts: Vec<f64> = inner
                .split(',')
                .map(|p| p.trim().trim_end_matches('%').parse::<f64>())
                .collect::<Result<_, _>>()
                .ok()?;
            let c = |v: f64| v.clamp(0.0, 255.0).round() as u8;
            return match parts[..] {
                [r, g, b] => Some(Rgba([c(r), c(g), c(b), 255])),
                [r, g, b, a] => Some(Rgba([c(r), c(g), c(b), c(a * 255.0)])),
                _ => None,
            };
        }
        let named = match lower.as_str() {
            "black" => "#000000",
            "white" => "#ffffff",
            "red" => "#ff0000",
            "green" => "#008000",
            "blue" => "#0000ff",
            "orange" => "#ffa500",
            "purple" => "#800080",
            "gray" | "grey" => "#808080",
            "yellow" => "#ffff00",
            "cyan" => "#00ffff",
            "magenta" => "#ff00ff",
            "brown" => "#a52a2a",
            "pink" => "#ffc0cb",
            "navy" => "#000080",
            "teal" => "#008080",
            "olive" => "#808000",
            "maroon" => "#800000",
            "lightblue" => "#add8e6",
            "darkblue" => "#00008b",
            "lightgray" | "lightgrey" => "#d3d3d3",
            "darkgray" | "darkgrey" => "#a9a9a9",
            "steelblue" => "#4682b4",
            "tomato" => "#ff6347",
            "gold" => "#ffd700",
            "crimson" => "#dc143c",
            "royalblue" => "#4169e1",
            "firebrick" => "#b22222",
            "seagreen" => "#2e8b57",
            "indigo" => "#4b0082",
            "transparent" => return Some(Rgba([0, 0, 0, 0])),
            _ => return None,
        };
        Rgba::parse(named)
    }
}

/// Plotly's default trace colours (its `plotly` template's colorway).
pub const COLORWAY: [Rgba; 10] = [
    Rgba([0x63, 0x6e, 0xfa, 255]),
    Rgba([0xef, 0x55, 0x3b, 255]),
    Rgba([0x00, 0xcc, 0x96, 255]),
    Rgba([0xab, 0x63, 0xfa, 255]),
    Rgba([0xff, 0xa1, 0x5a, 255]),
    Rgba([0x19, 0xd3, 0xf3, 255]),
    Rgba([0xff, 0x66, 0x92, 255]),
    Rgba([0xb6, 0xe8, 0x80, 255]),
    Rgba([0xff, 0x97, 0xff, 255]),
    Rgba([0xfe, 0xcb, 0x52, 255]),
];

/// A continuous colour scale: stops `(t in 0..=1, colour)`, ascending.
#[derive(Clone, Debug, PartialEq)]
pub struct ColorScale(pub Vec<(f64, Rgba)>);

impl ColorScale {
    /// Viridis (9 stops), the default of every heatmap here.
    pub fn viridis() -> ColorScale {
        let stops = [
            "#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30",
            "#fde725",
        ];
        ColorScale::even(&stops)
    }

    /// White to dark blue, for counts where zero should look empty (confusion matrices).
    pub fn blues() -> ColorScale {
        ColorScale::even(&[
            "#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#084594",
        ])
    }

    fn even(stops: &[&str]) -> ColorScale {
        let n = (stops.len() - 1).max(1) as f64;
        ColorScale(
            stops
                .iter()
                .enumerate()
                .filter_map(|(i, s)| Some((i as f64 / n, Rgba::parse(s)?)))
                .collect(),
        )
    }

    /// The colour at `t` (clamped to 0..=1), interpolated between stops.
    pub fn at(&self, t: f64) -> Rgba {
        let t = if t.is_finite() {
            t.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let stops = &self.0;
        let Some(first) = stops.first() else {
            return Rgba::BLACK;
        };
        if t <= first.0 {
            return first.1;
        }
        for w in stops.windows(2) {
            let ((t0, c0), (t1, c1)) = (w[0], w[1]);
            if t <= t1 {
                let f = if t1 > t0 { (t - t0) / (t1 - t0) } else { 1.0 };
                let mix =
                    |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
                return Rgba([
                    mix(c0.0[0], c1.0[0]),
                    mix(c0.0[1], c1.0[1]),
                    mix(c0.0[2], c1.0[2]),
                    mix(c0.0[3], c1.0[3]),
                ]);
            }
        }
        stops.last().map_or(Rgba::BLACK, |s| s.1)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
}

/// One thing to paint, in CSS pixels from the canvas's top left.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    Line {
        pts: Vec<(f64, f64)>,
        color: Rgba,
        width: f64,
        dash: bool,
    },
    /// A filled polygon.
    Fill {
        pts: Vec<(f64, f64)>,
        color: Rgba,
    },
    Rect {
        x: f64,
        y: f64,
        w: f64,
        h: f64,
        color: Rgba,
    },
    Dot {
        x: f64,
        y: f64,
        r: f64,
        color: Rgba,
    },
    /// Text centred vertically on `y`; `vertical` turns it a quarter anticlockwise.
    Text {
        x: f64,
        y: f64,
        text: String,
        color: Rgba,
        align: Align,
        size: f64,
        vertical: bool,
    },
    /// Later shapes are clipped to this rectangle until [`Shape::Unclip`].
    Clip {
        x: f64,
        y: f64,
        w: f64,
        h: f64,
    },
    Unclip,
}

/// What the hover read-out says near a place of the drawing.
#[derive(Clone, Debug, PartialEq)]
pub struct HoverTarget {
    /// A point (`w == h == 0`) or a rectangle.
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    pub text: String,
}

impl HoverTarget {
    fn distance(&self, px: f64, py: f64) -> f64 {
        let dx = (self.x - px).max(px - (self.x + self.w)).max(0.0);
        let dy = (self.y - py).max(py - (self.y + self.h)).max(0.0);
        dx.hypot(dy)
    }
}

/// The target nearest to `(px, py)` within `reach` pixels; among targets the point is inside of
/// (bars, cells), the smallest wins, so a marker over a bar is found.
pub fn hover_at(targets: &[HoverTarget], px: f64, py: f64, reach: f64) -> Option<&HoverTarget> {
    targets
        .iter()
        .map(|t| (t.distance(px, py), t.w * t.h, t))
        .filter(|(d, _, _)| *d <= reach)
        .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)))
        .map(|(_, _, t)| t)
}

/// One axis of a subplot as the figure declares it.
#[derive(Clone, Debug, PartialEq)]
pub struct AxisSpec {
    pub title: Option<String>,
    pub log: bool,
    /// A fixed range, in data units (plotly's log ranges are converted when read).
    pub range: Option<(f64, f64)>,
    /// The share of the figure's plot area this axis spans (plotly's `domain`).
    pub domain: (f64, f64),
    /// Category labels: values on this axis are indices into them.
    pub categories: Vec<String>,
    /// Largest value on top / right (false for plotly's `autorange: "reversed"`).
    pub reversed: bool,
}

impl Default for AxisSpec {
    fn default() -> Self {
        AxisSpec {
            title: None,
            log: false,
            range: None,
            domain: (0.0, 1.0),
            categories: Vec::new(),
            reversed: false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Subplot {
    pub x: AxisSpec,
    pub y: AxisSpec,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BarMode {
    #[default]
    Group,
    Stack,
    Overlay,
    /// Stacked, positives up and negatives down.
    Relative,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FillMode {
    #[default]
    None,
    ToZeroY,
    ToZeroX,
    ToNextY,
    ToSelf,
}

/// Five-number summary of a box.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BoxStats {
    pub lower_whisker: f64,
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
    pub upper_whisker: f64,
    pub mean: Option<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TraceKind {
    Scatter {
        x: Vec<f64>,
        y: Vec<f64>,
        lines: bool,
        markers: bool,
        fill: FillMode,
        width: f64,
        dash: bool,
        marker_size: f64,
        /// Per-point marker colours, when the trace gives them.
        marker_colors: Vec<Rgba>,
    },
    /// Bars at positions `pos` (on x, or on y when `horizontal`) of lengths `len` from `base`.
    Bar {
        pos: Vec<f64>,
        len: Vec<f64>,
        base: Vec<f64>,
        horizontal: bool,
        /// Bar width in data units; `None` = fit the spacing of positions.
        width: Option<f64>,
        colors: Vec<Rgba>,
    },
    /// `z[row][col]`, rows along y, columns along x.
    Heatmap {
        x: Vec<f64>,
        y: Vec<f64>,
        z: Vec<Vec<f64>>,
        scale: ColorScale,
        show_values: bool,
    },
    /// Boxes at positions on the other axis.
    Box {
        boxes: Vec<(f64, BoxStats)>,
        horizontal: bool,
        outliers: Vec<(f64, f64)>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    pub name: String,
    pub color: Rgba,
    pub subplot: usize,
    pub legend: bool,
    pub kind: TraceKind,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Figure {
    pub title: Option<String>,
    pub subplots: Vec<Subplot>,
    pub traces: Vec<Trace>,
    pub barmode: BarMode,
    /// Traces the figure holds that are not drawn, each said in one line (never dropped silently).
    pub not_drawn: Vec<String>,
    pub show_legend: bool,
    /// The figure's own height in CSS pixels (plotly's `layout.height`), when it sets one.
    pub height: Option<f64>,
}

impl Figure {
    /// Legend entries: trace names and colours, in trace order.
    pub fn legend(&self) -> Vec<(String, Rgba)> {
        self.traces
            .iter()
            .filter(|t| t.legend)
            .map(|t| (t.name.clone(), t.color))
            .collect()
    }
}

/// A figure laid out for a canvas: what to paint and what the pointer can read.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Rendered {
    pub shapes: Vec<Shape>,
    pub hover: Vec<HoverTarget>,
}

/// Space around the plot area (CSS px); axis titles sit in the margins.
const MARGIN_LEFT: f64 = 64.0;
const MARGIN_RIGHT: f64 = 14.0;
const MARGIN_TOP: f64 = 10.0;
const MARGIN_BOTTOM: f64 = 42.0;
/// Gap between subplots (CSS px).
const SUBPLOT_GAP: f64 = 24.0;

/// Formats a value for read-outs.
pub fn fmt_value(v: f64) -> String {
    trackline_shared::num::display(v)
}

/// The label of value `v` on axis `spec`: its category, or the number.
fn axis_value(spec: &AxisSpec, v: f64) -> String {
    if !spec.categories.is_empty() {
        let i = v.round();
        if (i - v).abs() < 1e-9
            && i >= 0.0
            && let Some(c) = spec.categories.get(i as usize)
        {
            return c.clone();
        }
    }
    fmt_value(v)
}

/// The extent of every value a subplot's traces put on x and on y.
fn extents(fig: &Figure, sub: usize, bars: &BarGeometry) -> (Extent, Extent) {
    let (mut ex, mut ey) = (Extent::default(), Extent::default());
    for (ti, t) in fig
        .traces
        .iter()
        .enumerate()
        .filter(|(_, t)| t.subplot == sub)
    {
        match &t.kind {
            TraceKind::Scatter { x, y, fill, .. } => {
                for (&a, &b) in x.iter().zip(y) {
                    if a.is_finite() && b.is_finite() {
                        ex.add(a);
                        ey.add(b);
                    }
                }
                match fill {
                    FillMode::ToZeroY => ey.add(0.0),
                    FillMode::ToZeroX => ex.add(0.0),
                    _ => {}
                }
            }
            TraceKind::Bar { horizontal, .. } => {
                let (pos_ext, len_ext) = if *horizontal {
                    (&mut ey, &mut ex)
                } else {
                    (&mut ex, &mut ey)
                };
                for b in bars.of_trace(ti) {
                    pos_ext.add(b.pos - b.half);
                    pos_ext.add(b.pos + b.half);
                    len_ext.add(b.from);
                    len_ext.add(b.to);
                }
            }
            TraceKind::Heatmap { x, y, z, .. } => {
                let cols = z.iter().map(Vec::len).max().unwrap_or(0);
                for e in cell_edges(x, cols) {
                    ex.add(e);
                }
                for e in cell_edges(y, z.len()) {
                    ey.add(e);
                }
            }
            TraceKind::Box {
                boxes,
                horizontal,
                outliers,
            } => {
                let (pos_ext, val_ext) = if *horizontal {
                    (&mut ey, &mut ex)
                } else {
                    (&mut ex, &mut ey)
                };
                for (p, s) in boxes {
                    pos_ext.add(p - 0.5);
                    pos_ext.add(p + 0.5);
                    val_ext.add(s.lower_whisker);
                    val_ext.add(s.upper_whisker);
                }
                for &(p, v) in outliers {
                    pos_ext.add(p);
                    val_ext.add(v);
                }
            }
        }
    }
    (ex, ey)
}

#[derive(Clone, Copy, Debug, Default)]
struct Extent {
    lo: Option<f64>,
    hi: Option<f64>,
    /// Smallest positive value, for log axes.
    lo_pos: Option<f64>,
}

impl Extent {
    fn add(&mut self, v: f64) {
        if !v.is_finite() {
            return;
        }
        self.lo = Some(self.lo.map_or(v, |l| l.min(v)));
        self.hi = Some(self.hi.map_or(v, |h| h.max(v)));
        if v > 0.0 {
            self.lo_pos = Some(self.lo_pos.map_or(v, |l| l.min(v)));
        }
    }

    /// The domain to draw, padded by 4 % of its span on linear axes.
    fn domain(&self, spec: &AxisSpec, pad: bool) -> (f64, f64) {
        if let Some(r) = spec.range {
            return r;
        }
        if spec.log {
            let (Some(lo), Some(hi)) = (self.lo_pos, self.hi) else {
                return (1.0, 10.0);
            };
            if hi <= lo {
                return (lo / 10.0, lo * 10.0);
            }
            let (a, b) = (lo.log10(), hi.log10());
            let p = if pad { (b - a) * 0.04 } else { 0.0 };
            return (10f64.powf(a - p), 10f64.powf(b + p));
        }
        let (Some(lo), Some(hi)) = (self.lo, self.hi) else {
            return (0.0, 1.0);
        };
        if hi <= lo {
            let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
            return (lo - d, hi + d);
        }
        let p = if pad { (hi - lo) * 0.04 } else { 0.0 };
        (lo - p, hi + p)
    }
}

/// A category axis without a fixed range spans half a slot beyond its first and last category,
/// as plotly's does, so bars and cells at the ends are whole.
fn category_room(spec: &AxisSpec, d: (f64, f64)) -> (f64, f64) {
    if spec.categories.is_empty() || spec.range.is_some() {
        return d;
    }
    let n = spec.categories.len() as f64;
    (d.0.min(-0.5), d.1.max(n - 0.5))
}

/// How many ticks fit along `len` pixels: category labels need room for their text.
fn tick_target(spec: &AxisSpec, len: f64, spacing: f64, horizontal: bool) -> usize {
    let room = if spec.categories.is_empty() {
        spacing
    } else if horizontal {
        let longest = spec
            .categories
            .iter()
            .map(|c| c.chars().count().min(12))
            .max()
            .unwrap_or(1);
        (longest as f64 * 6.5 + 10.0).max(16.0)
    } else {
        16.0
    };
    (len / room).max(3.0) as usize
}

/// Edges of `n` cells centred on `coords` (indices when `coords` is short).
pub fn cell_edges(coords: &[f64], n: usize) -> Vec<f64> {
    if n == 0 {
        return Vec::new();
    }
    let c: Vec<f64> = if coords.len() >= n {
        coords[..n].to_vec()
    } else {
        (0..n).map(|i| i as f64).collect()
    };
    if c.len() == 1 {
        return vec![c[0] - 0.5, c[0] + 0.5];
    }
    let mut edges = Vec::with_capacity(n + 1);
    edges.push(c[0] - (c[1] - c[0]) / 2.0);
    for w in c.windows(2) {
        edges.push((w[0] + w[1]) / 2.0);
    }
    edges.push(c[n - 1] + (c[n - 1] - c[n - 2]) / 2.0);
    edges
}

/// One laid-out bar in data units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlacedBar {
    pub trace: usize,
    pub index: usize,
    /// Centre on the position axis and half its width.
    pub pos: f64,
    pub half: f64,
    /// Extent on the value axis.
    pub from: f64,
    pub to: f64,
}

/// Bars of every trace placed by the figure's bar mode (grouped side by side, stacked, overlaid).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BarGeometry {
    pub bars: Vec<PlacedBar>,
}

impl BarGeometry {
    fn of_trace(&self, trace: usize) -> impl Iterator<Item = &PlacedBar> {
        self.bars.iter().filter(move |b| b.trace == trace)
    }
}

/// Places the bars of all bar traces: per subplot and orientation, the slot width is 80 % of the
/// smallest spacing between positions; grouped bars split it, stacked ones share it and pile up
/// (relative mode piles negatives downwards).
pub fn place_bars(fig: &Figure) -> BarGeometry {
    let mut out = BarGeometry::default();
    let mut groups: Vec<(usize, bool, Vec<usize>)> = Vec::new();
    for (i, t) in fig.traces.iter().enumerate() {
        if let TraceKind::Bar { horizontal, .. } = t.kind {
            match groups
                .iter_mut()
                .find(|(s, h, _)| *s == t.subplot && *h == horizontal)
            {
                Some(g) => g.2.push(i),
                None => groups.push((t.subplot, horizontal, vec![i])),
            }
        }
    }
    for (_, _, members) in groups {
        let mut positions: Vec<f64> = members
            .iter()
            .flat_map(|&i| match &fig.traces[i].kind {
                TraceKind::Bar { pos, .. } => pos.clone(),
                _ => Vec::new(),
            })
            .filter(|p| p.is_finite())
            .collect();
        positions.sort_by(f64::total_cmp);
        positions.dedup();
        let spacing = positions
            .windows(2)
            .map(|w| w[1] - w[0])
            .filter(|d| *d > 0.0)
            .fold(f64::INFINITY, f64::min);
        let slot = if spacing.is_finite() {
            spacing * 0.8
        } else {
            0.8
        };
        let n = members.len() as f64;
        // Running stack tops per position (positive, negative).
        let mut tops: Vec<(f64, f64, f64)> = Vec::new();
        for (k, &ti) in members.iter().enumerate() {
            let TraceKind::Bar {
                pos,
                len,
                base,
                width,
                ..
            } = &fig.traces[ti].kind
            else {
                continue;
            };
            for (j, (&p, &l)) in pos.iter().zip(len).enumerate() {
                if !(p.is_finite() && l.is_finite()) {
                    continue;
                }
                let b0 = base
                    .get(j)
                    .copied()
                    .filter(|b| b.is_finite())
                    .unwrap_or(0.0);
                let (centre, half, from, to) = match fig.barmode {
                    BarMode::Group => {
                        let w = width.unwrap_or(slot / n);
                        let c = if width.is_some() {
                            p
                        } else {
                            p - slot / 2.0 + (k as f64 + 0.5) * (slot / n)
                        };
                        (c, w / 2.0, b0, b0 + l)
                    }
                    BarMode::Overlay => (p, width.unwrap_or(slot) / 2.0, b0, b0 + l),
                    BarMode::Stack | BarMode::Relative => {
                        let idx = match tops.iter().position(|t| t.0 == p) {
                            Some(i) => i,
                            None => {
                                tops.push((p, 0.0, 0.0));
                                tops.len() - 1
                            }
                        };
                        let t = &mut tops[idx];
                        let down = fig.barmode == BarMode::Relative && l < 0.0;
                        let start = if down { t.2 } else { t.1 };
                        if down {
                            t.2 += l;
                        } else {
                            t.1 += l;
                        }
                        (p, width.unwrap_or(slot) / 2.0, start, start + l)
                    }
                };
                out.bars.push(PlacedBar {
                    trace: ti,
                    index: j,
                    pos: centre,
                    half,
                    from,
                    to,
                });
            }
        }
    }
    out
}

/// Ticks of an axis: category labels at their indices, decades on log axes, nice numbers else.
fn axis_ticks(axis: &Axis, spec: &AxisSpec, target: usize) -> Vec<(f64, String)> {
    let (lo, hi) = (axis.lo.min(axis.hi), axis.lo.max(axis.hi));
    if !spec.categories.is_empty() {
        let n = spec.categories.len();
        let every = n.div_ceil(target.max(1)).max(1);
        return spec
            .categories
            .iter()
            .enumerate()
            .filter(|(i, _)| i % every == 0)
            .map(|(i, c)| (i as f64, c.clone()))
            .filter(|(v, _)| *v >= lo - 1e-9 && *v <= hi + 1e-9)
            .collect();
    }
    if spec.log && lo > 0.0 {
        let (a, b) = (lo.log10().ceil() as i32, hi.log10().floor() as i32);
        if b >= a {
            let every = ((b - a + 1) as usize).div_ceil(target.max(1)).max(1);
            return (a..=b)
                .filter(|e| ((e - a) as usize).is_multiple_of(every))
                .map(|e| {
                    let v = 10f64.powi(e);
                    (v, tick_label(v, v))
                })
                .collect();
        }
    }
    let (ticks, step) = nice_ticks(lo, hi, target, false);
    ticks
        .into_iter()
        .map(|v| (v, tick_label(v, step)))
        .collect()
}

/// Cuts a label to `max` characters with an ellipsis.
fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Lays the figure out on a `width` × `height` CSS-pixel canvas.
pub fn render(fig: &Figure, width: f64, height: f64) -> Rendered {
    let mut out = Rendered::default();
    out.shapes.push(Shape::Rect {
        x: 0.0,
        y: 0.0,
        w: width,
        h: height,
        color: Rgba::WHITE,
    });
    let bars = place_bars(fig);
    let area = (
        MARGIN_LEFT,
        MARGIN_TOP,
        (width - MARGIN_LEFT - MARGIN_RIGHT).max(10.0),
        (height - MARGIN_TOP - MARGIN_BOTTOM).max(10.0),
    );
    let many = fig.subplots.len() > 1;
    for (si, sub) in fig.subplots.iter().enumerate() {
        let gap = if many { SUBPLOT_GAP / 2.0 } else { 0.0 };
        let (dx0, dx1) = sub.x.domain;
        let (dy0, dy1) = sub.y.domain;
        let left = area.0 + dx0 * area.2 + if dx0 > 0.0 { gap } else { 0.0 };
        let right = area.0 + dx1 * area.2 - if dx1 < 1.0 { gap } else { 0.0 };
        let top = area.1 + (1.0 - dy1) * area.3 + if dy1 < 1.0 { gap } else { 0.0 };
        let bottom = area.1 + (1.0 - dy0) * area.3 - if dy0 > 0.0 { gap } else { 0.0 };
        if right - left < 4.0 || bottom - top < 4.0 {
            continue;
        }
        let (ex, ey) = extents(fig, si, &bars);
        let has_bars = |h: bool| {
            fig.traces.iter().any(|t| {
                t.subplot == si
                    && matches!(t.kind, TraceKind::Bar { horizontal, .. } if horizontal == h)
            })
        };
        let only_cells = fig
            .traces
            .iter()
            .filter(|t| t.subplot == si)
            .all(|t| matches!(t.kind, TraceKind::Heatmap { .. }));
        let (xd, yd) = (
            category_room(&sub.x, ex.domain(&sub.x, !has_bars(false) && !only_cells)),
            category_room(&sub.y, ey.domain(&sub.y, !has_bars(true) && !only_cells)),
        );
        let xa = Axis {
            lo: if sub.x.reversed { xd.1 } else { xd.0 },
            hi: if sub.x.reversed { xd.0 } else { xd.1 },
            log: sub.x.log,
            px0: left,
            len: right - left,
            flip: false,
        };
        let ya = Axis {
            lo: if sub.y.reversed { yd.1 } else { yd.0 },
            hi: if sub.y.reversed { yd.0 } else { yd.1 },
            log: sub.y.log,
            px0: top,
            len: bottom - top,
            flip: true,
        };
        let ctx = SubCtx {
            fig,
            si,
            sub,
            xa,
            ya,
        };
        draw_axes(&ctx, &mut out.shapes);
        out.shapes.push(Shape::Clip {
            x: left,
            y: top,
            w: right - left,
            h: bottom - top,
        });
        draw_traces(&ctx, &bars, &mut out);
        out.shapes.push(Shape::Unclip);
    }
    out
}

struct SubCtx<'a> {
    fig: &'a Figure,
    si: usize,
    sub: &'a Subplot,
    xa: Axis,
    ya: Axis,
}

impl SubCtx<'_> {
    fn px(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        (self.xa.drawable(x) && self.ya.drawable(y)).then(|| (self.xa.to_px(x), self.ya.to_px(y)))
    }

    fn point_text(&self, name: &str, x: f64, y: f64) -> String {
        format!(
            "{name}: x {}, y {}",
            axis_value(&self.sub.x, x),
            axis_value(&self.sub.y, y)
        )
    }
}

fn draw_axes(c: &SubCtx, shapes: &mut Vec<Shape>) {
    let (left, right) = (c.xa.px0, c.xa.px0 + c.xa.len);
    let (top, bottom) = (c.ya.px0, c.ya.px0 + c.ya.len);
    let x_target = tick_target(&c.sub.x, right - left, 70.0, true);
    let y_target = tick_target(&c.sub.y, bottom - top, 40.0, false);
    for (v, label) in axis_ticks(&c.ya, &c.sub.y, y_target) {
        let y = c.ya.to_px(v);
        if !(top - 0.5..=bottom + 0.5).contains(&y) {
            continue;
        }
        shapes.push(Shape::Line {
            pts: vec![(left, y), (right, y)],
            color: Rgba::GRID,
            width: 1.0,
            dash: false,
        });
        shapes.push(Shape::Text {
            x: left - 4.0,
            y,
            text: short(&label, 9),
            color: Rgba::MUTED,
            align: Align::Right,
            size: 10.5,
            vertical: false,
        });
    }
    for (v, label) in axis_ticks(&c.xa, &c.sub.x, x_target) {
        let x = c.xa.to_px(v);
        if !(left - 0.5..=right + 0.5).contains(&x) {
            continue;
        }
        shapes.push(Shape::Line {
            pts: vec![(x, top), (x, bottom)],
            color: Rgba::GRID,
            width: 1.0,
            dash: false,
        });
        shapes.push(Shape::Text {
            x,
            y: bottom + 10.0,
            text: short(&label, 12),
            color: Rgba::MUTED,
            align: Align::Center,
            size: 10.5,
            vertical: false,
        });
    }
    shapes.push(Shape::Line {
        pts: vec![(left, top), (left, bottom), (right, bottom)],
        color: Rgba::AXIS,
        width: 1.0,
        dash: false,
    });
    if let Some(t) = &c.sub.x.title {
        shapes.push(Shape::Text {
            x: (left + right) / 2.0,
            y: bottom + 27.0,
            text: short(t, 80),
            color: Rgba::TEXT,
            align: Align::Center,
            size: 11.5,
            vertical: false,
        });
    }
    if let Some(t) = &c.sub.y.title {
        shapes.push(Shape::Text {
            x: (left - 50.0).max(8.0),
            y: (top + bottom) / 2.0,
            text: short(t, 60),
            color: Rgba::TEXT,
            align: Align::Center,
            size: 11.5,
            vertical: true,
        });
    }
}

fn draw_traces(c: &SubCtx, bars: &BarGeometry, out: &mut Rendered) {
    let mut prev_line: Option<Vec<(f64, f64)>> = None;
    for (ti, t) in c.fig.traces.iter().enumerate() {
        if t.subplot != c.si {
            continue;
        }
        match &t.kind {
            TraceKind::Scatter {
                x,
                y,
                lines,
                markers,
                fill,
                width,
                dash,
                marker_size,
                marker_colors,
            } => {
                let pts: Vec<(f64, f64)> =
                    x.iter().zip(y).filter_map(|(&a, &b)| c.px(a, b)).collect();
                draw_fill(
                    c,
                    *fill,
                    &pts,
                    prev_line.as_deref(),
                    t.color,
                    &mut out.shapes,
                );
                if *lines {
                    // Gaps (non-finite points) break the line, as in plotly.
                    let mut run: Vec<(f64, f64)> = Vec::new();
                    for (&a, &b) in x.iter().zip(y) {
                        match c.px(a, b) {
                            Some(p) => run.push(p),
                            None => flush_line(&mut run, t.color, *width, *dash, &mut out.shapes),
                        }
                    }
                    flush_line(&mut run, t.color, *width, *dash, &mut out.shapes);
                }
                for (i, (&a, &b)) in x.iter().zip(y).enumerate() {
                    let Some((px, py)) = c.px(a, b) else { continue };
                    if *markers {
                        out.shapes.push(Shape::Dot {
                            x: px,
                            y: py,
                            r: marker_size / 2.0,
                            color: marker_colors.get(i).copied().unwrap_or(t.color),
                        });
                    }
                    out.hover.push(HoverTarget {
                        x: px,
                        y: py,
                        w: 0.0,
                        h: 0.0,
                        text: c.point_text(&t.name, a, b),
                    });
                }
                prev_line = Some(pts);
            }
            TraceKind::Bar {
                horizontal, colors, ..
            } => {
                let alpha = if c.fig.barmode == BarMode::Overlay {
                    0.6
                } else {
                    1.0
                };
                for b in bars.of_trace(ti) {
                    let (x0, x1, y0, y1) = if *horizontal {
                        (b.from, b.to, b.pos - b.half, b.pos + b.half)
                    } else {
                        (b.pos - b.half, b.pos + b.half, b.from, b.to)
                    };
                    let (Some(p0), Some(p1)) = (c.px(x0, y0), c.px(x1, y1)) else {
                        continue;
                    };
                    let rect = (
                        p0.0.min(p1.0),
                        p0.1.min(p1.1),
                        (p1.0 - p0.0).abs(),
                        (p1.1 - p0.1).abs(),
                    );
                    let color = colors.get(b.index).copied().unwrap_or(t.color);
                    out.shapes.push(Shape::Rect {
                        x: rect.0,
                        y: rect.1,
                        w: rect.2.max(1.0),
                        h: rect.3.max(1.0),
                        color: color.with_alpha(alpha * f64::from(color.0[3]) / 255.0),
                    });
                    let (pos_spec, val) = if *horizontal {
                        (&c.sub.y, b.to - b.from)
                    } else {
                        (&c.sub.x, b.to - b.from)
                    };
                    let pos_label = match &t.kind {
                        TraceKind::Bar { pos, .. } => pos.get(b.index).copied().unwrap_or(b.pos),
                        _ => b.pos,
                    };
                    out.hover.push(HoverTarget {
                        x: rect.0,
                        y: rect.1,
                        w: rect.2,
                        h: rect.3,
                        text: format!(
                            "{}: {}, {}",
                            t.name,
                            axis_value(pos_spec, pos_label),
                            fmt_value(val)
                        ),
                    });
                }
            }
            TraceKind::Heatmap {
                x,
                y,
                z,
                scale,
                show_values,
            } => draw_heatmap(c, t, (x, y, z), scale, *show_values, out),
            TraceKind::Box {
                boxes,
                horizontal,
                outliers,
            } => {
                for (p, s) in boxes {
                    draw_box(c, t, *p, s, *horizontal, out);
                }
                for &(p, v) in outliers {
                    let (x, y) = if *horizontal { (v, p) } else { (p, v) };
                    if let Some((px, py)) = c.px(x, y) {
                        out.shapes.push(Shape::Dot {
                            x: px,
                            y: py,
                            r: 2.5,
                            color: t.color,
                        });
                    }
                }
            }
        }
    }
}

fn flush_line(
    run: &mut Vec<(f64, f64)>,
    color: Rgba,
    width: f64,
    dash: bool,
    shapes: &mut Vec<Shape>,
) {
    if run.len() >= 2 {
        shapes.push(Shape::Line {
            pts: std::mem::take(run),
            color,
            width,
            dash,
        });
    }
    run.clear();
}

fn draw_fill(
    c: &SubCtx,
    fill: FillMode,
    pts: &[(f64, f64)],
    prev: Option<&[(f64, f64)]>,
    color: Rgba,
    shapes: &mut Vec<Shape>,
) {
    if pts.len() < 2 {
        return;
    }
    let color = color.with_alpha(0.35);
    let poly: Vec<(f64, f64)> = match fill {
        FillMode::None => return,
        FillMode::ToSelf => pts.to_vec(),
        FillMode::ToZeroY => {
            let y0 =
                c.ya.to_px(if c.ya.log { c.ya.lo.min(c.ya.hi) } else { 0.0 });
            let mut p = pts.to_vec();
            p.push((pts[pts.len() - 1].0, y0));
            p.push((pts[0].0, y0));
            p
        }
        FillMode::ToZeroX => {
            let x0 =
                c.xa.to_px(if c.xa.log { c.xa.lo.min(c.xa.hi) } else { 0.0 });
            let mut p = pts.to_vec();
            p.push((x0, pts[pts.len() - 1].1));
            p.push((x0, pts[0].1));
            p
        }
        FillMode::ToNextY => match prev {
            Some(prev) if !prev.is_empty() => {
                let mut p = pts.to_vec();
                p.extend(prev.iter().rev());
                p
            }
            _ => {
                let y0 =
                    c.ya.to_px(if c.ya.log { c.ya.lo.min(c.ya.hi) } else { 0.0 });
                let mut p = pts.to_vec();
                p.push((pts[pts.len() - 1].0, y0));
                p.push((pts[0].0, y0));
                p
            }
        },
    };
    shapes.push(Shape::Fill { pts: poly, color });
}

fn draw_heatmap(
    c: &SubCtx,
    t: &Trace,
    (x, y, z): (&[f64], &[f64], &[Vec<f64>]),
    scale: &ColorScale,
    show_values: bool,
    out: &mut Rendered,
) {
    let cols = z.iter().map(Vec::len).max().unwrap_or(0);
    let (xe, ye) = (cell_edges(x, cols), cell_edges(y, z.len()));
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in z.iter().flatten().filter(|v| v.is_finite()) {
        lo = lo.min(*v);
        hi = hi.max(*v);
    }
    let span = if hi > lo { hi - lo } else { 1.0 };
    let xc: Vec<f64> = if x.len() >= cols {
        x[..cols].to_vec()
    } else {
        (0..cols).map(|i| i as f64).collect()
    };
    let yc: Vec<f64> = if y.len() >= z.len() {
        y[..z.len()].to_vec()
    } else {
        (0..z.len()).map(|i| i as f64).collect()
    };
    for (r, row) in z.iter().enumerate() {
        for (k, &v) in row.iter().enumerate() {
            if !v.is_finite() {
                continue;
            }
            let (Some(p0), Some(p1)) = (c.px(xe[k], ye[r]), c.px(xe[k + 1], ye[r + 1])) else {
                continue;
            };
            let (rx, ry, rw, rh) = (
                p0.0.min(p1.0),
                p0.1.min(p1.1),
                (p1.0 - p0.0).abs(),
                (p1.1 - p0.1).abs(),
            );
            let f = (v - lo) / span;
            let color = scale.at(f);
            out.shapes.push(Shape::Rect {
                x: rx,
                y: ry,
                w: rw + 0.5,
                h: rh + 0.5,
                color,
            });
            if show_values && rw > 18.0 && rh > 12.0 {
                let light = {
                    let [r8, g8, b8, _] = color.0;
                    0.299 * f64::from(r8) + 0.587 * f64::from(g8) + 0.114 * f64::from(b8) > 150.0
                };
                out.shapes.push(Shape::Text {
                    x: rx + rw / 2.0,
                    y: ry + rh / 2.0,
                    text: fmt_value(v),
                    color: if light { Rgba::TEXT } else { Rgba::WHITE },
                    align: Align::Center,
                    size: 11.0,
                    vertical: false,
                });
            }
            out.hover.push(HoverTarget {
                x: rx,
                y: ry,
                w: rw,
                h: rh,
                text: format!(
                    "{}x {}, y {}: {}",
                    if t.name.is_empty() {
                        String::new()
                    } else {
                        format!("{}: ", t.name)
                    },
                    axis_value(&c.sub.x, xc[k]),
                    axis_value(&c.sub.y, yc[r]),
                    fmt_value(v)
                ),
            });
        }
    }
}

fn draw_box(c: &SubCtx, t: &Trace, p: f64, s: &BoxStats, horizontal: bool, out: &mut Rendered) {
    let half = 0.3;
    let at = |pos: f64, v: f64| {
        if horizontal {
            c.px(v, pos)
        } else {
            c.px(pos, v)
        }
    };
    let (Some(a), Some(b)) = (at(p - half, s.q1), at(p + half, s.q3)) else {
        return;
    };
    let rect = (
        a.0.min(b.0),
        a.1.min(b.1),
        (b.0 - a.0).abs(),
        (b.1 - a.1).abs(),
    );
    out.shapes.push(Shape::Rect {
        x: rect.0,
        y: rect.1,
        w: rect.2,
        h: rect.3,
        color: t.color.with_alpha(0.3),
    });
    let seg = |p0: Option<(f64, f64)>, p1: Option<(f64, f64)>| -> Option<Shape> {
        Some(Shape::Line {
            pts: vec![p0?, p1?],
            color: t.color,
            width: 1.5,
            dash: false,
        })
    };
    let outline = [
        (at(p - half, s.q1), at(p + half, s.q1)),
        (at(p + half, s.q1), at(p + half, s.q3)),
        (at(p + half, s.q3), at(p - half, s.q3)),
        (at(p - half, s.q3), at(p - half, s.q1)),
        (at(p - half, s.median), at(p + half, s.median)),
        (at(p, s.q3), at(p, s.upper_whisker)),
        (at(p, s.q1), at(p, s.lower_whisker)),
        (
            at(p - half / 2.0, s.upper_whisker),
            at(p + half / 2.0, s.upper_whisker),
        ),
        (
            at(p - half / 2.0, s.lower_whisker),
            at(p + half / 2.0, s.lower_whisker),
        ),
    ];
    out.shapes
        .extend(outline.into_iter().filter_map(|(a, b)| seg(a, b)));
    let pos_spec = if horizontal { &c.sub.y } else { &c.sub.x };
    out.hover.push(HoverTarget {
        x: rect.0,
        y: rect.1,
        w: rect.2,
        h: rect.3,
        text: format!(
            "{} {}: min {}, q1 {}, median {}, q3 {}, max {}",
            t.name,
            axis_value(pos_spec, p),
            fmt_value(s.lower_whisker),
            fmt_value(s.q1),
            fmt_value(s.median),
            fmt_value(s.q3),
            fmt_value(s.upper_whisker)
        ),
    });
}

/// The box statistics of `values` as plotly computes them by default: quartiles by linear
/// interpolation, whiskers at the furthest values within 1.5 IQR, the rest returned as outliers.
pub fn box_stats(values: &[f64]) -> Option<(BoxStats, Vec<f64>)> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| super::plot::percentile(&v, p).unwrap_or(v[0]);
    let (q1, median, q3) = (q(0.25), q(0.5), q(0.75));
    let iqr = q3 - q1;
    let (lo_fence, hi_fence) = (q1 - 1.5 * iqr, q3 + 1.5 * iqr);
    let lower_whisker = v.iter().copied().find(|x| *x >= lo_fence).unwrap_or(q1);
    let upper_whisker = v
        .iter()
        .rev()
        .copied()
        .find(|x| *x <= hi_fence)
        .unwrap_or(q3);
    let outliers = v
        .iter()
        .copied()
        .filter(|x| *x < lo_fence || *x > hi_fence)
        .collect();
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    Some((
        BoxStats {
            lower_whisker,
            q1,
            median,
            q3,
            upper_whisker,
            mean: Some(mean),
        },
        outliers,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scatter(name: &str, x: Vec<f64>, y: Vec<f64>) -> Trace {
        Trace {
            name: name.into(),
            color: COLORWAY[0],
            subplot: 0,
            legend: true,
            kind: TraceKind::Scatter {
                x,
                y,
                lines: true,
                markers: false,
                fill: FillMode::None,
                width: 2.0,
                dash: false,
                marker_size: 6.0,
                marker_colors: Vec::new(),
            },
        }
    }

    #[test]
    fn colours_parse_from_css_forms() {
        assert_eq!(Rgba::parse("#1F77B4"), Some(Rgba([0x1f, 0x77, 0xb4, 255])));
        assert_eq!(Rgba::parse("#fff"), Some(Rgba::WHITE));
        assert_eq!(
            Rgba::parse("rgba(10, 20, 30, 0.5)"),
            Some(Rgba([10, 20, 30, 128]))
        );
        assert_eq!(Rgba::parse("rgb(10,20,30)"), Some(Rgba([10, 20, 30, 255])));
        assert_eq!(Rgba::parse("red"), Some(Rgba([255, 0, 0, 255])));
        assert_eq!(Rgba::parse("not a colour"), None);
        assert_eq!(Rgba([1, 2, 3, 255]).css(), "#010203");
    }

    #[test]
    fn a_scatter_line_spans_the_plot_and_hovers_by_point() {
        let fig = Figure {
            subplots: vec![Subplot::default()],
            traces: vec![scatter("loss", vec![0.0, 1.0, 2.0], vec![1.0, 3.0, 2.0])],
            ..Figure::default()
        };
        let r = render(&fig, 400.0, 300.0);
        let line = r
            .shapes
            .iter()
            .find_map(|s| match s {
                Shape::Line { pts, color, .. } if *color == COLORWAY[0] => Some(pts.clone()),
                _ => None,
            })
            .expect("the trace's line");
        assert_eq!(line.len(), 3);
        // x runs left to right inside the plot; y = 3 is highest on screen.
        assert!(line[0].0 < line[1].0 && line[1].0 < line[2].0);
        assert!(line[1].1 < line[0].1 && line[1].1 < line[2].1);
        let hit = hover_at(&r.hover, line[1].0 + 3.0, line[1].1, 12.0).unwrap();
        assert_eq!(hit.text, "loss: x 1, y 3");
        assert!(hover_at(&r.hover, line[1].0, line[1].1 + 100.0, 12.0).is_none());
    }

    #[test]
    fn grouped_bars_sit_side_by_side_and_stacked_ones_pile_up() {
        let bar = |name: &str, len: Vec<f64>| Trace {
            name: name.into(),
            color: COLORWAY[1],
            subplot: 0,
            legend: true,
            kind: TraceKind::Bar {
                pos: vec![0.0, 1.0],
                len,
                base: Vec::new(),
                horizontal: false,
                width: None,
                colors: Vec::new(),
            },
        };
        let mut fig = Figure {
            subplots: vec![Subplot::default()],
            traces: vec![bar("a", vec![1.0, 2.0]), bar("b", vec![3.0, 4.0])],
            ..Figure::default()
        };
        let g = place_bars(&fig);
        let a0 = g
            .bars
            .iter()
            .find(|b| b.trace == 0 && b.index == 0)
            .unwrap();
        let b0 = g
            .bars
            .iter()
            .find(|b| b.trace == 1 && b.index == 0)
            .unwrap();
        assert!(a0.pos < b0.pos && (a0.pos + a0.half - (b0.pos - b0.half)).abs() < 1e-9);
        assert_eq!((b0.from, b0.to), (0.0, 3.0));
        fig.barmode = BarMode::Stack;
        let s = place_bars(&fig);
        let b1 = s
            .bars
            .iter()
            .find(|b| b.trace == 1 && b.index == 1)
            .unwrap();
        assert_eq!((b1.from, b1.to), (2.0, 6.0));
        assert_eq!(b1.pos, 1.0);
    }

    #[test]
    fn box_stats_follow_the_quartiles_and_fences() {
        let (s, outliers) = box_stats(&[1.0, 2.0, 3.0, 4.0, 5.0, 100.0]).unwrap();
        assert_eq!(s.median, 3.5);
        assert_eq!(s.q1, 2.25);
        assert_eq!(s.q3, 4.75);
        assert_eq!(s.upper_whisker, 5.0);
        assert_eq!(outliers, vec![100.0]);
    }

    #[test]
    fn heatmap_cells_show_their_values_and_hover() {
        let fig = Figure {
            subplots: vec![Subplot {
                x: AxisSpec {
                    categories: vec!["cat".into(), "dog".into()],
                    ..AxisSpec::default()
                },
                y: AxisSpec {
                    categories: vec!["cat".into(), "dog".into()],
                    ..AxisSpec::default()
                },
            }],
            traces: vec![Trace {
                name: String::new(),
                color: COLORWAY[0],
                subplot: 0,
                legend: false,
                kind: TraceKind::Heatmap {
                    x: vec![0.0, 1.0],
                    y: vec![0.0, 1.0],
                    z: vec![vec![5.0, 1.0], vec![0.0, 7.0]],
                    scale: ColorScale::blues(),
                    show_values: true,
                },
            }],
            ..Figure::default()
        };
        let r = render(&fig, 400.0, 300.0);
        let texts: Vec<&str> = r
            .shapes
            .iter()
            .filter_map(|s| match s {
                Shape::Text { text, size, .. } if *size == 11.0 => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(texts, vec!["5", "1", "0", "7"]);
        assert!(r.hover.iter().any(|h| h.text == "x dog, y cat: 1"));
        assert_eq!(ColorScale::blues().at(0.0), Rgba::parse("#f7fbff").unwrap());
    }

    #[test]
    fn category_axes_leave_half_a_slot_and_label_every_category() {
        let fig = Figure {
            subplots: vec![Subplot {
                x: AxisSpec {
                    categories: vec!["cat".into(), "dog".into(), "bird".into()],
                    ..AxisSpec::default()
                },
                y: AxisSpec::default(),
            }],
            traces: vec![Trace {
                name: "n".into(),
                color: COLORWAY[0],
                subplot: 0,
                legend: true,
                kind: TraceKind::Bar {
                    pos: vec![0.0, 1.0, 2.0],
                    len: vec![1.0, 2.0, 3.0],
                    base: Vec::new(),
                    horizontal: false,
                    width: None,
                    colors: Vec::new(),
                },
            }],
            ..Figure::default()
        };
        let r = render(&fig, 300.0, 200.0);
        let first_bar = r
            .shapes
            .iter()
            .find_map(|s| match s {
                Shape::Rect { x, color, .. } if *color == COLORWAY[0] => Some(*x),
                _ => None,
            })
            .unwrap();
        assert!(first_bar > MARGIN_LEFT + 5.0, "{first_bar}");
        let labels: Vec<&str> = r
            .shapes
            .iter()
            .filter_map(|s| match s {
                Shape::Text {
                    text,
                    align: Align::Center,
                    size,
                    ..
                } if *size == 10.5 => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(labels, vec!["cat", "dog", "bird"]);
    }

    #[test]
    fn log_axes_tick_at_decades() {
        let a = Axis {
            lo: 1.0,
            hi: 1000.0,
            log: true,
            px0: 0.0,
            len: 300.0,
            flip: false,
        };
        let spec = AxisSpec {
            log: true,
            ..AxisSpec::default()
        };
        let t: Vec<f64> = axis_ticks(&a, &spec, 5).into_iter().map(|t| t.0).collect();
        assert_eq!(t, vec![1.0, 10.0, 100.0, 1000.0]);
    }
}
