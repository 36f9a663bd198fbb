//! One full chart frame from plain data: the plot geometry ([`plot::frame_reusing`]), the group
//! lines and bands, and the plot's pixels in a [`Raster`]. The chart component only blits the
//! raster and draws axes and markers on the canvas.

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
    let FrameInput {
        series,
        view,
        settings,
        looks,
        highlighted,
        dpr,
    } = *input;
    let f = plot::frame_recycling(series, view, previous);
    // By id: a frame of 1,000 runs looks each one up (searching the list was 500,000 compares).
    let look_of: std::collections::HashMap<&str, &RunLook<'_>> =
        looks.iter().rev().map(|l| (l.id, l)).collect();
    let look = |id: &str| look_of.get(id).copied();
    let groups = match &settings.group_by {
        Some(_) => {
            let values = f
                .runs
                .iter()
                .map(|r| look(&r.id).and_then(|l| l.group).map(str::to_string));
            let g = plot::groups_by(values);
            let mut gf = plot::group(&f, &g, settings.agg, settings.band);
            if settings.smoothing.is_active() {
                for g in &mut gf {
                    let xs: Vec<f64> = g.idx.iter().map(|&i| f.x.from_px(f.px_of_col(i))).collect();
                    g.smoothed = settings.smoothing.apply(&xs, &g.center);
                }
            }
            gf
        }
        None => Vec::new(),
    };
    let (pw, ph) = (
        (f.plot.width * dpr).round() as usize,
        (f.plot.height * dpr).round() as usize,
    );
    if raster.w != pw || raster.h != ph {
        *raster = Raster::new(pw, ph);
    } else {
        raster.clear(raster::WHITE);
    }
    raster.grid(&f, dpr);
    let smoothing = settings.smoothing.is_active();
    let color_of = |id: &str| look(id).map_or([0, 0, 0], |l| l.color);
    if groups.is_empty() {
        let mut order: Vec<usize> = (0..f.runs.len()).collect();
        if let Some(h) = highlighted {
            // The highlighted run last, on top.
            order.sort_by_key(|&i| f.runs[i].id == h);
        }
        let style_of = |id: &str| {
            let dim = highlighted.is_some_and(|h| h != id);
            Style::new(color_of(id), smoothing, dim, dpr)
        };
        for &i in &order {
            let r = &f.runs[i];
            raster::draw_raw(raster, &f, r, 0, &style_of(&r.id));
        }
        if smoothing {
            for &i in &order {
                let r = &f.runs[i];
                raster::draw_smoothed(raster, &f, r, 0, &style_of(&r.id));
            }
        }
    } else {
        for g in &groups {
            let color = raster::parse_hex(crate::selection::run_color(&g.name));
            let band = settings.band != plot::Band::None;
            raster::draw_group(raster, &f, g, color, band, dpr);
        }
    }
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
