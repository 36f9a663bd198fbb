//! Builds the Trackline web app: compiles `trackline-frontend` to WASM with the workspace's `web`
//! profile, generates the JS bindings with `wasm-bindgen-cli-support` (as a library, so no
//! `wasm-bindgen` binary is needed), and copies `index.html` and the page's boot script `boot.js`
//! next to them.
//!
//! Used by `cargo run -p xtask -- build-web` and by the daemon's `build.rs`, which embeds the
//! four output files (`index.html`, `boot.js`, `app.js`, `app_bg.wasm`).

use anyhow::{Context, Result, bail};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The files a web build produces, all in one flat directory.
pub const OUTPUT_FILES: [&str; 4] = ["index.html", "boot.js", "app.js", "app_bg.wasm"];

/// The files copied from the workspace root as they are: the page, and the module that boots the
/// app (a file, not an inline script, so the page's CSP can forbid inline script).
pub const PAGE_FILES: [&str; 2] = ["index.html", "boot.js"];

/// Package name of the web app crate.
pub const FRONTEND_PACKAGE: &str = "trackline-frontend";

/// Name of the wasm file cargo produces for the frontend's binary target.
const FRONTEND_WASM: &str = "trackline-frontend.wasm";

/// What to build and where.
#[derive(Debug, Clone)]
pub struct WebBuild {
    /// The workspace root (holds `Cargo.toml`, `index.html`, `frontend/`).
    pub workspace: PathBuf,
    /// Cargo's `--target-dir` for the WASM build. Keep it separate from the outer build's target
    /// directory: a build script that runs cargo on the same directory would wait on its lock forever.
    pub target_dir: PathBuf,
    /// Where [`OUTPUT_FILES`] go. Other files in it are removed.
    pub out_dir: PathBuf,
    /// Cargo profile, `web` unless told otherwise.
    pub profile: String,
}

impl WebBuild {
    /// The default layout under a workspace: target dir `target/web`, output `target/web-dist`.
    pub fn new(workspace: impl Into<PathBuf>) -> Self {
        let workspace = workspace.into();
        WebBuild {
            target_dir: workspace.join("target").join("web"),
            out_dir: workspace.join("target").join("web-dist"),
            workspace,
            profile: "web".into(),
        }
    }

    /// Path of the wasm file cargo leaves behind.
    pub fn wasm_path(&self) -> PathBuf {
        self.target_dir
            .join("wasm32-unknown-unknown")
            .join(&self.profile)
            .join(FRONTEND_WASM)
    }
}

/// The workspace root this crate was compiled in (`xtask/..`).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Paths whose change means the web app must be rebuilt (for `cargo:rerun-if-changed`).
pub fn watched_paths(workspace: &Path) -> Vec<PathBuf> {
    vec![
        workspace.join("frontend").join("src"),
        workspace.join("frontend").join("Cargo.toml"),
        workspace.join("shared").join("src"),
        workspace.join("shared").join("Cargo.toml"),
        workspace.join("index.html"),
        workspace.join("boot.js"),
        workspace.join("Cargo.lock"),
        // The `web` profile lives there.
        workspace.join("Cargo.toml"),
    ]
}

/// Whether an environment variable set by an outer cargo, clippy or make must not reach the nested
/// cargo: they would redirect its target directory, wrap rustc with clippy-driver, change its
/// flags or hand it a jobserver it does not own.
pub fn is_leaky_env(name: &str) -> bool {
    // The user's own cargo settings (registry, network, proxy, terminal) are not build state.
    const KEEP: [&str; 6] = [
        "CARGO_HOME",
        "CARGO_NET_",
        "CARGO_HTTP_",
        "CARGO_REGISTRIES_",
        "CARGO_REGISTRY_",
        "CARGO_TERM_",
    ];
    if KEEP.iter().any(|k| name.starts_with(k)) {
        return false;
    }
    const PREFIXES: [&str; 6] = ["CARGO", "__CARGO", "RUSTC", "RUSTDOC", "CLIPPY", "DEP_"];
    const EXACT: [&str; 10] = [
        "RUSTFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
        "OUT_DIR",
        "TARGET",
        "HOST",
        "PROFILE",
        "OPT_LEVEL",
        "DEBUG",
        "NUM_JOBS",
    ];
    PREFIXES.iter().any(|p| name.starts_with(p))
        || name.ends_with("MAKEFLAGS")
        || EXACT.contains(&name)
}

