//! W&B custom charts (`wandb.plot.*`) drawn from their tables: the chart's spec
//! ([`trackline_shared::media::CustomChart`]: which preset, which table column fills which field,
//! its titles) and the logged table (`{"columns": [...], "data": [[...]]}`) become a plotly figure
//! JSON, read by [`super::plotly_traces::parse_figure`] into the same [`Figure`] every plot here is
//! drawn from. Presets: `wandb/line/v0`, `scatter/v0`, `bar/v0`, `histogram/v0`,
//! `lineseries/v0`, `confusion_matrix/v1` (and v0), `area-under-curve/v0` (PR and ROC).

use serde_json::{Value, json};
use trackline_shared::media::CustomChart;

use super::figure::Figure;
use super::plotly_traces::parse_figure;

/// A logged table's columns and rows.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct TableData {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl TableData {
    /// Reads a `table-file` JSON; `None` when it has no `columns` list.
    pub fn parse(v: &Value) -> Option<TableData> {
        let columns = v
            .get("columns")?
            .as_array()?
            .iter()
            .map(|c| c.as_str().map_or_else(|| c.to_string(), str::to_string))
            .collect();
        let rows = v
            .get("data")
            .and_then(Value::as_array)
            .map(|d| d.iter().filter_map(|r| r.as_array().cloned()).collect())
            .unwrap_or_default();
        Some(TableData { columns, rows })
    }

    fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// The values of column `name` (null where a row is short).
    pub fn values(&self, name: &str) -> Option<Vec<Value>> {
        let i = self.column(name)?;
        Some(
            self.rows
                .iter()
                .map(|r| r.get(i).cloned().unwrap_or(Value::Null))
                .collect(),
        )
    }
}

fn field<'a>(chart: &'a CustomChart, name: &str) -> Option<&'a str> {
    chart
        .fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn string<'a>(chart: &'a CustomChart, name: &str) -> Option<&'a str> {
    chart
        .strings
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|s| !s.is_empty())
}

