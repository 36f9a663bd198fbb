//! Logged tables (W&B's `wandb.Table`, a `table-file` media value) held as typed columns, so the
//! web app parses a table file once and then sorts, filters (the runs table's language, through
//! [`crate::filter::Filter::parse_columns`]), groups and compares 100k rows without touching
//! JSON again.
//!
//! `parse.rs` reads a table file (W&B's JSON with `NaN`/`Infinity` literals) straight into
//! columns; `order.rs` sorts rows (numbers numerically, text naturally, stable); `group.rs`
//! groups rows by a column with counts and numeric aggregates; `compare.rs` joins the same table
//! across runs and diffs it across two steps.

mod compare;
mod group;
mod order;
mod parse;
#[cfg(test)]
mod tests;
mod texts;

use serde_json::Value;
use std::borrow::Cow;
use std::sync::OnceLock;

use crate::columns::Val;
use crate::filter::{Filter, Row};
use crate::media::MediaValue;

pub use compare::{CHANGE_COLUMN, Change, RUN_COLUMN, StepDiff, diff_key, diff_steps, join_runs};
pub use group::{Aggregate, Group, group_rows};
pub use order::natural_key;
pub use parse::{ParseError, increment_paths, parse_python_json};
use texts::Interner;
pub use texts::Texts;

/// One cell, typed. Text and JSON (lists, objects, media references) are indices into their
/// column's [`Column::texts`] and [`Column::json`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell {
    /// No cell: the row is shorter than the header, or the column is not in this part of a
    /// joined table.
    Missing,
    Null,
    Num(f64),
    Bool(bool),
    Text(u32),
    Json(u32),
}

/// One column: its name and one cell per row, text interned (equal strings share an index).
#[derive(Clone, Debug, Default)]
pub struct Column {
    pub name: String,
    pub cells: Vec<Cell>,
    pub texts: Texts,
    pub json: Vec<Value>,
    /// Each text's place in natural order (index: text id), made on first sort.
    text_ranks: OnceLock<Vec<u32>>,
}

/// What a column mostly holds, for alignment and for which columns aggregate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    /// Numbers (and NaN, nulls).
    Number,
    Bool,
    Text,
    /// Media references (images, audio, histograms, ...).
    Media,
    /// Lists, objects, or a mix of kinds.
    Other,
}

static NULL: Value = Value::Null;
static TRUE: Value = Value::Bool(true);
static FALSE: Value = Value::Bool(false);

impl Column {
    pub fn new(name: impl Into<String>) -> Column {
        Column {
            name: name.into(),
            ..Column::default()
        }
    }

    pub fn len(&self) -> usize {
        self.cells.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Cell `row` (Missing past the end).
    pub fn cell(&self, row: usize) -> Cell {
        self.cells.get(row).copied().unwrap_or(Cell::Missing)
    }

    /// The text of a [`Cell::Text`] id.
    pub fn text(&self, id: u32) -> &str {
        self.texts.get(id)
    }

    /// The value of a [`Cell::Json`] id.
    pub fn json_value(&self, id: u32) -> &Value {
        self.json.get(id as usize).unwrap_or(&NULL)
    }

    /// The cell as the filter language sees it.
    pub fn val(&self, row: usize) -> Val<'_> {
        match self.cell(row) {
            Cell::Missing => Val::Missing,
            Cell::Null => Val::Json(&NULL),
            Cell::Num(x) => Val::Num(x),
            Cell::Bool(b) => Val::Json(if b { &TRUE } else { &FALSE }),
            Cell::Text(i) => Val::Str(self.text(i)),
            Cell::Json(i) => Val::Json(self.json_value(i)),
        }
    }

    /// The media value in cell `row`, if it holds a media reference.
    pub fn media(&self, row: usize) -> Option<MediaValue> {
        match self.cell(row) {
            Cell::Json(i) => MediaValue::parse(self.json_value(i)),
            _ => None,
        }
    }

