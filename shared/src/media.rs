//! Logged media (images, histograms, tables, audio, video, HTML, plotly, 3-D objects, W&B custom
//! charts): the wire types of a run's media and the one reader of the reference objects a history
//! row holds (docs/format.md, "Media references"), so the daemon (index, path checks) and the web
//! app (panels) read them alike.
//!
//! A media value is stored in the row as W&B stores it: a JSON object with a `_type` (`image-file`,
//! `images/separated`, `histogram`, `table-file`, `audio-file`, `audio`, `video-file`, `videos`,
//! `html-file`, `plotly-file`, `object3D-file`, `object3D`, `molecule-file`), or a JSON list of such
//! objects. Paths are relative to the run directory and always under `media/`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What a media key holds, for choosing its panel.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Image,
    Histogram,
    Table,
    Audio,
    Video,
    Html,
    Plotly,
    Object3d,
    Molecule,
}

impl MediaKind {
    /// The sub-folder of `media/` W&B writes this kind to.
    pub fn subdir(self) -> &'static str {
        match self {
            MediaKind::Image => "images",
            MediaKind::Histogram => "",
            MediaKind::Table => "table",
            MediaKind::Audio => "audio",
            MediaKind::Video => "videos",
            MediaKind::Html => "html",
            MediaKind::Plotly => "plotly",
            MediaKind::Object3d => "object3D",
            MediaKind::Molecule => "molecule",
        }
    }
}

/// One media key of a run: `GET /api/projects/{p}/runs/{r}/media` answers a list of these, and
/// the `run` topic sends [`crate::ws::ServerMsg::MediaKeys`] when one appears or grows.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct MediaKeyInfo {
    pub key: String,
    pub kind: MediaKind,
    /// How many rows logged a value under this key.
    pub count: u64,
    pub first_step: f64,
    pub last_step: f64,
}

/// One logged value of a media key: the row's step and wall time and the reference object (or
/// list of them) exactly as logged. Read it with [`MediaValue::parse`].
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct MediaEntry {
    pub step: f64,
    pub wall_time: f64,
    pub value: Value,
}

/// Most entries sent in one [`crate::ws::ServerMsg::Media`] message; longer backlogs arrive in
/// several.
pub const MAX_MEDIA_ENTRIES_PER_MESSAGE: usize = 512;

/// Largest reference object (or list) the daemon keeps for one media value, in bytes of JSON; a
/// larger one is skipped with a warning (an inline histogram of 512 bins is ~15 KB).
pub const MAX_MEDIA_VALUE_BYTES: usize = 256 * 1024;

