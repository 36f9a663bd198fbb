//! Share-link bodies (`docs/api.md`, "Sharing"): who the page is (`GET /api/me`), and the owner's
//! management of links (`GET`/`POST /api/share/links`, `DELETE /api/share/links/{id}`). A link's
//! token appears only in [`CreatedShareLink`], once; no other body carries a secret.

use serde::{Deserialize, Serialize};

/// The label of the local user of a daemon that is not shared (every request is theirs).
pub const LOCAL_LABEL: &str = "local";

/// `GET /api/me`: who this request is. Without sharing, everyone who reaches the daemon is its
/// owner `local`.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct Identity {
    /// The link's label (`alice`), or [`LOCAL_LABEL`].
    pub label: String,
    /// `viewer`, `annotator` or `owner`.
    pub scope: String,
    /// The link the request came with; `None` without sharing.
    #[serde(default)]
    pub link_id: Option<String>,
    /// Whether sharing is on (`serve --public-url` or `--share`).
    pub sharing: bool,
    /// Where people reach this daemon (its public URLs), when shared.
    #[serde(default)]
    pub public_urls: Vec<String>,
}

impl Identity {
    pub fn is_owner(&self) -> bool {
        self.scope == "owner"
    }
}

/// `GET /api/share/links` item: a link as listed (never its token).
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct ShareLinkInfo {
    pub id: String,
    pub label: String,
    /// `viewer`, `annotator` or `owner`.
    pub scope: String,
    /// Unix seconds.
    pub created_at_secs: f64,
    /// `None`: never expires.
    #[serde(default)]
    pub expires_at_secs: Option<f64>,
    #[serde(default)]
    pub last_used_at_secs: Option<f64>,
    #[serde(default)]
    pub revoked_at_secs: Option<f64>,
    /// Neither revoked nor expired when listed.
    pub live: bool,
}

/// `POST /api/share/links` body.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct NewShareLink {
    /// `viewer` (default), `annotator` or `owner`.
    #[serde(default = "default_scope")]
    pub scope: String,
    /// Who the link is for (shown in lists and on their comments).
    pub label: String,
    /// `7d`, `12h`, `30m`, `45s` or `never`; default `7d`.
    #[serde(default)]
    pub expires: Option<String>,
}

fn default_scope() -> String {
    "viewer".into()
}

/// The answer to `POST /api/share/links`: the new link with its token, shown this once.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct CreatedShareLink {
    pub link: ShareLinkInfo,
    pub token: String,
    /// `{public_url}/#t=<token>` for each public URL of the daemon (empty when not shared: then
    /// the page's own address is the one to give).
    pub urls: Vec<String>,
}

/// `{base}/#t=<token>`: a link's address, the token in the fragment so it never reaches a server
/// log, a proxy or a `Referer`.
pub fn link_url(base: &str, token: &str) -> String {
    format!("{}/#t={token}", base.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_put_the_token_in_the_fragment() {
        assert_eq!(
            link_url("https://x.example/team/", "tl_1"),
            "https://x.example/team/#t=tl_1"
        );
        assert_eq!(
            link_url("http://127.0.0.1:1", "tl_2"),
            "http://127.0.0.1:1/#t=tl_2"
        );
    }

    #[test]
    fn a_new_link_defaults_to_a_viewer_and_bodies_read_back() {
        let body: NewShareLink = serde_json::from_str(r#"{"label":"alice"}"#).unwrap();
        assert_eq!(body.scope, "viewer");
        assert_eq!(body.expires, None);
        let me = Identity {
            label: LOCAL_LABEL.into(),
            scope: "owner".into(),
            link_id: None,
            sharing: false,
            public_urls: vec![],
        };
        assert!(me.is_owner());
        let text = serde_json::to_string(&me).unwrap();
        assert_eq!(serde_json::from_str::<Identity>(&text).unwrap(), me);
    }
}
