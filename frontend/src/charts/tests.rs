use super::*;
use trackline_shared::api::{Buckets, RunSeries};

/// Buckets of raw points `(x, y)` over `[x0, x1]` into `width` columns, as the daemon decimates.
pub(super) fn decimate(points: &[(f64, f64)], x0: f64, x1: f64, width: u32) -> Buckets {
    let mut b = Buckets::default();
    let w = (x1 - x0) / f64::from(width);
    for &(x, y) in points {
        let col = if w > 0.0 {
            (((x - x0) / w).floor() as u32).min(width - 1)
        } else {
            0
        };
        let fin = y.is_finite();
        if b.column.last() == Some(&col) {
            let i = b.len() - 1;
            b.count[i] += 1;
            b.nonfinite[i] += u32::from(!fin);
            b.x_last[i] = x;
            b.last[i] = y;
            if fin {
                b.min[i] = Some(b.min[i].map_or(y, |m| m.min(y)));
                b.max[i] = Some(b.max[i].map_or(y, |m| m.max(y)));
            }
        } else {
            b.column.push(col);
            b.count.push(1);
            b.nonfinite.push(u32::from(!fin));
            b.x_first.push(x);
            b.x_last.push(x);
            b.first.push(y);
            b.last.push(y);
            b.min.push(fin.then_some(y));
            b.max.push(fin.then_some(y));
        }
    }
    b
}

fn state(points: &[(f64, f64)], width: u32) -> SeriesState {
    let x0 = points.first().map_or(0.0, |p| p.0);
    let x1 = points.last().map_or(0.0, |p| p.0);
    let buckets = decimate(points, x0, x1, width);
    let window = (!points.is_empty()).then_some((x0, x1));
    SeriesState::from_history(
        window,
        width,
        RunSeries {
            run: "r".into(),
            total_points: points.len() as u64,
            buckets,
        },
    )
}

/// Canvas size whose plot area is exactly `cols` pixels wide.
fn css_for(cols: u32) -> f64 {
    f64::from(cols) + MARGIN_LEFT + MARGIN_RIGHT
}

#[test]
fn plot_columns_matches_layout_width() {
    assert_eq!(plot_columns(css_for(300)), 300);
    assert_eq!(plot_columns(10.0), 1);
    assert_eq!(plot_columns(f64::NAN), 1);
    assert_eq!(plot_columns(1e9), 16384);
}

#[test]
fn spike_inside_a_column_is_drawn() {
    // 10k points in 100 columns; one huge spike in the middle.
    let pts: Vec<(f64, f64)> = (0..10_000)
        .map(|i| {
            (
                f64::from(i),
                if i == 5_037 {
                    100.0
                } else {
                    (f64::from(i) * 0.01).sin()
                },
            )
        })
        .collect();
    let s = state(&pts, 100);
    assert_eq!(s.points(), 10_000);
    let l = layout(&s, css_for(100), 200.0, true);
    assert_eq!(l.columns.len(), 100);
    assert!(l.y_domain.1 >= 100.0, "{:?}", l.y_domain);
    // Some vertical span reaches the spike's y.
    let spike_y = l.y_to_px(100.0);
    let reaches = l.path.windows(2).any(|w| match (w[0], w[1]) {
        (Seg::Move(x0, y0), Seg::Line(x1, y1)) => {
            x0 == x1 && (y0 - spike_y).abs() < 1e-9 && y1 > y0
        }
        _ => false,
    });
    assert!(reaches, "no span reaches the spike");
}

#[test]
fn one_column_per_pixel_when_width_matches() {
    let pts: Vec<(f64, f64)> = (0..1000)
        .map(|i| (f64::from(i), f64::from(i % 7)))
        .collect();
    let s = state(&pts, 250);
    let l = layout(&s, css_for(250), 160.0, true);
    assert_eq!(l.columns.len(), 250);
    for (i, c) in l.columns.iter().enumerate() {
        assert_eq!(c.index, i as u32);
        assert_eq!(c.px, MARGIN_LEFT + i as f64 + 0.5);
        assert_eq!(c.count, 4);
    }
    // Joins connect the last of a column to the first of the next.
    let c0 = &l.columns[0];
    let c1 = &l.columns[1];
    assert!(l.path.contains(&Seg::Move(c0.px, l.y_to_px(c0.last))));
    assert!(l.path.contains(&Seg::Line(c1.px, l.y_to_px(c1.first))));
}

