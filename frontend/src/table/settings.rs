//! The table's settings (columns, order, pins, widths, sort, filter, group-by), saved in the
//! project's workspace layout under `layout.table`; the rest of the layout (the workspace panels)
//! belongs to others and is kept as it is.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::columns::Field;
use crate::workspace::layout::Part;

/// A sort: column id and direction.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SortSpec {
    pub column: String,
    #[serde(default)]
    pub desc: bool,
}

/// Everything a user chose about the table. Every field is optional in the saved JSON.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default)]
pub struct TableSettings {
    /// Column ids shown, in order; `None` until someone chooses (then the defaults follow the data).
    pub columns: Option<Vec<String>>,
    /// Pinned column ids (shown first, sticking to the left).
    pub pinned: Vec<String>,
    /// Widths in CSS pixels of resized columns.
    pub widths: BTreeMap<String, f64>,
    /// `None`: newest first.
    pub sort: Option<SortSpec>,
    /// The filter expression (see `filter.rs`).
    pub filter: String,
    /// Column id the rows are grouped by (`config.optimizer`).
    pub group_by: Option<String>,
}

impl Default for TableSettings {
    fn default() -> Self {
        TableSettings {
            columns: None,
            pinned: vec!["name".into()],
            widths: BTreeMap::new(),
            sort: None,
            filter: String::new(),
            group_by: None,
        }
    }
}

/// Narrowest a column can be resized to.
pub const MIN_WIDTH: f64 = 48.0;
pub const MAX_WIDTH: f64 = 1200.0;

/// Saved under `layout.table` (`TableSettings::from_layout` reads it; `layout::save` writes it).
impl Part for TableSettings {
    const KEY: &'static str = "table";
}

impl TableSettings {
    /// The columns shown, in display order (pinned ones first), each with whether it is pinned.
    /// `defaults` gives the columns when none were chosen.
    pub fn visible(&self, defaults: impl FnOnce() -> Vec<Field>) -> Vec<(Field, bool)> {
        let cols: Vec<Field> = match &self.columns {
            Some(ids) => ids.iter().filter_map(|id| Field::parse(id)).collect(),
            None => defaults(),
        };
        let mut seen = std::collections::BTreeSet::new();
        let cols: Vec<Field> = cols.into_iter().filter(|f| seen.insert(f.id())).collect();
        let pinned = |f: &Field| self.pinned.contains(&f.id());
        let (mut out, rest): (Vec<_>, Vec<_>) = cols.into_iter().partition(|f| pinned(f));
        out.extend(rest);
        out.into_iter()
            .map(|f| {
                let p = pinned(&f);
                (f, p)
            })
            .collect()
    }

    pub fn width(&self, f: &Field) -> f64 {
        self.widths
            .get(&f.id())
            .copied()
            .filter(|w| w.is_finite())
            .unwrap_or_else(|| f.default_width())
            .clamp(MIN_WIDTH, MAX_WIDTH)
    }

    /// Fixes the column list to `shown` (the current display) before a change to it.
    fn materialise(&mut self, shown: &[Field]) -> &mut Vec<String> {
        if self.columns.is_none() {
            self.columns = Some(shown.iter().map(Field::id).collect());
        }
        self.columns.get_or_insert_with(Vec::new)
    }

    /// Shows or hides column `id` (shown: appended at the end).
    pub fn toggle(&mut self, shown: &[Field], id: &str) {
        let cols = self.materialise(shown);
        if let Some(i) = cols.iter().position(|c| c == id) {
            cols.remove(i);
        } else {
            cols.push(id.to_string());
        }
    }

    /// Moves column `id` to just before `before` (or to the end with `None`), in display terms.
    pub fn move_before(&mut self, shown: &[Field], id: &str, before: Option<&str>) {
        if before == Some(id) {
            return;
        }
        // Work on the display order, so pinned columns move among what the user sees.
        let mut order: Vec<String> = shown.iter().map(Field::id).collect();
        let Some(from) = order.iter().position(|c| c == id) else {
            return;
        };
        let moved = order.remove(from);
        let to = before
            .and_then(|b| order.iter().position(|c| c == b))
            .unwrap_or(order.len());
        order.insert(to, moved);
        self.columns = Some(order);
    }

    /// Moves column `id` one place left (`-1`) or right (`+1`) in the display order.
    pub fn shift(&mut self, shown: &[Field], id: &str, by: i32) {
        let order: Vec<String> = shown.iter().map(Field::id).collect();
        let Some(i) = order.iter().position(|c| c == id) else {
            return;
        };
        let j = i as i64 + i64::from(by);
        if j < 0 || j >= order.len() as i64 {
            return;
        }
        let j = j as usize;
        let before = if j > i {
            order.get(j + 1).map(String::as_str)
        } else {
            Some(order[j].as_str())
        };
        self.move_before(shown, id, before);
    }

    pub fn toggle_pin(&mut self, shown: &[Field], id: &str) {
        self.materialise(shown);
        if let Some(i) = self.pinned.iter().position(|c| c == id) {
            self.pinned.remove(i);
        } else {
            self.pinned.push(id.to_string());
        }
    }