/// A file a media value names.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug, Default)]
pub struct FileRef {
    /// Relative to the run directory, under `media/`.
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// One image, with its overlays (W&B's `image-file`, or one image of `images/separated`).
#[derive(Clone, PartialEq, Debug, Default)]
pub struct ImageRef {
    pub file: FileRef,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub format: Option<String>,
    pub caption: Option<String>,
    /// Mask layers by name: a PNG whose pixel values are class ids (`media/images/mask/…`).
    pub masks: Vec<(String, FileRef)>,
    /// Box layers by name: a `boxes2D` JSON file (`media/metadata/boxes2D/…`).
    pub boxes: Vec<(String, FileRef)>,
    /// Class id → label, when the ref carries one (W&B keeps them in the mask/box files and in
    /// the run's `_wandb` config; the client copies them here too).
    pub class_labels: Vec<(String, String)>,
}

/// A sound (`audio-file`, or one of an `audio` list).
#[derive(Clone, PartialEq, Debug, Default)]
pub struct AudioRef {
    pub file: FileRef,
    pub sample_rate: Option<f64>,
    pub duration: Option<f64>,
    pub caption: Option<String>,
}

/// A video (`video-file`, or one of a `videos` list): gif, mp4, webm or ogg.
#[derive(Clone, PartialEq, Debug, Default)]
pub struct VideoRef {
    pub file: FileRef,
    pub format: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub caption: Option<String>,
}

/// A file shown by a viewer of its own: HTML (sandboxed frame), plotly JSON, a 3-D object
/// (obj, gltf, glb, stl, `pts.json` point clouds), a molecule.
#[derive(Clone, PartialEq, Debug, Default)]
pub struct DocRef {
    pub file: FileRef,
    /// The file's extension as W&B names it (`html`, `plotly.json`, `obj`, `pts.json`, `pdb`, ...).
    pub format: Option<String>,
    pub caption: Option<String>,
}

/// A logged table (`table-file`): `{"columns": [...], "data": [[...], ...]}` in a JSON file.
#[derive(Clone, PartialEq, Debug, Default)]
pub struct TableRef {
    pub file: FileRef,
    pub nrows: Option<u64>,
    pub ncols: Option<u64>,
}

/// A media value read from its reference object. Lists of one kind read as one value of that
/// kind with several items.
#[derive(Clone, PartialEq, Debug)]
pub enum MediaValue {
    Images(Vec<ImageRef>),
    /// `bins` has one more edge than `values` has counts.
    Histogram {
        bins: Vec<f64>,
        values: Vec<f64>,
    },
    Table(TableRef),
    Audio(Vec<AudioRef>),
    Video(Vec<VideoRef>),
    Html(Vec<DocRef>),
    Plotly(Vec<DocRef>),
    Object3d(Vec<DocRef>),
    Molecule(Vec<DocRef>),
}

impl MediaValue {
    /// Reads a history value; `None` for anything that is not media (numbers, strings, plain
    /// objects) or is malformed.
    pub fn parse(value: &Value) -> Option<MediaValue> {
        match value {
            Value::Object(o) => parse_object(o),
            Value::Array(items) if !items.is_empty() => {
                let mut parsed = items.iter().map(|v| v.as_object().and_then(parse_object));
                let first = parsed.next()??;
                parsed.try_fold(first, |acc, next| acc.merge(next?))
            }
            _ => None,
        }
    }

    pub fn kind(&self) -> MediaKind {
        match self {
            MediaValue::Images(_) => MediaKind::Image,
            MediaValue::Histogram { .. } => MediaKind::Histogram,
            MediaValue::Table(_) => MediaKind::Table,
            MediaValue::Audio(_) => MediaKind::Audio,
            MediaValue::Video(_) => MediaKind::Video,
            MediaValue::Html(_) => MediaKind::Html,
            MediaValue::Plotly(_) => MediaKind::Plotly,
            MediaValue::Object3d(_) => MediaKind::Object3d,
            MediaValue::Molecule(_) => MediaKind::Molecule,
        }
    }

    /// Every file the value names (images with their masks and box files, tables, ...).
    pub fn files(&self) -> Vec<&FileRef> {
        match self {
            MediaValue::Images(images) => images
                .iter()
                .flat_map(|i| {
                    std::iter::once(&i.file)
                        .chain(i.masks.iter().map(|(_, f)| f))
                        .chain(i.boxes.iter().map(|(_, f)| f))
                })
                .collect(),
            MediaValue::Histogram { .. } => Vec::new(),
            MediaValue::Table(t) => vec![&t.file],
            MediaValue::Audio(a) => a.iter().map(|a| &a.file).collect(),
            MediaValue::Video(v) => v.iter().map(|v| &v.file).collect(),
            MediaValue::Html(d)
            | MediaValue::Plotly(d)
            | MediaValue::Object3d(d)
            | MediaValue::Molecule(d) => d.iter().map(|d| &d.file).collect(),
        }
    }