#[test]
fn nonfinite_points_are_marked_and_not_joined() {
    let pts = vec![
        (0.0, 1.0),
        (1.0, f64::NAN),
        (2.0, f64::INFINITY),
        (3.0, f64::NEG_INFINITY),
        (4.0, 2.0),
    ];
    let s = state(&pts, 5);
    let l = layout(&s, css_for(5), 100.0, true);
    assert_eq!(l.columns.len(), 5);
    let kinds: Vec<MarkerKind> = l.markers.iter().map(|m| m.kind).collect();
    assert_eq!(
        kinds,
        [MarkerKind::NaN, MarkerKind::PosInf, MarkerKind::NegInf]
    );
    // y domain ignores the infinities.
    assert!(l.y_domain.0 > 0.0 && l.y_domain.1 < 3.0, "{:?}", l.y_domain);
    // Every coordinate is finite.
    for s in &l.path {
        let (Seg::Move(x, y) | Seg::Line(x, y)) = *s;
        assert!(x.is_finite() && y.is_finite());
    }
    // No join into or out of a non-finite point: only the two finite spans are drawn.
    assert_eq!(l.path.len(), 4);
    let r = readout(&l.columns[1], "step");
    assert_eq!(r.value, "NaN");
    assert!(r.value_bad);
    assert_eq!(readout(&l.columns[2], "step").value, "+Inf");
    assert_eq!(readout(&l.columns[3], "step").value, "-Inf");
    assert_eq!(
        readout(&l.columns[4], "step"),
        Readout {
            x: "step 4".into(),
            value: "2".into(),
            ..Default::default()
        }
    );
}

#[test]
fn readout_of_a_wide_column() {
    let pts = vec![
        (0.0, 1.0),
        (1.0, 5.0),
        (2.0, f64::NAN),
        (3.0, -2.0),
        (4.0, 0.5),
    ];
    let s = state(&pts, 1);
    let l = layout(&s, css_for(1), 100.0, true);
    assert_eq!(l.columns.len(), 1);
    let r = readout(&l.columns[0], "step");
    assert_eq!(r.x, "step 0–4");
    assert_eq!(r.value, "0.5");
    assert_eq!(r.detail, "-2 … 5 · 5 pts");
    assert_eq!(r.bad, "1 non-finite");
    let latest = latest_readout(&l.columns[0], "step");
    assert_eq!(
        (latest.x.as_str(), latest.value.as_str()),
        ("step 4", "0.5")
    );
    assert_eq!(l.markers.len(), 1);
}

#[test]
fn append_dedups_by_offset_and_detects_gaps() {
    let pts: Vec<(f64, f64)> = (0..10).map(|i| (f64::from(i), 1.0)).collect();
    let mut s = state(&pts, 10);
    assert_eq!(s.held(), 10);
    assert_eq!(
        s.append(10, &[10.0, 11.0], &[2.0, 3.0]),
        AppendOutcome::Appended(2)
    );
    // A resent overlapping message: only the suffix is new.
    assert_eq!(
        s.append(11, &[11.0, 12.0], &[3.0, 4.0]),
        AppendOutcome::Appended(1)
    );
    assert_eq!(s.append(5, &[5.0], &[1.0]), AppendOutcome::Appended(0));
    assert_eq!(s.append(20, &[20.0], &[1.0]), AppendOutcome::Gap);
    assert_eq!(s.held(), 13);
    assert_eq!(s.points(), 13);
    assert_eq!(s.tail_x, [10.0, 11.0, 12.0]);
}

#[test]
fn replace_history_keeps_only_uncovered_tail() {
    let pts: Vec<(f64, f64)> = (0..10).map(|i| (f64::from(i), 1.0)).collect();
    let mut s = state(&pts, 10);
    s.append(10, &[10.0, 11.0, 12.0], &[1.0, 2.0, 3.0]);
    // The refetch saw 12 points: the tail keeps point 12 only.
    let more: Vec<(f64, f64)> = (0..12).map(|i| (f64::from(i), 1.0)).collect();
    let b = decimate(&more, 0.0, 11.0, 10);
    s.replace_history(
        Some((0.0, 11.0)),
        10,
        RunSeries {
            run: "r".into(),
            total_points: 12,
            buckets: b,
        },
    );
    assert_eq!(s.tail_x, [12.0]);
    assert_eq!(s.points(), 13);
    assert_eq!(s.held(), 13);
    // A refetch that saw more than was streamed: the tail empties, held jumps ahead.
    let even_more: Vec<(f64, f64)> = (0..20).map(|i| (f64::from(i), 1.0)).collect();
    let b = decimate(&even_more, 0.0, 19.0, 10);
    s.replace_history(
        Some((0.0, 19.0)),
        10,
        RunSeries {
            run: "r".into(),
            total_points: 20,
            buckets: b,
        },
    );
    assert!(s.tail_x.is_empty());
    assert_eq!(s.held(), 20);
    assert_eq!(s.append(13, &[13.0], &[1.0]), AppendOutcome::Appended(0));
}

