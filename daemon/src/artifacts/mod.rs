//! Artifacts (issue 11): named, typed, versioned sets of files stored once by content
//! (docs/format.md, "Artifacts"). [`files`] is the on-disk format of versions, aliases and lineage.

pub mod commit;
pub mod edit;
pub mod files;
pub mod gc;
pub mod lineage;
pub mod store;
pub mod zip_stream;
