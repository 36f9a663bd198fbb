//! Media the browser plays or shows by itself: audio and video players, logged HTML in a
//! sandboxed frame, and a download link for formats without a viewer.

use leptos::prelude::*;
use trackline_shared::media::{AudioRef, DocRef, FileRef, VideoRef};

use super::file_url;

/// Audio clips, each with its caption, sample rate and length when logged.
#[component]
pub fn AudioList(project: String, run: String, clips: Vec<AudioRef>) -> impl IntoView {
    clips
        .into_iter()
        .map(|clip| {
            let src = file_url(&project, &run, &clip.file.path);
            let facts = [
                clip.sample_rate.map(|r| format!("{r} Hz")),
                clip.duration.map(|d| format!("{d:.2} s")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ");
            view! {
                <figure class="media-item" data-testid="media-audio">
                    <audio controls=true preload="metadata" src=src></audio>
                    <figcaption>
                        {clip.caption.clone()}
                        <span class="faint">" "{facts}</span>
                    </figcaption>
                </figure>
            }
        })
        .collect_view()
}

/// Videos: a GIF is an image; mp4, webm and ogg play in a `<video>`.
#[component]
pub fn VideoList(project: String, run: String, videos: Vec<VideoRef>) -> impl IntoView {
    videos
        .into_iter()
        .map(|video| {
            let src = file_url(&project, &run, &video.file.path);
            let body = if video.format.as_deref() == Some("gif") {
                view! { <img class="media-video" src=src alt="" loading="lazy" /> }.into_any()
            } else {
                view! { <video class="media-video" controls=true preload="metadata" src=src></video> }
                    .into_any()
            };
            view! {
                <figure class="media-item" data-testid="media-video">
                    {body}
                    <figcaption>{video.caption.clone()}</figcaption>
                </figure>
            }
        })
        .collect_view()
}

/// Logged HTML pages, each in a frame sandboxed without `allow-same-origin`: its scripts run
/// in an opaque origin (the daemon also serves the file under a sandbox policy with no network),
/// so they cannot read this page, its cookies or the API.
#[component]
pub fn HtmlList(project: String, run: String, pages: Vec<DocRef>) -> impl IntoView {
    pages
        .into_iter()
        .map(|page| {
            let src = file_url(&project, &run, &page.file.path);
            view! {
                <figure class="media-item media-wide" data-testid="media-html">
                    <iframe
                        class="media-html"
                        sandbox="allow-scripts"
                        referrerpolicy="no-referrer"
                        src=src
                        title="Logged HTML"
                    ></iframe>
                    <figcaption>{page.caption.clone()}</figcaption>
                </figure>
            }
        })
        .collect_view()
}

/// Files this page has no viewer for: a link to download each.
#[component]
pub fn FileLinks(
    project: String,
    run: String,
    files: Vec<FileRef>,
    what: &'static str,
) -> impl IntoView {
    files
        .into_iter()
        .map(|f| {
            let href = file_url(&project, &run, &f.path);
            let name = f.path.rsplit('/').next().unwrap_or(&f.path).to_string();
            view! {
                <div class="media-item" data-testid="media-file">
                    <a href=href download=name.clone()>{name.clone()}</a>
                    <span class="faint">" "{what}</span>
                </div>
            }
        })
        .collect_view()
}
