//! Tests of the filter language: tokenizing, parsing, messages and evaluation.

use super::*;
use crate::api::RunState;
use serde_json::json;

fn run(id: &str, config: serde_json::Value, summary: serde_json::Value) -> RunInfo {
    RunInfo {
        id: id.into(),
        name: format!("{id}-net"),
        state: RunState::Finished,
        tags: vec!["baseline".into(), "v2".into()],
        config: config.as_object().unwrap().clone(),
        summary: summary.as_object().unwrap().clone(),
        created_at_secs: 1000.0,
        runtime_secs: 60.0,
        ..Default::default()
    }
}

fn runs() -> Vec<RunInfo> {
    let mut v = vec![
        run(
            "resnet50",
            json!({"lr": 0.001, "optimizer": "adam", "layers": 50, "amp": true, "opt": {"beta": 0.9}}),
            json!({"val/loss": 0.25, "acc": 0.9}),
        ),
        run(
            "resnet18",
            json!({"lr": 0.1, "optimizer": "sgd", "layers": 18, "amp": false}),
            json!({"val/loss": 0.5, "acc": 0.8}),
        ),
        run(
            "vit",
            json!({"lr": "0.005", "optimizer": "adam", "seed": "42"}),
            json!({"val/loss": "NaN"}),
        ),
        run("bare", json!({}), json!({})),
    ];
    v[1].state = RunState::Running;
    v[2].tags = vec![];
    v[3].group = Some("g1".into());
    v
}

/// The ids of the runs `src` keeps.
fn keep(src: &str) -> Vec<String> {
    let f = Filter::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    runs()
        .iter()
        .filter(|r| f.matches(r, 2000.0))
        .map(|r| r.id.clone())
        .collect()
}

