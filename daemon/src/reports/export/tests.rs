//! The export's promises on hostile input: nothing a user wrote becomes markup or script in the
//! HTML, the Markdown or the SVG; the CSP's hashes are those of the inline bytes.

use super::*;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use trackline_shared::reports::{Block, BlockContent, Panel};

const EVIL: &str = "</script><script>alert(1)</script><img src=x onerror=alert(2)>";

fn line(label: &str) -> Line {
    Line {
        label: label.into(),
        color: "#1f77b4",
        group: false,
        x: vec![0.0, 1.0, 2.0],
        y: vec![Some(1.0), None, Some(0.5)],
        lo: vec![Some(0.9), None, Some(0.4)],
        hi: vec![Some(1.1), None, Some(0.6)],
        smooth: Vec::new(),
    }
}

/// A report whose every user-written string is hostile.
pub(crate) fn hostile() -> Export {
    let chart = Chart {
        key: format!("loss{EVIL}"),
        x_name: "step".into(),
        x_time: false,
        x_log: false,
        y_log: false,
        window: Some((0.0, 2.0)),
        group_by: None,
        lines: vec![line(&format!("run {EVIL} \u{2028}"))],
        runs: 1,
    };
    Export {
        report_id: "r1".into(),
        project: format!("p{EVIL}"),
        title: format!("Title {EVIL}"),
        version_label: "draft".into(),
        seq: 7,
        at_secs: 86_400.0,
        runs: 1,
        blocks: vec![
            ExportBlock {
                id: "b\"1".into(),
                content: ExportContent::Markdown(format!(
                    "# Intro {EVIL}\n[click](javascript:alert(3)) [x](JaVa\tScRiPt:alert(4)) \
                     <a href=\"javascript:alert(5)\">a</a>\n\n```\n{EVIL}\n```"
                )),
            },
            ExportBlock {
                id: "grid/../../x".into(),
                content: ExportContent::Grid(Grid {
                    runs: 1,
                    error: None,
                    panels: vec![
                        ExportPanel::Line { chart, wide: true },
                        ExportPanel::Table(Table {
                            title: "Runs".into(),
                            header: vec!["name".into(), format!("config.{EVIL}")],
                            rows: vec![vec![format!("a|b {EVIL}"), "1".into()]],
                        }),
                    ],
                }),
            },
        ],
    }
}

/// The text between the first `open` and the next `close` after it.
fn between<'a>(s: &'a str, open: &str, close: &str) -> &'a str {
    let a = s.find(open).unwrap() + open.len();
    let b = a + s[a..].find(close).unwrap();
    &s[a..b]
}

/// The tags of the page's body before its scripts (every `<` a user wrote is escaped, so each one
/// there starts a real tag): each tag's text with its quoted attribute values taken out, and those
/// values.
fn body_tags(page: &str) -> Vec<(String, Vec<String>)> {
    let body = between(page, "<body>", "<script type=");
    body.split('<')
        .skip(1)
        .map(|t| {
            let tag = &t[..t.find('>').unwrap()];
            let parts: Vec<&str> = tag.split('"').collect();
            let outside: String = parts.iter().step_by(2).copied().collect();
            let values = parts
                .iter()
                .skip(1)
                .step_by(2)
                .map(|v| v.to_string())
                .collect();
            (outside, values)
        })
        .collect()
}

#[test]
fn html_turns_every_user_string_into_text() {
    let page = html::render_page(&hostile());
    // Exactly the page's own two scripts, the data block and the inline script.
    assert_eq!(page.matches("<script").count(), 2, "{page}");
    assert_eq!(page.matches("</script>").count(), 2);
    for (tag, values) in body_tags(&page) {
        let name = tag.split_whitespace().next().unwrap_or("");
        assert!(
            !["script", "img", "iframe", "object", "embed", "svg", "style"].contains(&name),
            "<{tag}>"
        );
        assert!(!tag.contains(" on") && !tag.contains(" style="), "<{tag}>");
        for v in values {
            let v = v.to_ascii_lowercase();
            assert!(
                !v.contains("javascript") && !v.starts_with("data:"),
                "<{tag}> {v}"
            );
        }
    }
    assert!(page.contains("&lt;/script&gt;&lt;script&gt;alert(1)"));
    // The data block parses back to the very strings.
    let data = between(
        &page,
        "<script type=\"application/json\" id=\"report-data\">",
        "</script>",
    );
    let v: serde_json::Value = serde_json::from_str(data).unwrap();
    assert_eq!(
        v["charts"][0]["lines"][0]["label"],
        format!("run {EVIL} \u{2028}")
    );
    assert!(!data.contains('\u{2028}'));
    // The footer says what it is a snapshot of, escaped.
    let footer = between(&page, "<footer data-testid=\"report-footer\">", "</footer>");
    assert!(
        footer.starts_with("Snapshot of report Title &lt;/script&gt;"),
        "{footer}"
    );
    assert!(footer.contains("(draft) at 1970-01-02 00:00:00 UTC, op-log seq 7, 1 run, Trackline "));
    // The block id is an attribute value, quoted.
    assert!(page.contains("id=\"block-b&quot;1\""));
}

