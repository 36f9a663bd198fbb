//! Tests of logged tables: reading files, sort, filter, group and the two comparisons.

use super::*;
use crate::columns::natural_cmp;
use serde_json::json;

const PREDS: &str = r#"{"columns":["id","label","score","ok","img"],"data":[
 [3,"cat 10",0.5,true,{"_type":"image-file","path":"media/images/a.png","width":4,"height":2,"sha256":"x","size":9}],
 [1,"Cat 9",NaN,false,null],
 [2,"dog",-Infinity,true,null],
 [4,"cat 10",Infinity,null,null],
 [5,"",0.25,false,null]]}"#;

fn preds() -> Table {
    Table::parse(PREDS).unwrap()
}

/// The `id` column of `rows`, as text.
fn ids(t: &Table, rows: &[u32]) -> Vec<String> {
    let c = t.column_index("id").unwrap();
    rows.iter()
        .map(|&r| t.columns[c].display(r as usize).into_owned())
        .collect()
}

fn sorted(t: &Table, col: &str, desc: bool) -> Vec<String> {
    let mut order = t.all_rows();
    t.sort_rows(&mut order, t.column_index(col).unwrap(), desc);
    ids(t, &order)
}

fn keep(t: &Table, src: &str) -> Vec<String> {
    let f = t.filter(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    ids(t, &t.filter_rows(&t.all_rows(), &f))
}

#[test]
fn a_file_reads_into_typed_columns() {
    let t = preds();
    assert_eq!(t.nrows, 5);
    assert_eq!(t.names(), ["id", "label", "score", "ok", "img"]);
    let score = &t.columns[2];
    assert!(matches!(score.cell(1), Cell::Num(x) if x.is_nan()));
    assert_eq!(score.cell(2), Cell::Num(f64::NEG_INFINITY));
    assert_eq!(score.cell(3), Cell::Num(f64::INFINITY));
    // Equal texts share one entry.
    assert_eq!(t.columns[1].texts.len(), 4);
    assert_eq!(t.columns[1].cell(0), t.columns[1].cell(3));
    assert_eq!(t.columns[3].cell(3), Cell::Null);
    assert_eq!(t.columns[4].display(0), "image 4×2");
    assert!(matches!(t.columns[4].media(0), Some(MediaValue::Images(_))));
    assert_eq!(t.columns[0].kind(), ColumnKind::Number);
    assert_eq!(t.columns[1].kind(), ColumnKind::Text);
    assert_eq!(t.columns[3].kind(), ColumnKind::Bool);
    assert_eq!(t.columns[4].kind(), ColumnKind::Media);
    assert_eq!(t.columns[2].display(1), "NaN");
    assert_eq!(t.columns[0].display(0), "3");
}

#[test]
fn escapes_integer_names_short_rows_and_nested_values() {
    let t = Table::parse(
        r#" { "columns" : [0, "a b", 2.5] , "data" : [ ["q\"\\\n\u00e9\ud83d\ude00", [1, NaN, {"x": -Infinity}]], [], [1, 2, 3, 4] ], "extra": {"k": [true]} } "#,
    )
    .unwrap();
    assert_eq!(t.names(), ["0", "a b", "2.5", "3"]);
    assert_eq!(t.nrows, 3);
    assert_eq!(t.columns[0].display(0), "q\"\\\n\u{e9}\u{1F600}");
    assert_eq!(
        t.columns[1].json_value(0),
        &json!([1, "NaN", {"x": "-Infinity"}])
    );
    // A short row's cells are missing, and so are a wide row's earlier rows in the extra column.
    assert_eq!(t.columns[0].cell(1), Cell::Missing);
    assert_eq!(t.columns[3].cell(0), Cell::Missing);
    assert_eq!(t.columns[3].cell(2), Cell::Num(4.0));
    for c in &t.columns {
        assert_eq!(c.len(), 3);
    }
}

#[test]
fn bad_files_say_where() {
    for (src, offset) in [
        ("[]", 0),
        (r#"{"columns":["a"],"data":[[1,]]}"#, 28),
        (r#"{"columns":["a"],"data":[[1] [2]]}"#, 29),
        (r#"{"columns":["a"],"data":[["x]]}"#, 31),
        (r#"{"data":[[1]]}"#, 0),
        (r#"{"columns":["a"],"data":[[tru]]}"#, 26),
    ] {
        let e = Table::parse(src).unwrap_err();
        assert_eq!(e.offset, offset, "{src}: {e}");
    }
}

#[test]
fn incremental_tables_read_their_increments_in_order() {
    let v = json!({"_type": "incremental-table-file", "path": "media/table/p_5_b.table.json",
        "previous_increments_paths": ["media/table/p_4_a.table.json", "../../etc/passwd"]});
    assert_eq!(
        increment_paths(&v),
        [
            "media/table/p_4_a.table.json",
            "media/table/p_5_b.table.json"
        ]
    );
    let plain = json!({"_type": "table-file", "path": "media/table/t.table.json"});
    assert_eq!(increment_paths(&plain), ["media/table/t.table.json"]);
    let t = Table::parse_parts(&[
        r#"{"columns":["step","loss"],"data":[[0,1.0],[1,0.5]]}"#,
        r#"{"columns":["step","loss","note"],"data":[[2,0.25,"x"]]}"#,
    ])
    .unwrap();
    assert_eq!(t.nrows, 3);
    assert_eq!(t.names(), ["step", "loss", "note"]);
    assert_eq!(t.columns[1].display(2), "0.25");
    assert_eq!(t.columns[2].cell(0), Cell::Missing);
    assert_eq!(t.columns[2].display(2), "x");
}

#[test]
fn natural_keys_order_as_the_runs_table_does() {
    let words = [
        "run 10",
        "Run 9",
        "run 1",
        "run 010",
        "run 01",
        "a",
        "A",
        "b2",
        "b10",
        "b2a",
        "b02",
        "",
        "x9y",
        "x10",
        "é",
        "E",
        "z",
        "1",
        "01",
        "10",
        "9",
        "-",
        "Ünïcode",
        "über 2",
        "über 10",
    ];
    for a in words {
        for b in words {
            assert_eq!(
                natural_key(a).cmp(&natural_key(b)),
                natural_cmp(a, b),
                "{a:?} vs {b:?}"
            );
        }
    }
}

#[test]
fn sorting_numbers_text_and_booleans() {
    let t = preds();
    // -inf, 0.25, 0.5, inf; then NaN last.
    assert_eq!(sorted(&t, "score", false), ["2", "5", "3", "4", "1"]);
    // Descending reverses the numbers only: NaN stays last.
    assert_eq!(sorted(&t, "score", true), ["4", "3", "5", "2", "1"]);
    // Natural order, case ignored; ties keep file order; empty text with the nulls, last.
    assert_eq!(sorted(&t, "label", false), ["1", "3", "4", "2", "5"]);
    assert_eq!(sorted(&t, "label", true), ["2", "3", "4", "1", "5"]);
    // false (0) before true (1); null last.
    assert_eq!(sorted(&t, "ok", false), ["1", "5", "3", "2", "4"]);
    assert_eq!(sorted(&t, "id", false), ["1", "2", "3", "4", "5"]);
}

#[test]
fn sorting_is_stable_over_a_previous_order() {
    let t = preds();
    let mut order = t.all_rows();
    t.sort_rows(&mut order, t.column_index("id").unwrap(), true);
    t.sort_rows(&mut order, t.column_index("label").unwrap(), false);
    // The two "cat 10" rows (ids 3 and 4) keep the descending id order.
    assert_eq!(ids(&t, &order), ["1", "4", "3", "2", "5"]);
}

#[test]
fn the_runs_table_language_filters_rows() {
    let t = preds();
    assert_eq!(keep(&t, ""), ["3", "1", "2", "4", "5"]);
    assert_eq!(keep(&t, "score > 0 and ok"), ["3"]);
    assert_eq!(keep(&t, r#"label =~ "^cat""#), ["3", "4"]);
    assert_eq!(
        keep(&t, r#"label == "cat 10" or id in [1, 2]"#),
        ["3", "1", "2", "4"]
    );
    assert_eq!(keep(&t, "score == NaN"), ["1"]);
    assert_eq!(keep(&t, "ok == null"), ["4"]);
    assert_eq!(keep(&t, "ok == false"), ["1", "5"]);
    assert_eq!(keep(&t, "not ok"), ["1", "4", "5"]);
    assert_eq!(keep(&t, r#""dog" in label"#), ["2"]);
    // Column names ignore ASCII case when that names one column.
    assert_eq!(keep(&t, "ID >= 4"), ["4", "5"]);
    let e = t.filter("loss < 1").unwrap_err();
    assert!(e.message.contains("unknown column 'loss'"), "{e}");
    assert!(e.message.contains("id, label, score"), "{e}");
    assert_eq!(e.column, 1);
}

#[test]
fn names_with_spaces_go_in_backticks() {
    let t = Table::parse(r#"{"columns":["true label","in"],"data":[["a",1],["b",2]]}"#).unwrap();
    let f = t.filter(r#"`true label` == "b" and `in` > 1"#).unwrap();
    assert_eq!(t.filter_rows(&t.all_rows(), &f), [1]);
}

#[test]
fn groups_count_and_aggregate_numeric_columns() {
    let t = Table::parse(
        r#"{"columns":["cls","loss","acc","name"],"data":[
        ["b",1.0,0.5,"x"],["a",2.0,NaN,"y"],["b",3.0,0.7,"z"],[null,4.0,0.1,"w"],["a",6.0,0.3,"v"]]}"#,
    )
    .unwrap();
    let groups = group_rows(&t, &t.all_rows(), 0);
    let labels: Vec<&str> = groups.iter().map(|g| g.label.as_str()).collect();
    assert_eq!(labels, ["a", "b", "null"]);
    assert_eq!(groups[0].rows, [1, 4]);
    let loss = groups[0].aggregates[1].unwrap();
    assert_eq!(
        (loss.count, loss.sum, loss.min, loss.max),
        (2, 8.0, 2.0, 6.0)
    );
    assert_eq!(loss.mean(), Some(4.0));
    // NaN is left out of the aggregate.
    let acc = groups[0].aggregates[2].unwrap();
    assert_eq!((acc.count, acc.sum), (1, 0.3));
    // Text columns have no aggregate.
    assert_eq!(groups[0].aggregates[3], None);
    assert_eq!(groups[2].rows, [3]);
    // Grouping keeps the order it is given within each group.
    let mut order = t.all_rows();
    t.sort_rows(&mut order, 1, true);
    assert_eq!(group_rows(&t, &order, 0)[1].rows, [2, 0]);
}

#[test]
fn runs_join_into_one_table_tagged_by_run() {
    let a = Table::parse(r#"{"columns":["id","p"],"data":[[1,0.5],[2,0.25]]}"#).unwrap();
    let b = Table::parse(r#"{"columns":["id","q"],"data":[[7,"x"]]}"#).unwrap();
    let t = join_runs(&[("run-a".into(), &a), ("run-b".into(), &b)]);
    assert_eq!(t.names(), ["run", "id", "p", "q"]);
    assert_eq!(t.nrows, 3);
    let runs: Vec<String> = (0..3).map(|r| t.columns[0].display(r).into()).collect();
    assert_eq!(runs, ["run-a", "run-a", "run-b"]);
    assert_eq!(t.columns[3].cell(0), Cell::Missing);
    assert_eq!(t.columns[3].display(2), "x");
    let f = t.filter(r#"run == "run-b""#).unwrap();
    assert_eq!(t.filter_rows(&t.all_rows(), &f), [2]);
    // A table with a column called run keeps it; the tag column is renamed.
    let c = Table::parse(r#"{"columns":["run"],"data":[[1]]}"#).unwrap();
    assert_eq!(join_runs(&[("r".into(), &c)]).names(), ["_run", "run"]);
}

#[test]
fn two_steps_diff_by_an_id_column() {
    let old = Table::parse(
        r#"{"columns":["id","pred","img"],"data":[[1,"cat",null],[2,"dog",null],[3,"cow",null]]}"#,
    )
    .unwrap();
    let new = Table::parse(
        r#"{"columns":["id","pred","extra"],"data":[[3,"cow",null],[1,"cat",null],[4,"pig",null],[2,"cat",1]]}"#,
    )
    .unwrap();
    assert_eq!(diff_key(&old, &new).as_deref(), Some("id"));
    let d = diff_steps(&old, &new, Some("id"));
    assert_eq!(d.table.names(), ["change", "id", "pred", "extra", "img"]);
    let change: Vec<String> = (0..d.table.nrows)
        .map(|r| d.table.columns[0].display(r).into())
        .collect();
    // img is null in the old rows and missing in the new ones: a column the newer step dropped
    // is not a change.
    assert_eq!(change, ["same", "same", "added", "changed"]);
    assert_eq!((d.added, d.removed, d.changed_rows), (1, 0, 1));
    // Row 3 (id 2): pred dog → cat, extra appeared.
    assert!(d.changed.contains(&(3, 2)));
    assert!(d.changed.contains(&(3, 3)));
    assert_eq!(d.changed.len(), 2);
    assert_eq!(d.before, [Some(2), Some(0), None, Some(1)]);
    let f = d.table.filter(r#"change == "added""#).unwrap();
    assert_eq!(d.table.filter_rows(&d.table.all_rows(), &f), [2]);
}

#[test]
fn two_steps_diff_by_position_and_list_removed_rows() {
    let old = Table::parse(r#"{"columns":["loss"],"data":[[1.0],[0.5],[0.5],[0.5]]}"#).unwrap();
    let new = Table::parse(r#"{"columns":["loss"],"data":[[1.0],[0.4]]}"#).unwrap();
    // loss repeats: no id column.
    assert_eq!(diff_key(&old, &new), None);
    let d = diff_steps(&old, &new, None);
    let change: Vec<String> = (0..d.table.nrows)
        .map(|r| d.table.columns[0].display(r).into())
        .collect();
    assert_eq!(change, ["same", "changed", "removed", "removed"]);
    assert_eq!(d.table.columns[1].display(2), "0.5");
    assert_eq!(d.before, [Some(0), Some(1), Some(2), Some(3)]);
    assert_eq!((d.added, d.removed, d.changed_rows), (0, 2, 1));
}

#[test]
fn media_cells_compare_by_content_not_by_file_name() {
    let img = |path: &str, sha: &str| {
        format!(r#"{{"_type":"image-file","path":"{path}","sha256":"{sha}","size":4}}"#)
    };
    let table = |rows: [(u32, String); 2]| {
        let data: Vec<String> = rows.iter().map(|(id, c)| format!("[{id},{c}]")).collect();
        Table::parse(&format!(
            r#"{{"columns":["id","img"],"data":[{}]}}"#,
            data.join(",")
        ))
        .unwrap()
    };
    let old = table([
        (1, img("media/a_1.png", "aa")),
        (2, img("media/b_1.png", "bb")),
    ]);
    // Row 1: the same bytes under the step-2 file name; row 2: other bytes.
    let new = table([
        (1, img("media/a_2.png", "aa")),
        (2, img("media/b_2.png", "cc")),
    ]);
    let d = diff_steps(&old, &new, Some("id"));
    let change: Vec<String> = (0..d.table.nrows)
        .map(|r| d.table.columns[0].display(r).into())
        .collect();
    assert_eq!(change, ["same", "changed"]);
}

#[test]
fn python_json_keeps_non_finite_numbers_as_their_names() {
    let v = parse_python_json(r#" {"y": [1.5, NaN, -Infinity], "s": "a\u00e9"} "#).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"y": [1.5, "NaN", "-Infinity"], "s": "aé"})
    );
    assert!(parse_python_json("[1] x").is_err());
}

#[test]
fn integers_show_whole() {
    assert_eq!(format_number(1_000_000.0), "1000000");
    assert_eq!(format_number(-3.0), "-3");
    assert_eq!(format_number(0.125), "0.125");
    assert_eq!(format_number(f64::INFINITY), "+Inf");
}
