//! Reading model and array files' headers without their bodies (host-tested): a safetensors
//! file's tensor list (8-byte length + JSON), a `.npy` header, a zip's central directory (for
//! `.npz`), and an ONNX model's graph inputs and outputs from its protobuf. Nothing here runs or
//! unpickles anything: these formats are read as plain bytes.

use serde_json::Value;

/// One tensor of a safetensors file, or one array of an `.npz`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorInfo {
    pub name: String,
    pub dtype: String,
    pub shape: Vec<u64>,
}

/// The longest safetensors header the page reads (the format's own limit is 100 MB).
pub const MAX_SAFETENSORS_HEADER: u64 = 16 << 20;

/// The JSON header's length from a safetensors file's first 8 bytes (little-endian `u64`).
pub fn safetensors_header_len(first: &[u8]) -> Result<u64, String> {
    let bytes: [u8; 8] = first
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or("the file is shorter than 8 bytes")?;
    let len = u64::from_le_bytes(bytes);
    if !(2..=MAX_SAFETENSORS_HEADER).contains(&len) {
        return Err(format!(
            "a header of {len} bytes is not a safetensors header"
        ));
    }
    Ok(len)
}

/// A safetensors header's `__metadata__`: string keys and values.
pub type TensorMetadata = Vec<(String, String)>;

/// The tensors a safetensors JSON header lists, sorted by name, and its `__metadata__` strings.
pub fn safetensors_tensors(header: &[u8]) -> Result<(Vec<TensorInfo>, TensorMetadata), String> {
    let value: Value =
        serde_json::from_slice(header).map_err(|e| format!("the header is not JSON: {e}"))?;
    let map = value.as_object().ok_or("the header is not a JSON object")?;
    let mut tensors = Vec::new();
    let mut metadata = Vec::new();
    for (name, entry) in map {
        if name == "__metadata__" {
            if let Some(meta) = entry.as_object() {
                for (k, v) in meta {
                    let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                    metadata.push((k.clone(), text));
                }
            }
            continue;
        }
        let dtype = entry
            .get("dtype")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("tensor {name:?} has no dtype"))?;
        let shape = entry
            .get("shape")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("tensor {name:?} has no shape"))?
            .iter()
            .map(|d| {
                d.as_u64()
                    .ok_or_else(|| format!("tensor {name:?} has a bad shape"))
            })
            .collect::<Result<Vec<u64>, String>>()?;
        tensors.push(TensorInfo {
            name: name.clone(),
            dtype: dtype.to_string(),
            shape,
        });
    }
    tensors.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((tensors, metadata))
}

/// A `.npy` header: its dtype (`descr`), memory order and shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NpyHeader {
    pub descr: String,
    pub fortran_order: bool,
    pub shape: Vec<u64>,
}

/// Bytes of a `.npy` file before its data: `Ok(None)` when `bytes` holds too little to tell.
pub fn npy_header_len(bytes: &[u8]) -> Result<Option<usize>, String> {
    if bytes.len() < 10 {
        return Ok(None);
    }
    if &bytes[..6] != b"\x93NUMPY" {
        return Err("not a .npy file".into());
    }
    match bytes[6] {
        1 => Ok(Some(
            10 + usize::from(u16::from_le_bytes([bytes[8], bytes[9]])),
        )),
        2 | 3 if bytes.len() < 12 => Ok(None),
        2 | 3 => {
            let len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
            Ok(Some(12 + len))
        }
        v => Err(format!(".npy format version {v} is not known")),
    }
}

