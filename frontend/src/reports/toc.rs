//! The report's table of contents: the `#` and `##` headings of its markdown blocks, found the
//! way the markdown renderer finds them (outside fenced code, indented less than four spaces), so
//! entry `index` of a block is its `index`-th rendered `h1`/`h2` element. Pure, host-tested.

use trackline_shared::reports::{Block, BlockContent};

/// One entry of the table of contents.
#[derive(Clone, Debug, PartialEq)]
pub struct Heading {
    /// 1 or 2.
    pub level: u8,
    /// The heading's source text (shown as text).
    pub text: String,
    /// The block it is in.
    pub block: String,
    /// Which `h1`/`h2` of the block it is (0-based).
    pub index: usize,
}

/// `(level, text)` of every `#` and `##` heading of `src`.
pub fn headings(src: &str) -> Vec<(u8, String)> {
    let mut out = Vec::new();
    let mut fence: Option<usize> = None;
    for line in src.lines() {
        let trimmed = line.trim_start_matches(' ');
        let indent = line.len() - trimmed.len();
        if let Some(n) = fence {
            let t = line.trim();
            if t.len() >= n && t.chars().all(|c| c == '`') {
                fence = None;
            }
            continue;
        }
        if indent >= 4 {
            continue;
        }
        if trimmed.starts_with("```") {
            fence = Some(trimmed.chars().take_while(|&c| c == '`').count());
            continue;
        }
        let level = trimmed.chars().take_while(|&c| c == '#').count();
        if !(1..=6).contains(&level) {
            continue;
        }
        let rest = &trimmed[level..];
        if !(rest.is_empty() || rest.starts_with(' ') || rest.starts_with('\t')) {
            continue;
        }
        if level <= 2 {
            let text = rest.trim().trim_end_matches('#').trim_end().to_string();
            out.push((level as u8, text));
        }
    }
    out
}

/// The table of contents of `blocks`, in order.
pub fn contents(blocks: &[Block]) -> Vec<Heading> {
    blocks
        .iter()
        .flat_map(|b| match &b.content {
            BlockContent::Markdown { text } => headings(text)
                .into_iter()
                .enumerate()
                .map(|(index, (level, text))| Heading {
                    level,
                    text,
                    block: b.id.clone(),
                    index,
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
        let md = "# Results ##\nintro\n## Loss <curves>\n### deeper\n```\n# not a heading\n```\n    # indented code\n#nospace\n##\n";
        assert_eq!(
            headings(md),
            vec![
                (1, "Results".to_string()),
                (2, "Loss <curves>".to_string()),
                (2, String::new())
            ]
        );
        let blocks = [
            block("a", BlockContent::Markdown { text: md.into() }),
            block("g", BlockContent::PanelGrid(PanelGrid::default())),
            block(
                "b",
                BlockContent::Markdown {
                    text: "## Next".into(),
                },
            ),
        ];
        let toc = contents(&blocks);
        assert_eq!(toc.len(), 4);
        assert_eq!((toc[1].block.as_str(), toc[1].index), ("a", 1));
        assert_eq!(
            (toc[3].block.as_str(), toc[3].index, toc[3].level),
            ("b", 0, 2)
        );
    }
}