    /// Two values of one list kind as one (the items of a JSON list of refs).
    fn merge(self, next: MediaValue) -> Option<MediaValue> {
        macro_rules! concat_lists {
            ($($kind:ident),*) => {
                match (self, next) {
                    $((MediaValue::$kind(mut a), MediaValue::$kind(b)) => {
                        a.extend(b);
                        Some(MediaValue::$kind(a))
                    })*
                    _ => None,
                }
            };
        }
        concat_lists!(Images, Audio, Video, Html, Plotly, Object3d, Molecule)
    }
}

/// Whether `path` may name a media file: relative, under `media/`, no empty, `.` or `..`
/// component, no hidden component, no backslash or NUL. The daemon still opens it beneath the run
/// directory with no link followed; this is the first, cheap refusal.
pub fn is_media_path(path: &str) -> bool {
    let mut parts = path.split('/');
    parts.next() == Some("media")
        && path.len() <= 1024
        && !path.contains(['\\', '\0'])
        && path
            .split('/')
            .skip(1)
            .all(|c| !c.is_empty() && !c.starts_with('.'))
        && path.split('/').count() >= 2
}

/// A W&B custom chart (`wandb.plot.line`, `scatter`, `bar`, `histogram`, `line_series`,
/// `confusion_matrix`, `pr_curve`, `roc_curve`, `plot_table`): W&B keeps its spec in the run's
/// config under `_wandb.visualize.<key>` and logs its data as a table under `table_key`.
#[derive(Clone, PartialEq, Debug)]
pub struct CustomChart {
    /// The key the chart was logged under.
    pub key: String,
    /// `wandb/line/v0`, `wandb/scatter/v0`, `wandb/bar/v0`, `wandb/histogram/v0`,
    /// `wandb/lineseries/v0`, `wandb/confusion_matrix/v1`, `wandb/area-under-curve/v0`, ...
    pub spec: String,
    /// Chart field → table column (`x`, `y`, `stroke`, `label`, `value`, ...).
    pub fields: Vec<(String, String)>,
    /// `title`, `x-axis-title`, ...
    pub strings: Vec<(String, String)>,
    /// The history key of its table: `<key>_table`.
    pub table_key: String,
}

/// The custom charts a run's config declares (`config["_wandb"]["visualize"]`, W&B's shape:
/// `{"panel_type": "Vega2", "panel_config": {"panelDefId", "fieldSettings", "stringSettings",
/// "userQuery": ... "tableKey" ...}}`), sorted by key.
pub fn custom_charts(config: &Map<String, Value>) -> Vec<CustomChart> {
    let Some(visualize) = config
        .get("_wandb")
        .and_then(|w| w.get("value").filter(|v| v.is_object()).or(Some(w)))
        .and_then(|w| w.get("visualize"))
        .and_then(Value::as_object)
    else {
        return Vec::new();
    };
    let mut charts: Vec<CustomChart> = visualize
        .iter()
        .filter_map(|(key, v)| {
            let panel = v.get("panel_config")?;
            let spec = panel.get("panelDefId")?.as_str()?.to_string();
            let table_key = find_table_key(panel).unwrap_or_else(|| format!("{key}_table"));
            Some(CustomChart {
                key: key.clone(),
                spec,
                fields: string_pairs(panel.get("fieldSettings")),
                strings: string_pairs(panel.get("stringSettings")),
                table_key,
            })
        })
        .collect();
    charts.sort_by(|a, b| a.key.cmp(&b.key));
    charts
}

fn find_table_key(v: &Value) -> Option<String> {
    match v {
        Value::Object(o) => {
            if o.get("name").and_then(Value::as_str) == Some("tableKey")
                && let Some(s) = o.get("value").and_then(Value::as_str)
            {
                return Some(s.to_string());
            }
            o.values().find_map(find_table_key)
        }
        Value::Array(a) => a.iter().find_map(find_table_key),
        _ => None,
    }
}

fn string_pairs(v: Option<&Value>) -> Vec<(String, String)> {
    v.and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| match v {
                    Value::String(s) => Some((k.clone(), s.clone())),
                    Value::Null => None,
                    other => Some((k.clone(), other.to_string())),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn parse_object(o: &Map<String, Value>) -> Option<MediaValue> {
    let ty = o.get("_type")?.as_str()?;
    Some(match ty {
        "image-file" => MediaValue::Images(vec![image(o)?]),
        "images/separated" | "images" => MediaValue::Images(separated_images(o)?),
        "histogram" => {
            let bins = numbers(o.get("bins")?)?;
            let values = numbers(o.get("values")?)?;
            if bins.len() != values.len() + 1 {
                return None;
            }
            MediaValue::Histogram { bins, values }
        }
        "table-file" | "incremental-table-file" => MediaValue::Table(TableRef {
            file: file(o)?,
            nrows: o.get("nrows").and_then(Value::as_u64),
            ncols: o.get("ncols").and_then(Value::as_u64),
        }),
        "audio-file" => MediaValue::Audio(vec![audio(o)?]),
        "audio" => MediaValue::Audio(list(o, "audio", audio)?),
        "video-file" => MediaValue::Video(vec![video(o)?]),
        "videos" => MediaValue::Video(list(o, "videos", video)?),
        "html-file" => MediaValue::Html(vec![doc(o)?]),
        "html" => MediaValue::Html(list(o, "html", doc)?),
        "plotly-file" => MediaValue::Plotly(vec![doc(o)?]),
        "object3D-file" => MediaValue::Object3d(vec![doc(o)?]),
        // W&B's list: full refs in `objects`; `filenames` are relative to `media/object3D/`.
        "object3D" => MediaValue::Object3d(
            list(o, "objects", doc).or_else(|| prefixed_list(o, "media/object3D/"))?,
        ),
        "molecule-file" => MediaValue::Molecule(vec![doc(o)?]),
        "molecule" => MediaValue::Molecule(list(o, "filenames", doc)?),
        _ => return None,
    })
}

fn string(o: &Map<String, Value>, key: &str) -> Option<String> {
    match o.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn dim(o: &Map<String, Value>, key: &str) -> Option<u32> {
    o.get(key)?.as_u64().and_then(|v| u32::try_from(v).ok())
}

fn numbers(v: &Value) -> Option<Vec<f64>> {
    v.as_array()?
        .iter()
        .map(|x| match x {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        })
        .collect()
}

fn file(o: &Map<String, Value>) -> Option<FileRef> {
    let path = o.get("path")?.as_str()?;
    is_media_path(path).then(|| FileRef {
        path: path.to_string(),
        sha256: o.get("sha256").and_then(Value::as_str).map(str::to_string),
        size: o.get("size").and_then(Value::as_u64),
    })
}

/// Items of a list-shaped ref: objects carrying a `path`, or bare path strings (W&B's
/// `filenames`).
fn list<T>(
    o: &Map<String, Value>,
    field: &str,
    item: fn(&Map<String, Value>) -> Option<T>,
) -> Option<Vec<T>> {
    let items = o.get(field)?.as_array()?;
    let captions = o.get("captions").and_then(Value::as_array);
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let mut obj = match v {
                Value::Object(m) => m.clone(),
                Value::String(p) => {
                    Map::from_iter([("path".to_string(), Value::String(p.clone()))])
                }
                _ => return None,
            };
            if let Some(c) = captions.and_then(|c| c.get(i)).filter(|c| !c.is_null()) {
                obj.entry("caption").or_insert_with(|| c.clone());
            }
            item(&obj)
        })
        .collect()
}

fn image(o: &Map<String, Value>) -> Option<ImageRef> {
    let layers = |field: &str| -> Vec<(String, FileRef)> {
        o.get(field)
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(name, v)| Some((name.clone(), file(v.as_object()?)?)))
                    .collect()
            })
            .unwrap_or_default()
    };
    Some(ImageRef {
        file: file(o)?,
        width: dim(o, "width"),
        height: dim(o, "height"),
        format: string(o, "format"),
        caption: string(o, "caption"),
        masks: layers("masks"),
        boxes: layers("boxes"),
        class_labels: o
            .get("class_labels")
            .map(|v| string_pairs(Some(v)))
            .unwrap_or_default(),
    })
}

