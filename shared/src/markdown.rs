//! A small, safe markdown renderer for notes, comments and report text: text in, escaped HTML out.
//!
//! Supported: ATX headings (`#`..`######`, each with an `id` anchor: `md-` and its [`slug`],
//! `-2`, `-3`, ... on repeats; [`contents`] lists them for a table of contents), paragraphs (a newline inside one is a line break),
//! `*em*`/`_em_`, `**strong**`/`__strong__`, `` `code` ``, fenced code blocks (```` ``` ````), `-`/`*`/`+`
//! and `1.` lists, `[text](url)` links (`![alt](url)` becomes a link too: no remote images) and
//! backslash escapes. Everything else is text.
//!
//! Safety: every character of the input reaches the output escaped (`& < > " '`), so raw HTML is
//! shown as text and never parsed. A link keeps its `href` only for `http:`, `https:`, `mailto:`
//! or a relative URL, judged after decoding character references and dropping whitespace and
//! control characters, case-insensitively (`JaVa\tScRiPt:`, `&#106;avascript:` and `data:` lose
//! the link and keep their text). Work is linear in the input: closers are found through
//! precomputed next-occurrence tables, and nesting is capped at [`MAX_DEPTH`].

use std::collections::{HashMap, HashSet};

/// Deepest nesting of emphasis and links; deeper markers are text.
pub const MAX_DEPTH: usize = 8;

/// `s` with `& < > " '` escaped for HTML text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    out
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#39;"),
        c => out.push(c),
    }
}

/// Renders `src` to HTML that is safe to set as `innerHTML`.
pub fn render(src: &str) -> String {
    render_with(src, &mut Anchors::default())
}

/// [`render`] with heading anchors handed out by `anchors`: render several texts that make one
/// page (a report's blocks) with one [`Anchors`] and their ids stay unique; [`contents_with`] in
/// the same order and with a fresh [`Anchors`] gives the same ids.
pub fn render_with(src: &str, anchors: &mut Anchors) -> String {
    let text = src.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out = String::with_capacity(text.len() + 64);
    let mut para: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start_matches(' ');
        let indent = line.len() - trimmed.len();
        if line.trim().is_empty() {
            flush_para(&mut out, &mut para);
            i += 1;
        } else if indent < 4 && trimmed.starts_with("```") {
            flush_para(&mut out, &mut para);
            let fence = trimmed.chars().take_while(|&c| c == '`').count();
            let lang = trimmed[fence..].trim();
            i += 1;
            let mut code = Vec::new();
            while i < lines.len() {
                let t = lines[i].trim();
                if t.len() >= fence && t.chars().all(|c| c == '`') {
                    i += 1;
                    break;
                }
                code.push(lines[i]);
                i += 1;
            }
            out.push_str("<pre><code");
            if let Some(word) = lang.split_whitespace().next().filter(|w| {
                w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '+')
            }) {
                out.push_str(" class=\"language-");
                out.push_str(&escape(word));
                out.push('"');
            }
            out.push('>');
            out.push_str(&escape(&code.join("\n")));
            out.push_str("</code></pre>");
        } else if let Some((level, rest)) = heading(trimmed).filter(|_| indent < 4) {
            flush_para(&mut out, &mut para);
            let html = inline(rest, 0);
            let id = anchors.next(&plain_text(&html));
            out.push_str(&format!("<h{level} id=\"{}\">", escape(&id)));
            out.push_str(&html);
            out.push_str(&format!("</h{level}>"));
            i += 1;
        } else if let Some(item) = list_item(trimmed).filter(|_| indent < 4) {
            flush_para(&mut out, &mut para);
            let ordered = item.start.is_some();
            match item.start {
                Some(n) if n != 1 => out.push_str(&format!("<ol start=\"{n}\">")),
                Some(_) => out.push_str("<ol>"),
                None => out.push_str("<ul>"),
            }
            while i < lines.len() {
                let t = lines[i].trim_start_matches(' ');
                match list_item(t) {
                    Some(it) if it.start.is_some() == ordered => {
                        out.push_str("<li>");
                        out.push_str(&inline(it.text, 0));
                        out.push_str("</li>");
                        i += 1;
                    }
                    _ => break,
                }
            }
            out.push_str(if ordered { "</ol>" } else { "</ul>" });
        } else {
            para.push(line.trim());
            i += 1;
        }
    }
    flush_para(&mut out, &mut para);
    out
}