#[test]
fn live_tail_extends_the_x_domain_and_is_drawn_after_buckets() {
    let pts: Vec<(f64, f64)> = (0..100).map(|i| (f64::from(i), f64::from(i))).collect();
    let mut s = state(&pts, 100);
    s.append(100, &[100.0, 101.0, 102.0], &[100.0, 101.0, 1000.0]);
    assert!(!s.wants_compaction());
    let l = layout(&s, css_for(100), 200.0, true);
    assert_eq!(l.x_domain, (0.0, 102.0));
    assert_eq!(l.columns.last().unwrap().max, Some(1000.0));
    assert!(l.y_domain.1 >= 1000.0);
    let total: u64 = l.columns.iter().map(|c| c.count).sum();
    assert_eq!(total, 103);
    // Columns stay sorted left to right.
    assert!(l.columns.windows(2).all(|w| w[0].index < w[1].index));
}

#[test]
fn compaction_threshold() {
    let mut s = state(&[(0.0, 1.0)], 10);
    let xs: Vec<f64> = (1..=21).map(f64::from).collect();
    s.append(1, &xs[..20], &xs[..20]);
    assert!(!s.wants_compaction());
    s.append(21, &xs[20..], &xs[20..]);
    assert!(s.wants_compaction());
}

#[test]
fn empty_and_single_point_series_lay_out() {
    let s = SeriesState::default();
    let l = layout(&s, 300.0, 150.0, true);
    assert!(l.columns.is_empty() && l.path.is_empty());
    assert!(!l.x_ticks.is_empty());
    let s = state(&[(5.0, 3.0)], 100);
    let l = layout(&s, css_for(100), 150.0, true);
    assert_eq!(l.columns.len(), 1);
    assert_eq!(l.path.len(), 2, "a lone point still gets a visible span");
    assert!(l.x_domain.0 < 5.0 && l.x_domain.1 > 5.0);
    assert!(l.y_domain.0 < 3.0 && l.y_domain.1 > 3.0);
    // Tiny canvases do not panic.
    let l = layout(&s, 1.0, 1.0, true);
    assert_eq!(l.columns.len(), 1);
}

#[test]
fn nearest_column() {
    let pts: Vec<(f64, f64)> = (0..10).map(|i| (f64::from(i) * 10.0, 1.0)).collect();
    let s = state(&pts, 100);
    let l = layout(&s, css_for(100), 100.0, true);
    assert_eq!(l.columns.len(), 10);
    let c = l.nearest(MARGIN_LEFT + 52.0).unwrap();
    assert_eq!(c.x_first, 50.0);
    assert_eq!(l.nearest(-100.0).unwrap().x_first, 0.0);
    assert_eq!(l.nearest(1e6).unwrap().x_first, 90.0);
}

#[test]
fn ticks_are_nice() {
    let (t, step) = nice_ticks(0.0, 1.0, 5, false);
    assert_eq!(step, 0.2);
    let labels: Vec<String> = t.iter().map(|&v| tick_label(v, step)).collect();
    assert_eq!(labels, ["0", "0.2", "0.4", "0.6", "0.8", "1"]);
    let (t, step) = nice_ticks(-0.03, 0.31, 4, false);
    assert_eq!(step, 0.1);
    let labels: Vec<String> = t.iter().map(|&v| tick_label(v, step)).collect();
    assert_eq!(labels, ["0", "0.1", "0.2", "0.3"]);
    let (t, step) = nice_ticks(0.0, 3.0, 10, true);
    assert_eq!(step, 1.0);
    assert_eq!(t, [0.0, 1.0, 2.0, 3.0]);
    let (t, step) = nice_ticks(0.0, 2_000_000.0, 4, true);
    let labels: Vec<String> = t.iter().map(|&v| tick_label(v, step)).collect();
    assert_eq!(labels, ["0", "500k", "1M", "1.5M", "2M"]);
    assert_eq!(tick_label(0.0003, 0.0001), "0.0003");
    assert_eq!(tick_label(0.00003, 0.00001), "3e-5");
    assert_eq!(tick_label(-2.5, 0.5), "-2.5");
    assert_eq!(tick_label(1500.0, 500.0), "1500");
    assert!(nice_ticks(f64::NAN, 1.0, 5, false).0.is_empty());
    assert!(nice_ticks(1.0, 1.0, 5, false).0.is_empty());
    assert!(nice_ticks(0.0, 1e300, 5, false).0.len() <= 64);
}