/// Parses a `.npy` header (the file's first bytes, at least [`npy_header_len`] of them).
pub fn parse_npy_header(bytes: &[u8]) -> Result<NpyHeader, String> {
    let len = npy_header_len(bytes)?.ok_or("the .npy header is cut short")?;
    let start = if bytes[6] == 1 { 10 } else { 12 };
    let text = bytes
        .get(start..len)
        .ok_or("the .npy header is cut short")?;
    let text = std::str::from_utf8(text).map_err(|_| "the .npy header is not text")?;
    let descr = match dict_value(text, "descr") {
        Some(rest) if rest.starts_with(['\'', '"']) => {
            let quote = rest.as_bytes()[0] as char;
            let body = &rest[1..];
            body[..body.find(quote).ok_or("bad descr")?].to_string()
        }
        Some(_) => "structured".to_string(),
        None => return Err("the .npy header has no descr".into()),
    };
    let fortran_order = dict_value(text, "fortran_order").is_some_and(|r| r.starts_with("True"));
    let shape_text = dict_value(text, "shape").ok_or("the .npy header has no shape")?;
    let inner = shape_text
        .strip_prefix('(')
        .and_then(|r| r.split_once(')'))
        .ok_or("the .npy shape is not a tuple")?
        .0;
    let shape = inner
        .split(',')
        .map(|d| d.trim().trim_end_matches('L'))
        .filter(|d| !d.is_empty())
        .map(|d| d.parse::<u64>().map_err(|_| format!("bad dimension {d:?}")))
        .collect::<Result<Vec<u64>, String>>()?;
    Ok(NpyHeader {
        descr,
        fortran_order,
        shape,
    })
}

/// The text after `'key':` (spaces skipped) in a Python dict literal.
fn dict_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    for quote in ['\'', '"'] {
        let needle = format!("{quote}{key}{quote}");
        if let Some(at) = text.find(&needle) {
            let rest = text[at + needle.len()..].trim_start();
            return rest.strip_prefix(':').map(str::trim_start);
        }
    }
    None
}

/// Where a zip's central directory is, from its end of central directory record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZipEnd {
    /// The central directory's offset, size and number of entries.
    Directory {
        offset: u64,
        size: u64,
        entries: u64,
    },
    /// A zip64 file: the zip64 end record (56 bytes) is at this offset.
    Zip64At(u64),
}

/// How many bytes from a zip's end hold its end record for sure (22 + the longest comment).
pub const ZIP_TAIL: u64 = 22 + 65535 + 20;

/// Finds the end of central directory record in `tail`, the file's last bytes (offsets in it are
/// the file's).
pub fn zip_end(tail: &[u8]) -> Result<ZipEnd, String> {
    let at = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| tail[i..i + 4] == [0x50, 0x4b, 0x05, 0x06])
        .ok_or("not a zip file (no end of central directory)")?;
    let rec = &tail[at..];
    let entries = u64::from(u16le(rec, 10));
    let size = u64::from(u32le(rec, 12));
    let offset = u64::from(u32le(rec, 16));
    if offset == 0xFFFF_FFFF || size == 0xFFFF_FFFF || entries == 0xFFFF {
        // The zip64 locator is the 20 bytes before the record.
        let loc = at
            .checked_sub(20)
            .map(|l| &tail[l..at])
            .filter(|l| l[..4] == [0x50, 0x4b, 0x06, 0x07])
            .ok_or("a zip64 file without its locator")?;
        return Ok(ZipEnd::Zip64At(u64le(loc, 8)));
    }
    Ok(ZipEnd::Directory {
        offset,
        size,
        entries,
    })
}

/// The central directory's place from a zip64 end of central directory record.
pub fn zip64_end(rec: &[u8]) -> Result<ZipEnd, String> {
    if rec.len() < 56 || rec[..4] != [0x50, 0x4b, 0x06, 0x06] {
        return Err("a bad zip64 end record".into());
    }
    Ok(ZipEnd::Directory {
        entries: u64le(rec, 32),
        size: u64le(rec, 40),
        offset: u64le(rec, 48),
    })
}

/// One member of a zip, from the central directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZipMember {
    pub name: String,
    /// 0: stored, 8: deflated.
    pub method: u16,
    pub compressed: u64,
    pub size: u64,
    /// Where its local header starts.
    pub local_offset: u64,
}

