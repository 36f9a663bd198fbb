//! Command line: parses arguments, sets up logging, and runs the server until Ctrl-C.

use crate::config::{self, Config};
use clap::{Parser, Subcommand};
use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "trackline",
    version,
    about = "Local-first experiment tracker: dashboard daemon"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Index run directories and serve the dashboard, REST API and live WebSocket.
    Serve(ServeArgs),
    /// Upload runs written offline to a daemon (safe to run again: sends only what is missing).
    Sync(SyncArgs),
    /// Make a share link (`{url}/#t=<token>`), or list or revoke them; works while a daemon runs.
    Share(crate::share::ShareArgs),
    /// Generate, list or export reports; through the running daemon when there is one.
    Report(crate::reports::cli::ReportArgs),
    /// Import runs recorded by another tracker (W&B, TensorBoard, MLflow) into the data directory.
    Import(crate::import::ImportArgs),
    /// Delete artifact versions a keep-policy does not keep, then unused blobs and left-over
    /// temp files (safe while a daemon runs).
    Gc(GcArgs),
    /// Create a sweep from a W&B sweep config (or pause, resume, stop, cancel one).
    Sweep(crate::sweeps::cli::SweepArgs),
    /// Run a sweep's program for the runs the sweep hands out.
    Agent(crate::sweeps::cli::AgentArgs),
    /// The sweep search as ask/tell in JSON lines on stdin and stdout.
    Optimize,
    /// Run a command in which `import wandb` is Trackline (for libraries that look for an
    /// installed wandb: Lightning, accelerate, transformers); needs the Python client installed.
    Run(RunArgs),
}

#[derive(Parser, Debug)]
struct RunArgs {
    /// The command and its arguments (after `--`), e.g. `-- python train.py --lr 0.1`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
    command: Vec<String>,
}

#[derive(Parser, Debug)]
struct GcArgs {
    /// Data directory [env: TRACKLINE_DIR] [default: ./trackline]
    #[arg(long = "dir")]
    data_dir: Option<PathBuf>,
    /// Say what would be deleted and freed; delete nothing.
    #[arg(long)]
    dry_run: bool,
    /// Keep the N newest versions of each artifact (and every aliased one).
    #[arg(long)]
    keep_last: Option<usize>,
    /// Keep the K versions with the best value of --metric (by its goal).
    #[arg(long, requires = "metric")]
    keep_top: Option<usize>,
    /// The metric --keep-top ranks by (a name from the version's `metrics`).
    #[arg(long, requires = "keep_top")]
    metric: Option<String>,
    /// Delete versions older than this (e.g. 30d, 12h) unless kept otherwise.
    #[arg(long, value_parser = crate::artifacts::gc::parse_age)]
    older_than: Option<std::time::Duration>,
    /// How long an unused blob or a temp file must have been left alone (tests shorten it).
    #[arg(long, hide = true, default_value = "1h", value_parser = crate::artifacts::gc::parse_age)]
    grace: std::time::Duration,
}

#[derive(Parser, Debug)]
struct SyncArgs {
    /// A data directory, a project folder, or one run folder.
    dir: PathBuf,
    /// The daemon to upload to.
    #[arg(long, env = "TRACKLINE_URL", default_value = "http://127.0.0.1:8765")]
    url: String,
    /// The daemon's write token (its `<dir>/.trackline/api_key`).
    #[arg(long, env = "TRACKLINE_API_KEY", hide_env_values = true)]
    api_key: String,
}

