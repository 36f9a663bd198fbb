//! Reads a plotly figure (the JSON of `fig.to_plotly_json()` that W&B's `wandb.Plotly` and its
//! matplotlib conversion store as `plotly-file`) into a [`Figure`]: scatter (lines, markers,
//! fills), bar (grouped, stacked, horizontal), histogram (binned here), heatmap and box traces,
//! with the layout's title, axes (titles, linear/log/category, ranges, domains for subplots) and
//! bar mode. Trace types it cannot draw are listed in [`Figure::not_drawn`].

use serde_json::{Map, Value};

use super::figure::{
    AxisSpec, BarMode, BoxStats, COLORWAY, ColorScale, Figure, FillMode, Rgba, Subplot, Trace,
    TraceKind, box_stats,
};

/// Text of a plotly title: a string, or `{"text": ...}`.
fn title_text(v: Option<&Value>) -> Option<String> {
    let t = match v? {
        Value::String(s) => s.clone(),
        Value::Object(o) => o.get("text")?.as_str()?.to_string(),
        _ => return None,
    };
    // Plotly titles may hold <b>, <br> and friends; they are shown as text, without the tags.
    let t = strip_tags(&t);
    (!t.trim().is_empty()).then_some(t)
}

fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for ch in s.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Decodes standard base64 (plotly 6 stores numpy arrays as `{"dtype", "bdata"}`).
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        })
    };
    let bytes: Vec<u8> = s
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b'=')
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= val(c)? << (18 - 6 * i);
        }
        out.push((n >> 16) as u8);
        if chunk.len() > 2 {
            out.push((n >> 8) as u8);
        }
        if chunk.len() > 3 {
            out.push(n as u8);
        }
        if chunk.len() == 1 {
            return None;
        }
    }
    Some(out)
}

/// A plotly typed array `{"dtype": "f8", "bdata": "...", "shape"?}` as numbers (row-major).
fn typed_array(o: &Map<String, Value>) -> Option<(Vec<f64>, Option<Vec<usize>>)> {
    let dtype = o.get("dtype")?.as_str()?;
    let bytes = base64_decode(o.get("bdata")?.as_str()?)?;
    let size = match dtype {
        "f8" | "i8" | "u8" => 8,
        "f4" | "i4" | "u4" => 4,
        "i2" | "u2" => 2,
        "i1" | "u1" => 1,
        _ => return None,
    };
    let values = bytes
        .chunks_exact(size)
        .map(|c| match dtype {
            "f8" => f64::from_le_bytes(c.try_into().unwrap_or([0; 8])),
            "f4" => f64::from(f32::from_le_bytes(c.try_into().unwrap_or([0; 4]))),
            "i8" => i64::from_le_bytes(c.try_into().unwrap_or([0; 8])) as f64,
            "u8" => u64::from_le_bytes(c.try_into().unwrap_or([0; 8])) as f64,
            "i4" => f64::from(i32::from_le_bytes(c.try_into().unwrap_or([0; 4]))),
            "u4" => f64::from(u32::from_le_bytes(c.try_into().unwrap_or([0; 4]))),
            "i2" => f64::from(i16::from_le_bytes(c.try_into().unwrap_or([0; 2]))),
            "u2" => f64::from(u16::from_le_bytes(c.try_into().unwrap_or([0; 2]))),
            "i1" => f64::from(c[0] as i8),
            _ => f64::from(c[0]),
        })
        .collect();
    let shape = o.get("shape").and_then(|s| match s {
        Value::String(s) => s.split(',').map(|p| p.trim().parse().ok()).collect(),
        Value::Array(a) => a.iter().map(|v| v.as_u64().map(|n| n as usize)).collect(),
        _ => None,
    });
    Some((values, shape))
}

/// A coordinate as logged: a number, a category (or date) string, or missing.
#[derive(Clone, Debug, PartialEq)]
enum Coord {
    Num(f64),
    Text(String),
    Missing,
}

