//! Reading a table file straight into columns, in one pass over its bytes: W&B's JSON
//! (`{"columns": [...], "data": [[...], ...]}`, written by Python's `json`, so `NaN`, `Infinity`
//! and `-Infinity` may stand for floats). Top-level cells become typed [`Cell`]s without a
//! `serde_json::Value` in between; lists and objects (media references) become values.

use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::fmt;

use super::{Builder, Cell, Table, format_number};
use crate::media::is_media_path;

/// Deepest nesting of lists and objects read inside a cell.
const MAX_DEPTH: usize = 128;

/// Why a table file could not be read, and where (byte offset).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    pub offset: usize,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.message, self.offset)
    }
}

impl std::error::Error for ParseError {}

/// The files that make up the table a history value refers to, in order: an
/// `incremental-table-file`'s earlier increments (`previous_increments_paths`) and then its own
/// `path`; a `table-file`'s one path. Paths that are not media paths are left out.
pub fn increment_paths(value: &Value) -> Vec<String> {
    let mut paths: Vec<String> = Vec::new();
    if value.get("_type").and_then(Value::as_str) == Some("incremental-table-file")
        && let Some(prev) = value
            .get("previous_increments_paths")
            .and_then(Value::as_array)
    {
        paths.extend(
            prev.iter()
                .filter_map(Value::as_str)
                .filter(|p| is_media_path(p))
                .map(str::to_string),
        );
    }
    if let Some(p) = value.get("path").and_then(Value::as_str)
        && is_media_path(p)
    {
        paths.push(p.to_string());
    }
    paths
}

/// Reads any JSON document Python's `json` wrote (`NaN`, `Infinity` and `-Infinity` allowed,
/// and kept as the strings `"NaN"`, `"Infinity"`, `"-Infinity"` as in the daemon's wire
/// encoding): the files W&B writes beside tables (plotly figures, custom-chart tables).
pub fn parse_python_json(src: &str) -> Result<Value, ParseError> {
    let mut r = Reader::new(src);
    let value = r.value(0)?;
    r.ws();
    if r.i < r.b.len() {
        return r.fail("unexpected text after the JSON value");
    }
    Ok(value)
}

pub(super) fn parse_table(src: &str) -> Result<Table, ParseError> {
    let mut r = Reader::new(src);
    let mut names: Option<Vec<String>> = None;
    let mut builders: Vec<Builder> = Vec::new();
    let mut nrows = 0usize;
    r.ws();
    r.expect(b'{', "a table object")?;
    r.ws();
    if r.peek() == Some(b'}') {
        r.i += 1;
    } else {
        loop {
            r.ws();
            let key = r.string()?;
            r.ws();
            r.expect(b':', "':'")?;
            r.ws();
            match key.as_ref() {
                "columns" => names = Some(r.column_names()?),
                "data" => nrows = r.rows(&mut builders)?,
                _ => {
                    r.value(0)?;
                }
            }
            r.ws();
            match r.next_byte() {
                Some(b',') => continue,
                Some(b'}') => break,
                _ => return r.fail("expected ',' or '}'"),
            }
        }
    }
    r.ws();
    if r.i < r.b.len() {
        return r.fail("unexpected text after the table");
    }
    let Some(names) = names else {
        return Err(ParseError {
            message: "the table has no \"columns\"".into(),
            offset: 0,
        });
    };
    while builders.len() < names.len() {
        builders.push(Builder::new(String::new()));
    }
    let columns = builders
        .into_iter()
        .enumerate()
        .map(|(i, mut b)| {
            b.pad(nrows);
            let mut c = b.finish();
            c.name = names.get(i).cloned().unwrap_or_else(|| i.to_string());
            c
        })
        .collect();
    Ok(Table { columns, nrows })
}