fn error(src: &str) -> String {
    match Filter::parse(src) {
        Ok(_) => panic!("{src:?} parsed"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn empty_keeps_all() {
    assert_eq!(keep("").len(), 4);
    assert_eq!(keep("   ").len(), 4);
    assert!(Filter::parse(" ").unwrap().is_empty());
}

#[test]
fn the_examples() {
    assert_eq!(
        keep(r#"config.lr < 0.01 and state == "finished""#),
        ["resnet50", "vit"]
    );
    assert_eq!(keep(r#"name =~ "resnet.*""#), ["resnet50", "resnet18"]);
    assert_eq!(
        keep(r#""baseline" in tags"#),
        ["resnet50", "resnet18", "bare"]
    );
    assert_eq!(
        keep(r#"summary.val/loss <= 0.3 or not (config.optimizer == "sgd")"#),
        ["resnet50", "vit", "bare"]
    );
}

#[test]
fn precedence_and_parentheses() {
    // and binds tighter than or.
    assert_eq!(
        keep(r#"config.layers == 18 or config.layers == 50 and config.lr > 0.01"#),
        ["resnet18"]
    );
    assert_eq!(
        keep(r#"(config.layers == 18 or config.layers == 50) and config.lr > 0.01"#),
        ["resnet18"]
    );
    assert_eq!(
        keep(r#"(config.layers == 18 or config.layers == 50) and config.lr < 0.01"#),
        ["resnet50"]
    );
    // not binds tighter than and.
    assert_eq!(
        keep(r#"not config.amp and config.optimizer == "adam""#),
        ["vit"]
    );
    assert_eq!(
        keep(r#"not (config.amp and config.optimizer == "adam")"#),
        ["resnet18", "vit", "bare"]
    );
    assert_eq!(
        keep("!(state == 'running') && config.amp || id == 'bare'"),
        ["resnet50", "bare"]
    );
    assert_eq!(keep("not not config.amp"), ["resnet50"]);
    assert_eq!(keep("((config.amp))"), ["resnet50"]);
    assert_eq!(
        keep("STATE == 'running' OR config.seed == 42"),
        ["resnet18", "vit"]
    );
}

#[test]
fn numbers_and_strings() {
    // A string that reads as a number compares as one.
    assert_eq!(keep("config.lr < 0.01"), ["resnet50", "vit"]);
    assert_eq!(keep("config.seed == 42"), ["vit"]);
    assert_eq!(keep(r#"config.layers == "50""#), ["resnet50"]);
    // 2 < 10 numerically, "10" < "2" as text.
    assert_eq!(keep("config.layers > 2"), ["resnet50", "resnet18"]);
    assert_eq!(
        keep("config.layers >= 1e1 and config.layers <= 1_8"),
        ["resnet18"]
    );
    assert_eq!(
        keep("config.lr == -0.5 or config.lr > -1"),
        ["resnet50", "resnet18", "vit"]
    );
    // Text compares as text; a number never equals a non-numeric string.
    assert_eq!(keep("config.optimizer > 'b'"), ["resnet18"]);
    assert_eq!(keep("config.optimizer == 5"), Vec::<String>::new());
    assert_eq!(keep("config.optimizer < 5"), Vec::<String>::new());
    assert_eq!(keep("config.amp == true"), ["resnet50"]);
    assert_eq!(keep("config.amp == false"), ["resnet18"]);
    // NaN equals NaN and nothing else; it is never < or >.
    assert_eq!(keep("summary.val/loss == NaN"), ["vit"]);
    assert_eq!(keep("summary.val/loss >= 0"), ["resnet50", "resnet18"]);
    assert_eq!(keep("summary.val/loss != NaN"), ["resnet50", "resnet18"]);
    assert_eq!(keep("created == 1000 and runtime >= 60"), keep(""));
    assert_eq!(keep("config.opt.beta == 0.9"), ["resnet50"]);
    assert_eq!(keep("`config.opt.beta` == 0.9"), ["resnet50"]);
}

#[test]
fn missing_fields() {
    // Every comparison with a missing value is false, != included...
    assert_eq!(keep("config.layers != 50"), ["resnet18"]);
    assert_eq!(keep("config.layers < 1000"), ["resnet50", "resnet18"]);
    assert_eq!(keep("group == 'g1'"), ["bare"]);
    assert_eq!(keep("group != 'g1'"), Vec::<String>::new());
    // ...but `not` of it is true, and null tests for presence.
    assert_eq!(
        keep("not (config.layers == 50)"),
        ["resnet18", "vit", "bare"]
    );
    assert_eq!(keep("config.layers == null"), ["vit", "bare"]);
    assert_eq!(keep("config.layers != null"), ["resnet50", "resnet18"]);
    assert_eq!(keep("group"), ["bare"]);
    assert_eq!(keep("config.amp"), ["resnet50"]);
    assert_eq!(keep("config.nothing =~ '.*'"), Vec::<String>::new());
    assert_eq!(keep("config.nothing !~ 'x'"), Vec::<String>::new());
    assert_eq!(keep("'x' in config.nothing"), Vec::<String>::new());
}

#[test]
fn regex_and_membership() {
    assert_eq!(keep(r#"name =~ "^resnet\d+-""#), ["resnet50", "resnet18"]);
    assert_eq!(keep(r#"name =~ "18""#), ["resnet18"], "unanchored search");
    assert_eq!(keep(r#"name !~ "resnet""#), ["vit", "bare"]);
    assert_eq!(keep(r#"name =~ "(?i)VIT""#), ["vit"]);
    assert_eq!(keep(r#"tags =~ "^v\d$""#), ["resnet50", "resnet18", "bare"]);
    assert_eq!(
        keep(r#""net" in name"#),
        ["resnet50", "resnet18", "vit", "bare"]
    );
    assert_eq!(keep(r#""50" in name"#), ["resnet50"]);
    assert_eq!(keep(r#""baseline" not in tags"#), ["vit"]);
    assert_eq!(
        keep(r#"config.optimizer in ["sgd", "rmsprop",]"#),
        ["resnet18"]
    );
    assert_eq!(keep("config.layers in [18, 50]"), ["resnet50", "resnet18"]);
    assert_eq!(keep("config.optimizer not in ['adam']"), ["resnet18"]);
    assert_eq!(keep("'beta' in config.opt"), ["resnet50"]);
    assert_eq!(keep("tags == 'v2'"), ["resnet50", "resnet18", "bare"]);
}

#[test]
fn error_messages() {
    assert_eq!(
        error("config.lr <"),
        "expected a value after '<' at column 12"
    );
    assert_eq!(
        error("config.lr < and state == 'x'"),
        "expected a value after '<' at column 13"
    );
    assert_eq!(
        error("(config.lr < 1"),
        "unclosed '(' from column 1: expected ')' at column 15"
    );
    assert_eq!(
        error("config.lr < 1)"),
        "unexpected ')' with no '(' to close at column 14"
    );
    assert_eq!(
        error("name == \"abc"),
        "unterminated string: missing the closing \" at column 9"
    );
    assert_eq!(
        error("nme == 'x'"),
        "unknown field 'nme' (fields are name, state, created, runtime, tags, group, notes, id, \
         host, job_type, config.<key> and summary.<key>; put text in quotes: \"nme\") at column 1"
    );
    assert_eq!(
        error("state == finished"),
        "unknown field 'finished' (fields are name, state, created, runtime, tags, group, \
         notes, id, host, job_type, config.<key> and summary.<key>; put text in quotes: \
         \"finished\") at column 10"
    );
    assert_eq!(
        error("config == 1"),
        "unknown field 'config' (name a key: config.<key>) at column 1"
    );
    assert_eq!(
        error("config.lr < 1 state == 'x'"),
        "expected 'and' or 'or' before 'state' at column 15"
    );
    assert_eq!(
        error("config.lr < 1 and"),
        "expected a condition after 'and' at column 18"
    );
    assert!(
        error(r#"name =~ "(unclosed""#).starts_with("invalid regular expression: "),
        "{}",
        error(r#"name =~ "(unclosed""#)
    );
    assert!(error(r#"name =~ "(unclosed""#).ends_with("at column 9"));
    assert_eq!(
        error("name =~ resnet"),
        "expected a quoted pattern after '=~' (put it in quotes: \"resnet\") at column 9"
    );
    assert_eq!(
        error("name =~ 5"),
        "expected a quoted pattern after '=~' at column 9"
    );
    assert_eq!(
        error("config.lr # 1"),
        "unexpected character '#' at column 11"
    );
    assert_eq!(
        error("a & b"),
        "unexpected character '&' (write 'and') at column 3"
    );
    assert_eq!(
        error("config.lr < 1 & state"),
        "unexpected character '&' (write 'and') at column 15"
    );
    assert_eq!(error("()"), "expected a condition inside '( )' at column 2");
    assert_eq!(
        error(")"),
        "unexpected ')' with no '(' to close at column 1"
    );
    assert_eq!(error("config.lr < 1e"), "'1e' is not a number at column 13");
    assert_eq!(
        error("config.lr < 12abc"),
        "unexpected 'a' after the number 12 at column 15"
    );
    assert_eq!(
        error("'x' in [1, 2"),
        "unclosed '[' from column 8: expected ',' or ']' at column 13"
    );
    assert_eq!(
        error("'x' in [1 2]"),
        "expected ',' or ']', found '2' at column 11"
    );
    assert_eq!(
        error("config.lr == [1]"),
        "a list [..] only goes after 'in', not after '==' at column 14"
    );
    assert_eq!(
        error("'x' in"),
        "expected a list [..] or a field after 'in' at column 7"
    );
    assert_eq!(
        error("'abc'"),
        "expected an operator (==, !=, <, >, =~, in) after 'abc' at column 6"
    );
    assert_eq!(
        error("0.5 0.5"),
        "expected an operator (==, !=, <, >, =~, in) after '0.5', found '0.5' at column 5"
    );
    // Columns count characters, not bytes.
    assert_eq!(
        error("name == 'é' and name <"),
        "expected a value after '<' at column 23"
    );
    let deep = format!("{}config.amp{}", "(".repeat(200), ")".repeat(200));
    assert!(error(&deep).starts_with("the expression is nested too deeply"));
}
