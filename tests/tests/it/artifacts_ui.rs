//! The artifacts browser in a real browser against a real daemon: a data dir laid out by hand
//! as docs/format.md ("Artifacts") says (blobs, version files, an alias log, runs'
//! `artifacts.jsonl`) with two versions of a dataset and three of a model. The Artifacts tab
//! lists them by type with their versions and the best models; a version page shows its file
//! tree and previews (an image decoded, JSON, CSV cells, a safetensors tensor list, an npz's
//! arrays), the diff with the other version and the lineage graph; an alias moved through REST
//! appears live; the owner adds an alias and deletes a version an alias names; and the
//! producing run's charts mark the steps at which it logged a version.

use crate::common::*;
use crate::web::*;
use fantoccini::Client;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use trackline::blobs::BlobHash;
use trackline_tests::png;

const T: Duration = Duration::from_secs(30);
const PROJECT: &str = "ap";

/// Stores `bytes` as a blob and returns its manifest entry.
fn blob(root: &Path, bytes: &[u8]) -> Value {
    let hash = BlobHash::of(bytes);
    let hex = hash.as_str();
    let path = root
        .join(".trackline/blobs")
        .join(&hex[..2])
        .join(&hex[2..]);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    json!({"digest": hex, "size": bytes.len()})
}

/// Writes `v<version>.json` of artifact `name` with `files`; returns the version's digest.
#[allow(clippy::too_many_arguments)]
fn version_file(
    root: &Path,
    name: &str,
    kind: &str,
    version: u64,
    files: &[(&str, Vec<u8>)],
    metadata: Value,
    run: &str,
    step: u64,
    loss: f64,
) -> String {
    let contents: BTreeMap<String, Value> = files
        .iter()
        .map(|(path, bytes)| (path.to_string(), blob(root, bytes)))
        .collect();
    let mut text = String::from("trackline-artifact-manifest-v1\n");
    for (path, entry) in &contents {
        text.push_str(&format!("{path}:{}\n", entry["digest"].as_str().unwrap()));
    }
    let digest = BlobHash::of(text.as_bytes()).as_str().to_string();
    let size: u64 = files.iter().map(|(_, b)| b.len() as u64).sum();
    let metrics = if kind == "model" {
        json!([{"name": "val/loss", "value": loss, "goal": "minimize"}])
    } else {
        json!([])
    };
    let file = json!({
        "format": 1, "name": name, "version": version, "type": kind,
        "description": format!("{name} number {version}"), "metadata": metadata,
        "digest": digest, "size": size, "file_count": files.len(),
        "created_at": now_secs() - 100.0 + version as f64, "run": run, "step": step,
        "metrics": metrics, "ttl_secs": null, "linked_from": null,
        "manifest": {"version": 1, "storagePolicy": "trackline-cas-v1",
            "storagePolicyConfig": {"digestAlgo": "sha256"}, "contents": contents},
    });
    let dir = root.join(PROJECT).join(".artifacts").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("v{version}.json")),
        serde_json::to_vec(&file).unwrap(),
    )
    .unwrap();
    digest
}

