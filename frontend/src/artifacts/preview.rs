//! A preview of one artifact file, chosen by its extension: images; text and markdown (the safe
//! renderer); JSON pretty-printed; CSV/TSV as a table; HTML in a sandboxed frame; a safetensors
//! file's tensors, an `.npz`'s arrays and a `.npy`'s shape read from their headers with Range
//! requests; an ONNX model's inputs and outputs. Pickles (`.pt`, `.ckpt`, `.pkl`, …) and
//! anything else show only their size and digest: nothing is ever unpickled.

use leptos::prelude::*;
use trackline_shared::artifacts::ArtifactFile;

use super::csv::parse_csv;
use super::headers::{
    self, NpyHeader, OnnxSummary, TensorInfo, ZipEnd, npy_header_len, parse_npy_header,
};
use super::tree::{fmt_size, plural};
use super::{file_url, get_range};
use crate::api::{self, ApiError};
use crate::live::load;

/// Bytes of a text or markdown file shown.
const TEXT_MAX: u64 = 1 << 20;
/// Largest JSON file pretty-printed.
const JSON_MAX: u64 = 4 << 20;
/// Bytes of a CSV file read, and rows shown.
const CSV_MAX: u64 = 2 << 20;
const CSV_ROWS: usize = 500;
/// Largest zip central directory read, and `.npy` members whose headers are read.
const ZIP_DIR_MAX: u64 = 8 << 20;
const NPZ_MEMBERS: usize = 200;

/// How a file is previewed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreviewKind {
    Image,
    Markdown,
    Text,
    Json,
    Csv(char),
    Html,
    Safetensors,
    Npz,
    Npy,
    Onnx,
    /// A pickle: size and digest only, never opened.
    Pickle,
    /// No viewer: size and digest.
    Other,
}

/// The preview for `path`, by its extension.
pub fn preview_kind(path: &str) -> PreviewKind {
    let name = path.rsplit('/').next().unwrap_or(path);
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "png" | "jpg" | "jpeg" | "gif" | "webp" | "bmp" | "svg" | "avif" | "ico" => {
            PreviewKind::Image
        }
        "md" | "markdown" => PreviewKind::Markdown,
        "txt" | "log" | "py" | "yaml" | "yml" | "toml" | "cfg" | "ini" | "sh" | "rs" | "js"
        | "ts" | "c" | "h" | "cpp" | "xml" | "tex" | "rst" | "jsonl" | "ndjson" | "vocab"
        | "gitignore" | "license" => PreviewKind::Text,
        "json" => PreviewKind::Json,
        "csv" => PreviewKind::Csv(','),
        "tsv" => PreviewKind::Csv('\t'),
        "html" | "htm" => PreviewKind::Html,
        "safetensors" => PreviewKind::Safetensors,
        "npz" => PreviewKind::Npz,
        "npy" => PreviewKind::Npy,
        "onnx" => PreviewKind::Onnx,
        "pt" | "pth" | "ckpt" | "pkl" | "pickle" | "joblib" | "sav" => PreviewKind::Pickle,
        _ => PreviewKind::Other,
    }
}

/// One array of an `.npz`: its header when it could be read.
#[derive(Clone, Debug)]
struct NpzArray {
    name: String,
    size: u64,
    header: Result<NpyHeader, String>,
}

/// What was read for a preview.
#[derive(Clone, Debug)]
enum Loaded {
    Text {
        text: String,
        cut: bool,
    },
    Markdown(String),
    Json(String),
    Csv {
        rows: Vec<Vec<String>>,
        more: bool,
    },
    Tensors {
        tensors: Vec<TensorInfo>,
        metadata: Vec<(String, String)>,
    },
    Npz {
        arrays: Vec<NpzArray>,
        total: usize,
    },
    Npy(NpyHeader),
    Onnx(OnnxSummary),
}

fn bad(message: String) -> ApiError {
    ApiError {
        status: None,
        code: None,
        message,
    }
}

/// The first `max` bytes of a file of `size` bytes, as text, and whether it was cut.
async fn head_text(url: &str, size: u64, max: u64) -> Result<(String, bool), ApiError> {
    let bytes = get_range(url, 0, size.min(max)).await?;
    Ok((String::from_utf8_lossy(&bytes).into_owned(), size > max))
}

async fn read_safetensors(url: &str) -> Result<Loaded, ApiError> {
    let first = get_range(url, 0, 8).await?;
    let len = headers::safetensors_header_len(&first).map_err(bad)?;
    let header = get_range(url, 8, 8 + len).await?;
    let (tensors, metadata) = headers::safetensors_tensors(&header).map_err(bad)?;
    Ok(Loaded::Tensors { tensors, metadata })
}

