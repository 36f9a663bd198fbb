//! Artifacts over REST and the `artifacts` topic (issue 11), end to end: a real daemon on a data
//! directory whose version files, blobs, alias logs and lineage the test writes as docs/format.md
//! says. Checks listing, the alias fold and the automatic best, resolution, file bytes with Range
//! and their headers, the zip (read by Python's `zipfile`), owner edits and what they change,
//! refusals of bad names, aliases and paths, a missing blob, links that are not followed, and a
//! new version reaching a subscriber.

use crate::common::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Duration;
use trackline::artifacts::files::{ManifestEntry, manifest_digest};
use trackline::blobs::BlobHash;
use trackline_shared::{ServerMsg, Topic};

/// Stores `bytes` as a blob the way a writer does; answers its hash.
fn put_blob(root: &Path, bytes: &[u8]) -> String {
    let hash = BlobHash::of(bytes).as_str().to_string();
    let dir = root.join(".trackline/blobs").join(&hash[..2]);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(&hash[2..]), bytes).unwrap();
    hash
}

/// One file of a version: stored bytes, or a reference URI.
enum Entry<'a> {
    Bytes(&'a [u8]),
    /// Named in the manifest, its blob never written.
    MissingBlob(&'a [u8]),
    Reference(&'a str),
}

/// Writes version `n` of `project`/`name` (blobs first), as a writer does, `made_by` a run with
/// its `val/loss` (goal: minimize); answers its digest.
fn write_version(
    root: &Path,
    project: &str,
    name: &str,
    n: u64,
    kind: &str,
    files: &[(&str, Entry)],
    made_by: Option<(&str, f64)>,
) -> String {
    let (run, loss) = (made_by.map(|m| m.0), made_by.map(|m| m.1));
    let mut contents = BTreeMap::new();
    for (path, entry) in files {
        let entry = match entry {
            Entry::Bytes(bytes) => ManifestEntry {
                digest: put_blob(root, bytes),
                size: Some(bytes.len() as u64),
                reference: None,
                extra: None,
            },
            Entry::MissingBlob(bytes) => ManifestEntry {
                digest: BlobHash::of(bytes).as_str().to_string(),
                size: Some(bytes.len() as u64),
                reference: None,
                extra: None,
            },
            Entry::Reference(uri) => ManifestEntry {
                digest: uri.to_string(),
                size: None,
                reference: Some(uri.to_string()),
                extra: None,
            },
        };
        contents.insert(path.to_string(), entry);
    }
    let digest = manifest_digest(&contents);
    let size: u64 = contents.values().filter_map(|e| e.size).sum();
    let metrics: Vec<Value> = loss
        .map(|v| json!({"name": "val/loss", "value": v, "goal": "minimize"}))
        .into_iter()
        .collect();
    let version = json!({
        "format": 1, "name": name, "version": n, "type": kind, "description": format!("v{n} of {name}"),
        "metadata": {"n": n}, "digest": digest, "size": size, "file_count": contents.len(),
        "created_at": 1_733_350_000.0 + n as f64, "run": run, "step": n * 100, "metrics": metrics,
        "ttl_secs": null, "linked_from": null,
        "manifest": {"version": 1, "storagePolicy": "trackline-cas-v1",
            "storagePolicyConfig": {"digestAlgo": "sha256"}, "contents": contents},
    });
    let dir = root.join(project).join(".artifacts").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let tmp = dir.join(format!(".tmp-{n}"));
    std::fs::write(&tmp, serde_json::to_vec(&version).unwrap()).unwrap();
    std::fs::hard_link(&tmp, dir.join(format!("v{n}.json"))).unwrap();
    std::fs::remove_file(&tmp).unwrap();
    digest
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// `method path` from the daemon's own origin, with an optional JSON body: status, headers, bytes.
async fn call(
    d: &Daemon,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = reqwest::Client::new()
        .request(method, d.url(path))
        .header("origin", format!("http://127.0.0.1:{}", d.port));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.bytes().await.unwrap().to_vec())
}

async fn get_json(d: &Daemon, path: &str) -> Value {
    let (status, _, body) = call(d, reqwest::Method::GET, path, None, &[]).await;
    assert_eq!(
        status,
        200,
        "GET {path}: {}",
        String::from_utf8_lossy(&body)
    );
    serde_json::from_slice(&body).unwrap()
}

async fn status_of(
    d: &Daemon,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let (status, _, bytes) = call(d, method, path, body, &[]).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn aliases_of(collection: &Value) -> BTreeMap<String, u64> {
    collection["aliases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["alias"].as_str().unwrap().to_string(),
                a["version"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// A project `p` with a model artifact of three live versions and a tombstone, its alias log
/// (moves, a line naming a missing version, a torn line, an unfinished line), a dataset with text,
/// HTML, SVG, a reference and a larger binary, a version whose blob is missing, and run `r1` that
/// used the dataset.
fn fixture(root: &Path) -> (Vec<u8>, String) {
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    for (n, loss) in [(0, 0.5), (1, 0.2), (2, 0.3)] {
        let text = format!("weights {n}");
        write_version(
            root,
            "p",
            "model-a",
            n,
            "model",
            &[("model.ckpt", Entry::Bytes(text.as_bytes()))],
            Some(("r0", loss)),
        );
    }
    let model_dir = root.join("p/.artifacts/model-a");
    std::fs::write(model_dir.join("v3.deleted.json"), b"{}").unwrap();
    append(
        &model_dir.join("aliases.jsonl"),
        concat!(
            "{\"alias\": \"prod\", \"version\": 0, \"at\": 1}\n",
            "{\"alias\": \"prod\", \"version\": 2, \"at\": 2}\n",
            "{\"alias\": \"staging\", \"version\": 9, \"at\": 3}\n",
            "{\"alias\": \"torn\", \"vers{\"alias\": \"stable\", \"version\": 1, \"at\": 4}\n",
            "{\"alias\": \"later\", \"version\": 0",
        ),
    );
    let data_digest = write_version(
        root,
        "p",
        "data",
        0,
        "dataset",
        &[
            ("a.txt", Entry::Bytes(b"hello artifact")),
            (
                "pages/index.html",
                Entry::Bytes(b"<script>alert(1)</script>"),
            ),
            (
                "plot.svg",
                Entry::Bytes(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"),
            ),
            ("big.bin", Entry::Bytes(&big)),
            ("remote", Entry::Reference("https://example.com/data.tar")),
        ],
        None,
    );
    write_version(
        root,
        "p",
        "lost",
        0,
        "dataset",
        &[("gone.bin", Entry::MissingBlob(b"never stored"))],
        None,
    );
    let run = RunWriter::create(root, "p", "r1");
    append(
        &run.dir.join("artifacts.jsonl"),
        &format!(
            "{{\"direction\": \"input\", \"project\": \"p\", \"name\": \"data\", \"version\": 7, \"digest\": \"{data_digest}\", \"type\": \"dataset\", \"step\": 5, \"at\": 10.5}}\n\
             {{\"direction\": \"output\", \"project\": \"p\", \"name\": \"model-a\", \"version\": 0, \"digest\": \"nope\", \"type\": \"model\", \"step\": 6, \"at\": 11}}\n"
        ),
    );
    (big, data_digest)
}

#[tokio::test]
async fn the_routes_read_the_store_as_the_format_says() {
    let root = tempfile::tempdir().unwrap();
    let (big, _) = fixture(root.path());
    let d = Daemon::start(root.path());
    d.wait_for("/api/projects/p/runs", Duration::from_secs(10), |v| {
        v.as_array().is_some_and(|a| !a.is_empty())
    })
    .await;

    // The list: newest first, aliases folded, `latest` and the automatic `best` included.
    let list = get_json(&d, "/api/projects/p/artifacts").await;
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["model-a", "data", "lost"],
        "newest first, then by name"
    );
    let model = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "model-a")
        .unwrap();
    assert_eq!(model["type"], "model");
    assert_eq!(model["version_count"], 3);
    assert_eq!(model["latest"], 2);
    let want: BTreeMap<String, u64> = [("best", 1), ("latest", 2), ("prod", 2), ("stable", 1)]
        .iter()
        .map(|(a, v)| (a.to_string(), *v))
        .collect();
    assert_eq!(aliases_of(model), want, "{model}");

    // Versions, newest first, each with its aliases.
    let versions = get_json(&d, "/api/projects/p/artifacts/model-a/versions").await;
    let rows: Vec<(u64, Vec<String>)> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_u64().unwrap(),
                v["aliases"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (2, vec!["latest".to_string(), "prod".to_string()]),
            (1, vec!["best".to_string(), "stable".to_string()]),
            (0, vec![]),
        ]
    );
    assert_eq!(versions[0]["metrics"][0][0], "val/loss");

    // Resolution of every kind of reference.
    for (reference, want) in [
        ("v0", 0),
        ("latest", 2),
        ("best", 1),
        ("prod", 2),
        ("stable", 1),
    ] {
        let v = get_json(
            &d,
            &format!("/api/projects/p/artifacts/model-a/versions/{reference}"),
        )
        .await;
        assert_eq!(v["info"]["version"], want, "{reference}");
    }
    for (reference, status) in [
        ("v3", 404),
        ("v9", 404),
        ("staging", 404),
        ("later", 404),
        ("torn", 404),
    ] {
        let (got, body) = status_of(
            &d,
            reqwest::Method::GET,
            &format!("/api/projects/p/artifacts/model-a/versions/{reference}"),
            None,
        )
        .await;
        assert_eq!(got, status, "{reference}: {body}");
        assert_eq!(body["error"]["code"], "not_found");
    }
    let (got, body) = status_of(
        &d,
        reqwest::Method::GET,
        "/api/projects/p/artifacts/bad%20name/versions",
        None,
    )
    .await;
    assert_eq!(
        (got, body["error"]["code"].as_str()),
        (400, Some("bad_request"))
    );
    let (got, _) = status_of(
        &d,
        reqwest::Method::GET,
        "/api/projects/p/artifacts/nope/versions",
        None,
    )
    .await;
    assert_eq!(got, 404);

    // One version whole: files in path order, lineage.
    let data = get_json(&d, "/api/projects/p/artifacts/data/versions/latest").await;
    let paths: Vec<&str> = data["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["a.txt", "big.bin", "pages/index.html", "plot.svg", "remote"]
    );
    assert_eq!(data["files"][4]["ref"], "https://example.com/data.tar");
    assert_eq!(data["used_by"], json!([{"project": "p", "run": "r1"}]));
    assert_eq!(data["logged_by"], Value::Null);
    let model_v1 = get_json(&d, "/api/projects/p/artifacts/model-a/versions/v1").await;
    assert_eq!(model_v1["logged_by"], json!({"project": "p", "run": "r0"}));
    assert_eq!(model_v1["metadata"], json!({"n": 1}));
    assert_eq!(model_v1["used_by"], json!([]));

    // A run's lineage: found by digest (its number 7 is another machine's), a gone one null.
    let links = get_json(&d, "/api/projects/p/runs/r1/artifacts").await;
    assert_eq!(links[0]["direction"], "input");
    assert_eq!(links[0]["version"], 0);
    assert_eq!(links[0]["step"], 5);
    assert_eq!(links[1]["direction"], "output");
    assert_eq!(links[1]["version"], Value::Null);

    // File bytes, typed, cached by the kind of reference, with Range.
    let base = "/api/projects/p/artifacts/data/versions";
    let (status, h, body) = call(
        &d,
        reqwest::Method::GET,
        &format!("{base}/v0/files/a.txt"),
        None,
        &[],
    )
    .await;
    assert_eq!((status, body.as_slice()), (200, &b"hello artifact"[..]));
    assert_eq!(h["content-type"], "text/plain; charset=utf-8");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h["cache-control"].to_str().unwrap().contains("immutable"));
    let (_, h, _) = call(
        &d,
        reqwest::Method::GET,
        &format!("{base}/latest/files/a.txt"),
        None,
        &[],
    )
    .await;
    assert_eq!(h["cache-control"], "no-store");
    let (status, h, body) = call(
        &d,
        reqwest::Method::GET,
        &format!("{base}/v0/files/big.bin"),
        None,
        &[("range", "bytes=1000-1999")],
    )
    .await;
    assert_eq!(status, 206);
    assert_eq!(body, big[1000..2000]);
    assert_eq!(h["content-range"], format!("bytes 1000-1999/{}", big.len()));
    let (status, _, body) = call(
        &d,
        reqwest::Method::GET,
        &format!("{base}/v0/files/big.bin"),
        None,
        &[],
    )
    .await;
    assert_eq!((status, body.len()), (200, big.len()));
    assert!(body == big);
    let (_, h, _) = call(
        &d,
        reqwest::Method::GET,
        &format!("{base}/v0/files/pages/index.html"),
        None,
        &[],
    )
    .await;
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("sandbox"),
        "{h:?}"
    );
    let (_, h, _) = call(
        &d,
        reqwest::Method::GET,
        &format!("{base}/v0/files/plot.svg"),
        None,
        &[],
    )
    .await;
    assert_eq!(h["content-type"], "image/svg+xml");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("sandbox")
    );
    let (_, h, _) = call(
        &d,
        reqwest::Method::GET,
        &format!("{base}/v0/files/pages/index.html?download=1"),
        None,
        &[],
    )
    .await;
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"index.html\""),
        "{h:?}"
    );
    for (path, want) in [
        ("remote", 404),
        ("nope.txt", 404),
        ("%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", 400),
        ("%2Fetc%2Fpasswd", 400),
        ("a//b", 400),
        ("pages%5Cindex.html", 400),
    ] {
        let (status, _, body) = call(
            &d,
            reqwest::Method::GET,
            &format!("{base}/v0/files/{path}"),
            None,
            &[],
        )
        .await;
        assert_eq!(status, want, "{path}: {}", String::from_utf8_lossy(&body));
    }
    // A blob that is missing: 404 for the file and for the zip.
    let (status, body) = status_of(
        &d,
        reqwest::Method::GET,
        "/api/projects/p/artifacts/lost/versions/v0/files/gone.bin",
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (status, _) = status_of(
        &d,
        reqwest::Method::GET,
        "/api/projects/p/artifacts/lost/versions/v0/zip",
        None,
    )
    .await;
    assert_eq!(status, 404);

    // The whole version as a zip a zip reader reads: every stored file, no reference.
    let (status, h, zip) = call(
        &d,
        reqwest::Method::GET,
        &format!("{base}/latest/zip"),
        None,
        &[],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(h["content-type"], "application/zip");
    assert_eq!(
        h["content-length"],
        zip.len().to_string(),
        "announced up front"
    );
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .contains("data-v0.zip"),
        "{h:?}"
    );
    let scratch = tempfile::tempdir().unwrap();
    let zip_path = scratch.path().join("version.zip");
    std::fs::write(&zip_path, &zip).unwrap();
    let script = "import sys, zipfile, hashlib\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(';'.join(f'{i.filename}:{hashlib.sha256(z.read(i)).hexdigest()}' for i in z.infolist()))";
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&zip_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = String::from_utf8(out.stdout).unwrap();
    let want: Vec<String> = [
        ("a.txt", &b"hello artifact"[..]),
        ("big.bin", &big[..]),
        ("pages/index.html", &b"<script>alert(1)</script>"[..]),
        (
            "plot.svg",
            &b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"[..],
        ),
    ]
    .iter()
    .map(|(p, b)| format!("{p}:{}", BlobHash::of(b)))
    .collect();
    assert_eq!(listed.trim(), want.join(";"));
}

