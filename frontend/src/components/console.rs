//! The run's captured console (`console.log`), live-tailed with HTTP byte ranges and searchable.
//!
//! Each poll asks only for the bytes after what it already holds (`Range: bytes=N-`), so a long
//! log is fetched once; polling stops when the run is no longer running, after one last poll.

use crate::util::encode;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::time::Duration;

/// Lines kept in the page (the oldest are dropped past this).
pub const MAX_LINES: usize = 5_000;

/// Splits newly fetched text into complete lines, keeping an unfinished last line in `partial`.
pub fn take_lines(partial: &mut String, chunk: &str) -> Vec<String> {
    partial.push_str(chunk);
    let Some(last_nl) = partial.rfind('\n') else {
        return Vec::new();
    };
    let rest = partial.split_off(last_nl + 1);
    let done = std::mem::replace(partial, rest);
    done.lines().map(str::to_owned).collect()
}

/// Lines containing `query` (case-insensitive); all lines for an empty query.
pub fn filter_lines<'a>(lines: &'a [String], query: &str) -> Vec<&'a String> {
    let q = query.trim().to_lowercase();
    lines
        .iter()
        .filter(|l| q.is_empty() || l.to_lowercase().contains(&q))
        .collect()
}

#[component]
pub fn ConsoleLog(project: String, run: String, live: Signal<bool>) -> impl IntoView {
    let lines = RwSignal::new(Vec::<String>::new());
    let query = RwSignal::new(String::new());
    let missing = RwSignal::new(false);
    let offset = StoredValue::new(0u64);
    let partial = StoredValue::new(String::new());
    let busy = StoredValue::new(false);
    let again = StoredValue::new(false);
    let url = format!(
        "api/projects/{}/runs/{}/files/console.log",
        encode(&project),
        encode(&run)
    );

    // One fetch of the bytes past `offset`; folds them into `lines`.
    let fetch = move |url: String| async move {
        let from = offset.get_value();
        let resp = gloo_net::http::Request::get(&url)
            .header("Range", &format!("bytes={from}-"))
            .send()
            .await;
        let Ok(resp) = resp else { return };
        match resp.status() {
            404 => {
                missing.try_set(true);
            }
            200 | 206 => {
                let Ok(bytes) = resp.binary().await else {
                    return;
                };
                // A 200 is the whole file (a server that ignored the range).
                let start = if resp.status() == 200 { 0 } else { from };
                if start == 0 && from > 0 {
                    lines.try_set(Vec::new());
                    partial.set_value(String::new());
                }
                offset.set_value(start + bytes.len() as u64);
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let mut p = partial.get_value();
                let new = take_lines(&mut p, &text);
                partial.set_value(p);
                missing.try_set(false);
                if !new.is_empty() {
                    lines.try_update(|l| {
                        l.extend(new);
                        if l.len() > MAX_LINES {
                            l.drain(..l.len() - MAX_LINES);
                        }
                    });
                }
            }
            // 416: the file was replaced by a shorter one; start over.
            416 => {
                offset.set_value(0);
                partial.set_value(String::new());
                lines.try_set(Vec::new());
            }
            _ => {}
        }
    };
    // A poll asked for while one is in flight is not dropped: it runs right after, so the
    // last poll always sees the file as it was when it was asked for.
    let poll = move |url: String| {
        if busy.get_value() {
            again.set_value(true);
            return;
        }
        busy.set_value(true);
        spawn_local(async move {
            loop {
                again.set_value(false);
                fetch(url.clone()).await;
                if !again.get_value() {
                    break;
                }
            }
            busy.set_value(false);
        });
    };
    poll(url.clone());
    let handle = set_interval_with_handle(
        {
            let url = url.clone();
            move || {
                if live.get_untracked() {
                    poll(url.clone());
                }
            }
        },
        Duration::from_secs(1),
    )
    .ok();
    // When the run stops, one last poll picks up what it printed after the previous one.
    Effect::new({
        let url = url.clone();
        move |was_live: Option<bool>| {
            let now = live.get();
            if was_live == Some(true) && !now {
                poll(url.clone());
            }
            now
        }
    });
    on_cleanup(move || {
        if let Some(h) = handle {
            h.clear();
        }
    });

    let shown = move || {
        let q = query.get();
        lines.with(|l| filter_lines(l, &q).into_iter().cloned().collect::<Vec<_>>())
    };
    view! {
        <section class="panel console" data-testid="console">
            <h2>
                "Console"
                <input
                    class="console-search"
                    style="margin-left: 12px; font-size: 12px; padding: 2px 6px"
                    type="search"
                    placeholder="Search output"
                    data-testid="console-search"
                    prop:value=move || query.get()
                    on:input=move |ev| query.set(event_target_value(&ev))
                />
            </h2>
            <div class="panel-body">
                {move || {
                    if missing.get() && lines.with(Vec::is_empty) {
                        view! { <p class="empty">"No console output captured."</p> }.into_any()
                    } else {
                        view! {
                            <pre
                                class="console-lines"
                                data-testid="console-lines"
                                style="max-height: 420px; overflow: auto; margin: 0; font-size: 12px; white-space: pre-wrap; word-break: break-all"
                            >
                                {move || shown().join("\n")}
                            </pre>
                        }
                            .into_any()
                    }
                }}
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wait_for_their_newline() {
        let mut p = String::new();
        assert_eq!(take_lines(&mut p, "a\nb"), vec!["a"]);
        assert_eq!(p, "b");
        assert!(take_lines(&mut p, "c").is_empty());
        assert_eq!(take_lines(&mut p, "d\ne\n"), vec!["bcd", "e"]);
        assert_eq!(p, "");
    }

    #[test]
    fn search_is_case_insensitive() {
        let lines: Vec<String> = ["Epoch 1 loss 0.5", "warning: lr", "epoch 2"]
            .map(String::from)
            .into();
        assert_eq!(filter_lines(&lines, "EPOCH").len(), 2);
        assert_eq!(filter_lines(&lines, "  ").len(), 3);
    }
}
