//! One full chart frame from plain data: the plot geometry ([`plot::frame_reusing`]), the group
//! lines and bands, and the plot's pixels in a [`Raster`]. The chart component only blits the
//! raster and draws axes and markers on the canvas.

use std::collections::HashMap;

use trackline_shared::num::display;

use super::SeriesState;
use super::plot::{self, Frame, GroupFrame, View};
use super::raster::{self, Raster, Rgb, Style};
use super::settings::ChartSettings;

/// A run of the chart as drawing needs it.
#[derive(Clone, Copy, Debug)]
pub struct RunLook<'a> {
    pub id: &'a str,
    pub color: Rgb,
    /// The run's value of the group-by key (`None` without one).
    pub group: Option<&'a str>,
}

/// What one frame shows, for the chart's DOM attributes (tests and benchmarks read them).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FrameStats {
    /// Runs drawn.
    pub runs: usize,
    /// Group bands drawn.
    pub bands: usize,
    /// The last smoothed value of the first run drawn (empty without smoothing).
    pub smoothed_last: String,
    /// The x domain drawn.
    pub x_window: (f64, f64),
    /// The y domain drawn (bottom, top).
    pub y_window: (f64, f64),
}

/// A full frame: the geometry, the groups, and what it shows.
#[derive(Debug)]
pub struct Rendered {
    pub frame: Frame,
    pub groups: Vec<GroupFrame>,
    pub stats: FrameStats,
}

/// Everything a frame is built from.
#[derive(Clone, Copy, Debug)]
pub struct FrameInput<'a> {
    /// Id and data of each run shown, in drawing order.
    pub series: &'a [(&'a str, &'a SeriesState)],
    pub view: &'a View,
    pub settings: &'a ChartSettings,
    /// Each run's colour and group.
    pub looks: &'a [RunLook<'a>],
    /// A run drawn on top, the others dimmed.
    pub highlighted: Option<&'a str>,
    /// Device pixels per CSS pixel.
    pub dpr: f64,
}

/// Builds the frame of `input` and draws its plot pixels into `raster` (resized to the plot at
/// `input.dpr`). `previous` (the chart's frame before) gives its smoothed samples where they still
/// hold and its buffers.
pub fn render(input: &FrameInput<'_>, previous: Option<Frame>, raster: &mut Raster) -> Rendered {
    let f = plot::frame_recycling(input.series, input.view, previous);
    let groups = groups_of(input, &f);
    let (pw, ph) = plot_pixels(&f, input.dpr);
    if raster.w != pw || raster.h != ph {
        *raster = Raster::new(pw, ph);
    } else {
        raster.clear(raster::WHITE);
    }
    raster.grid(&f, input.dpr);
    draw(input, &f, &groups, raster, 0);
    finish(input, f, groups)
}

/// A frame after live points, drawn on the kept pixels of `previous` (the frame `raster` holds, with
/// its `previous_groups`): only the pixel columns from the first one whose drawing changed are
/// cleared and drawn again, each run, band and line entering them where it would in a full frame,
/// so the pixels are those of [`render`]. Grouped lines and non-causal smoothing change only near
/// the new points, so a live append costs a strip, not the whole panel. Answers the frame and the
/// first device column redrawn, or `None` when a full frame is needed: an axis or the runs changed,
/// or a column holds a non-finite value (its marker is drawn over the plot).
pub fn render_strip(
    input: &FrameInput<'_>,
    previous: &Frame,
    previous_groups: &[GroupFrame],
    raster: &mut Raster,
) -> Option<(Rendered, usize)> {
    let f = plot::frame_reusing(input.series, input.view, Some(previous));
    let same_runs = f.runs.len() == previous.runs.len()
        && f.runs.iter().zip(&previous.runs).all(|(a, b)| a.id == b.id);
    let same_axes = f.x == previous.x
        && f.y == previous.y
        && f.plot == previous.plot
        && f.x_ticks == previous.x_ticks
        && f.y_ticks == previous.y_ticks;
    let markers = f
        .runs
        .iter()
        .chain(&previous.runs)
        .any(|r| r.nonfinite_inside);
    if !same_runs || !same_axes || markers || plot_pixels(&f, input.dpr) != (raster.w, raster.h) {
        return None;
    }
    let groups = groups_of(input, &f);
    let same_groups = groups.len() == previous_groups.len()
        && groups
            .iter()
            .zip(previous_groups)
            .all(|(a, b)| a.name == b.name && a.members == b.members);
    if !same_groups {
        return None;
    }
    let dpr = input.dpr;
    let changed = first_change(&f, previous, &groups, previous_groups);
    let x0 = changed.map_or(raster.w, |css| {
        (((css - f.plot.left) * dpr).floor() as i64 - strip_margin(dpr)).clamp(0, raster.w as i64)
            as usize
    });
    if x0 < raster.w {
        raster.clip_from(x0);
        raster.grid(&f, dpr);
        draw(input, &f, &groups, raster, x0);
        raster.unclip();
    }
    Some((finish(input, f, groups), x0))
}

