//! The artifact write side on real daemon processes: which blobs the daemon lacks, resumable
//! chunked blob uploads (a resumed offset, a retried chunk, a wrong hash refused), version commits
//! exactly as docs/format.md lays them out (missing blobs, reuse, incremental, eight writers at
//! once), `trackline gc` keeping what its policy says, and `trackline sync` carrying artifacts to a
//! second daemon twice without duplicates.

use crate::common::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use trackline::artifacts::commit::{CommitRequest, commit};
use trackline::blobs::BlobHash;
use trackline::blobs::BlobStore;
use trackline::blobs::local::LocalBlobs;
use trackline::format::beneath::Dir;

fn token(dir: &Path) -> String {
    std::fs::read_to_string(dir.join(".trackline/api_key"))
        .unwrap()
        .trim()
        .to_owned()
}

fn hash(bytes: &[u8]) -> String {
    BlobHash::of(bytes).to_string()
}

fn entry(bytes: &[u8]) -> Value {
    json!({"digest": hash(bytes), "size": bytes.len()})
}

/// Bytes that differ from position to position (so a misplaced chunk changes the hash).
fn content(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 13) as u8)
        .collect()
}

struct Ingest<'a> {
    d: &'a Daemon,
    token: String,
    http: reqwest::Client,
}

impl Ingest<'_> {
    async fn missing(&self, hashes: &[&str]) -> (u16, Value) {
        let resp = self
            .http
            .post(self.d.url("/api/ingest/v1/blobs/missing"))
            .bearer_auth(&self.token)
            .json(&json!({ "hashes": hashes }))
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }

    async fn chunk(&self, hash: &str, size: usize, offset: usize, data: &[u8]) -> (u16, Value) {
        let resp = self
            .http
            .post(self.d.url("/api/ingest/v1/blob"))
            .query(&[
                ("hash", hash.to_string()),
                ("size", size.to_string()),
                ("offset", offset.to_string()),
            ])
            .bearer_auth(&self.token)
            .body(data.to_vec())
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }

    async fn commit(&self, body: &Value) -> (u16, Value) {
        let resp = self
            .http
            .post(self.d.url("/api/ingest/v1/artifacts"))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }
}

/// Files of a folder whose names start with `prefix`, anywhere below it.
fn files_named(dir: &Path, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let name = e.file_name().into_string().unwrap();
        if e.file_type().unwrap().is_dir() {
            out.extend(files_named(&e.path(), prefix));
        } else if name.starts_with(prefix) {
            out.push(e.path().display().to_string());
        }
    }
    out
}

