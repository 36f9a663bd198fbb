//! Choosing a step among the logged ones: the slider each media panel has and the global one that
//! moves them all, with ←/→ (the range input's own keys), play/pause, and "follow the newest"
//! until the user moves it.

use leptos::prelude::*;
use std::time::Duration;

/// How often play advances one logged step.
const PLAY_EVERY: Duration = Duration::from_millis(300);

/// The index in `steps` (sorted, distinct) of the step shown for `chosen`: the last logged at or
/// before it (the first when it is before them all); the newest when nothing is chosen. `None`
/// when there are no steps.
pub fn index_of(steps: &[f64], chosen: Option<f64>) -> Option<usize> {
    let last = steps.len().checked_sub(1)?;
    Some(match chosen {
        None => last,
        Some(step) => steps.partition_point(|s| *s <= step).saturating_sub(1),
    })
}

/// What choosing index `i` of `steps` means: the step there, or `None` (follow the newest) for the
/// last one.
pub fn choice_at(steps: &[f64], i: usize) -> Option<f64> {
    if i + 1 >= steps.len() {
        None
    } else {
        steps.get(i).copied()
    }
}

/// A step slider over `steps` (sorted, distinct) writing `chosen`; `testid` prefixes its parts'
/// test ids (`<testid>`, `<testid>-label`, `<testid>-play`).
#[component]
pub fn StepSlider(
    steps: Signal<Vec<f64>>,
    chosen: RwSignal<Option<f64>>,
    testid: &'static str,
    #[prop(optional)] label: &'static str,
) -> impl IntoView {
    let index = Memo::new(move |_| steps.with(|s| index_of(s, chosen.get())));
    let playing = RwSignal::new(false);
    let handle = StoredValue::new(None::<IntervalHandle>);
    let stop = move || {
        playing.set(false);
        if let Some(h) = handle.try_update_value(Option::take).flatten() {
            h.clear();
        }
    };
    let advance = move || {
        let next = steps.with_untracked(|s| {
            let i = index_of(s, chosen.get_untracked())?;
            (i + 1 < s.len()).then(|| choice_at(s, i + 1))
        });
        match next {
            Some(c) => chosen.set(c),
            None => stop(),
        }
    };
    let toggle_play = move |_| {
        if playing.get_untracked() {
            stop();
            return;
        }
        // From the end, play starts over at the first step.
        let at_end =
            steps.with_untracked(|s| index_of(s, chosen.get_untracked()) == s.len().checked_sub(1));
        if at_end {
            chosen.set(steps.with_untracked(|s| s.first().copied()));
        }
        playing.set(true);
        handle.set_value(set_interval_with_handle(advance, PLAY_EVERY).ok());
    };
    on_cleanup(stop);
    view! {
        <div class="media-slider" data-testid=format!("{testid}-bar")>
            <button
                class="media-play"
                data-testid=format!("{testid}-play")
                title="Play through the logged steps"
                on:click=toggle_play
            >
                {move || if playing.get() { "❚❚" } else { "▶" }}
            </button>
            {(!label.is_empty()).then(|| view! { <span class="muted">{label}</span> })}
            <input
                type="range"
                min="0"
                data-testid=testid
                prop:max=move || steps.with(|s| s.len().saturating_sub(1)).to_string()
                prop:value=move || index.get().unwrap_or(0).to_string()
                prop:disabled=move || steps.with(|s| s.len() < 2)
                on:input=move |ev| {
                    if let Ok(i) = event_target_value(&ev).parse::<usize>() {
                        chosen.set(steps.with_untracked(|s| choice_at(s, i)));
                    }
                }
            />
            <span class="media-step" data-testid=format!("{testid}-label")>
                {move || {
                    steps.with(|s| match index.get() {
                        Some(i) => {
                            let newest = if chosen.get().is_none() { " (newest)" } else { "" };
                            format!("step {} · {}/{}{newest}", s[i], i + 1, s.len())
                        }
                        None => "no steps yet".to_string(),
                    })
                }}
            </span>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_follows_the_newest_unless_a_step_is_chosen() {
        let steps = [0.0, 5.0, 10.0];
        assert_eq!(index_of(&steps, None), Some(2));
        assert_eq!(index_of(&steps, Some(7.0)), Some(1));
        assert_eq!(index_of(&steps, Some(-3.0)), Some(0));
        assert_eq!(index_of(&[], None), None);
        assert_eq!(choice_at(&steps, 0), Some(0.0));
        assert_eq!(
            choice_at(&steps, 2),
            None,
            "the last step means follow the newest"
        );
    }
}
