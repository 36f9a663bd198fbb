//! Host tests of the multi-run plot math and the rasteriser.

use super::plot::*;
use super::raster::*;
use super::tests::decimate;
use super::{PxColumn, SeriesState};
use trackline_shared::api::RunSeries;
use trackline_shared::smooth::Smoothing;

/// A state holding `points` decimated over `[x0, x1]` into `width` columns (as the daemon answers a
/// windowed query: only the points inside the window).
fn windowed(points: &[(f64, f64)], x0: f64, x1: f64, width: u32) -> SeriesState {
    let inside: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|p| p.0 >= x0 && p.0 <= x1)
        .collect();
    SeriesState::from_history(
        Some((x0, x1)),
        width,
        RunSeries {
            run: "r".into(),
            total_points: points.len() as u64,
            buckets: decimate(&inside, x0, x1, width),
        },
    )
}

fn view(width_cols: u32, x: (f64, f64)) -> View {
    View {
        css_width: f64::from(width_cols) + LEFT + RIGHT,
        css_height: 200.0,
        x_domain: x,
        y_window: None,
        x_log: false,
        y_log: false,
        ignore_outliers: false,
        smoothing: Smoothing::None,
        x_format: XFormat::Step,
    }
}

const RED: Rgb = [200, 0, 0];

fn render(f: &Frame) -> Raster {
    let mut r = Raster::new(f.plot.width as usize, f.plot.height as usize);
    r.grid(f, 1.0);
    let st = Style::new(RED, false, false, 1.0);
    for run in &f.runs {
        draw_raw(&mut r, f, run, 0, &st);
    }
    r
}

/// The topmost row in pixel column `x` that has the run's colour.
fn top_red(r: &Raster, x: usize) -> Option<usize> {
    (0..r.h).find(|&y| r.get(x, y)[..3] == RED)
}

#[test]
fn a_single_spike_among_a_million_points_is_drawn_at_every_zoom() {
    let n = 1_000_000u32;
    let spike = 612_345u32;
    let pts: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let x = f64::from(i);
            (x, if i == spike { 50.0 } else { (x * 1e-4).sin() })
        })
        .collect();
    let w = 1200;
    let windows = [
        (0.0, f64::from(n - 1)),
        (500_000.0, 700_000.0),
        (612_000.0, 613_000.0),
        (612_340.0, 612_350.0),
    ];
    for (a, b) in windows {
        let s = windowed(&pts, a, b, w);
        let f = frame(&[("r", &s)], &view(w, (a, b)));
        assert_eq!(f.ncols, i64::from(w));
        let guess = f.col_of_x(f64::from(spike)).unwrap();
        let rf = &f.runs[0];
        // The column holding the spike (x at a column boundary may round either way).
        let k = rf
            .cols
            .iter()
            .position(|c| c.x_first <= f64::from(spike) && c.x_last >= f64::from(spike))
            .expect("a column holds the spike");
        let col = rf.idx[k];
        assert!((col - guess).abs() <= 1);
        assert_eq!(rf.cols[k].max, Some(50.0), "window {a}..{b}");
        // The y range includes it, and the raster has the run's colour at the spike's height.
        assert!(f.y.hi >= 50.0);
        let r = render(&f);
        let spike_y = (f.y.to_px(50.0) - f.plot.top).floor() as usize;
        let top = top_red(&r, col as usize).expect("the spike's column is drawn");
        assert!(
            top <= spike_y + 1,
            "window {a}..{b}: top {top}, spike at {spike_y}"
        );
        // Its neighbours (two columns away) stay near the sine, far below the spike.
        let far = top_red(&r, (col as usize + 3).min(r.w - 1)).unwrap_or(r.h);
        assert!(
            far > spike_y + 20,
            "window {a}..{b}: neighbour drawn up to {far}"
        );
    }
}