/// A `.npy` header at `offset` of the file (reads 4 KiB, more if the header is longer).
async fn read_npy_at(url: &str, offset: u64, end: u64) -> Result<NpyHeader, ApiError> {
    let mut bytes = get_range(url, offset, end.min(offset + 4096)).await?;
    if let Some(len) = npy_header_len(&bytes).map_err(bad)?
        && len > bytes.len()
    {
        bytes = get_range(url, offset, end.min(offset + len as u64)).await?;
    }
    parse_npy_header(&bytes).map_err(bad)
}

async fn read_npz(url: &str, size: u64) -> Result<Loaded, ApiError> {
    let tail_start = size.saturating_sub(headers::ZIP_TAIL);
    let tail = get_range(url, tail_start, size).await?;
    let mut end = headers::zip_end(&tail).map_err(bad)?;
    if let ZipEnd::Zip64At(at) = end {
        let rec = get_range(url, at, at + 56).await?;
        end = headers::zip64_end(&rec).map_err(bad)?;
    }
    let ZipEnd::Directory {
        offset,
        size: cd_size,
        ..
    } = end
    else {
        return Err(bad("a zip64 file without its directory".into()));
    };
    if cd_size > ZIP_DIR_MAX {
        return Err(bad(format!(
            "its directory of {} is too large to read here",
            fmt_size(Some(cd_size))
        )));
    }
    let cd = get_range(url, offset, offset + cd_size).await?;
    let members = headers::zip_members(&cd).map_err(bad)?;
    let total = members.len();
    let mut arrays = Vec::new();
    for m in members.into_iter().take(NPZ_MEMBERS) {
        let header = if m.method != 0 {
            Err("compressed (np.savez_compressed): shape not read".to_string())
        } else {
            match get_range(url, m.local_offset, (m.local_offset + 30).min(size)).await {
                Ok(local) => match headers::zip_local_data_start(&local) {
                    Ok(start) => {
                        let data = m.local_offset + start;
                        read_npy_at(url, data, (data + m.size).min(size))
                            .await
                            .map_err(|e| e.message)
                    }
                    Err(e) => Err(e),
                },
                Err(e) => Err(e.message),
            }
        };
        let name = m.name.strip_suffix(".npy").unwrap_or(&m.name).to_string();
        arrays.push(NpzArray {
            name,
            size: m.size,
            header,
        });
    }
    Ok(Loaded::Npz { arrays, total })
}

async fn read_preview(kind: PreviewKind, url: String, size: u64) -> Result<Loaded, ApiError> {
    match kind {
        PreviewKind::Text => {
            let (text, cut) = head_text(&url, size, TEXT_MAX).await?;
            Ok(Loaded::Text { text, cut })
        }
        PreviewKind::Markdown => {
            let (text, _) = head_text(&url, size, TEXT_MAX).await?;
            Ok(Loaded::Markdown(crate::annotations::markdown::render(
                &text,
            )))
        }
        PreviewKind::Json if size <= JSON_MAX => {
            let value = api::get_python_json(&url).await?;
            let pretty = serde_json::to_string_pretty(&value).unwrap_or_default();
            Ok(Loaded::Json(pretty))
        }
        PreviewKind::Json => {
            let (text, cut) = head_text(&url, size, TEXT_MAX).await?;
            Ok(Loaded::Text { text, cut })
        }
        PreviewKind::Csv(sep) => {
            let (mut text, cut) = head_text(&url, size, CSV_MAX).await?;
            if cut && let Some(last) = text.rfind('\n') {
                text.truncate(last + 1);
            }
            let (rows, more) = parse_csv(&text, sep, CSV_ROWS + 1);
            Ok(Loaded::Csv {
                rows,
                more: more || cut,
            })
        }
        PreviewKind::Safetensors => read_safetensors(&url).await,
        PreviewKind::Npz => read_npz(&url, size).await,
        PreviewKind::Npy => Ok(Loaded::Npy(read_npy_at(&url, 0, size).await?)),
        PreviewKind::Onnx if size <= headers::MAX_ONNX_READ => {
            let bytes = api::get_bytes(&url).await?;
            Ok(Loaded::Onnx(headers::onnx_summary(&bytes).map_err(bad)?))
        }
        _ => Err(bad("no preview".into())),
    }
}

