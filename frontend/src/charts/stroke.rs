//! A thick polyline (smoothed lines, group lines) drawn a device-pixel column at a time: each
//! column the line passes through is drawn once, from what the line covers there, however many
//! of its vertices fall in it. Drawing it segment by segment ([`Raster::line`]) drew most columns
//! two or three times over when the vertices are about a pixel apart — a zoomed-out smoothed line
//! of 1,200 samples — and that was most of a smoothed frame's cost.
//!
//! A column where the line stays within [`STEEP`] rows is anti-aliased across its rows, at the
//! line's height at the column's centre (Wu's method, as [`Raster::line`] draws a flat
//! segment); a steeper column is one fill over the rows the line crosses there, `thick` columns
//! wide, as [`Raster::line`] draws a steep segment. Vertices must come in x order; a segment
//! going back left is drawn on its own with [`Raster::line`].

use super::minmax::{max, min};
use super::raster::{Raster, Rgb, STEEP};

/// What the line covers in one device column so far.
#[derive(Clone, Copy, Debug)]
struct Column {
    x: i64,
    lo: f64,
    hi: f64,
    /// The line's y at the column's centre, once a segment crossing it was seen.
    centre: Option<f64>,
}

/// A polyline being drawn into a [`Raster`]; [`Stroke::finish`] draws its last column.
pub struct Stroke {
    color: Rgb,
    thick: i64,
    col: Option<Column>,
    last: Option<(f64, f64)>,
}

impl Stroke {
    /// A line `thick` device pixels wide across its minor axis.
    pub fn new(color: Rgb, thick: i64) -> Stroke {
        Stroke {
            color,
            thick: thick.max(1),
            col: None,
            last: None,
        }
    }

    /// The next vertex (device pixels, pixel centres at +0.5), joined to the one before unless
    /// [`Stroke::lift`] came between. Non-finite vertices lift the pen.
    pub fn to(&mut self, r: &mut Raster, x: f64, y: f64) {
        if !(x.is_finite() && y.is_finite()) {
            self.lift(r);
            return;
        }
        if let Some((px, py)) = self.last {
            self.segment(r, px, py, x, y);
        }
        self.last = Some((x, y));
    }

    /// Ends the current piece of line: the next vertex starts a new one.
    pub fn lift(&mut self, r: &mut Raster) {
        self.flush(r);
        self.last = None;
    }

    /// Draws what is still held.
    pub fn finish(mut self, r: &mut Raster) {
        self.flush(r);
    }

    fn segment(&mut self, r: &mut Raster, x0: f64, y0: f64, x1: f64, y1: f64) {
        if x1 < x0 {
            // Out of order: on its own, after what came before.
            self.flush(r);
            r.line(x0, y0, x1, y1, self.color, self.thick);
            return;
        }
        let t = self.thick as f64;
        let dx = x1 - x0;
        // Only the columns of the buffer and a margin for the line's width.
        let first = max(x0.floor(), -t - 2.0);
        let last = min(x1.floor(), r.w as f64 + 1.0);
        if first > last {
            return;
        }
        if dx == 0.0 {
            self.cover(r, first as i64, min(y0, y1), max(y0, y1), None);
            return;
        }
        let slope = (y1 - y0) / dx;
        let y_at = |x: f64| y0 + (x - x0) * slope;
        let (first, last) = (first as i64, last as i64);
        for c in first..=last {
            let cx = c as f64;
            let (ya, yb) = (y_at(max(x0, cx)), y_at(min(x1, cx + 1.0)));
            let mid = cx + 0.5;
            let centre = (x0 <= mid && mid <= x1).then(|| y_at(mid));
            self.cover(r, c, min(ya, yb), max(ya, yb), centre);
        }
    }

    /// Adds rows `lo..hi` of column `x` (and its centre height, if known) to the line; a new
    /// column first draws the one before.
    fn cover(&mut self, r: &mut Raster, x: i64, lo: f64, hi: f64, centre: Option<f64>) {
        match &mut self.col {
            Some(c) if c.x == x => {
                c.lo = min(c.lo, lo);
                c.hi = max(c.hi, hi);
                if centre.is_some() {
                    c.centre = centre;
                }
            }
            _ => {
                self.flush(r);
                self.col = Some(Column { x, lo, hi, centre });
            }
        }
    }

