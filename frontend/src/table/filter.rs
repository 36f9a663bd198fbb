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

use std::cmp::Ordering;
use std::fmt;
use trackline_shared::api::RunInfo;

use super::columns::{self, Field, Val};

type Regex = regex_lite::Regex;

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

fn err<T>(message: impl Into<String>, column: usize) -> Result<T, FilterError> {
    Err(FilterError {
        message: message.into(),
        column,
    })
}

/// Deepest nesting of parentheses and `not`s accepted (the parser recurses).
const MAX_DEPTH: usize = 64;

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    /// `==`, `!=`, `<`, `<=`, `>`, `>=`, `=~`, `!~`.
    Op(&'static str),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    And,
    Or,
    Not,
    In,
    True,
    False,
    Null,
    End,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    /// 1-based character column of its first character.
    col: usize,
    /// The source text, for messages.
    text: String,
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '/' | '-')
}

fn tokenize(src: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let text = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let next = chars.get(i + 1).copied();
        let start = i;
        let tok = match c {
            '(' => {
                i += 1;
                Tok::LParen
            }
            ')' => {
                i += 1;
                Tok::RParen
            }
            '[' => {
                i += 1;
                Tok::LBracket
            }
            ']' => {
                i += 1;
                Tok::RBracket
            }
            ',' => {
                i += 1;
                Tok::Comma
            }
            '"' | '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return err(
                                format!("unterminated string: missing the closing {c}"),
                                col,
                            );
                        }
                        Some(&q) if q == c => {
                            i += 1;
                            break;
                        }
                        Some('\\') => {
                            match chars.get(i + 1) {
                                Some('n') => s.push('\n'),
                                Some('t') => s.push('\t'),
                                // Anything else escaped stands for itself (\" \' \\), but a regex
                                // escape such as \d or \. keeps its backslash.
                                Some(&e) if e == c || e == '\\' => s.push(e),
                                Some(&e) => {
                                    s.push('\\');
                                    s.push(e);
                                }
                                None => {
                                    return err(
                                        format!("unterminated string: missing the closing {c}"),
                                        col,
                                    );
                                }
                            }
                            i += 2;
                        }
                        Some(&ch) => {
                            s.push(ch);
                            i += 1;
                        }
                    }
                }
                Tok::Str(s)
            }
            '`' => {
                let Some(len) = chars[i + 1..].iter().position(|&ch| ch == '`') else {
                    return err("unterminated field name: missing the closing `", col);
                };
                let name = text(i + 1, i + 1 + len);
                i += len + 2;
                Tok::Ident(name)
            }
            '=' => {
                i += 1;
                match next {
                    Some('=') => {
                        i += 1;
                        Tok::Op("==")
                    }
                    Some('~') => {
                        i += 1;
                        Tok::Op("=~")
                    }
                    _ => Tok::Op("=="),
                }
            }
            '!' => {
                i += 1;
                match next {
                    Some('=') => {
                        i += 1;
                        Tok::Op("!=")
                    }
                    Some('~') => {
                        i += 1;
                        Tok::Op("!~")
                    }
                    _ => Tok::Not,
                }
            }
            '<' | '>' => {
                i += 1;
                if next == Some('=') {
                    i += 1;
                    Tok::Op(if c == '<' { "<=" } else { ">=" })
                } else {
                    Tok::Op(if c == '<' { "<" } else { ">" })
                }
            }
            '&' if next == Some('&') => {
                i += 2;
                Tok::And
            }
            '|' if next == Some('|') => {
                i += 2;
                Tok::Or
            }
            c if c.is_ascii_digit()
                || (c == '.' && next.is_some_and(|n| n.is_ascii_digit()))
                || (matches!(c, '-' | '+')
                    && next.is_some_and(|n| n.is_ascii_digit() || n == '.')) =>
            {
                i += 1;
                while i < chars.len() {
                    let ch = chars[i];
                    let exp_sign = matches!(ch, '+' | '-') && matches!(chars[i - 1], 'e' | 'E');
                    if ch.is_ascii_digit() || matches!(ch, '.' | 'e' | 'E' | '_') || exp_sign {
                        i += 1;
                    } else {
                        break;
                    }
                }
                let lit = text(start, i).replace('_', "");
                if let Some(&ch) = chars.get(i)
                    && is_ident_char(ch)
                {
                    return err(format!("unexpected '{ch}' after the number {lit}"), i + 1);
                }
                match lit.parse::<f64>() {
                    Ok(x) => Tok::Num(x),
                    Err(_) => return err(format!("'{lit}' is not a number"), col),
                }
            }
            c if is_ident_start(c) => {
                while i < chars.len() && is_ident_char(chars[i]) {
                    i += 1;
                }
                let word = text(start, i);
                match word.to_ascii_lowercase().as_str() {
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    "in" => Tok::In,
                    "true" => Tok::True,
                    "false" => Tok::False,
                    "null" | "none" => Tok::Null,
                    "nan" => Tok::Num(f64::NAN),
                    "inf" | "infinity" => Tok::Num(f64::INFINITY),
                    _ => Tok::Ident(word),
                }
            }
            '&' | '|' => {
                let word = if c == '&' { "and" } else { "or" };
                return err(format!("unexpected character '{c}' (write '{word}')"), col);
            }
            other => return err(format!("unexpected character '{other}'"), col),
        };
        out.push(Token {
            tok,
            col,
            text: text(start, i),
        });
    }
    out.push(Token {
        tok: Tok::End,
        col: chars.len() + 1,
        text: String::new(),
    });
    Ok(out)
}