#[test]
fn columns_are_exact_when_the_domain_is_the_window() {
    // 4 points per column; every plot column reports first/min/max/last of its raw points.
    let pts: Vec<(f64, f64)> = (0..400)
        .map(|i| (f64::from(i), f64::from((i * 7) % 11)))
        .collect();
    let s = windowed(&pts, 0.0, 400.0, 100);
    let f = frame(&[("r", &s)], &view(100, (0.0, 400.0)));
    let rf = &f.runs[0];
    assert_eq!(rf.cols.len(), 100);
    for (k, c) in rf.cols.iter().enumerate() {
        let raw = &pts[k * 4..k * 4 + 4];
        assert_eq!(rf.idx[k], k as i64);
        assert_eq!(c.first, raw[0].1);
        assert_eq!(c.last, raw[3].1);
        assert_eq!(c.min, raw.iter().map(|p| p.1).reduce(f64::min));
        assert_eq!(c.max, raw.iter().map(|p| p.1).reduce(f64::max));
    }
}

#[test]
fn log_x_columns_are_exact_when_the_daemon_decimated_in_log_space() {
    // Steps 1..=100_000 into 300 columns equal in log10(step), as the daemon does for x_log; each
    // lands in its own plot column, with the first/min/max/last of exactly its raw points.
    let (x0, x1, width) = (1.0f64, 100_000.0f64, 300u32);
    let w = (x1.log10() - x0.log10()) / f64::from(width);
    let col = |x: f64| (((x.log10() - x0.log10()) / w).floor() as u32).min(width - 1);
    let pts: Vec<(f64, f64)> = (1..=100_000)
        .map(|i| (f64::from(i), f64::from((i * 7919) % 1000)))
        .collect();
    let mut b = trackline_shared::api::Buckets::default();
    for &(x, y) in &pts {
        let c = col(x);
        if b.column.last() == Some(&c) {
            let i = b.len() - 1;
            b.count[i] += 1;
            b.x_last[i] = x;
            b.last[i] = y;
            b.min[i] = b.min[i].map(|m: f64| m.min(y));
            b.max[i] = b.max[i].map(|m: f64| m.max(y));
        } else {
            b.x_first.push(x);
            b.x_last.push(x);
            b.column.push(c);
            b.count.push(1);
            b.nonfinite.push(0);
            b.first.push(y);
            b.last.push(y);
            b.min.push(Some(y));
            b.max.push(Some(y));
        }
    }
    let mut s = SeriesState::from_history(
        Some((x0, x1)),
        width,
        RunSeries {
            run: "r".into(),
            total_points: pts.len() as u64,
            buckets: b.clone(),
        },
    );
    s.log = true;
    let mut v = view(width, (x0, x1));
    v.x_log = true;
    let f = frame(&[("r", &s)], &v);
    let rf = &f.runs[0];
    assert_eq!(rf.cols.len(), b.len());
    for (k, c) in rf.cols.iter().enumerate() {
        assert_eq!(rf.idx[k], i64::from(b.column[k]), "bucket {k}");
        assert_eq!(
            (c.min, c.max, c.count),
            (b.min[k], b.max[k], u64::from(b.count[k]))
        );
    }
    // Read as linear columns, the same buckets would pile up at the right edge.
    s.log = false;
    let f = frame(&[("r", &s)], &v);
    assert_ne!(
        f.runs[0].idx,
        b.column.iter().map(|&c| i64::from(c)).collect::<Vec<_>>()
    );
}

#[test]
fn zoomed_domain_keeps_one_neighbour_on_each_side() {
    let pts: Vec<(f64, f64)> = (0..1000).map(|i| (f64::from(i), f64::from(i))).collect();
    let s = windowed(&pts, 0.0, 999.0, 1000);
    // Zoom to 400..600 before the refetch: the held columns are re-binned.
    let f = frame(&[("r", &s)], &view(200, (400.0, 600.0)));
    let rf = &f.runs[0];
    assert_eq!(rf.idx.first(), Some(&-1));
    assert_eq!(rf.idx.last(), Some(&200));
    assert!(rf.idx.windows(2).all(|w| w[0] < w[1]));
    // The y range fits the visible part only.
    assert!(f.y.lo >= 389.0 && f.y.hi <= 611.0, "{:?}", (f.y.lo, f.y.hi));
    let back = f.x.from_px(f.x.to_px(512.5));
    assert!((back - 512.5).abs() < 1e-9);
}

