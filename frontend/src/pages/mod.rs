//! One module per route.

pub mod compare;
pub mod projects;
pub mod run;
pub mod run_delete;
pub mod runs;

pub use compare::ComparePage;
pub use projects::ProjectsPage;
pub use run::RunPage;
pub use runs::RunsPage;