/// Every member a central directory lists, in its order.
pub fn zip_members(cd: &[u8]) -> Result<Vec<ZipMember>, String> {
    let mut members = Vec::new();
    let mut at = 0;
    while at + 46 <= cd.len() && cd[at..at + 4] == [0x50, 0x4b, 0x01, 0x02] {
        let h = &cd[at..];
        let method = u16le(h, 10);
        let mut compressed = u64::from(u32le(h, 20));
        let mut size = u64::from(u32le(h, 24));
        let name_len = usize::from(u16le(h, 28));
        let extra_len = usize::from(u16le(h, 30));
        let comment_len = usize::from(u16le(h, 32));
        let mut local_offset = u64::from(u32le(h, 42));
        let end = 46 + name_len + extra_len;
        let name = h.get(46..46 + name_len).ok_or("a cut central directory")?;
        let extra = h.get(46 + name_len..end).ok_or("a cut central directory")?;
        // Zip64 extended information: the fields that were 0xFFFFFFFF, in this order.
        let mut e = 0;
        while e + 4 <= extra.len() {
            let id = u16le(extra, e);
            let len = usize::from(u16le(extra, e + 2));
            let data = extra.get(e + 4..e + 4 + len).unwrap_or(&[]);
            if id == 1 {
                let mut k = 0;
                let mut next = |v: &mut u64| {
                    if *v == 0xFFFF_FFFF && k + 8 <= data.len() {
                        *v = u64le(data, k);
                        k += 8;
                    }
                };
                next(&mut size);
                next(&mut compressed);
                next(&mut local_offset);
            }
            e += 4 + len;
        }
        members.push(ZipMember {
            name: String::from_utf8_lossy(name).into_owned(),
            method,
            compressed,
            size,
            local_offset,
        });
        at += end + comment_len;
    }
    Ok(members)
}

/// Bytes from a member's local header to its data, from the local header's first 30 bytes.
pub fn zip_local_data_start(local: &[u8]) -> Result<u64, String> {
    if local.len() < 30 || local[..4] != [0x50, 0x4b, 0x03, 0x04] {
        return Err("a bad zip local header".into());
    }
    Ok(30 + u64::from(u16le(local, 26)) + u64::from(u16le(local, 28)))
}

fn u16le(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64le(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

/// An ONNX model's graph in brief.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OnnxSummary {
    pub ir_version: Option<u64>,
    pub producer: Option<String>,
    /// `(domain, version)`; the default domain is `ai.onnx`.
    pub opsets: Vec<(String, u64)>,
    pub nodes: usize,
    pub initializers: usize,
    pub inputs: Vec<OnnxValue>,
    pub outputs: Vec<OnnxValue>,
}

/// A graph input or output: name, element type and shape (`N`, `batch`, `?`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnnxValue {
    pub name: String,
    pub elem_type: String,
    pub shape: Option<Vec<String>>,
}

/// The longest ONNX file the page reads whole for its graph's inputs and outputs.
pub const MAX_ONNX_READ: u64 = 16 << 20;

enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

/// The fields of one protobuf message, in order.
fn proto_fields(mut buf: &[u8]) -> Result<Vec<(u64, Field<'_>)>, String> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        let key = varint(&mut buf)?;
        let field = match key & 7 {
            0 => Field::Varint(varint(&mut buf)?),
            1 => {
                buf = buf.get(8..).ok_or("a cut protobuf field")?;
                Field::Fixed
            }
            2 => {
                let len = usize::try_from(varint(&mut buf)?).map_err(|_| "a huge field")?;
                let bytes = buf.get(..len).ok_or("a cut protobuf field")?;
                buf = &buf[len..];
                Field::Bytes(bytes)
            }
            5 => {
                buf = buf.get(4..).ok_or("a cut protobuf field")?;
                Field::Fixed
            }
            w => return Err(format!("protobuf wire type {w} is not known")),
        };
        out.push((key >> 3, field));
    }
    Ok(out)
}

