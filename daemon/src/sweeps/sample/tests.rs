use super::*;
use crate::sweeps::config::SweepConfig;
use rand::SeedableRng;
use serde_json::json;

/// 20,000 draws of the one parameter of `spec`.
fn draws(spec: Value) -> Vec<Value> {
    let c =
        SweepConfig::from_json(&json!({"method": "random", "parameters": {"p": spec}})).unwrap();
    let mut rng = StdRng::seed_from_u64(7);
    (0..20_000)
        .map(|_| sample_dim(&c.space.dims[0], &mut rng))
        .collect()
}

fn floats(values: &[Value]) -> Vec<f64> {
    values.iter().map(|v| v.as_f64().unwrap()).collect()
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

fn quantile(x: &[f64], q: f64) -> f64 {
    let mut s = x.to_vec();
    s.sort_by(f64::total_cmp);
    s[((s.len() - 1) as f64 * q) as usize]
}

fn close(got: f64, want: f64, tol: f64) -> bool {
    (got - want).abs() <= tol
}

#[test]
fn uniform_and_int_uniform_cover_their_bounds_evenly() {
    let x = floats(&draws(json!({"min": 2.0, "max": 4.0})));
    assert!(x.iter().all(|v| (2.0..4.0).contains(v)));
    assert!(close(mean(&x), 3.0, 0.02) && close(quantile(&x, 0.25), 2.5, 0.03));
    let d = draws(json!({"min": 1, "max": 3}));
    assert!(d.iter().all(|v| v.is_i64()));
    for k in 1..=3 {
        let share = d.iter().filter(|v| v.as_i64() == Some(k)).count() as f64 / d.len() as f64;
        assert!(close(share, 1.0 / 3.0, 0.015), "{k}: {share}");
    }
}

#[test]
fn log_uniforms_are_uniform_in_the_logarithm() {
    // log_uniform: the bounds are exponents.
    let x = floats(&draws(
        json!({"distribution": "log_uniform", "min": -4.0, "max": 0.0}),
    ));
    assert!(
        x.iter()
            .all(|v| (-4f64.exp()..=1.0).contains(v) && *v >= (-4f64).exp())
    );
    let logs: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    assert!(close(mean(&logs), -2.0, 0.03));
    // log_uniform_values: the bounds are the values.
    let x = floats(&draws(
        json!({"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1}),
    ));
    assert!(x.iter().all(|v| (1e-4..=1e-1).contains(v)));
    assert!(close(quantile(&x, 0.5), 10f64.powf(-2.5), 0.0005));
    // inv_log_uniform_values: 1/x is log-uniform, x within [min, max].
    let x = floats(&draws(
        json!({"distribution": "inv_log_uniform_values", "min": 1.0, "max": 100.0}),
    ));
    assert!(x.iter().all(|v| (1.0..=100.0).contains(v)));
    assert!(close(quantile(&x, 0.5), 10.0, 0.5));
    let x = floats(&draws(
        json!({"distribution": "inv_log_uniform", "min": 0.0, "max": 2.0}),
    ));
    assert!(x.iter().all(|v| ((-2f64).exp()..=1.0).contains(v)));
}

#[test]
fn normals_and_betas_have_their_moments() {
    let x = floats(&draws(
        json!({"distribution": "normal", "mu": 5.0, "sigma": 2.0}),
    ));
    let m = mean(&x);
    let var = x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / x.len() as f64;
    assert!(close(m, 5.0, 0.05) && close(var.sqrt(), 2.0, 0.05));
    let x = floats(&draws(
        json!({"distribution": "log_normal", "mu": 0.0, "sigma": 0.5}),
    ));
    assert!(x.iter().all(|v| *v > 0.0) && close(quantile(&x, 0.5), 1.0, 0.03));
    let x = floats(&draws(json!({"distribution": "beta", "a": 2.0, "b": 6.0})));
    assert!(x.iter().all(|v| (0.0..=1.0).contains(v)) && close(mean(&x), 0.25, 0.01));
}

#[test]
fn q_distributions_round_to_multiples_and_whole_q_gives_integers() {
    let d = draws(json!({"distribution": "q_uniform", "min": 0, "max": 100, "q": 10}));
    assert!(d.iter().all(|v| {
        v.as_i64()
            .is_some_and(|n| n % 10 == 0 && (0..=100).contains(&n))
    }));
    let x = floats(&draws(
        json!({"distribution": "q_normal", "mu": 0.0, "sigma": 1.0, "q": 0.5}),
    ));
    assert!(x.iter().all(|v| (v / 0.5).fract() == 0.0));
    let x = floats(&draws(
        json!({"distribution": "q_log_uniform_values", "min": 1.0, "max": 1000.0, "q": 1.0}),
    ));
    assert!(
        x.iter()
            .all(|v| v.fract() == 0.0 && (1.0..=1000.0).contains(v))
    );
    let x = floats(&draws(
        json!({"distribution": "q_beta", "a": 1.0, "b": 1.0, "q": 0.25}),
    ));
    assert!(x.iter().all(|v| [0.0, 0.25, 0.5, 0.75, 1.0].contains(v)));
}

#[test]
fn categoricals_follow_their_probabilities() {
    let d = draws(json!({"values": ["a", "b", "c"], "probabilities": [0.1, 0.2, 0.7]}));
    for (v, p) in [("a", 0.1), ("b", 0.2), ("c", 0.7)] {
        let share = d.iter().filter(|x| x.as_str() == Some(v)).count() as f64 / d.len() as f64;
        assert!(close(share, p, 0.012), "{v}: {share}");
    }
    let d = draws(json!({"values": [[1, 2], {"k": true}]}));
    assert!(d.contains(&json!([1, 2])) && d.contains(&json!({"k": true})));
    assert_eq!(draws(json!({"value": "fixed"}))[0], json!("fixed"));
}

#[test]
fn nested_parameters_nest_and_a_seed_repeats() {
    let c = SweepConfig::from_yaml(
        "method: random\nparameters:\n  opt:\n    parameters:\n      lr: {min: 0.0, max: 1.0}\n  bs: {values: [8]}\n",
    )
    .unwrap();
    let draw = |seed| sample_space(&c.space, &mut StdRng::seed_from_u64(seed));
    let p = draw(3);
    assert_eq!(p["bs"], json!(8));
    assert!(p["opt"]["lr"].is_f64());
    assert_eq!(draw(3), p);
    assert_ne!(draw(4), p);
}
