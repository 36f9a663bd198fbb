//! Where a chart frame's time goes, natively: the reference panel (100 runs × 100k steps decimated
//! into 1,207 columns) through the wheel-zoom sequence of `tests/benches/charts.rs` (30 steps in,
//! 30 out), timing each stage of `draw_full` apart: layout (`plot::frame`), clearing and grid,
//! and rasterising the runs. WASM in Chromium runs these ~1.5–2× slower; the canvas upload and
//! the axes' text are not here (they are the browser's).
//!
//! `cargo bench -p trackline-frontend --bench frame` (add `-- --smooth` for W&B's time-weighted
//! EMA, `-- --runs 1000` for the 1,000-run panel, `-- --no-live` to leave out the live points;
//! `FRAME_TRACE=1` prints every frame of one round).
//!
//! Then live points on panels that cannot draw them into the kept pixels (grouped, gaussian
//! smoothing): one point appended to every run, 30 times, each drawn as a whole frame
//! (`render::render`) and as a strip (`render::render_strip`).

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark's report is its standard output"
)]

use std::time::Instant;
use trackline_frontend::charts::SeriesState;
use trackline_frontend::charts::plot::{self, View, XFormat};
use trackline_frontend::charts::raster::{self, Raster, Style};
use trackline_frontend::charts::render::{self, FrameInput, RunLook};
use trackline_shared::api::{Buckets, RunSeries};
use trackline_shared::chart::{Agg, Band, ChartSettings};
use trackline_shared::smooth::Smoothing;

/// Runs in the panel unless `--runs N` says otherwise.
const DEFAULT_RUNS: u64 = 100;
const STEPS: u64 = 100_000;
const COLS: u32 = 1207;

/// The chart bench's data: noise on a decay with one one-step spike per run.
fn run_points(seed: u64) -> Vec<(f64, f64)> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..STEPS)
        .map(|s| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let noise = (x % 1000) as f64 / 10_000.0;
            let v = if s == STEPS / 2 + seed {
                10.0
            } else {
                2.0 / (1.0 + s as f64 / 5000.0) + noise
            };
            (s as f64, v)
        })
        .collect()
}