    fn flush(&mut self, r: &mut Raster) {
        let Some(c) = self.col.take() else { return };
        let t = self.thick;
        if c.hi - c.lo > STEEP {
            r.vspan(c.x - (t - 1) / 2, c.lo, c.hi, self.color, t);
            return;
        }
        let y = c.centre.unwrap_or((c.lo + c.hi) / 2.0) - 0.5 - (t - 1) as f64 / 2.0;
        r.wu_column(c.x, y, self.color, t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::raster::WHITE;

    const RED: Rgb = [200, 0, 0];

    fn red_rows(r: &Raster, x: usize) -> Vec<usize> {
        (0..r.h).filter(|&y| r.get(x, y)[..3] != WHITE).collect()
    }

    fn stroke(r: &mut Raster, pts: &[(f64, f64)], thick: i64) {
        let mut s = Stroke::new(RED, thick);
        for &(x, y) in pts {
            s.to(r, x, y);
        }
        s.finish(r);
    }

    #[test]
    fn a_flat_line_through_pixel_centres_is_thick_rows_of_solid_colour() {
        let mut r = Raster::new(30, 20);
        // Many vertices a column, as a zoomed-out smoothed line has.
        let pts: Vec<(f64, f64)> = (0..=90).map(|i| (2.0 + f64::from(i) / 4.0, 10.0)).collect();
        stroke(&mut r, &pts, 2);
        for x in 3..24 {
            assert_eq!(red_rows(&r, x), [9, 10], "column {x}");
            assert_eq!(r.get(x, 9)[..3], RED, "column {x} drawn once, opaque");
        }
    }

    #[test]
    fn dense_vertices_draw_each_column_once() {
        // Blending a column twice darkens its anti-aliased pixels: the same line with one
        // vertex a column and with eight must give the same pixels (coordinates exact in binary).
        let line = |per_col: u32| {
            let mut r = Raster::new(40, 40);
            let n = 30 * per_col;
            let pts: Vec<(f64, f64)> = (0..=n)
                .map(|i| {
                    let x = 5.0 + f64::from(i) / f64::from(per_col);
                    (x, 10.25 + x * 0.375)
                })
                .collect();
            stroke(&mut r, &pts, 2);
            r
        };
        let (sparse, dense) = (line(1), line(8));
        let differ: Vec<(usize, usize)> = (0..40)
            .flat_map(|x| (0..40).map(move |y| (x, y)))
            .filter(|&(x, y)| sparse.get(x, y) != dense.get(x, y))
            .collect();
        assert!(differ.is_empty(), "pixels that differ: {differ:?}");
        assert!(!red_rows(&sparse, 20).is_empty());
    }

    #[test]
    fn steep_columns_leave_no_gaps_and_gaps_in_the_line_are_kept() {
        let mut r = Raster::new(20, 60);
        let mut s = Stroke::new(RED, 1);
        s.to(&mut r, 2.5, 2.0);
        s.to(&mut r, 5.5, 50.0);
        s.lift(&mut r);
        s.to(&mut r, 12.5, 5.0);
        s.to(&mut r, f64::NAN, 1.0);
        s.to(&mut r, 14.5, 5.0);
        s.to(&mut r, 18.5, 5.0);
        s.finish(&mut r);
        for y in 3..49 {
            assert!(
                (2..7).any(|x| r.get(x, y)[..3] == RED),
                "row {y} of the steep line is empty"
            );
        }
        // Nothing joins the pieces: columns 6..12 stay white, and 12.5 alone draws nothing.
        for x in 6..14 {
            assert!(red_rows(&r, x).is_empty(), "column {x}");
        }
        assert!(!red_rows(&r, 16).is_empty());
    }

    #[test]
    fn wild_and_backward_vertices_neither_hang_nor_panic() {
        let mut r = Raster::new(20, 20);
        stroke(
            &mut r,
            &[(-1e15, 3.0), (1e15, 4.0), (5.0, 1e300), (4.0, 2.0)],
            3,
        );
        assert!(!red_rows(&r, 10).is_empty());
    }
}