#[test]
fn a_zoomed_frame_visiting_only_the_buckets_in_view_draws_what_visiting_all_draws() {
    // Noise with spikes, and a few live points after the history.
    let pts: Vec<(f64, f64)> = (0..20_000)
        .map(|i| {
            let v = if i % 997 == 0 {
                50.0
            } else {
                f64::from(i % 13) / 7.0
            };
            (f64::from(i), v)
        })
        .collect();
    let mut s = windowed(&pts, 0.0, 19_999.0, 500);
    s.append(20_000, &[20_000.0, 20_050.0, 20_100.0], &[3.0, -2.0, 60.0]);
    let mut log = s.clone();
    log.log = true;
    for (state, x_log) in [(&s, false), (&log, true)] {
        for domain in [
            (0.0, 20_100.0),
            (5_000.0, 15_000.0),
            (9_990.0, 10_010.0),
            (-500.0, 300.0),
            (19_900.0, 20_200.0),
            (30_000.0, 40_000.0),
            (1.0, 20_100.0),
        ] {
            let mut v = view(300, domain);
            v.x_log = x_log;
            let f = frame(&[("r", state)], &v);
            let mut all = frame(&[("r", state)], &v);
            all.runs[0] = lay_out_run(&all, "r", state, None, Default::default(), true);
            (all.y.lo, all.y.hi) = fit_y(&all, false);
            let (part, full) = (&f.runs[0], &all.runs[0]);
            let what = format!("domain {domain:?}, log x {x_log}");
            // The same columns inside the plot, the same sides' joining values…
            let inside = |r: &RunFrame| -> Vec<(i64, PxColumn)> {
                r.idx
                    .iter()
                    .zip(&r.cols)
                    .filter(|(i, _)| (0..f.ncols).contains(*i))
                    .map(|(&i, c)| (i, c.clone()))
                    .collect()
            };
            assert_eq!(inside(part), inside(full), "{what}");
            let side = |r: &RunFrame, i: i64| {
                r.idx
                    .iter()
                    .position(|&k| k == i)
                    .map(|k| (r.cols[k].first, r.cols[k].last, r.cols[k].x_last))
            };
            assert_eq!(
                side(part, -1).map(|c| c.1),
                side(full, -1).map(|c| c.1),
                "{what}"
            );
            assert_eq!(side(part, f.ncols), side(full, f.ncols), "{what}");
            assert_eq!(part.sample_x, full.sample_x, "{what}");
            // …so the same pixels and the same y range.
            assert_eq!((f.y.lo, f.y.hi), (all.y.lo, all.y.hi), "{what}");
            assert_eq!(render(&f), render(&all), "{what}");
            if domain.1 - domain.0 < 1_000.0 {
                assert!(part.cols.len() < 40, "{what}: {} columns", part.cols.len());
            }
        }
    }
}