/// A cell as a label (strings as they are, other values as JSON text).
fn label(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Named series of `(x, y)` cells.
type Series = Vec<(String, Vec<Value>, Vec<Value>)>;

/// Rows split into series by a grouping column (one series when there is none), keeping the
/// order each group first appears in.
fn series(table: &TableData, x: &str, y: &str, group: Option<&str>) -> Result<Series, String> {
    let missing = |c: &str| format!("the table has no column \"{c}\"");
    let xs = table.values(x).ok_or_else(|| missing(x))?;
    let ys = table.values(y).ok_or_else(|| missing(y))?;
    let gs = match group {
        Some(g) => Some(table.values(g).ok_or_else(|| missing(g))?),
        None => None,
    };
    let mut out: Series = Vec::new();
    for (i, (xv, yv)) in xs.into_iter().zip(ys).enumerate() {
        let name = gs.as_ref().map_or_else(|| y.to_string(), |g| label(&g[i]));
        match out.iter_mut().find(|s| s.0 == name) {
            Some(s) => {
                s.1.push(xv);
                s.2.push(yv);
            }
            None => out.push((name, vec![xv], vec![yv])),
        }
    }
    Ok(out)
}

/// Sorts one series' points by x (curves: PR and ROC points come in any order).
fn sorted_by_x(xs: Vec<Value>, ys: Vec<Value>) -> (Vec<Value>, Vec<Value>) {
    let mut pts: Vec<(Value, Value)> = xs.into_iter().zip(ys).collect();
    pts.sort_by(|a, b| {
        let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
        f(&a.0).total_cmp(&f(&b.0))
    });
    pts.into_iter().unzip()
}

/// The plotly JSON of a custom chart, or why it cannot be drawn.
pub fn chart_json(chart: &CustomChart, table: &TableData) -> Result<Value, String> {
    let need =
        |f: &str| field(chart, f).ok_or_else(|| format!("the chart names no \"{f}\" column"));
    let title = string(chart, "title");
    let axis_title = |key: &str, fallback: &str| -> Value {
        json!({"title": {"text": string(chart, key).unwrap_or(fallback)}})
    };
    let spec = chart.spec.as_str();
    let (data, mut layout) = match spec {
        "wandb/line/v0" | "wandb/scatter/v0" => {
            let (x, y) = (need("x")?, need("y")?);
            let group = field(chart, "stroke").or_else(|| field(chart, "color"));
            let mode = if spec == "wandb/line/v0" {
                "lines"
            } else {
                "markers"
            };
            let traces: Vec<Value> = series(table, x, y, group)?
                .into_iter()
                .map(|(name, xs, ys)| json!({"type": "scatter", "mode": mode, "name": name, "x": xs, "y": ys}))
                .collect();
            (
                traces,
                json!({"xaxis": axis_title("x-axis-title", x), "yaxis": axis_title("y-axis-title", y)}),
            )
        }
        "wandb/bar/v0" => {
            let (l, v) = (need("label")?, need("value")?);
            let labels = table
                .values(l)
                .ok_or_else(|| format!("the table has no column \"{l}\""))?;
            let values = table
                .values(v)
                .ok_or_else(|| format!("the table has no column \"{v}\""))?;
            let labels: Vec<String> = labels.iter().map(label).collect();
            (
                vec![
                    json!({"type": "bar", "orientation": "h", "name": v, "x": values, "y": labels}),
                ],
                json!({"xaxis": axis_title("x-axis-title", v),
                       "yaxis": {"type": "category", "autorange": "reversed", "title": {"text": l}}}),
            )
        }
        "wandb/histogram/v0" => {
            let v = need("value")?;
            let values = table
                .values(v)
                .ok_or_else(|| format!("the table has no column \"{v}\""))?;
            (
                vec![json!({"type": "histogram", "name": v, "x": values, "nbinsx": 30})],
                json!({"xaxis": axis_title("x-axis-title", v), "yaxis": axis_title("y-axis-title", "count")}),
            )
        }
        "wandb/lineseries/v0" => {
            let (x, k, y) = (need("step")?, need("lineKey")?, need("lineVal")?);
            let traces: Vec<Value> = series(table, x, y, Some(k))?
                .into_iter()
                .map(|(name, xs, ys)| json!({"type": "scatter", "mode": "lines", "name": name, "x": xs, "y": ys}))
                .collect();
            (
                traces,
                json!({"xaxis": axis_title("xname", x), "yaxis": axis_title("y-axis-title", "")}),
            )
        }
        "wandb/area-under-curve/v0" => {
            let (x, y) = (need("x")?, need("y")?);
            let traces: Vec<Value> = series(table, x, y, field(chart, "class"))?
                .into_iter()
                .map(|(name, xs, ys)| {
                    let (xs, ys) = sorted_by_x(xs, ys);
                    json!({"type": "scatter", "mode": "lines", "name": name, "x": xs, "y": ys})
                })
                .collect();
            (
                traces,
                json!({"xaxis": {"title": {"text": string(chart, "x-axis-title").unwrap_or(x)}, "range": [0, 1]},
                       "yaxis": {"title": {"text": string(chart, "y-axis-title").unwrap_or(y)}, "range": [0, 1.05]}}),
            )
        }
        "wandb/confusion_matrix/v1" | "wandb/confusion_matrix/v0" => {
            let (a, p, n) = (need("Actual")?, need("Predicted")?, need("nPredictions")?);
            let col = |c: &str| {
                table
                    .values(c)
                    .ok_or_else(|| format!("the table has no column \"{c}\""))
            };
            let (actual, predicted, counts) = (col(a)?, col(p)?, col(n)?);
            let mut classes: Vec<String> = Vec::new();
            for v in actual.iter().chain(&predicted) {
                let l = label(v);
                if !classes.contains(&l) {
                    classes.push(l);
                }
            }
            let k = classes.len();
            let mut z = vec![vec![0.0; k]; k];
            for ((av, pv), nv) in actual.iter().zip(&predicted).zip(&counts) {
                let (Some(r), Some(c)) = (
                    classes.iter().position(|x| *x == label(av)),
                    classes.iter().position(|x| *x == label(pv)),
                ) else {
                    continue;
                };
                z[r][c] += nv.as_f64().unwrap_or(0.0);
            }
            (
                vec![
                    json!({"type": "heatmap", "x": classes, "y": classes, "z": z,
                    "colorscale": "Blues", "texttemplate": "%{z}", "name": n, "showlegend": false}),
                ],
                json!({"xaxis": {"type": "category", "title": {"text": p}},
                       "yaxis": {"type": "category", "autorange": "reversed", "title": {"text": a}}}),
            )
        }
        other => return Err(format!("not drawn: custom chart preset {other}")),
    };
    if let Some(t) = title {
        layout["title"] = json!({"text": t});
    }
    Ok(json!({"data": data, "layout": layout}))
}

/// The figure of a custom chart, or why it cannot be drawn.
pub fn chart_figure(chart: &CustomChart, table: &TableData) -> Result<Figure, String> {
    let json = chart_json(chart, table)?;
    parse_figure(&json).ok_or_else(|| "the chart could not be read".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::figure::TraceKind;

    fn chart(spec: &str, fields: &[(&str, &str)], strings: &[(&str, &str)]) -> CustomChart {
        CustomChart {
            key: "c".into(),
            spec: spec.into(),
            fields: fields
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            strings: strings
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            table_key: "c_table".into(),
        }
    }

    #[test]
    fn a_confusion_matrix_counts_actual_by_predicted() {
        let table = TableData::parse(&json!({"columns": ["Actual", "Predicted", "nPredictions"],
            "data": [["cat", "cat", 5], ["cat", "dog", 1], ["dog", "cat", 2], ["dog", "dog", 7]]}))
        .unwrap();
        let c = chart(
            "wandb/confusion_matrix/v1",
            &[
                ("Actual", "Actual"),
                ("Predicted", "Predicted"),
                ("nPredictions", "nPredictions"),
            ],
            &[("title", "Confusion")],
        );
        let f = chart_figure(&c, &table).unwrap();
        assert_eq!(f.title.as_deref(), Some("Confusion"));
        let TraceKind::Heatmap { z, show_values, .. } = &f.traces[0].kind else {
            panic!()
        };
        assert_eq!(z, &vec![vec![5.0, 1.0], vec![2.0, 7.0]]);
        assert!(show_values);
        assert_eq!(f.subplots[0].y.categories, vec!["cat", "dog"]);
        assert!(f.subplots[0].y.reversed);
        assert!(f.legend().is_empty());
    }

    #[test]
    fn curves_split_by_class_and_sort_by_x() {
        let table = TableData::parse(&json!({"columns": ["class", "fpr", "tpr"],
            "data": [["a", 1.0, 1.0], ["a", 0.0, 0.0], ["b", 0.5, 0.9], ["a", 0.5, 0.8]]}))
        .unwrap();
        let c = chart(
            "wandb/area-under-curve/v0",
            &[("x", "fpr"), ("y", "tpr"), ("class", "class")],
            &[("x-axis-title", "False positive rate")],
        );
        let f = chart_figure(&c, &table).unwrap();
        assert_eq!(
            f.legend().into_iter().map(|l| l.0).collect::<Vec<_>>(),
            vec!["a", "b"]
        );
        let TraceKind::Scatter { x, .. } = &f.traces[0].kind else {
            panic!()
        };
        assert_eq!(x, &vec![0.0, 0.5, 1.0]);
        assert_eq!(
            f.subplots[0].x.title.as_deref(),
            Some("False positive rate")
        );
    }

    #[test]
    fn line_bar_histogram_and_unknown_presets() {
        let table = TableData::parse(&json!({"columns": ["step", "value", "series"],
            "data": [[0, 1.0, "s1"], [1, 2.0, "s1"], [0, 3.0, "s2"]]}))
        .unwrap();
        let line = chart(
            "wandb/line/v0",
            &[("x", "step"), ("y", "value"), ("stroke", "series")],
            &[],
        );
        assert_eq!(chart_figure(&line, &table).unwrap().traces.len(), 2);
        let bar = chart(
            "wandb/bar/v0",
            &[("label", "series"), ("value", "value")],
            &[],
        );
        let f = chart_figure(&bar, &table).unwrap();
        assert!(matches!(
            &f.traces[0].kind,
            TraceKind::Bar {
                horizontal: true,
                ..
            }
        ));
        assert_eq!(f.subplots[0].y.categories, vec!["s1", "s2"]);
        let hist = chart("wandb/histogram/v0", &[("value", "value")], &[]);
        let f = chart_figure(&hist, &table).unwrap();
        let TraceKind::Bar { len, .. } = &f.traces[0].kind else {
            panic!()
        };
        assert_eq!(len.iter().sum::<f64>(), 3.0);
        let missing = chart("wandb/line/v0", &[("x", "nope"), ("y", "value")], &[]);
        assert_eq!(
            chart_figure(&missing, &table).unwrap_err(),
            "the table has no column \"nope\""
        );
        let other = chart("me/custom/v3", &[], &[]);
        assert_eq!(
            chart_figure(&other, &table).unwrap_err(),
            "not drawn: custom chart preset me/custom/v3"
        );
    }
}