#[derive(Parser, Debug)]
struct ServeArgs {
    /// Data directory holding `<project>/<run>/` folders [env: TRACKLINE_DIR] [default: ./trackline]
    #[arg(long = "dir")]
    data_dir: Option<PathBuf>,
    /// Address to bind. Anything but loopback exposes your runs to the network.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = config::DEFAULT_PORT)]
    port: u16,
    /// Also accept this Host header (e.g. a tunnel's name); repeatable.
    #[arg(long = "allow-host")]
    allow_host: Vec<String>,
    /// Where people reach this daemon (a tunnel or proxy, e.g. https://x.example/team); repeatable.
    /// Allows that Host, checks Origin against it, and turns sharing on: every request then
    /// needs a share link (`trackline share`), loopback included; an owner link is printed.
    #[arg(long = "public-url", value_parser = crate::auth::sharing::PublicUrl::parse)]
    public_url: Vec<crate::auth::sharing::PublicUrl>,
    /// Serve the web app under this path (e.g. /team) behind a reverse proxy that strips it or
    /// keeps it; requests without it work too. [default: the path of --public-url, else /]
    #[arg(long = "base-path", value_parser = crate::api::base_path::BasePath::parse)]
    base_path: Option<crate::api::base_path::BasePath>,
    /// Share through a tunnel tool installed here: cloudflared, ngrok or ssh:HOST (e.g.
    /// ssh:nokey@localhost.run). Starts it, takes the public URL it prints as a --public-url
    /// (sharing on), prints the owner link, and stops it with the daemon. Never downloads a tool.
    #[arg(long)]
    share: Option<crate::tunnel::Provider>,
    /// Seconds the --share tool has to print its public URL.
    #[arg(long, default_value_t = crate::tunnel::DEFAULT_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    share_timeout_secs: u64,
    /// Open the dashboard in a browser once listening (the owner link when shared).
    #[arg(long)]
    open: bool,
    /// Add a demo project whose runs keep logging live.
    #[arg(long)]
    demo: bool,
    /// Seconds without a heartbeat before a running run is shown as crashed.
    #[arg(long, default_value_t = config::DEFAULT_HEARTBEAT_TIMEOUT_SECS)]
    heartbeat_timeout_secs: u64,
    /// Messages queued per WebSocket client.
    #[arg(long, default_value_t = config::DEFAULT_WS_QUEUE)]
    ws_queue: usize,
    /// Milliseconds a WebSocket client may leave its queue full before it is dropped.
    #[arg(long, default_value_t = config::DEFAULT_WS_SEND_TIMEOUT_MS)]
    ws_send_timeout_ms: u64,
    /// Seconds of silence after which a person's presence (cursor, view) is dropped.
    #[arg(long, default_value_t = trackline_shared::presence::TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    presence_timeout_secs: u64,
    /// Seconds between a sweep agent's heartbeats; an agent silent for 6 of them is gone.
    #[arg(long, default_value_t = crate::sweeps::controller::DEFAULT_HEARTBEAT_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    sweep_heartbeat_secs: u64,
    /// Seconds a client has to send a request's headers; an idle keep-alive connection is closed
    /// after as long.
    #[arg(long, default_value_t = config::DEFAULT_HEADER_READ_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    header_read_timeout_secs: u64,
    /// Seconds a client has to send a whole request body; a slower one is answered 408.
    #[arg(long, default_value_t = config::DEFAULT_BODY_READ_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    body_read_timeout_secs: u64,
    /// Seconds a client may take no byte of an answer (or of WebSocket messages) before its
    /// connection is closed.
    #[arg(long, default_value_t = config::DEFAULT_SEND_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    send_timeout_secs: u64,
    /// Open connections at once, WebSockets included; past it a new connection is answered 503.
    #[arg(long, default_value_t = config::DEFAULT_MAX_CONNECTIONS)]
    max_connections: usize,
    /// Bytes per second of remote-ingest bodies one client address may send (0 = no limit);
    /// beyond it the daemon answers 429 with Retry-After.
    #[arg(long, default_value_t = config::DEFAULT_MAX_INGEST_BYTES_PER_SEC)]
    max_ingest_rate: u64,
    /// Memory for run histories (points, keys, unfinished lines), e.g. `4GiB`, `512MB`, or bytes;
    /// past it the coldest runs not on screen are evicted and reloaded from disk when viewed.
    #[arg(long, default_value = "4GiB", value_parser = parse_size)]
    memory_limit: usize,
    /// Distinct metric keys read per run; values of further keys are dropped, reported once.
    #[arg(long, default_value_t = crate::store::DEFAULT_MAX_KEYS_PER_RUN as u64, value_parser = clap::value_parser!(u64).range(1..))]
    max_keys_per_run: u64,
    /// Longest line of history.jsonl read (e.g. `16MiB`); a longer one is reported once and skipped.
    #[arg(long, default_value = "16MiB", value_parser = parse_size)]
    max_line_bytes: usize,
}

