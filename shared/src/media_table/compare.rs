//! Comparing a table: the same key across runs (one table, each row tagged with its run in a
//! leading `run` column) and across two steps (the newer table's rows marked `added`, `changed`
//! or `same` in a leading `change` column, then the older table's `removed` rows). Both are
//! plain [`Table`]s, so sort, filter (`change == "added"`) and group work on them unchanged.

use std::collections::{HashMap, HashSet, VecDeque};

use super::{Builder, Cell, Column, FastHash, Table};

/// The leading column of [`join_runs`].
pub const RUN_COLUMN: &str = "run";
/// The leading column of [`diff_steps`].
pub const CHANGE_COLUMN: &str = "change";

/// What happened to a row between two steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Same,
    Added,
    Changed,
    Removed,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Same => "same",
            Change::Added => "added",
            Change::Changed => "changed",
            Change::Removed => "removed",
        }
    }
}

/// The union of the parts' column names, in first-seen order.
fn union_names<'a>(tables: impl Iterator<Item = &'a Table>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for t in tables {
        for c in &t.columns {
            if !names.contains(&c.name) {
                names.push(c.name.clone());
            }
        }
    }
    names
}

/// A leading column's name that no column of the tables has (`run`, else `_run`, ...).
fn free_name(base: &str, names: &[String]) -> String {
    let mut name = base.to_string();
    while names.contains(&name) {
        name.insert(0, '_');
    }
    name
}

/// The tables of several runs as one: a leading column ([`RUN_COLUMN`]) holding each row's run
/// label, then every column any part has (matched by name; missing cells where a part lacks one).
pub fn join_runs(parts: &[(String, &Table)]) -> Table {
    let names = union_names(parts.iter().map(|(_, t)| *t));
    let mut run = Builder::new(free_name(RUN_COLUMN, &names));
    let mut builders: Vec<Builder> = names.iter().map(|n| Builder::new(n.clone())).collect();
    for (label, table) in parts {
        let cols: Vec<Option<&Column>> = names
            .iter()
            .map(|n| table.columns.iter().find(|c| &c.name == n))
            .collect();
        for row in 0..table.nrows {
            run.push_text(label);
            for (b, c) in builders.iter_mut().zip(&cols) {
                match c {
                    Some(c) => b.push_from(c, c.cell(row)),
                    None => b.push(Cell::Missing),
                }
            }
        }
    }
    let nrows = run.len();
    Table {
        columns: std::iter::once(run)
            .chain(builders)
            .map(Builder::finish)
            .collect(),
        nrows,
    }
}

/// Two steps of a table compared.
#[derive(Clone, Debug, Default)]
pub struct StepDiff {
    /// [`CHANGE_COLUMN`], then the union of both tables' columns: the newer table's rows, then
    /// the rows only the older one has.
    pub table: Table,
    /// Per row of `table`: the row of the older table it was matched with.
    pub before: Vec<Option<u32>>,
    /// `(row, column)` of `table` whose cells differ from the older table's.
    pub changed: HashSet<(u32, u32)>,
    pub added: usize,
    pub removed: usize,
    pub changed_rows: usize,
    /// The column rows were matched by (`None`: by position).
    pub key: Option<String>,
}

/// A cell's value independent of its table's interning, to match rows and compare cells.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
enum Content {
    Num(u64),
    Bool(bool),
    Text(String),
    Json(String),
    Null,
    Missing,
}

fn content(c: &Column, row: usize) -> Content {
    match c.cell(row) {
        Cell::Num(x) if x.is_nan() => Content::Num(f64::NAN.to_bits()),
        Cell::Num(x) => Content::Num((x + 0.0).to_bits()),
        Cell::Bool(b) => Content::Bool(b),
        Cell::Text(i) => Content::Text(c.text(i).to_string()),
        Cell::Json(i) => Content::Json(c.json_value(i).to_string()),
        Cell::Null => Content::Null,
        Cell::Missing => Content::Missing,
    }
}

fn same_cell(a: &Column, ra: usize, b: &Column, rb: usize) -> bool {
    match (a.cell(ra), b.cell(rb)) {
        (Cell::Num(x), Cell::Num(y)) => x == y || (x.is_nan() && y.is_nan()),
        (Cell::Bool(x), Cell::Bool(y)) => x == y,
        (Cell::Text(x), Cell::Text(y)) => a.text(x) == b.text(y),
        (Cell::Json(x), Cell::Json(y)) => same_json(a.json_value(x), b.json_value(y)),
        (Cell::Null, Cell::Null) | (Cell::Missing, Cell::Missing) => true,
        _ => false,
    }
}

