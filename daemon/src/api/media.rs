//! A run's logged media: `GET …/runs/{run}/media` (its media keys) and `GET …/runs/{run}/media/entries`
//! (one key's values). The files the values name are served by `files.rs`.

use super::extract::{PathParams, QueryParams};
use super::{AppState, blocking};
use crate::error::Result;
use crate::query;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use trackline_shared::media::{MediaEntry, MediaKeyInfo};

pub async fn keys(
    State(s): State<AppState>,
    PathParams((project, run)): PathParams<(String, String)>,
) -> Result<Json<Vec<MediaKeyInfo>>> {
    let run = query::run(&s.store, &project, &run)?;
    let store = s.store.clone();
    blocking(move || query::media::keys(&store, &run))
        .await
        .map(Json)
}

#[derive(Deserialize)]
pub struct EntriesQuery {
    key: String,
    #[serde(default)]
    from: u64,
    limit: Option<usize>,
}

pub async fn entries(
    State(s): State<AppState>,
    PathParams((project, run)): PathParams<(String, String)>,
    QueryParams(q): QueryParams<EntriesQuery>,
) -> Result<Json<Vec<MediaEntry>>> {
    let run = query::run(&s.store, &project, &run)?;
    let store = s.store.clone();
    blocking(move || query::media::entries(&store, &run, &q.key, q.from, q.limit))
        .await
        .map(Json)
}