/// A byte size: a number with an optional unit (`B`, `KB`/`MB`/`GB` = powers of 1000,
/// `KiB`/`MiB`/`GiB` = powers of 1024; case-insensitive), never zero.
fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a size (e.g. 4GiB, 512MB, 1000000)"))?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "tb" | "t" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "unknown unit '{other}' in '{text}' (use B, MB, GiB, …)"
            ));
        }
    };
    let bytes = number * scale;
    if !(1.0..=usize::MAX as f64).contains(&bytes) {
        return Err(format!("'{text}' is out of range"));
    }
    Ok(bytes as usize)
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    crate::logging::init();
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Sync(args) => sync(args),
        Command::Share(args) => share(args),
        Command::Report(args) => report(args),
        Command::Import(args) => import(args),
        Command::Gc(args) => gc(args),
        Command::Sweep(args) => {
            let dir = data_dir(args.data_dir.clone());
            exit_code(crate::sweeps::cli::sweep(
                &args,
                &dir,
                &mut std::io::stdout(),
            ))
        }
        Command::Agent(args) => {
            let dir = data_dir(args.data_dir.clone());
            exit_code(crate::sweeps::cli::agent(&args, &dir))
        }
        Command::Optimize => exit_code(crate::sweeps::cli::optimize()),
        Command::Run(args) => run_as_wandb(args),
    }
}

/// `trackline run -- CMD`: the Python client does it (`python -m trackline run -- CMD`, with the
/// interpreter `$TRACKLINE_PYTHON`, else `python3`), since its shim folder is what goes on the path.
fn run_as_wandb(args: RunArgs) -> ExitCode {
    let python = std::env::var("TRACKLINE_PYTHON").unwrap_or_else(|_| "python3".into());
    let command = args
        .command
        .iter()
        .skip_while(|a| a.as_str() == "--")
        .cloned()
        .collect::<Vec<_>>();
    match std::process::Command::new(&python)
        .args(["-m", "trackline", "run", "--"])
        .args(&command)
        .status()
    {
        Ok(status) => ExitCode::from(status.code().unwrap_or(1).clamp(0, 255) as u8),
        Err(e) => {
            tracing::error!(
                "cannot start {python} (set TRACKLINE_PYTHON to the Python that has the trackline \
                 client, installed with `pip install ./python`): {e}"
            );
            ExitCode::FAILURE
        }
    }
}