/// A literal value.
#[derive(Clone, Debug)]
enum Lit {
    Num(f64),
    Str(String),
    /// `true`, `false`, `null`.
    Json(serde_json::Value),
}

#[derive(Clone, Debug)]
enum Operand {
    Field(Field),
    Lit(Lit),
    List(Vec<Lit>),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Debug)]
enum Expr {
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

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
}

/// How a token is named in messages.
fn describe(t: &Token) -> String {
    match t.tok {
        Tok::End => "the end".into(),
        _ => show(&t.text),
    }
}

/// Source text quoted for a message, unless it is a quoted string already.
fn show(text: &str) -> String {
    if text.starts_with(['"', '\'']) {
        text.to_string()
    } else {
        format!("'{text}'")
    }
}

const FIELDS_HINT: &str = "fields are name, state, created, runtime, tags, group, notes, id, \
                           host, job_type, config.<key> and summary.<key>";

impl Parser {
    fn peek(&self) -> &Token {
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

    fn or(&mut self) -> Result<Expr, FilterError> {
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
                Operand::Field(_) | Operand::Lit(Lit::Json(serde_json::Value::Bool(_))) => {
                    Ok(Expr::Truthy(lhs))
                }
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

fn literal(t: &Tok) -> Option<Lit> {
    Some(match t {
        Tok::Str(s) => Lit::Str(s.clone()),
        Tok::Num(x) => Lit::Num(*x),
        Tok::True => Lit::Json(serde_json::Value::Bool(true)),
        Tok::False => Lit::Json(serde_json::Value::Bool(false)),
        Tok::Null => Lit::Json(serde_json::Value::Null),
        _ => return None,
    })
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
        let toks = tokenize(source)?;
        let expr = if toks.len() == 1 {
            None
        } else {
            let mut p = Parser {
                toks,
                pos: 0,
                depth: 0,
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
        self.expr.as_ref().is_none_or(|e| eval(e, r, now))
    }
}

fn lit_val(l: &Lit) -> Val<'_> {
    match l {
        Lit::Num(x) => Val::Num(*x),
        Lit::Str(s) => Val::Str(s),
        Lit::Json(v) => Val::Json(v),
    }
}

fn operand_val<'a>(o: &'a Operand, r: &'a RunInfo, now: f64) -> Val<'a> {
    match o {
        Operand::Field(f) => columns::get(r, f, now),
        Operand::Lit(l) => lit_val(l),
        // Lists are only read by `in`.
        Operand::List(_) => Val::Missing,
    }
}

fn is_null_lit(o: &Operand) -> bool {
    matches!(o, Operand::Lit(Lit::Json(serde_json::Value::Null)))
}

/// A number, or text that reads as one.
fn num_like(v: &Val) -> Option<f64> {
    v.number()
        .or_else(|| v.str().and_then(|s| s.trim().parse::<f64>().ok()))
}

fn equal(a: &Val, b: &Val) -> bool {
    if a.is_missing() || b.is_missing() {
        return false;
    }
    if let (Some(x), Some(y)) = (num_like(a), num_like(b)) {
        return x == y || (x.is_nan() && y.is_nan());
    }
    if let (Some(x), Some(y)) = (a.bool(), b.bool()) {
        return x == y;
    }
    match (a.elements(), b.elements()) {
        (Some(items), None) => return items.iter().any(|e| equal(e, b)),
        (None, Some(items)) => return items.iter().any(|e| equal(a, e)),
        _ => {}
    }
    match (a.text(), b.text()) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

fn order(a: &Val, b: &Val) -> Option<Ordering> {
    if a.is_missing() || b.is_missing() {
        return None;
    }
    if let (Some(x), Some(y)) = (num_like(a), num_like(b)) {
        return x.partial_cmp(&y);
    }
    match (a.str(), b.str()) {
        (Some(x), Some(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn truthy(v: &Val) -> bool {
    match v {
        Val::Missing => false,
        Val::Str(s) => !s.is_empty(),
        Val::Num(x) => *x != 0.0 && !x.is_nan(),
        Val::Tags(t) => !t.is_empty(),
        Val::Json(j) => match j {
            serde_json::Value::Null => false,
            serde_json::Value::Bool(b) => *b,
            serde_json::Value::Array(a) => !a.is_empty(),
            serde_json::Value::Object(o) => !o.is_empty(),
            _ => num_like(v).map_or_else(
                || v.str().is_some_and(|s| !s.is_empty()),
                |x| x != 0.0 && !x.is_nan(),
            ),
        },
    }
}

fn contains(hay: &Val, needle: &Val) -> bool {
    if hay.is_missing() || needle.is_missing() {
        return false;
    }
    if let Some(items) = hay.elements() {
        return items.iter().any(|e| equal(e, needle));
    }
    if let Val::Json(serde_json::Value::Object(m)) = hay {
        return needle.text().is_some_and(|k| m.contains_key(k.as_ref()));
    }
    match (hay.str(), needle.text()) {
        (Some(h), Some(n)) => h.contains(n.as_ref()),
        _ => false,
    }
}

fn eval(e: &Expr, r: &RunInfo, now: f64) -> bool {
    match e {
        Expr::Or(a, b) => eval(a, r, now) || eval(b, r, now),
        Expr::And(a, b) => eval(a, r, now) && eval(b, r, now),
        Expr::Not(a) => !eval(a, r, now),
        Expr::Truthy(o) => truthy(&operand_val(o, r, now)),
        Expr::Cmp(l, op, rt) => {
            let (a, b) = (operand_val(l, r, now), operand_val(rt, r, now));
            if is_null_lit(l) || is_null_lit(rt) {
                let other = if is_null_lit(l) { &b } else { &a };
                return match op {
                    CmpOp::Eq => other.is_null(),
                    CmpOp::Ne => !other.is_null(),
                    _ => false,
                };
            }
            match op {
                CmpOp::Eq => equal(&a, &b),
                CmpOp::Ne => !a.is_missing() && !b.is_missing() && !equal(&a, &b),
                CmpOp::Lt => order(&a, &b) == Some(Ordering::Less),
                CmpOp::Le => matches!(order(&a, &b), Some(Ordering::Less | Ordering::Equal)),
                CmpOp::Gt => order(&a, &b) == Some(Ordering::Greater),
                CmpOp::Ge => matches!(order(&a, &b), Some(Ordering::Greater | Ordering::Equal)),
            }
        }
        Expr::Match { lhs, re, negated } => {
            let v = operand_val(lhs, r, now);
            let hit = match v.elements() {
                Some(items) => items
                    .iter()
                    .any(|e| e.text().is_some_and(|t| re.is_match(&t))),
                None => match v.text() {
                    Some(t) => re.is_match(&t),
                    None => return false,
                },
            };
            hit != *negated
        }
        Expr::In { lhs, rhs, negated } => {
            let needle = operand_val(lhs, r, now);
            if needle.is_missing() {
                return false;
            }
            let hit = match rhs {
                Operand::List(items) => items.iter().any(|l| equal(&needle, &lit_val(l))),
                other => {
                    let hay = operand_val(other, r, now);
                    if hay.is_missing() {
                        return false;
                    }
                    contains(&hay, &needle)
                }
            };
            hit != *negated
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use trackline_shared::api::RunState;

    fn run(id: &str, config: serde_json::Value, summary: serde_json::Value) -> RunInfo {
        RunInfo {
            id: id.into(),
            name: format!("{id}-net"),
            state: RunState::Finished,
            tags: vec!["baseline".into(), "v2".into()],
            config: config.as_object().unwrap().clone(),
            summary: summary.as_object().unwrap().clone(),
            created_at_secs: 1000.0,
            runtime_secs: 60.0,
            ..Default::default()
        }
    }

    fn runs() -> Vec<RunInfo> {
        let mut v = vec![
            run(
                "resnet50",
                json!({"lr": 0.001, "optimizer": "adam", "layers": 50, "amp": true, "opt": {"beta": 0.9}}),
                json!({"val/loss": 0.25, "acc": 0.9}),
            ),
            run(
                "resnet18",
                json!({"lr": 0.1, "optimizer": "sgd", "layers": 18, "amp": false}),
                json!({"val/loss": 0.5, "acc": 0.8}),
            ),
            run(
                "vit",
                json!({"lr": "0.005", "optimizer": "adam", "seed": "42"}),
                json!({"val/loss": "NaN"}),
            ),
            run("bare", json!({}), json!({})),
        ];
        v[1].state = RunState::Running;
        v[2].tags = vec![];
        v[3].group = Some("g1".into());
        v
    }

    /// The ids of the runs `src` keeps.
    fn keep(src: &str) -> Vec<String> {
        let f = Filter::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        runs()
            .iter()
            .filter(|r| f.matches(r, 2000.0))
            .map(|r| r.id.clone())
            .collect()
    }

    fn error(src: &str) -> String {
        match Filter::parse(src) {
            Ok(_) => panic!("{src:?} parsed"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn empty_keeps_all() {
        assert_eq!(keep("").len(), 4);
        assert_eq!(keep("   ").len(), 4);
        assert!(Filter::parse(" ").unwrap().is_empty());
    }

    #[test]
    fn the_examples() {
        assert_eq!(
            keep(r#"config.lr < 0.01 and state == "finished""#),
            ["resnet50", "vit"]
        );
        assert_eq!(keep(r#"name =~ "resnet.*""#), ["resnet50", "resnet18"]);
        assert_eq!(
            keep(r#""baseline" in tags"#),
            ["resnet50", "resnet18", "bare"]
        );
        assert_eq!(
            keep(r#"summary.val/loss <= 0.3 or not (config.optimizer == "sgd")"#),
            ["resnet50", "vit", "bare"]
        );
    }

    #[test]
    fn precedence_and_parentheses() {
        // and binds tighter than or.
        assert_eq!(
            keep(r#"config.layers == 18 or config.layers == 50 and config.lr > 0.01"#),
            ["resnet18"]
        );
        assert_eq!(
            keep(r#"(config.layers == 18 or config.layers == 50) and config.lr > 0.01"#),
            ["resnet18"]
        );
        assert_eq!(
            keep(r#"(config.layers == 18 or config.layers == 50) and config.lr < 0.01"#),
            ["resnet50"]
        );
        // not binds tighter than and.
        assert_eq!(
            keep(r#"not config.amp and config.optimizer == "adam""#),
            ["vit"]
        );
        assert_eq!(
            keep(r#"not (config.amp and config.optimizer == "adam")"#),
            ["resnet18", "vit", "bare"]
        );
        assert_eq!(
            keep("!(state == 'running') && config.amp || id == 'bare'"),
            ["resnet50", "bare"]
        );
        assert_eq!(keep("not not config.amp"), ["resnet50"]);
        assert_eq!(keep("((config.amp))"), ["resnet50"]);
        assert_eq!(
            keep("STATE == 'running' OR config.seed == 42"),
            ["resnet18", "vit"]
        );
    }

    #[test]
    fn numbers_and_strings() {
        // A string that reads as a number compares as one.
        assert_eq!(keep("config.lr < 0.01"), ["resnet50", "vit"]);
        assert_eq!(keep("config.seed == 42"), ["vit"]);
        assert_eq!(keep(r#"config.layers == "50""#), ["resnet50"]);
        // 2 < 10 numerically, "10" < "2" as text.
        assert_eq!(keep("config.layers > 2"), ["resnet50", "resnet18"]);
        assert_eq!(
            keep("config.layers >= 1e1 and config.layers <= 1_8"),
            ["resnet18"]
        );
        assert_eq!(
            keep("config.lr == -0.5 or config.lr > -1"),
            ["resnet50", "resnet18", "vit"]
        );
        // Text compares as text; a number never equals a non-numeric string.
        assert_eq!(keep("config.optimizer > 'b'"), ["resnet18"]);
        assert_eq!(keep("config.optimizer == 5"), Vec::<String>::new());
        assert_eq!(keep("config.optimizer < 5"), Vec::<String>::new());
        assert_eq!(keep("config.amp == true"), ["resnet50"]);
        assert_eq!(keep("config.amp == false"), ["resnet18"]);
        // NaN equals NaN and nothing else; it is never < or >.
        assert_eq!(keep("summary.val/loss == NaN"), ["vit"]);
        assert_eq!(keep("summary.val/loss >= 0"), ["resnet50", "resnet18"]);
        assert_eq!(keep("summary.val/loss != NaN"), ["resnet50", "resnet18"]);
        assert_eq!(keep("created == 1000 and runtime >= 60"), keep(""));
        assert_eq!(keep("config.opt.beta == 0.9"), ["resnet50"]);
        assert_eq!(keep("`config.opt.beta` == 0.9"), ["resnet50"]);
    }

    #[test]
    fn missing_fields() {
        // Every comparison with a missing value is false, != included...
        assert_eq!(keep("config.layers != 50"), ["resnet18"]);
        assert_eq!(keep("config.layers < 1000"), ["resnet50", "resnet18"]);
        assert_eq!(keep("group == 'g1'"), ["bare"]);
        assert_eq!(keep("group != 'g1'"), Vec::<String>::new());
        // ...but `not` of it is true, and null tests for presence.
        assert_eq!(
            keep("not (config.layers == 50)"),
            ["resnet18", "vit", "bare"]
        );
        assert_eq!(keep("config.layers == null"), ["vit", "bare"]);
        assert_eq!(keep("config.layers != null"), ["resnet50", "resnet18"]);
        assert_eq!(keep("group"), ["bare"]);
        assert_eq!(keep("config.amp"), ["resnet50"]);
        assert_eq!(keep("config.nothing =~ '.*'"), Vec::<String>::new());
        assert_eq!(keep("config.nothing !~ 'x'"), Vec::<String>::new());
        assert_eq!(keep("'x' in config.nothing"), Vec::<String>::new());
    }

    #[test]
    fn regex_and_membership() {
        assert_eq!(keep(r#"name =~ "^resnet\d+-""#), ["resnet50", "resnet18"]);
        assert_eq!(keep(r#"name =~ "18""#), ["resnet18"], "unanchored search");
        assert_eq!(keep(r#"name !~ "resnet""#), ["vit", "bare"]);
        assert_eq!(keep(r#"name =~ "(?i)VIT""#), ["vit"]);
        assert_eq!(keep(r#"tags =~ "^v\d$""#), ["resnet50", "resnet18", "bare"]);
        assert_eq!(
            keep(r#""net" in name"#),
            ["resnet50", "resnet18", "vit", "bare"]
        );
        assert_eq!(keep(r#""50" in name"#), ["resnet50"]);
        assert_eq!(keep(r#""baseline" not in tags"#), ["vit"]);
        assert_eq!(
            keep(r#"config.optimizer in ["sgd", "rmsprop",]"#),
            ["resnet18"]
        );
        assert_eq!(keep("config.layers in [18, 50]"), ["resnet50", "resnet18"]);
        assert_eq!(keep("config.optimizer not in ['adam']"), ["resnet18"]);
        assert_eq!(keep("'beta' in config.opt"), ["resnet50"]);
        assert_eq!(keep("tags == 'v2'"), ["resnet50", "resnet18", "bare"]);
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            error("config.lr <"),
            "expected a value after '<' at column 12"
        );
        assert_eq!(
            error("config.lr < and state == 'x'"),
            "expected a value after '<' at column 13"
        );
        assert_eq!(
            error("(config.lr < 1"),
            "unclosed '(' from column 1: expected ')' at column 15"
        );
        assert_eq!(
            error("config.lr < 1)"),
            "unexpected ')' with no '(' to close at column 14"
        );
        assert_eq!(
            error("name == \"abc"),
            "unterminated string: missing the closing \" at column 9"
        );
        assert_eq!(
            error("nme == 'x'"),
            "unknown field 'nme' (fields are name, state, created, runtime, tags, group, notes, id, \
             host, job_type, config.<key> and summary.<key>; put text in quotes: \"nme\") at column 1"
        );
        assert_eq!(
            error("state == finished"),
            "unknown field 'finished' (fields are name, state, created, runtime, tags, group, \
             notes, id, host, job_type, config.<key> and summary.<key>; put text in quotes: \
             \"finished\") at column 10"
        );
        assert_eq!(
            error("config == 1"),
            "unknown field 'config' (name a key: config.<key>) at column 1"
        );
        assert_eq!(
            error("config.lr < 1 state == 'x'"),
            "expected 'and' or 'or' before 'state' at column 15"
        );
        assert_eq!(
            error("config.lr < 1 and"),
            "expected a condition after 'and' at column 18"
        );
        assert!(
            error(r#"name =~ "(unclosed""#).starts_with("invalid regular expression: "),
            "{}",
            error(r#"name =~ "(unclosed""#)
        );
        assert!(error(r#"name =~ "(unclosed""#).ends_with("at column 9"));
        assert_eq!(
            error("name =~ resnet"),
            "expected a quoted pattern after '=~' (put it in quotes: \"resnet\") at column 9"
        );
        assert_eq!(
            error("name =~ 5"),
            "expected a quoted pattern after '=~' at column 9"
        );
        assert_eq!(
            error("config.lr # 1"),
            "unexpected character '#' at column 11"
        );
        assert_eq!(
            error("a & b"),
            "unexpected character '&' (write 'and') at column 3"
        );
        assert_eq!(
            error("config.lr < 1 & state"),
            "unexpected character '&' (write 'and') at column 15"
        );
        assert_eq!(error("()"), "expected a condition inside '( )' at column 2");
        assert_eq!(
            error(")"),
            "unexpected ')' with no '(' to close at column 1"
        );
        assert_eq!(error("config.lr < 1e"), "'1e' is not a number at column 13");
        assert_eq!(
            error("config.lr < 12abc"),
            "unexpected 'a' after the number 12 at column 15"
        );
        assert_eq!(
            error("'x' in [1, 2"),
            "unclosed '[' from column 8: expected ',' or ']' at column 13"
        );
        assert_eq!(
            error("'x' in [1 2]"),
            "expected ',' or ']', found '2' at column 11"
        );
        assert_eq!(
            error("config.lr == [1]"),
            "a list [..] only goes after 'in', not after '==' at column 14"
        );
        assert_eq!(
            error("'x' in"),
            "expected a list [..] or a field after 'in' at column 7"
        );
        assert_eq!(
            error("'abc'"),
            "expected an operator (==, !=, <, >, =~, in) after 'abc' at column 6"
        );
        assert_eq!(
            error("0.5 0.5"),
            "expected an operator (==, !=, <, >, =~, in) after '0.5', found '0.5' at column 5"
        );
        // Columns count characters, not bytes.
        assert_eq!(
            error("name == 'é' and name <"),
            "expected a value after '<' at column 23"
        );
        let deep = format!("{}config.amp{}", "(".repeat(200), ")".repeat(200));
        assert!(error(&deep).starts_with("the expression is nested too deeply"));
    }
}
