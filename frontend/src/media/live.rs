//! A run's media, live: its media keys (`GET …/media`; `section.rs` follows the `run` topic's
//! `media_keys`) and one key's values (the `media` topic from value 0, then each new one), tied
//! to the view.

use crate::{api, ws};
use leptos::prelude::*;
use trackline_shared::media::{MediaEntry, MediaKeyInfo};
use trackline_shared::ws::{ServerMsg, Topic};

/// The URL of a run's media keys.
pub fn media_keys_url(project: &str, run: &str) -> String {
    format!("{}/media", api::run_url(project, run))
}

pub async fn media_keys(project: &str, run: &str) -> Result<Vec<MediaKeyInfo>, api::ApiError> {
    api::get_json(&media_keys_url(project, run)).await
}

/// Every value of media `key` of `run`, in step order, kept up to date for as long as the
/// current view lives. The topic resumes from what was received after a reconnect, so nothing
/// is missed or doubled.
pub fn use_media_entries(project: String, run: String, key: String) -> ReadSignal<Vec<MediaEntry>> {
    let (entries, set_entries) = signal(Vec::<MediaEntry>::new());
    ws::use_subscription(
        Topic::Media {
            project,
            run,
            key,
            from: 0,
        },
        move |msg| {
            if let ServerMsg::Media { start, entries, .. } = msg {
                set_entries.try_update(|have| append(have, start, entries));
            }
        },
    );
    entries
}

/// Appends the entries of a `media` message that starts at value `start` to `have`: the part
/// already held is skipped; a message that would leave a gap is ignored (the topic never sends
/// one on a connection).
fn append(have: &mut Vec<MediaEntry>, start: u64, entries: Vec<MediaEntry>) {
    let held = have.len() as u64;
    if start > held {
        return;
    }
    let skip = (held - start) as usize;
    have.extend(entries.into_iter().skip(skip));
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::media::empty_entry as e;

    #[test]
    fn appending_skips_what_is_held_and_refuses_gaps() {
        let mut have = vec![e(0.0), e(1.0)];
        append(&mut have, 1, vec![e(1.0), e(2.0)]);
        assert_eq!(
            have.iter().map(|x| x.step).collect::<Vec<_>>(),
            [0.0, 1.0, 2.0]
        );
        append(&mut have, 5, vec![e(9.0)]);
        assert_eq!(have.len(), 3);
    }
}
