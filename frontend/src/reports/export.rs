//! The export menu: the daemon's HTML file (one self-contained page that works offline) and the
//! Markdown zip (`report.md` with SVG charts), both downloads of the version this page shows.
//! The links are relative, so they resolve against the document's `<base href>` like every API
//! call, and carry `download` so the router leaves them to the browser.
//!
//! Test ids: `report-export` (the menu), `export-html`, `export-md`.

use leptos::prelude::*;

use super::{export_url, use_report};

#[component]
pub fn ExportMenu() -> impl IntoView {
    let ctx = use_report();
    let (project, report) = (ctx.project(), ctx.report.get_value());
    let version = move || {
        if ctx.a.writer.get() {
            "draft"
        } else {
            "published"
        }
    };
    let html = {
        let (p, r) = (project.clone(), report.clone());
        move || format!("{}?version={}", export_url(&p, &r, "html"), version())
    };
    let zip = move || {
        format!(
            "{}?version={}",
            export_url(&project, &report, "zip"),
            version()
        )
    };
    view! {
        <details class="rp-export" data-testid="report-export">
            <summary class="btn small">"Export"</summary>
            <div class="rp-export-menu">
                <a href=html download="" rel="external" data-testid="export-html">
                    "Download HTML"
                </a>
                <a href=zip download="" rel="external" data-testid="export-md">
                    "Download Markdown (.zip)"
                </a>
            </div>
        </details>
    }
}