#[test]
fn smoothing_uses_column_lasts_then_live_points_in_x_order() {
    let pts: Vec<(f64, f64)> = (0..100).map(|i| (f64::from(i), f64::from(i % 2))).collect();
    let mut s = windowed(&pts, 0.0, 99.0, 10);
    s.append(100, &[100.0, 101.0], &[5.0, 7.0]);
    let mut v = view(10, (0.0, 101.0));
    v.smoothing = Smoothing::Ema(0.5);
    let f = frame(&[("r", &s)], &v);
    let rf = &f.runs[0];
    // 10 column samples (each column's last point) then the 2 live points.
    assert_eq!(rf.sample_x.len(), 12);
    assert_eq!(rf.sample_x[0], 9.0);
    assert_eq!(&rf.sample_x[10..], &[100.0, 101.0]);
    let expect = Smoothing::Ema(0.5).apply(&rf.sample_x, &rf.sample_y);
    assert_eq!(rf.smoothed, expect);
    // Streaming the next point from the kept state gives the same as smoothing everything.
    let mut st = rf.ema;
    let next = st.push(1.0, 0.5);
    let mut ys = rf.sample_y.clone();
    ys.push(1.0);
    let all = Smoothing::Ema(0.5).apply(&[], &ys);
    assert!((next - all[12]).abs() < 1e-12);
}

#[test]
fn log_axes_and_outliers() {
    let pts: Vec<(f64, f64)> = (1..=1000)
        .map(|i| {
            (
                f64::from(i),
                if i == 500 {
                    1e6
                } else {
                    1.0 + f64::from(i % 10) / 10.0
                },
            )
        })
        .collect();
    let s = windowed(&pts, 1.0, 1000.0, 500);
    let mut v = view(500, (1.0, 1000.0));
    let plain = frame(&[("r", &s)], &v);
    assert!(plain.y.hi >= 1e6);
    v.ignore_outliers = true;
    let robust = frame(&[("r", &s)], &v);
    assert!(
        robust.y.hi < 3.0 && robust.y.lo > 0.5,
        "{:?}",
        (robust.y.lo, robust.y.hi)
    );
    v.ignore_outliers = false;
    v.y_log = true;
    v.x_log = true;
    let log = frame(&[("r", &s)], &v);
    assert!(log.y.lo > 0.0 && log.y.hi >= 1e6);
    // Decades as ticks.
    let labels: Vec<&str> = log.x_ticks.iter().map(|t| t.label.as_str()).collect();
    assert!(
        labels.contains(&"10") && labels.contains(&"100"),
        "{labels:?}"
    );
    // Mid decade sits mid axis.
    let mid = log.x.to_px(10f64.powf(1.5));
    assert!((mid - (log.plot.left + log.plot.width / 2.0)).abs() < 1e-6);
    // A log domain that touches zero is fixed to a positive one.
    assert_eq!(fix_domain((0.0, 100.0), true, false), (0.1, 100.0));
}

#[test]
fn groups_aggregate_per_column() {
    let mk = |off: f64| -> Vec<(f64, f64)> {
        (0..10)
            .map(|i| (f64::from(i), off + f64::from(i)))
            .collect()
    };
    let runs: Vec<SeriesState> = [0.0, 2.0, 10.0]
        .iter()
        .map(|&o| windowed(&mk(o), 0.0, 10.0, 10))
        .collect();
    let refs: Vec<(&str, &SeriesState)> = runs.iter().map(|s| ("r", s)).collect();
    let f = frame(&refs, &view(10, (0.0, 10.0)));
    let g = group(&f, &[("a".into(), vec![0, 1, 2])], Agg::Mean, Band::MinMax);
    assert_eq!(g[0].idx.len(), 10);
    assert_eq!(g[0].center[3], 3.0 + 4.0);
    assert_eq!((g[0].lo[3], g[0].hi[3]), (3.0, 13.0));
    let g = group(&f, &[("a".into(), vec![0, 1, 2])], Agg::Median, Band::Std);
    assert_eq!(g[0].center[0], 2.0);
    let mean = 4.0;
    let sd = (((0.0f64 - mean).powi(2) + (2.0f64 - mean).powi(2) + (10.0f64 - mean).powi(2)) / 3.0)
        .sqrt();
    assert!((g[0].hi[0] - (mean + sd)).abs() < 1e-12);
    let by = groups_by(vec![Some("0.1".to_string()), None, Some("0.1".to_string())]);
    assert_eq!(
        by,
        vec![("0.1".to_string(), vec![0, 2]), ("–".to_string(), vec![1])]
    );
}

