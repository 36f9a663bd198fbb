//! The HTML export: one self-contained page that opens from disk with no network. Its CSS
//! (`report.css`) and script (`report.js`) are inline and allowed by their SHA-256 in a strict
//! Content-Security-Policy (`default-src 'none'`, no `unsafe-inline`); the charts' data is a
//! `<script type="application/json">` block the script reads with `JSON.parse`, with `<`, `>`,
//! `&` and U+2028/2029 escaped so no user text can end the block. Every user-written string is
//! HTML-escaped; markdown goes through the app's safe renderer.

use super::{Chart, Export, ExportContent, ExportPanel, Table};
use sha2::{Digest, Sha256};
use std::fmt::Write;
use trackline_shared::markdown::{Anchors, TocEntry, contents_with, escape, render_with};

/// The page's stylesheet, inlined as is.
pub const CSS: &str = include_str!("report.css");
/// The page's script (plain ES2017, no libraries), inlined as is.
pub const JS: &str = include_str!("report.js");
/// The id of the JSON block holding the charts.
pub const DATA_ID: &str = "report-data";

/// The Content-Security-Policy of the page: nothing but the inline style and script with exactly
/// these bytes, and `data:` images.
pub fn csp() -> String {
    format!(
        "default-src 'none'; script-src '{}'; style-src '{}'; img-src data:; base-uri 'none'; \
         form-action 'none'",
        csp_hash(JS),
        csp_hash(CSS)
    )
}

/// `sha256-<base64 of the SHA-256 of text>`, as a CSP source.
pub fn csp_hash(text: &str) -> String {
    format!("sha256-{}", base64(&Sha256::digest(text.as_bytes())))
}

/// The whole page.
pub fn render_page(export: &Export) -> String {
    let mut charts: Vec<&Chart> = Vec::new();
    let mut main = String::new();
    let mut anchors = Anchors::default();
    for block in &export.blocks {
        let id = escape(&block.id);
        match &block.content {
            ExportContent::Markdown(text) => {
                let html = render_with(text, &mut anchors);
                let _ = writeln!(
                    main,
                    "<section class=\"block markdown\" id=\"block-{id}\">{html}</section>"
                );
            }
            ExportContent::Grid(grid) => {
                let _ = write!(main, "<section class=\"block grid\" id=\"block-{id}\">");
                match &grid.error {
                    Some(e) => {
                        let _ = write!(main, "<p class=\"error\">{}</p>", escape(e));
                    }
                    None => {
                        let _ = write!(
                            main,
                            "<p class=\"runset\">{} run{}</p>",
                            grid.runs,
                            if grid.runs == 1 { "" } else { "s" }
                        );
                    }
                }
                main.push_str("<div class=\"panels\">");
                for panel in &grid.panels {
                    match panel {
                        ExportPanel::Line { chart, wide } => {
                            panel_chart(&mut main, chart, charts.len(), *wide);
                            charts.push(chart);
                        }
                        ExportPanel::Table(t) => panel_table(&mut main, t),
                    }
                }
                main.push_str("</div></section>\n");
            }
        }
    }
    let data = json_for_script(&serde_json::json!({ "charts": charts }));
    let title = escape(&export.title);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{css}</style>\n</head>\n<body>\n\
         <header><h1 class=\"report-title\">{title}</h1>\
         <p class=\"version\">{project} · {version}</p></header>\n{toc}<main>\n{main}</main>\n\
         <footer data-testid=\"report-footer\">{footer}</footer>\n\
         <script type=\"application/json\" id=\"{DATA_ID}\">{data}</script>\n\
         <script>{js}</script>\n</body>\n</html>\n",
        csp = csp(),
        css = CSS,
        project = escape(&export.project),
        version = escape(&export.version_label),
        toc = toc(export),
        footer = escape(&export.footer()),
        js = JS,
    )
}

fn panel_chart(out: &mut String, chart: &Chart, index: usize, wide: bool) {
    let _ = write!(
        out,
        "<figure class=\"panel line{}\"><figcaption>{}</figcaption>\
         <div class=\"chart\" data-chart=\"{index}\" data-key=\"{}\"><canvas></canvas>\
         <div class=\"tooltip\" hidden></div></div><ul class=\"legend\"></ul>",
        if wide { " wide" } else { "" },
        escape(&chart.key),
        escape(&chart.key),
    );
    if chart.runs > trackline_shared::MAX_SERIES_RUNS {
        let _ = write!(
            out,
            "<p class=\"note\">The first {} of {} runs.</p>",
            trackline_shared::MAX_SERIES_RUNS,
            chart.runs
        );
    }
    out.push_str("</figure>");
}

fn panel_table(out: &mut String, t: &Table) {
    let _ = write!(
        out,
        "<figure class=\"panel table wide\"><figcaption>{}</figcaption><div class=\"scroll\"><table><thead><tr>",
        escape(&t.title)
    );
    for h in &t.header {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in &t.rows {
        out.push_str("<tr>");
        for c in row {
            let _ = write!(out, "<td>{}</td>", escape(c));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div></figure>");
}

/// `value` as JSON that can sit inside a `<script>` element: `<`, `>` and `&` as `\u003c`,
/// `\u003e`, `\u0026` (no `</script>` or `<!--` can form), U+2028 and U+2029 escaped. These
/// characters only occur inside JSON strings, where the escapes mean the same.
pub fn json_for_script(value: &serde_json::Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// The table of contents: the `#`..`###` headings of every markdown block, linked to the
/// anchors [`render_with`] gives them.
fn toc(export: &Export) -> String {
    let mut anchors = Anchors::default();
    let entries: Vec<TocEntry> = export
        .blocks
        .iter()
        .filter_map(|b| match &b.content {
            ExportContent::Markdown(text) => Some(contents_with(text, &mut anchors)),
            ExportContent::Grid(_) => None,
        })
        .flatten()
        .collect();
    if entries.is_empty() {
        return String::new();
    }
    let mut out = String::from("<nav class=\"toc\"><h2>Contents</h2><ul>");
    for e in &entries {
        let _ = write!(
            out,
            "<li class=\"l{}\"><a href=\"#{}\">{}</a></li>",
            e.level,
            escape(&e.anchor),
            escape(&e.text)
        );
    }
    out.push_str("</ul></nav>\n");
    out
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_vectors() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), coded);
        }
        // The CSP example hash of `alert('Hello, world.');` (MDN, CSP script-src).
        assert_eq!(
            csp_hash("alert('Hello, world.');"),
            "sha256-qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng="
        );
    }

    #[test]
    fn json_in_a_script_cannot_close_it() {
        let v = serde_json::json!({"name": "</script><script>alert(1)</script>\u{2028}<!--&"});
        let s = json_for_script(&v);
        assert!(
            !s.contains('<') && !s.contains('>') && !s.contains('&'),
            "{s}"
        );
        assert!(!s.contains('\u{2028}'));
        assert_eq!(serde_json::from_str::<serde_json::Value>(&s).unwrap(), v);
    }
}
