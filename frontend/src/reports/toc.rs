//! The report's table of contents: the `#`, `##` and `###` headings of its markdown blocks, as
//! [`trackline_shared::markdown::contents`] finds them (the renderer's own rules and anchors), each
//! with the block it is in. Pure, host-tested.

use trackline_shared::markdown;
use trackline_shared::reports::{Block, BlockContent};

/// One entry of the table of contents.
#[derive(Clone, Debug, PartialEq)]
pub struct Heading {
    /// 1 to 3.
    pub level: u8,
    /// The heading's text (shown as text).
    pub text: String,
    /// The block it is in.
    pub block: String,
    /// The heading element's `id` within its block.
    pub anchor: String,
}

/// The table of contents of `blocks`, in order.
pub fn contents(blocks: &[Block]) -> Vec<Heading> {
    blocks
        .iter()
        .flat_map(|b| match &b.content {
            BlockContent::Markdown { text } => markdown::contents(text)
                .into_iter()
                .map(|e| Heading {
                    level: e.level,
                    text: e.text,
                    block: b.id.clone(),
                    anchor: e.anchor,
                })
                .collect(),
            BlockContent::PanelGrid(_) => Vec::new(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use trackline_shared::annotations::Author;
    use trackline_shared::reports::PanelGrid;

    fn block(id: &str, content: BlockContent) -> Block {
        Block {
            id: id.into(),
            rev: 1,
            content,
            updated_by: Author::default(),
            updated_ms: 0.0,
        }
    }

    #[test]
    fn headings_outside_code_make_the_contents() {
        let md = "# Results ##\nintro\n## Loss <curves>\n#### deeper\n```\n# not a heading\n```\n    # indented code\n#nospace\n";
        let blocks = [
            block("a", BlockContent::Markdown { text: md.into() }),
            block("g", BlockContent::PanelGrid(PanelGrid::default())),
            block(
                "b",
                BlockContent::Markdown {
                    text: "### Next".into(),
                },
            ),
        ];
        let toc = contents(&blocks);
        let got: Vec<_> = toc
            .iter()
            .map(|h| (h.level, h.text.as_str(), h.block.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (1, "Results", "a"),
                (2, "Loss <curves>", "a"),
                (3, "Next", "b")
            ]
        );
        assert_eq!(toc[0].anchor, "md-results");
        // The anchor is the one the renderer puts on the heading element.
        let html = markdown::render(md);
        assert!(
            html.contains(&format!("id=\"{}\"", toc[1].anchor)),
            "{html}"
        );
    }
}
