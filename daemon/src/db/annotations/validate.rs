//! The checks of an op that need no database: ids, text sizes, names, pin coordinates.

use super::Refusal;
use trackline_shared::annotations::{
    Anchor, MAX_ANNOTATION_ID_LEN, MAX_ANNOTATION_TEXT_BYTES, NoteTarget, Op, OpRequest,
};

/// Checks what can be checked without the database: ids, text sizes, pin coordinates.
pub(super) fn validate(request: &OpRequest) -> Result<(), Refusal> {
    check_id("client_id", &request.client_id)?;
    check_id("op_id", &request.op_id)?;
    match &request.op {
        Op::NoteSet { target, text, .. } => {
            if let NoteTarget::Run { run } = target {
                check_name("run", run)?;
            }
            check_text(text)
        }
        Op::ThreadCreate {
            thread,
            anchor,
            comment,
            text,
        } => {
            check_id("thread", thread)?;
            check_id("comment", comment)?;
            check_anchor(anchor)?;
            check_text(text)
        }
        Op::ThreadResolve { thread, .. } => check_id("thread", thread),
        Op::CommentAdd {
            thread,
            comment,
            text,
        } => {
            check_id("thread", thread)?;
            check_id("comment", comment)?;
            check_text(text)
        }
        Op::CommentEdit { comment, text, .. } => {
            check_id("comment", comment)?;
            check_text(text)
        }
        Op::CommentDelete { comment } => check_id("comment", comment),
    }
}

fn check_id(what: &str, id: &str) -> Result<(), Refusal> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ANNOTATION_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Refusal::Invalid(format!(
            "{what} must be 1 to {MAX_ANNOTATION_ID_LEN} characters of A-Z, a-z, 0-9, _ and -"
        )))
    }
}

/// A run id or metric key: not empty, and short enough to be one.
fn check_name(what: &str, name: &str) -> Result<(), Refusal> {
    if name.is_empty() || name.len() > 1024 {
        return Err(Refusal::Invalid(format!(
            "{what} must be 1 to 1024 bytes long"
        )));
    }
    Ok(())
}

fn check_text(text: &str) -> Result<(), Refusal> {
    if text.len() > MAX_ANNOTATION_TEXT_BYTES {
        return Err(Refusal::Invalid(format!(
            "the text is {} bytes; at most {MAX_ANNOTATION_TEXT_BYTES} are accepted",
            text.len()
        )));
    }
    Ok(())
}

fn check_anchor(anchor: &Anchor) -> Result<(), Refusal> {
    check_name("run", anchor.run())?;
    let Anchor::Pin {
        key,
        x_axis,
        x0,
        x1,
        y,
        ..
    } = anchor
    else {
        return Ok(());
    };
    check_name("key", key)?;
    check_name("x_axis", x_axis)?;
    let finite = x0.is_finite() && x1.is_none_or(f64::is_finite) && y.is_none_or(f64::is_finite);
    if !finite {
        return Err(Refusal::Invalid(
            "a pin's x0, x1 and y must be finite numbers".into(),
        ));
    }
    if x1.is_some_and(|x1| x1 < *x0) {
        return Err(Refusal::Invalid(
            "a pin's x1 must not be below its x0".into(),
        ));
    }
    Ok(())
}
