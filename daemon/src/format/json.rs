//! Lenient JSON for the run format's small files and for remote batch bodies: numbers serde_json
//! cannot hold are kept as strings of their exact text instead of failing the whole document.
//!
//! Python writes two kinds of such numbers: the literals `NaN`, `Infinity` and `-Infinity` (format
//! v1 allows them), and integers or exponents beyond the range of an f64 (`10**400` is written as
//! its 401 digits, `1e400` stays as typed). Either would make serde_json refuse the file, and with
//! it the run. Here each becomes a JSON string holding the literal as written (`"NaN"`,
//! `"-Infinity"`, `"1000…000"`, `"1e400"`), so nothing is lost and the UI can show it; the first
//! three are the strings of `trackline_shared::num`. Every other number is left to serde_json as is.

use serde_json::Value;

/// The bare literals that stand for non-finite numbers, longest first so `-Infinity` wins.
const NONFINITE_LITERALS: [&str; 3] = ["-Infinity", "Infinity", "NaN"];

/// Parses JSON that may contain bare `NaN`, `Infinity` and `-Infinity` or numbers beyond the range
/// of an f64, turning each of them into a string of its literal text.
pub fn parse_lenient(text: &str) -> serde_json::Result<Value> {
    let has_literal = text.contains("NaN") || text.contains("Infinity");
    if !has_literal {
        // The common case costs one parse; only a document serde_json refuses is looked at again.
        match serde_json::from_str(text) {
            Ok(value) => return Ok(value),
            Err(e) => {
                return match quote_unrepresentable(text) {
                    Some(quoted) => serde_json::from_str(&quoted),
                    None => Err(e),
                };
            }
        }
    }
    match quote_unrepresentable(text) {
        Some(quoted) => serde_json::from_str(&quoted),
        None => serde_json::from_str(text),
    }
}

/// Rewrites `text` with every non-finite literal and every number beyond f64 range (outside
/// strings) turned into a string of its text; `None` when there is none.
fn quote_unrepresentable(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut out = String::new();
    let mut last = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => i = after_string(b, i),
            b'-' | b'0'..=b'9' | b'N' | b'I' => {
                let len = unrepresentable_len(&text[i..]);
                if len > 0 {
                    if out.is_empty() {
                        out.reserve(text.len() + 16);
                    }
                    out.push_str(&text[last..i]);
                    out.push('"');
                    out.push_str(&text[i..i + len]);
                    out.push('"');
                    i += len;
                    last = i;
                } else {
                    i += number_len(&b[i..]).max(1);
                }
            }
            _ => i += 1,
        }
    }
    if last == 0 {
        return None;
    }
    out.push_str(&text[last..]);
    Some(out)
}

/// The index just past the string that opens at `start` (or the end of the text when it is not
/// closed: serde_json will report that).
fn after_string(b: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// Bytes of the number-like run of characters at the start of `b` (digits, sign, point, exponent).
fn number_len(b: &[u8]) -> usize {
    b.iter()
        .position(|c| !matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
        .unwrap_or(b.len())
}

/// The length of the token at the start of `text` when serde_json cannot hold it as a number: a
/// non-finite literal, or a number whose magnitude is beyond f64. Zero otherwise.
fn unrepresentable_len(text: &str) -> usize {
    if let Some(lit) = NONFINITE_LITERALS
        .iter()
        .find(|lit| text.starts_with(**lit))
    {
        return lit.len();
    }
    let len = number_len(text.as_bytes());
    let token = &text[..len];
    // Only a long mantissa or an exponent can leave f64's range (its largest integer has 309
    // digits), so the ordinary number is never parsed twice.
    let may_overflow = len > 308 || token.contains(['e', 'E']);
    if may_overflow && token.parse::<f64>().is_ok_and(f64::is_infinite) {
        len
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_nonfinite_literals_as_strings() {
        let v =
            parse_lenient(r#"{"a": NaN, "b": [-Infinity, Infinity], "s": "NaN Infinity", "c": 1}"#)
                .unwrap();
        assert_eq!(
            v,
            json!({"a": "NaN", "b": ["-Infinity", "Infinity"], "s": "NaN Infinity", "c": 1})
        );
        assert!(parse_lenient("{\"a\": NaNx}").is_err());
    }

    /// What Python's json writes for `10**400`, `-10**400` and the float literal `1e400`.
    #[test]
    fn keeps_numbers_beyond_f64_as_their_exact_text() {
        let big = format!("1{}", "0".repeat(400));
        let text = format!(
            r#"{{"big": {big}, "neg": -{big}, "e": 1e400, "ne": -1E+400, "nested": [{{"x": 2e999}}], "lr": NaN, "k": "1e400"}}"#
        );
        let v = parse_lenient(&text).unwrap();
        assert_eq!(v["big"], json!(big));
        assert_eq!(v["neg"], json!(format!("-{big}")));
        assert_eq!(v["e"], "1e400");
        assert_eq!(v["ne"], "-1E+400");
        assert_eq!(v["nested"][0]["x"], "2e999");
        assert_eq!(v["lr"], "NaN");
        assert_eq!(v["k"], "1e400");
        // Without any NaN/Infinity literal in the document, too.
        let v = parse_lenient(&format!(r#"{{"big": {big}, "ok": 1}}"#)).unwrap();
        assert_eq!(v, json!({"big": big, "ok": 1}));
        // A string key that looks like a number stays a key.
        let v = parse_lenient(r#"{"1e400": 1e400}"#).unwrap();
        assert_eq!(v, json!({"1e400": "1e400"}));
    }

    #[test]
    fn ordinary_numbers_are_unchanged() {
        let text = format!(
            r#"{{"u": {}, "i": {}, "f": 1.7e308, "max": 1.7976931348623157e308, "neg": -1.7e308, "tiny": 1e-400, "long": 0.{}1, "z": -0.0, "int309": {}}}"#,
            u64::MAX,
            i64::MIN,
            "0".repeat(400),
            "9".repeat(308),
        );
        let v = parse_lenient(&text).unwrap();
        assert_eq!(v["u"].as_u64(), Some(u64::MAX));
        assert_eq!(v["i"].as_i64(), Some(i64::MIN));
        assert_eq!(v["f"].as_f64(), Some(1.7e308));
        assert_eq!(v["max"].as_f64(), Some(f64::MAX));
        assert_eq!(v["neg"].as_f64(), Some(-1.7e308));
        assert_eq!(v["tiny"].as_f64(), Some(0.0));
        assert!(v["long"].as_f64().unwrap() < 1e-300);
        assert!(v["z"].is_f64());
        assert!(v["int309"].as_f64().unwrap() > 9.9e307);
        assert_eq!(v, serde_json::from_str::<Value>(&text).unwrap());
    }

    #[test]
    fn broken_documents_still_fail() {
        for bad in ["{", "[1e400", r#"{"a": 1e400 1}"#, "{\"a\": \"1e400}"] {
            assert!(parse_lenient(bad).is_err(), "{bad:?}");
        }
    }
}