/// Device pixels kept between a strip's edge and anything drawn for the columns left of it: the
/// widest reach of a line or band past its column (a thick line's width and a pixel of rounding).
fn strip_margin(dpr: f64) -> i64 {
    raster::thick_px(dpr) + 2
}

/// The x (CSS pixels) of the leftmost column whose drawing differs between `f` and `prev`: the
/// column before the first changed one (their join changed with it), of any run's raw columns or
/// smoothed line, or of any group's line and band.
fn first_change(
    f: &Frame,
    prev: &Frame,
    groups: &[GroupFrame],
    prev_groups: &[GroupFrame],
) -> Option<f64> {
    // The index of the first element that differs, if any (a longer or shorter list differs at the
    // end of the shorter one).
    fn first_diff<T: PartialEq>(a: &[T], b: &[T]) -> Option<usize> {
        a.iter()
            .zip(b)
            .position(|(x, y)| x != y)
            .or((a.len() != b.len()).then(|| a.len().min(b.len())))
    }
    let before = |k: usize| k.saturating_sub(1);
    let mut at: Option<f64> = None;
    let mut note = |x: f64| at = Some(at.map_or(x, |a: f64| a.min(x)));
    if groups.is_empty() {
        for (r, p) in f.runs.iter().zip(&prev.runs) {
            if let Some(k) = first_diff(&r.cols, &p.cols) {
                note(
                    r.cols
                        .get(before(k))
                        .or(p.cols.get(before(k)))
                        .map_or(f.plot.left, |c| c.px),
                );
            }
            if let Some(k) = first_diff(&r.smoothed, &p.smoothed) {
                let x = r.sample_x.get(before(k)).or(p.sample_x.get(before(k)));
                note(x.map_or(f.plot.left, |&x| f.x.to_px(x).max(f.plot.left)));
            }
        }
    } else {
        for (g, p) in groups.iter().zip(prev_groups) {
            let k = [
                first_diff(&g.idx, &p.idx),
                first_diff(&g.center, &p.center),
                first_diff(&g.lo, &p.lo),
                first_diff(&g.hi, &p.hi),
                first_diff(&g.smoothed, &p.smoothed),
            ]
            .into_iter()
            .flatten()
            .min();
            if let Some(k) = k {
                let i = g.idx.get(before(k)).or(p.idx.get(before(k)));
                note(i.map_or(f.plot.left, |&i| f.px_of_col(i).max(f.plot.left)));
            }
        }
    }
    at
}

/// The plot's size in device pixels.
fn plot_pixels(f: &Frame, dpr: f64) -> (usize, usize) {
    (
        (f.plot.width * dpr).round() as usize,
        (f.plot.height * dpr).round() as usize,
    )
}

/// The group lines of a frame (none without a group-by key).
fn groups_of(input: &FrameInput<'_>, f: &Frame) -> Vec<GroupFrame> {
    let settings = input.settings;
    if settings.group_by.is_none() {
        return Vec::new();
    }
    let look_of = looks_by_id(input.looks);
    let values = f.runs.iter().map(|r| {
        look_of
            .get(r.id.as_str())
            .and_then(|l| l.group)
            .map(str::to_string)
    });
    let g = plot::groups_by(values);
    let mut gf = plot::group(f, &g, settings.agg, settings.band);
    if settings.smoothing.is_active() {
        for g in &mut gf {
            let xs: Vec<f64> = g.idx.iter().map(|&i| f.x.from_px(f.px_of_col(i))).collect();
            g.smoothed = settings.smoothing.apply(&xs, &g.center);
        }
    }
    gf
}

/// Each run's look by id (the first of an id wins, as a search would): a frame of 1,000 runs
/// looks each one up, and searching the list was 500,000 compares.
fn looks_by_id<'a, 'b>(looks: &'a [RunLook<'b>]) -> HashMap<&'b str, &'a RunLook<'b>> {
    looks.iter().rev().map(|l| (l.id, l)).collect()
}