fn flush_para(out: &mut String, para: &mut Vec<&str>) {
    if para.is_empty() {
        return;
    }
    out.push_str("<p>");
    for (k, line) in para.iter().enumerate() {
        if k > 0 {
            out.push_str("<br>");
        }
        out.push_str(&inline(line, 0));
    }
    out.push_str("</p>");
    para.clear();
}

/// A heading for a table of contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TocEntry {
    /// 1 to 3 (`#` to `###`).
    pub level: u8,
    /// The heading as the page shows it, as plain text (markup dropped, not escaped).
    pub text: String,
    /// The heading element's `id` (link to `#` and this).
    pub anchor: String,
}

/// The `#`, `##` and `###` headings of `src` in order, found as [`render`] finds them (outside
/// fenced code, indented less than four spaces), with the anchors it gives them.
pub fn contents(src: &str) -> Vec<TocEntry> {
    contents_with(src, &mut Anchors::default())
}

/// [`contents`] of one of several texts that make a page (see [`render_with`]).
pub fn contents_with(src: &str, anchors: &mut Anchors) -> Vec<TocEntry> {
    let text = src.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = Vec::new();
    let mut fence: Option<usize> = None;
    for line in text.split('\n') {
        if let Some(n) = fence {
            let t = line.trim();
            if t.len() >= n && t.chars().all(|c| c == '`') {
                fence = None;
            }
            continue;
        }
        let trimmed = line.trim_start_matches(' ');
        let indent = line.len() - trimmed.len();
        if line.trim().is_empty() || indent >= 4 {
            continue;
        }
        if trimmed.starts_with("```") {
            fence = Some(trimmed.chars().take_while(|&c| c == '`').count());
        } else if let Some((level, rest)) = heading(trimmed) {
            // Every heading takes its anchor, so deeper ones shift the repeats' numbers as in
            // the rendered page.
            let text = plain_text(&inline(rest, 0));
            let anchor = anchors.next(&text);
            if level <= 3 {
                out.push(TocEntry {
                    level: level as u8,
                    text,
                    anchor,
                });
            }
        }
    }
    out
}

/// `(level, text)` of the `#`, `##` and `###` headings of `src` ([`contents`] without anchors).
pub fn headings(src: &str) -> Vec<(u8, String)> {
    contents(src)
        .into_iter()
        .map(|e| (e.level, e.text))
        .collect()
}

/// A heading's text as an anchor: lower case letters and digits, words joined by `-`, other
/// characters dropped (`Loss & accuracy (val)` → `loss-accuracy-val`); `section` when nothing
/// is left.
pub fn slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut gap = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('-');
            }
            gap = false;
            out.extend(c.to_lowercase());
        } else if c.is_whitespace() || c == '-' || c == '_' {
            gap = true;
        }
    }
    if out.is_empty() {
        out.push_str("section");
    }
    out
}

/// Heading anchors given out so far on one page: `md-` and the heading's [`slug`] (the prefix
/// keeps them apart from the app's own ids), then `-2`, `-3`, ... for repeats.
#[derive(Clone, Debug, Default)]
pub struct Anchors {
    used: HashSet<String>,
    /// The last number tried for each slug, so many repeats stay linear.
    tried: HashMap<String, usize>,
}

impl Anchors {
    /// The anchor of the next heading, whose text is `text`.
    pub fn next(&mut self, text: &str) -> String {
        let base = format!("md-{}", slug(text));
        let mut id = base.clone();
        let n = self.tried.entry(base.clone()).or_insert(1);
        while self.used.contains(&id) {
            *n += 1;
            id = format!("{base}-{n}");
        }
        self.used.insert(id.clone());
        id
    }
}