#[test]
fn hover_lists_runs_sorted_by_value() {
    let a: Vec<(f64, f64)> = (0..10).map(|i| (f64::from(i), 1.0)).collect();
    let b: Vec<(f64, f64)> = (0..10).map(|i| (f64::from(i), 5.0)).collect();
    let c: Vec<(f64, f64)> = (0..10)
        .map(|i| (f64::from(i), if i == 4 { f64::NAN } else { 3.0 }))
        .collect();
    let runs = [
        windowed(&a, 0.0, 10.0, 10),
        windowed(&b, 0.0, 10.0, 10),
        windowed(&c, 0.0, 10.0, 10),
    ];
    let refs: Vec<(&str, &SeriesState)> = runs.iter().map(|s| ("r", s)).collect();
    let f = frame(&refs, &view(10, (0.0, 10.0)));
    let rows = hover(&f, f.px_of_col(4), 3);
    let order: Vec<usize> = rows.iter().map(|r| r.run).collect();
    assert_eq!(order, [1, 0, 2], "largest first, NaN last");
    assert!(rows[2].value.is_nan() && rows[2].y_px.is_none());
    assert_eq!(rows[0].x, 4.0);
}

#[test]
fn csv_lists_held_points() {
    let mut s = windowed(&[(0.0, 1.0), (1.0, f64::NAN)], 0.0, 1.0, 2);
    s.append(2, &[2.0], &[f64::INFINITY]);
    let out = csv("step", &[("run,1", &s)]);
    assert_eq!(
        out,
        "run,step,value,min,max,count\n\"run,1\",0,1,1,1,1\n\"run,1\",1,NaN,,,1\n\"run,1\",2,Infinity,,,1\n"
    );
}

#[test]
fn raster_lines_and_spans() {
    let mut r = Raster::new(20, 20);
    r.vspan(3, 2.2, 9.7, RED, 1);
    assert_eq!(r.get(3, 2)[..3], RED);
    assert_eq!(r.get(3, 9)[..3], RED);
    assert_eq!(r.get(3, 10)[..3], WHITE);
    assert_eq!(r.get(4, 5)[..3], WHITE);
    // A flat line through pixel centres covers exactly one row.
    r.line(0.5, 15.5, 19.5, 15.5, RED, 1);
    assert_eq!(r.get(10, 15)[..3], RED);
    assert_eq!(r.get(10, 14)[..3], WHITE);
    // Wild coordinates do not hang or panic.
    r.line(-1e12, 3.0, 1e12, 4.0, RED, 2);
    r.line(5.0, f64::NAN, 6.0, 1.0, RED, 1);
    assert_eq!(parse_hex("#1f77b4"), [0x1f, 0x77, 0xb4]);
    assert_eq!(lighten([0, 0, 0], 0.5), [128, 128, 128]);
    let sub = r.columns(2, 4);
    assert_eq!(sub.len(), 2 * 20 * 4);
    // Row-major for the canvas: pixel (3, 5) is the 3rd of row 5, in both uploads.
    assert_eq!(sub[(5 * 2 + 1) * 4..(5 * 2 + 1) * 4 + 3], RED);
    assert_eq!(sub[(5 * 2) * 4..(5 * 2) * 4 + 3], WHITE);
    let all = r.rgba();
    assert_eq!(all[(5 * 20 + 3) * 4..(5 * 20 + 3) * 4 + 3], RED);
    assert_eq!(all[(5 * 20 + 4) * 4..(5 * 20 + 4) * 4 + 3], WHITE);
}