/// Equal JSON cells; media references carrying a `sha256` are equal when everything but their
/// `path` is (the same bytes logged at two steps land in two files).
fn same_json(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    match (a.as_object(), b.as_object()) {
        (Some(x), Some(y)) if x.get("sha256").is_some_and(|h| h.is_string()) => {
            let fields = |o: &serde_json::Map<String, serde_json::Value>| {
                o.keys().filter(|k| k.as_str() != "path").count()
            };
            fields(x) == fields(y)
                && x.iter()
                    .filter(|(k, _)| k.as_str() != "path")
                    .all(|(k, v)| y.get(k) == Some(v))
        }
        _ => a == b,
    }
}

/// A column to match the rows of two steps by: the first column both tables have whose cells
/// are all text or integers and distinct within each table (an id); `None` when there is none
/// (rows are then matched by position, which suits tables that only grow).
pub fn diff_key(old: &Table, new: &Table) -> Option<String> {
    fn is_id(c: &Column) -> bool {
        let mut seen: HashSet<Content, FastHash> = HashSet::default();
        !c.is_empty()
            && (0..c.len()).all(|r| {
                let ok = match c.cell(r) {
                    Cell::Text(_) => true,
                    Cell::Num(x) => x.is_finite() && x.fract() == 0.0,
                    _ => false,
                };
                ok && seen.insert(content(c, r))
            })
    }
    new.columns.iter().find_map(|c| {
        let o = old.columns.iter().find(|o| o.name == c.name)?;
        (is_id(c) && is_id(o)).then(|| c.name.clone())
    })
}

/// Compares the table at an older step (`old`) with a newer one (`new`), rows matched by column
/// `key` (see [`diff_key`]) or, without one, by position.
pub fn diff_steps(old: &Table, new: &Table, key: Option<&str>) -> StepDiff {
    let names = union_names([new, old].into_iter());
    let mut change = Builder::new(free_name(CHANGE_COLUMN, &names));
    let mut builders: Vec<Builder> = names.iter().map(|n| Builder::new(n.clone())).collect();
    let find = |t: &'_ Table, n: &str| t.columns.iter().position(|c| c.name == n);
    let new_cols: Vec<Option<usize>> = names.iter().map(|n| find(new, n)).collect();
    let old_cols: Vec<Option<usize>> = names.iter().map(|n| find(old, n)).collect();

    // Old row matched to each new row.
    let key_cols = key.and_then(|k| Some((find(old, k)?, find(new, k)?)));
    let matched: Vec<Option<u32>> = match key_cols {
        Some((ok, nk)) => {
            let mut by_key: HashMap<Content, VecDeque<u32>, FastHash> = HashMap::default();
            for r in 0..old.nrows {
                by_key
                    .entry(content(&old.columns[ok], r))
                    .or_default()
                    .push_back(r as u32);
            }
            (0..new.nrows)
                .map(|r| {
                    by_key
                        .get_mut(&content(&new.columns[nk], r))
                        .and_then(VecDeque::pop_front)
                })
                .collect()
        }
        None => (0..new.nrows)
            .map(|r| (r < old.nrows).then_some(r as u32))
            .collect(),
    };

    let mut diff = StepDiff {
        key: key_cols.and(key.map(str::to_string)),
        ..StepDiff::default()
    };
    let mut used = vec![false; old.nrows];
    for (r, m) in matched.iter().enumerate() {
        let out_row = diff.before.len() as u32;
        let mut status = Change::Added;
        if let Some(o) = *m {
            used[o as usize] = true;
            status = Change::Same;
            for (ci, (nc, oc)) in new_cols.iter().zip(&old_cols).enumerate() {
                let differs = match (nc, oc) {
                    (Some(nc), Some(oc)) => {
                        !same_cell(&new.columns[*nc], r, &old.columns[*oc], o as usize)
                    }
                    // A column only the newer step has: changed where the row has a value.
                    (Some(nc), None) => {
                        !matches!(new.columns[*nc].cell(r), Cell::Missing | Cell::Null)
                    }
                    _ => false,
                };
                if differs {
                    diff.changed.insert((out_row, ci as u32 + 1));
                    status = Change::Changed;
                }
            }
        }
        match status {
            Change::Added => diff.added += 1,
            Change::Changed => diff.changed_rows += 1,
            _ => {}
        }
        change.push_text(status.as_str());
        for (b, nc) in builders.iter_mut().zip(&new_cols) {
            match nc {
                Some(c) => b.push_from(&new.columns[*c], new.columns[*c].cell(r)),
                None => b.push(Cell::Missing),
            }
        }
        diff.before.push(*m);
    }
    for (o, _) in used.iter().enumerate().filter(|(_, u)| !**u) {
        diff.removed += 1;
        change.push_text(Change::Removed.as_str());
        for (b, oc) in builders.iter_mut().zip(&old_cols) {
            match oc {
                Some(c) => b.push_from(&old.columns[*c], old.columns[*c].cell(o)),
                None => b.push(Cell::Missing),
            }
        }
        diff.before.push(Some(o as u32));
    }
    let nrows = change.len();
    diff.table = Table {
        columns: std::iter::once(change)
            .chain(builders)
            .map(Builder::finish)
            .collect(),
        nrows,
    };
    diff
}