/// The text of rendered inline HTML: tags dropped (every `<` of the input was escaped, so each
/// one left is a tag), character references decoded.
fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn heading(t: &str) -> Option<(usize, &str)> {
    let level = t.chars().take_while(|&c| c == '#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let rest = &t[level..];
    if rest.is_empty() {
        return Some((level, ""));
    }
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let rest = rest.trim();
    // A closing run of `#` is not part of the text.
    let rest = rest.trim_end_matches('#');
    Some((level, rest.trim_end()))
}

struct Item<'a> {
    /// The number of an ordered item.
    start: Option<u32>,
    text: &'a str,
}

fn list_item(t: &str) -> Option<Item<'_>> {
    if let Some(rest) = t
        .strip_prefix("- ")
        .or_else(|| t.strip_prefix("* "))
        .or_else(|| t.strip_prefix("+ "))
    {
        return Some(Item {
            start: None,
            text: rest.trim(),
        });
    }
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    if (1..=9).contains(&digits) {
        let rest = &t[digits..];
        if let Some(rest) = rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") ")) {
            return Some(Item {
                start: t[..digits].parse().ok(),
                text: rest.trim(),
            });
        }
    }
    None
}

/// Where each marker next occurs, for one inline span: `next[c][i]` is the first index `>= i`
/// holding `c` (or `len`).
struct Next {
    chars: Vec<char>,
    single: HashMap<char, Vec<usize>>,
    double: HashMap<char, Vec<usize>>,
    /// Backtick runs by length: their start indices, ascending.
    ticks: HashMap<usize, Vec<usize>>,
}

const MARKS: [char; 5] = ['*', '_', ']', ')', '`'];

/// The `)` that closes a link destination starting at `from`: parentheses inside it may nest
/// when balanced (`https://en.wikipedia.org/wiki/Adam_(optimizer)`), as CommonMark allows. `b`
/// (or past it) when there is none; each character of the destination is looked at once.
fn balanced_paren(next: &Next, from: usize, b: usize) -> usize {
    let opens_in = |a: usize, z: usize| {
        next.chars[a.min(z)..z]
            .iter()
            .filter(|&&c| c == '(')
            .count()
    };
    let mut paren = next.one(')', from);
    if paren >= b {
        return paren;
    }
    let mut open = opens_in(from, paren);
    while open > 0 {
        let further = next.one(')', paren + 1);
        if further >= b {
            // Unbalanced: the first `)` ends it, as before.
            return next.one(')', from);
        }
        open = open - 1 + opens_in(paren + 1, further);
        paren = further;
    }
    paren
}

impl Next {
    fn new(s: &str) -> Next {
        let chars: Vec<char> = s.chars().collect();
        let n = chars.len();
        let mut single = HashMap::new();
        let mut double = HashMap::new();
        for m in MARKS {
            let mut one = vec![n; n + 1];
            let mut two = vec![n; n + 1];
            for i in (0..n).rev() {
                one[i] = if chars[i] == m { i } else { one[i + 1] };
                two[i] = if chars[i] == m && chars.get(i + 1) == Some(&m) {
                    i
                } else {
                    two[i + 1]
                };
            }
            single.insert(m, one);
            double.insert(m, two);
        }
        let mut ticks: HashMap<usize, Vec<usize>> = HashMap::new();
        let mut i = 0;
        while i < n {
            if chars[i] == '`' {
                let run = chars[i..].iter().take_while(|&&c| c == '`').count();
                ticks.entry(run).or_default().push(i);
                i += run;
            } else {
                i += 1;
            }
        }
        Next {
            chars,
            single,
            double,
            ticks,
        }
    }

    fn one(&self, c: char, from: usize) -> usize {
        self.single[&c][from.min(self.chars.len())]
    }

    fn two(&self, c: char, from: usize) -> usize {
        self.double[&c][from.min(self.chars.len())]
    }