/// The preview of `file` of version `v<version>`.
#[component]
pub fn FilePreview(
    project: String,
    name: String,
    version: u64,
    file: ArtifactFile,
) -> impl IntoView {
    let url = file_url(&project, &name, version, &file.path);
    let download = format!("{url}?download=1");
    let base = file
        .path
        .rsplit('/')
        .next()
        .unwrap_or(&file.path)
        .to_string();
    let kind = preview_kind(&file.path);
    let size = file.size.unwrap_or(0);
    let head = view! {
        <div class="af-preview-head">
            <strong data-testid="preview-path">{file.path.clone()}</strong>
            " "
            <span class="muted">{fmt_size(file.size)}</span>
            " "
            {file.reference.is_none().then(|| view! {
                <a class="btn small" href=download download=base data-testid="file-download">"Download"</a>
            })}
            <div class="faint" data-testid="preview-digest">"sha256 "{file.digest.clone()}</div>
        </div>
    };
    let body = if let Some(uri) = file.reference.clone() {
        view! {
            <p class="muted" data-testid="preview-reference">
                "A reference: its bytes are not stored here. " <code>{uri}</code>
            </p>
        }
        .into_any()
    } else {
        match kind {
            PreviewKind::Image => view! {
                <img src=url alt=file.path.clone() data-testid="preview-image" />
            }
            .into_any(),
            PreviewKind::Html => view! {
                <iframe
                    sandbox="allow-scripts"
                    referrerpolicy="no-referrer"
                    src=url
                    title="Artifact HTML"
                    data-testid="preview-html"
                ></iframe>
            }
            .into_any(),
            PreviewKind::Pickle => view! {
                <p class="muted" data-testid="preview-opaque">
                    "A pickled file: Trackline never opens pickles (they can run code). Its size and digest are above."
                </p>
            }
            .into_any(),
            PreviewKind::Onnx if size > headers::MAX_ONNX_READ => view! {
                <p class="muted" data-testid="preview-opaque">
                    "An ONNX model too large to read its graph here; its size and digest are above."
                </p>
            }
            .into_any(),
            PreviewKind::Other => view! {
                <p class="muted" data-testid="preview-opaque">"No preview for this kind of file."</p>
            }
            .into_any(),
            kind => loaded_view(kind, url, size).into_any(),
        }
    };
    view! {
        <div class="af-preview" data-testid="artifact-preview">
            {head}
            {body}
        </div>
    }
}

/// Reads the file, then shows what was read.
fn loaded_view(kind: PreviewKind, url: String, size: u64) -> impl IntoView {
    let state = RwSignal::new(None::<Result<Loaded, String>>);
    load(read_preview(kind, url, size), move |res| {
        state.set(Some(res.map_err(|e| e.to_string())));
    });
    move || match state.get() {
        None => view! { <div class="loading">"Reading…"</div> }.into_any(),
        Some(Err(e)) => view! {
            <p class="error" data-testid="preview-error">{format!("No preview: {e}")}</p>
        }
        .into_any(),
        Some(Ok(loaded)) => show(loaded),
    }
}

fn shape_text(shape: &[u64]) -> String {
    let dims: Vec<String> = shape.iter().map(u64::to_string).collect();
    format!("[{}]", dims.join(", "))
}

