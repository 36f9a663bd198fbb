//! `trackline share`: makes a share link (`{public url or the daemon's address}/#t=<token>`, the
//! token in the fragment so it never reaches a tunnel's or proxy's log), lists the links (never a
//! secret), revokes one, and replaces the data directory's owner link (`rotate-owner`). Works on the
//! data directory's database directly, also while a daemon serves it (SQLite WAL and a busy
//! timeout); the daemon sees a revocation within a second. Also what `serve` prints and opens for
//! the person who started it: the owner link ([`print_owner_link`], [`open_browser`]).

use crate::auth::owner;
use crate::auth::scope::Scope;
use crate::auth::sharing::{self, PublicUrl, Sharing};
use crate::db::Db;
use crate::db::share_links::{Revoked, ShareLink};
use crate::lock::{Holder, LOCK_FILE};
use crate::util::utc;
use anyhow::Context;
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ShareArgs {
    #[command(subcommand)]
    pub action: Option<ShareAction>,
    /// Data directory the daemon serves [env: TRACKLINE_DIR] [default: ./trackline]
    #[arg(long = "dir", global = true)]
    pub data_dir: Option<PathBuf>,
    /// What the link allows: viewer (read), annotator (read and edit shared state), owner.
    #[arg(long, default_value = "viewer")]
    pub scope: Scope,
    /// Who the link is for, shown in `trackline share list`.
    #[arg(long, default_value = "link")]
    pub label: String,
    /// How long the link works: 7d, 12h, 30m, or never.
    #[arg(long, default_value = "7d", value_parser = parse_expiry)]
    pub expires: Expiry,
    /// The address people open (the daemon's `--public-url`); default: the running daemon's own.
    #[arg(long = "public-url", value_parser = PublicUrl::parse)]
    pub public_url: Option<PublicUrl>,
}

#[derive(Subcommand, Debug)]
pub enum ShareAction {
    /// Lists the links: id, label, scope, created, expires, last use, revoked. Never a secret.
    List,
    /// Revokes a link: its next request is refused and its open pages disconnect.
    Revoke {
        /// The link's id, from `trackline share list`.
        id: String,
    },
    /// Replaces the owner link `serve` prints (kept in `.trackline/owner-token`): the old one is
    /// revoked at once, the new one printed.
    RotateOwner,
}

/// A link's lifetime (`None`: never expires).
#[derive(Debug, Clone, Copy)]
pub struct Expiry(pub Option<Duration>);

fn parse_expiry(text: &str) -> Result<Expiry, String> {
    sharing::parse_expiry(text).map(Expiry)
}

/// Runs `trackline share …` on data directory `data_dir`, writing its lines to `out`.
pub fn run(args: &ShareArgs, data_dir: &Path, out: &mut impl Write) -> anyhow::Result<()> {
    let state_dir = crate::config::Config::new(data_dir).state_dir();
    let db = Db::open_in(&state_dir)
        .with_context(|| format!("cannot open the database in {}", state_dir.display()))?;
    let links = db.share_links();
    match &args.action {
        None => {
            let created = sharing::create_link(&links, args.scope, &args.label, args.expires.0)?;
            let bases = link_bases(args, &state_dir);
            writeln!(
                out,
                "trackline: {} link {} for '{}', expires {} (shown once; revoke with `trackline \
                 share revoke {}`):",
                created.link.scope,
                created.link.id,
                created.link.label,
                created
                    .link
                    .expires_at
                    .map_or_else(|| "never".to_owned(), utc),
                created.link.id,
            )?;
            print_links(out, &bases, &created.token)?;
        }
        Some(ShareAction::List) => {
            let all = links.list()?;
            if all.is_empty() {
                writeln!(out, "trackline: no share links")?;
            }
            for link in all {
                writeln!(out, "{}", list_line(&link))?;
            }
        }
        Some(ShareAction::Revoke { id }) => match links.revoke(id, crate::util::now_secs())? {
            Revoked::Now => writeln!(out, "trackline: revoked link {id}")?,
            Revoked::Already => writeln!(out, "trackline: link {id} was already revoked")?,
            Revoked::NoSuchLink => {
                anyhow::bail!("no share link '{id}' (see `trackline share list`)")
            }
        },
        Some(ShareAction::RotateOwner) => {
            let (owner, revoked) = owner::rotate(&links, &state_dir)?;
            if let Some(id) = revoked {
                writeln!(out, "trackline: revoked the owner link {id}")?;
            }
            let bases = link_bases(args, &state_dir);
            writeln!(
                out,
                "trackline: new owner link {} (keep it private; a running daemon takes it at once):",
                owner.link.id
            )?;
            print_links(out, &bases, &owner.token)?;
        }
    }
    Ok(())
}

