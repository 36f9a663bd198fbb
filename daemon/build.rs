//! Builds the web app (frontend crate → WASM + JS bindings + index.html) into `$OUT_DIR/web`, where
//! the daemon embeds it with `include_bytes!`.
//!
//! The nested cargo uses its own target directory (`<workspace>/target/web`), so it never waits on
//! the lock of the build that runs this script. With `TRACKLINE_SKIP_WEB` set (CI's clippy job, quick
//! checks) a placeholder page and empty assets are written instead. If the web build fails, the
//! daemon still builds (with the placeholder page, naming the failure) and cargo shows a warning;
//! set `TRACKLINE_REQUIRE_WEB` to make that failure fatal instead.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=TRACKLINE_SKIP_WEB");
    println!("cargo:rerun-if-env-changed=TRACKLINE_REQUIRE_WEB");
    println!("cargo:rerun-if-changed=build.rs");

    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let web_out = out_dir.join("web");
    let manifest_dir = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let workspace = manifest_dir
        .parent()
        .map(PathBuf::from)
        .unwrap_or(manifest_dir);

    if std::env::var_os("TRACKLINE_SKIP_WEB").is_some() {
        placeholder(&web_out, "TRACKLINE_SKIP_WEB was set when it was built.");
        return;
    }

    for p in xtask::watched_paths(&workspace) {
        println!("cargo:rerun-if-changed={}", p.display());
    }

    let mut opts = xtask::WebBuild::new(&workspace);
    opts.out_dir = web_out.clone();
    if let Err(e) = xtask::build_web(&opts) {
        let msg = format!("{e:#}");
        for line in msg.lines() {
            println!("cargo:warning={line}");
        }
        println!(
            "cargo:warning=building the web app failed; run `cargo run -p xtask -- build-web` for \
             the full error (TRACKLINE_SKIP_WEB=1 skips it)"
        );
        if std::env::var_os("TRACKLINE_REQUIRE_WEB").is_some() {
            std::process::exit(1);
        }
        placeholder(&web_out, &format!("its build failed: {msg}"));
    }
}

fn placeholder(web_out: &std::path::Path, reason: &str) {
    if let Err(e) = xtask::write_placeholder(web_out, reason) {
        println!("cargo:warning=could not write the placeholder web app: {e:#}");
        std::process::exit(1);
    }
}
