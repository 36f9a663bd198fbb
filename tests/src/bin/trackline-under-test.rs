//! The daemon binary, built inside this crate so its tests can spawn and kill it by path.
fn main() -> std::process::ExitCode {
    trackline::cli::main()
}
