//! `method: random`: every parameter drawn from its distribution, independently of the trials.

use crate::sweeps::Params;
use crate::sweeps::sample::sample_space;
use crate::sweeps::space::Space;
use rand::rngs::StdRng;

/// A fresh draw of the whole space.
pub fn next(space: &Space, rng: &mut StdRng) -> Params {
    sample_space(space, rng)
}