#[test]
fn steep_lines_leave_no_gaps() {
    let mut r = Raster::new(20, 40);
    r.line(4.5, 1.0, 7.5, 38.0, RED, 1);
    for y in 1..38 {
        assert!(
            (3..9).any(|x| r.get(x, y)[..3] == RED),
            "row {y} of the steep line is empty"
        );
    }
    // Nothing beyond its ends.
    assert!((0..20).all(|x| r.get(x, 39)[..3] == WHITE));
    assert!((0..20).all(|x| r.get(x, 0)[..3] == WHITE));
    assert!((0..40).all(|y| r.get(10, y)[..3] == WHITE));
}

#[test]
fn time_axes_label_clock_and_durations() {
    let mut v = view(600, (1_764_430_000.0, 1_764_430_000.0 + 3600.0));
    v.x_format = XFormat::WallTime(0);
    let f = frame(&[], &v);
    assert!(
        f.x_ticks
            .iter()
            .all(|t| t.label.len() == 5 && t.label.contains(':')),
        "{:?}",
        f.x_ticks
    );
    v.x_format = XFormat::Duration;
    v.x_domain = (0.0, 600.0);
    let f = frame(&[], &v);
    assert!(
        f.x_ticks.iter().any(|t| t.label == "4m 00s"),
        "{:?}",
        f.x_ticks
    );
}

#[test]
fn group_bands_fill_between_sparse_columns() {
    // Two runs with a point every 10 columns: the band is continuous, not striped.
    let a: Vec<(f64, f64)> = (0..10).map(|i| (f64::from(i * 10), 0.0)).collect();
    let b: Vec<(f64, f64)> = (0..10).map(|i| (f64::from(i * 10), 10.0)).collect();
    let runs = [windowed(&a, 0.0, 100.0, 100), windowed(&b, 0.0, 100.0, 100)];
    let refs: Vec<(&str, &SeriesState)> = runs.iter().map(|s| ("r", s)).collect();
    let f = frame(&refs, &view(100, (0.0, 100.0)));
    let g = group(&f, &[("g".into(), vec![0, 1])], Agg::Mean, Band::MinMax);
    let mut r = Raster::new(f.plot.width as usize, f.plot.height as usize);
    draw_group(&mut r, &f, &g[0], 0, ([0, 0, 200], true), 1.0);
    let mid_y = (f.y.to_px(2.5) - f.plot.top) as usize;
    for x in 0..90 {
        assert_ne!(r.get(x, mid_y)[..3], WHITE, "column {x} has no band");
    }
}