    /// The cell as text for people (and for copying): numbers as the table shows them, media as
    /// what they are (`image 28×28`), JSON compact, null as `null`, missing as empty.
    pub fn display(&self, row: usize) -> Cow<'_, str> {
        match self.cell(row) {
            Cell::Missing => Cow::Borrowed(""),
            Cell::Null => Cow::Borrowed("null"),
            Cell::Num(x) => Cow::Owned(format_number(x)),
            Cell::Bool(b) => Cow::Borrowed(if b { "true" } else { "false" }),
            Cell::Text(i) => Cow::Borrowed(self.text(i)),
            Cell::Json(i) => {
                let v = self.json_value(i);
                match MediaValue::parse(v) {
                    Some(m) => Cow::Owned(describe_media(&m)),
                    None => Cow::Owned(v.to_string()),
                }
            }
        }
    }

    /// What the column holds (nulls and missing cells do not count; JSON cells are read as
    /// media when they carry a `_type`).
    pub fn kind(&self) -> ColumnKind {
        let (mut num, mut boolean, mut text, mut media, mut other) = (0, 0, 0, 0, 0);
        for c in &self.cells {
            match c {
                Cell::Num(_) => num += 1,
                Cell::Bool(_) => boolean += 1,
                Cell::Text(_) => text += 1,
                Cell::Json(i) => match self.json_value(*i) {
                    Value::Object(o) if o.get("_type").is_some_and(Value::is_string) => media += 1,
                    Value::Array(a)
                        if a.first()
                            .is_some_and(|v| v.get("_type").is_some_and(Value::is_string)) =>
                    {
                        media += 1
                    }
                    _ => other += 1,
                },
                Cell::Missing | Cell::Null => {}
            }
        }
        let kinds = [
            (num, ColumnKind::Number),
            (boolean, ColumnKind::Bool),
            (text, ColumnKind::Text),
            (media, ColumnKind::Media),
        ];
        match kinds.iter().filter(|(n, _)| *n > 0).collect::<Vec<_>>()[..] {
            [] if other == 0 => ColumnKind::Number,
            [(_, k)] if other == 0 => *k,
            _ => ColumnKind::Other,
        }
    }

    /// Each text id's rank in natural order (equal texts ignoring case share a rank).
    pub(crate) fn text_ranks(&self) -> &[u32] {
        self.text_ranks
            .get_or_init(|| order::text_ranks(&self.texts))
    }
}

/// A parsed table: columns of equal length.
#[derive(Clone, Debug, Default)]
pub struct Table {
    pub columns: Vec<Column>,
    pub nrows: usize,
}

impl Table {
    /// Reads a table file (`{"columns": [...], "data": [[...], ...]}`, `NaN`/`Infinity`
    /// allowed).
    pub fn parse(json: &str) -> Result<Table, ParseError> {
        parse::parse_table(json)
    }

    /// Reads the files of an incremental table in order (earlier increments first) as one table.
    pub fn parse_parts<S: AsRef<str>>(parts: &[S]) -> Result<Table, ParseError> {
        let mut table = Table::default();
        for p in parts {
            table.append(Table::parse(p.as_ref())?);
        }
        Ok(table)
    }

    /// The column names.
    pub fn names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name.clone()).collect()
    }

    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// Row indices in file order.
    pub fn all_rows(&self) -> Vec<u32> {
        (0..self.nrows as u32).collect()
    }

    /// Parses `source` in the runs table's filter language over this table's columns.
    pub fn filter(&self, source: &str) -> Result<Filter, crate::filter::FilterError> {
        Filter::parse_columns(source, &self.names())
    }

    /// The rows of `order` that `filter` keeps, in that order.
    pub fn filter_rows(&self, order: &[u32], filter: &Filter) -> Vec<u32> {
        if filter.is_empty() {
            return order.to_vec();
        }
        order
            .iter()
            .copied()
            .filter(|&r| {
                filter.matches_row(&TableRow {
                    table: self,
                    row: r as usize,
                })
            })
            .collect()
    }

    /// Sorts `order` by column `col`, stably (rows that tie keep their order): numbers
    /// numerically, text naturally (`img 2` before `img 10`, case ignored), booleans as 0/1;
    /// other values (lists, media) after text, then NaN, then nulls and missing cells, in both
    /// directions.
    pub fn sort_rows(&self, order: &mut [u32], col: usize, desc: bool) {
        if let Some(c) = self.columns.get(col) {
            order::sort(c, order, desc);
        }
    }

    /// Appends `other`'s rows, matching columns by name (new columns are added, missing cells
    /// are [`Cell::Missing`]).
    pub fn append(&mut self, other: Table) {
        if self.columns.is_empty() && self.nrows == 0 {
            *self = other;
            return;
        }
        let before = self.nrows;
        let mut builders: Vec<Builder> = std::mem::take(&mut self.columns)
            .into_iter()
            .map(Builder::from_column)
            .collect();
        for col in &other.columns {
            let i = match builders.iter().position(|b| b.name == col.name) {
                Some(i) => i,
                None => {
                    let mut b = Builder::new(col.name.clone());
                    b.pad(before);
                    builders.push(b);
                    builders.len() - 1
                }
            };
            for row in 0..other.nrows {
                builders[i].push_from(col, col.cell(row));
            }
        }
        let nrows = before + other.nrows;
        self.columns = builders
            .into_iter()
            .map(|mut b| {
                b.pad(nrows);
                b.finish()
            })
            .collect();
        self.nrows = nrows;
    }
}

