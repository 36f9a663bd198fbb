//! Replays a [`Layout`] on a 2D canvas with few calls: one path for the grid, one for the whole
//! series, one filled path for all non-finite markers, and one `fillText` per tick label.

use super::{Layout, MarkerKind, Seg};
use web_sys::CanvasRenderingContext2d;

const LINE: &str = "#1f6feb";
const GRID: &str = "#e6eaef";
const AXIS: &str = "#afb8c1";
const LABEL: &str = "#59636e";
const BAD: &str = "#cf222e";
const FONT: &str = "11px system-ui, -apple-system, \"Segoe UI\", Roboto, sans-serif";
const MARKER: f64 = 4.0;

/// Draws `l` on `ctx`, whose canvas is `l.css_width × dpr` by `l.css_height × dpr` device pixels.
pub fn draw(ctx: &CanvasRenderingContext2d, l: &Layout, dpr: f64) {
    let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
    ctx.clear_rect(0.0, 0.0, l.css_width, l.css_height);
    let p = l.plot;

    // Grid.
    ctx.begin_path();
    for t in &l.y_ticks {
        let y = t.pos.round() + 0.5;
        ctx.move_to(p.left, y);
        ctx.line_to(p.right(), y);
    }
    for t in &l.x_ticks {
        let x = t.pos.round() + 0.5;
        ctx.move_to(x, p.top);
        ctx.line_to(x, p.bottom());
    }
    ctx.set_line_width(1.0);
    ctx.set_stroke_style_str(GRID);
    ctx.stroke();

    // Axes.
    ctx.begin_path();
    ctx.move_to(p.left - 0.5, p.top);
    ctx.line_to(p.left - 0.5, p.bottom() + 0.5);
    ctx.line_to(p.right(), p.bottom() + 0.5);
    ctx.set_stroke_style_str(AXIS);
    ctx.stroke();

    // Labels.
    ctx.set_font(FONT);
    ctx.set_fill_style_str(LABEL);
    ctx.set_text_align("right");
    ctx.set_text_baseline("middle");
    for t in &l.y_ticks {
        let _ = ctx.fill_text(&t.label, p.left - 6.0, t.pos);
    }
    ctx.set_text_align("center");
    ctx.set_text_baseline("top");
    for t in &l.x_ticks {
        let _ = ctx.fill_text(&t.label, t.pos, p.bottom() + 5.0);
    }

    // The series, clipped to the plot.
    ctx.save();
    ctx.begin_path();
    ctx.rect(p.left, p.top - 1.0, p.width + 1.0, p.height + 2.0);
    ctx.clip();
    ctx.begin_path();
    for s in &l.path {
        match *s {
            Seg::Move(x, y) => ctx.move_to(x, y),
            Seg::Line(x, y) => ctx.line_to(x, y),
        }
    }
    ctx.set_line_width(1.25);
    ctx.set_line_join("round");
    ctx.set_stroke_style_str(LINE);
    ctx.stroke();
    ctx.restore();

    // Non-finite markers.
    if !l.markers.is_empty() {
        ctx.begin_path();
        let (top, bot) = (p.top, p.bottom());
        for m in &l.markers {
            let x = m.x;
            match m.kind {
                MarkerKind::PosInf => {
                    ctx.move_to(x, top);
                    ctx.line_to(x + MARKER, top + MARKER * 1.6);
                    ctx.line_to(x - MARKER, top + MARKER * 1.6);
                }
                MarkerKind::NegInf => {
                    ctx.move_to(x, bot);
                    ctx.line_to(x + MARKER, bot - MARKER * 1.6);
                    ctx.line_to(x - MARKER, bot - MARKER * 1.6);
                }
                MarkerKind::NaN => {
                    ctx.move_to(x, bot - MARKER * 1.6);
                    ctx.line_to(x + MARKER, bot);
                    ctx.line_to(x - MARKER, bot);
                }
            }
            ctx.close_path();
        }
        ctx.set_fill_style_str(BAD);
        ctx.fill();
    }
}