/// Prints the data directory's owner link for the person who started the daemon: through the
/// daemon's local address `local` and through each public URL (never logged). The same link on
/// every start (see [`owner`]). Answers the local link.
pub fn print_owner_link(
    sharing: &Sharing,
    state_dir: &Path,
    local: &str,
    out: &mut impl Write,
) -> anyhow::Result<String> {
    let owner = owner::load_or_create(sharing.links(), state_dir)
        .context("cannot read or make the owner link")?;
    let link = link_url(local, &owner.token);
    // Whoever started the daemon may have stopped reading its output (a closed pipe): the link
    // exists either way (`.trackline/owner-token`), and the daemon keeps serving.
    let _ = writeln!(
        out,
        "trackline: sharing is on; your owner link {} (keep it private; `trackline share \
         rotate-owner` replaces it): {link}",
        owner.link.id
    );
    for url in sharing.public_urls() {
        let _ = writeln!(
            out,
            "trackline: the same through {}: {}",
            url.url,
            link_url(&url.url, &owner.token)
        );
    }
    Ok(link)
}

/// Opens `url` in the local browser, as Jupyter does: each command of `$BROWSER` (`:`-separated;
/// `%s` stands for the URL, else it is the last argument), then `xdg-open` (`open` on macOS). The
/// URL may hold a token: it is never logged.
pub fn open_browser(url: &str) {
    let from_env = std::env::var("BROWSER").unwrap_or_default();
    let mut commands: Vec<Vec<String>> = from_env
        .split(':')
        .filter(|c| !c.trim().is_empty())
        .map(|c| browser_command(c, url))
        .collect();
    let fallback = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    commands.push(vec![fallback.to_owned(), url.to_owned()]);
    for argv in commands {
        let Some((program, args)) = argv.split_first() else {
            continue;
        };
        match std::process::Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .spawn()
        {
            Ok(_) => return,
            Err(e) => tracing::debug!("could not start {program}: {e}"),
        }
    }
    tracing::warn!(
        "could not open a browser ($BROWSER, {fallback}); open the link printed above yourself"
    );
}

/// One `$BROWSER` entry as argv: split at white space, `%s` replaced by `url` (or `url` appended).
fn browser_command(entry: &str, url: &str) -> Vec<String> {
    let mut argv: Vec<String> = entry.split_whitespace().map(str::to_owned).collect();
    if argv.iter().any(|a| a.contains("%s")) {
        for arg in &mut argv {
            *arg = arg.replace("%s", url);
        }
    } else {
        argv.push(url.to_owned());
    }
    argv
}

/// `{base}/#t=<token>`.
pub fn link_url(base: &str, token: &str) -> String {
    trackline_shared::share::link_url(base, token)
}

/// Where a new link points: `--public-url` if given; else the public URLs the daemon of this data
/// directory serves (or last served) through, its tunnel's included, then its local address; all
/// from its lock file. The first is the one to hand out.
fn link_bases(args: &ShareArgs, state_dir: &Path) -> Vec<String> {
    if let Some(url) = &args.public_url {
        return vec![url.url.clone()];
    }
    let holder = std::fs::read_to_string(state_dir.join(LOCK_FILE))
        .ok()
        .and_then(|text| serde_json::from_str::<Holder>(&text).ok())
        .unwrap_or_default();
    let local = holder
        .url
        .unwrap_or_else(|| format!("http://127.0.0.1:{}", crate::config::DEFAULT_PORT));
    holder.public_urls.into_iter().chain([local]).collect()
}

/// The link through the first base, then the same link through each other one.
fn print_links(out: &mut impl Write, bases: &[String], token: &str) -> std::io::Result<()> {
    for (i, base) in bases.iter().enumerate() {
        if i == 0 {
            writeln!(out, "{}", link_url(base, token))?;
        } else {
            writeln!(
                out,
                "trackline: the same through {base}: {}",
                link_url(base, token)
            )?;
        }
    }
    Ok(())
}

