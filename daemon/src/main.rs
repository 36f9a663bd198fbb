//! Trackline daemon entry point: parses the command line and hands over to [`trackline::cli`].
fn main() -> std::process::ExitCode {
    trackline::cli::main()
}
