//! What a share link lets its holder do: `viewer` < `annotator` < `owner`, each with everything of
//! the ones below. (The ingest write token is not a scope: it grants no UI read.)

use axum::http::Method;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Reads everything the UI shows.
    Viewer,
    /// A viewer who may also change shared state (workspace layouts; notes and comments next).
    Annotator,
    /// Everything: renaming and deleting runs, managing links, settings.
    Owner,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Viewer, Scope::Annotator, Scope::Owner];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Viewer => "viewer",
            Scope::Annotator => "annotator",
            Scope::Owner => "owner",
        }
    }

    /// The scope a request needs by its method: reads (and WebSocket handshakes, which are
    /// `GET`s) need `viewer`, anything that changes state `annotator`. Routes that need `owner`
    /// (renaming or deleting runs, managing links) are to name it themselves.
    pub fn for_method(method: &Method) -> Scope {
        if matches!(*method, Method::GET | Method::HEAD) {
            Scope::Viewer
        } else {
            Scope::Annotator
        }
    }

    /// Whether this scope includes `needed`.
    pub fn allows(self, needed: Scope) -> bool {
        self >= needed
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Scope {
    type Err = String;

    fn from_str(text: &str) -> Result<Scope, String> {
        Scope::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| format!("unknown scope '{text}' (viewer, annotator or owner)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_nest_and_methods_need_their_scope() {
        assert!(Scope::Owner.allows(Scope::Annotator));
        assert!(Scope::Annotator.allows(Scope::Viewer));
        assert!(Scope::Viewer.allows(Scope::Viewer));
        assert!(!Scope::Viewer.allows(Scope::Annotator));
        assert!(!Scope::Annotator.allows(Scope::Owner));
        assert_eq!(Scope::for_method(&Method::GET), Scope::Viewer);
        assert_eq!(Scope::for_method(&Method::HEAD), Scope::Viewer);
        for m in [Method::PUT, Method::POST, Method::DELETE, Method::PATCH] {
            assert_eq!(Scope::for_method(&m), Scope::Annotator, "{m}");
        }
        for s in Scope::ALL {
            assert_eq!(s.as_str().parse::<Scope>(), Ok(s));
        }
        assert!("admin".parse::<Scope>().is_err());
        assert!("Viewer".parse::<Scope>().is_err());
    }
}
