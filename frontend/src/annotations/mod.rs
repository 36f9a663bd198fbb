//! Annotations (issue 9): run notes, the project notepad, comment threads and chart pins, kept
//! live per project from the daemon's op log.
//!
//! Pure parts, host-tested: [`model`] (snapshot + events as upserts), [`ops`] (ids and retries),
//! [`draft`] (editing a note without losing text), [`markdown`] (the safe renderer). On the page:
//! [`store`] (REST snapshot, the `annotations` topic, sending ops), [`note`], [`threads`],
//! [`rendered`] and [`run_label`] (an owner renames and retags a run). Pin geometry is in
//! [`crate::charts::pins`], its drawing in `components/chart/pins.rs`.

pub mod draft;
pub mod markdown;
pub mod model;
pub mod note;
pub mod ops;
pub mod rendered;
pub mod run_label;
pub mod store;
pub mod threads;

pub use note::NoteEditor;
pub use run_label::RunLabelEditor;
pub use store::{Annotations, provide_annotations, use_annotations};
pub use threads::{ThreadCard, ThreadList};
