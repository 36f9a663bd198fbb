//! The runs table: columns, filter language, sorting, grouping, virtual scrolling and saved
//! settings as plain functions (host-tested), and the Leptos views that use them.

pub mod columns;
pub mod compare;
pub mod filter;
pub mod group;
pub mod remember;
pub mod settings;
pub mod sort;
pub mod view;
pub mod virt;