fn varint(buf: &mut &[u8]) -> Result<u64, String> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = buf.split_first().ok_or("a cut varint")?;
        *buf = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("a varint longer than 64 bits".into())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Reads an ONNX `ModelProto`: its IR version, producer, opsets and the graph's inputs (without
/// the initializers older exporters also list as inputs) and outputs.
pub fn onnx_summary(model: &[u8]) -> Result<OnnxSummary, String> {
    let mut s = OnnxSummary::default();
    let mut graph = None;
    for (no, f) in proto_fields(model).map_err(|e| format!("not an ONNX model: {e}"))? {
        match (no, f) {
            (1, Field::Varint(v)) => s.ir_version = Some(v),
            (2, Field::Bytes(b)) => s.producer = Some(text(b)),
            (7, Field::Bytes(b)) => graph = Some(b),
            (8, Field::Bytes(b)) => {
                let mut domain = String::new();
                let mut version = 0;
                for (no, f) in proto_fields(b)? {
                    match (no, f) {
                        (1, Field::Bytes(d)) => domain = text(d),
                        (2, Field::Varint(v)) => version = v,
                        _ => {}
                    }
                }
                if domain.is_empty() {
                    domain = "ai.onnx".into();
                }
                s.opsets.push((domain, version));
            }
            _ => {}
        }
    }
    let graph = graph.ok_or("not an ONNX model: no graph")?;
    let mut initializer_names = std::collections::HashSet::new();
    let mut inputs = Vec::new();
    for (no, f) in proto_fields(graph)? {
        match (no, f) {
            (1, Field::Bytes(_)) => s.nodes += 1,
            (5, Field::Bytes(b)) => {
                s.initializers += 1;
                for (no, f) in proto_fields(b)? {
                    if let (8, Field::Bytes(n)) = (no, f) {
                        initializer_names.insert(text(n));
                    }
                }
            }
            (11, Field::Bytes(b)) => inputs.push(onnx_value(b)?),
            (12, Field::Bytes(b)) => s.outputs.push(onnx_value(b)?),
            _ => {}
        }
    }
    s.inputs = inputs
        .into_iter()
        .filter(|v| !initializer_names.contains(&v.name))
        .collect();
    Ok(s)
}