/// Per-column first/min/max/last over `[x0, x1]`, as the daemon answers.
fn decimate(points: &[(f64, f64)], (x0, x1): (f64, f64), width: u32) -> Buckets {
    let mut b = Buckets::default();
    let w = (x1 - x0) / f64::from(width);
    for &(x, y) in points {
        let col = (((x - x0) / w).floor().max(0.0) as u32).min(width - 1);
        if b.column.last() == Some(&col) {
            let i = b.len() - 1;
            b.count[i] += 1;
            b.x_last[i] = x;
            b.last[i] = y;
            b.min[i] = b.min[i].map(|m| m.min(y));
            b.max[i] = b.max[i].map(|m| m.max(y));
        } else {
            b.column.push(col);
            b.count.push(1);
            b.nonfinite.push(0);
            b.x_first.push(x);
            b.x_last.push(x);
            b.first.push(y);
            b.last.push(y);
            b.min.push(Some(y));
            b.max.push(Some(y));
        }
    }
    b
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let smoothing = if std::env::args().any(|a| a == "--smooth") {
        Smoothing::TimeWeightedEma(0.5)
    } else {
        Smoothing::None
    };
    let args: Vec<String> = std::env::args().collect();
    let runs = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1)?.parse::<u64>().ok())
        .unwrap_or(DEFAULT_RUNS);
    let window = (0.0, (STEPS - 1) as f64);
    let states: Vec<(String, SeriesState)> = (0..runs)
        .map(|seed| {
            let b = decimate(&run_points(seed), window, COLS);
            let rs = RunSeries {
                run: format!("r{seed}"),
                total_points: STEPS,
                buckets: b,
            };
            (
                format!("r{seed}"),
                SeriesState::from_history(Some(window), COLS, rs),
            )
        })
        .collect();
    let inputs: Vec<(&str, &SeriesState)> = states.iter().map(|(i, s)| (i.as_str(), s)).collect();
    let css_width = f64::from(COLS) + plot::LEFT + plot::RIGHT;
    let mut domain = window;
    let mut raster = Raster::new(0, 0);
    let mut prev: Option<plot::Frame> = None;
    let (mut t_layout, mut t_clear, mut t_draw, mut t_all) = (vec![], vec![], vec![], vec![]);
    let mut t_smoothed = vec![];
    for round in 0..3 {
        for i in 0..60 {
            // The chart bench's wheel: 60 px of delta per event around 30–70 % of the plot.
            let k = (if i < 30 { -60.0f64 } else { 60.0 } * 0.0015).exp();
            let frac = 0.3 + 0.4 * f64::from(i % 10) / 10.0;
            let c = domain.0 + (domain.1 - domain.0) * frac;
            domain = (c - (c - domain.0) * k, c + (domain.1 - c) * k);
            let v = View {
                css_width,
                css_height: 300.0,
                x_domain: domain,
                y_window: None,
                x_log: false,
                y_log: false,
                ignore_outliers: false,
                smoothing,
                x_format: XFormat::Step,
            };
            let t0 = Instant::now();
            let f = plot::frame_recycling(&inputs, &v, prev.take());
            let t1 = Instant::now();
            let (pw, ph) = (f.plot.width as usize, f.plot.height as usize);
            if raster.w != pw || raster.h != ph {
                raster = Raster::new(pw, ph);
            } else {
                raster.clear(raster::WHITE);
            }
            raster.grid(&f, 1.0);
            let t2 = Instant::now();
            let active = smoothing.is_active();
            for r in &f.runs {
                let style = Style::new([31, 119, 180], active, false, 1.0);
                raster::draw_raw(&mut raster, &f, r, 0, &style);
            }
            let t_raw = Instant::now();
            if active {
                for r in &f.runs {
                    let style = Style::new([31, 119, 180], active, false, 1.0);
                    raster::draw_smoothed(&mut raster, &f, r, 0, &style);
                }
            }
            let t3 = Instant::now();
            if round == 1 && std::env::var_os("FRAME_TRACE").is_some() {
                let joins: usize = f.runs.iter().map(|r| r.cols.len()).sum();
                eprintln!(
                    "frame {i:2}: span {:9.0} cols {joins:6} y {:.3}..{:.3} layout {:.2} draw {:.2}",
                    domain.1 - domain.0,
                    f.y.lo,
                    f.y.hi,
                    (t1 - t0).as_secs_f64() * 1e3,
                    (t3 - t2).as_secs_f64() * 1e3
                );
            }
            prev = Some(f);
            if round > 0 {
                let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
                t_layout.push(ms(t0, t1));
                t_clear.push(ms(t1, t2));
                t_draw.push(ms(t2, t3));
                if active {
                    t_smoothed.push(ms(t_raw, t3));
                }
                t_all.push(ms(t0, t3));
            }
        }
        domain = window;
    }
    if !args.iter().any(|a| a == "--no-live") {
        live_strips(&states);
    }
    println!("frame stages, {runs} runs × {COLS} columns, smoothing {smoothing:?}, 120 frames:");
    for (name, v) in [
        ("layout (plot::frame)", &mut t_layout),
        ("clear + grid", &mut t_clear),
        ("rasterise runs", &mut t_draw),
        ("  of which smoothed", &mut t_smoothed),
        ("all", &mut t_all),
    ] {
        if v.is_empty() {
            continue;
        }
        println!(
            "  {name:<22} p50 {:6.2} ms  p95 {:6.2} ms  max {:6.2} ms",
            pct(v, 0.5),
            pct(v, 0.95),
            pct(v, 1.0)
        );
    }
}

