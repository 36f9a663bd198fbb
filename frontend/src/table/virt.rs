//! Virtual scrolling: which rows of a long list of fixed-height rows to put in the DOM.

/// Rows `start..end` are rendered; spacers stand in for the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: usize,
    pub end: usize,
}

impl Window {
    /// Height of the spacer above the rendered rows.
    pub fn top_px(&self, row_h: f64) -> f64 {
        self.start as f64 * row_h
    }

    /// Height of the spacer below them.
    pub fn bottom_px(&self, total: usize, row_h: f64) -> f64 {
        total.saturating_sub(self.end) as f64 * row_h
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// The rows to render for `total` rows of `row_h` pixels seen through a viewport `viewport_h`
/// pixels high scrolled to `scroll_top`, plus `overscan` rows on each side. The window start is
/// rounded down to a multiple of `overscan`, so small scrolls do not change it.
pub fn window(
    total: usize,
    row_h: f64,
    scroll_top: f64,
    viewport_h: f64,
    overscan: usize,
) -> Window {
    if total == 0 || row_h <= 0.0 || !row_h.is_finite() {
        return Window { start: 0, end: 0 };
    }
    let viewport_h = if viewport_h.is_finite() {
        viewport_h.max(row_h)
    } else {
        row_h
    };
    let max_top = (total as f64 * row_h - viewport_h).max(0.0);
    let top = if scroll_top.is_finite() {
        scroll_top.clamp(0.0, max_top)
    } else {
        0.0
    };
    let first = ((top / row_h).floor() as usize).min(total - 1);
    let last = (((top + viewport_h) / row_h).ceil() as usize).min(total);
    let mut start = first.saturating_sub(overscan);
    if overscan > 0 {
        start -= start % overscan;
    }
    let end = (last + overscan).min(total);
    Window { start, end }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_middle_and_end() {
        // 10,000 rows of 30 px in a 600 px viewport: 20 visible, 10 extra on each side.
        let w = window(10_000, 30.0, 0.0, 600.0, 10);
        assert_eq!(w, Window { start: 0, end: 30 });
        assert_eq!(w.top_px(30.0), 0.0);
        assert_eq!(w.bottom_px(10_000, 30.0), 9_970.0 * 30.0);

        let w = window(10_000, 30.0, 30_000.0, 600.0, 10);
        assert_eq!(
            w,
            Window {
                start: 990,
                end: 1030
            }
        );
        assert!(
            w.start <= 1000 && w.end >= 1020,
            "the visible rows are inside"
        );

        // Scrolled to the very end (and beyond): the last row is rendered.
        let end = window(10_000, 30.0, 10_000.0 * 30.0 - 600.0, 600.0, 10);
        assert_eq!(end.end, 10_000);
        assert_eq!(window(10_000, 30.0, 1e12, 600.0, 10), end);
        assert_eq!(end.top_px(30.0) + end.len() as f64 * 30.0, 300_000.0);
        assert_eq!(end.bottom_px(10_000, 30.0), 0.0);
    }

    #[test]
    fn bounded_whatever_the_total() {
        for total in [1usize, 5, 40, 1000, 100_000] {
            for top in [0.0, 123.0, 4567.0, 1e9] {
                let w = window(total, 28.0, top, 700.0, 12);
                assert!(w.len() <= 700 / 28 + 2 + 2 * 12 + 12, "{total} {top} {w:?}");
                assert!(w.end <= total && w.start <= w.end);
                assert!(!w.is_empty());
            }
        }
    }

    #[test]
    fn small_scrolls_keep_the_start() {
        let a = window(1000, 30.0, 3000.0, 600.0, 10);
        let b = window(1000, 30.0, 3010.0, 600.0, 10);
        assert_eq!(a.start, b.start);
        assert_eq!(a.start % 10, 0);
    }

    #[test]
    fn degenerate_inputs() {
        assert!(window(0, 30.0, 0.0, 600.0, 10).is_empty());
        assert!(window(10, 0.0, 0.0, 600.0, 10).is_empty());
        assert_eq!(
            window(3, 30.0, -50.0, 600.0, 10),
            Window { start: 0, end: 3 }
        );
        assert_eq!(
            window(3, 30.0, f64::NAN, f64::NAN, 10),
            Window { start: 0, end: 3 }
        );
        // An unmeasured (0 px) viewport still renders a first screenful's worth via overscan.
        assert_eq!(
            window(100, 30.0, 0.0, 0.0, 10),
            Window { start: 0, end: 11 }
        );
    }
}