fn list_line(link: &ShareLink) -> String {
    let when = |at: Option<f64>, none: &str| at.map_or_else(|| none.to_owned(), utc);
    format!(
        "{}  {}  label '{}'  created {}  expires {}  last used {}  revoked {}",
        link.id,
        link.scope,
        link.label,
        utc(link.created_at),
        when(link.expires_at, "never"),
        when(link.last_used_at, "never"),
        when(link.revoked_at, "no"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_commands_take_the_url_where_they_say() {
        assert_eq!(
            browser_command("firefox -new-tab", "http://h/#t=x"),
            ["firefox", "-new-tab", "http://h/#t=x"]
        );
        assert_eq!(browser_command("w3m %s -dump", "u"), ["w3m", "u", "-dump"]);
    }

    #[test]
    fn rotate_owner_prints_a_new_owner_link_and_revokes_the_old() {
        let dir = tempfile::tempdir().unwrap();
        let state = crate::config::Config::new(dir.path()).state_dir();
        let links = Db::open_in(&state).unwrap().share_links();
        let first = owner::load_or_create(&links, &state).unwrap();
        let mut out = Vec::new();
        let args = {
            use clap::Parser;
            #[derive(clap::Parser)]
            struct Cli {
                #[command(flatten)]
                share: ShareArgs,
            }
            Cli::try_parse_from(["share", "rotate-owner"])
                .unwrap()
                .share
        };
        run(&args, dir.path(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains(&format!("revoked the owner link {}", first.link.id)),
            "{text}"
        );
        let link = text.lines().last().unwrap();
        assert!(link.starts_with("http://127.0.0.1:8765/#t=tl_"), "{text}");
        assert!(!link.contains(&first.token));
        let now = owner::load_or_create(&links, &state).unwrap();
        assert!(!now.created);
        assert!(link.ends_with(&now.token));
    }

    #[test]
    fn times_print_in_utc() {
        assert_eq!(utc(0.0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(951_782_400.0 + 3_660.0), "2000-02-29 01:01 UTC");
        assert_eq!(utc(1_798_761_600.0), "2027-01-01 00:00 UTC");
        assert_eq!(utc(f64::NAN), "1970-01-01 00:00 UTC");
        assert_eq!(
            crate::util::utc_seconds(951_782_400.0 + 3_661.0),
            "2000-02-29 01:01:01 UTC"
        );
    }

    #[test]
    fn share_makes_lists_and_revokes_links_without_printing_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let parse = |argv: &[&str]| {
            use clap::Parser;
            #[derive(clap::Parser)]
            struct Cli {
                #[command(flatten)]
                share: ShareArgs,
            }
            Cli::try_parse_from(argv).unwrap().share
        };
        let mut out = Vec::new();
        let args = parse(&["share", "--scope", "annotator", "--label", "alice"]);
        run(&args, dir.path(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let link = text.lines().nth(1).unwrap();
        assert!(link.starts_with("http://127.0.0.1:8765/#t=tl_"), "{text}");
        let token = link.split("#t=").nth(1).unwrap();

        let mut out = Vec::new();
        run(&parse(&["share", "list"]), dir.path(), &mut out).unwrap();
        let listed = String::from_utf8(out).unwrap();
        assert!(listed.contains("annotator  label 'alice'"), "{listed}");
        assert!(listed.contains("revoked no"), "{listed}");
        assert!(!listed.contains(token), "{listed}");
        assert!(!listed.contains(&token[3..20]), "{listed}");
        let id = listed.split_whitespace().next().unwrap().to_owned();

        let mut out = Vec::new();
        run(&parse(&["share", "revoke", &id]), dir.path(), &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("trackline: revoked link {id}\n")
        );
        assert!(
            run(
                &parse(&["share", "revoke", "nope"]),
                dir.path(),
                &mut Vec::new()
            )
            .is_err()
        );
        let mut out = Vec::new();
        run(&parse(&["share", "list"]), dir.path(), &mut out).unwrap();
        assert!(!String::from_utf8(out).unwrap().contains("revoked no"));

        let mut out = Vec::new();
        let args = parse(&[
            "share",
            "--expires",
            "never",
            "--public-url",
            "https://x.example/team/",
        ]);
        run(&args, dir.path(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("expires never"), "{text}");
        assert!(
            text.lines()
                .nth(1)
                .unwrap()
                .starts_with("https://x.example/team/#t=tl_"),
            "{text}"
        );
    }
}
