//! The sweep search on standard test functions: median simple regret after 50 and 100 trials
//! over seeds, for our bayes search, random search, a TPE written after Optuna's defaults and
//! a bayes written after W&B's (isotropic Matérn GP on at most 100 points, plain EI over 1,000
//! random points), beside the reference figures; and the time one suggestion takes at
//! 100 trials, idle and with one core kept busy (`--busy`).
//!
//! `TRACKLINE_SKIP_WEB=1 cargo bench -p trackline --bench sweeps [-- --quick] [-- --busy]`

#![allow(
    clippy::print_stdout,
    reason = "a benchmark's report is its standard output"
)]

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};
use std::time::Instant;
use trackline::sweeps::config::SweepConfig;
use trackline::sweeps::sample::sample_space;
use trackline::sweeps::search::bayes::gp::LengthScales;
use trackline::sweeps::search::bayes::{self, Options, encode::Encoding};
use trackline::sweeps::{Goal, Outcome, Params, Trial};

struct Problem {
    name: &'static str,
    config: SweepConfig,
    f: fn(&Params) -> f64,
    minimum: f64,
    /// The reference figures at 50 trials: (TPE, W&B bayes, GP), if any.
    reference: Option<(f64, f64, f64)>,
}

fn x(p: &Params, k: &str) -> f64 {
    p[k].as_f64().unwrap()
}

fn branin(p: &Params) -> f64 {
    let (x1, x2) = (x(p, "x1"), x(p, "x2"));
    let (a, b, c) = (
        1.0,
        5.1 / (4.0 * std::f64::consts::PI.powi(2)),
        5.0 / std::f64::consts::PI,
    );
    let (r, s, t) = (6.0, 10.0, 1.0 / (8.0 * std::f64::consts::PI));
    a * (x2 - b * x1 * x1 + c * x1 - r).powi(2) + s * (1.0 - t) * x1.cos() + s
}

