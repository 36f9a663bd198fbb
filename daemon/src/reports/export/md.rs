//! The Markdown export: `report.md` (markdown blocks as written; a panel grid as its charts,
//! `![key](charts/<block>-<n>.svg)`, and its tables as Markdown tables) and the SVG charts beside
//! it. Text the export writes itself (title, run names, cells, footer) is escaped so a Markdown
//! viewer shows it as text: HTML's `& < >` as entities, `|` in table cells as `\|`.

use super::{Export, ExportContent, ExportPanel, Table, file_part, svg};
use std::fmt::Write;

/// The Markdown file's name.
pub const REPORT_FILE: &str = "report.md";
/// The folder the charts go in, beside it.
pub const CHARTS_DIR: &str = "charts";

/// Every file of the export, as (relative path, bytes): `report.md` first, then the charts.
pub fn render_files(export: &Export) -> Vec<(String, Vec<u8>)> {
    let mut md = String::new();
    let mut charts: Vec<(String, Vec<u8>)> = Vec::new();
    let _ = writeln!(md, "# {}\n", text(&export.title));
    let _ = writeln!(
        md,
        "*{} · {}*\n",
        text(&export.project),
        text(&export.version_label)
    );
    for (b, block) in export.blocks.iter().enumerate() {
        match &block.content {
            ExportContent::Markdown(src) => {
                md.push_str(src.trim_end());
                md.push_str("\n\n");
            }
            ExportContent::Grid(grid) => {
                if let Some(e) = &grid.error {
                    let _ = writeln!(md, "> {}\n", text(e));
                    continue;
                }
                let _ = writeln!(
                    md,
                    "*{} run{}*\n",
                    grid.runs,
                    if grid.runs == 1 { "" } else { "s" }
                );
                // Two blocks could share a file-name part only if the database held odd ids; the
                // block's position keeps the names apart then.
                let part = format!("{}{}", file_part(&block.id), dedupe_suffix(export, b));
                let mut n = 0;
                for panel in &grid.panels {
                    match panel {
                        ExportPanel::Line { chart, .. } => {
                            n += 1;
                            let path = format!("{CHARTS_DIR}/{part}-{n}.svg");
                            let _ = writeln!(md, "![{}]({path})\n", text(&chart.key));
                            charts.push((path, svg::render(chart).into_bytes()));
                        }
                        ExportPanel::Table(t) => table(&mut md, t),
                    }
                }
            }
        }
    }
    let _ = writeln!(md, "---\n\n*{}*", text(&export.footer()));
    let mut files = vec![(REPORT_FILE.to_string(), md.into_bytes())];
    files.extend(charts);
    files
}

/// `-<index>` when an earlier block has the same file-name part.
fn dedupe_suffix(export: &Export, b: usize) -> String {
    let part = file_part(&export.blocks[b].id);
    if export.blocks[..b].iter().any(|o| file_part(&o.id) == part) {
        format!("-b{b}")
    } else {
        String::new()
    }
}

fn table(md: &mut String, t: &Table) {
    let _ = writeln!(md, "**{}**\n", text(&t.title));
    if t.header.is_empty() {
        return;
    }
    let row = |cells: &[String]| {
        let inner: Vec<String> = cells.iter().map(|c| text(c)).collect();
        format!("| {} |\n", inner.join(" | "))
    };
    md.push_str(&row(&t.header));
    let _ = writeln!(md, "|{}", " --- |".repeat(t.header.len()));
    for r in &t.rows {
        md.push_str(&row(r));
    }
    md.push('\n');
}

/// Text for a Markdown line, a table cell or an image's alt text: HTML's `& < >` as entities,
/// Markdown's markers (`|` included) escaped with `\`, on one line.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}
