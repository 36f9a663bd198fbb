//! Media panels in a real browser: images logged by two runs side by side, each panel's step
//! slider and the global one, a new step appearing live and followed, masks and boxes with class
//! toggles, a logged HTML page that cannot reach the dashboard or the API, and images logged by a
//! real Python script on the run page.

use crate::common::*;
use crate::python::python;
use crate::web::*;
use fantoccini::Client;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;
use trackline_tests::png;

const T: Duration = Duration::from_secs(30);
const SAMPLES: &str = "[data-testid=media-panel][data-key=samples]";
const SEG: &str = "[data-testid=media-panel][data-key=seg]";

/// Writes `bytes` as the run's media file `rel` and returns its reference fields.
fn media_file(run_dir: &Path, rel: &str, bytes: &[u8]) -> Value {
    let path = run_dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    json!({"path": rel, "sha256": "0".repeat(64), "size": bytes.len()})
}

/// A row logging a 4×4 image whose colour says its run and step.
fn image_row(w: &mut RunWriter, run: u8, step: u64) -> String {
    let rel = format!(
        "media/images/samples_{step}_{:020x}.png",
        u64::from(run) * 1000 + step
    );
    let mut img = media_file(
        &w.dir,
        &rel,
        &png::solid(4, 4, [run * 100, (step as u8).wrapping_mul(30), 0, 255]),
    );
    img["_type"] = json!("image-file");
    img["format"] = json!("png");
    img["width"] = json!(4);
    img["height"] = json!(4);
    img["caption"] = json!(format!("run {run} step {step}"));
    format!(
        "{}\n",
        json!({"_step": step, "_timestamp": now_secs(), "loss": 1.0, "samples": img})
    )
}

/// A 10×10 segmentation image at `step`: a mask of class 1 ("cat") on the left half and class 2
/// ("dog") on the right, and one box of each class.
fn seg_row(w: &mut RunWriter, step: u64) -> String {
    let img = media_file(
        &w.dir,
        &format!("media/images/seg_{step}_{:020x}.png", 77 + step),
        &png::solid(10, 10, [200, 200, 200, 255]),
    );
    let classes: Vec<u8> = (0..100).map(|i| if i % 10 < 5 { 1 } else { 2 }).collect();
    let mask = media_file(
        &w.dir,
        &format!("media/images/mask/seg_{step}_{:020x}.mask.png", 88 + step),
        &png::encode(10, 10, 1, &classes),
    );
    let boxes = json!({"box_data": [
        {"position": {"minX": 0.1, "maxX": 0.4, "minY": 0.1, "maxY": 0.9}, "class_id": 1,
         "box_caption": "cat", "scores": {"conf": 0.9}},
        {"position": {"minX": 0.6, "maxX": 0.9, "minY": 0.1, "maxY": 0.9}, "class_id": 2,
         "box_caption": "dog", "scores": {"conf": 0.2}}],
        "class_labels": {"1": "cat", "2": "dog"}});
    let boxes = media_file(
        &w.dir,
        &format!(
            "media/metadata/boxes2D/seg_{step}_{:020x}.boxes2D.json",
            99 + step
        ),
        &serde_json::to_vec(&boxes).unwrap(),
    );
    let mut img = img;
    img["_type"] = json!("image-file");
    img["width"] = json!(10);
    img["height"] = json!(10);
    img["format"] = json!("png");
    img["class_labels"] = json!({"1": "cat", "2": "dog"});
    img["masks"] = json!({"pred": {"_type": "mask", "path": mask["path"]}});
    img["boxes"] = json!({"gt": {"_type": "boxes2D", "path": boxes["path"]}});
    format!(
        "{}\n",
        json!({"_step": step, "_timestamp": now_secs(), "seg": img})
    )
}

async fn open(c: &Client, d: &Daemon, path: &str) {
    c.goto(&d.url(path)).await.expect("open the page");
}

/// The `data-step` of each run's row in a panel.
async fn row_steps(c: &Client, panel: &str) -> Vec<String> {
    attrs(c, &format!("{panel} [data-testid=media-row]"), "data-step").await
}