#[tokio::test]
async fn blobs_upload_in_resumable_chunks_and_versions_commit_as_the_format_says() {
    let root = tempfile::tempdir().unwrap();
    let d = Daemon::start(root.path());
    let api = Ingest {
        d: &d,
        token: token(root.path()),
        http: reqwest::Client::new(),
    };
    let a = content(3 * 1024 * 1024 + 17, 1);
    let b = content(1000, 2);
    let (ha, hb) = (hash(&a), hash(&b));

    // No token, or a wrong one: refused.
    for bad in [None, Some("tl_wrong")] {
        let mut req = api
            .http
            .post(d.url("/api/ingest/v1/blobs/missing"))
            .json(&json!({"hashes": [ha]}));
        if let Some(t) = bad {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 401);
    }
    let (status, body) = api.missing(&[&ha, &hb, &ha]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["missing"], json!([ha, hb]));
    let (status, _) = api.missing(&["not-a-hash"]).await;
    assert_eq!(status, 400);

    // Chunks of 1 MiB; the first one's answer is "lost" and it is sent again.
    let mib = 1 << 20;
    let (status, body) = api.chunk(&ha, a.len(), 0, &a[..mib]).await;
    assert_eq!(
        (status, &body["length"], &body["complete"]),
        (200, &json!(mib), &json!(false))
    );
    let (status, body) = api.chunk(&ha, a.len(), 0, &a[..mib]).await;
    assert_eq!((status, &body["length"]), (200, &json!(mib)), "{body}");
    // A client that lost its place asks (an empty chunk at 0) and resumes where the daemon is.
    let (status, body) = api.chunk(&ha, a.len(), 0, &[]).await;
    assert_eq!((status, &body["length"]), (409, &json!(mib)), "{body}");
    let (status, body) = api.chunk(&ha, a.len(), 2 * mib, &a[2 * mib..3 * mib]).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "offset_mismatch");
    assert_eq!(body["length"], mib);
    let mut at = mib;
    while at < a.len() {
        let end = (at + mib).min(a.len());
        let (status, body) = api.chunk(&ha, a.len(), at, &a[at..end]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["complete"], end == a.len());
        at = end;
    }
    let stored = root
        .path()
        .join(".trackline/blobs")
        .join(&ha[..2])
        .join(&ha[2..]);
    assert_eq!(std::fs::read(&stored).unwrap(), a);
    let (_, body) = api.missing(&[&ha, &hb]).await;
    assert_eq!(body["missing"], json!([hb]));
    // A stored blob answers complete to any chunk.
    let (status, body) = api.chunk(&ha, a.len(), 0, &[]).await;
    assert_eq!((status, &body["complete"]), (200, &json!(true)));

    // Content that does not hash to its name: refused, and nothing is kept.
    let claimed = hash(b"what the client claimed");
    let (status, _) = api.chunk(&claimed, 10, 0, b"hello").await;
    assert_eq!(status, 200);
    let (status, body) = api.chunk(&claimed, 10, 5, b"world").await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("hash"));
    assert_eq!(
        api.missing(&[&claimed]).await.1["missing"],
        json!([claimed])
    );
    let blobs_dir = root.path().join(".trackline/blobs");
    assert!(files_named(&blobs_dir, ".upload-").is_empty());
    assert!(!blobs_dir.join(&claimed[..2]).join(&claimed[2..]).exists());

    // A chunk over 8 MiB is refused from its headers (HTTP by hand: the body is never sent).
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", d.port))
            .await
            .unwrap();
        let head = format!(
            "POST /api/ingest/v1/blob?hash={hb}&size=9000000&offset=0 HTTP/1.1\r\n\
             Host: 127.0.0.1:{}\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\n\r\n",
            d.port,
            api.token,
            (8 << 20) + 1
        );
        s.write_all(head.as_bytes()).await.unwrap();
        let mut answer = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut answer))
            .await
            .expect("no answer to an oversized chunk")
            .unwrap();
        let answer = String::from_utf8_lossy(&answer[..n]);
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains("too_large"), "{answer}");
    }

    // A commit naming a blob the daemon lacks: 409 with the list, and no version.
    let version_body = |contents: Value, aliases: Value| {
        json!({"project": "ap", "run": "r1", "name": "mnist", "type": "dataset",
               "description": "digits", "metadata": {"source": "torchvision"},
               "aliases": aliases, "manifest": {"contents": contents}, "step": 3,
               "metrics": [{"name": "val/loss", "value": 0.25, "goal": "minimize"}]})
    };
    let uri = "https://example.com/imagenet.tar";
    let reference = json!({"digest": uri, "ref": uri});
    let (status, body) = api
        .commit(&version_body(
            json!({"train.bin": entry(&a), "labels.bin": entry(&b)}),
            json!(["prod"]),
        ))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "blobs_missing");
    assert_eq!(body["missing"], json!([hb]));
    let folder = root.path().join("ap/.artifacts/mnist");
    assert!(!folder.join("v0.json").exists());

    // The version, exactly as docs/format.md lays it out.
    let (status, body) = api
        .commit(&version_body(
            json!({"train.bin": entry(&a), "imagenet": reference}),
            json!(["prod", "latest"]),
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    let digest = hash(
        format!("trackline-artifact-manifest-v1\nimagenet:{uri}\ntrain.bin:{ha}\n").as_bytes(),
    );
    assert_eq!(
        body,
        json!({"name": "mnist", "version": 0, "digest": digest, "reused": false})
    );
    let v0: Value =
        serde_json::from_slice(&std::fs::read(folder.join("v0.json")).unwrap()).unwrap();
    let created_at = v0["created_at"].as_f64().unwrap();
    assert!((created_at - now_secs()).abs() < 60.0);
    assert_eq!(
        v0,
        json!({"format": 1, "name": "mnist", "version": 0, "type": "dataset",
               "description": "digits", "metadata": {"source": "torchvision"},
               "digest": digest, "size": a.len(), "file_count": 2, "created_at": created_at,
               "run": "r1", "step": 3,
               "metrics": [{"name": "val/loss", "value": 0.25, "goal": "minimize"}],
               "ttl_secs": null, "linked_from": null,
               "manifest": {"version": 1, "storagePolicy": "trackline-cas-v1",
                 "storagePolicyConfig": {"digestAlgo": "sha256"},
                 "contents": {"imagenet": {"digest": uri, "ref": uri},
                              "train.bin": {"digest": ha, "size": a.len()}}}})
    );
    let log = std::fs::read_to_string(folder.join("aliases.jsonl")).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{log}");
    assert_eq!(
        (&lines[0]["alias"], &lines[0]["version"]),
        (&json!("prod"), &json!(0))
    );
    assert!(files_named(&folder, ".tmp-").is_empty());

    // Identical content: the same version.
    let (status, body) = api
        .commit(&version_body(
            json!({"imagenet": reference, "train.bin": entry(&a)}),
            json!(["prod"]),
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["version"], &body["reused"]),
        (&json!(0), &json!(true))
    );
    assert!(!folder.join("v1.json").exists());

    // Incremental: the latest version's contents with these changes.
    let (status, _) = api.chunk(&hb, b.len(), 0, &b).await;
    assert_eq!(status, 200);
    let mut changes = version_body(
        json!({"train.bin": null, "labels.bin": entry(&b)}),
        json!([]),
    );
    changes["incremental"] = json!(true);
    let (status, body) = api.commit(&changes).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 1);
    let v1: Value =
        serde_json::from_slice(&std::fs::read(folder.join("v1.json")).unwrap()).unwrap();
    let paths: Vec<&String> = v1["manifest"]["contents"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(paths, ["imagenet", "labels.bin"]);

    // Eight writers of one name at once: eight distinct numbers.
    let commits = (0..8).map(|i| {
        let body = json!({"project": "ap", "name": "conc", "type": "model",
            "manifest": {"contents": {"ref": {"digest": format!("https://e.com/{i}"),
                                              "ref": format!("https://e.com/{i}")}}}});
        let (http, url, token) = (
            api.http.clone(),
            d.url("/api/ingest/v1/artifacts"),
            api.token.clone(),
        );
        tokio::spawn(async move {
            let resp = http
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            resp.json::<Value>().await.unwrap()["version"]
                .as_u64()
                .unwrap()
        })
    });
    let mut numbers = BTreeSet::new();
    for c in commits.collect::<Vec<_>>() {
        numbers.insert(c.await.unwrap());
    }
    assert_eq!(numbers, (0..8).collect());
    // A bad name or path is refused.
    let mut bad = version_body(json!({"../x": entry(&b)}), json!([]));
    assert_eq!(api.commit(&bad).await.0, 400);
    bad = version_body(json!({"x": entry(&b)}), json!([]));
    bad["name"] = json!("a/b");
    assert_eq!(api.commit(&bad).await.0, 400);
}

/// Writes a version file by hand (as any format-1 writer would) naming `blobs`.
fn lay_version(
    folder: &Path,
    n: u64,
    created_at: f64,
    loss: f64,
    ttl: Option<f64>,
    blobs: &[&[u8]],
) {
    let contents: serde_json::Map<String, Value> = blobs
        .iter()
        .enumerate()
        .map(|(i, b)| (format!("f{i}"), entry(b)))
        .collect();
    let version = json!({"format": 1, "name": "model-a", "version": n, "type": "model",
        "digest": format!("{n:064}"), "size": 1, "file_count": blobs.len(),
        "created_at": created_at, "run": "r1", "step": n,
        "metrics": [{"name": "val/loss", "value": loss, "goal": "minimize"}],
        "ttl_secs": ttl, "manifest": {"version": 1, "storagePolicy": "trackline-cas-v1",
        "storagePolicyConfig": {}, "contents": contents}});
    std::fs::write(folder.join(format!("v{n}.json")), version.to_string()).unwrap();
}

fn gc(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(["gc", "--dir"])
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test]
async fn gc_keeps_exactly_what_the_policy_says() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path();
    let blobs = LocalBlobs::in_data_dir(data);
    let shared = b"shared by every version".as_slice();
    let own: Vec<Vec<u8>> = (0..5)
        .map(|i| format!("weights {i}").into_bytes())
        .collect();
    for b in own
        .iter()
        .map(Vec::as_slice)
        .chain([shared, b"nobody's".as_slice()])
    {
        blobs.put(b).unwrap();
    }
    let folder = data.join("gp/.artifacts/model-a");
    std::fs::create_dir_all(&folder).unwrap();
    let day = 86_400.0;
    let now = now_secs();
    // val/loss: v1 is best; v2 is aliased `prod`; v3's TTL has passed; v4 is the latest.
    for (n, loss, ttl) in [
        (0, 0.5, None),
        (1, 0.1, None),
        (2, 0.9, None),
        (3, 0.7, Some(60.0)),
        (4, 0.8, None),
    ] {
        lay_version(
            &folder,
            n,
            now - (10.0 - n as f64) * day,
            loss,
            ttl,
            &[&own[n as usize], shared],
        );
    }
    std::fs::write(
        folder.join("aliases.jsonl"),
        "{\"alias\": \"prod\", \"version\": 2, \"at\": 1.0}\n",
    )
    .unwrap();
    // A left-over upload two hours old and a temp file being written now.
    let fan = blobs.root().join("ab");
    std::fs::create_dir_all(&fan).unwrap();
    let old_upload = fan.join(format!(".upload-ab{}", "0".repeat(62)));
    std::fs::write(&old_upload, b"half a blob").unwrap();
    let two_hours_ago = std::time::SystemTime::now() - Duration::from_secs(7200);
    std::fs::File::options()
        .write(true)
        .open(&old_upload)
        .unwrap()
        .set_modified(two_hours_ago)
        .unwrap();
    let fresh_temp = blobs.root().join(".tmp-writing");
    std::fs::write(&fresh_temp, b"being written").unwrap();
    // It runs while a daemon serves the directory.
    let d = Daemon::start(data);
    let policy = [
        "--keep-last",
        "1",
        "--keep-top",
        "1",
        "--metric",
        "val/loss",
    ];

    let dry = gc(data, &[&policy[..], &["--dry-run"]].concat());
    assert!(dry.contains("would delete gp/model-a:v0"), "{dry}");
    assert!(dry.contains("would delete gp/model-a:v3"), "{dry}");
    assert_eq!(dry.matches("would delete").count(), 2, "{dry}");
    assert!(dry.contains("would free"), "{dry}");
    assert!(dry.contains("1 temp file(s)"), "{dry}");
    assert!(
        folder.join("v0.json").exists() && old_upload.exists(),
        "a dry run deletes nothing"
    );

    let real = gc(data, &policy);
    assert!(
        real.contains("deleted gp/model-a:v0") && real.contains("deleted gp/model-a:v3"),
        "{real}"
    );
    let names: BTreeSet<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let want: BTreeSet<String> = [
        "v0.deleted.json",
        "v1.json",
        "v2.json",
        "v3.deleted.json",
        "v4.json",
        "aliases.jsonl",
    ]
    .map(String::from)
    .into();
    assert_eq!(names, want);
    assert!(!old_upload.exists(), "an upload untouched for an hour goes");
    assert!(fresh_temp.exists(), "a temp file being written stays");
    // Unused blobs changed moments ago (a writer may be about to link its version): all kept.
    let stored = |b: &[u8]| blobs.has(&BlobHash::of(b)).unwrap();
    assert!(stored(&own[0]) && stored(b"nobody's"));

    // Past the grace, exactly the blobs no live version names go.
    let swept = gc(data, &["--grace", "0s"]);
    assert!(swept.contains("3 blob(s)"), "{swept}");
    for (i, b) in own.iter().enumerate() {
        assert_eq!(stored(b), [1, 2, 4].contains(&i), "blob of v{i}");
    }
    assert!(stored(shared) && !stored(b"nobody's"));
    assert!(!fresh_temp.exists());
    // The daemon still serves, and a second gc finds nothing.
    d.get_ok("/api/health").await;
    let again = gc(data, &policy);
    assert!(again.contains("0 version(s) deleted, 0 blob(s)"), "{again}");
}

