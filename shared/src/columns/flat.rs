//! Nested JSON (a run's config and summary) as flattened `a.b.c` keys, and a JSON value as a
//! table cell shows it.

use serde_json::{Map, Value};

use crate::media::MediaValue;
use crate::num;

/// A JSON value for a table cell: numbers through [`num::display`], the non-finite strings as
/// `NaN`/`+Inf`/`-Inf`, strings as they are, `null` as `–`, a logged media value as what it is
/// (`image 28×28`, `table 10×3`, `histogram`, `3 images`), other arrays and objects as compact
/// JSON.
pub fn value(v: &Value) -> String {
    if let Some(media) = MediaValue::parse(v) {
        return media_label(&media);
    }
    match v {
        Value::Null => "–".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.to_string(),
            (_, Some(u)) => u.to_string(),
            _ => num::display(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => match num::parse_nonfinite(s) {
            Some(f) => num::display(f),
            None => s.clone(),
        },
        other => {
            let s = other.to_string();
            if s.chars().count() > 200 {
                format!("{}…", s.chars().take(200).collect::<String>())
            } else {
                s
            }
        }
    }
}

/// A logged media value in a few words.
fn media_label(media: &MediaValue) -> String {
    let count = |n: usize, one: &str, many: &str| {
        if n == 1 {
            one.to_string()
        } else {
            format!("{n} {many}")
        }
    };
    match media {
        MediaValue::Images(images) => match images.as_slice() {
            [one] => match (one.width, one.height) {
                (Some(w), Some(h)) => format!("image {w}×{h}"),
                _ => "image".into(),
            },
            many => count(many.len(), "image", "images"),
        },
        MediaValue::Histogram { values, .. } => format!("histogram ({} bins)", values.len()),
        MediaValue::Table(t) => match (t.nrows, t.ncols) {
            (Some(r), Some(c)) => format!("table {r}×{c}"),
            _ => "table".into(),
        },
        MediaValue::Audio(a) => count(a.len(), "audio", "audio clips"),
        MediaValue::Video(v) => count(v.len(), "video", "videos"),
        MediaValue::Html(h) => count(h.len(), "html", "html pages"),
        MediaValue::Plotly(p) => count(p.len(), "plotly figure", "plotly figures"),
        MediaValue::Object3d(o) => count(o.len(), "3-D object", "3-D objects"),
        MediaValue::Molecule(m) => count(m.len(), "molecule", "molecules"),
    }
}

/// Calls `visit` with each flattened `a.b.c` key of nested objects and its value, skipping keys
/// that begin with `_` (internal); an empty object is a value, and so is a logged media value
/// (an object with a `_type`: its fields are not columns of their own).
pub fn walk_flat<'a>(map: &'a Map<String, Value>, visit: &mut dyn FnMut(String, &'a Value)) {
    fn go<'a>(prefix: &str, map: &'a Map<String, Value>, visit: &mut dyn FnMut(String, &'a Value)) {
        for (k, v) in map {
            if k.starts_with('_') {
                continue;
            }
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                Value::Object(inner) if !inner.is_empty() && !inner.contains_key("_type") => {
                    go(&key, inner, visit)
                }
                _ => visit(key, v),
            }
        }
    }
    go("", map, visit);
}

/// Flattens nested objects into `a.b.c` keys and their values ([`walk_flat`]).
pub fn flatten(map: &Map<String, Value>) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    walk_flat(map, &mut |key, value| out.push((key, value.clone())));
    out
}

/// Looks up a flattened `a.b.c` key in a nested object.
pub fn lookup<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if let Some(v) = map.get(key) {
        return Some(v);
    }
    // Try every split of the dotted path (keys may themselves contain dots).
    for (i, _) in key.match_indices('.') {
        let (head, rest) = (&key[..i], &key[i + 1..]);
        if let Some(Value::Object(inner)) = map.get(head)
            && let Some(v) = lookup(inner, rest)
        {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn formats_values() {
        assert_eq!(value(&json!(0.001)), "0.001");
        assert_eq!(value(&json!(3)), "3");
        assert_eq!(value(&json!("NaN")), "NaN");
        assert_eq!(value(&json!("Infinity")), "+Inf");
        assert_eq!(value(&json!("<b>hi</b>")), "<b>hi</b>");
        assert_eq!(value(&json!(null)), "–");
        assert_eq!(value(&json!([1, 2])), "[1,2]");
        let img =
            json!({"_type": "image-file", "path": "media/images/a.png", "width": 28, "height": 28});
        assert_eq!(value(&img), "image 28×28");
        assert_eq!(value(&json!([img.clone(), img])), "2 images");
        let table = json!({"_type": "table-file", "path": "media/table/t.table.json", "nrows": 10, "ncols": 3});
        assert_eq!(value(&table), "table 10×3");
    }

    #[test]
    fn a_media_value_is_one_column() {
        let m =
            json!({"loss": 0.1, "samples": {"_type": "image-file", "path": "media/images/a.png"}});
        let f: Vec<String> = flatten(m.as_object().unwrap())
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(f, ["loss", "samples"]);
    }

    #[test]
    fn flattens_and_looks_up() {
        let m = json!({"lr": 0.1, "_internal": 1, "opt": {"name": "adam", "beta": {"b1": 0.9}}, "e": {}});
        let m = m.as_object().unwrap();
        let f: Vec<String> = flatten(m).into_iter().map(|(k, _)| k).collect();
        assert_eq!(f, ["e", "lr", "opt.beta.b1", "opt.name"]);
        assert_eq!(lookup(m, "opt.beta.b1"), Some(&json!(0.9)));
        assert_eq!(lookup(m, "opt.nope"), None);
        let dotted = json!({"a.b": 1});
        assert_eq!(lookup(dotted.as_object().unwrap(), "a.b"), Some(&json!(1)));
    }
}