/// Success, or the error logged and a failure.
fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn gc(args: GcArgs) -> ExitCode {
    use std::io::IsTerminal;
    let dir = data_dir(args.data_dir);
    let policy = crate::artifacts::gc::Policy {
        keep_last: args.keep_last,
        keep_top: args.keep_top.zip(args.metric),
        older_than: args.older_than,
        dry_run: args.dry_run,
        grace: args.grace,
    };
    let (mut out, mut progress) = (std::io::stdout(), std::io::stderr());
    let terminal = progress.is_terminal();
    let now = std::time::SystemTime::now();
    match crate::artifacts::gc::run(&dir, &policy, now, &mut out, &mut progress, terminal) {
        Ok(report) => {
            let _ = writeln!(
                out,
                "{}",
                crate::artifacts::gc::summary(&report, args.dry_run)
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `--dir`, else `TRACKLINE_DIR`, else `./trackline`.
fn data_dir(given: Option<PathBuf>) -> PathBuf {
    given
        .or_else(|| std::env::var_os(config::ENV_DIR).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(config::DEFAULT_DIR))
}

fn share(args: crate::share::ShareArgs) -> ExitCode {
    let dir = data_dir(args.data_dir.clone());
    match crate::share::run(&args, &dir, &mut std::io::stdout()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn report(args: crate::reports::cli::ReportArgs) -> ExitCode {
    let dir = data_dir(args.data_dir.clone());
    match crate::reports::cli::run(&args.action, &dir, &mut std::io::stdout()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn import(args: crate::import::ImportArgs) -> ExitCode {
    let dir = data_dir(args.source.paths().data_dir.clone());
    match crate::import::import(&args.source, &dir) {
        Ok(totals) if totals.failed == 0 => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    let mut config = Config::new(data_dir(args.data_dir));
    config.host = args.host;
    config.port = args.port;
    config.allowed_hosts = args.allow_host;
    config.public_urls = args.public_url;
    config.base_path =
        match crate::api::base_path::BasePath::resolve(args.base_path, &config.public_urls) {
            Ok(base) => base,
            Err(e) => {
                tracing::error!("{e}");
                return ExitCode::FAILURE;
            }
        };
    let base_path = config.base_path.clone();
    config.demo = args.demo;
    config.heartbeat_timeout = std::time::Duration::from_secs(args.heartbeat_timeout_secs);
    config.ws_queue = args.ws_queue.max(1);
    config.ws_send_timeout = std::time::Duration::from_millis(args.ws_send_timeout_ms);
    config.presence_timeout = std::time::Duration::from_secs(args.presence_timeout_secs);
    config.sweep_heartbeat_secs = args.sweep_heartbeat_secs;
    config.header_read_timeout = std::time::Duration::from_secs(args.header_read_timeout_secs);
    config.body_read_timeout = std::time::Duration::from_secs(args.body_read_timeout_secs);
    config.send_timeout = std::time::Duration::from_secs(args.send_timeout_secs);
    config.max_connections = args.max_connections.max(1);
    config.max_ingest_bytes_per_sec = args.max_ingest_rate;
    config.memory_limit_bytes = args.memory_limit;
    config.max_keys_per_run = usize::try_from(args.max_keys_per_run).unwrap_or(usize::MAX);
    config.max_line_bytes = args.max_line_bytes;
    let open = args.open;
    let share = args.share;
    let share_timeout = std::time::Duration::from_secs(args.share_timeout_secs);

    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        if let Some(provider) = &share {
            crate::tunnel::installed(provider)?;
        }
        let mut server = crate::server::Server::bind(config).await?;
        let url = format!("http://{}/", server.local_addr());
        // The one line tools and tests read to find the port.
        let mut out = std::io::stdout();
        let _ = writeln!(
            out,
            "trackline: serving {} at {url}",
            server.data_dir().display()
        );
        // The page under the base path (the daemon answers without it too).
        let local = format!("{}{}", url.trim_end_matches('/'), base_path.as_str());
        if !base_path.is_root() {
            let _ = writeln!(out, "trackline: the web app is under {local}/");
        }
        let _ = out.flush();
        let tunnel = match &share {
            Some(provider) => {
                let tunnel =
                    crate::tunnel::Tunnel::start(provider, server.local_addr(), share_timeout)
                        .await?;
                server.add_public_url(tunnel.url().clone())?;
                Some(tunnel)
            }
            None => None,
        };
        let mut open_url = format!("{local}/");
        if let Some(sharing) = server.sharing() {
            let state_dir = Config::new(server.data_dir()).state_dir();
            open_url = crate::share::print_owner_link(sharing, &state_dir, &local, &mut out)?;
        }
        let _ = out.flush();
        if open {
            crate::share::open_browser(&open_url);
        }
        let served = server.run(shutdown_signal()).await;
        if let Some(tunnel) = tunnel {
            tunnel.stop().await;
        }
        served
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn sync(args: SyncArgs) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut progress = std::io::stderr();
    match runtime.block_on(crate::sync::sync(
        &args.dir,
        &args.url,
        &args.api_key,
        &mut progress,
    )) {
        Ok(report) => {
            let mut out = std::io::stdout();
            let _ = writeln!(
                out,
                "trackline: synced {} run(s) and {} artifact version(s), uploaded {} bytes",
                report.runs, report.versions, report.bytes_uploaded
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("4GiB"), Ok(4 << 30));
        assert_eq!(parse_size("512MB"), Ok(512_000_000));
        assert_eq!(parse_size("16 mib"), Ok(16 << 20));
        assert_eq!(parse_size("1.5k"), Ok(1500));
        assert_eq!(parse_size("1000000"), Ok(1_000_000));
        for bad in ["", "0", "GiB", "4 parsecs", "-1MB", "1e400"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn serve_flags_reach_the_config_defaults() {
        let cli = Cli::try_parse_from(["trackline", "serve", "--memory-limit", "1GiB"]).unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("not serve")
        };
        assert_eq!(args.memory_limit, 1 << 30);
        assert_eq!(args.max_line_bytes, crate::store::DEFAULT_MAX_LINE_BYTES);
        assert_eq!(
            args.max_keys_per_run,
            crate::store::DEFAULT_MAX_KEYS_PER_RUN as u64
        );
        let default = Cli::try_parse_from(["trackline", "serve"]).unwrap();
        let Command::Serve(args) = default.command else {
            panic!("not serve")
        };
        assert_eq!(args.memory_limit, crate::store::DEFAULT_MEMORY_LIMIT_BYTES);
    }
}