/// An offline data directory with a run and two versions (one blob over one 8 MiB chunk).
fn offline_store(data: &Path) -> (Vec<u8>, Vec<u8>) {
    let mut run = RunWriter::create(data, "sp", "offrun1");
    run.log_rows(3, |_| "1".into());
    let big = content(9 * 1024 * 1024 + 5, 7);
    let small = b"vocabulary".to_vec();
    let blobs = LocalBlobs::in_data_dir(data);
    let root = Dir::open_root(data).unwrap();
    let mut digests = Vec::new();
    for (i, files) in [vec![&big, &small], vec![&small]].into_iter().enumerate() {
        let contents: serde_json::Map<String, Value> = files
            .iter()
            .enumerate()
            .map(|(j, b)| {
                blobs.put(b).unwrap();
                (format!("file{j}.bin"), entry(b))
            })
            .collect();
        let request: CommitRequest = serde_json::from_value(json!({"project": "sp",
            "run": "offrun1", "name": "ckpt", "type": "model", "aliases": ["best"],
            "manifest": {"contents": contents}, "step": i,
            "metrics": [{"name": "loss", "value": 1.0 - i as f64, "goal": "minimize"}]}))
        .unwrap();
        digests.push(commit(&root, &blobs, request, now_secs()).unwrap().digest);
    }
    let lineage: String = digests
        .iter()
        .enumerate()
        .map(|(i, digest)| {
            format!(
                "{}\n",
                json!({"direction": "output", "project": "sp", "name": "ckpt",
                "version": i, "digest": digest, "type": "model", "step": i, "at": 1.0})
            )
        })
        .collect();
    std::fs::write(run.dir.join("artifacts.jsonl"), lineage).unwrap();
    (big, small)
}