    /// Start of the next backtick run of exactly `len` at or after `from`.
    fn tick_run(&self, len: usize, from: usize) -> Option<usize> {
        let runs = self.ticks.get(&len)?;
        let k = runs.partition_point(|&p| p < from);
        runs.get(k).copied()
    }
}

/// Renders inline markdown of one line or span.
fn inline(s: &str, depth: usize) -> String {
    let next = Next::new(s);
    let mut out = String::with_capacity(s.len() + 16);
    span(&next, 0, next.chars.len(), depth, true, &mut out);
    out
}

fn text_of(next: &Next, a: usize, b: usize) -> String {
    next.chars[a..b].iter().collect()
}

/// Renders `chars[a..b]` into `out`. `links`: whether links may start here (not inside a link).
fn span(next: &Next, a: usize, b: usize, depth: usize, links: bool, out: &mut String) {
    let c = &next.chars;
    let mut i = a;
    while i < b {
        let ch = c[i];
        match ch {
            '\\' if i + 1 < b && c[i + 1].is_ascii_punctuation() => {
                push_escaped(out, c[i + 1]);
                i += 2;
            }
            '`' => {
                let run = c[i..b].iter().take_while(|&&x| x == '`').count();
                match next.tick_run(run, i + run).filter(|&e| e + run <= b) {
                    Some(end) => {
                        let code = text_of(next, i + run, end);
                        out.push_str("<code>");
                        out.push_str(&escape(code.trim()));
                        out.push_str("</code>");
                        i = end + run;
                    }
                    None => {
                        for _ in 0..run {
                            out.push('`');
                        }
                        i += run;
                    }
                }
            }
            '*' | '_' if depth < MAX_DEPTH => {
                let strong = i + 1 < b && c[i + 1] == ch;
                let w = if strong { 2 } else { 1 };
                let opens = c.get(i + w).is_some_and(|x| !x.is_whitespace())
                    && (ch == '*' || i == 0 || !c[i - 1].is_alphanumeric());
                let close = if strong {
                    next.two(ch, i + 2)
                } else {
                    next.one(ch, i + 1)
                };
                let closes = opens
                    && close + w <= b
                    && close > i + w
                    && !c[close - 1].is_whitespace()
                    && (ch == '*' || c.get(close + w).is_none_or(|x| !x.is_alphanumeric()));
                if closes {
                    let tag = if strong { "strong" } else { "em" };
                    out.push_str(&format!("<{tag}>"));
                    span(next, i + w, close, depth + 1, links, out);
                    out.push_str(&format!("</{tag}>"));
                    i = close + w;
                } else {
                    for _ in 0..w {
                        out.push(ch);
                    }
                    i += w;
                }
            }
            '[' | '!' if links && depth < MAX_DEPTH => {
                let open = if ch == '!' { i + 1 } else { i };
                if ch == '!' && c.get(open) != Some(&'[') {
                    out.push('!');
                    i += 1;
                    continue;
                }
                let close = next.one(']', open + 1);
                let paren = balanced_paren(next, close + 2, b);
                if close < b && c.get(close + 1) == Some(&'(') && paren < b {
                    let dest = text_of(next, close + 2, paren);
                    let dest = dest.trim();
                    let (url, title) = dest.split_once(char::is_whitespace).unwrap_or((dest, ""));
                    let url = url
                        .strip_prefix('<')
                        .and_then(|u| u.strip_suffix('>'))
                        .unwrap_or(url);
                    // After the destination only a quoted title may follow.
                    let title = title.trim_start();
                    let well_formed = title.is_empty() || title.starts_with(['"', '\'']);
                    match safe_url(url).filter(|_| well_formed) {
                        Some(href) => {
                            out.push_str("<a href=\"");
                            out.push_str(&escape(&href));
                            out.push_str(
                                "\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">",
                            );
                            span(next, open + 1, close, depth + 1, false, out);
                            out.push_str("</a>");
                        }
                        // A refused link keeps its text and loses the destination.
                        None => span(next, open + 1, close, depth + 1, false, out),
                    }
                    i = paren + 1;
                } else {
                    push_escaped(out, ch);
                    i += 1;
                }
            }
            c => {
                push_escaped(out, c);
                i += 1;
            }
        }
    }
}

