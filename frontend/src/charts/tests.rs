use super::*;
use trackline_shared::api::{Buckets, RunSeries};

/// Buckets of raw points `(x, y)` over `[x0, x1]` into `width` columns, as the daemon decimates.
pub(crate) fn decimate(points: &[(f64, f64)], x0: f64, x1: f64, width: u32) -> Buckets {
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
fn compaction_threshold() {
    let mut s = state(&[(0.0, 1.0)], 10);
    let xs: Vec<f64> = (1..=21).map(f64::from).collect();
    s.append(1, &xs[..20], &xs[..20]);
    assert!(!s.wants_compaction());
    s.append(21, &xs[20..], &xs[20..]);
    assert!(s.wants_compaction());
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

#[test]
fn merged_columns_keep_where_their_extremes_are() {
    let col = |x: f64, min: f64, x_min: f64, max: f64, x_max: f64| PxColumn {
        index: 0,
        px: 0.0,
        x_first: x,
        x_last: x + 1.0,
        first: min,
        last: max,
        min: Some(min),
        max: Some(max),
        x_of_min: Some(x_min),
        x_of_max: Some(x_max),
        count: 2,
        nonfinite: 0,
        has_nan: false,
        has_pos_inf: false,
        has_neg_inf: false,
    };
    let mut a = col(0.0, -1.0, 0.0, 5.0, 1.0);
    a.merge(&col(2.0, -3.0, 3.0, 9.0, 2.0));
    assert_eq!((a.x_of_min, a.x_of_max), (Some(3.0), Some(2.0)));
    // A tie keeps the first point holding the extreme.
    a.merge(&col(4.0, -3.0, 4.0, 9.0, 5.0));
    assert_eq!((a.x_of_min, a.x_of_max), (Some(3.0), Some(2.0)));
    // A column of only non-finite points changes nothing.
    let mut none = col(6.0, 0.0, 6.0, 0.0, 6.0);
    (none.min, none.max, none.x_of_min, none.x_of_max) = (None, None, None, None);
    a.merge(&none);
    assert_eq!(
        (a.min, a.x_of_min, a.x_of_max),
        (Some(-3.0), Some(3.0), Some(2.0))
    );
}