#[test]
fn a_frame_reusing_the_previous_one_equals_a_fresh_one() {
    let pts: Vec<(f64, f64)> = (0..2000)
        .map(|i| (f64::from(i), (f64::from(i) * 0.37).sin() + f64::from(i % 7)))
        .collect();
    let a = windowed(&pts, 0.0, 1999.0, 300);
    let mut b = windowed(&pts, 0.0, 1999.0, 300);
    let refs: Vec<(&str, &SeriesState)> = vec![("a", &a), ("b", &b)];
    let mut v = view(300, (0.0, 1999.0));
    v.smoothing = Smoothing::TimeWeightedEma(0.6);
    let first = frame(&refs, &v);
    // Zoomed: the smoothed samples are taken over, and the frame is the same as a fresh one.
    v.x_domain = (400.0, 900.0);
    let reused = frame_reusing(&refs, &v, Some(&first));
    assert_eq!(reused, frame(&refs, &v));
    assert_eq!(reused.runs[0].smoothed, first.runs[0].smoothed);
    // New data (a live point) or another smoothing: recomputed, still equal to a fresh frame.
    b.append(2000, &[2000.0], &[50.0]);
    let refs: Vec<(&str, &SeriesState)> = vec![("a", &a), ("b", &b)];
    let fresh = frame(&refs, &v);
    assert_eq!(frame_reusing(&refs, &v, Some(&first)), fresh);
    assert_ne!(fresh.runs[1].smoothed, first.runs[1].smoothed);
    v.smoothing = Smoothing::Gaussian(3.0);
    assert_eq!(frame_reusing(&refs, &v, Some(&first)), frame(&refs, &v));
    // Recycling the frame before (its buffers and smoothed samples moved over) gives the same
    // frames, through zooms, runs reordered or dropped, new data and a change of smoothing.
    let mut prev: Option<Frame> = None;
    let reordered: Vec<(&str, &SeriesState)> = vec![("b", &b), ("a", &a)];
    let only_a: Vec<(&str, &SeriesState)> = vec![("a", &a)];
    for (runs, domain, smoothing) in [
        (&refs, (0.0, 1999.0), Smoothing::TimeWeightedEma(0.6)),
        (&refs, (400.0, 900.0), Smoothing::TimeWeightedEma(0.6)),
        (&reordered, (300.0, 1000.0), Smoothing::TimeWeightedEma(0.6)),
        (&only_a, (0.0, 2000.0), Smoothing::TimeWeightedEma(0.6)),
        (&refs, (0.0, 2000.0), Smoothing::None),
        (&refs, (10.0, 1500.0), Smoothing::Gaussian(3.0)),
        (&refs, (20.0, 1500.0), Smoothing::Gaussian(3.0)),
    ] {
        v.x_domain = domain;
        v.smoothing = smoothing;
        let recycled = frame_recycling(runs, &v, prev.take());
        assert_eq!(recycled, frame(runs, &v), "{domain:?} {smoothing:?}");
        prev = Some(recycled);
    }
    // The y fit looks at the smoothed line inside the x domain only.
    let mut spike = pts.clone();
    spike[10].1 = 1e6;
    let s = windowed(&spike, 0.0, 1999.0, 2000);
    let mut v = view(300, (1000.0, 1999.0));
    v.smoothing = Smoothing::Ema(0.9);
    let f = frame(&[("s", &s)], &v);
    assert!(f.y.hi < 100.0, "{:?}", (f.y.lo, f.y.hi));
}

#[test]
fn nonfinite_points_are_kept_and_named_in_their_columns() {
    let pts = vec![
        (0.0, 1.0),
        (1.0, f64::NAN),
        (2.0, f64::INFINITY),
        (3.0, f64::NEG_INFINITY),
        (4.0, 2.0),
    ];
    let s = windowed(&pts, 0.0, 4.0, 5);
    let f = frame(&[("r", &s)], &view(5, (0.0, 4.0)));
    let cols = &f.runs[0].cols;
    assert_eq!(cols.len(), 5);
    assert!(cols[1].has_nan && cols[2].has_pos_inf && cols[3].has_neg_inf);
    assert_eq!((cols[1].min, cols[1].max), (None, None));
    assert_eq!(cols.iter().map(|c| c.nonfinite).sum::<u64>(), 3);
    // The y range fits the finite values only.
    assert!(f.y.lo > 0.0 && f.y.hi < 3.0, "{:?}", (f.y.lo, f.y.hi));
}

#[test]
fn live_tail_extends_the_data_extent_and_follows_the_buckets() {
    let pts: Vec<(f64, f64)> = (0..100).map(|i| (f64::from(i), f64::from(i))).collect();
    let mut s = windowed(&pts, 0.0, 99.0, 100);
    s.append(100, &[100.0, 101.0, 102.0], &[100.0, 101.0, 1000.0]);
    assert!(!s.wants_compaction());
    assert_eq!(data_extent([&s], false), Some((0.0, 102.0)));
    let f = frame(&[("r", &s)], &view(103, (0.0, 102.0)));
    let (cols, idx) = (&f.runs[0].cols, &f.runs[0].idx);
    assert_eq!(cols.last().unwrap().max, Some(1000.0));
    assert!(f.y.hi >= 1000.0);
    assert_eq!(cols.iter().map(|c| c.count).sum::<u64>(), 103);
    assert!(
        idx.windows(2).all(|w| w[0] < w[1]),
        "columns stay in x order"
    );
}
