//! `trackline share`: makes a share link (`{public url or the daemon's address}/#t=<token>`, the
//! token in the fragment so it never reaches a tunnel's or proxy's log), lists the links (never a
//! secret) and revokes one. Works on the data directory's database directly, also while a daemon
//! serves it (SQLite WAL and a busy timeout); the daemon sees a revocation within a second.

use crate::auth::scope::Scope;
use crate::auth::sharing::{self, PublicUrl};
use crate::db::Db;
use crate::db::share_links::{Revoked, ShareLink};
use crate::lock::{Holder, LOCK_FILE};
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
            let base = match &args.public_url {
                Some(url) => url.url.clone(),
                None => daemon_url(&state_dir),
            };
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
            writeln!(out, "{}", link_url(&base, &created.token))?;
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
    }
    Ok(())
}

/// `{base}/#t=<token>`.
pub fn link_url(base: &str, token: &str) -> String {
    format!("{}/#t={token}", base.trim_end_matches('/'))
}

/// The address the daemon of this data directory serves (or last served), from its lock file.
fn daemon_url(state_dir: &Path) -> String {
    std::fs::read_to_string(state_dir.join(LOCK_FILE))
        .ok()
        .and_then(|text| serde_json::from_str::<Holder>(&text).ok())
        .and_then(|holder| holder.url)
        .unwrap_or_else(|| format!("http://127.0.0.1:{}", crate::config::DEFAULT_PORT))
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

/// Unix seconds as `YYYY-MM-DD HH:MM UTC`.
fn utc(secs: f64) -> String {
    let secs = secs.max(0.0) as i64;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_in_utc() {
        assert_eq!(utc(0.0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(951_782_400.0 + 3_660.0), "2000-02-29 01:01 UTC");
        assert_eq!(utc(1_798_761_600.0), "2027-01-01 00:00 UTC");
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
