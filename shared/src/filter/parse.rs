//! The filter language's recursive-descent parser: tokens to an expression tree.

use super::lex::{Tok, Token};
use super::{FilterError, err};
use crate::columns::Field;

/// Deepest nesting of parentheses and `not`s accepted (the parser recurses).
pub(super) const MAX_DEPTH: usize = 64;

type Regex = regex_lite::Regex;

/// A literal value.
#[derive(Clone, Debug)]
pub(super) enum Lit {
    Num(f64),
    Str(String),
    /// `true`, `false`, `null`.
    Json(serde_json::Value),
}

#[derive(Clone, Debug)]
pub(super) enum Operand {
    Field(Field),
    /// A column of a logged table, by index ([`super::Filter::parse_columns`]).
    Column(usize),
    Lit(Lit),
    List(Vec<Lit>),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Debug)]
pub(super) enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// A lone field (or `true`/`false`).
    Truthy(Operand),
    Cmp(Operand, CmpOp, Operand),
    Match {
        lhs: Operand,
        re: Regex,
        negated: bool,
    },
    In {
        lhs: Operand,
        rhs: Operand,
        negated: bool,
    },
}

pub(super) struct Parser<'c> {
    pub(super) toks: Vec<Token>,
    pub(super) pos: usize,
    pub(super) depth: usize,
    /// The columns names refer to, for a logged table; `None`: the runs table's fields.
    pub(super) columns: Option<&'c [String]>,
}

/// How a token is named in messages.
pub(super) fn describe(t: &Token) -> String {
    match t.tok {
        Tok::End => "the end".into(),
        _ => show(&t.text),
    }
}

/// Source text quoted for a message, unless it is a quoted string already.
pub(super) fn show(text: &str) -> String {
    if text.starts_with(['"', '\'']) {
        text.to_string()
    } else {
        format!("'{text}'")
    }
}

pub(super) const FIELDS_HINT: &str = "fields are name, state, created, runtime, tags, group, notes, id, \
                           host, job_type, config.<key> and summary.<key>";

