//! The checks of an op that need no database: ids, text sizes, names, pin coordinates, a run's
//! new name and tags.

use super::Refusal;
use trackline_shared::annotations::{
    Anchor, MAX_ANNOTATION_ID_LEN, MAX_ANNOTATION_TEXT_BYTES, MAX_RUN_NAME_CHARS,
    MAX_RUN_TAG_CHARS, MAX_RUN_TAGS, NoteTarget, Op, OpRequest,
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
        Op::RunRename { run, name, .. } => {
            check_name("run", run)?;
            check_run_name(name)
        }
        Op::RunRetag { run, tags, .. } => {
            check_name("run", run)?;
            check_run_tags(tags)
        }
        _ => Ok(()),
    }
}

fn check_run_name(name: &str) -> Result<(), Refusal> {
    let chars = name.chars().count();
    if name.trim().is_empty() || chars > MAX_RUN_NAME_CHARS {
        return Err(Refusal::Invalid(format!(
            "a run name must be 1 to {MAX_RUN_NAME_CHARS} characters, not blank"
        )));
    }
    Ok(())
}

fn check_run_tags(tags: &[String]) -> Result<(), Refusal> {
    if tags.len() > MAX_RUN_TAGS {
        return Err(Refusal::Invalid(format!(
            "{} tags; a run may have at most {MAX_RUN_TAGS}",
            tags.len()
        )));
    }
    for tag in tags {
        if tag.trim().is_empty() || tag.chars().count() > MAX_RUN_TAG_CHARS {
            return Err(Refusal::Invalid(format!(
                "each tag must be 1 to {MAX_RUN_TAG_CHARS} characters, not blank"
            )));
        }
    }
    Ok(())
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
    if let Some(run) = anchor.run() {
        check_name("run", run)?;
    }
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