/// One row of a table as a filter reads it.
pub struct TableRow<'a> {
    pub table: &'a Table,
    pub row: usize,
}

impl Row for TableRow<'_> {
    fn field(&self, _: &crate::columns::Field) -> Val<'_> {
        Val::Missing
    }

    fn column(&self, i: usize) -> Val<'_> {
        self.table
            .columns
            .get(i)
            .map_or(Val::Missing, |c| c.val(self.row))
    }
}

/// Builds a column cell by cell, interning text.
#[derive(Debug, Default)]
pub(crate) struct Builder {
    name: String,
    cells: Vec<Cell>,
    texts: Interner,
    json: Vec<Value>,
}

impl Builder {
    pub(crate) fn new(name: String) -> Builder {
        Builder {
            name,
            ..Builder::default()
        }
    }

    fn from_column(c: Column) -> Builder {
        Builder {
            name: c.name,
            cells: c.cells,
            texts: Interner::from_texts(c.texts),
            json: c.json,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.cells.len()
    }

    pub(crate) fn push(&mut self, cell: Cell) {
        self.cells.push(cell);
    }

    pub(crate) fn push_text(&mut self, s: &str) {
        let id = self.texts.intern(s);
        self.cells.push(Cell::Text(id));
    }

    pub(crate) fn push_json(&mut self, v: Value) {
        self.json.push(v);
        self.cells.push(Cell::Json(self.json.len() as u32 - 1));
    }

    /// Pushes `cell` of column `from` (re-interning its text).
    pub(crate) fn push_from(&mut self, from: &Column, cell: Cell) {
        match cell {
            Cell::Text(i) => self.push_text(from.text(i)),
            Cell::Json(i) => self.push_json(from.json_value(i).clone()),
            other => self.push(other),
        }
    }

    /// Pads with missing cells up to `len` rows.
    pub(crate) fn pad(&mut self, len: usize) {
        if self.cells.len() < len {
            self.cells.resize(len, Cell::Missing);
        }
    }

    pub(crate) fn finish(self) -> Column {
        Column {
            name: self.name,
            cells: self.cells,
            texts: self.texts.finish(),
            json: self.json,
            text_ranks: OnceLock::new(),
        }
    }
}

/// FxHash (rustc's hasher) for the maps that group and match rows: a fraction of SipHash's cost,
/// and the keys are one file's cells, not a server's inputs chosen to collide.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FastHash;

impl std::hash::BuildHasher for FastHash {
    type Hasher = FxHasher;
    fn build_hasher(&self) -> FxHasher {
        FxHasher(0)
    }
}

pub(crate) struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }
}

/// A number as a table cell shows it: integers whole (`1000000`, not `1e6`), others as the
/// runs table shows them.
pub fn format_number(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        crate::num::display(x)
    }
}

/// A media value in a few words: `image 28×28`, `3 images`, `audio 1.5 s`, `histogram 64 bins`.
pub fn describe_media(m: &MediaValue) -> String {
    fn plural(n: usize, one: &str, many: &str) -> String {
        if n == 1 {
            one.to_string()
        } else {
            format!("{n} {many}")
        }
    }
    match m {
        MediaValue::Images(images) => match images.as_slice() {
            [one] => match (one.width, one.height) {
                (Some(w), Some(h)) => format!("image {w}×{h}"),
                _ => "image".to_string(),
            },
            many => format!("{} images", many.len()),
        },
        MediaValue::Histogram { values, .. } => format!("histogram {} bins", values.len()),
        MediaValue::Table(t) => match (t.nrows, t.ncols) {
            (Some(r), Some(c)) => format!("table {r}×{c}"),
            _ => "table".to_string(),
        },
        MediaValue::Audio(a) => match a.as_slice() {
            [one] => match one.duration {
                Some(d) => format!("audio {} s", crate::num::display(d)),
                None => "audio".to_string(),
            },
            many => format!("{} audio clips", many.len()),
        },
        MediaValue::Video(v) => plural(v.len(), "video", "videos"),
        MediaValue::Html(h) => plural(h.len(), "html", "html pages"),
        MediaValue::Plotly(p) => plural(p.len(), "plotly figure", "plotly figures"),
        MediaValue::Object3d(o) => plural(o.len(), "3-D object", "3-D objects"),
        MediaValue::Molecule(o) => plural(o.len(), "molecule", "molecules"),
    }
}