#[test]
fn the_csp_allows_exactly_the_inline_style_and_script() {
    let page = html::render_page(&hostile());
    let csp = between(
        &page,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"",
        "\"",
    );
    let style = between(&page, "<style>", "</style>");
    let script = &page[page.rfind("<script>").unwrap() + 8..page.rfind("</script>").unwrap()];
    assert_eq!(style, html::CSS);
    assert_eq!(script, html::JS);
    let digest = Sha256::digest(script.as_bytes());
    assert_eq!(
        html::csp_hash(script).len(),
        "sha256-".len() + digest.len().div_ceil(3) * 4
    );
    assert_eq!(
        csp,
        format!(
            "default-src 'none'; script-src '{}'; style-src '{}'; img-src data:; base-uri 'none'; \
             form-action 'none'",
            html::csp_hash(script),
            html::csp_hash(style)
        )
    );
    assert!(!csp.contains("unsafe"));
    // No other inline code a CSP would have to allow: no style attribute, no handler.
    for (tag, _) in body_tags(&page) {
        assert!(!tag.contains(" style=") && !tag.contains(" on"), "<{tag}>");
    }
}

#[test]
fn markdown_escapes_what_the_export_writes_itself() {
    let files = md::render_files(&hostile());
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["report.md", "charts/grid_______x-1.svg"]);
    let text = String::from_utf8(files[0].1.clone()).unwrap();
    assert!(
        text.starts_with("# Title &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{text}"
    );
    assert!(text.contains("![loss&lt;/script&gt;"));
    assert!(text.contains("](charts/grid_______x-1.svg)"));
    // The table: a `|` in a cell does not split it.
    assert!(text.contains("| a\\|b &lt;/script&gt;"), "{text}");
    let table_row = text.lines().find(|l| l.starts_with("| a")).unwrap();
    assert_eq!(table_row.matches(" | ").count(), 1, "{table_row}");
    assert!(text.contains("op-log seq 7, 1 run, Trackline "));
}

/// Checks that `svg` is well-formed XML in the subset it uses: balanced tags, quoted attributes,
/// no `<` or bare `&` in text or attribute values.
fn well_formed(svg: &str) {
    let mut stack: Vec<&str> = Vec::new();
    let mut rest = svg;
    while let Some(at) = rest.find('<') {
        check_text(&rest[..at]);
        let end = rest[at..].find('>').expect("an unclosed tag") + at;
        let tag = &rest[at + 1..end];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop(), Some(name), "mismatched </{name}>");
        } else {
            let self_closing = tag.ends_with('/');
            let body = tag.trim_end_matches('/');
            let name = body.split_whitespace().next().unwrap();
            let attrs = &body[name.len()..];
            // Attribute values: quoted, no `<` inside.
            assert_eq!(
                attrs.matches('"').count() % 2,
                0,
                "unquoted value in <{tag}>"
            );
            for (i, part) in attrs.split('"').enumerate() {
                if i % 2 == 1 {
                    check_text(part);
                }
            }
            if !self_closing {
                stack.push(name);
            }
        }
        rest = &rest[end + 1..];
    }
    check_text(rest);
    assert!(stack.is_empty(), "unclosed: {stack:?}");
}

fn check_text(t: &str) {
    assert!(!t.contains('<'), "{t}");
    for (i, _) in t.match_indices('&') {
        let entity = &t[i..t[i..].find(';').map_or(t.len(), |e| i + e + 1)];
        assert!(
            ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"].contains(&entity),
            "bare & in {t}"
        );
    }
}