#[tokio::test]
async fn owner_edits_move_aliases_and_delete_versions() {
    let root = tempfile::tempdir().unwrap();
    fixture(root.path());
    let d = Daemon::start(root.path());
    let base = "/api/projects/p/artifacts/model-a";
    let put = |alias: &str, version: Value| {
        let path = format!("{base}/aliases/{alias}");
        let d = &d;
        async move {
            status_of(
                d,
                reqwest::Method::PUT,
                &path,
                Some(json!({"version": version})),
            )
            .await
        }
    };
    assert_eq!(put("prod", json!(0)).await.0, 204);
    assert_eq!(
        get_json(&d, &format!("{base}/versions/prod")).await["info"]["version"],
        0
    );
    let log =
        std::fs::read_to_string(root.path().join("p/.artifacts/model-a/aliases.jsonl")).unwrap();
    assert!(
        log.ends_with("\n") && log.lines().last().unwrap().contains("\"prod\""),
        "{log}"
    );
    // Setting best makes it the user's: no longer automatic.
    assert_eq!(put("best", json!(2)).await.0, 204);
    assert_eq!(
        get_json(&d, &format!("{base}/versions/best")).await["info"]["version"],
        2
    );
    for (alias, version, want) in [
        ("latest", json!(0), 400),
        ("v1", json!(0), 400),
        ("has%20space", json!(0), 400),
        ("prod", json!(9), 404),
        ("prod", json!("x"), 400),
    ] {
        let (status, body) = put(alias, version).await;
        assert_eq!(status, want, "{alias}: {body}");
        assert!(body["error"]["code"].is_string(), "{body}");
    }
    let (status, _) = status_of(
        &d,
        reqwest::Method::PUT,
        "/api/projects/p/artifacts/nope/aliases/prod",
        Some(json!({"version": 0})),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = status_of(
        &d,
        reqwest::Method::DELETE,
        &format!("{base}/aliases/best"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = status_of(
        &d,
        reqwest::Method::GET,
        &format!("{base}/versions/best"),
        None,
    )
    .await;
    assert_eq!(
        status, 404,
        "a removed best stays removed (the user named it)"
    );

    // A version named by an alias is in use; with force it goes, and its aliases with it.
    let (status, body) = status_of(
        &d,
        reqwest::Method::DELETE,
        &format!("{base}/versions/v0"),
        None,
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "artifact_in_use");
    let (status, _) = status_of(
        &d,
        reqwest::Method::DELETE,
        &format!("{base}/versions/v0?force=1"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert!(
        root.path()
            .join("p/.artifacts/model-a/v0.deleted.json")
            .is_file()
    );
    assert!(!root.path().join("p/.artifacts/model-a/v0.json").exists());
    let (status, _) = status_of(
        &d,
        reqwest::Method::GET,
        &format!("{base}/versions/prod"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = status_of(
        &d,
        reqwest::Method::GET,
        &format!("{base}/versions/v0"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    // Deleting latest moves it.
    let (status, _) = status_of(
        &d,
        reqwest::Method::DELETE,
        &format!("{base}/versions/2"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let list = get_json(&d, "/api/projects/p/artifacts").await;
    let model = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "model-a")
        .unwrap();
    assert_eq!(
        (model["latest"].as_u64(), model["version_count"].as_u64()),
        (Some(1), Some(1))
    );
    let (status, _) = status_of(
        &d,
        reqwest::Method::DELETE,
        &format!("{base}/versions/v2"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = status_of(
        &d,
        reqwest::Method::DELETE,
        &format!("{base}/versions/x1"),
        None,
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn only_an_owner_link_edits_when_shared() {
    let root = tempfile::tempdir().unwrap();
    fixture(root.path());
    let d = Daemon::start_with(root.path(), &["--public-url", "https://team.example"]);
    let viewer = share_token(root.path(), "viewer", "viewer");
    let owner = share_token(root.path(), "owner", "owner");
    let base = "/api/projects/p/artifacts/model-a";
    let as_link = |token: &str, method: reqwest::Method, path: String| {
        let auth = format!("Bearer {token}");
        let d = &d;
        async move {
            let (status, _, body) = call(
                d,
                method,
                &path,
                Some(json!({"version": 1})),
                &[("authorization", &auth)],
            )
            .await;
            (status, String::from_utf8_lossy(&body).to_string())
        }
    };
    let (status, body) = as_link(&viewer, reqwest::Method::GET, format!("{base}/versions")).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = as_link(
        &viewer,
        reqwest::Method::PUT,
        format!("{base}/aliases/prod"),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = as_link(
        &viewer,
        reqwest::Method::DELETE,
        format!("{base}/versions/v0"),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(root.path().join("p/.artifacts/model-a/v0.json").is_file());
    let (status, body) =
        as_link(&owner, reqwest::Method::PUT, format!("{base}/aliases/prod")).await;
    assert_eq!(status, 204, "{body}");
}

#[tokio::test]
async fn linked_folders_and_files_are_not_followed() {
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    // A whole `.artifacts` folder elsewhere, linked into project `q`.
    write_version(
        outside.path(),
        "x",
        "secret",
        0,
        "dataset",
        &[("s.txt", Entry::Bytes(b"secret"))],
        None,
    );
    std::fs::create_dir_all(root.path().join("q")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("x/.artifacts"),
        root.path().join("q/.artifacts"),
    )
    .unwrap();
    // A real folder whose version file is a link to one outside.
    write_version(
        root.path(),
        "r",
        "m",
        0,
        "dataset",
        &[("a.txt", Entry::Bytes(b"a"))],
        None,
    );
    std::os::unix::fs::symlink(
        outside.path().join("x/.artifacts/secret/v0.json"),
        root.path().join("r/.artifacts/m/v1.json"),
    )
    .unwrap();
    // A blob that is a link to a file outside.
    let linked = b"linked blob".to_vec();
    let hash = BlobHash::of(&linked).as_str().to_string();
    std::fs::write(outside.path().join("target"), &linked).unwrap();
    write_version(
        root.path(),
        "r",
        "l",
        0,
        "dataset",
        &[("b.txt", Entry::MissingBlob(&linked))],
        None,
    );
    let fan = root.path().join(".trackline/blobs").join(&hash[..2]);
    std::fs::create_dir_all(&fan).unwrap();
    std::os::unix::fs::symlink(outside.path().join("target"), fan.join(&hash[2..])).unwrap();
    let d = Daemon::start(root.path());
    assert_eq!(get_json(&d, "/api/projects/q/artifacts").await, json!([]));
    let (status, _) = status_of(
        &d,
        reqwest::Method::GET,
        "/api/projects/q/artifacts/secret/versions",
        None,
    )
    .await;
    assert_eq!(status, 404);
    let versions = get_json(&d, "/api/projects/r/artifacts/m/versions").await;
    let numbers: Vec<u64> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [0], "the linked v1.json is left out");
    let (status, _) = status_of(
        &d,
        reqwest::Method::GET,
        "/api/projects/r/artifacts/l/versions/v0/files/b.txt",
        None,
    )
    .await;
    assert_eq!(status, 404, "a linked blob is not served");
}

#[tokio::test]
async fn a_subscriber_sees_new_versions_and_alias_moves() {
    let root = tempfile::tempdir().unwrap();
    fixture(root.path());
    let d = Daemon::start(root.path());
    let mut ws = Ws::connect(d.port).await;
    ws.subscribe(
        1,
        Topic::Artifacts {
            project: "p".into(),
        },
    )
    .await;
    assert_eq!(ws.recv().await, ServerMsg::Subscribed { id: 1 });
    let ServerMsg::Artifacts {
        sub: 1,
        collections,
    } = ws.recv().await
    else {
        panic!("a snapshot of the artifacts");
    };
    assert_eq!(collections.len(), 3);
    // A writer adds a version: it arrives without a request.
    write_version(
        root.path(),
        "p",
        "model-a",
        4,
        "model",
        &[("model.ckpt", Entry::Bytes(b"weights 4"))],
        Some(("r0", 0.1)),
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut seen = None;
    while tokio::time::Instant::now() < deadline {
        if let Some(ServerMsg::Artifacts {
            sub: 1,
            collections,
        }) = ws.try_recv(Duration::from_secs(5)).await
        {
            let model = collections
                .iter()
                .find(|c| c.name == "model-a")
                .unwrap()
                .clone();
            if model.latest == 4 {
                seen = Some(model);
                break;
            }
        }
    }
    let model = seen.expect("the new version within 10 s");
    assert!(
        model
            .aliases
            .iter()
            .any(|a| a.alias == "best" && a.version == 4)
    );
    // An alias line appended by anyone arrives too.
    append(
        &root.path().join("p/.artifacts/model-a/aliases.jsonl"),
        "\n{\"alias\": \"gold\", \"version\": 1, \"at\": 9}\n",
    );
    let Some(ServerMsg::Artifacts { collections, .. }) = ws.try_recv(Duration::from_secs(10)).await
    else {
        panic!("the alias move within 10 s");
    };
    let model = collections.iter().find(|c| c.name == "model-a").unwrap();
    assert!(
        model
            .aliases
            .iter()
            .any(|a| a.alias == "gold" && a.version == 1),
        "{model:?}"
    );
}

/// The resident memory of process `pid`, in bytes (Linux).
fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// A checkpoint past 4 GiB (a sparse file: the reader checks no hash, so any name serves) streams
/// by range from past 4 GiB, a GiB of it while the daemon's memory stays small, with its length.
#[tokio::test]
async fn a_file_past_4_gib_streams_without_filling_memory() {
    let root = tempfile::tempdir().unwrap();
    let len: u64 = (5 << 30) + 123;
    let hash = "ab".repeat(32);
    let fan = root.path().join(".trackline/blobs/ab");
    std::fs::create_dir_all(&fan).unwrap();
    let blob = std::fs::File::create(fan.join(&hash[2..])).unwrap();
    blob.set_len(len).unwrap();
    let mut tail = std::fs::OpenOptions::new()
        .write(true)
        .open(fan.join(&hash[2..]))
        .unwrap();
    std::io::Seek::seek(&mut tail, std::io::SeekFrom::Start(len - 5)).unwrap();
    tail.write_all(b"tail!").unwrap();
    drop((blob, tail));
    let version = json!({
        "format": 1, "name": "ckpt", "version": 0, "type": "model", "digest": "d", "size": len,
        "file_count": 1, "created_at": 1.0,
        "manifest": {"version": 1, "storagePolicy": "trackline-cas-v1",
            "contents": {"model.pt": {"digest": hash, "size": len}}},
    });
    let dir = root.path().join("p/.artifacts/ckpt");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("v0.json"), serde_json::to_vec(&version).unwrap()).unwrap();
    let d = Daemon::start(root.path());
    let path = "/api/projects/p/artifacts/ckpt/versions/v0/files/model.pt";
    let (status, h, body) = call(
        &d,
        reqwest::Method::GET,
        path,
        None,
        &[("range", &format!("bytes={}-", len - 10))],
    )
    .await;
    assert_eq!(status, 206);
    assert_eq!(body, b"\0\0\0\0\0tail!");
    assert_eq!(
        h["content-range"],
        format!("bytes {}-{}/{len}", len - 10, len - 1)
    );
    // The last GiB, from past the 4 GiB mark, streamed whole (all 5 GiB take a minute in debug).
    let from = len - (1 << 30);
    let mut resp = reqwest::Client::new()
        .get(d.url(path))
        .header("range", format!("bytes={from}-"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 206);
    assert_eq!(resp.content_length(), Some(len - from));
    let (mut got, mut peak) = (0u64, 0u64);
    let mut last = Vec::new();
    while let Some(chunk) = resp.chunk().await.unwrap() {
        got += chunk.len() as u64;
        if got % (256 << 20) < chunk.len() as u64 {
            peak = peak.max(rss_bytes(d.child.id()));
        }
        last = chunk.to_vec();
    }
    assert_eq!(got, len - from);
    assert!(last.ends_with(b"tail!"));
    assert!(
        peak < 200 << 20,
        "the daemon held {peak} bytes while streaming"
    );
    eprintln!(
        "streamed {got} bytes; daemon peak RSS sampled {} MiB",
        peak >> 20
    );
}