/// Draws the runs or groups of `f` into `raster`, each from its first column that reaches device
/// column `x0` (0: everything).
fn draw(input: &FrameInput<'_>, f: &Frame, groups: &[GroupFrame], raster: &mut Raster, x0: usize) {
    let FrameInput {
        settings,
        looks,
        highlighted,
        dpr,
        ..
    } = *input;
    let reach = x0 as f64 - strip_margin(dpr) as f64;
    let dev_x = |css: f64| (css - f.plot.left) * dpr;
    let smoothing = settings.smoothing.is_active();
    if groups.is_empty() {
        let look_of = looks_by_id(looks);
        let color_of = |id: &str| look_of.get(id).map_or([0, 0, 0], |l| l.color);
        let mut order: Vec<usize> = (0..f.runs.len()).collect();
        if let Some(h) = highlighted {
            // The highlighted run last, on top.
            order.sort_by_key(|&i| f.runs[i].id == h);
        }
        let style_of = |id: &str| {
            let dim = highlighted.is_some_and(|h| h != id);
            Style::new(color_of(id), smoothing, dim, dpr)
        };
        let thin = raster::thin_px(dpr) as f64;
        for &i in &order {
            let r = &f.runs[i];
            let from = if x0 == 0 {
                0
            } else {
                r.cols.partition_point(|c| dev_x(c.px) + thin < reach)
            };
            raster::draw_raw(raster, f, r, from, &style_of(&r.id));
        }
        if smoothing {
            for &i in &order {
                let r = &f.runs[i];
                let xs = &r.sample_x[..r.smoothed.len().min(r.sample_x.len())];
                let from = if x0 == 0 || !xs.is_sorted() {
                    0
                } else {
                    xs.partition_point(|&x| f.x.drawable(x) && dev_x(f.x.to_px(x)) < reach)
                };
                raster::draw_smoothed(raster, f, r, from, &style_of(&r.id));
            }
        }
    } else {
        let band = settings.band != plot::Band::None;
        for g in groups {
            let color = raster::parse_hex(crate::selection::run_color(&g.name));
            let from = if x0 == 0 {
                0
            } else {
                g.idx.partition_point(|&i| dev_x(f.px_of_col(i)) < reach)
            };
            raster::draw_group(raster, f, g, from, (color, band), dpr);
        }
    }
}