/// The RGBA of the overlay canvas's pixel (x, y) in the panel.
async fn overlay_pixel(c: &Client, panel: &str, x: u32, y: u32) -> Vec<u64> {
    let v = js(
        c,
        "const cv = document.querySelector(arguments[0]); if (!cv || !cv.width) return [];
         return Array.from(cv.getContext('2d').getImageData(arguments[1], arguments[2], 1, 1).data);",
        vec![json!(format!("{panel} canvas.media-overlay")), json!(x), json!(y)],
    )
    .await;
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn image_panels_step_through_every_logged_step_live() {
    let root = tempfile::tempdir().unwrap();
    let mut r1 = RunWriter::create(root.path(), "mu", "r1");
    let mut r2 = RunWriter::create(root.path(), "mu", "r2");
    for step in 0..5 {
        let row = image_row(&mut r1, 1, step);
        r1.append_raw(&row);
        let row = image_row(&mut r2, 2, step);
        r2.append_raw(&row);
    }
    for step in 5..7 {
        let row = seg_row(&mut r1, step);
        r1.append_raw(&row);
    }
    let d = Daemon::start(root.path());
    require_web(&d).await;
    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&driver, profile.path()).await;
    open(&c, &d, "/projects/mu").await;

    // Both runs side by side, each at its newest step.
    let steps = eventually(
        "both runs' rows at their newest step",
        T,
        || row_steps(&c, SAMPLES),
        |s| s.len() == 2 && s.iter().all(|x| x == "4"),
    )
    .await;
    assert_eq!(steps.len(), 2);
    // The charts (metric keys) and the media panels (media keys) share one `run` subscription a
    // run: the daemon serves each run's changes once to this page, not once per view.
    let topics = js(&c, "return window.__trackline_ws_topics || {};", vec![]).await;
    assert_eq!(
        topics["run"],
        json!(2),
        "run subscriptions by kind: {topics}"
    );
    // The charts' keys came with the topic: no `/keys` request was made for them.
    eventually(
        "the loss chart, from the keys the topic sent",
        T,
        || async {
            js(
                &c,
                "return !!document.querySelector('[data-testid=panel][data-key=loss]');",
                vec![],
            )
            .await
        },
        |found| found == &json!(true),
    )
    .await;
    let keys_requests = js(
        &c,
        "return performance.getEntriesByType('resource')
           .filter(e => /\\/keys(\\?|$)/.test(e.name)).map(e => e.name);",
        vec![],
    )
    .await;
    assert_eq!(
        keys_requests,
        json!([]),
        "HTTP key requests: {keys_requests}"
    );
    let label = texts(&c, &format!("{SAMPLES} [data-testid=media-slider-label]")).await;
    assert!(
        label[0].contains("step 4") && label[0].contains("newest"),
        "{label:?}"
    );

    // The panel's slider: every logged step is reachable, and the image follows.
    set_value(&c, &format!("{SAMPLES} [data-testid=media-slider]"), "2").await;
    eventually(
        "the panel at step 2",
        T,
        || row_steps(&c, SAMPLES),
        |s| s.iter().all(|x| x == "2"),
    )
    .await;
    let srcs = attrs(
        &c,
        &format!("{SAMPLES} [data-testid=media-image] img"),
        "src",
    )
    .await;
    assert!(srcs.iter().all(|s| s.contains("samples_2_")), "{srcs:?}");
    let captions = texts(
        &c,
        &format!("{SAMPLES} [data-testid=media-image] figcaption"),
    )
    .await;
    assert_eq!(captions, ["run 1 step 2", "run 2 step 2"]);
    // The other panel did not move.
    assert_eq!(row_steps(&c, SEG).await, ["6"]);

    // The global slider moves every panel; a run shows the last step it logged at or before.
    set_value(&c, "[data-testid=media-global-slider]", "5").await;
    eventually(
        "every panel at the global step 5",
        T,
        || async { (row_steps(&c, SAMPLES).await, row_steps(&c, SEG).await) },
        |(a, b)| a.iter().all(|x| x == "4") && b == &["5"],
    )
    .await;

    // Following the newest again, a step logged now shows at once.
    let global_steps = attr(&c, "[data-testid=media-global-slider]", "max")
        .await
        .unwrap();
    set_value(&c, "[data-testid=media-global-slider]", &global_steps).await;
    let row = image_row(&mut r1, 1, 9);
    r1.append_raw(&row);
    eventually(
        "the new step, live",
        T,
        || row_steps(&c, SAMPLES),
        |s| s.first().map(String::as_str) == Some("9"),
    )
    .await;
    let srcs = attrs(
        &c,
        &format!("{SAMPLES} [data-testid=media-row][data-run=r1] img"),
        "src",
    )
    .await;
    assert!(srcs[0].contains("samples_9_"), "{srcs:?}");

    // Masks and boxes: the left half is "cat" (class 1), drawn until the class is toggled off.
    eventually(
        "the mask drawn",
        T,
        || overlay_pixel(&c, SEG, 2, 5),
        |p| p.len() == 4 && p[3] > 0,
    )
    .await;
    let classes = attrs(
        &c,
        &format!("{SEG} [data-testid=media-class]"),
        "data-class",
    )
    .await;
    assert!(
        classes.contains(&"cat".to_string()) && classes.contains(&"dog".to_string()),
        "{classes:?}"
    );
    // Class "cat" off in the mask layer and in the box layer (its box and caption go too).
    for layer in ["pred", "gt"] {
        c.find(fantoccini::Locator::Css(&format!(
            "{SEG} [data-testid=media-class][data-layer={layer}][data-class=cat]"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    }
    eventually(
        "class cat hidden",
        T,
        || overlay_pixel(&c, SEG, 2, 5),
        |p| p.len() == 4 && p[3] == 0,
    )
    .await;
    // The right half ("dog") is still drawn.
    let dog = overlay_pixel(&c, SEG, 7, 5).await;
    assert!(dog[3] > 0, "{dog:?}");
    let errors = page_errors(&c, &driver).await;
    assert!(errors.is_empty(), "{errors:?}");
    let _ = c.close().await;
}

#[tokio::test]
async fn a_logged_html_page_cannot_reach_the_dashboard_or_the_api() {
    let root = tempfile::tempdir().unwrap();
    let mut w = RunWriter::create(root.path(), "mh", "r1");
    // The page tries to read and change its parent, and to call the API; it writes what happened
    // into its own body.
    let page = br#"<!doctype html><body><p id="out">running</p><script>
        const out = [];
        try { out.push('parent:' + parent.document.title); parent.document.body.innerHTML = 'pwned'; }
        catch (e) { out.push('parent:blocked'); }
        try { out.push('cookie:' + document.cookie); } catch (e) { out.push('cookie:blocked'); }
        fetch('/api/projects').then(r => r.text()).then(
            t => { out.push('api:' + t.slice(0, 40)); document.getElementById('out').textContent = out.join(' '); },
            e => { out.push('api:blocked'); document.getElementById('out').textContent = out.join(' '); });
        </script></body>"#;
    let mut html = media_file(&w.dir, "media/html/page_0_00000000000000000001.html", page);
    html["_type"] = json!("html-file");
    w.append_raw(&format!(
        "{}\n",
        json!({"_step": 0, "_timestamp": now_secs(), "page": html})
    ));
    let d = Daemon::start(root.path());
    require_web(&d).await;
    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&driver, profile.path()).await;
    open(&c, &d, "/projects/mh/runs/r1").await;
    eventually(
        "the HTML frame",
        T,
        || count(&c, "iframe.media-html"),
        |n| *n == 1,
    )
    .await;
    let sandbox = attr(&c, "iframe.media-html", "sandbox").await.unwrap();
    assert_eq!(sandbox, "allow-scripts");
    let frame = c
        .find(fantoccini::Locator::Css("iframe.media-html"))
        .await
        .unwrap();
    frame.enter_frame().await.unwrap();
    let said = eventually(
        "the page's own report",
        T,
        || async {
            match c.find(fantoccini::Locator::Css("#out")).await {
                Ok(e) => e.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            }
        },
        |t| t.contains("api:"),
    )
    .await;
    assert!(said.contains("parent:blocked"), "{said}");
    assert!(
        said.contains("cookie:blocked") || said.contains("cookie: "),
        "{said}"
    );
    assert!(said.contains("api:blocked"), "{said}");
    c.enter_parent_frame().await.unwrap();
    // The dashboard is untouched.
    assert!(count(&c, "[data-testid=media-panel]").await >= 1);
    let _ = c.close().await;
}

#[tokio::test]
async fn images_logged_by_a_python_script_show_on_the_run_page() {
    let root = tempfile::tempdir().unwrap();
    let script = root.path().join("log_images.py");
    std::fs::write(
        &script,
        r#"
import trackline as wandb
run = wandb.init(project="mp", name="pics")
for step in range(3):
    pixels = [[(x * 60 + step * 40) % 256 for x in range(4)] for _ in range(4)]
    wandb.log({"loss": 1 / (step + 1), "digits": [wandb.Image(pixels, caption="d%d" % step)] * 2})
print("RUN", run.id, flush=True)
wandb.finish()
"#,
    )
    .unwrap();
    let out = python(root.path()).arg(&script).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let run = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RUN "))
        .expect("the run id")
        .trim()
        .to_string();
    let d = Daemon::start(root.path());
    require_web(&d).await;
    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&driver, profile.path()).await;
    open(&c, &d, &format!("/projects/mp/runs/{run}")).await;
    let panel = "[data-testid=media-panel][data-key=digits]";
    let images = format!("{panel} [data-testid=media-image]");
    let captions = format!("{panel} [data-testid=media-image] figcaption");
    eventually(
        "two images of the newest step",
        T,
        || count(&c, &images),
        |n| *n == 2,
    )
    .await;
    let label = texts(&c, &format!("{panel} [data-testid=media-slider-label]")).await;
    assert!(label[0].contains("3/3"), "{label:?}");
    set_value(&c, &format!("{panel} [data-testid=media-slider]"), "0").await;
    eventually(
        "the first step's captions",
        T,
        || texts(&c, &captions),
        |t| t == &["d0", "d0"],
    )
    .await;
    // The images load (the daemon serves the files the client wrote).
    let loaded = eventually("images decoded", T, || async {
        js(&c, "return [...document.querySelectorAll(arguments[0])].every(i => i.complete && i.naturalWidth === 4);",
            vec![json!(format!("{panel} img"))]).await
    }, |v| v == &json!(true))
    .await;
    assert_eq!(loaded, json!(true));
    let _ = c.close().await;
}