struct Reader<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    fn new(src: &'a str) -> Reader<'a> {
        Reader {
            s: src,
            b: src.as_bytes(),
            i: 0,
        }
    }

    fn fail<T>(&self, message: &str) -> Result<T, ParseError> {
        Err(ParseError {
            message: message.to_string(),
            offset: self.i,
        })
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn next_byte(&mut self) -> Option<u8> {
        let c = self.peek();
        self.i += 1;
        c
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.i += 1;
        }
    }

    fn expect(&mut self, c: u8, what: &str) -> Result<(), ParseError> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            self.fail(&format!("expected {what}"))
        }
    }

    /// `"columns"`: a list of names (strings, or numbers as W&B allows integers).
    fn column_names(&mut self) -> Result<Vec<String>, ParseError> {
        match self.value(0)? {
            Value::Array(items) => Ok(items
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => s,
                    Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), format_number),
                    other => other.to_string(),
                })
                .collect()),
            _ => self.fail("\"columns\" is not a list"),
        }
    }

    /// `"data"`: rows of cells, each cell pushed to its column's builder. Returns the row count.
    fn rows(&mut self, builders: &mut Vec<Builder>) -> Result<usize, ParseError> {
        self.expect(b'[', "a list of rows")?;
        let mut nrows = 0usize;
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(0);
        }
        loop {
            self.ws();
            self.expect(b'[', "a row (a list of cells)")?;
            self.ws();
            let mut col = 0usize;
            if self.peek() == Some(b']') {
                self.i += 1;
            } else {
                loop {
                    self.ws();
                    if col == builders.len() {
                        let mut b = Builder::new(String::new());
                        b.pad(nrows);
                        builders.push(b);
                    }
                    self.cell(&mut builders[col])?;
                    col += 1;
                    self.ws();
                    match self.next_byte() {
                        Some(b',') => continue,
                        Some(b']') => break,
                        _ => {
                            self.i -= 1;
                            return self.fail("expected ',' or ']' in a row");
                        }
                    }
                }
            }
            nrows += 1;
            for b in builders.iter_mut().skip(col) {
                b.pad(nrows);
            }
            self.ws();
            match self.next_byte() {
                Some(b',') => continue,
                Some(b']') => return Ok(nrows),
                _ => {
                    self.i -= 1;
                    return self.fail("expected ',' or ']' after a row");
                }
            }
        }
    }

    fn cell(&mut self, b: &mut Builder) -> Result<(), ParseError> {
        match self.peek() {
            Some(b'"') => {
                let s = self.string()?;
                b.push_text(&s);
            }
            Some(b'[' | b'{') => {
                let v = self.value(0)?;
                b.push_json(v);
            }
            Some(b't' | b'f' | b'n') => {
                let cell = match self.word()? {
                    Word::True => Cell::Bool(true),
                    Word::False => Cell::Bool(false),
                    Word::Null => Cell::Null,
                };
                b.push(cell);
            }
            _ => {
                let x = self.number()?.0;
                b.push(Cell::Num(x));
            }
        }
        Ok(())
    }

    fn word(&mut self) -> Result<Word, ParseError> {
        for (text, w) in [
            (&b"true"[..], Word::True),
            (b"false", Word::False),
            (b"null", Word::Null),
        ] {
            if self.b[self.i..].starts_with(text) {
                self.i += text.len();
                return Ok(w);
            }
        }
        self.fail("expected a value")
    }

    /// A number (with Python's `NaN`, `Infinity`, `-Infinity`) and whether it was written as an
    /// integer.
    fn number(&mut self) -> Result<(f64, bool), ParseError> {
        let rest = &self.b[self.i..];
        for (text, x) in [
            (&b"NaN"[..], f64::NAN),
            (b"Infinity", f64::INFINITY),
            (b"-Infinity", f64::NEG_INFINITY),
        ] {
            if rest.starts_with(text) {
                self.i += text.len();
                return Ok((x, false));
            }
        }
        let start = self.i;
        let mut integer = true;
        while let Some(c) = self.peek() {
            match c {
                b'0'..=b'9' | b'-' | b'+' => {}
                b'.' | b'e' | b'E' => integer = false,
                _ => break,
            }
            self.i += 1;
        }
        if start == self.i {
            return self.fail("expected a value");
        }
        match self.s[start..self.i].parse::<f64>() {
            Ok(x) => Ok((x, integer)),
            Err(_) => {
                self.i = start;
                self.fail("expected a number")
            }
        }
    }

    /// A string, borrowed from the source when it holds no escape.
    fn string(&mut self) -> Result<Cow<'a, str>, ParseError> {
        self.expect(b'"', "a string")?;
        let start = self.i;
        let hit = self.b[start..]
            .iter()
            .position(|&c| c == b'"' || c == b'\\');
        match hit {
            None => {
                self.i = self.b.len();
                self.fail("unterminated string")
            }
            Some(n) if self.b[start + n] == b'"' => {
                self.i = start + n + 1;
                Ok(Cow::Borrowed(&self.s[start..start + n]))
            }
            Some(n) => {
                let mut out = String::with_capacity(n + 16);
                out.push_str(&self.s[start..start + n]);
                self.i = start + n;
                self.escaped_rest(&mut out)?;
                Ok(Cow::Owned(out))
            }
        }
    }

    /// The rest of a string from its first backslash.
    fn escaped_rest(&mut self, out: &mut String) -> Result<(), ParseError> {
        loop {
            let run_start = self.i;
            let Some(n) = self.b[run_start..]
                .iter()
                .position(|&c| c == b'"' || c == b'\\')
            else {
                self.i = self.b.len();
                return self.fail("unterminated string");
            };
            out.push_str(&self.s[run_start..run_start + n]);
            self.i = run_start + n;
            if self.next_byte() == Some(b'"') {
                return Ok(());
            }
            let c = match self.next_byte() {
                Some(b'"') => '"',
                Some(b'\\') => '\\',
                Some(b'/') => '/',
                Some(b'b') => '\u{8}',
                Some(b'f') => '\u{c}',
                Some(b'n') => '\n',
                Some(b'r') => '\r',
                Some(b't') => '\t',
                Some(b'u') => self.unicode_escape()?,
                _ => {
                    self.i -= 1;
                    return self.fail("invalid escape in a string");
                }
            };
            out.push(c);
        }
    }

    /// After `\u`: four hex digits, or a surrogate pair of two escapes.
    fn unicode_escape(&mut self) -> Result<char, ParseError> {
        let hi = self.hex4()?;
        if (0xD800..0xDC00).contains(&hi) {
            if self.b[self.i..].starts_with(b"\\u") {
                self.i += 2;
                let lo = self.hex4()?;
                if (0xDC00..0xE000).contains(&lo) {
                    let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                    return Ok(char::from_u32(c).unwrap_or('\u{FFFD}'));
                }
            }
            return Ok('\u{FFFD}');
        }
        Ok(char::from_u32(hi).unwrap_or('\u{FFFD}'))
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let digits = self.s.get(self.i..self.i + 4);
        match digits.and_then(|d| u32::from_str_radix(d, 16).ok()) {
            Some(v) => {
                self.i += 4;
                Ok(v)
            }
            None => self.fail("expected four hex digits after \\u"),
        }
    }

    /// Any JSON value. A non-finite number becomes the string `"NaN"`, `"Infinity"` or
    /// `"-Infinity"`, as in the daemon's wire encoding (`crate::num`).
    fn value(&mut self, depth: usize) -> Result<Value, ParseError> {
        if depth > MAX_DEPTH {
            return self.fail("nested too deeply");
        }
        self.ws();
        Ok(match self.peek() {
            Some(b'"') => Value::String(self.string()?.into_owned()),
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                } else {
                    loop {
                        items.push(self.value(depth + 1)?);
                        self.ws();
                        match self.next_byte() {
                            Some(b',') => {}
                            Some(b']') => break,
                            _ => {
                                self.i -= 1;
                                return self.fail("expected ',' or ']'");
                            }
                        }
                    }
                }
                Value::Array(items)
            }
            Some(b'{') => {
                self.i += 1;
                let mut map = Map::new();
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                } else {
                    loop {
                        self.ws();
                        let k = self.string()?.into_owned();
                        self.ws();
                        self.expect(b':', "':'")?;
                        let v = self.value(depth + 1)?;
                        map.insert(k, v);
                        self.ws();
                        match self.next_byte() {
                            Some(b',') => {}
                            Some(b'}') => break,
                            _ => {
                                self.i -= 1;
                                return self.fail("expected ',' or '}'");
                            }
                        }
                    }
                }
                Value::Object(map)
            }
            Some(b't' | b'f' | b'n') => match self.word()? {
                Word::True => Value::Bool(true),
                Word::False => Value::Bool(false),
                Word::Null => Value::Null,
            },
            _ => {
                let start = self.i;
                let (x, integer) = self.number()?;
                let text = &self.s[start..self.i];
                if let Some(name) = crate::num::nonfinite_name(x) {
                    Value::String(name.to_string())
                } else if integer && let Ok(i) = text.parse::<i64>() {
                    Value::Number(i.into())
                } else if integer && let Ok(u) = text.parse::<u64>() {
                    Value::Number(u.into())
                } else {
                    Number::from_f64(x).map_or(Value::Null, Value::Number)
                }
            }
        })
    }
}

#[derive(Clone, Copy)]
enum Word {
    True,
    False,
    Null,
}