/// A safetensors file with tensors `(name, shape)` of F32 zeros.
fn safetensors(tensors: &[(&str, &[u64])]) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    header.insert("__metadata__".into(), json!({"format": "pt"}));
    let mut offset = 0u64;
    for (name, shape) in tensors {
        let len = 4 * shape.iter().product::<u64>();
        header.insert(
            name.to_string(),
            json!({"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len]}),
        );
        offset += len;
    }
    let mut text = serde_json::to_string(&header).unwrap();
    while !text.len().is_multiple_of(8) {
        text.push(' ');
    }
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(text.as_bytes());
    out.extend(std::iter::repeat_n(0u8, offset as usize));
    out
}

/// A `.npy` file's bytes: its v1 header for `descr` and `shape`, then `data`.
fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while !(header.len() + 11).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

/// A zip of stored (uncompressed) members, as numpy's `savez` writes an `.npz`.
fn stored_zip(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut dir = Vec::new();
    for (name, data) in members {
        let offset = out.len() as u32;
        let sizes = [
            (data.len() as u32).to_le_bytes(),
            (data.len() as u32).to_le_bytes(),
        ]
        .concat();
        out.extend_from_slice(&[0x50, 0x4b, 3, 4, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        out.extend_from_slice(&sizes);
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        dir.extend_from_slice(&[0x50, 0x4b, 1, 2, 20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        dir.extend_from_slice(&[0, 0, 0, 0]);
        dir.extend_from_slice(&sizes);
        dir.extend_from_slice(&(name.len() as u16).to_le_bytes());
        dir.extend_from_slice(&[0; 12]);
        dir.extend_from_slice(&offset.to_le_bytes());
        dir.extend_from_slice(name.as_bytes());
    }
    let dir_offset = out.len() as u32;
    out.extend_from_slice(&dir);
    out.extend_from_slice(&[0x50, 0x4b, 5, 6, 0, 0, 0, 0]);
    out.extend_from_slice(&(members.len() as u16).to_le_bytes());
    out.extend_from_slice(&(members.len() as u16).to_le_bytes());
    out.extend_from_slice(&(dir.len() as u32).to_le_bytes());
    out.extend_from_slice(&dir_offset.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

/// Appends lineage lines to a run's `artifacts.jsonl`.
fn lineage(run_dir: &Path, lines: &[Value]) {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(run_dir.join("artifacts.jsonl"), text).unwrap();
}

fn line(direction: &str, name: &str, version: u64, digest: &str, kind: &str, step: u64) -> Value {
    json!({"direction": direction, "project": PROJECT, "name": name, "version": version,
           "digest": digest, "type": kind, "step": step, "at": now_secs()})
}

/// Lays out the data dir: dataset `mnist` v0, v1 and model `clf` v0–v2, logged by run `r1`;
/// run `r2` used `mnist:v1` and `clf:v1`; alias `prod` → `clf:v0`.
fn layout(root: &Path) {
    let mut r1 = RunWriter::create(root, PROJECT, "r1");
    r1.log_rows(40, |s| format!("{}", 1.0 / (1.0 + s as f64)));
    let r2 = RunWriter::create(root, PROJECT, "r2");
    let image = png::solid(4, 3, [200, 30, 30, 255]);
    let d0 = version_file(
        root,
        "mnist",
        "dataset",
        0,
        &[
            ("images/a.png", image.clone()),
            ("labels.csv", b"id,label\n1,cat\n".to_vec()),
            ("README.md", b"# Digits\n".to_vec()),
        ],
        json!({"source": "torchvision", "rows": 1}),
        "r1",
        5,
        0.0,
    );
    let d1 = version_file(
        root,
        "mnist",
        "dataset",
        1,
        &[
            ("images/a.png", image),
            ("labels.csv", b"id,label\n1,cat\n2,\"dog, big\"\n".to_vec()),
            (
                "meta.json",
                br#"{"classes": ["cat", "dog"], "rows": 2}"#.to_vec(),
            ),
        ],
        json!({"source": "torchvision", "rows": 2, "split": {"train": 0.8}}),
        "r1",
        6,
        0.0,
    );
    let arrays = stored_zip(&[
        ("embeddings.npy", npy("<f4", "(3, 2)", &[0; 24])),
        ("labels.npy", npy("<i8", "(3,)", &[0; 24])),
    ]);
    let mut digests = Vec::new();
    for (v, loss) in [(0u64, 0.5), (1, 0.3), (2, 0.4)] {
        let weights = safetensors(&[("weight", &[2, 3]), ("bias", &[3])]);
        let config = format!("{{\"epoch\": {v}}}");
        digests.push(version_file(
            root,
            "clf",
            "model",
            v,
            &[
                ("model.safetensors", weights),
                ("config.json", config.into_bytes()),
                ("arrays.npz", arrays.clone()),
            ],
            json!({"epoch": v}),
            "r1",
            10 * (v + 1),
            loss,
        ));
    }
    std::fs::write(
        root.join(PROJECT).join(".artifacts/clf/aliases.jsonl"),
        format!(
            "{}\n",
            json!({"alias": "prod", "version": 0, "at": now_secs()})
        ),
    )
    .unwrap();
    let mut r1_lines = vec![
        line("output", "mnist", 0, &d0, "dataset", 5),
        line("output", "mnist", 1, &d1, "dataset", 6),
    ];
    for (v, d) in digests.iter().enumerate() {
        r1_lines.push(line(
            "output",
            "clf",
            v as u64,
            d,
            "model",
            10 * (v as u64 + 1),
        ));
    }
    lineage(&r1.dir, &r1_lines);
    lineage(
        &r2.dir,
        &[
            line("input", "mnist", 1, &d1, "dataset", 0),
            line("input", "clf", 1, &digests[1], "model", 0),
        ],
    );
}

async fn click(c: &Client, css: &str) {
    let ok = js(
        c,
        "const e = document.querySelector(arguments[0]); if (!e) return false; e.click(); return true;",
        vec![json!(css)],
    )
    .await;
    if ok != json!(true) {
        screenshot(c, "artifacts-ui").await;
        panic!("nothing to click at {css}");
    }
}

/// Waits until `css` matches something, and returns the texts of what it matches.
async fn wait_texts(c: &Client, what: &str, css: &str) -> Vec<String> {
    eventually(what, T, || texts(c, css), |t| !t.is_empty()).await
}

#[tokio::test]
async fn artifacts_are_listed_previewed_diffed_and_aliased_in_the_browser() {
    let root = tempfile::tempdir().unwrap();
    layout(root.path());
    let d = Daemon::start(root.path());
    require_web(&d).await;
    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&driver, profile.path()).await;

    // The project page links to the Artifacts tab.
    c.goto(&d.url(&format!("/projects/{PROJECT}")))
        .await
        .unwrap();
    eventually(
        "the Artifacts link",
        T,
        || count(&c, "[data-testid=artifacts-link]"),
        |n| *n == 1,
    )
    .await;
    click(&c, "[data-testid=artifacts-link]").await;

    // Types, then names with their versions.
    let types = eventually(
        "both artifact types",
        T,
        || attrs(&c, "[data-testid=artifact-type]", "data-type"),
        |t| t.len() == 2,
    )
    .await;
    assert_eq!(types, ["dataset", "model"]);
    assert_eq!(
        attrs(&c, "[data-testid=artifact-row]", "data-name").await,
        ["mnist", "clf"]
    );
    click(
        &c,
        "[data-testid=artifact-row][data-name=clf] [data-testid=artifact-expand]",
    )
    .await;
    let versions = eventually(
        "clf's versions",
        T,
        || attrs(&c, "[data-testid=artifact-version-row]", "data-version"),
        |v| v.len() == 3,
    )
    .await;
    assert_eq!(versions, ["2", "1", "0"], "newest first");
    let run_links = attrs(&c, "[data-testid=version-run-link]", "href").await;
    assert!(
        run_links
            .iter()
            .all(|h| h.ends_with("/projects/ap/runs/r1")),
        "{run_links:?}"
    );
    let row_aliases = texts(
        &c,
        "[data-testid=artifact-version-row][data-version='0'] [data-testid=artifact-alias]",
    )
    .await;
    assert_eq!(row_aliases, ["prod"], "the user alias on v0");

    // The list is live: an alias moved elsewhere appears without a reload.
    let moved = reqwest::Client::new()
        .put(d.url("/api/projects/ap/artifacts/clf/aliases/staging"))
        .json(&json!({"version": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status().as_u16(), 204);
    eventually(
        "the moved alias in the list",
        T,
        || {
            texts(
                &c,
                "[data-testid=artifact-row][data-name=clf] [data-testid=artifact-alias]",
            )
        },
        |a| a.iter().any(|x| x == "staging→v2"),
    )
    .await;

    // The best models: by the first goal metric, smallest val/loss first.
    let best = eventually(
        "the best models",
        T,
        || attrs(&c, "[data-testid=model-row]", "data-version"),
        |v| v.len() == 3,
    )
    .await;
    assert_eq!(best, ["1", "2", "0"]);
    set_value(&c, "[data-testid=model-sort]", "created").await;
    let by_time = eventually(
        "models by creation",
        T,
        || attrs(&c, "[data-testid=model-row]", "data-version"),
        |v| v.first().map(String::as_str) == Some("2"),
    )
    .await;
    assert_eq!(by_time, ["2", "1", "0"]);

    // A dataset version: its file tree, the image decoded, JSON, CSV cells.
    c.goto(&d.url("/projects/ap/artifacts/mnist/v1"))
        .await
        .unwrap();
    let paths = eventually(
        "the file tree",
        T,
        || attrs(&c, "[data-testid=file-tree] [data-path]", "data-path"),
        |p| p.len() == 4,
    )
    .await;
    assert_eq!(paths, ["images", "images/a.png", "labels.csv", "meta.json"]);
    assert_eq!(
        attr(&c, "[data-testid=version-run]", "href")
            .await
            .as_deref()
            .map(|h| h.ends_with("/runs/r1")),
        Some(true)
    );
    let width = eventually(
        "the image preview decoded",
        T,
        || async {
            js(
                &c,
                "const i = document.querySelector('[data-testid=preview-image]');
                 return i && i.complete ? i.naturalWidth : 0;",
                vec![],
            )
            .await
            .as_u64()
            .unwrap_or(0)
        },
        |w| *w > 0,
    )
    .await;
    assert_eq!(width, 4);
    click(&c, "[data-testid=artifact-file][data-path='meta.json']").await;
    let json_text = wait_texts(&c, "the JSON preview", "[data-testid=preview-json]").await;
    assert!(json_text[0].contains("\"classes\""), "{json_text:?}");
    click(&c, "[data-testid=artifact-file][data-path='labels.csv']").await;
    let cells = wait_texts(&c, "the CSV cells", "[data-testid=csv-cell]").await;
    assert_eq!(cells, ["1", "cat", "2", "dog, big"]);
    let leaves = texts(&c, "[data-testid=version-metadata] [data-testid=json-leaf]").await;
    assert!(leaves.iter().any(|l| l == "train: 0.8"), "{leaves:?}");

    // The diff with v0 (the previous version, chosen at first).
    let changes = eventually(
        "the diff with v0",
        T,
        || async {
            let paths = attrs(&c, "[data-testid=diff-file]", "data-path").await;
            let kinds = attrs(&c, "[data-testid=diff-file]", "data-change").await;
            paths.into_iter().zip(kinds).collect::<Vec<_>>()
        },
        |c| !c.is_empty(),
    )
    .await;
    let expect: Vec<(String, String)> = [
        ("README.md", "removed"),
        ("labels.csv", "changed"),
        ("meta.json", "added"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(changes, expect);
    assert_eq!(
        attrs(&c, "[data-testid=diff-meta]", "data-key").await,
        ["rows", "split"]
    );

    // A model version: the safetensors tensor list and the lineage graph.
    c.goto(&d.url("/projects/ap/artifacts/clf/v1"))
        .await
        .unwrap();
    wait_texts(&c, "the file tree", "[data-testid=artifact-file]").await;
    click(
        &c,
        "[data-testid=artifact-file][data-path='model.safetensors']",
    )
    .await;
    let tensors = eventually(
        "the tensor list",
        T,
        || texts(&c, "[data-testid=tensor-row]"),
        |t| t.len() == 2,
    )
    .await;
    assert_eq!(tensors, ["biasF32[3]", "weightF32[2, 3]"]);
    click(&c, "[data-testid=artifact-file][data-path='arrays.npz']").await;
    let arrays = eventually(
        "the npz arrays",
        T,
        || texts(&c, "[data-testid=npz-row]"),
        |t| t.len() == 2,
    )
    .await;
    assert!(arrays[0].starts_with("embeddings<f4[3, 2]"), "{arrays:?}");
    assert!(arrays[1].starts_with("labels<i8[3]"), "{arrays:?}");
    let producer = attrs(&c, "[data-testid=lineage-producer]", "data-run").await;
    assert_eq!(producer, ["r1"]);
    assert_eq!(
        attrs(&c, "[data-testid=lineage-user]", "data-run").await,
        ["r2"]
    );
    assert_eq!(texts(&c, "[data-testid=lineage-version]").await, ["clf:v1"]);
    let aliases = texts(
        &c,
        "[data-testid=version-aliases] [data-testid=artifact-alias]",
    )
    .await;
    assert_eq!(aliases, ["best"], "the automatic best is v1: {aliases:?}");

    // The owner adds an alias: a reserved one is refused here, a good one appears.
    set_value(&c, "[data-testid=alias-input]", "latest").await;
    click(&c, "[data-testid=alias-add]").await;
    wait_texts(&c, "the alias refused", "[data-testid=alias-error]").await;
    set_value(&c, "[data-testid=alias-input]", "candidate").await;
    click(&c, "[data-testid=alias-add]").await;
    eventually(
        "the new alias on the page",
        T,
        || {
            texts(
                &c,
                "[data-testid=version-aliases] [data-testid=artifact-alias]",
            )
        },
        |a| a.iter().any(|x| x == "candidate"),
    )
    .await;
    let stored = d
        .get_ok("/api/projects/ap/artifacts/clf/versions/candidate")
        .await;
    assert_eq!(stored["info"]["version"], 1);
    // An alias set elsewhere shows on the open page too.
    let moved = reqwest::Client::new()
        .put(d.url("/api/projects/ap/artifacts/clf/aliases/shadow"))
        .json(&json!({"version": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status().as_u16(), 204);
    eventually(
        "the alias set elsewhere",
        T,
        || {
            texts(
                &c,
                "[data-testid=version-aliases] [data-testid=artifact-alias]",
            )
        },
        |a| a.iter().any(|x| x == "shadow"),
    )
    .await;

    // The run page marks the steps at which r1 logged a version on its step charts.
    c.goto(&d.url("/projects/ap/runs/r1")).await.unwrap();
    eventually(
        "the loss chart",
        T,
        || count(&c, "[data-testid=chart][data-key=loss]"),
        |n| *n == 1,
    )
    .await;
    js(
        &c,
        "document.querySelector('[data-testid=chart][data-key=loss]').scrollIntoView();",
        vec![],
    )
    .await;
    let steps = eventually(
        "the checkpoint markers",
        T,
        || attrs(&c, "[data-testid=checkpoint-marker]", "data-step"),
        |s| s.len() >= 5,
    )
    .await;
    assert_eq!(steps[..5], ["5", "6", "10", "20", "30"]);
    let heads = attrs(&c, "[data-testid=checkpoint-head]", "href").await;
    assert!(
        heads[2].ends_with("/projects/ap/artifacts/clf/v0"),
        "{heads:?}"
    );

    // The owner deletes v0, which the alias prod names: asked twice, then gone with its alias.
    c.goto(&d.url("/projects/ap/artifacts/clf/v0"))
        .await
        .unwrap();
    wait_texts(&c, "the delete button", "[data-testid=version-delete]").await;
    click(&c, "[data-testid=version-delete]").await;
    click(&c, "[data-testid=version-delete-yes]").await;
    wait_texts(
        &c,
        "the in-use message",
        "[data-testid=version-delete-message]",
    )
    .await;
    click(&c, "[data-testid=version-delete-yes]").await;
    eventually(
        "back on the Artifacts page",
        T,
        || count(&c, "[data-testid=artifacts-page]"),
        |n| *n == 1,
    )
    .await;
    let left = d.get_ok("/api/projects/ap/artifacts/clf/versions").await;
    let numbers: Vec<u64> = left
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [2, 1]);

    let errors = page_errors(&c, &driver).await;
    assert!(errors.is_empty(), "page errors: {errors:?}");
    c.close().await.unwrap();
}
