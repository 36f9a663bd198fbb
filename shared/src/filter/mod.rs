//! The runs table's filter language: a tokenizer, a recursive-descent parser and an evaluator.
//!
//! ```text
//! config.lr < 0.01 and state == "finished"
//! name =~ "resnet.*"
//! "baseline" in tags
//! summary.val/loss <= 0.3 or not (config.optimizer == "sgd")
//! config.optimizer in ["adam", "adamw"]
//! summary.loss == NaN
//! ```
//!
//! Grammar (lowest precedence first; keywords are case-insensitive):
//!
//! ```text
//! expr    := and ( ("or" | "||") and )*
//! and     := not ( ("and" | "&&") not )*
//! not     := ("not" | "!") not | "(" expr ")" | compare
//! compare := operand [ op operand ]            a lone field is true when truthy
//! op      := == | = | != | < | <= | > | >= | =~ | !~ | in | not in
//! operand := field | "string" | 'string' | number | true | false | null | NaN | inf | [ values ]
//! field   := name | state | created | runtime | tags | group | notes | id | host | job_type
//!          | config.<key> | summary.<key>    (letters, digits, _ . / -; `backticks` for others)
//! ```
//!
//! Semantics: a number compares numerically with a number (a string that reads as a number
//! counts as one), text with text; `NaN == NaN` holds, any other comparison with NaN is false.
//! A comparison with a missing field is false (`!=` too), except `== null` (true when missing or
//! null) and `!= null`. `=~` is an unanchored regular-expression search on the text;
//! `x in tags` is membership, `"net" in name` a substring test, `x in [a, b]` one of a list.
//! `created` is unix seconds, `runtime` seconds.
//!
//! The same language filters the rows of a logged table ([`Filter::parse_columns`]): there a
//! name is one of the table's columns (`` `two words` `` in backticks) and a row is any [`Row`].

mod eval;
mod lex;
mod parse;
#[cfg(test)]
mod tests;

use crate::api::RunInfo;
use crate::columns::{self, Field, Val};
use std::fmt;

use lex::{Tok, tokenize};
use parse::{Expr, Parser, describe};

/// A parse error: what was expected and where (1-based column in characters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError {
    pub message: String,
    pub column: usize,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at column {}", self.message, self.column)
    }
}

impl std::error::Error for FilterError {}

pub(super) fn err<T>(message: impl Into<String>, column: usize) -> Result<T, FilterError> {
    Err(FilterError {
        message: message.into(),
        column,
    })
}

/// What a filter reads its names from: a run's fields, or a logged table row's columns.
pub trait Row {
    /// The value of runs-table field `f` ([`Val::Missing`] where the row has none).
    fn field(&self, f: &Field) -> Val<'_>;
    /// The value in column `i` of a table parsed by [`Filter::parse_columns`].
    fn column(&self, i: usize) -> Val<'_>;
}

/// A run as the runs table filters it, at time `now` (for the runtime of running runs).
struct RunRow<'a> {
    run: &'a RunInfo,
    now: f64,
}

impl Row for RunRow<'_> {
    fn field(&self, f: &Field) -> Val<'_> {
        columns::get(self.run, f, self.now)
    }

    fn column(&self, _: usize) -> Val<'_> {
        Val::Missing
    }
}

/// A parsed filter. Equal when their sources are equal.
#[derive(Clone, Debug)]
pub struct Filter {
    source: String,
    expr: Option<Expr>,
}

impl PartialEq for Filter {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Filter {
    /// Parses `source`; an empty (or blank) source matches every run.
    pub fn parse(source: &str) -> Result<Filter, FilterError> {
        Filter::parse_names(source, None)
    }

    /// Parses `source` as a filter of a logged table's rows: names are `columns` (exactly, or
    /// ignoring ASCII case when that names one column); evaluate with [`Filter::matches_row`].
    pub fn parse_columns(source: &str, columns: &[String]) -> Result<Filter, FilterError> {
        Filter::parse_names(source, Some(columns))
    }

    fn parse_names(source: &str, columns: Option<&[String]>) -> Result<Filter, FilterError> {
        let toks = tokenize(source)?;
        let expr = if toks.len() == 1 {
            None
        } else {
            let mut p = Parser {
                toks,
                pos: 0,
                depth: 0,
                columns,
            };
            let e = p.or()?;
            let t = p.peek().clone();
            match t.tok {
                Tok::End => {}
                Tok::RParen => return err("unexpected ')' with no '(' to close", t.col),
                _ => {
                    return err(
                        format!("expected 'and' or 'or' before {}", describe(&t)),
                        t.col,
                    );
                }
            }
            Some(e)
        };
        Ok(Filter {
            source: source.to_string(),
            expr,
        })
    }

    /// The filter that keeps everything.
    pub fn all() -> Filter {
        Filter {
            source: String::new(),
            expr: None,
        }
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn is_empty(&self) -> bool {
        self.expr.is_none()
    }

    /// Whether run `r` passes (at time `now`, for the runtime of running runs).
    pub fn matches(&self, r: &RunInfo, now: f64) -> bool {
        self.matches_row(&RunRow { run: r, now })
    }

    /// Whether `row` passes.
    pub fn matches_row<R: Row + ?Sized>(&self, row: &R) -> bool {
        self.expr.as_ref().is_none_or(|e| eval::eval(e, row))
    }
}