#[test]
fn svg_is_well_formed_with_hostile_text() {
    let export = hostile();
    let ExportContent::Grid(g) = &export.blocks[1].content else {
        unreachable!()
    };
    let ExportPanel::Line { chart, .. } = &g.panels[0] else {
        unreachable!()
    };
    let svg = svg::render(chart);
    well_formed(&svg);
    assert!(!svg.contains("<script"));
    assert!(svg.contains("&lt;/script&gt;"));
    assert!(svg.contains("<path d=\"M"), "the line is drawn: {svg}");
    // Its two points have no neighbour (a gap between them): each is a dot.
    assert_eq!(svg.matches("<circle").count(), 2, "{svg}");
    let mut empty = chart.clone();
    empty.window = None;
    empty.lines.clear();
    well_formed(&svg::render(&empty));
}

#[test]
fn a_deleted_or_unpublished_report_is_not_found() {
    use trackline_shared::annotations::Author;
    use trackline_shared::reports::Report;
    let who = Author {
        id: "local".into(),
        label: "local".into(),
    };
    let report = Report {
        id: "r".into(),
        project: "p".into(),
        title: "t".into(),
        title_rev: 1,
        blocks: Vec::new(),
        published: None,
        created_by: who.clone(),
        created_ms: 0.0,
        updated_by: who,
        updated_ms: 0.0,
        deleted: false,
    };
    let store = Store::new(crate::store::StoreSettings::default());
    let snap = |report: Report| ReportSnapshot { seq: 3, report };
    let draft = collect(&store, &snap(report.clone()), Version::Draft, 0.0).unwrap();
    assert_eq!(
        (draft.seq, draft.runs, draft.version_label.as_str()),
        (3, 0, "draft")
    );
    assert!(matches!(
        collect(&store, &snap(report.clone()), Version::Published, 0.0),
        Err(Error::NotFound(_))
    ));
    let gone = Report {
        deleted: true,
        ..report
    };
    assert!(matches!(
        collect(&store, &snap(gone), Version::Draft, 0.0),
        Err(Error::NotFound(_))
    ));
}

/// A data dir with runs `(id, lr, loss per step)` of project `p`, read into a store.
fn store_with(runs: &[(&str, f64, &[f64])]) -> (tempfile::TempDir, Store) {
    let root = tempfile::tempdir().unwrap();
    for (i, (id, lr, losses)) in runs.iter().enumerate() {
        let dir = root.path().join("p").join(id);
        std::fs::create_dir_all(&dir).unwrap();
        let created = 1000.0 + i as f64;
        std::fs::write(
            dir.join("run.json"),
            serde_json::json!({"id": id, "name": format!("{id}-net"), "created_at": created,
                "state": "finished"})
            .to_string(),
        )
        .unwrap();
        std::fs::write(
            dir.join("config.json"),
            serde_json::json!({ "lr": lr }).to_string(),
        )
        .unwrap();
        let lines: String = losses
            .iter()
            .enumerate()
            .map(|(s, v)| format!("{{\"_step\": {s}, \"_timestamp\": {created}, \"loss\": {v}}}\n"))
            .collect();
        std::fs::write(dir.join("history.jsonl"), lines).unwrap();
    }
    let store = Arc::new(Store::new(crate::store::StoreSettings::default()));
    let db = crate::db::Db::open_in(&root.path().join(".trackline")).unwrap();
    crate::ingest::Ingest::new(root.path().to_owned(), store.clone(), db.run_index())
        .scan(true)
        .unwrap();
    let store = Arc::try_unwrap(store).unwrap_or_else(|_| panic!("the store is still shared"));
    (root, store)
}

fn grid_report(filter: &str, panels: Vec<Panel>) -> ReportSnapshot {
    use trackline_shared::annotations::Author;
    use trackline_shared::reports::{PanelGrid, Report, RunSet};
    ReportSnapshot {
        seq: 1,
        report: Report {
            id: "r".into(),
            project: "p".into(),
            title: "t".into(),
            title_rev: 1,
            blocks: vec![Block {
                id: "g".into(),
                rev: 1,
                content: BlockContent::PanelGrid(PanelGrid {
                    runset: RunSet {
                        filter: filter.into(),
                        ..Default::default()
                    },
                    panels,
                }),
                updated_by: Author::default(),
                updated_ms: 0.0,
            }],
            published: None,
            created_by: Author::default(),
            created_ms: 0.0,
            updated_by: Author::default(),
            updated_ms: 0.0,
            deleted: false,
        },
    }
}

