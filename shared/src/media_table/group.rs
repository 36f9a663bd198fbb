//! Grouping a table's rows by one column: one group per distinct value (nulls together), in the
//! column's sort order, each with its rows (in the order given), its count and, for every numeric
//! column, the count, sum, mean, min and max of its finite values.

use std::collections::HashMap;

use super::order::compare_cells;
use super::{Cell, ColumnKind, FastHash, Table};

/// The finite numbers of one column within a group.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Aggregate {
    pub count: usize,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
}

impl Aggregate {
    fn add(&mut self, x: f64) {
        if self.count == 0 {
            self.min = x;
            self.max = x;
        } else {
            self.min = self.min.min(x);
            self.max = self.max.max(x);
        }
        self.count += 1;
        self.sum += x;
    }

    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }
}

/// One group of rows sharing a value of the grouped column.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// The shared value as text (`null` for nulls and missing cells).
    pub label: String,
    /// A row holding the value (its first row), for showing it as a cell (an image, say).
    pub first: u32,
    pub rows: Vec<u32>,
    /// Per column of the table: the aggregate of its finite numbers when it is a numeric column.
    pub aggregates: Vec<Option<Aggregate>>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum GroupKey {
    Num(u64),
    Bool(bool),
    Text(u32),
    Json(String),
    Null,
}

/// Groups the rows of `order` by column `col` (empty if there is no such column).
pub fn group_rows(table: &Table, order: &[u32], col: usize) -> Vec<Group> {
    let Some(by) = table.columns.get(col) else {
        return Vec::new();
    };
    let numeric: Vec<bool> = table
        .columns
        .iter()
        .map(|c| c.kind() == ColumnKind::Number)
        .collect();
    let mut index: HashMap<GroupKey, usize, FastHash> = HashMap::default();
    let mut groups: Vec<Group> = Vec::new();
    for &row in order {
        let cell = by.cell(row as usize);
        let key = match cell {
            Cell::Num(x) if x.is_nan() => GroupKey::Num(f64::NAN.to_bits()),
            // 0.0 and -0.0 are one value.
            Cell::Num(x) => GroupKey::Num((x + 0.0).to_bits()),
            Cell::Bool(b) => GroupKey::Bool(b),
            Cell::Text(i) => GroupKey::Text(i),
            Cell::Json(i) => GroupKey::Json(by.json_value(i).to_string()),
            Cell::Null | Cell::Missing => GroupKey::Null,
        };
        let g = *index.entry(key).or_insert_with(|| {
            groups.push(Group {
                label: match cell {
                    Cell::Missing => "null".to_string(),
                    _ => by.display(row as usize).into_owned(),
                },
                first: row,
                rows: Vec::new(),
                aggregates: numeric
                    .iter()
                    .map(|&n| n.then_some(Aggregate::default()))
                    .collect(),
            });
            groups.len() - 1
        });
        let group = &mut groups[g];
        group.rows.push(row);
        for (c, agg) in group.aggregates.iter_mut().enumerate() {
            if let Some(agg) = agg
                && let Cell::Num(x) = table.columns[c].cell(row as usize)
                && x.is_finite()
            {
                agg.add(x);
            }
        }
    }
    groups.sort_by(|a, b| compare_cells(by, by.cell(a.first as usize), by.cell(b.first as usize)));
    groups
}

impl Default for Aggregate {
    fn default() -> Self {
        Aggregate {
            count: 0,
            sum: 0.0,
            min: f64::NAN,
            max: f64::NAN,
        }
    }
}