/// The frame with what it shows.
fn finish(input: &FrameInput<'_>, f: Frame, groups: Vec<GroupFrame>) -> Rendered {
    let settings = input.settings;
    let stats = FrameStats {
        runs: f.runs.len(),
        bands: if settings.band == plot::Band::None {
            0
        } else {
            groups.len()
        },
        smoothed_last: f
            .runs
            .first()
            .and_then(|r| r.smoothed.last())
            .map(|v| display(*v))
            .unwrap_or_default(),
        x_window: (f.x.lo, f.x.hi),
        y_window: (f.y.lo, f.y.hi),
    };
    Rendered {
        frame: f,
        groups,
        stats,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::plot::{BOTTOM, LEFT, RIGHT, TOP, XFormat};
    use crate::charts::tests::decimate;
    use trackline_shared::api::RunSeries;
    use trackline_shared::smooth::Smoothing;

    const RED: Rgb = [200, 0, 0];
    const BLUE: Rgb = [0, 0, 200];

    fn state(points: &[(f64, f64)], width: u32) -> SeriesState {
        let (x0, x1) = (points[0].0, points[points.len() - 1].0);
        SeriesState::from_history(
            Some((x0, x1)),
            width,
            RunSeries {
                run: "r".into(),
                total_points: points.len() as u64,
                buckets: decimate(points, x0, x1, width),
            },
        )
    }

    fn view(width: u32, x: (f64, f64)) -> View {
        View {
            css_width: f64::from(width) + LEFT + RIGHT,
            css_height: 100.0 + TOP + BOTTOM,
            x_domain: x,
            y_window: None,
            x_log: false,
            y_log: false,
            ignore_outliers: false,
            smoothing: Smoothing::None,
            x_format: XFormat::Step,
        }
    }

    /// Rows of pixel column `x` that are exactly `color`.
    fn rows_of(r: &mut Raster, x: usize, color: Rgb) -> Vec<usize> {
        let (w, h) = (r.w, r.h);
        let p = r.rgba();
        (0..h)
            .filter(|&y| {
                let i = (y * w + x) * 4;
                [p[i], p[i + 1], p[i + 2]] == color
            })
            .collect()
    }

    #[test]
    fn a_strip_after_live_points_holds_the_pixels_of_a_full_frame() {
        use crate::charts::plot::{Agg, Band};
        // Six runs of 300 noisy steps in two groups; then live points at steps 300.. inside the
        // axes as they are.
        let history = |seed: u32| -> Vec<(f64, f64)> {
            (0..300u32)
                .map(|i| {
                    let v = f64::from((i * 7 + seed * 13) % 17) / 17.0 + f64::from(seed % 3);
                    (f64::from(i), v)
                })
                .collect()
        };
        let ids = ["a", "b", "c", "d", "e", "f"];
        let looks: Vec<RunLook> = ids
            .iter()
            .enumerate()
            .map(|(k, id)| RunLook {
                id,
                color: [(40 * k) as u8, 100, (200 - 30 * k) as u8],
                group: Some(if k % 2 == 0 { "even" } else { "odd" }),
            })
            .collect();
        let grouped = |agg, band, smoothing| ChartSettings {
            group_by: Some("g".into()),
            agg,
            band,
            smoothing,
            ..ChartSettings::default()
        };
        let plain = |smoothing| ChartSettings {
            smoothing,
            ..ChartSettings::default()
        };
        for (settings, dpr) in [
            (plain(Smoothing::Gaussian(3.0)), 1.0),
            (plain(Smoothing::RunningAverage(9)), 2.0),
            (plain(Smoothing::None), 1.5),
            (grouped(Agg::Mean, Band::MinMax, Smoothing::None), 1.0),
            (grouped(Agg::Median, Band::Std, Smoothing::Ema(0.6)), 2.0),
            (
                grouped(Agg::Mean, Band::None, Smoothing::Gaussian(2.0)),
                1.0,
            ),
        ] {
            let what = format!("{settings:?} at dpr {dpr}");
            let mut states: Vec<SeriesState> = (0..6).map(|k| state(&history(k), 200)).collect();
            let mut v = view(200, (0.0, 400.0));
            v.smoothing = settings.smoothing;
            // The frame input of these runs' `refs`.
            let with = |refs: &[(&str, &SeriesState)], f: &mut dyn FnMut(&FrameInput)| {
                f(&FrameInput {
                    series: refs,
                    view: &v,
                    settings: &settings,
                    looks: &looks,
                    highlighted: None,
                    dpr,
                })
            };
            let input = |states: &[SeriesState]| {
                let refs: Vec<(&str, &SeriesState)> =
                    ids.iter().copied().zip(states.iter()).collect();
                let mut kept = Raster::new(1, 1);
                let mut out = None;
                with(&refs, &mut |i| out = Some(render(i, None, &mut kept)));
                (out.expect("rendered"), kept)
            };
            let (before, mut kept) = input(&states);
            for (k, s) in states.iter_mut().enumerate().filter(|(k, _)| k % 3 != 2) {
                let t = k as f64 * 0.1;
                s.append(300, &[300.0, 301.0, 302.0], &[0.5 + t, 1.2, 0.8 - t]);
            }
            let (full, fresh) = input(&states);
            let refs: Vec<(&str, &SeriesState)> = ids.iter().copied().zip(states.iter()).collect();
            let mut drawn = None;
            with(&refs, &mut |i| {
                drawn = render_strip(i, &before.frame, &before.groups, &mut kept);
            });
            let (strip, x0) = drawn.unwrap_or_else(|| panic!("{what}: a full frame was asked for"));
            assert_eq!(kept, fresh, "{what}: strip from {x0}");
            assert_eq!(strip.frame, full.frame, "{what}");
            assert_eq!(strip.groups, full.groups, "{what}");
            assert!(
                x0 > kept.w / 2 && x0 < kept.w,
                "{what}: strip from {x0} of {}",
                kept.w
            );
            // A point beyond the y range changes the axis: a full frame.
            states[0].append(303, &[303.0], &[50.0]);
            let refs: Vec<(&str, &SeriesState)> = ids.iter().copied().zip(states.iter()).collect();
            with(&refs, &mut |i| {
                let again = render_strip(i, &strip.frame, &strip.groups, &mut kept);
                assert!(again.is_none(), "{what}");
            });
        }
    }

    #[test]
    fn a_one_step_spike_reaches_the_top_of_its_pixel_column() {
        // 10,000 points in 100 columns: the spike at step 5,000 shares its column with 99 others.
        let mut points: Vec<(f64, f64)> = (0..10_000).map(|i| (f64::from(i), 0.0)).collect();
        points[5_000].1 = 1.0;
        let s = state(&points, 100);
        let mut raster = Raster::new(1, 1);
        let looks = [RunLook {
            id: "r",
            color: RED,
            group: None,
        }];
        let out = render(
            &FrameInput {
                series: &[("r", &s)],
                view: &view(100, (0.0, 9_999.0)),
                settings: &ChartSettings::default(),
                looks: &looks,
                highlighted: None,
                dpr: 1.0,
            },
            None,
            &mut raster,
        );
        assert_eq!((raster.w, raster.h), (100, 100));
        assert_eq!(out.stats.runs, 1);
        assert_eq!(out.stats.bands, 0);
        let col = out.frame.x.to_px(5_000.0).floor() as usize - out.frame.plot.left as usize;
        let red = rows_of(&mut raster, col, RED);
        // The column spans from near the top (the spike) to near the bottom (the zeros).
        assert!(red.first().is_some_and(|&y| y <= 10), "{red:?}");
        assert!(red.last().is_some_and(|&y| y >= 90), "{red:?}");
        // A column far from the spike stays at the bottom.
        let flat = rows_of(&mut raster, 10, RED);
        assert!(
            !flat.is_empty() && flat.iter().all(|&y| y >= 90),
            "{flat:?}"
        );
    }

    #[test]
    fn no_series_draws_no_line() {
        let mut raster = Raster::new(1, 1);
        let out = render(
            &FrameInput {
                series: &[],
                view: &view(50, (0.0, 1.0)),
                settings: &ChartSettings::default(),
                looks: &[],
                highlighted: None,
                dpr: 1.0,
            },
            None,
            &mut raster,
        );
        assert_eq!(out.stats.runs, 0);
        assert!(
            (0..raster.w).all(|x| rows_of(&mut raster, x, RED).is_empty()),
            "nothing red in an empty chart"
        );
    }

    #[test]
    fn grouped_runs_draw_one_band_per_group_in_the_group_colour() {
        let a = state(&[(0.0, 0.0), (10.0, 1.0)], 20);
        let b = state(&[(0.0, 1.0), (10.0, 2.0)], 20);
        let settings = ChartSettings {
            group_by: Some("config.opt".into()),
            ..ChartSettings::default()
        };
        let looks = [
            RunLook {
                id: "a",
                color: RED,
                group: Some("adam"),
            },
            RunLook {
                id: "b",
                color: BLUE,
                group: Some("adam"),
            },
        ];
        let mut raster = Raster::new(1, 1);
        let out = render(
            &FrameInput {
                series: &[("a", &a), ("b", &b)],
                view: &view(20, (0.0, 10.0)),
                settings: &settings,
                looks: &looks,
                highlighted: None,
                dpr: 1.0,
            },
            None,
            &mut raster,
        );
        assert_eq!(out.groups.len(), 1);
        assert_eq!(out.groups[0].name, "adam");
        assert_eq!(
            out.stats.bands,
            usize::from(settings.band != plot::Band::None)
        );
        // Grouped lines take the group's colour, not the runs'.
        assert!((0..raster.w).all(|x| rows_of(&mut raster, x, RED).is_empty()));
        assert!((0..raster.w).all(|x| rows_of(&mut raster, x, BLUE).is_empty()));
    }

    #[test]
    fn the_highlighted_run_is_drawn_on_top_and_the_others_dimmed() {
        let a = state(&[(0.0, 0.0), (10.0, 1.0)], 20);
        let b = state(&[(0.0, 0.0), (10.0, 1.0)], 20);
        let looks = [
            RunLook {
                id: "a",
                color: RED,
                group: None,
            },
            RunLook {
                id: "b",
                color: BLUE,
                group: None,
            },
        ];
        // The darkest pixel of a column in the middle: the line drawn on top, undimmed.
        let darkest = |highlighted: Option<&str>| {
            let mut raster = Raster::new(1, 1);
            render(
                &FrameInput {
                    series: &[("a", &a), ("b", &b)],
                    view: &view(20, (0.0, 10.0)),
                    settings: &ChartSettings::default(),
                    looks: &looks,
                    highlighted,
                    dpr: 1.0,
                },
                None,
                &mut raster,
            );
            let (w, h) = (raster.w, raster.h);
            let p = raster.rgba();
            (0..h)
                .map(|y| {
                    let i = (y * w + 10) * 4;
                    [p[i], p[i + 1], p[i + 2]]
                })
                .min_by_key(|c| c.iter().map(|&v| u32::from(v)).sum::<u32>())
                .unwrap()
        };
        let [r, _, b] = darkest(Some("a"));
        assert!(r > b, "highlighting a puts red on top: {r} {b}");
        let [r, _, b] = darkest(Some("b"));
        assert!(b > r, "highlighting b puts blue on top: {r} {b}");
    }
}
