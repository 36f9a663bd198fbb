//! Push: one [`Session`] per WebSocket connection turns store events into protocol messages for
//! the topics that connection subscribed to. Each topic is one file in [`topics`] (what a
//! subscription to it remembers, which events concern it, what it sends); [`session`] is the
//! topic-blind part (client messages, the bounded outgoing queue, the slow-consumer rule).
//!
//! To add a topic (annotations, presence, sweeps): a `Topic` variant in `shared/src/ws.rs`, a file
//! in `topics/` implementing [`topics::Subscription`], and one arm in [`topics::open`].

pub mod presence;
pub mod session;
pub mod topics;

pub use presence::{PresenceHub, PresenceSettings};
pub use session::{Session, SlowConsumer, instance_id};