fn hartmann6(p: &Params) -> f64 {
    const ALPHA: [f64; 4] = [1.0, 1.2, 3.0, 3.2];
    const A: [[f64; 6]; 4] = [
        [10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
        [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
        [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
        [17.0, 8.0, 0.05, 10.0, 0.1, 14.0],
    ];
    const P: [[f64; 6]; 4] = [
        [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
        [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
        [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
        [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
    ];
    let v: Vec<f64> = (1..=6).map(|i| x(p, &format!("x{i}"))).collect();
    -(0..4)
        .map(|i| {
            let inner: f64 = (0..6).map(|j| A[i][j] * (v[j] - P[i][j]).powi(2)).sum();
            ALPHA[i] * (-inner).exp()
        })
        .sum::<f64>()
}

fn mixed(p: &Params) -> f64 {
    let opt = match p["optimizer"].as_str().unwrap() {
        "adam" => 0.0,
        "rmsprop" => 0.3,
        _ => 0.8,
    };
    (x(p, "lr").log10() + 3.0).powi(2)
        + 0.1 * (x(p, "layers") - 4.0).powi(2)
        + opt
        + 4.0 * (x(p, "dropout") - 0.1).powi(2)
}

fn problems() -> Vec<Problem> {
    let cfg = |v: Value| SweepConfig::from_json(&v).unwrap();
    vec![
        Problem {
            name: "Branin",
            config: cfg(
                json!({"method": "bayes", "metric": {"name": "y"}, "parameters": {
                "x1": {"min": -5.0, "max": 10.0}, "x2": {"min": 0.0, "max": 15.0}}}),
            ),
            f: branin,
            minimum: 0.397_887_357_729_738,
            reference: Some((0.109, 0.0065, 0.00004)),
        },
        Problem {
            name: "Hartmann-6",
            config: cfg(
                json!({"method": "bayes", "metric": {"name": "y"}, "parameters":
                (1..=6).map(|i| (format!("x{i}"), json!({"min": 0.0, "max": 1.0})))
                    .collect::<serde_json::Map<String, Value>>()}),
            ),
            f: hartmann6,
            minimum: -3.322_368_011_415_51,
            reference: Some((0.33, 0.34, 0.004)),
        },
        Problem {
            name: "mixed (log, int, categorical)",
            config: cfg(
                json!({"method": "bayes", "metric": {"name": "y"}, "parameters": {
                "lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-1},
                "layers": {"min": 1, "max": 8},
                "optimizer": {"values": ["sgd", "adam", "rmsprop"]},
                "dropout": {"min": 0.0, "max": 0.5}}}),
            ),
            f: mixed,
            minimum: 0.0,
            reference: None,
        },
    ]
}

#[derive(Clone, Copy, PartialEq)]
enum Sampler {
    Ours,
    Random,
    Tpe,
    WandbBayes,
}

impl Sampler {
    fn name(self) -> &'static str {
        match self {
            Sampler::Ours => "Trackline bayes",
            Sampler::Random => "random",
            Sampler::Tpe => "TPE (Optuna's defaults)",
            Sampler::WandbBayes => "W&B bayes",
        }
    }
}

const WANDB: Options = Options {
    scales: LengthScales::Shared,
    candidates: 1000,
    refine: false,
    log_ei: false,
    startup: 2,
};

fn suggest(sampler: Sampler, problem: &Problem, trials: &[Trial], rng: &mut StdRng) -> Params {
    let space = &problem.config.space;
    match sampler {
        Sampler::Ours => bayes::suggest(space, Goal::Minimize, trials, rng).unwrap(),
        Sampler::WandbBayes => {
            // W&B keeps at most 100 points for its process.
            let recent = &trials[trials.len().saturating_sub(100)..];
            bayes::suggest_with(space, Goal::Minimize, recent, rng, &WANDB).unwrap()
        }
        Sampler::Random => sample_space(space, rng),
        Sampler::Tpe => tpe(problem, trials, rng),
    }
}

/// A multivariate TPE after Optuna's defaults: 10 random trials, then the best
/// `min(ceil(0.1 n), 25)` observations form l(x) and the rest g(x) (Parzen estimators on the
/// unit cube with a prior component), and the best of 24 draws from l by l/g is chosen.
fn tpe(problem: &Problem, trials: &[Trial], rng: &mut StdRng) -> Params {
    let encoding = Encoding::new(&problem.config.space);
    if trials.len() < 10 {
        return sample_space(&problem.config.space, rng);
    }
    let mut obs: Vec<(Vec<f64>, f64)> = trials
        .iter()
        .filter_map(|t| match t.outcome {
            Outcome::Value(v) => Some((encoding.encode(&t.params)?, v)),
            _ => None,
        })
        .collect();
    obs.sort_by(|a, b| a.1.total_cmp(&b.1));
    let n_good = ((obs.len() as f64 * 0.1).ceil() as usize).clamp(1, 25);
    let (good, bad) = obs.split_at(n_good);
    let dims = encoding.len();
    let cats: Vec<Option<usize>> = encoding.coords.iter().map(|c| c.categories).collect();
    let bandwidth = |n: usize| (n as f64 + 1.0).powf(-1.0 / (dims as f64 + 4.0)).max(0.05);
    let log_density = |points: &[(Vec<f64>, f64)], p: &[f64]| -> f64 {
        let sigma = bandwidth(points.len());
        let components = points
            .iter()
            .map(|o| o.0.as_slice())
            .chain(std::iter::once(&[][..]));
        let mut total = 0.0;
        let mut count = 0.0;
        for center in components {
            let mut log_k = 0.0;
            for i in 0..dims {
                log_k += match (cats[i], center.get(i)) {
                    (Some(k), Some(c)) => {
                        let eps = 1.0 / (points.len() as f64 + k as f64);
                        if (c - p[i]).abs() < 0.5 {
                            (1.0 - eps * (k - 1) as f64).ln()
                        } else {
                            eps.ln()
                        }
                    }
                    (Some(k), None) => -(k as f64).ln(),
                    (None, Some(c)) => -0.5 * ((p[i] - c) / sigma).powi(2) - sigma.ln(),
                    (None, None) => 0.0, // the prior: uniform on [0, 1]
                };
            }
            total += log_k.exp();
            count += 1.0;
        }
        (total / count).max(1e-300).ln()
    };
    let mut best: Option<(Vec<f64>, f64)> = None;
    let sigma = bandwidth(good.len());
    for _ in 0..24 {
        let center = &good[rng.random_range(0..good.len())].0;
        let p: Vec<f64> = (0..dims)
            .map(|i| match cats[i] {
                Some(k) => {
                    if rng.random::<f64>() < 0.8 {
                        center[i]
                    } else {
                        rng.random_range(0..k) as f64
                    }
                }
                None => loop {
                    let u1: f64 = rng.random::<f64>().max(1e-300);
                    let u2: f64 = rng.random();
                    let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
                    let v = center[i] + sigma * z;
                    if (0.0..=1.0).contains(&v) {
                        break v;
                    }
                },
            })
            .collect();
        let score = log_density(good, &p) - log_density(bad, &p);
        if best.as_ref().is_none_or(|b| score > b.1) {
            best = Some((p, score));
        }
    }
    encoding.decode(&best.expect("24 draws").0)
}

/// Best regret after 50 and 100 trials of one seed.
fn run(sampler: Sampler, problem: &Problem, seed: u64, n: usize) -> (f64, f64, Vec<f64>) {
    let mut trials: Vec<Trial> = Vec::new();
    let mut best = f64::INFINITY;
    let (mut at50, mut times) = (f64::INFINITY, Vec::new());
    for i in 0..n {
        let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(7919) ^ i as u64);
        let started = Instant::now();
        let params = suggest(sampler, problem, &trials, &mut rng);
        if i >= n - 5 {
            times.push(started.elapsed().as_secs_f64() * 1e3);
        }
        let y = (problem.f)(&params);
        best = best.min(y);
        if i + 1 == 50 {
            at50 = best - problem.minimum;
        }
        trials.push(Trial {
            params,
            outcome: Outcome::Value(y),
        });
    }
    (at50, best - problem.minimum, times)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let busy = args.iter().any(|a| a == "--busy");
    let seeds: u64 = if quick { 5 } else { 20 };
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    if busy {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut x = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                std::hint::black_box(x);
            }
        });
    }
    println!(
        "sweep search: median simple regret over {seeds} seeds{}; load {}",
        if busy { ", one core kept busy" } else { "" },
        load()
    );
    for problem in problems() {
        println!("\n{}", problem.name);
        if let Some((tpe, wandb, gp)) = problem.reference {
            println!(
                "  reference at 50 trials: Optuna TPE {tpe}, W&B bayes {wandb}, a Matérn-5/2 ARD GP with log-EI {gp}"
            );
        }
        let mut ours = (0.0, 0.0);
        let mut others = Vec::new();
        for sampler in [
            Sampler::Ours,
            Sampler::WandbBayes,
            Sampler::Tpe,
            Sampler::Random,
        ] {
            let (mut r50, mut r100, mut ms) = (Vec::new(), Vec::new(), Vec::new());
            for seed in 0..seeds {
                let (a, b, t) = run(sampler, &problem, seed, 100);
                r50.push(a);
                r100.push(b);
                ms.extend(t);
            }
            let (m50, m100) = (median(r50), median(r100));
            let time = median(ms.clone());
            ms.sort_by(f64::total_cmp);
            let p95 = ms[(ms.len() as f64 * 0.95) as usize - 1];
            println!(
                "  {:<26} regret@50 {m50:<12.3e} regret@100 {m100:<12.3e} suggestion at ~100 trials: median {time:.1} ms, p95 {p95:.1} ms",
                sampler.name()
            );
            if sampler == Sampler::Ours {
                ours = (m50, m100);
            } else if sampler != Sampler::Random {
                others.push((sampler.name(), m50, m100));
            }
        }
        let beats = others.iter().all(|(_, a, b)| ours.0 <= *a && ours.1 <= *b);
        println!(
            "  goal: better than TPE and W&B bayes at 50 and 100 trials: {}",
            if beats { "met" } else { "NOT met" }
        );
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    println!("\nload after: {}", load());
}
