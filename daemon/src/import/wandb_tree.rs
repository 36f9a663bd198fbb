//! W&B's key paths with raw JSON values (a history row, the summary, the config), rebuilt into
//! the JSON objects of run format v1: nested dicts flattened to `a/b` keys as the Python client
//! does, media references (objects with a `_type`) kept whole, and the values' own text kept, so
//! `NaN` and `Infinity` stay the literals format v1 allows.

use crate::format::json::parse_lenient;
use serde_json::Value;
use std::collections::BTreeMap;

/// A node: a value as its JSON text, or an object built from key paths.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Raw(String),
    Tree(Tree),
}

/// Keys in the order first set (a row's keys as logged), found through an index.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tree {
    keys: Vec<String>,
    nodes: BTreeMap<String, Node>,
}

impl Tree {
    /// Sets the value at `path` (replacing what was there).
    pub fn set(&mut self, path: &[String], raw: String) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        if !self.nodes.contains_key(first) {
            self.keys.push(first.clone());
        }
        let node = self
            .nodes
            .entry(first.clone())
            .or_insert_with(|| Node::Tree(Tree::default()));
        if rest.is_empty() {
            *node = Node::Raw(raw);
            return;
        }
        if let Node::Raw(_) = node {
            *node = Node::Tree(Tree::default());
        }
        if let Node::Tree(tree) = node {
            tree.set(rest, raw);
        }
    }

    /// Removes the value at `path`.
    pub fn remove(&mut self, path: &[String]) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        if rest.is_empty() {
            if self.nodes.remove(first).is_some() {
                self.keys.retain(|k| k != first);
            }
        } else if let Some(Node::Tree(tree)) = self.nodes.get_mut(first) {
            tree.remove(rest);
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.nodes.get(key)
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Entries in the order first set.
    pub fn entries(&self) -> impl Iterator<Item = (&String, &Node)> {
        self.keys
            .iter()
            .filter_map(|k| self.nodes.get(k).map(|n| (k, n)))
    }

    fn has_type(&self) -> bool {
        self.nodes.contains_key("_type")
    }

    /// This tree as one JSON object, nested objects kept.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{");
        for (i, (key, node)) in self.entries().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            push_key(&mut out, key);
            match node {
                Node::Raw(raw) => out.push_str(raw),
                Node::Tree(tree) => out.push_str(&tree.to_json()),
            }
        }
        out.push('}');
        out
    }
}

fn push_key(out: &mut String, key: &str) {
    out.push_str(&serde_json::to_string(key).unwrap_or_else(|_| "\"\"".into()));
    out.push_str(": ");
}

/// Appends `"key": value` pairs of `node` under `prefix` to `out` (a JSON object's inside),
/// flattening nested objects into `prefix/child` unless `keep_object(path)` says the object at
/// that path stays whole; an object with a `_type` (a media reference) always does.
pub fn flatten_into(
    out: &mut Vec<(String, String)>,
    prefix: &str,
    node: &Node,
    keep_object: &dyn Fn(&str) -> bool,
) {
    match node {
        Node::Tree(tree) if tree.has_type() || keep_object(prefix) => {
            out.push((prefix.to_string(), tree.to_json()));
        }
        Node::Tree(tree) => {
            for (key, child) in tree.entries() {
                flatten_into(out, &format!("{prefix}/{key}"), child, keep_object);
            }
        }
        Node::Raw(raw) if raw.trim_start().starts_with('{') && !keep_object(prefix) => {
            match parse_lenient(raw) {
                Ok(Value::Object(map)) if !map.contains_key("_type") => {
                    for (key, value) in map {
                        flatten_value(out, &format!("{prefix}/{key}"), value, keep_object);
                    }
                }
                _ => out.push((prefix.to_string(), raw.clone())),
            }
        }
        Node::Raw(raw) => out.push((prefix.to_string(), raw.clone())),
    }
}

/// [`flatten_into`] for a parsed value (an object W&B stored as one JSON text).
fn flatten_value(
    out: &mut Vec<(String, String)>,
    prefix: &str,
    value: Value,
    keep_object: &dyn Fn(&str) -> bool,
) {
    match value {
        Value::Object(map) if !map.contains_key("_type") && !keep_object(prefix) => {
            for (key, child) in map {
                flatten_value(out, &format!("{prefix}/{key}"), child, keep_object);
            }
        }
        other => out.push((prefix.to_string(), to_text(&other))),
    }
}

/// JSON text of a value read by [`parse_lenient`], its non-finite strings written back as the
/// literals they were.
fn to_text(value: &Value) -> String {
    match value {
        Value::String(s) if trackline_shared::num::parse_nonfinite(s).is_some() => s.clone(),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(to_text).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(map) => {
            let mut out = String::from("{");
            for (i, (key, child)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                push_key(&mut out, key);
                out.push_str(&to_text(child));
            }
            out.push('}');
            out
        }
        other => other.to_string(),
    }
}

/// One JSON object from `(key, value text)` pairs, in order.
pub fn object_of(pairs: &[(String, String)]) -> String {
    let mut out = String::from("{");
    for (i, (key, raw)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_key(&mut out, key);
        out.push_str(raw);
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> Vec<String> {
        p.split('.').map(str::to_string).collect()
    }

    #[test]
    fn nested_dicts_flatten_and_media_stays_whole() {
        let mut row = Tree::default();
        row.set(&path("loss"), "0.5".into());
        row.set(&path("nested.v"), "1".into());
        row.set(&path("img._type"), "\"image-file\"".into());
        row.set(&path("img.path"), "\"media/images/a.png\"".into());
        row.set(&path("odd"), "NaN".into());
        row.set(
            &path("old"),
            "{\"a\": {\"b\": Infinity}, \"s\": \"x\"}".into(),
        );
        let mut pairs = Vec::new();
        for (key, node) in row.entries() {
            flatten_into(&mut pairs, key, node, &|_| false);
        }
        assert_eq!(
            object_of(&pairs),
            "{\"loss\": 0.5, \"nested/v\": 1, \"img\": {\"_type\": \"image-file\", \"path\": \
             \"media/images/a.png\"}, \"odd\": NaN, \"old/a/b\": Infinity, \"old/s\": \"x\"}"
        );
        let parsed = parse_lenient(&object_of(&pairs)).unwrap();
        assert_eq!(parsed["img"]["path"], "media/images/a.png");
    }

    #[test]
    fn kept_objects_and_removal() {
        let mut summary = Tree::default();
        summary.set(&path("val.loss.min"), "0.1".into());
        summary.set(&path("val.acc"), "0.9".into());
        summary.set(&path("gone"), "1".into());
        summary.remove(&path("gone"));
        let mut pairs = Vec::new();
        for (key, node) in summary.entries() {
            flatten_into(&mut pairs, key, node, &|p| p == "val/loss");
        }
        assert_eq!(
            object_of(&pairs),
            "{\"val/loss\": {\"min\": 0.1}, \"val/acc\": 0.9}"
        );
    }
}