/// The `cargo` command for the WASM build: the one on `PATH`, with a clean environment.
fn cargo_command(opts: &WebBuild) -> Command {
    let mut cmd = Command::new("cargo");
    let leaky: Vec<OsString> = std::env::vars_os()
        .filter_map(|(k, _)| k.to_str().filter(|k| is_leaky_env(k)).map(|_| k.clone()))
        .collect();
    for k in leaky {
        cmd.env_remove(k);
    }
    cmd.current_dir(&opts.workspace);
    // A build script's stdout is read by cargo as `cargo:` instructions; keep the child off it.
    cmd.stdout(std::io::stderr());
    cmd.args([
        "build",
        "-p",
        FRONTEND_PACKAGE,
        "--target",
        "wasm32-unknown-unknown",
    ]);
    cmd.arg("--profile").arg(&opts.profile);
    cmd.arg("--target-dir").arg(&opts.target_dir);
    cmd.arg("--manifest-path")
        .arg(opts.workspace.join("Cargo.toml"));
    cmd
}

/// Compiles the web app and writes [`OUTPUT_FILES`] into `opts.out_dir`.
pub fn build_web(opts: &WebBuild) -> Result<()> {
    let mut cmd = cargo_command(opts);
    let status = cmd
        .status()
        .with_context(|| format!("could not run {cmd:?} (is cargo on PATH?)"))?;
    if !status.success() {
        bail!("building the web app failed ({status}); command: {cmd:?}");
    }
    let wasm = opts.wasm_path();
    if !wasm.is_file() {
        bail!("cargo succeeded but {} is missing", wasm.display());
    }
    bindgen(&wasm, &opts.out_dir)?;
    for name in PAGE_FILES {
        fs_copy(&opts.workspace.join(name), &opts.out_dir.join(name))?;
    }
    remove_stale(&opts.out_dir)?;
    for f in OUTPUT_FILES {
        let p = opts.out_dir.join(f);
        if !p.is_file() {
            bail!("web build did not produce {}", p.display());
        }
    }
    Ok(())
}

/// Runs wasm-bindgen (web target) on `wasm`, writing `app.js` and `app_bg.wasm` to `out_dir`.
pub fn bindgen(wasm: &Path, out_dir: &Path) -> Result<()> {
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("could not create {}", out_dir.display()))?;
    // Snippets from an earlier build would otherwise survive and hide a new one.
    let snippets = out_dir.join("snippets");
    if snippets.exists() {
        std::fs::remove_dir_all(&snippets)
            .with_context(|| format!("could not remove {}", snippets.display()))?;
    }
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(wasm)
        .web(true)?
        .typescript(false)
        .out_name("app")
        .generate(out_dir)
        .with_context(|| format!("wasm-bindgen failed on {}", wasm.display()))?;
    if snippets.exists() {
        // The daemon serves exactly boot.js, app.js and app_bg.wasm; a JS snippet would be a 404.
        bail!(
            "wasm-bindgen emitted JS snippets in {} (a dependency uses inline_js / module imports); \
             the daemon does not serve them",
            snippets.display()
        );
    }
    Ok(())
}

fn fs_copy(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to)
        .with_context(|| format!("could not copy {} to {}", from.display(), to.display()))?;
    Ok(())
}

/// Removes everything in `dir` that is not one of [`OUTPUT_FILES`].
fn remove_stale(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        if OUTPUT_FILES.iter().any(|f| name == *f) {
            continue;
        }
        let path = entry.path();
        let res = if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        res.with_context(|| format!("could not remove stale {}", path.display()))?;
    }
    Ok(())
}

