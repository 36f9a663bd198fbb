//! The search: the next parameters of a sweep from its trials so far ([`suggest`]), by the
//! config's `method`: [`grid`] (every combination once, in W&B's order), [`random`] (a fresh
//! seeded draw) or [`bayes`] (a Gaussian process).

pub mod bayes;
pub mod grid;
pub mod random;

use super::config::{Method, SweepConfig};
use super::{Goal, Params, SweepError, Trial};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// What the search says.
#[derive(Debug, Clone, PartialEq)]
pub enum Suggestion {
    /// Try these parameters next.
    Next(Params),
    /// Every parameter set was handed out already (grid).
    Exhausted,
}

/// The next parameters after `trials` (pending ones included, so parallel agents get distinct
/// ones). `seed` is the sweep's: the same trials give the same answer, so a restart is
/// reproducible.
pub fn suggest(
    config: &SweepConfig,
    trials: &[Trial],
    seed: u64,
) -> Result<Suggestion, SweepError> {
    let mut rng = rng_for(seed, trials.len());
    match config.method {
        Method::Grid => {
            Ok(grid::next(&config.space, trials)?.map_or(Suggestion::Exhausted, Suggestion::Next))
        }
        Method::Random => Ok(Suggestion::Next(random::next(&config.space, &mut rng))),
        Method::Bayes => {
            let goal = config.metric.as_ref().map_or(Goal::Minimize, |m| m.goal);
            bayes::suggest(&config.space, goal, trials, &mut rng).map(Suggestion::Next)
        }
    }
}

/// The generator for the suggestion after `count` trials of a sweep seeded `seed`.
pub fn rng_for(seed: u64, count: usize) -> StdRng {
    StdRng::seed_from_u64(seed ^ (count as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}
