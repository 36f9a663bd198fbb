//! Serving under a path prefix (`https://x.example/team/`): the base path, from `--base-path` or
//! the public URLs' paths, and the layer that shows the router every request without it, so one
//! daemon works behind a proxy that strips the prefix, behind one that keeps it, and directly.
//! The page learns the prefix from the `<base href>` injected into it (`assets.rs`); every URL the
//! web app uses is relative to that.

use crate::auth::sharing::PublicUrl;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::Uri;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

/// First path segments the app uses itself (API, assets, page routes): a base path starting with
/// one would be ambiguous behind a proxy that strips it (`/api/projects` could be either).
const TAKEN_SEGMENTS: [&str; 3] = ["api", "assets", "projects"];

/// The path the web app is served under: `""` at the root, else `/a/b` (a leading `/`, no trailing
/// one). Only ASCII letters, digits and `-._~` in its segments, so it goes into HTML, a cookie's
/// `Path` and a `Location` as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BasePath(String);

impl BasePath {
    /// Normalises `a/b`, `/a/b/`, `//a//b` to `/a/b`, and `/` or `` to the root.
    pub fn parse(text: &str) -> Result<BasePath, String> {
        let segments: Vec<&str> = text.trim().split('/').filter(|s| !s.is_empty()).collect();
        for segment in &segments {
            let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~".contains(c);
            if !segment.chars().all(allowed) || *segment == "." || *segment == ".." {
                return Err(format!(
                    "base path '{text}': a segment may hold only letters, digits and -._~ \
                     (and be neither . nor ..)"
                ));
            }
        }
        if let Some(first) = segments.first()
            && TAKEN_SEGMENTS.contains(first)
        {
            return Err(format!(
                "base path '{text}' may not start with /{first}: the app uses that path itself"
            ));
        }
        Ok(BasePath(segments.iter().map(|s| format!("/{s}")).collect()))
    }

    /// The base path a daemon serves under: `explicit` (`--base-path`) if given, else the public
    /// URLs' paths. One daemon has one base path: every public URL's path must be the same (and
    /// equal to `explicit`, if given), or the daemon refuses to start.
    pub fn resolve(
        explicit: Option<BasePath>,
        public_urls: &[PublicUrl],
    ) -> Result<BasePath, String> {
        let base = match explicit {
            Some(base) => base,
            None => public_urls
                .first()
                .map(|url| url.base_path.clone())
                .unwrap_or_default(),
        };
        for url in public_urls {
            if url.base_path != base {
                return Err(format!(
                    "--public-url {} is served under '{}', but the daemon under '{}': one daemon \
                     serves under one base path (give every --public-url the same path, or set \
                     --base-path to it)",
                    url.url,
                    url.base_path.dir(),
                    base.dir()
                ));
            }
        }
        Ok(base)
    }

    /// `""` or `/a/b`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// With a trailing slash: `/` or `/a/b/` (the page's `<base href>`).
    pub fn dir(&self) -> String {
        format!("{}/", self.0)
    }

    /// The session cookie's `Path`: `/` or `/a/b` (which also covers `/a/b/…`).
    pub fn cookie_path(&self) -> &str {
        if self.is_root() { "/" } else { &self.0 }
    }

    /// Where a request for `path` goes.
    fn place(&self, path: &str) -> Place {
        if self.is_root() {
            return Place::Outside;
        }
        match path.strip_prefix(self.0.as_str()) {
            Some("") => Place::Bare,
            Some(rest) if rest.starts_with('/') => Place::Under(rest.len()),
            _ => Place::Outside,
        }
    }
}

/// Where a request path is, seen from the base path `/a/b`.
#[derive(Debug, PartialEq, Eq)]
enum Place {
    /// `/a/b` itself: redirected to `/a/b/`, so relative URLs resolve under it.
    Bare,
    /// `/a/b/…` (a proxy that keeps the prefix, or a direct request): the router sees its last
    /// this many bytes.
    Under(usize),
    /// Anything else: a proxy that strips the prefix already did, so it goes as it is.
    Outside,
}

/// `routes` served at `base` as well as at the root (nothing changes at the root).
pub fn serve_under(base: BasePath, routes: Router) -> Router {
    if base.is_root() {
        return routes;
    }
    Router::new()
        .fallback_service(routes)
        .layer(axum::middleware::from_fn_with_state(base, strip))
}

