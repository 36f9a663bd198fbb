//! Parser for `history.jsonl` lines: a fast scanner for flat JSON objects that pulls out `_step`,
//! `_timestamp` and every numeric metric, accepting the `NaN`/`Infinity` literals of format v1.
//!
//! It does not build a JSON tree: ingest speed is the point (millions of points per second).
//! Non-numeric values (strings, null, arrays, objects) are skipped whole, not rejected; objects and
//! arrays can be handed, as raw bytes, to a caller that wants them ([`parse_line_with`]: logged
//! media). A number beyond f64 range reads as ±Infinity, like the literal.
//!
//! Two checks on what a line means live here too, since they are the format's rules: which `_step`
//! values a row may have ([`check_step`]), and where a torn line's appended object starts
//! ([`torn_suffix`]).

use std::borrow::Cow;

/// Why a line was rejected. The caller skips the line and reports it; nothing else is lost.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} at byte {at}")]
pub struct ParseError {
    pub what: &'static str,
    pub at: usize,
}

/// The special fields of a committed row.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct RowHeader {
    pub step: Option<f64>,
    pub timestamp: Option<f64>,
}

/// Parses one line (without its `\n`), calling `metric(key, value)` for every numeric field whose
/// key does not start with `_`. Returns the row's `_step` and `_timestamp`.
pub fn parse_line(
    line: &[u8],
    metric: impl FnMut(Cow<'_, str>, f64),
) -> Result<RowHeader, ParseError> {
    parse_line_with(line, metric, |_, _| {})
}

/// [`parse_line`] that also calls `nested(key, range)` for every object or array value whose key
/// does not start with `_`, with the byte range of the value within `line` (only scanned, not
/// parsed: the caller decides whether it wants it).
pub fn parse_line_with(
    line: &[u8],
    mut metric: impl FnMut(Cow<'_, str>, f64),
    mut nested: impl FnMut(Cow<'_, str>, std::ops::Range<usize>),
) -> Result<RowHeader, ParseError> {
    parse_line_raw(
        line,
        |key, value| {
            metric(key.into_str()?, value);
            Ok(())
        },
        |key, range| {
            nested(key.into_str()?, range);
            Ok(())
        },
    )
}

/// A key as the line writes it: its bytes when it has no escape (not yet checked to be UTF-8, so a
/// caller that knows the key already skips the check), else decoded.
pub enum RawKey<'a> {
    Plain(&'a [u8]),
    Decoded(String),
}

impl<'a> RawKey<'a> {
    pub fn bytes(&self) -> &[u8] {
        match self {
            RawKey::Plain(bytes) => bytes,
            RawKey::Decoded(key) => key.as_bytes(),
        }
    }

    /// The key as text; `Err` when it is not UTF-8.
    pub fn into_str(self) -> Result<Cow<'a, str>, &'static str> {
        match self {
            RawKey::Plain(bytes) => std::str::from_utf8(bytes)
                .map(Cow::Borrowed)
                .map_err(|_| "invalid UTF-8"),
            RawKey::Decoded(key) => Ok(Cow::Owned(key)),
        }
    }
}

/// [`parse_line_with`] for callers that look keys up by their bytes: the callbacks get each key
/// unchecked ([`RawKey`]) and may refuse it (the line is then rejected, the error at the key).
/// Keys starting with `_` other than `_step` and `_timestamp` are skipped without a check.
pub fn parse_line_raw(
    line: &[u8],
    mut metric: impl FnMut(RawKey<'_>, f64) -> Result<(), &'static str>,
    mut nested: impl FnMut(RawKey<'_>, std::ops::Range<usize>) -> Result<(), &'static str>,
) -> Result<RowHeader, ParseError> {
    let mut p = Parser { s: line, i: 0 };
    let mut header = RowHeader::default();
    p.ws();
    p.expect(b'{', "expected '{'")?;
    p.ws();
    if p.peek() == Some(b'}') {
        p.i += 1;
        return p.end(header);
    }
    loop {
        p.ws();
        let key_at = p.i;
        let key = p.raw_string()?;
        p.ws();
        p.expect(b':', "expected ':'")?;
        p.ws();
        let refused = match p.value()? {
            Value::Number(v) => match key.bytes() {
                b"_step" => {
                    header.step = Some(v);
                    Ok(())
                }
                b"_timestamp" => {
                    header.timestamp = Some(v);
                    Ok(())
                }
                [b'_', ..] => Ok(()),
                _ => metric(key, v),
            },
            Value::Nested(range) if !key.bytes().starts_with(b"_") => nested(key, range),
            Value::Nested(_) | Value::Other => Ok(()),
        };
        if let Err(what) = refused {
            return Err(ParseError { what, at: key_at });
        }
        p.ws();
        match p.next() {
            Some(b',') => continue,
            Some(b'}') => return p.end(header),
            _ => return Err(p.err("expected ',' or '}'")),
        }
    }
}

/// The largest `_step` a row may have: 2^53 − 1, the last integer an f64 holds exactly (beyond it,
/// consecutive steps cannot be told apart).
pub const MAX_STEP: f64 = 9_007_199_254_740_991.0;

/// Checks a row's `_step` against the format: W&B steps are integers ≥ 0; here also at most
/// [`MAX_STEP`]. Answers why a step is refused.
pub fn check_step(step: f64) -> Result<(), &'static str> {
    if !step.is_finite() {
        Err("_step is not a finite number")
    } else if step < 0.0 {
        Err("_step is negative")
    } else if step.fract() != 0.0 {
        Err("_step is not an integer")
    } else if step > MAX_STEP {
        Err("_step is beyond 2^53 - 1")
    } else {
        Ok(())
    }
}

/// Work allowed to [`torn_suffix`] for one line, in bytes scanned, per byte of the line: a line of
/// many `{` that each open a long failing parse stops being tried rather than cost O(n²).
const TORN_SCAN_PER_BYTE: usize = 8;

/// Where the whole JSON object at the end of a line that failed to parse starts: the first `{`
/// after the line's start whose suffix parses as one object. This is what is left of a torn
/// write (a client killed mid-line) followed by a raw append of a full line: `{"a":1{"b":2}`
/// answers the offset of `{"b":2}`. `None` when no suffix parses within a bounded amount of work
/// (a few times the line's length).
pub fn torn_suffix(line: &[u8]) -> Option<usize> {
    let mut budget = line.len().saturating_mul(TORN_SCAN_PER_BYTE) + 4096;
    let mut at = 1;
    while let Some(found) = line.get(at..)?.iter().position(|&b| b == b'{') {
        let start = at + found;
        match parse_line(&line[start..], |_, _| {}) {
            Ok(_) => return Some(start),
            Err(e) => budget = budget.checked_sub(e.at + 1)?,
        }
        at = start + 1;
    }
    None
}

enum Value {
    Number(f64),
    /// An object or array: its byte range in the line.
    Nested(std::ops::Range<usize>),
    Other,
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek();
        self.i += 1;
        c
    }

    fn err(&self, what: &'static str) -> ParseError {
        ParseError {
            what,
            at: self.i.min(self.s.len()),
        }
    }

    fn expect(&mut self, c: u8, what: &'static str) -> Result<(), ParseError> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.err(what))
        }
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.i += 1;
        }
    }

    fn end(mut self, header: RowHeader) -> Result<RowHeader, ParseError> {
        self.ws();
        if self.i < self.s.len() {
            Err(self.err("trailing characters"))
        } else {
            Ok(header)
        }
    }

    fn literal(&mut self, lit: &[u8]) -> bool {
        if self.s[self.i..].starts_with(lit) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Result<Value, ParseError> {
        match self.peek() {
            Some(b'"') => self.string().map(|_| Value::Other),
            Some(b'{') | Some(b'[') => {
                let start = self.i;
                self.skip_nested().map(|()| Value::Nested(start..self.i))
            }
            Some(b't') if self.literal(b"true") => Ok(Value::Number(1.0)),
            Some(b'f') if self.literal(b"false") => Ok(Value::Number(0.0)),
            Some(b'n') if self.literal(b"null") => Ok(Value::Other),
            Some(b'N') if self.literal(b"NaN") => Ok(Value::Number(f64::NAN)),
            Some(b'I') if self.literal(b"Infinity") => Ok(Value::Number(f64::INFINITY)),
            Some(b'-') if self.literal(b"-Infinity") => Ok(Value::Number(f64::NEG_INFINITY)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.err("expected a value")),
        }
    }

    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.i;
        if let Some(v) = self.plain_number() {
            return Ok(Value::Number(v));
        }
        self.i = start;
        while matches!(
            self.peek(),
            Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
        ) {
            self.i += 1;
        }
        // The bytes are ASCII by the loop above.
        let text =
            std::str::from_utf8(&self.s[start..self.i]).map_err(|_| self.err("bad number"))?;
        text.parse::<f64>()
            .map(Value::Number)
            .map_err(|_| ParseError {
                what: "bad number",
                at: start,
            })
    }

    /// The common number, read in one pass: at most 19 digits whose integer fits an f64 exactly,
    /// times a power of ten up to 10^22, so that one multiplication or division rounds it exactly
    /// as `str::parse` would (Clinger's fast path). `None` (the caller rereads it) for anything
    /// else: more digits, a larger exponent, or a malformed number.
    fn plain_number(&mut self) -> Option<f64> {
        /// The powers of ten an f64 holds exactly.
        const POW10: [f64; 23] = [
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
            1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
        ];
        let negative = self.peek() == Some(b'-');
        if negative {
            self.i += 1;
        }
        let mut mantissa = 0u64;
        let mut digits = 0u32;
        let mut point_at = None;
        loop {
            match self.peek() {
                Some(c @ b'0'..=b'9') => {
                    mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
                    digits += 1;
                }
                Some(b'.') if point_at.is_none() => point_at = Some(digits),
                _ => break,
            }
            self.i += 1;
        }
        let mut exponent = point_at.map_or(0, |at| -i64::from(digits - at));
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            let sign = match self.peek() {
                Some(b'-') => {
                    self.i += 1;
                    -1
                }
                Some(b'+') => {
                    self.i += 1;
                    1
                }
                _ => 1,
            };
            let (mut e, mut exp_digits) = (0i64, 0);
            while let Some(c @ b'0'..=b'9') = self.peek() {
                e = (e * 10 + i64::from(c - b'0')).min(1 << 20);
                exp_digits += 1;
                self.i += 1;
            }
            if exp_digits == 0 {
                return None;
            }
            exponent += sign * e;
        }
        let malformed = matches!(
            self.peek(),
            Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
        );
        if digits == 0 || digits > 19 || malformed || mantissa > 1 << 53 || exponent.abs() > 22 {
            return None;
        }
        let magnitude = if exponent < 0 {
            mantissa as f64 / POW10[exponent.unsigned_abs() as usize]
        } else {
            mantissa as f64 * POW10[exponent as usize]
        };
        Some(if negative { -magnitude } else { magnitude })
    }

    /// A JSON string; borrowed when it has no escapes.
    fn string(&mut self) -> Result<Cow<'a, str>, ParseError> {
        let at = self.i + 1;
        self.raw_string()?
            .into_str()
            .map_err(|what| ParseError { what, at })
    }

    /// A JSON string, its bytes unchecked when it has no escapes.
    fn raw_string(&mut self) -> Result<RawKey<'a>, ParseError> {
        self.expect(b'"', "expected a string")?;
        let start = self.i;
        let s: &'a [u8] = self.s;
        let Some(len) = s[start..].iter().position(|&c| c == b'"' || c == b'\\') else {
            self.i = s.len();
            return Err(self.err("unterminated string"));
        };
        self.i = start + len;
        if s[self.i] == b'\\' {
            return self.escaped_string(start).map(RawKey::Decoded);
        }
        self.i += 1;
        Ok(RawKey::Plain(&s[start..start + len]))
    }

    fn escaped_string(&mut self, start: usize) -> Result<String, ParseError> {
        // Find the closing quote, then let serde_json decode the escapes exactly.
        let mut j = self.i;
        while let Some(&c) = self.s.get(j) {
            match c {
                b'\\' => j += 2,
                b'"' => {
                    let quoted = &self.s[start - 1..=j];
                    self.i = j + 1;
                    return serde_json::from_slice::<String>(quoted).map_err(|_| ParseError {
                        what: "bad string escape",
                        at: start,
                    });
                }
                _ => j += 1,
            }
        }
        Err(self.err("unterminated string"))
    }

    /// Skips an object or array, honouring strings.
    fn skip_nested(&mut self) -> Result<(), ParseError> {
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            match c {
                b'{' | b'[' => {
                    depth += 1;
                    self.i += 1;
                }
                b'}' | b']' => {
                    depth -= 1;
                    self.i += 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                b'"' => {
                    self.string()?;
                }
                _ => self.i += 1,
            }
        }
        Err(self.err("unterminated object or array"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(line: &str) -> Result<(RowHeader, Vec<(String, f64)>), ParseError> {
        let mut m = Vec::new();
        let h = parse_line(line.as_bytes(), |k, v| m.push((k.into_owned(), v)))?;
        Ok((h, m))
    }

    #[test]
    fn reads_specials_and_metrics() {
        let (h, m) = parse(
            r#"{"_step": 3, "_timestamp": 1.5e9, "_runtime": 2.0, "Train Loss": 0.25, "acc": 1}"#,
        )
        .unwrap();
        assert_eq!(
            h,
            RowHeader {
                step: Some(3.0),
                timestamp: Some(1.5e9)
            }
        );
        assert_eq!(m, vec![("Train Loss".into(), 0.25), ("acc".into(), 1.0)]);
    }

    #[test]
    fn keeps_nonfinite_and_bools_and_skips_other_values() {
        let (_, m) = parse(
            r#"{"a": NaN, "b": Infinity, "c": -Infinity, "d": true, "s": "x", "n": null, "o": {"k": [1, "}"]}, "e": -2}"#,
        )
        .unwrap();
        assert!(m[0].1.is_nan());
        assert_eq!(m[1].1, f64::INFINITY);
        assert_eq!(m[2].1, f64::NEG_INFINITY);
        assert_eq!(m[3], ("d".into(), 1.0));
        assert_eq!(m[4], ("e".into(), -2.0));
        assert_eq!(m.len(), 5);
    }

    #[test]
    fn hands_nested_values_to_the_caller_as_byte_ranges() {
        let line = br#"{"_step": 2, "img": {"_type": "image-file", "path": "m/a}.png"}, "l": [1, [2]], "_w": {}, "x": 1}"#;
        let mut nested = Vec::new();
        let h = parse_line_with(
            line,
            |_, _| {},
            |k, r| nested.push((k.into_owned(), String::from_utf8(line[r].to_vec()).unwrap())),
        )
        .unwrap();
        assert_eq!(h.step, Some(2.0));
        assert_eq!(
            nested,
            vec![
                (
                    "img".to_string(),
                    r#"{"_type": "image-file", "path": "m/a}.png"}"#.to_string()
                ),
                ("l".to_string(), "[1, [2]]".to_string()),
            ]
        );
    }

    #[test]
    fn decodes_escaped_keys() {
        let (_, m) = parse(r#"{"tr\"ain/\u00e9": 1}"#).unwrap();
        assert_eq!(m[0].0, "tr\"ain/é");
    }

    #[test]
    fn rejects_garbage_and_torn_lines() {
        for bad in [
            "",
            "garbage",
            r#"{"_step": 1, "loss": 0.5"#,
            r#"{"_step": 1, "loss": }"#,
            r#"{"a": 1} x"#,
            r#"{"a": 1.2.3}"#,
            r#"{"a" 1}"#,
            r#"{"a": "unterminated}"#,
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(parse("{}").unwrap().1, vec![]);
    }

    /// Python writes `10**400` as its 401 digits and keeps `1e400` as typed: both are ±Infinity.
    #[test]
    fn numbers_beyond_f64_read_as_infinity() {
        let big = format!("1{}", "0".repeat(400));
        let line = format!(
            r#"{{"_step": 1, "a": {big}, "b": -{big}, "c": 1e400, "d": -1E+999, "e": 1.7e308, "f": 1e-400}}"#
        );
        let (h, m) = parse(&line).unwrap();
        assert_eq!(h.step, Some(1.0));
        let values: Vec<f64> = m.iter().map(|(_, v)| *v).collect();
        assert_eq!(
            values,
            [
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
                1.7e308,
                0.0
            ]
        );
        let (h, _) = parse(r#"{"_step": 1e400}"#).unwrap();
        assert_eq!(h.step, Some(f64::INFINITY));
    }

    #[test]
    fn steps_must_be_integers_from_zero_to_2_pow_53() {
        for ok in [0.0, 1.0, 1e15, MAX_STEP] {
            assert_eq!(check_step(ok), Ok(()), "{ok}");
        }
        for bad in [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -1.0,
            -0.5,
            0.5,
            MAX_STEP + 2.0,
            1e300,
        ] {
            assert!(check_step(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn torn_suffix_finds_the_appended_object() {
        let at = |s: &str| torn_suffix(s.as_bytes());
        assert_eq!(at(r#"{"a":1{"b":2}"#), Some(6));
        assert_eq!(
            at(r#"{"_step": 5, "img": {"p": "x{"{"_step": 6, "o": {"k": 1}}"#),
            Some(30)
        );
        // An object nested in a line is never taken for an appended one; garbage keeps nothing.
        assert_eq!(at(r#"{"a": {"b": 1}}"#), None);
        assert_eq!(at(r#"{"a":1, "b": {"c": 2"#), None);
        assert_eq!(at("garbage"), None);
        // Many `{` opening long failing parses stop within the work budget.
        let nested = r#"{"":"#.repeat(100_000);
        assert_eq!(at(&nested), None);
    }

    proptest! {
        /// Whatever serde_json writes for a flat object of finite numbers, we read back the same.
        #[test]
        fn agrees_with_serde_json(
            fields in proptest::collection::btree_map("[a-zA-Z0-9 /_\"\\\\é]{1,12}", proptest::num::f64::NORMAL | proptest::num::f64::ZERO, 0..20),
            step in 0u64..1_000_000_000,
        ) {
            let mut obj = serde_json::Map::new();
            obj.insert("_step".into(), step.into());
            for (k, v) in &fields {
                obj.insert(k.clone(), serde_json::json!(v));
            }
            let line = serde_json::to_string(&obj).unwrap();
            let (h, m) = parse(&line).unwrap();
            prop_assert_eq!(h.step, Some(step as f64));
            let expected: Vec<(String, f64)> = fields.into_iter().filter(|(k, _)| !k.starts_with('_')).collect();
            let mut got = m;
            got.sort_by(|a, b| a.0.cmp(&b.0));
            prop_assert_eq!(got, expected);
        }

        /// Numbers read in one pass ([`Parser::plain_number`]) come out bit for bit as
        /// `str::parse` reads them, and so do the ones it leaves to it; what it refuses, the
        /// line refuses.
        #[test]
        fn numbers_read_as_str_parse_reads_them(
            text in "-?[0-9]{0,21}(\\.[0-9]{0,21})?([eE][-+]?[0-9]{0,3})?[.e]?",
            value in proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO,
            precision in 0usize..20,
        ) {
            let written = [text, format!("{value}"), format!("{value:e}"), format!("{value:.precision$}"), format!("{value:.precision$e}")];
            for number in written {
                // Only these start a number in a line; others are not numbers to the parser.
                let unsigned = number.strip_prefix('-').unwrap_or(&number);
                if !unsigned.starts_with(|c: char| c.is_ascii_digit() || (c == '.' && unsigned.len() < number.len())) {
                    continue;
                }
                let line = format!(r#"{{"x": {number}}}"#);
                let mut got = None;
                let parsed = parse_line(line.as_bytes(), |_, v| got = Some(v));
                match number.parse::<f64>() {
                    Ok(expected) => {
                        prop_assert!(parsed.is_ok(), "{}", number);
                        prop_assert_eq!(got.map(f64::to_bits), Some(expected.to_bits()), "{}", number);
                    }
                    Err(_) => prop_assert!(parsed.is_err(), "{}", number),
                }
            }
        }

        /// Arbitrary bytes never panic.
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_line(&bytes, |_, _| {});
        }
    }
}