    /// Sorts by `id`: a new column sorts ascending for text and descending for numbers and dates,
    /// the same column again flips the direction.
    pub fn click_sort(&mut self, id: &str, numeric: bool) {
        self.sort = Some(match self.sort.take() {
            Some(s) if s.column == id => SortSpec {
                column: s.column,
                desc: !s.desc,
            },
            _ => SortSpec {
                column: id.to_string(),
                desc: numeric,
            },
        });
    }

    /// The sort in force: the chosen one, or newest first.
    pub fn sort_or_default(&self) -> (Field, bool) {
        self.sort
            .as_ref()
            .and_then(|s| Field::parse(&s.column).map(|f| (f, s.desc)))
            .unwrap_or((Field::Created, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::layout::merged_layout;
    use serde_json::{Value, json};

    fn ids(v: &[(Field, bool)]) -> Vec<String> {
        v.iter()
            .map(|(f, p)| format!("{}{}", f.id(), if *p { "*" } else { "" }))
            .collect()
    }

    fn defaults() -> Vec<Field> {
        ["name", "state", "config.lr", "summary.loss"]
            .iter()
            .map(|s| Field::parse(s).unwrap())
            .collect()
    }

    #[test]
    fn merges_without_clobbering_other_keys() {
        let layout =
            json!({"panels": [{"key": "loss"}], "sections": {"a": 1}, "table": {"filter": "old"}});
        let base = TableSettings::from_layout(&layout);
        assert_eq!(base.filter, "old");
        assert_eq!(base.pinned, ["name"], "defaults fill what was not saved");
        let mut s = base.clone();
        s.filter = "config.lr < 1".into();
        s.group_by = Some("config.optimizer".into());
        let (merged, _) = merged_layout(&layout, &base, &s);
        assert_eq!(merged["panels"], layout["panels"]);
        assert_eq!(merged["sections"], layout["sections"]);
        assert_eq!(merged["table"]["filter"], "config.lr < 1");
        assert_eq!(TableSettings::from_layout(&merged), s);
        // No layout yet (null), or a malformed table: defaults, and merging makes an object.
        assert_eq!(
            TableSettings::from_layout(&Value::Null),
            TableSettings::default()
        );
        assert_eq!(
            TableSettings::from_layout(&json!({"table": {"pinned": 3}})),
            TableSettings::default()
        );
        assert!(merged_layout(&Value::Null, &base, &s).0.is_object());
    }

    #[test]
    fn pinned_columns_come_first() {
        let mut s = TableSettings::default();
        assert_eq!(
            ids(&s.visible(defaults)),
            ["name*", "state", "config.lr", "summary.loss"]
        );
        let shown: Vec<Field> = s.visible(defaults).into_iter().map(|c| c.0).collect();
        s.toggle_pin(&shown, "config.lr");
        assert_eq!(
            ids(&s.visible(defaults)),
            ["name*", "config.lr*", "state", "summary.loss"]
        );
        assert!(s.columns.is_some(), "a change fixes the column list");
    }

    #[test]
    fn toggles_and_moves() {
        let mut s = TableSettings::default();
        let shown = |s: &TableSettings| -> Vec<Field> {
            s.visible(defaults).into_iter().map(|c| c.0).collect()
        };
        s.toggle(&shown(&s), "state");
        s.toggle(&shown(&s), "host");
        assert_eq!(
            ids(&s.visible(defaults)),
            ["name*", "config.lr", "summary.loss", "host"]
        );
        s.move_before(&shown(&s), "host", Some("config.lr"));
        assert_eq!(
            ids(&s.visible(defaults)),
            ["name*", "host", "config.lr", "summary.loss"]
        );
        s.shift(&shown(&s), "host", 1);
        assert_eq!(
            ids(&s.visible(defaults)),
            ["name*", "config.lr", "host", "summary.loss"]
        );
        s.shift(&shown(&s), "host", 1);
        s.shift(&shown(&s), "host", 1);
        assert_eq!(
            ids(&s.visible(defaults)),
            ["name*", "config.lr", "summary.loss", "host"]
        );
        s.shift(&shown(&s), "config.lr", -1);
        assert_eq!(
            ids(&s.visible(defaults)),
            ["name*", "config.lr", "summary.loss", "host"],
            "an unpinned column cannot move before a pinned one"
        );
        s.move_before(&shown(&s), "name", None);
        assert_eq!(
            ids(&s.visible(defaults)),
            ["name*", "config.lr", "summary.loss", "host"],
            "pinned columns stay first"
        );
        // Unknown or duplicate ids in saved settings are dropped.
        s.columns = Some(vec!["name".into(), "bogus".into(), "name".into()]);
        assert_eq!(ids(&s.visible(defaults)), ["name*"]);
    }

    #[test]
    fn sort_clicks_and_widths() {
        let mut s = TableSettings::default();
        assert_eq!(s.sort_or_default(), (Field::Created, true));
        s.click_sort("name", false);
        assert_eq!(s.sort_or_default(), (Field::Name, false));
        s.click_sort("name", false);
        assert_eq!(s.sort_or_default(), (Field::Name, true));
        s.click_sort("summary.loss", true);
        assert_eq!(s.sort_or_default(), (Field::Summary("loss".into()), true));
        assert_eq!(s.width(&Field::Name), 200.0);
        s.widths.insert("name".into(), 5.0);
        assert_eq!(s.width(&Field::Name), MIN_WIDTH);
    }
}
