//! Loading a logged table: the files of the value at the chosen step (an incremental table's
//! earlier increments, then its own file) fetched as bytes and parsed once into typed columns
//! ([`trackline_shared::media_table::Table`]), timed as `tl:media-table:parse`.

use leptos::prelude::*;
use leptos::task::spawn_local;
use std::sync::Arc;
use trackline_shared::media::MediaEntry;
use trackline_shared::media_table::{Table, increment_paths};

use crate::api;
use crate::browser::{measure, perf_now as now_ms};
use crate::media::{entry_at, file_url};

/// The step and files of the table shown at `step` (the newest when `None`).
pub fn files_at(entries: &[MediaEntry], step: Option<f64>) -> Option<(f64, Vec<String>)> {
    let e = entry_at(entries, step)?;
    let paths = increment_paths(&e.value);
    (!paths.is_empty()).then_some((e.step, paths))
}

/// A table being loaded: the files asked for and, once read, the table or why it could not be.
pub type Loaded = Option<(Vec<String>, Result<Arc<Table>, String>)>;

/// Loads the table made of `files` of `run` whenever they change; an answer for files no longer
/// wanted is dropped.
pub fn use_table(
    project: String,
    run: String,
    files: Memo<Option<Vec<String>>>,
) -> RwSignal<Loaded> {
    let loaded = RwSignal::new(None::<(Vec<String>, Result<Arc<Table>, String>)>);
    Effect::new(move |_| {
        let Some(paths) = files.get() else {
            loaded.set(None);
            return;
        };
        if loaded.with_untracked(|l| l.as_ref().is_some_and(|(p, _)| *p == paths)) {
            return;
        }
        let urls: Vec<String> = paths.iter().map(|p| file_url(&project, &run, p)).collect();
        spawn_local(async move {
            let t0 = now_ms();
            let result = read_table(&urls).await;
            if let Ok(t) = &result {
                measure(
                    "tl:media-table:parse",
                    t0,
                    now_ms(),
                    &format!("{} rows", t.nrows),
                );
            }
            if files.try_get_untracked().flatten().as_ref() == Some(&paths) {
                loaded.try_set(Some((paths, result.map(Arc::new))));
            }
        });
    });
    loaded
}

async fn read_table(urls: &[String]) -> Result<Table, String> {
    let mut parts = Vec::with_capacity(urls.len());
    for url in urls {
        parts.push(fetch_text(url).await?);
    }
    Table::parse_parts(&parts).map_err(|e| format!("the table file could not be read: {e}"))
}

/// GETs `url` as UTF-8 text from the body's bytes (no UTF-16 round trip through a JS string).
async fn fetch_text(url: &str) -> Result<String, String> {
    let bytes = api::get_bytes(url).await.map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|_| "the table file is not UTF-8".to_string())
}