/// The `filenames` of a list-shaped ref, relative to `dir`, as refs.
fn prefixed_list(o: &Map<String, Value>, dir: &str) -> Option<Vec<DocRef>> {
    o.get("filenames")?
        .as_array()?
        .iter()
        .map(|f| {
            let name = f.as_str()?;
            let path = if name.starts_with("media/") {
                name.to_string()
            } else {
                format!("{dir}{name}")
            };
            doc(&Map::from_iter([("path".to_string(), Value::String(path))]))
        })
        .collect()
}

/// W&B's `images/separated`: `filenames` (paths) with optional `captions`, `all_masks`,
/// `all_boxes` lists in the same order; `width`, `height`, `format` shared by all.
fn separated_images(o: &Map<String, Value>) -> Option<Vec<ImageRef>> {
    let names = o.get("filenames")?.as_array()?;
    let nth = |field: &str, i: usize| o.get(field).and_then(Value::as_array)?.get(i).cloned();
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut obj = Map::new();
            obj.insert("path".into(), name.clone());
            for shared in ["width", "height", "format", "class_labels"] {
                if let Some(v) = o.get(shared) {
                    obj.insert(shared.into(), v.clone());
                }
            }
            if let Some(c) = nth("captions", i).filter(|c| !c.is_null()) {
                obj.insert("caption".into(), c);
            }
            if let Some(m) = nth("all_masks", i).filter(Value::is_object) {
                obj.insert("masks".into(), m);
            }
            if let Some(b) = nth("all_boxes", i).filter(Value::is_object) {
                obj.insert("boxes".into(), b);
            }
            image(&obj)
        })
        .collect()
}

