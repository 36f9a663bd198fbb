//! Trackline's web app (Leptos, client-side rendered, compiled to WASM and embedded in the daemon).
//!
//! Routes, each its own URL so deep links survive a reload (the daemon serves `index.html` for every
//! path outside `/api` and `/assets`):
//!
//! - `/`: projects ([`pages::ProjectsPage`])
//! - `/projects/:project`: the project's runs ([`pages::RunsPage`])
//! - `/projects/:project/runs/:run`: one run with a live chart per metric ([`pages::RunPage`])
//! - `/projects/:project/compare?runs=a,b`: config and summary of runs side by side
//!   ([`pages::ComparePage`])
//! - `/projects/:project/reports`: the project's reports ([`reports::ReportsPage`])
//! - `/projects/:project/reports/:report`: one report ([`reports::ReportPage`])
//! - `/projects/:project/artifacts`: the project's artifacts ([`artifacts::ArtifactsPage`])
//! - `/projects/:project/artifacts/:name/:version`: one artifact version ([`artifacts::VersionPage`])
//! - `/projects/:project/sweeps`: the project's sweeps ([`sweeps::SweepsPage`])
//! - `/projects/:project/sweeps/:sweep`: one sweep ([`sweeps::SweepPage`])
//! - `/projects/:project/new-sweep?runs=a,b`: a new sweep from runs ([`sweeps::NewSweepPage`])
//!
//! All requests use URLs relative to the document's `<base href>` (`api/...`, `api/ws`), so the app
//! also works when the daemon is mounted under a path prefix. Data comes from the REST API
//! ([`api`]) and stays live through one WebSocket connection per page ([`ws`]). Chart math lives in
//! [`charts`] as plain functions, unit-tested on the host.

pub mod annotations;
pub mod api;
pub mod artifacts;
pub mod browser;
pub mod charts;
pub mod components;
pub mod live;
pub mod media;
pub mod pages;
pub mod presence;
pub mod reports;
pub mod run_feed;
pub mod selection;
pub mod share;
pub mod sweeps;
pub mod table;
pub mod util;
pub mod workspace;
pub mod ws;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;
use std::time::Duration;

#[component]
pub fn App() -> impl IntoView {
    let status = RwSignal::new(ws::Status::Reconnecting);
    ws::start(status);
    share::start();
    let clock = browser::Clock(RwSignal::new(browser::now_secs()));
    provide_context(clock);
    set_interval(
        move || clock.0.set(browser::now_secs()),
        Duration::from_secs(1),
    );

    let base = browser::base_path();
    let router_base = (!base.is_empty()).then(|| base.to_string());

    view! {
        <Router base=router_base.unwrap_or_default()>
            <header class="top">
                <a class="brand" href=browser::href("/")>
                    "Trackline"
                </a>
                <span class="spacer"></span>
                <presence::PresenceBar />
                <share::ShareButton />
                <span
                    class=move || format!("ws-status {}", status.get().as_str())
                    data-testid="ws-status"
                    title="Live updates over WebSocket"
                >
                    {move || status.get().as_str()}
                </span>
            </header>
            <main>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=pages::ProjectsPage />
                    <Route path=path!("/projects/:project") view=pages::RunsPage />
                    <Route path=path!("/projects/:project/runs/:run") view=pages::RunPage />
                    <Route path=path!("/projects/:project/compare") view=pages::ComparePage />
                    <Route path=path!("/projects/:project/reports") view=reports::ReportsPage />
                    <Route path=path!("/projects/:project/reports/:report") view=reports::ReportPage />
                    <Route path=path!("/projects/:project/artifacts") view=artifacts::ArtifactsPage />
                    <Route path=path!("/projects/:project/artifacts/:name/:version") view=artifacts::VersionPage />
                    <Route path=path!("/projects/:project/sweeps") view=sweeps::SweepsPage />
                    <Route path=path!("/projects/:project/new-sweep") view=sweeps::NewSweepPage />
                    <Route path=path!("/projects/:project/sweeps/:sweep") view=sweeps::SweepPage />
                </Routes>
            </main>
            <share::UnauthorizedPage />
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <h1>"Not found"</h1>
        <p>
            "Nothing lives at this address. " <a href=browser::href("/")>"Back to the projects"</a>
        </p>
    }
}
