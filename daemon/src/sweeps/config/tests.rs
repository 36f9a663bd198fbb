use super::*;
use serde_json::json;

fn err(yaml: &str) -> String {
    SweepConfig::from_yaml(yaml).unwrap_err().to_string()
}

#[test]
fn wandbs_example_config_parses_with_inferred_distributions() {
    let c = SweepConfig::from_yaml(
        "program: train.py
method: bayes
name: my-sweep
metric:
  goal: maximize
  name: val_acc
parameters:
  batch_size: {values: [16, 32, 64]}
  epochs: {value: 5}
  lr: {min: 0.0001, max: 0.1}
  layers: {min: 1, max: 4}
  optimizer:
    parameters:
      momentum: {distribution: normal}
      kind: {values: [adam, sgd], probabilities: [0.25, 0.75]}
early_terminate: {type: hyperband, min_iter: 3}
run_cap: 20
",
    )
    .unwrap();
    assert_eq!(c.method, Method::Bayes);
    assert_eq!(
        c.metric,
        Some(MetricConfig {
            name: "val_acc".into(),
            goal: Goal::Maximize,
            target: None
        })
    );
    let names: Vec<String> = c.space.dims.iter().map(|d| d.name()).collect();
    assert_eq!(
        names,
        [
            "batch_size",
            "epochs",
            "layers",
            "lr",
            "optimizer.kind",
            "optimizer.momentum"
        ]
    );
    let dists: Vec<&Distribution> = c.space.dims.iter().map(|d| &d.dist).collect();
    assert!(matches!(
        dists[0],
        Distribution::Categorical {
            probabilities: None,
            ..
        }
    ));
    assert_eq!(*dists[1], Distribution::Constant(json!(5)));
    assert_eq!(*dists[2], Distribution::IntUniform { min: 1, max: 4 });
    assert_eq!(
        *dists[3],
        Distribution::Uniform {
            min: 0.0001,
            max: 0.1
        }
    );
    assert!(matches!(
        dists[4],
        Distribution::Categorical {
            probabilities: Some(_),
            ..
        }
    ));
    assert_eq!(
        *dists[5],
        Distribution::Normal {
            mu: 0.0,
            sigma: 1.0
        }
    );
    assert!(c.space.dims[2].integer && !c.space.dims[3].integer);
    assert_eq!(
        c.early_terminate,
        Some(EarlyTerminate::Hyperband {
            min_iter: Some(3),
            max_iter: None,
            s: None,
            eta: 3.0,
            strict: true
        })
    );
    assert_eq!(
        (c.run_cap, c.program.as_deref()),
        (Some(20), Some("train.py"))
    );
    assert_eq!(c.name.as_deref(), Some("my-sweep"));
}

#[test]
fn a_float_bound_makes_a_uniform_and_a_whole_q_makes_integers() {
    let c = SweepConfig::from_json(&json!({"method": "random", "parameters": {
        "a": {"min": 1, "max": 10.0},
        "b": {"distribution": "q_uniform", "min": 0, "max": 100, "q": 10},
        "c": {"distribution": "q_uniform", "min": 0, "max": 1, "q": 0.5},
        "d": {"distribution": "q_log_uniform_values", "min": 1, "max": 100},
    }}))
    .unwrap();
    assert_eq!(
        c.space.dims[0].dist,
        Distribution::Uniform {
            min: 1.0,
            max: 10.0
        }
    );
    assert!(c.space.dims[1].integer);
    assert!(!c.space.dims[2].integer);
    assert!(
        !c.space.dims[3].integer,
        "q defaults to 1.0, a float, as in W&B"
    );
}