fn coords(v: Option<&Value>) -> Vec<Coord> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| match x {
                Value::Number(n) => n.as_f64().map_or(Coord::Missing, Coord::Num),
                Value::String(s) => Coord::Text(s.clone()),
                Value::Bool(b) => Coord::Text(b.to_string()),
                _ => Coord::Missing,
            })
            .collect(),
        Some(Value::Object(o)) => typed_array(o)
            .map(|(v, _)| v.into_iter().map(Coord::Num).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn numbers(v: Option<&Value>) -> Vec<f64> {
    coords(v)
        .into_iter()
        .map(|c| match c {
            Coord::Num(n) => n,
            Coord::Text(s) => s.trim().parse().unwrap_or(f64::NAN),
            Coord::Missing => f64::NAN,
        })
        .collect()
}

/// A 2-D array (heatmap `z`): nested lists or a typed array with a shape.
fn matrix(v: Option<&Value>) -> Vec<Vec<f64>> {
    match v {
        Some(Value::Array(rows)) if rows.iter().any(|r| r.is_array() || r.is_object()) => {
            rows.iter().map(|r| numbers(Some(r))).collect()
        }
        Some(Value::Array(_)) => vec![numbers(v)],
        Some(Value::Object(o)) => match typed_array(o) {
            Some((vals, Some(shape))) if shape.len() == 2 && shape[1] > 0 => {
                vals.chunks(shape[1]).map(<[f64]>::to_vec).collect()
            }
            Some((vals, _)) => vec![vals],
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Axis id of a trace reference: `x` → `xaxis`, `x2` → `xaxis2`, `x1` (matplotlib conversion)
/// → `xaxis1`.
fn axis_name(reference: &str, letter: char) -> String {
    let suffix = reference.strip_prefix(letter).unwrap_or("");
    format!("{letter}axis{suffix}")
}

/// The layout object of axis `name`, also under its `1`-less or `1` twin.
fn axis_layout<'a>(layout: &'a Map<String, Value>, name: &str) -> Option<&'a Map<String, Value>> {
    layout
        .get(name)
        .or_else(|| match name.strip_suffix('1') {
            Some(base) if !base.ends_with(|c: char| c.is_ascii_digit()) => layout.get(base),
            _ => layout.get(&format!("{name}1")),
        })
        .and_then(Value::as_object)
}

/// An axis being built: what the layout says, and the categories met so far.
struct AxisBuild {
    name: String,
    spec: AxisSpec,
    /// `Some(true)` category, `Some(false)` numeric, `None` not decided yet (by the first value).
    category: Option<bool>,
}

impl AxisBuild {
    fn new(name: &str, layout: &Map<String, Value>) -> AxisBuild {
        let a = axis_layout(layout, name);
        let get = |k: &str| a.and_then(|a| a.get(k));
        let ty = get("type").and_then(Value::as_str).unwrap_or("-");
        let log = ty == "log";
        let range = get("range").and_then(Value::as_array).and_then(|r| {
            let (lo, hi) = (r.first()?.as_f64()?, r.get(1)?.as_f64()?);
            Some(if log {
                (10f64.powf(lo), 10f64.powf(hi))
            } else {
                (lo, hi)
            })
        });
        let domain = get("domain")
            .and_then(Value::as_array)
            .and_then(|d| Some((d.first()?.as_f64()?, d.get(1)?.as_f64()?)))
            .filter(|(a, b)| (0.0..=1.0).contains(a) && (0.0..=1.0).contains(b) && a < b)
            .unwrap_or((0.0, 1.0));
        let reversed = get("autorange").and_then(Value::as_str) == Some("reversed");
        // A reversed range [hi, lo] draws reversed too.
        let (range, reversed) = match range {
            Some((lo, hi)) if lo > hi => (Some((hi, lo)), !reversed),
            r => (r, reversed),
        };
        AxisBuild {
            name: name.to_string(),
            spec: AxisSpec {
                title: title_text(get("title")),
                log,
                range,
                domain,
                categories: get("categoryarray")
                    .and_then(Value::as_array)
                    .map(|c| {
                        c.iter()
                            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
                reversed,
            },
            category: match ty {
                "category" | "multicategory" => Some(true),
                "linear" | "log" => Some(false),
                _ => None,
            },
        }
    }

    /// Numbers for `cs` on this axis: category indices (adding new categories) or values.
    fn place(&mut self, cs: &[Coord]) -> Vec<f64> {
        if self.category.is_none() {
            let first = cs.iter().find(|c| **c != Coord::Missing);
            self.category = match first {
                Some(Coord::Text(s)) => Some(s.trim().parse::<f64>().is_err()),
                Some(_) => Some(false),
                None => None,
            };
        }
        if self.category == Some(true) {
            cs.iter()
                .map(|c| {
                    let label = match c {
                        Coord::Text(s) => s.clone(),
                        Coord::Num(n) => trackline_shared::num::display(*n),
                        Coord::Missing => return f64::NAN,
                    };
                    self.category_index(&label)
                })
                .collect()
        } else {
            cs.iter()
                .map(|c| match c {
                    Coord::Num(n) => *n,
                    Coord::Text(s) => s.trim().parse().unwrap_or(f64::NAN),
                    Coord::Missing => f64::NAN,
                })
                .collect()
        }
    }

    fn category_index(&mut self, label: &str) -> f64 {
        self.category = Some(true);
        match self.spec.categories.iter().position(|c| c == label) {
            Some(i) => i as f64,
            None => {
                self.spec.categories.push(label.to_string());
                (self.spec.categories.len() - 1) as f64
            }
        }
    }
}

/// Colours by trace index: `layout.colorway`, the template's, or plotly's default.
fn colorway(layout: &Map<String, Value>) -> Vec<Rgba> {
    let list = layout
        .get("colorway")
        .or_else(|| layout.get("template")?.get("layout")?.get("colorway"));
    let parsed: Vec<Rgba> = list
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|c| Rgba::parse(c.as_str()?)).collect())
        .unwrap_or_default();
    if parsed.is_empty() {
        COLORWAY.to_vec()
    } else {
        parsed
    }
}

/// A colour scale from a trace's `colorscale`: `[[t, colour], ...]` or a few names.
fn colorscale(v: Option<&Value>) -> ColorScale {
    match v {
        Some(Value::Array(stops)) => {
            let s: Vec<(f64, Rgba)> = stops
                .iter()
                .filter_map(|s| {
                    let s = s.as_array()?;
                    Some((s.first()?.as_f64()?, Rgba::parse(s.get(1)?.as_str()?)?))
                })
                .collect();
            if s.len() >= 2 {
                ColorScale(s)
            } else {
                ColorScale::viridis()
            }
        }
        Some(Value::String(name)) if name.eq_ignore_ascii_case("blues") => ColorScale::blues(),
        Some(Value::String(name)) if name.eq_ignore_ascii_case("greys") => {
            ColorScale(vec![(0.0, Rgba::WHITE), (1.0, Rgba::BLACK)])
        }
        _ => ColorScale::viridis(),
    }
}

/// One colour or one per point (`marker.color` as a list); lists of numbers are mapped through
/// viridis.
fn colors(v: Option<&Value>) -> (Option<Rgba>, Vec<Rgba>) {
    match v {
        Some(Value::String(s)) => (Rgba::parse(s), Vec::new()),
        Some(Value::Array(a)) => {
            if a.iter().all(Value::is_string) {
                (
                    None,
                    a.iter()
                        .map(|c| Rgba::parse(c.as_str().unwrap_or("")).unwrap_or(COLORWAY[0]))
                        .collect(),
                )
            } else {
                let nums = numbers(v);
                let (lo, hi) = nums
                    .iter()
                    .filter(|x| x.is_finite())
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| {
                        (l.min(x), h.max(x))
                    });
                let scale = ColorScale::viridis();
                let span = if hi > lo { hi - lo } else { 1.0 };
                (
                    None,
                    nums.iter().map(|x| scale.at((x - lo) / span)).collect(),
                )
            }
        }
        _ => (None, Vec::new()),
    }
}

/// Reads a plotly figure; `None` when the JSON is not one (no `data` list).
pub fn parse_figure(fig: &Value) -> Option<Figure> {
    let data = fig.get("data")?.as_array()?;
    let empty = Map::new();
    let layout = fig
        .get("layout")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let palette = colorway(layout);
    let mut out = Figure {
        title: title_text(layout.get("title")),
        barmode: match layout.get("barmode").and_then(Value::as_str) {
            Some("stack") => BarMode::Stack,
            Some("overlay") => BarMode::Overlay,
            Some("relative") => BarMode::Relative,
            _ => BarMode::Group,
        },
        height: layout
            .get("height")
            .and_then(Value::as_f64)
            .filter(|h| h.is_finite() && *h > 0.0),
        ..Figure::default()
    };
    let mut axes: Vec<AxisBuild> = Vec::new();
    let mut subplots: Vec<(usize, usize)> = Vec::new();
    for (i, t) in data.iter().enumerate() {
        let Some(t) = t.as_object() else { continue };
        let ty = t.get("type").and_then(Value::as_str).unwrap_or("scatter");
        if t.get("visible") == Some(&Value::Bool(false)) {
            continue;
        }
        let name = t
            .get("name")
            .and_then(|n| {
                n.as_str()
                    .map(str::to_string)
                    .or_else(|| (!n.is_null()).then(|| n.to_string()))
            })
            .unwrap_or_else(|| format!("trace {i}"));
        if !matches!(
            ty,
            "scatter" | "scattergl" | "bar" | "histogram" | "heatmap" | "box"
        ) {
            out.not_drawn
                .push(format!("not drawn: trace type {ty} ({})", name));
            continue;
        }
        let mut axis = |letter: char| -> usize {
            let reference = t
                .get(if letter == 'x' { "xaxis" } else { "yaxis" })
                .and_then(Value::as_str)
                .unwrap_or(if letter == 'x' { "x" } else { "y" });
            let mut name = axis_name(reference, letter);
            if name.ends_with("axis1")
                && layout.get(&name).is_none()
                && layout.get(&name[..5]).is_some()
            {
                name.truncate(5);
            }
            match axes.iter().position(|a| a.name == name) {
                Some(k) => k,
                None => {
                    axes.push(AxisBuild::new(&name, layout));
                    axes.len() - 1
                }
            }
        };
        let (xi, yi) = (axis('x'), axis('y'));
        let sub = match subplots.iter().position(|s| *s == (xi, yi)) {
            Some(k) => k,
            None => {
                subplots.push((xi, yi));
                subplots.len() - 1
            }
        };
        let marker = t.get("marker").and_then(Value::as_object);
        let line = t.get("line").and_then(Value::as_object);
        let (marker_color, marker_colors) = colors(marker.and_then(|m| m.get("color")));
        let line_color = line
            .and_then(|l| l.get("color"))
            .and_then(Value::as_str)
            .and_then(Rgba::parse);
        let color = match ty {
            "scatter" | "scattergl" => line_color.or(marker_color),
            _ => marker_color.or(line_color),
        }
        .unwrap_or(palette[i % palette.len()]);
        let horizontal = t.get("orientation").and_then(Value::as_str) == Some("h");
        let xs = coords(t.get("x"));
        let ys = coords(t.get("y"));
        let kind = match ty {
            "scatter" | "scattergl" => {
                let n = xs.len().max(ys.len());
                let x = if xs.is_empty() {
                    (0..n).map(|k| k as f64).collect()
                } else {
                    axes[xi].place(&xs)
                };
                let y = if ys.is_empty() {
                    (0..n).map(|k| k as f64).collect()
                } else {
                    axes[yi].place(&ys)
                };
                let mode = t.get("mode").and_then(Value::as_str).unwrap_or(if n < 20 {
                    "lines+markers"
                } else {
                    "lines"
                });
                TraceKind::Scatter {
                    x,
                    y,
                    lines: mode.contains("lines"),
                    markers: mode.contains("markers"),
                    fill: match t.get("fill").and_then(Value::as_str) {
                        Some("tozeroy") => FillMode::ToZeroY,
                        Some("tozerox") => FillMode::ToZeroX,
                        Some("tonexty") => FillMode::ToNextY,
                        Some("toself") | Some("tonext") => FillMode::ToSelf,
                        _ => FillMode::None,
                    },
                    width: line
                        .and_then(|l| l.get("width"))
                        .and_then(Value::as_f64)
                        .unwrap_or(2.0)
                        .clamp(0.5, 20.0),
                    dash: line
                        .and_then(|l| l.get("dash"))
                        .and_then(Value::as_str)
                        .is_some_and(|d| d != "solid"),
                    marker_size: marker
                        .and_then(|m| m.get("size"))
                        .and_then(Value::as_f64)
                        .unwrap_or(6.0)
                        .clamp(1.0, 40.0),
                    marker_colors,
                }
            }
            "bar" => {
                let (pos_cs, len_cs, pi) = if horizontal {
                    (&ys, &xs, yi)
                } else {
                    (&xs, &ys, xi)
                };
                let len = numbers(t.get(if horizontal { "x" } else { "y" }));
                let pos = if pos_cs.is_empty() {
                    (0..len_cs.len()).map(|k| k as f64).collect()
                } else {
                    axes[pi].place(pos_cs)
                };
                TraceKind::Bar {
                    pos,
                    len,
                    base: match t.get("base") {
                        Some(Value::Number(n)) => vec![n.as_f64().unwrap_or(0.0); len_cs.len()],
                        b => numbers(b),
                    },
                    horizontal,
                    width: t.get("width").and_then(Value::as_f64),
                    colors: marker_colors,
                }
            }
            "histogram" => {
                let along_y = xs.is_empty() && !ys.is_empty();
                let (vals, ai) = if along_y { (&ys, yi) } else { (&xs, xi) };
                let (pos, len, width) = histogram_bars(t, vals, &mut axes[ai]);
                TraceKind::Bar {
                    pos,
                    len,
                    base: Vec::new(),
                    horizontal: along_y,
                    width,
                    colors: Vec::new(),
                }
            }
            "heatmap" => {
                let z = matrix(t.get("z"));
                TraceKind::Heatmap {
                    x: if xs.is_empty() {
                        Vec::new()
                    } else {
                        axes[xi].place(&xs)
                    },
                    y: if ys.is_empty() {
                        Vec::new()
                    } else {
                        axes[yi].place(&ys)
                    },
                    z,
                    scale: colorscale(t.get("colorscale")),
                    show_values: t.get("texttemplate").is_some() || t.get("text").is_some(),
                }
            }
            _ => {
                let (vals_v, pos_cs, pi) = if horizontal || (ys.is_empty() && !xs.is_empty()) {
                    (t.get("x"), &ys, yi)
                } else {
                    (t.get("y"), &xs, xi)
                };
                let horiz = horizontal || (ys.is_empty() && !xs.is_empty());
                let (boxes, outliers) =
                    box_groups(t, &name, numbers(vals_v), pos_cs, &mut axes[pi]);
                TraceKind::Box {
                    boxes,
                    horizontal: horiz,
                    outliers,
                }
            }
        };
        out.traces.push(Trace {
            name,
            color,
            subplot: sub,
            // Plotly leaves heatmaps out of the legend unless asked.
            legend: t
                .get("showlegend")
                .and_then(Value::as_bool)
                .unwrap_or(ty != "heatmap"),
            kind,
        });
    }
    // Plotly's default: a legend when two or more traces would be in it, or one trace asks for
    // it explicitly.
    let asked = data
        .iter()
        .any(|t| t.get("showlegend").and_then(Value::as_bool) == Some(true));
    out.show_legend = layout
        .get("showlegend")
        .and_then(Value::as_bool)
        .unwrap_or_else(|| asked || out.traces.iter().filter(|t| t.legend).count() >= 2);
    out.subplots = subplots
        .into_iter()
        .map(|(x, y)| Subplot {
            x: axes[x].spec.clone(),
            y: axes[y].spec.clone(),
        })
        .collect();
    Some(out)
}

/// A histogram trace as bars: counts per bin (`xbins`/`nbinsx`, or about √n bins of a round
/// width), normalised by `histnorm`; categories count per category.
fn histogram_bars(
    t: &Map<String, Value>,
    vals: &[Coord],
    axis: &mut AxisBuild,
) -> (Vec<f64>, Vec<f64>, Option<f64>) {
    let norm = t.get("histnorm").and_then(Value::as_str).unwrap_or("");
    let placed = axis.place(vals);
    let finite: Vec<f64> = placed.iter().copied().filter(|v| v.is_finite()).collect();
    let total = finite.len() as f64;
    let normalise = |counts: Vec<f64>, width: f64| -> Vec<f64> {
        counts
            .into_iter()
            .map(|c| match norm {
                "percent" => 100.0 * c / total.max(1.0),
                "probability" => c / total.max(1.0),
                "density" => c / width,
                "probability density" => c / total.max(1.0) / width,
                _ => c,
            })
            .collect()
    };
    if axis.category == Some(true) {
        let n = axis.spec.categories.len();
        let mut counts = vec![0.0; n];
        for v in &finite {
            if let Some(c) = counts.get_mut(*v as usize) {
                *c += 1.0;
            }
        }
        return (
            (0..n).map(|i| i as f64).collect(),
            normalise(counts, 1.0),
            None,
        );
    }
    let (lo, hi) = finite
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    if !(lo.is_finite() && hi.is_finite()) {
        return (Vec::new(), Vec::new(), None);
    }
    let bins_spec = t.get(if t.get("x").is_some() {
        "xbins"
    } else {
        "ybins"
    });
    let nbins = t
        .get("nbinsx")
        .or_else(|| t.get("nbinsy"))
        .and_then(Value::as_u64)
        .filter(|n| *n > 0);
    let spec_size = bins_spec
        .and_then(|b| b.get("size"))
        .and_then(Value::as_f64)
        .filter(|s| *s > 0.0);
    let size = spec_size.unwrap_or_else(|| {
        let n = nbins.map_or_else(|| (total.sqrt().ceil()).clamp(1.0, 100.0), |n| n as f64);
        let raw = if hi > lo { (hi - lo) / n } else { 1.0 };
        nice_width(raw)
    });
    let start = bins_spec
        .and_then(|b| b.get("start"))
        .and_then(Value::as_f64)
        .unwrap_or_else(|| (lo / size).floor() * size);
    let end = bins_spec
        .and_then(|b| b.get("end"))
        .and_then(Value::as_f64)
        .unwrap_or(hi);
    let n = (((end - start) / size).floor() as usize + 1).min(10_000);
    let mut counts = vec![0.0; n];
    for v in &finite {
        if *v < start || *v > end + size {
            continue;
        }
        let k = (((v - start) / size).floor() as usize).min(n - 1);
        counts[k] += 1.0;
    }
    let pos = (0..n).map(|k| start + (k as f64 + 0.5) * size).collect();
    (pos, normalise(counts, size), Some(size))
}

/// A bin width of 1, 2 or 5 × 10ⁿ at or above `raw`.
fn nice_width(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

type Boxes = (Vec<(f64, BoxStats)>, Vec<(f64, f64)>);

/// Boxes of a box trace: precomputed (`q1`, `median`, `q3`, fences) or from the values, one per
/// position value, or one at the trace's name when no positions are given.
fn box_groups(
    t: &Map<String, Value>,
    name: &str,
    values: Vec<f64>,
    positions: &[Coord],
    axis: &mut AxisBuild,
) -> Boxes {
    let (q1, med, q3) = (
        numbers(t.get("q1")),
        numbers(t.get("median")),
        numbers(t.get("q3")),
    );
    if !q1.is_empty() && q1.len() == med.len() && med.len() == q3.len() {
        let lo = numbers(t.get("lowerfence"));
        let hi = numbers(t.get("upperfence"));
        let pos = if positions.is_empty() {
            vec![axis.category_index(name)]
        } else {
            axis.place(positions)
        };
        let boxes = (0..q1.len())
            .map(|k| {
                (
                    pos.get(k).copied().unwrap_or(k as f64),
                    BoxStats {
                        lower_whisker: lo.get(k).copied().unwrap_or(q1[k]),
                        q1: q1[k],
                        median: med[k],
                        q3: q3[k],
                        upper_whisker: hi.get(k).copied().unwrap_or(q3[k]),
                        mean: None,
                    },
                )
            })
            .collect();
        return (boxes, Vec::new());
    }
    let mut groups: Vec<(f64, Vec<f64>)> = Vec::new();
    if positions.is_empty() {
        groups.push((axis.category_index(name), values));
    } else {
        let pos = axis.place(positions);
        for (p, v) in pos.into_iter().zip(values) {
            match groups.iter_mut().find(|g| g.0 == p) {
                Some(g) => g.1.push(v),
                None => groups.push((p, vec![v])),
            }
        }
    }
    let mut boxes = Vec::new();
    let mut outliers = Vec::new();
    for (p, vals) in groups {
        if let Some((s, out)) = box_stats(&vals) {
            boxes.push((p, s));
            outliers.extend(out.into_iter().map(|o| (p, o)));
        }
    }
    (boxes, outliers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_scatter_bar_and_layout() {
        let fig = json!({
            "data": [
                {"type": "scatter", "x": [1, 2, 3], "y": [4, 5, 6], "mode": "lines", "name": "train",
                 "line": {"color": "#1f77b4", "dash": "dash"}},
                {"type": "bar", "x": ["a", "b"], "y": [1, 2], "name": "counts", "xaxis": "x2", "yaxis": "y2"},
                {"type": "pie", "values": [1, 2], "name": "share"}
            ],
            "layout": {"title": {"text": "<b>Loss</b> curve"}, "barmode": "stack", "height": 600,
                "xaxis": {"title": {"text": "epoch"}, "type": "log", "range": [0, 1], "domain": [0, 0.45]},
                "xaxis2": {"domain": [0.55, 1]}, "yaxis": {"title": "value"}}
        });
        let f = parse_figure(&fig).unwrap();
        assert_eq!(f.title.as_deref(), Some("Loss curve"));
        assert_eq!(f.barmode, BarMode::Stack);
        assert_eq!(f.height, Some(600.0));
        // Two traces in the legend: plotly draws it.
        assert!(f.show_legend);
        assert_eq!(f.traces.len(), 2);
        assert_eq!(
            f.not_drawn,
            vec!["not drawn: trace type pie (share)".to_string()]
        );
        assert_eq!(f.subplots.len(), 2);
        let s0 = &f.subplots[0];
        assert!(s0.x.log);
        assert_eq!(s0.x.range, Some((1.0, 10.0)));
        assert_eq!(s0.x.title.as_deref(), Some("epoch"));
        assert_eq!(s0.y.title.as_deref(), Some("value"));
        assert_eq!(f.subplots[1].x.categories, vec!["a", "b"]);
        assert_eq!(f.traces[0].color, Rgba::parse("#1f77b4").unwrap());
        let TraceKind::Scatter {
            lines,
            markers,
            dash,
            ..
        } = f.traces[0].kind
        else {
            panic!()
        };
        assert!(lines && !markers && dash);
        assert_eq!(
            f.legend().into_iter().map(|l| l.0).collect::<Vec<_>>(),
            vec!["train", "counts"]
        );
    }

    #[test]
    fn reads_the_matplotlib_conversion_axes() {
        // plotly.tools.mpl_to_plotly names axes x1/y1 and the layout xaxis1/yaxis1.
        let fig = json!({"data": [{"type": "scatter", "x": [0.0, 1.0], "y": [0.0, 1.0],
                "mode": "lines", "name": "_line0", "xaxis": "x1", "yaxis": "y1",
                "line": {"color": "rgba (31, 119, 180, 1)", "width": 1.5}}],
            "layout": {"xaxis1": {"domain": [0.0, 1.0], "range": [-0.05, 1.05], "type": "linear",
                "title": {"text": "time"}}, "yaxis1": {"range": [-0.05, 1.05], "type": "linear"}}});
        let f = parse_figure(&fig).unwrap();
        assert_eq!(f.height, None);
        // One trace and no `showlegend`: plotly draws no legend (matplotlib's `_line0`).
        assert!(!f.show_legend);
        assert_eq!(f.subplots.len(), 1);
        assert_eq!(f.subplots[0].x.title.as_deref(), Some("time"));
        assert_eq!(f.subplots[0].x.range, Some((-0.05, 1.05)));
        assert!(matches!(
            f.traces[0].kind,
            TraceKind::Scatter { lines: true, .. }
        ));
        assert_eq!(f.traces[0].color, Rgba([31, 119, 180, 255]));
    }

    #[test]
    fn decodes_typed_arrays() {
        assert_eq!(
            base64_decode("AAAAAAAA8D8=").unwrap(),
            1f64.to_le_bytes().to_vec()
        );
        let fig = json!({"data": [{"type": "scatter",
            "x": {"dtype": "i1", "bdata": "AQID"}, "y": {"dtype": "f8", "bdata": "AAAAAAAA8D8AAAAAAAAAQAAAAAAAAAhA"}}]});
        let f = parse_figure(&fig).unwrap();
        let TraceKind::Scatter { x, y, .. } = &f.traces[0].kind else {
            panic!()
        };
        assert_eq!(x, &vec![1.0, 2.0, 3.0]);
        assert_eq!(y, &vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn bins_histograms_and_computes_boxes() {
        let fig = json!({"data": [
            {"type": "histogram", "x": [0.5, 1.5, 1.7, 2.2, 2.4, 2.9], "xbins": {"start": 0, "end": 3, "size": 1}},
            {"type": "box", "y": [1, 2, 3, 4, 5, 100], "name": "b"},
            {"type": "heatmap", "z": [[1, 2], [3, 4]]}]});
        let f = parse_figure(&fig).unwrap();
        let TraceKind::Bar {
            pos, len, width, ..
        } = &f.traces[0].kind
        else {
            panic!()
        };
        assert_eq!(pos, &vec![0.5, 1.5, 2.5, 3.5]);
        assert_eq!(len, &vec![1.0, 2.0, 3.0, 0.0]);
        assert_eq!(*width, Some(1.0));
        let TraceKind::Box {
            boxes, outliers, ..
        } = &f.traces[1].kind
        else {
            panic!()
        };
        assert_eq!(boxes[0].1.median, 3.5);
        assert_eq!(outliers, &vec![(0.0, 100.0)]);
        assert_eq!(f.subplots[0].x.categories, vec!["b"]);
        assert!(matches!(&f.traces[2].kind, TraceKind::Heatmap { z, .. } if z.len() == 2));
    }
}