fn audio(o: &Map<String, Value>) -> Option<AudioRef> {
    Some(AudioRef {
        file: file(o)?,
        sample_rate: o.get("sample_rate").and_then(Value::as_f64),
        duration: o.get("duration").and_then(Value::as_f64),
        caption: string(o, "caption"),
    })
}

fn video(o: &Map<String, Value>) -> Option<VideoRef> {
    let f = file(o)?;
    let format = string(o, "format").or_else(|| extension(&f.path));
    Some(VideoRef {
        width: dim(o, "width"),
        height: dim(o, "height"),
        caption: string(o, "caption"),
        format,
        file: f,
    })
}

fn doc(o: &Map<String, Value>) -> Option<DocRef> {
    let f = file(o)?;
    let format = string(o, "format").or_else(|| extension(&f.path));
    Some(DocRef {
        caption: string(o, "caption"),
        format,
        file: f,
    })
}

/// `plotly.json`, `pts.json`, `table.json` count as one extension, like W&B's names.
fn extension(path: &str) -> Option<String> {
    let name = path.rsplit('/').next()?;
    for double in ["plotly.json", "pts.json", "table.json", "boxes2D.json"] {
        if name.ends_with(&format!(".{double}")) {
            return Some(double.to_string());
        }
    }
    name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_an_image_with_masks_and_boxes() {
        let v = json!({"_type": "image-file", "path": "media/images/img_0_abc.png",
            "sha256": "ab", "size": 10, "format": "png", "width": 4, "height": 3, "caption": "x",
            "masks": {"pred": {"_type": "mask", "path": "media/images/mask/img_0_d.mask.png"}},
            "boxes": {"gt": {"_type": "boxes2D", "path": "media/metadata/boxes2D/img_0_e.boxes2D.json"}}});
        let MediaValue::Images(images) = MediaValue::parse(&v).unwrap() else {
            panic!()
        };
        assert_eq!(images[0].width, Some(4));
        assert_eq!(images[0].masks[0].0, "pred");
        assert_eq!(
            images[0].boxes[0].1.path,
            "media/metadata/boxes2D/img_0_e.boxes2D.json"
        );
        assert_eq!(MediaValue::parse(&v).unwrap().files().len(), 3);
    }

    #[test]
    fn reads_separated_images_and_lists_of_refs() {
        let v = json!({"_type": "images/separated", "width": 2, "height": 2, "format": "png",
            "count": 2, "filenames": ["media/images/a.png", "media/images/b.png"],
            "captions": ["one", "two"]});
        let MediaValue::Images(images) = MediaValue::parse(&v).unwrap() else {
            panic!()
        };
        assert_eq!(images.len(), 2);
        assert_eq!(images[1].caption.as_deref(), Some("two"));
        assert_eq!(images[1].width, Some(2));
        let list = json!([{"_type": "image-file", "path": "media/images/a.png"},
            {"_type": "image-file", "path": "media/images/b.png"}]);
        assert!(matches!(MediaValue::parse(&list), Some(MediaValue::Images(i)) if i.len() == 2));
        let mixed = json!([{"_type": "image-file", "path": "media/images/a.png"},
            {"_type": "audio-file", "path": "media/audio/b.wav"}]);
        assert_eq!(MediaValue::parse(&mixed), None);
    }

    #[test]
    fn reads_w_and_b_lists_of_3d_objects_and_shared_class_labels() {
        let objects = json!({"_type": "object3D", "count": 2,
            "filenames": ["a_0_ff.pts.json", "b_0_ee.obj"],
            "objects": [{"_type": "object3D-file", "path": "media/object3D/a_0_ff.pts.json"},
                        {"_type": "object3D-file", "path": "media/object3D/b_0_ee.obj"}]});
        let Some(MediaValue::Object3d(docs)) = MediaValue::parse(&objects) else {
            panic!()
        };
        assert_eq!(docs[1].format.as_deref(), Some("obj"));
        let bare = json!({"_type": "object3D", "filenames": ["a_0_ff.pts.json"]});
        let Some(MediaValue::Object3d(docs)) = MediaValue::parse(&bare) else {
            panic!()
        };
        assert_eq!(docs[0].file.path, "media/object3D/a_0_ff.pts.json");
        assert_eq!(docs[0].format.as_deref(), Some("pts.json"));
        let sep = json!({"_type": "images/separated", "filenames": ["media/images/a.png"],
            "class_labels": {"1": "cat"}});
        let Some(MediaValue::Images(images)) = MediaValue::parse(&sep) else {
            panic!()
        };
        assert_eq!(images[0].class_labels, vec![("1".into(), "cat".into())]);
    }

    #[test]
    fn reads_histograms_and_refuses_bad_ones() {
        let v = json!({"_type": "histogram", "bins": [0, 1, 2], "values": [3, 4]});
        assert_eq!(MediaValue::parse(&v).unwrap().kind(), MediaKind::Histogram);
        let bad = json!({"_type": "histogram", "bins": [0, 1], "values": [3, 4]});
        assert_eq!(MediaValue::parse(&bad), None);
        assert_eq!(MediaValue::parse(&json!(3)), None);
        assert_eq!(MediaValue::parse(&json!({"a": 1})), None);
    }

    #[test]
    fn paths_must_stay_under_media() {
        assert!(is_media_path("media/images/a.png"));
        assert!(is_media_path("media/images/train/sub/a_1_ff.png"));
        for bad in [
            "media",
            "media/",
            "files/a.png",
            "/media/a.png",
            "media/../run.json",
            "media/./a.png",
            "media//a.png",
            "media/.hidden",
            "media/a\\..\\b",
        ] {
            assert!(!is_media_path(bad), "{bad}");
        }
        let escape = json!({"_type": "image-file", "path": "media/../../etc/passwd"});
        assert_eq!(MediaValue::parse(&escape), None);
    }

    #[test]
    fn reads_w_and_b_custom_chart_specs_from_config() {
        let config = json!({"lr": 0.1, "_wandb": {"visualize": {"curve": {
            "panel_type": "Vega2",
            "panel_config": {"panelDefId": "wandb/line/v0",
                "fieldSettings": {"x": "step", "y": "height", "stroke": null},
                "stringSettings": {"title": "Height"},
                "transform": {"name": "tableWithLeafColNames"},
                "userQuery": {"queryFields": [{"name": "runSets", "fields": [
                    {"name": "summaryTable", "args": [{"name": "tableKey", "value": "curve_table"}]}]}]}}}}}});
        let charts = custom_charts(config.as_object().unwrap());
        assert_eq!(charts.len(), 1);
        assert_eq!(charts[0].spec, "wandb/line/v0");
        assert_eq!(charts[0].table_key, "curve_table");
        assert_eq!(
            charts[0].fields,
            vec![("x".into(), "step".into()), ("y".into(), "height".into())]
        );
        assert_eq!(charts[0].strings, vec![("title".into(), "Height".into())]);
    }

    #[test]
    fn reads_the_specs_the_python_client_writes() {
        // config.json of a run that logged trackline.plot.line as "curve",
        // plot.histogram(split_table=True) as "h" and plot.pr_curve as "pr".
        let config: Value = serde_json::from_str(
            r#"{"_wandb":{"visualize":{"curve":{"panel_type":"Vega2","panel_config":{"panelDefId":"wandb/line/v0","fieldSettings":{"x":"step","y":"height","stroke":null},"stringSettings":{"title":"Height"},"transform":{"name":"tableWithLeafColNames"},"userQuery":{"queryFields":[{"name":"runSets","args":[{"name":"runSets","value":"${runSets}"}],"fields":[{"name":"id","fields":[]},{"name":"name","fields":[]},{"name":"_defaultColorIndex","fields":[]},{"name":"summaryTable","args":[{"name":"tableKey","value":"curve_table"}],"fields":[]}]}]}}},"h":{"panel_type":"Vega2","panel_config":{"panelDefId":"wandb/histogram/v0","fieldSettings":{"value":"height"},"stringSettings":{"title":""},"transform":{"name":"tableWithLeafColNames"},"userQuery":{"queryFields":[{"name":"runSets","args":[{"name":"runSets","value":"${runSets}"}],"fields":[{"name":"id","fields":[]},{"name":"name","fields":[]},{"name":"_defaultColorIndex","fields":[]},{"name":"summaryTable","args":[{"name":"tableKey","value":"Custom Chart Tables/h_table"}],"fields":[]}]}]}}},"pr":{"panel_type":"Vega2","panel_config":{"panelDefId":"wandb/area-under-curve/v0","fieldSettings":{"x":"recall","y":"precision","class":"class"},"stringSettings":{"title":"Precision-Recall Curve","x-axis-title":"Recall","y-axis-title":"Precision"},"transform":{"name":"tableWithLeafColNames"},"userQuery":{"queryFields":[{"name":"runSets","args":[{"name":"runSets","value":"${runSets}"}],"fields":[{"name":"id","fields":[]},{"name":"name","fields":[]},{"name":"_defaultColorIndex","fields":[]},{"name":"summaryTable","args":[{"name":"tableKey","value":"pr_table"}],"fields":[]}]}]}}}}}}"#,
        )
        .unwrap();
        let charts = custom_charts(config.as_object().unwrap());
        let keys: Vec<_> = charts.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["curve", "h", "pr"]);
        assert_eq!(charts[0].table_key, "curve_table");
        assert_eq!(charts[1].spec, "wandb/histogram/v0");
        assert_eq!(charts[1].table_key, "Custom Chart Tables/h_table");
        assert_eq!(charts[2].spec, "wandb/area-under-curve/v0");
        assert_eq!(charts[2].table_key, "pr_table");
        let mut fields = charts[2].fields.clone();
        fields.sort();
        assert_eq!(
            fields,
            vec![
                ("class".into(), "class".into()),
                ("x".into(), "recall".into()),
                ("y".into(), "precision".into())
            ]
        );
        assert!(
            charts[2]
                .strings
                .contains(&("x-axis-title".into(), "Recall".into()))
        );
    }
}