#[test]
fn every_distribution_name_parses() {
    for (spec, want) in [
        (
            json!({"distribution": "log_uniform", "min": -5, "max": 0}),
            "LogUniform",
        ),
        (
            json!({"distribution": "log_uniform_values", "min": 1e-5, "max": 1}),
            "LogUniformValues",
        ),
        (
            json!({"distribution": "q_log_uniform", "min": 0, "max": 3}),
            "QLogUniform",
        ),
        (
            json!({"distribution": "inv_log_uniform", "min": 0, "max": 3}),
            "InvLogUniform",
        ),
        (
            json!({"distribution": "inv_log_uniform_values", "min": 1, "max": 9}),
            "InvLogUniformValues",
        ),
        (
            json!({"distribution": "q_normal", "mu": 1, "sigma": 2, "q": 0.5}),
            "QNormal",
        ),
        (json!({"distribution": "log_normal"}), "LogNormal"),
        (json!({"distribution": "q_log_normal"}), "QLogNormal"),
        (json!({"distribution": "beta", "a": 2, "b": 3}), "Beta"),
        (json!({"distribution": "q_beta", "q": 0.1}), "QBeta"),
        (
            json!({"distribution": "constant", "value": [1, 2]}),
            "Constant",
        ),
        (
            json!({"distribution": "categorical", "values": [{"x": 1}]}),
            "Categorical",
        ),
    ] {
        let c = SweepConfig::from_json(&json!({"method": "random", "parameters": {"p": spec}}))
            .unwrap();
        assert!(
            format!("{:?}", c.space.dims[0].dist).starts_with(want),
            "{want}"
        );
    }
}

#[test]
fn bad_configs_name_the_key() {
    for (yaml, key) in [
        ("parameters: {a: {value: 1}}", "method"),
        ("method: anneal\nparameters: {a: {value: 1}}", "method"),
        (
            "method: bayes\nparameters: {a: {min: 0.0, max: 1.0}}",
            "metric",
        ),
        (
            "method: random\nmetric: {goal: minimize}\nparameters: {a: {value: 1}}",
            "metric.name",
        ),
        ("method: random", "parameters"),
        (
            "method: random\nparameters: {a: {min: 2, max: 1}}",
            "parameters.a.min",
        ),
        (
            "method: random\nparameters: {a: {min: 1}}",
            "parameters.a.max",
        ),
        (
            "method: random\nparameters: {a: {values: []}}",
            "parameters.a.values",
        ),
        (
            "method: random\nparameters: {a: {values: [1, 2], probabilities: [0.5, 0.6]}}",
            "parameters.a.probabilities",
        ),
        (
            "method: random\nparameters: {a: {values: [1, 2], probabilities: [1.0]}}",
            "parameters.a.probabilities",
        ),
        (
            "method: random\nparameters: {a: {distribution: gamma}}",
            "parameters.a.distribution",
        ),
        (
            "method: random\nparameters: {a: {distribution: normal, min: 1}}",
            "parameters.a.min",
        ),
        (
            "method: random\nparameters: {a: {distribution: normal, sigma: -1}}",
            "parameters.a.sigma",
        ),
        (
            "method: random\nparameters: {a: {distribution: log_uniform_values, min: 0, max: 1}}",
            "parameters.a.min",
        ),
        (
            "method: random\nparameters: {a: {distribution: int_uniform, min: 0.5, max: 3}}",
            "parameters.a.min",
        ),
        (
            "method: random\nparameters: {a: {parameters: {b: 3}}}",
            "parameters.a.b",
        ),
        ("method: random\nparameters: {a: 3}", "parameters.a"),
        (
            "method: random\nparameters: {a: {value: 1}}\nrun_cap: 0",
            "run_cap",
        ),
        (
            "method: random\nparameters: {a: {value: 1}}\nearly_terminate: {type: hyperband}",
            "early_terminate",
        ),
        (
            "method: random\nparameters: {a: {value: 1}}\nearly_terminate: {type: hyperband, min_iter: 2, eta: 1}",
            "early_terminate.eta",
        ),
        (
            "method: random\nparameters: {a: {value: 1}}\ncommand: python",
            "command",
        ),
        (
            "method: random\nparameters: {a: {value: 1}}\nsurprise: 1",
            "surprise",
        ),
        ("method: random\nparameters: [1, 2", ""),
    ] {
        let message = err(yaml);
        assert!(
            message.starts_with(&format!("sweep config: {key}:")),
            "{yaml:?} gave {message:?}, expected key {key:?}"
        );
    }
}

#[test]
fn wandbs_other_top_level_keys_are_accepted() {
    let c = SweepConfig::from_yaml(
        "method: grid\nentity: me\nproject: p\ncontroller: {type: local}\nparameters: {a: {values: [1]}}\n\
         command: [\"${env}\", python3, \"${program}\", \"${args}\"]\n",
    )
    .unwrap();
    assert_eq!(c.command.unwrap().len(), 4);
    assert_eq!(c.raw["project"], json!("p"));
}
