//! The filter language's evaluator: whether one run (or one row of a logged table) passes an
//! expression.

use std::cmp::Ordering;

use super::Row;
use super::parse::{CmpOp, Expr, Lit, Operand};
use crate::columns::Val;

pub(super) fn lit_val(l: &Lit) -> Val<'_> {
    match l {
        Lit::Num(x) => Val::Num(*x),
        Lit::Str(s) => Val::Str(s),
        Lit::Json(v) => Val::Json(v),
    }
}

pub(super) fn operand_val<'a, R: Row + ?Sized>(o: &'a Operand, row: &'a R) -> Val<'a> {
    match o {
        Operand::Field(f) => row.field(f),
        Operand::Column(i) => row.column(*i),
        Operand::Lit(l) => lit_val(l),
        // Lists are only read by `in`.
        Operand::List(_) => Val::Missing,
    }
}

pub(super) fn is_null_lit(o: &Operand) -> bool {
    matches!(o, Operand::Lit(Lit::Json(serde_json::Value::Null)))
}

/// A number, or text that reads as one.
pub(super) fn num_like(v: &Val) -> Option<f64> {
    v.number()
        .or_else(|| v.str().and_then(|s| s.trim().parse::<f64>().ok()))
}

pub(super) fn equal(a: &Val, b: &Val) -> bool {
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

pub(super) fn order(a: &Val, b: &Val) -> Option<Ordering> {
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

pub(super) fn truthy(v: &Val) -> bool {
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

pub(super) fn contains(hay: &Val, needle: &Val) -> bool {
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

pub(super) fn eval<R: Row + ?Sized>(e: &Expr, row: &R) -> bool {
    match e {
        Expr::Or(a, b) => eval(a, row) || eval(b, row),
        Expr::And(a, b) => eval(a, row) && eval(b, row),
        Expr::Not(a) => !eval(a, row),
        Expr::Truthy(o) => truthy(&operand_val(o, row)),
        Expr::Cmp(l, op, rt) => {
            let (a, b) = (operand_val(l, row), operand_val(rt, row));
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
            let v = operand_val(lhs, row);
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
            let needle = operand_val(lhs, row);
            if needle.is_missing() {
                return false;
            }
            let hit = match rhs {
                Operand::List(items) => items.iter().any(|l| equal(&needle, &lit_val(l))),
                other => {
                    let hay = operand_val(other, row);
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