/// Writes a placeholder build: an `index.html` that says the web app was not built, why (`reason`,
/// plain text) and how to build it, plus empty `boot.js`, `app.js` and `app_bg.wasm`. Used when
/// `TRACKLINE_SKIP_WEB` is set or the web build failed.
pub fn write_placeholder(out_dir: &Path, reason: &str) -> Result<()> {
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("could not create {}", out_dir.display()))?;
    let html = PLACEHOLDER_HTML.replace("{reason}", &escape_html(reason));
    std::fs::write(out_dir.join("index.html"), html)?;
    std::fs::write(out_dir.join("boot.js"), "")?;
    std::fs::write(out_dir.join("app.js"), "")?;
    std::fs::write(out_dir.join("app_bg.wasm"), [])?;
    remove_stale(out_dir)
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page served by a daemon built without its web app; `{reason}` is replaced.
pub const PLACEHOLDER_HTML: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Trackline: web app not built</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1f2328}code{background:#f0f2f5;padding:.1em .3em;border-radius:3px}</style>
</head>
<body>
<h1>Trackline</h1>
<p>The web app was not compiled into this daemon: {reason}</p>
<p>The REST and WebSocket API under <code>api/</code> work as usual.</p>
<p>To get the web app, rebuild without <code>TRACKLINE_SKIP_WEB</code> set (this needs the
<code>wasm32-unknown-unknown</code> target: <code>rustup target add wasm32-unknown-unknown</code>):</p>
<p><code>cargo build -p trackline</code></p>
<p>To see why a web build fails: <code>cargo run -p xtask -- build-web</code></p>
</body>
</html>
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaky_env_names() {
        for k in [
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_TARGET",
            "CARGO_ENCODED_RUSTFLAGS",
            "CARGO_CFG_TARGET_OS",
            "CARGO_FEATURE_DEFAULT",
            "CARGO_PKG_NAME",
            "CARGO_MAKEFLAGS",
            "CARGO_PRIMARY_PACKAGE",
            "CARGO",
            "RUSTC",
            "RUSTC_WRAPPER",
            "RUSTC_WORKSPACE_WRAPPER",
            "RUSTFLAGS",
            "MAKEFLAGS",
            "MFLAGS",
            "OUT_DIR",
            "TARGET",
        ] {
            assert!(is_leaky_env(k), "{k}");
        }
        for k in [
            "CARGO_HOME",
            "CARGO_NET_OFFLINE",
            "PATH",
            "HOME",
            "RUSTUP_HOME",
            "RUSTUP_TOOLCHAIN",
            "TRACKLINE_SKIP_WEB",
        ] {
            assert!(!is_leaky_env(k), "{k}");
        }
    }

    /// The page's CSP forbids inline script: every `<script>` of index.html must load a file.
    #[test]
    fn the_page_has_no_inline_script_and_boots_from_its_file() {
        let root = workspace_root();
        let html = std::fs::read_to_string(root.join("index.html")).unwrap();
        let scripts: Vec<&str> = html.split("<script").skip(1).collect();
        assert!(!scripts.is_empty(), "index.html loads no script");
        for script in scripts {
            let (tag, rest) = script.split_once('>').unwrap();
            assert!(
                tag.contains("src="),
                "inline script in index.html: <script{tag}>"
            );
            assert!(
                rest.trim_start().starts_with("</script>"),
                "a script with src= must have no body: {rest}"
            );
        }
        assert!(html.contains(r#"src="./assets/boot.js""#), "{html}");
        let boot = std::fs::read_to_string(root.join("boot.js")).unwrap();
        assert!(boot.contains("from './app.js'"), "{boot}");
        assert!(boot.contains("app_bg.wasm"), "{boot}");
    }

    #[test]
    fn placeholder_has_the_four_files() {
        let dir = std::env::temp_dir().join(format!("xtask-placeholder-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("snippets")).unwrap();
        std::fs::write(dir.join("stale.js"), "x").unwrap();
        write_placeholder(&dir, "a <test>").unwrap();
        let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
        assert!(html.contains("a &lt;test&gt;"), "{html}");
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["app.js", "app_bg.wasm", "boot.js", "index.html"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