#[tokio::test]
async fn sync_carries_artifacts_once() {
    let offline = tempfile::tempdir().unwrap();
    let (big, small) = offline_store(offline.path());
    let served = tempfile::tempdir().unwrap();
    let d = Daemon::start(served.path());
    let sync = || {
        let out = Command::new(BIN)
            .args(["sync"])
            .arg(offline.path())
            .args(["--url", &d.url(""), "--api-key", &token(served.path())])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let said = sync();
    assert!(
        said.contains("synced 1 run(s) and 2 artifact version(s)"),
        "{said}"
    );
    let folder = served.path().join("sp/.artifacts/ckpt");
    let versions = |folder: &Path| -> Vec<Value> {
        (0..)
            .map_while(|n| std::fs::read(folder.join(format!("v{n}.json"))).ok())
            .map(|b| serde_json::from_slice(&b).unwrap())
            .collect()
    };
    let local = versions(&offline.path().join("sp/.artifacts/ckpt"));
    let remote = versions(&folder);
    assert_eq!(remote.len(), 2);
    for (l, r) in local.iter().zip(&remote) {
        for field in [
            "digest", "manifest", "type", "run", "step", "metrics", "size",
        ] {
            assert_eq!(l[field], r[field], "{field}");
        }
    }
    let remote_blobs = LocalBlobs::in_data_dir(served.path());
    assert_eq!(remote_blobs.get(&BlobHash::of(&big)).unwrap().unwrap(), big);
    assert!(remote_blobs.has(&BlobHash::of(&small)).unwrap());
    let aliases = std::fs::read_to_string(folder.join("aliases.jsonl")).unwrap();
    assert!(
        aliases.contains("\"best\"") && aliases.contains("\"version\":1"),
        "{aliases}"
    );
    let lineage =
        std::fs::read_to_string(served.path().join("sp/offrun1/artifacts.jsonl")).unwrap();
    assert_eq!(lineage.lines().count(), 2);

    // Again: nothing new anywhere.
    let said = sync();
    assert!(said.contains("uploaded 0 bytes"), "{said}");
    assert_eq!(versions(&folder).len(), 2);
    assert!(!folder.join("v2.json").exists());
    assert_eq!(
        std::fs::read_to_string(folder.join("aliases.jsonl")).unwrap(),
        aliases
    );
    assert_eq!(
        std::fs::read_to_string(served.path().join("sp/offrun1/artifacts.jsonl")).unwrap(),
        lineage
    );
    assert!(files_named(&served.path().join(".trackline/blobs"), ".upload-").is_empty());
}
