//! JSON encoding of `f64` that keeps NaN and ±Infinity.
//!
//! JSON numbers cannot be NaN or infinite, and silently turning them into `null` would hide the very
//! event a user needs to see (a loss that diverged). Finite values are plain JSON numbers; non-finite
//! ones are the strings `"NaN"`, `"Infinity"` and `"-Infinity"`.

use serde::de::{self, Visitor};
use serde::{Deserializer, Serialize, Serializer};
use std::fmt;

/// Name of a non-finite value on the wire, or `None` for a finite one.
pub fn nonfinite_name(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("NaN")
    } else if v == f64::INFINITY {
        Some("Infinity")
    } else if v == f64::NEG_INFINITY {
        Some("-Infinity")
    } else {
        None
    }
}

/// Parses a non-finite name as written by [`nonfinite_name`] (or Python's `json` module).
pub fn parse_nonfinite(s: &str) -> Option<f64> {
    match s {
        "NaN" | "nan" => Some(f64::NAN),
        "Infinity" | "inf" | "+Infinity" => Some(f64::INFINITY),
        "-Infinity" | "-inf" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

/// Formats a value for people: `NaN`, `+Inf`, `-Inf`, or a compact number.
pub fn display(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else if v != 0.0 && (v.abs() >= 1e6 || v.abs() < 1e-4) {
        format!("{v:.4e}")
    } else {
        let s = format!("{v:.6}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s.is_empty() || s == "-" {
            "0".into()
        } else {
            s.into()
        }
    }
}

fn ser<S: Serializer>(v: f64, s: S) -> Result<S::Ok, S::Error> {
    match nonfinite_name(v) {
        Some(name) => s.serialize_str(name),
        None => s.serialize_f64(v),
    }
}

struct F64Visitor;

impl Visitor<'_> for F64Visitor {
    type Value = f64;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number or one of \"NaN\", \"Infinity\", \"-Infinity\"")
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        parse_nonfinite(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

/// `#[serde(with = "trackline_shared::num::f64")]` for a single value.
pub mod f64 {
    use super::*;
    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        ser(*v, s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        d.deserialize_any(F64Visitor)
    }
}

/// A newtype that (de)serializes through [`f64`](mod@f64); used inside containers.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Num(pub f64);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ser(self.0, s)
    }
}

impl<'de> serde::Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(F64Visitor).map(Num)
    }
}

/// `#[serde(with = "trackline_shared::num::vec")]` for `Vec<f64>`.
pub mod vec {
    use super::*;
    use serde::Deserialize;
    use serde::ser::SerializeSeq;

    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for x in v {
            seq.serialize_element(&Num(*x))?;
        }
        seq.end()
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        let v: Vec<Num> = Vec::deserialize(d)?;
        Ok(v.into_iter().map(|n| n.0).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct T {
        #[serde(with = "vec")]
        v: Vec<f64>,
    }

    #[test]
    fn nonfinite_round_trips() {
        let t = T {
            v: vec![1.5, f64::INFINITY, f64::NEG_INFINITY, -0.25],
        };
        let s = serde_json::to_string(&t).unwrap();
        assert_eq!(s, r#"{"v":[1.5,"Infinity","-Infinity",-0.25]}"#);
        assert_eq!(serde_json::from_str::<T>(&s).unwrap(), t);
        let n: T = serde_json::from_str(r#"{"v":["NaN"]}"#).unwrap();
        assert!(n.v[0].is_nan());
        assert!(serde_json::from_str::<T>(r#"{"v":["nope"]}"#).is_err());
    }

    #[test]
    fn display_is_compact() {
        assert_eq!(display(0.5), "0.5");
        assert_eq!(display(2.0), "2");
        assert_eq!(display(f64::NAN), "NaN");
        assert_eq!(display(1e-7), "1.0000e-7");
    }
}