fn onnx_value(b: &[u8]) -> Result<OnnxValue, String> {
    let mut value = OnnxValue {
        name: String::new(),
        elem_type: "?".into(),
        shape: None,
    };
    for (no, f) in proto_fields(b)? {
        match (no, f) {
            (1, Field::Bytes(n)) => value.name = text(n),
            (2, Field::Bytes(t)) => {
                for (no, f) in proto_fields(t)? {
                    let (1, Field::Bytes(tensor)) = (no, f) else {
                        continue;
                    };
                    for (no, f) in proto_fields(tensor)? {
                        match (no, f) {
                            (1, Field::Varint(e)) => value.elem_type = onnx_elem_type(e),
                            (2, Field::Bytes(shape)) => {
                                let mut dims = Vec::new();
                                for (no, f) in proto_fields(shape)? {
                                    let (1, Field::Bytes(dim)) = (no, f) else {
                                        continue;
                                    };
                                    let mut d = "?".to_string();
                                    for (no, f) in proto_fields(dim)? {
                                        match (no, f) {
                                            (1, Field::Varint(v)) => d = v.to_string(),
                                            (2, Field::Bytes(p)) => d = text(p),
                                            _ => {}
                                        }
                                    }
                                    dims.push(d);
                                }
                                value.shape = Some(dims);
                            }
                            _ => {}
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(value)
}

/// ONNX's `TensorProto.DataType` names.
fn onnx_elem_type(code: u64) -> String {
    let name = match code {
        1 => "float32",
        2 => "uint8",
        3 => "int8",
        4 => "uint16",
        5 => "int16",
        6 => "int32",
        7 => "int64",
        8 => "string",
        9 => "bool",
        10 => "float16",
        11 => "float64",
        12 => "uint32",
        13 => "uint64",
        14 => "complex64",
        15 => "complex128",
        16 => "bfloat16",
        _ => return format!("type {code}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn safetensors(header: &str) -> Vec<u8> {
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(header.as_bytes());
        out
    }

    #[test]
    fn safetensors_header_lists_tensors() {
        let file = safetensors(
            r#"{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"BF16","shape":[],"data_offsets":[24,26]}}"#,
        );
        let len = safetensors_header_len(&file).unwrap();
        assert_eq!(len as usize, file.len() - 8);
        let (tensors, meta) = safetensors_tensors(&file[8..]).unwrap();
        assert_eq!(
            tensors,
            vec![
                TensorInfo {
                    name: "b".into(),
                    dtype: "BF16".into(),
                    shape: vec![]
                },
                TensorInfo {
                    name: "w".into(),
                    dtype: "F32".into(),
                    shape: vec![2, 3]
                },
            ]
        );
        assert_eq!(meta, vec![("format".into(), "pt".into())]);
        assert!(safetensors_header_len(&[1, 2]).is_err());
        assert!(safetensors_header_len(&u64::MAX.to_le_bytes()).is_err());
        assert!(safetensors_tensors(br#"{"w":{"shape":[1]}}"#).is_err());
    }

    fn npy(header: &str) -> Vec<u8> {
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(&[0; 16]);
        out
    }

    #[test]
    fn npy_headers() {
        let file = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }          \n");
        assert_eq!(npy_header_len(&file).unwrap(), Some(file.len() - 16));
        assert_eq!(
            parse_npy_header(&file).unwrap(),
            NpyHeader {
                descr: "<f4".into(),
                fortran_order: false,
                shape: vec![3, 4]
            }
        );
        let scalar = npy("{'descr': '|b1', 'fortran_order': True, 'shape': (), }\n");
        let h = parse_npy_header(&scalar).unwrap();
        assert!(h.fortran_order && h.shape.is_empty());
        let one = npy("{'descr': '<i8', 'fortran_order': False, 'shape': (7,), }\n");
        assert_eq!(parse_npy_header(&one).unwrap().shape, vec![7]);
        assert_eq!(npy_header_len(b"\x93NUM").unwrap(), None);
        assert!(npy_header_len(b"PK\x03\x04xxxxxxxx").is_err());
    }

    /// A stored (uncompressed) zip of `members`, as numpy's `savez` writes.
    fn zip(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut cd = Vec::new();
        for (name, data) in members {
            let offset = out.len() as u32;
            out.extend_from_slice(&[0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&0u32.to_le_bytes()); // crc
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&4u16.to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(&[9, 9, 0, 0]); // an empty extra field
            out.extend_from_slice(data);
            cd.extend_from_slice(&[0x50, 0x4b, 0x01, 0x02, 20, 0, 20, 0, 0, 0, 0, 0]);
            cd.extend_from_slice(&[0, 0, 0, 0]); // time, date
            cd.extend_from_slice(&0u32.to_le_bytes());
            cd.extend_from_slice(&(data.len() as u32).to_le_bytes());
            cd.extend_from_slice(&(data.len() as u32).to_le_bytes());
            cd.extend_from_slice(&(name.len() as u16).to_le_bytes());
            cd.extend_from_slice(&[0; 12]); // extra, comment, disk, attributes
            cd.extend_from_slice(&offset.to_le_bytes());
            cd.extend_from_slice(name.as_bytes());
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&cd);
        out.extend_from_slice(&[0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0]);
        out.extend_from_slice(&(members.len() as u16).to_le_bytes());
        out.extend_from_slice(&(members.len() as u16).to_le_bytes());
        out.extend_from_slice(&(cd.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&3u16.to_le_bytes());
        out.extend_from_slice(b"hey");
        out
    }

    #[test]
    fn npz_members_and_shapes() {
        let a = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 5), }\n");
        let b = npy("{'descr': '<i4', 'fortran_order': False, 'shape': (9,), }\n");
        let file = zip(&[("a.npy", a), ("labels.npy", b)]);
        let tail_start = file.len().saturating_sub(ZIP_TAIL as usize);
        let ZipEnd::Directory {
            offset,
            size,
            entries,
        } = zip_end(&file[tail_start..]).unwrap()
        else {
            panic!("not zip64")
        };
        assert_eq!(entries, 2);
        let cd = &file[offset as usize..(offset + size) as usize];
        let members = zip_members(cd).unwrap();
        assert_eq!(
            members.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(),
            ["a.npy", "labels.npy"]
        );
        let m = &members[1];
        let local = &file[m.local_offset as usize..];
        let data = m.local_offset + zip_local_data_start(local).unwrap();
        let header = parse_npy_header(&file[data as usize..]).unwrap();
        assert_eq!((header.descr.as_str(), header.shape), ("<i4", vec![9]));
        assert!(zip_end(b"no zip here at all, not one bit of it").is_err());
    }

    #[test]
    fn zip64_end_record() {
        let mut rec = vec![0x50, 0x4b, 0x06, 0x06];
        rec.extend_from_slice(&[0; 28]);
        rec.extend_from_slice(&7u64.to_le_bytes());
        rec.extend_from_slice(&300u64.to_le_bytes());
        rec.extend_from_slice(&(5u64 << 32).to_le_bytes());
        assert_eq!(
            zip64_end(&rec).unwrap(),
            ZipEnd::Directory {
                offset: 5 << 32,
                size: 300,
                entries: 7
            }
        );
    }

    fn field(no: u64, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![(no << 3 | 2) as u8, bytes.len() as u8];
        out.extend_from_slice(bytes);
        out
    }

    fn value_info(name: &str, elem: u8, dims: &[Result<u8, &str>]) -> Vec<u8> {
        let mut shape = Vec::new();
        for d in dims {
            let dim = match d {
                Ok(v) => vec![1 << 3, *v],
                Err(p) => field(2, p.as_bytes()),
            };
            shape.extend(field(1, &dim));
        }
        let mut tensor = vec![1 << 3, elem];
        tensor.extend(field(2, &shape));
        let mut out = field(1, name.as_bytes());
        out.extend(field(2, &field(1, &tensor)));
        out
    }

    #[test]
    fn onnx_graph_inputs_and_outputs() {
        let mut graph = field(1, b"node");
        graph.extend(field(5, &field(8, b"weight")));
        graph.extend(field(11, &value_info("x", 1, &[Err("batch"), Ok(3)])));
        graph.extend(field(11, &value_info("weight", 1, &[Ok(3)])));
        graph.extend(field(12, &value_info("y", 7, &[Ok(1)])));
        let mut model = vec![1 << 3, 8];
        model.extend(field(2, b"pytorch"));
        model.extend(field(7, &graph));
        model.extend(field(8, &[2 << 3, 17]));
        let s = onnx_summary(&model).unwrap();
        assert_eq!(s.ir_version, Some(8));
        assert_eq!(s.producer.as_deref(), Some("pytorch"));
        assert_eq!(s.opsets, vec![("ai.onnx".to_string(), 17)]);
        assert_eq!((s.nodes, s.initializers), (1, 1));
        assert_eq!(
            s.inputs,
            vec![OnnxValue {
                name: "x".into(),
                elem_type: "float32".into(),
                shape: Some(vec!["batch".into(), "3".into()])
            }]
        );
        assert_eq!(s.outputs[0].elem_type, "int64");
        assert!(onnx_summary(b"\xff\xff").is_err());
        assert!(onnx_summary(&[1 << 3, 8]).is_err(), "no graph");
    }
}
