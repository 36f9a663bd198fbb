//! `cargo run -p xtask -- build-web [--out DIR] [--target-dir DIR]`: builds the web app into
//! `target/web-dist` (cargo's target dir `target/web`) for the daemon to embed or for a look.

use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use std::process::ExitCode;
use xtask::{WebBuild, build_web, workspace_root};

const USAGE: &str =
    "usage: cargo run -p xtask -- build-web [--out DIR] [--target-dir DIR] [--profile NAME]";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<String>) -> Result<()> {
    let mut args = args.into_iter();
    match args.next().as_deref() {
        Some("build-web") => {}
        Some("-h" | "--help") => {
            eprintln!("{USAGE}");
            return Ok(());
        }
        Some(other) => bail!("unknown task `{other}`\n{USAGE}"),
        None => bail!("{USAGE}"),
    }
    let mut opts = WebBuild::new(workspace_root());
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().with_context(|| format!("{name} needs a value"));
        match a.as_str() {
            "--out" => opts.out_dir = absolute(value("--out")?)?,
            "--target-dir" => opts.target_dir = absolute(value("--target-dir")?)?,
            "--profile" => opts.profile = value("--profile")?,
            other => bail!("unknown argument `{other}`\n{USAGE}"),
        }
    }
    build_web(&opts)?;
    eprintln!("xtask: web app written to {}", opts.out_dir.display());
    Ok(())
}

fn absolute(p: String) -> Result<PathBuf> {
    let p = PathBuf::from(p);
    Ok(if p.is_absolute() {
        p
    } else {
        std::env::current_dir()?.join(p)
    })
}