/// Decodes HTML character references (`&#106;`, `&#x6A;`, `&colon;`, ...) the way a browser
/// would in an attribute, for judging a URL.
fn decode_refs(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let after = &rest[1..];
        let (decoded, len) = if let Some(num) = after.strip_prefix('#') {
            let (radix, digits_at) = match num.strip_prefix(['x', 'X']) {
                Some(_) => (16, 2),
                None => (10, 1),
            };
            let digits: String = after[digits_at..]
                .chars()
                .take_while(|c| c.is_digit(radix))
                .collect();
            let significant = digits.trim_start_matches('0');
            let v = if digits.is_empty() {
                None
            } else if significant.len() > 8 {
                Some('\u{fffd}')
            } else {
                let v = u32::from_str_radix(significant, radix).unwrap_or(0);
                Some(char::from_u32(v).unwrap_or('\u{fffd}'))
            };
            (v, digits_at + digits.len())
        } else {
            let name: String = after
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .take(32)
                .collect();
            let ch = match name.to_ascii_lowercase().as_str() {
                "colon" => Some(':'),
                "tab" => Some('\t'),
                "newline" => Some('\n'),
                "amp" => Some('&'),
                "sol" => Some('/'),
                "lpar" => Some('('),
                "rpar" => Some(')'),
                "period" => Some('.'),
                "nbsp" => Some(' '),
                _ => None,
            };
            (ch, name.len())
        };
        match decoded {
            Some(ch) => {
                out.push(ch);
                let mut used = 1 + len;
                if rest[used..].starts_with(';') {
                    used += 1;
                }
                rest = &rest[used..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `href` to use for a link's destination, or `None` when it must not be a link: only
/// `http:`, `https:`, `mailto:` and relative URLs pass.
pub fn safe_url(raw: &str) -> Option<String> {
    // Decode twice, so `&amp;#106;` style double encoding is judged as the browser may see it.
    let decoded = decode_refs(&decode_refs(raw));
    // Browsers drop ASCII whitespace and control characters inside a scheme.
    let cleaned: String = decoded
        .chars()
        .filter(|c| !c.is_control() && !c.is_whitespace() && *c != '\u{fffd}')
        .collect();
    if cleaned.is_empty() {
        return None;
    }
    let lower = cleaned.to_ascii_lowercase();
    let before_path = lower.split(['/', '?', '#']).next().unwrap_or("");
    match before_path.split_once(':') {
        None => {
            // Relative. `\` is read as `/` by browsers: `\\evil.com` would be another host.
            if lower.contains('\\') {
                return None;
            }
            Some(cleaned)
        }
        Some((scheme, _)) => {
            if matches!(scheme, "http" | "https" | "mailto") {
                Some(cleaned)
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks() {
        assert_eq!(
            render("# Title\ntext"),
            "<h1 id=\"md-title\">Title</h1><p>text</p>"
        );
        assert_eq!(render("### a ##"), "<h3 id=\"md-a\">a</h3>");
        assert_eq!(render("#nope"), "<p>#nope</p>");
        assert_eq!(render("a\nb\n\nc"), "<p>a<br>b</p><p>c</p>");
        assert_eq!(
            render("- one\n- *two*\n\n3. x\n4. y"),
            "<ul><li>one</li><li><em>two</em></li></ul><ol start=\"3\"><li>x</li><li>y</li></ol>"
        );
        assert_eq!(
            render("```rust\nlet a = <b>;\n```\nafter"),
            "<pre><code class=\"language-rust\">let a = &lt;b&gt;;</code></pre><p>after</p>"
        );
        assert_eq!(
            render("```\nunclosed *x*"),
            "<pre><code>unclosed *x*</code></pre>"
        );
        assert_eq!(render(""), "");
        assert_eq!(render("a\r\nb"), "<p>a<br>b</p>");
    }

    #[test]
    fn headings_have_anchors_and_make_contents() {
        let md = "# Results ##\nintro\n## Loss & <b>acc</b> (val)\n#### deep\n```\n# not a heading\n```\n    # indented code\n#nospace\n###\n## **Results**\n## Results";
        assert_eq!(
            headings(md),
            [
                (1, "Results".to_string()),
                (2, "Loss & <b>acc</b> (val)".to_string()),
                (3, String::new()),
                (2, "Results".to_string()),
                (2, "Results".to_string()),
            ]
        );
        let toc = contents(md);
        let ids: Vec<&str> = toc.iter().map(|e| e.anchor.as_str()).collect();
        assert_eq!(
            ids,
            [
                "md-results",
                "md-loss-baccb-val",
                "md-section",
                "md-results-2",
                "md-results-3"
            ]
        );
        // The page's headings carry exactly those ids, deeper ones too, in the same order.
        let html = render(md);
        let mut rendered = Vec::new();
        for part in html.split("<h").skip(1) {
            if let Some(rest) = part.split_once(" id=\"") {
                rendered.push(rest.1.split('"').next().unwrap().to_string());
            }
        }
        assert_eq!(
            rendered,
            [
                "md-results",
                "md-loss-baccb-val",
                "md-deep",
                "md-section",
                "md-results-2",
                "md-results-3"
            ]
        );
        assert!(
            html.contains("<h2 id=\"md-results-2\"><strong>Results</strong></h2>"),
            "{html}"
        );
        assert!(html.contains("&lt;b&gt;acc&lt;/b&gt;"), "{html}");
        // Several texts of one page share their anchors.
        let (mut page, mut toc) = (Anchors::default(), Anchors::default());
        let first = render_with("# Intro", &mut page);
        let second = render_with("# Intro\n# Results 2\n# Results\n# Results", &mut page);
        assert_eq!(first, "<h1 id=\"md-intro\">Intro</h1>");
        assert!(second.starts_with("<h1 id=\"md-intro-2\">"), "{second}");
        let ids: Vec<String> = ["# Intro", "# Intro\n# Results 2\n# Results\n# Results"]
            .iter()
            .flat_map(|src| contents_with(src, &mut toc))
            .map(|e| e.anchor)
            .collect();
        assert_eq!(
            ids,
            [
                "md-intro",
                "md-intro-2",
                "md-results-2",
                "md-results",
                "md-results-3"
            ]
        );
        assert!(second.contains("<h1 id=\"md-results-3\">Results</h1>"));
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("Loss & accuracy (val)"), "loss-accuracy-val");
        assert_eq!(slug("  Über_große  Läufe -- 2 "), "über-große-läufe-2");
        assert_eq!(slug("val/loss"), "valloss");
        assert_eq!(slug("\"><script>"), "script");
        assert_eq!(slug("?!"), "section");
        assert_eq!(slug(""), "section");
    }

    #[test]
    fn inline_marks() {
        assert_eq!(
            render("**b** and *i* and __s__ and _e_"),
            "<p><strong>b</strong> and <em>i</em> and <strong>s</strong> and <em>e</em></p>"
        );
        assert_eq!(render("snake_case_name"), "<p>snake_case_name</p>");
        assert_eq!(render("2 * 3 * 4"), "<p>2 * 3 * 4</p>");
        assert_eq!(
            render("`a <b> *c*` \\*lit\\*"),
            "<p><code>a &lt;b&gt; *c*</code> *lit*</p>"
        );
        assert_eq!(render("``x ` y``"), "<p><code>x ` y</code></p>");
        assert_eq!(render("`open"), "<p>`open</p>");
        assert_eq!(
            render("[docs](https://e.x/a?b=1&c=2 \"t\")"),
            "<p><a href=\"https://e.x/a?b=1&amp;c=2\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">docs</a></p>"
        );
        assert_eq!(
            render("![img](runs/x.png)"),
            "<p><a href=\"runs/x.png\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">img</a></p>"
        );
        assert_eq!(render("[a] (b) [c"), "<p>[a] (b) [c</p>");
    }

    #[test]
    fn raw_html_is_text() {
        let out = render("<img src=x onerror=alert(1)> <script>alert(1)</script>");
        assert_eq!(
            out,
            "<p>&lt;img src=x onerror=alert(1)&gt; &lt;script&gt;alert(1)&lt;/script&gt;</p>"
        );
        assert!(!out.contains("<img") && !out.contains("<script"));
        assert_eq!(
            render("# <b onclick=\"x\">'hi'</b>"),
            "<h1 id=\"md-b-onclickxhib\">&lt;b onclick=&quot;x&quot;&gt;&#39;hi&#39;&lt;/b&gt;</h1>"
        );
        // A link's text and destination cannot break out of the attribute or the element.
        let out = render("[<i>x</i>](https://a.b/\"onmouseover=alert(1))");
        assert!(
            out.contains("href=\"https://a.b/&quot;onmouseover=alert(1)\""),
            "{out}"
        );
        assert!(out.contains("&lt;i&gt;x&lt;/i&gt;"), "{out}");
    }

    #[test]
    fn link_destinations_may_hold_balanced_parentheses() {
        let out = render("see [Adam](https://en.wikipedia.org/wiki/Adam_(optimizer)) here");
        assert!(
            out.contains("href=\"https://en.wikipedia.org/wiki/Adam_(optimizer)\""),
            "{out}"
        );
        assert!(
            out.ends_with(" here</p>") || out.contains("</a> here"),
            "{out}"
        );
        let out = render("[bad](javascript:alert(1)) after");
        assert!(!out.contains("<a "), "{out}");
        assert!(!out.contains(')'), "no stray parenthesis is left: {out}");
        // Unbalanced: the first `)` ends the destination, as before.
        let out = render("[x](https://e.x/a(b) c");
        assert!(out.contains("href=\"https://e.x/a(b\""), "{out}");
    }

    #[test]
    fn dangerous_links_lose_their_href() {
        for url in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            " javascript:alert(1)",
            "java\tscript:alert(1)",
            "java%0ascript:alert(1)x",
            "&#106;avascript:alert(1)",
            "&#x6A;avascript:alert(1)",
            "&#0000106avascript:alert(1)",
            "&#000000000000000106;avascript:alert(1)",
            "javascript&colon;alert(1)",
            "&amp;#106;avascript:alert(1)",
            "data:text/html;base64,PHNjcmlwdD4=",
            "DATA:text/html,x",
            "vbscript:msgbox(1)",
            "file:///etc/passwd",
            "\\\\evil.com/x",
            "",
        ] {
            let href = safe_url(url);
            assert_eq!(href, None, "{url:?} was allowed");
            let out = render(&format!("[click]({url})"));
            assert!(!out.contains("<a "), "{url:?}: {out}");
            assert!(out.contains("click"), "{url:?}: {out}");
        }
        for url in [
            "http://e.x",
            "HTTPS://e.x/p",
            "mailto:a@b.c",
            "/projects/p",
            "#x",
            "runs/a:b",
            "?q=1",
        ] {
            assert!(safe_url(url).is_some(), "{url:?} was refused");
        }
    }

    #[test]
    fn hostile_sizes_stay_linear() {
        for s in [
            "[".repeat(60_000),
            "*a".repeat(30_000),
            "**".repeat(30_000),
            "_".repeat(60_000),
            "`".repeat(60_000),
            "[a](".repeat(15_000),
            "*".repeat(20) + &"x".repeat(10) + &"*".repeat(20),
        ] {
            let t = std::time::Instant::now();
            let out = render(&s);
            assert!(!out.is_empty());
            assert!(
                t.elapsed() < std::time::Duration::from_secs(2),
                "{} chars took {:?}",
                s.len(),
                t.elapsed()
            );
        }
        // Nesting deeper than MAX_DEPTH is text, not a stack overflow.
        let deep = "*".repeat(200) + "x" + &"*".repeat(200);
        assert!(render(&deep).contains('x'));
    }
}
