//! The search: the next parameters of a sweep from its trials so far ([`suggest`]), by the
//! config's `method`.

pub mod bayes;