impl Parser<'_> {
    pub(super) fn peek(&self) -> &Token {
        &self.toks[self.pos]
    }

    fn bump(&mut self) -> Token {
        let t = self.toks[self.pos].clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn enter(&mut self, col: usize) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err("the expression is nested too deeply", col);
        }
        Ok(())
    }

    pub(super) fn or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and()?;
        while self.peek().tok == Tok::Or {
            let op = self.bump();
            if self.peek().tok == Tok::End {
                return err(
                    format!("expected a condition after '{}'", op.text),
                    self.peek().col,
                );
            }
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.not()?;
        while self.peek().tok == Tok::And {
            let op = self.bump();
            if self.peek().tok == Tok::End {
                return err(
                    format!("expected a condition after '{}'", op.text),
                    self.peek().col,
                );
            }
            let right = self.not()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, FilterError> {
        let t = self.peek().clone();
        match t.tok {
            Tok::Not => {
                self.bump();
                self.enter(t.col)?;
                if self.peek().tok == Tok::End {
                    return err(
                        format!("expected a condition after '{}'", t.text),
                        self.peek().col,
                    );
                }
                let inner = self.not()?;
                self.depth -= 1;
                Ok(Expr::Not(Box::new(inner)))
            }
            Tok::LParen => {
                self.bump();
                self.enter(t.col)?;
                if self.peek().tok == Tok::RParen {
                    return err("expected a condition inside '( )'", self.peek().col);
                }
                let inner = self.or()?;
                let close = self.peek().clone();
                if close.tok != Tok::RParen {
                    let found = if close.tok == Tok::End {
                        String::new()
                    } else {
                        format!(", found {}", describe(&close))
                    };
                    return err(
                        format!("unclosed '(' from column {}: expected ')'{found}", t.col),
                        close.col,
                    );
                }
                self.bump();
                self.depth -= 1;
                Ok(inner)
            }
            _ => self.compare(),
        }
    }

    fn compare(&mut self) -> Result<Expr, FilterError> {
        let first = self.peek().clone();
        let Some(lhs) = self.operand()? else {
            let msg = match first.tok {
                Tok::End => "expected a condition".to_string(),
                Tok::RParen => "unexpected ')' with no '(' to close".to_string(),
                _ => format!("expected a field or a value, found {}", describe(&first)),
            };
            return err(msg, first.col);
        };
        let op = self.peek().clone();
        match op.tok {
            Tok::Op(o @ ("=~" | "!~")) => {
                self.bump();
                let pat = self.bump();
                let Tok::Str(p) = &pat.tok else {
                    let hint = match &pat.tok {
                        Tok::Ident(w) => format!(" (put it in quotes: \"{w}\")"),
                        _ => String::new(),
                    };
                    return err(
                        format!("expected a quoted pattern after '{o}'{hint}"),
                        pat.col,
                    );
                };
                let re = Regex::new(p).map_err(|e| FilterError {
                    message: format!(
                        "invalid regular expression: {}",
                        e.to_string().lines().last().unwrap_or("").trim()
                    ),
                    column: pat.col,
                })?;
                Ok(Expr::Match {
                    lhs,
                    re,
                    negated: o == "!~",
                })
            }
            Tok::Op(o) => {
                self.bump();
                let cmp = match o {
                    "==" => CmpOp::Eq,
                    "!=" => CmpOp::Ne,
                    "<" => CmpOp::Lt,
                    "<=" => CmpOp::Le,
                    ">" => CmpOp::Gt,
                    _ => CmpOp::Ge,
                };
                let at = self.peek().clone();
                match self.operand()? {
                    Some(Operand::List(_)) => err(
                        format!("a list [..] only goes after 'in', not after '{}'", op.text),
                        at.col,
                    ),
                    Some(rhs) => Ok(Expr::Cmp(lhs, cmp, rhs)),
                    None => err(format!("expected a value after '{}'", op.text), at.col),
                }
            }
            Tok::In => {
                self.bump();
                self.in_rhs(lhs, false, &op)
            }
            Tok::Not if self.toks.get(self.pos + 1).map(|t| &t.tok) == Some(&Tok::In) => {
                self.bump();
                let op = self.bump();
                self.in_rhs(lhs, true, &op)
            }
            _ => match lhs {
                Operand::Field(_)
                | Operand::Column(_)
                | Operand::Lit(Lit::Json(serde_json::Value::Bool(_))) => Ok(Expr::Truthy(lhs)),
                _ => {
                    let found = if op.tok == Tok::End {
                        String::new()
                    } else {
                        format!(", found {}", describe(&op))
                    };
                    err(
                        format!(
                            "expected an operator (==, !=, <, >, =~, in) after {}{found}",
                            show(&first.text)
                        ),
                        op.col,
                    )
                }
            },
        }
    }

    fn in_rhs(&mut self, lhs: Operand, negated: bool, op: &Token) -> Result<Expr, FilterError> {
        let at = self.peek().clone();
        match self.operand()? {
            Some(rhs) => Ok(Expr::In { lhs, rhs, negated }),
            None => err(
                format!("expected a list [..] or a field after '{}'", op.text),
                at.col,
            ),
        }
    }

    /// An operand, or `None` (nothing consumed) when the next token cannot start one.
    fn operand(&mut self) -> Result<Option<Operand>, FilterError> {
        let t = self.peek().clone();
        if let (Tok::Ident(name), Some(columns)) = (&t.tok, self.columns) {
            let i = column_named(columns, name, t.col)?;
            self.bump();
            return Ok(Some(Operand::Column(i)));
        }
        let op = match &t.tok {
            Tok::Ident(name) => match Field::parse(name).or_else(|| {
                // Run fields are case-insensitive (`State`); config and summary keys are not.
                Field::parse(&name.to_ascii_lowercase())
                    .filter(|f| !matches!(f, Field::Config(_) | Field::Summary(_)))
            }) {
                Some(f) => Operand::Field(f),
                None => {
                    let hint = if matches!(name.as_str(), "config" | "summary") {
                        format!("name a key: {name}.<key>")
                    } else {
                        format!("{FIELDS_HINT}; put text in quotes: \"{name}\"")
                    };
                    return err(format!("unknown field '{name}' ({hint})"), t.col);
                }
            },
            Tok::LBracket => {
                self.bump();
                return self.list(t.col).map(Some);
            }
            _ => match literal(&t.tok) {
                Some(l) => Operand::Lit(l),
                None => return Ok(None),
            },
        };
        self.bump();
        Ok(Some(op))
    }

    fn list(&mut self, open_col: usize) -> Result<Operand, FilterError> {
        let mut items = Vec::new();
        loop {
            let t = self.bump();
            if t.tok == Tok::RBracket {
                break;
            }
            let Some(l) = literal(&t.tok) else {
                if t.tok == Tok::End {
                    return err(
                        format!("unclosed '[' from column {open_col}: expected a value or ']'"),
                        t.col,
                    );
                }
                return err(
                    format!("expected a value or ']', found {}", describe(&t)),
                    t.col,
                );
            };
            items.push(l);
            let sep = self.bump();
            match sep.tok {
                Tok::Comma => {}
                Tok::RBracket => break,
                _ => {
                    if sep.tok == Tok::End {
                        return err(
                            format!("unclosed '[' from column {open_col}: expected ',' or ']'"),
                            sep.col,
                        );
                    }
                    return err(
                        format!("expected ',' or ']', found {}", describe(&sep)),
                        sep.col,
                    );
                }
            }
        }
        Ok(Operand::List(items))
    }
}

/// The index of the table column `name` names: exactly, or else the one column equal to it
/// ignoring ASCII case.
fn column_named(columns: &[String], name: &str, col: usize) -> Result<usize, FilterError> {
    if let Some(i) = columns.iter().position(|c| c == name) {
        return Ok(i);
    }
    let mut folded = columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.eq_ignore_ascii_case(name));
    match (folded.next(), folded.next()) {
        (Some((i, _)), None) => Ok(i),
        _ => {
            let shown: Vec<&str> = columns.iter().take(12).map(String::as_str).collect();
            let more = if columns.len() > shown.len() {
                ", ..."
            } else {
                ""
            };
            err(
                format!(
                    "unknown column '{name}' (columns are {}{more}; `backticks` for names with \
                     spaces; put text in quotes: \"{name}\")",
                    shown.join(", ")
                ),
                col,
            )
        }
    }
}

pub(super) fn literal(t: &Tok) -> Option<Lit> {
    Some(match t {
        Tok::Str(s) => Lit::Str(s.clone()),
        Tok::Num(x) => Lit::Num(*x),
        Tok::True => Lit::Json(serde_json::Value::Bool(true)),
        Tok::False => Lit::Json(serde_json::Value::Bool(false)),
        Tok::Null => Lit::Json(serde_json::Value::Null),
        _ => return None,
    })
}