/// Takes the base path off a request's path before routing; redirects the bare base path.
async fn strip(State(base): State<BasePath>, mut request: Request, next: Next) -> Response {
    let uri = request.uri();
    match base.place(uri.path()) {
        Place::Bare => {
            let location = match uri.query() {
                Some(query) => format!("{}?{query}", base.dir()),
                None => base.dir(),
            };
            // Answered before the routes' layers, so it gets their headers here.
            let mut redirect = Redirect::temporary(&location).into_response();
            super::security::add_safety_headers(redirect.headers_mut(), false);
            redirect
        }
        Place::Under(kept) => {
            let path = uri.path();
            let rest = &path[path.len() - kept..];
            if let Some(stripped) = with_path(uri, rest) {
                *request.uri_mut() = stripped;
            }
            next.run(request).await
        }
        Place::Outside => next.run(request).await,
    }
}

/// `uri` with its path replaced by `path` (query, scheme and authority kept).
fn with_path(uri: &Uri, path: &str) -> Option<Uri> {
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(path_and_query.parse().ok()?);
    Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{Body, to_bytes};
    use axum::http::{StatusCode, header};
    use axum::routing::get;
    use tower::ServiceExt;

    #[test]
    fn base_paths_are_normalised_and_checked() {
        for (given, want) in [
            ("", ""),
            ("/", ""),
            ("team", "/team"),
            ("/a/b/", "/a/b"),
            ("//a//b", "/a/b"),
            ("/v1.2/x-y_z~", "/v1.2/x-y_z~"),
        ] {
            assert_eq!(BasePath::parse(given).unwrap().as_str(), want, "{given}");
        }
        for bad in [
            "/a b",
            "/a/../b",
            "/./a",
            "/a%2Fb",
            "/a?x",
            "/<script>",
            "/api",
            "/assets/x",
            "/projects",
        ] {
            assert!(BasePath::parse(bad).is_err(), "{bad}");
        }
        let base = BasePath::parse("/a/b").unwrap();
        assert_eq!((base.dir(), base.cookie_path()), ("/a/b/".into(), "/a/b"));
        let root = BasePath::default();
        assert_eq!((root.dir(), root.cookie_path()), ("/".into(), "/"));
    }

    #[test]
    fn the_public_urls_give_the_base_path_and_must_agree() {
        let url = |text| PublicUrl::parse(text).unwrap();
        let team = BasePath::parse("/team").unwrap();
        assert_eq!(
            BasePath::resolve(None, &[url("https://x.example/team/")]),
            Ok(team.clone())
        );
        assert_eq!(
            BasePath::resolve(
                None,
                &[
                    url("https://x.example/team"),
                    url("http://127.0.0.1:9000/team")
                ]
            ),
            Ok(team.clone())
        );
        assert_eq!(BasePath::resolve(None, &[]), Ok(BasePath::default()));
        assert_eq!(BasePath::resolve(Some(team.clone()), &[]), Ok(team.clone()));
        let differ = BasePath::resolve(
            None,
            &[url("https://x.example/team"), url("https://y.example")],
        );
        assert!(differ.unwrap_err().contains("one base path"));
        assert!(BasePath::resolve(Some(team), &[url("https://x.example/other")]).is_err());
    }

    /// A router that answers the path it saw.
    fn echo(base: &str) -> Router {
        let routes = Router::new().fallback(get(|uri: Uri| async move { uri.to_string() }));
        serve_under(BasePath::parse(base).unwrap(), routes)
    }

    async fn seen(router: &Router, uri: &str) -> (StatusCode, String, String) {
        let response = router
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = to_bytes(response.into_body(), 1 << 16).await.unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap(), location)
    }

    #[tokio::test]
    async fn requests_with_and_without_the_prefix_reach_the_same_route() {
        let router = echo("/a/b");
        for (sent, routed) in [
            // A proxy that keeps the prefix, or a direct request under it.
            ("/a/b/", "/"),
            ("/a/b/api/projects?x=1", "/api/projects?x=1"),
            ("/a/b/projects/p/runs/r", "/projects/p/runs/r"),
            // A proxy that strips it.
            ("/", "/"),
            ("/api/projects?x=1", "/api/projects?x=1"),
            ("/assets/app.js", "/assets/app.js"),
            // Only the whole segment is the prefix, and only once.
            ("/a/bc/x", "/a/bc/x"),
            ("/a/b/a/b/x", "/a/b/x"),
        ] {
            let (status, body, _) = seen(&router, sent).await;
            assert_eq!((status, body.as_str()), (StatusCode::OK, routed), "{sent}");
        }
        let (status, _, location) = seen(&router, "/a/b?x=1").await;
        assert_eq!(status, StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(location, "/a/b/?x=1");
        // The redirect carries the headers every answer carries, though no route answered it.
        let redirect = router
            .clone()
            .oneshot(Request::get("/a/b").body(Body::empty()).unwrap())
            .await
            .unwrap();
        for name in [
            "content-security-policy",
            "x-frame-options",
            "x-content-type-options",
        ] {
            assert!(redirect.headers().contains_key(name), "{name}");
        }
        let (status, body, _) = seen(&echo(""), "/a/b/x").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "/a/b/x"));
    }
}