fn only_chart(export: &Export) -> &Chart {
    let ExportContent::Grid(g) = &export.blocks[0].content else {
        panic!("not a grid")
    };
    match &g.panels[0] {
        ExportPanel::Line { chart, .. } => chart,
        other => panic!("not a chart: {other:?}"),
    }
}

#[test]
fn a_grid_charts_its_run_set_by_run_and_by_group() {
    use trackline_shared::chart::{Agg, Band, ChartSettings};
    let (_root, store) = store_with(&[
        ("a", 0.1, &[1.0, 2.0, 3.0]),
        ("b", 0.1, &[3.0, 4.0, 5.0]),
        ("c", 0.01, &[-1.0, 10.0, 20.0]),
    ]);
    let line = |settings: ChartSettings| Panel::Line {
        key: "loss".into(),
        settings,
        wide: false,
    };
    // Ungrouped, over the runs the filter keeps, newest first; a log y axis drops values <= 0.
    let snapshot = grid_report(
        "config.lr > 0.001",
        vec![line(ChartSettings {
            y_log: true,
            ..Default::default()
        })],
    );
    let export = collect(&store, &snapshot, Version::Draft, 2000.0).unwrap();
    assert_eq!(export.runs, 3);
    let chart = only_chart(&export);
    assert_eq!(chart.window, Some((0.0, 2.0)));
    let labels: Vec<&str> = chart.lines.iter().map(|l| l.label.as_str()).collect();
    assert_eq!(labels, ["c-net", "b-net", "a-net"]);
    assert_eq!(chart.lines[0].x, [0.0, 1.0, 2.0]);
    assert_eq!(chart.lines[0].y, [None, Some(10.0), Some(20.0)]);
    assert_eq!(
        chart.lines[0].color,
        trackline_shared::chart::run_color("c")
    );
    // One point per column: no min–max spans to draw or ship.
    assert!(chart.lines[0].lo.is_empty() && chart.lines[0].hi.is_empty());
    // Grouped by lr: the mean of a and b per column, their min–max band.
    let snapshot = grid_report(
        "",
        vec![line(ChartSettings {
            group_by: Some("config.lr".into()),
            agg: Agg::Mean,
            band: Band::MinMax,
            ..Default::default()
        })],
    );
    let export = collect(&store, &snapshot, Version::Draft, 2000.0).unwrap();
    let chart = only_chart(&export);
    let groups: Vec<(&str, bool)> = chart
        .lines
        .iter()
        .map(|l| (l.label.as_str(), l.group))
        .collect();
    assert_eq!(groups, [("0.01", true), ("0.1", true)]);
    let g = &chart.lines[1];
    assert_eq!(g.y, [Some(2.0), Some(3.0), Some(4.0)]);
    assert_eq!(g.lo, [Some(1.0), Some(2.0), Some(3.0)]);
    assert_eq!(g.hi, [Some(3.0), Some(4.0), Some(5.0)]);
    assert_eq!(g.color, trackline_shared::chart::run_color("0.1"));
    // A filter that does not parse is said, with no panels.
    let export = collect(
        &store,
        &grid_report("config.lr <", vec![]),
        Version::Draft,
        0.0,
    )
    .unwrap();
    let ExportContent::Grid(g) = &export.blocks[0].content else {
        panic!("not a grid")
    };
    assert!(
        g.error
            .as_deref()
            .unwrap()
            .starts_with("the run set's filter does not parse")
    );
}

#[test]
fn a_half_row_chart_is_decimated_into_half_the_columns_of_a_wide_one() {
    let losses: Vec<f64> = (0..3000).map(|s| 1.0 / (f64::from(s) + 1.0)).collect();
    let (_root, store) = store_with(&[("a", 0.1, &losses)]);
    let columns = |wide: bool| {
        let snapshot = grid_report(
            "",
            vec![Panel::Line {
                key: "loss".into(),
                settings: Default::default(),
                wide,
            }],
        );
        let export = collect(&store, &snapshot, Version::Draft, 2000.0).unwrap();
        only_chart(&export).lines[0].x.len()
    };
    let (half, wide) = (columns(false), columns(true));
    assert!(
        half <= HALF_CHART_COLUMNS as usize && half > HALF_CHART_COLUMNS as usize * 9 / 10,
        "{half}"
    );
    assert!(
        wide <= CHART_COLUMNS as usize && wide > CHART_COLUMNS as usize * 9 / 10,
        "{wide}"
    );
}
