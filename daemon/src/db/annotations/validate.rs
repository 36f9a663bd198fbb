//! The checks of an op that need no database: ids, text sizes, names, pin coordinates, a run's
//! new name and tags, a report's title and blocks (their sizes and counts).

use super::Refusal;
use trackline_shared::annotations::{
    Anchor, MAX_ANNOTATION_ID_LEN, MAX_ANNOTATION_TEXT_BYTES, MAX_RUN_NAME_CHARS,
    MAX_RUN_TAG_CHARS, MAX_RUN_TAGS, NoteTarget, Op, OpRequest,
};
use trackline_shared::reports::{
    BlockContent, MAX_GRID_PANELS, MAX_PANEL_COLUMNS, MAX_REPORT_BLOCKS, MAX_REPORT_TITLE_CHARS,
    MAX_RUNSET_FILTER_BYTES, MAX_RUNSET_RUNS, NewBlock, Panel, PanelGrid,
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
        Op::ReportCreate {
            report,
            title,
            blocks,
        } => {
            check_id("report", report)?;
            check_report_title(title)?;
            if blocks.len() > MAX_REPORT_BLOCKS {
                return Err(Refusal::Invalid(format!(
                    "{} blocks; a report may have at most {MAX_REPORT_BLOCKS}",
                    blocks.len()
                )));
            }
            for (i, block) in blocks.iter().enumerate() {
                check_new_block(block)?;
                if blocks[..i].iter().any(|b| b.id == block.id) {
                    return Err(Refusal::Invalid(format!(
                        "block id '{}' is used twice in this report",
                        block.id
                    )));
                }
            }
            Ok(())
        }
        Op::ReportTitle { report, title, .. } => {
            check_id("report", report)?;
            check_report_title(title)
        }
        Op::BlockAdd {
            report,
            after,
            block,
        } => {
            check_id("report", report)?;
            if let Some(after) = after {
                check_id("after", after)?;
            }
            check_new_block(block)
        }
        Op::BlockSet {
            report,
            block,
            content,
            ..
        } => {
            check_id("report", report)?;
            check_id("block", block)?;
            check_block_content(content)
        }
        Op::BlockMove {
            report,
            block,
            after,
        } => {
            check_id("report", report)?;
            check_id("block", block)?;
            after.as_deref().map_or(Ok(()), |a| check_id("after", a))
        }
        Op::BlockDelete { report, block } => {
            check_id("report", report)?;
            check_id("block", block)
        }
        Op::ReportPublish { report } | Op::ReportDelete { report } => check_id("report", report),
    }
}

fn check_report_title(title: &str) -> Result<(), Refusal> {
    if title.chars().count() > MAX_REPORT_TITLE_CHARS {
        return Err(Refusal::Invalid(format!(
            "a report title may have at most {MAX_REPORT_TITLE_CHARS} characters"
        )));
    }
    Ok(())
}

fn check_new_block(block: &NewBlock) -> Result<(), Refusal> {
    check_id("block", &block.id)?;
    check_block_content(&block.content)
}

/// A block's markdown within the text cap; a panel grid within the limits of
/// `trackline_shared::reports`, every metric key, column and run id a name.
fn check_block_content(content: &BlockContent) -> Result<(), Refusal> {
    let PanelGrid { runset, panels } = match content {
        BlockContent::Markdown { text } => return check_text(text),
        BlockContent::PanelGrid(grid) => grid,
    };
    if runset.filter.len() > MAX_RUNSET_FILTER_BYTES {
        return Err(Refusal::Invalid(format!(
            "a run set's filter may be at most {MAX_RUNSET_FILTER_BYTES} bytes"
        )));
    }
    // A filter that does not parse would show no runs and an error to every reader: refused here
    // as the table refuses it while it is typed.
    if let Err(e) = trackline_shared::filter::Filter::parse(&runset.filter) {
        return Err(Refusal::Invalid(format!(
            "the run set's filter does not parse: {e}"
        )));
    }
    if runset.runs.len() > MAX_RUNSET_RUNS {
        return Err(Refusal::Invalid(format!(
            "a run set may name at most {MAX_RUNSET_RUNS} runs"
        )));
    }
    for run in &runset.runs {
        check_name("run", run)?;
    }
    if let Some(sort) = &runset.sort {
        check_name("sort key", &sort.key)?;
    }
    if let Some(group_by) = &runset.group_by {
        check_name("group_by", group_by)?;
    }
    if panels.len() > MAX_GRID_PANELS {
        return Err(Refusal::Invalid(format!(
            "{} panels; a panel grid may have at most {MAX_GRID_PANELS}",
            panels.len()
        )));
    }
    for panel in panels {
        let columns = match panel {
            Panel::Line { key, settings, .. } => {
                check_name("key", key)?;
                if let Some(x_key) = &settings.x_key {
                    check_name("x_key", x_key)?;
                }
                continue;
            }
            Panel::RunsTable { columns } => columns,
            Panel::Compare { keys } => keys,
        };
        if columns.len() > MAX_PANEL_COLUMNS {
            return Err(Refusal::Invalid(format!(
                "a panel may show at most {MAX_PANEL_COLUMNS} columns"
            )));
        }
        for column in columns {
            check_name("column", column)?;
        }
    }
    Ok(())
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