fn show(loaded: Loaded) -> AnyView {
    match loaded {
        Loaded::Text { text, cut } => view! {
            <pre data-testid="preview-text">{text}</pre>
            {cut.then(|| view! { <p class="faint">"Only the first MiB is shown."</p> })}
        }
        .into_any(),
        Loaded::Markdown(html) => {
            // The renderer escapes every character of the text: no user HTML is ever parsed.
            view! { <div class="md" data-testid="preview-markdown" inner_html=html></div> }
                .into_any()
        }
        Loaded::Json(pretty) => view! { <pre data-testid="preview-json">{pretty}</pre> }.into_any(),
        Loaded::Csv { rows, more } => {
            let mut rows = rows.into_iter();
            let head = rows.next().unwrap_or_default();
            let body: Vec<Vec<String>> = rows.take(CSV_ROWS).collect();
            let shown = body.len();
            view! {
                <div class="af-csv table-wrap">
                    <table class="grid" data-testid="preview-csv">
                        <thead><tr>{head.into_iter().map(|h| view! { <th>{h}</th> }).collect_view()}</tr></thead>
                        <tbody>
                            {body.into_iter().map(|r| view! {
                                <tr>{r.into_iter().map(|c| view! { <td data-testid="csv-cell">{c}</td> }).collect_view()}</tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
                {more.then(|| view! { <p class="faint">{format!("The first {shown} rows are shown.")}</p> })}
            }
            .into_any()
        }
        Loaded::Tensors { tensors, metadata } => {
            let count = tensors.len();
            view! {
                <p class="muted">{plural(count as u64, "tensor")}</p>
                <table class="grid" data-testid="preview-tensors">
                    <thead><tr><th>"Tensor"</th><th>"dtype"</th><th>"Shape"</th></tr></thead>
                    <tbody>
                        {tensors.into_iter().map(|t| view! {
                            <tr data-testid="tensor-row" data-name=t.name.clone()>
                                <td>{t.name.clone()}</td><td>{t.dtype}</td><td>{shape_text(&t.shape)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
                {(!metadata.is_empty()).then(|| view! {
                    <table class="kv">
                        {metadata.into_iter().map(|(k, v)| view! { <tr><th>{k}</th><td>{v}</td></tr> }).collect_view()}
                    </table>
                })}
            }
            .into_any()
        }
        Loaded::Npz { arrays, total } => {
            let shown = arrays.len();
            view! {
                <table class="grid" data-testid="preview-npz">
                    <thead><tr><th>"Array"</th><th>"dtype"</th><th>"Shape"</th><th>"Bytes"</th></tr></thead>
                    <tbody>
                        {arrays.into_iter().map(|a| {
                            let (dtype, shape) = match a.header {
                                Ok(h) => (h.descr, shape_text(&h.shape)),
                                Err(e) => ("?".to_string(), e),
                            };
                            view! {
                                <tr data-testid="npz-row" data-name=a.name.clone()>
                                    <td>{a.name.clone()}</td><td>{dtype}</td><td>{shape}</td>
                                    <td class="num">{fmt_size(Some(a.size))}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                {(total > shown).then(|| view! { <p class="faint">{format!("{shown} of {total} arrays are shown.")}</p> })}
            }
            .into_any()
        }
        Loaded::Npy(h) => view! {
            <table class="kv" data-testid="preview-npy">
                <tr><th>"dtype"</th><td>{h.descr}</td></tr>
                <tr><th>"Shape"</th><td>{shape_text(&h.shape)}</td></tr>
                <tr><th>"Order"</th><td>{if h.fortran_order { "Fortran" } else { "C" }}</td></tr>
            </table>
        }
        .into_any(),
        Loaded::Onnx(s) => {
            let values = |list: Vec<headers::OnnxValue>, testid: &'static str| {
                list.into_iter()
                    .map(|v| {
                        let shape = v.shape.map_or_else(|| "?".to_string(), |d| format!("[{}]", d.join(", ")));
                        view! { <tr data-testid=testid><td>{v.name}</td><td>{v.elem_type}</td><td>{shape}</td></tr> }
                    })
                    .collect_view()
            };
            let opsets: Vec<String> = s.opsets.iter().map(|(d, v)| format!("{d} {v}")).collect();
            view! {
                <table class="kv" data-testid="preview-onnx">
                    <tr><th>"IR version"</th><td>{s.ir_version.map(|v| v.to_string()).unwrap_or_default()}</td></tr>
                    <tr><th>"Producer"</th><td>{s.producer.unwrap_or_default()}</td></tr>
                    <tr><th>"Opsets"</th><td>{opsets.join(", ")}</td></tr>
                    <tr><th>"Graph"</th><td>{format!("{} nodes, {} initializers", s.nodes, s.initializers)}</td></tr>
                </table>
                <table class="grid">
                    <thead><tr><th>"Input"</th><th>"Type"</th><th>"Shape"</th></tr></thead>
                    <tbody>{values(s.inputs, "onnx-input")}</tbody>
                    <thead><tr><th>"Output"</th><th>"Type"</th><th>"Shape"</th></tr></thead>
                    <tbody>{values(s.outputs, "onnx-output")}</tbody>
                </table>
            }
            .into_any()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_extension() {
        assert_eq!(preview_kind("img/a.PNG"), PreviewKind::Image);
        assert_eq!(preview_kind("README.md"), PreviewKind::Markdown);
        assert_eq!(preview_kind("meta.json"), PreviewKind::Json);
        assert_eq!(preview_kind("t.tsv"), PreviewKind::Csv('\t'));
        assert_eq!(preview_kind("model.safetensors"), PreviewKind::Safetensors);
        assert_eq!(preview_kind("x.npz"), PreviewKind::Npz);
        assert_eq!(preview_kind("m.onnx"), PreviewKind::Onnx);
        for p in ["model.pt", "w.ckpt", "d.pkl", "a.pth"] {
            assert_eq!(preview_kind(p), PreviewKind::Pickle, "{p}");
        }
        assert_eq!(preview_kind("weights.bin"), PreviewKind::Other);
        assert_eq!(preview_kind("Makefile"), PreviewKind::Other);
        assert_eq!(preview_kind("dir.v2/noext"), PreviewKind::Other);
    }
}