/// Live points on a grouped and on a gaussian-smoothed panel: a whole frame against a strip.
fn live_strips(states: &[(String, SeriesState)]) {
    let looks: Vec<RunLook> = states
        .iter()
        .enumerate()
        .map(|(k, (id, _))| RunLook {
            id,
            color: [(k * 37 % 255) as u8, 90, 160],
            group: Some(if k % 2 == 0 { "a" } else { "b" }),
        })
        .collect();
    let grouped = ChartSettings {
        group_by: Some("g".into()),
        agg: Agg::Mean,
        band: Band::MinMax,
        ..ChartSettings::default()
    };
    let gaussian = ChartSettings {
        smoothing: Smoothing::Gaussian(3.0),
        ..ChartSettings::default()
    };
    println!(
        "live points, one to each of {} runs, 30 rounds:",
        states.len()
    );
    for (name, settings) in [
        ("grouped, mean + band", grouped),
        ("gaussian σ 3", gaussian),
    ] {
        let mut held: Vec<(String, SeriesState)> = states.to_vec();
        let view = View {
            css_width: f64::from(COLS) + plot::LEFT + plot::RIGHT,
            css_height: 300.0,
            x_domain: (0.0, STEPS as f64 * 1.05),
            y_window: None,
            x_log: false,
            y_log: false,
            ignore_outliers: false,
            smoothing: settings.smoothing,
            x_format: XFormat::Step,
        };
        let input = |held: &[(String, SeriesState)], f: &mut dyn FnMut(&FrameInput)| {
            let refs: Vec<(&str, &SeriesState)> =
                held.iter().map(|(i, s)| (i.as_str(), s)).collect();
            f(&FrameInput {
                series: &refs,
                view: &view,
                settings: &settings,
                looks: &looks,
                highlighted: None,
                dpr: 1.0,
            });
        };
        let mut kept = Raster::new(0, 0);
        let mut last = None;
        input(&held, &mut |i| {
            last = Some(render::render(i, None, &mut kept))
        });
        let (mut whole, mut strip, mut widths) = (vec![], vec![], vec![]);
        for round in 0..30u64 {
            for (k, (_, s)) in held.iter_mut().enumerate() {
                let x = (STEPS + round) as f64;
                s.append(
                    s.held(),
                    &[x],
                    &[0.4 + (k % 7) as f64 * 0.01 + round as f64 * 1e-3],
                );
            }
            let Some(prev) = last.take() else { return };
            let mut full_raster = kept.clone();
            input(&held, &mut |i| {
                let t0 = Instant::now();
                let _ = render::render(i, None, &mut full_raster);
                whole.push(t0.elapsed().as_secs_f64() * 1e3);
                let t0 = Instant::now();
                match render::render_strip(i, &prev.frame, &prev.groups, &mut kept) {
                    Some((r, x0)) => {
                        strip.push(t0.elapsed().as_secs_f64() * 1e3);
                        // The strip leaves the pixels of a whole frame (render_strip's promise).
                        assert!(
                            kept == full_raster,
                            "round {round}: a strip from {x0} differs"
                        );
                        widths.push((kept.w - x0) as f64);
                        last = Some(r);
                    }
                    None => last = Some(render::render(i, None, &mut kept)),
                }
            });
        }
        println!(
            "  {name:<22} whole frame p50 {:6.2} ms · strip p50 {:6.2} ms, max {:6.2} ms, {:.0} px wide (p50), {} of 30 drawn as strips",
            pct(&mut whole, 0.5),
            if strip.is_empty() {
                f64::NAN
            } else {
                pct(&mut strip.clone(), 0.5)
            },
            if strip.is_empty() {
                f64::NAN
            } else {
                pct(&mut strip.clone(), 1.0)
            },
            if widths.is_empty() {
                f64::NAN
            } else {
                pct(&mut widths, 0.5)
            },
            strip.len()
        );
    }
}
