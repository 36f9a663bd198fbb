//! 3-D objects read for the simple viewer: W&B point clouds (`pts.json`: a list of `[x,y,z]`,
//! `[x,y,z,c]` with a category 1–14 or `[x,y,z,r,g,b]`, or `{"type": "lidar/beta", "points",
//! "boxes", "vectors"}`), and triangle meshes from Wavefront `.obj`, `.stl` (ASCII and binary) and
//! glTF (`.glb`, and `.gltf` with embedded `data:` buffers): positions and triangles only.

use serde_json::Value;

use super::figure::{ColorScale, Rgba};
use super::plotly_traces::base64_decode;

/// Which world axis points up (point clouds and STL: z; OBJ and glTF: y).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Up {
    #[default]
    Z,
    Y,
}

/// A box of a point cloud: eight corners in W&B's order (`itertools.product((-1, 1), repeat=3)`).
#[derive(Clone, Debug, PartialEq)]
pub struct Box3 {
    pub corners: [[f64; 3]; 8],
    pub color: Rgba,
    pub label: Option<String>,
}

impl Box3 {
    /// The twelve edges: corner pairs whose indices differ in one bit.
    pub fn edges() -> impl Iterator<Item = (usize, usize)> {
        (0..8usize).flat_map(|a| {
            (0..8usize)
                .filter(move |&b| b > a && (a ^ b).count_ones() == 1)
                .map(move |b| (a, b))
        })
    }
}

/// What the viewer draws.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Scene3d {
    pub points: Vec<([f64; 3], Rgba)>,
    pub vertices: Vec<[f64; 3]>,
    pub triangles: Vec<[u32; 3]>,
    pub boxes: Vec<Box3>,
    /// Arrows `(start, end)`.
    pub vectors: Vec<([f64; 3], [f64; 3])>,
    pub up: Up,
}

/// W&B's point-cloud category colours (categories 1–14).
const CATEGORY: [&str; 14] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39",
];

fn num(v: &Value) -> Option<f64> {
    v.as_f64().filter(|x| x.is_finite())
}

fn vec3(v: &Value) -> Option<[f64; 3]> {
    let a = v.as_array()?;
    Some([num(a.first()?)?, num(a.get(1)?)?, num(a.get(2)?)?])
}

/// A colour given as `[r, g, b]` in 0–255, or 0–1 when no part is above 1.
fn rgb(v: &Value) -> Option<Rgba> {
    let a = v.as_array()?;
    let c: Vec<f64> = a.iter().take(3).filter_map(num).collect();
    if c.len() < 3 {
        return None;
    }
    let scale = if c.iter().all(|x| *x <= 1.0) {
        255.0
    } else {
        1.0
    };
    let b = |x: f64| (x * scale).clamp(0.0, 255.0).round() as u8;
    Some(Rgba([b(c[0]), b(c[1]), b(c[2]), 255]))
}

/// Reads a `pts.json` point cloud.
pub fn parse_points(v: &Value) -> Result<Scene3d, String> {
    let mut scene = Scene3d::default();
    let points = match v {
        Value::Array(a) => a,
        Value::Object(o) => {
            if let Some(t) = o.get("type").and_then(Value::as_str)
                && t != "lidar/beta"
            {
                return Err(format!("point cloud type {t} is not drawn"));
            }
            for b in o
                .get("boxes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let corners: Vec<[f64; 3]> = b
                    .get("corners")
                    .and_then(Value::as_array)
                    .map(|c| c.iter().filter_map(vec3).collect())
                    .unwrap_or_default();
                let Ok(corners) = <[[f64; 3]; 8]>::try_from(corners) else {
                    continue;
                };
                scene.boxes.push(Box3 {
                    corners,
                    color: b
                        .get("color")
                        .and_then(rgb)
                        .unwrap_or(Rgba([0, 200, 0, 255])),
                    label: b.get("label").and_then(Value::as_str).map(str::to_string),
                });
            }
            for a in o
                .get("vectors")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let (Some(s), Some(e)) =
                    (a.get("start").and_then(vec3), a.get("end").and_then(vec3))
                {
                    scene.vectors.push((s, e));
                }
            }
            o.get("points")
                .and_then(Value::as_array)
                .ok_or("the point cloud has no \"points\" list")?
        }
        _ => return Err("a point cloud is a list of points".into()),
    };
    let mut plain: Vec<[f64; 3]> = Vec::new();
    for p in points {
        let Some(a) = p.as_array() else { continue };
        let Some(xyz) = vec3(p) else { continue };
        match a.len() {
            4 => {
                let c = a[3].as_f64().unwrap_or(1.0).round().clamp(1.0, 14.0) as usize;
                let color = Rgba::parse(CATEGORY[c - 1]).unwrap_or(Rgba::BLACK);
                scene.points.push((xyz, color));
            }
            n if n >= 6 => {
                let color = rgb(&Value::Array(a[3..6].to_vec())).unwrap_or(Rgba::BLACK);
                scene.points.push((xyz, color));
            }
            _ => plain.push(xyz),
        }
    }
    // Plain points are coloured by height, as W&B does.
    if !plain.is_empty() {
        let (lo, hi) = plain
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), p| {
                (l.min(p[2]), h.max(p[2]))
            });
        let span = if hi > lo { hi - lo } else { 1.0 };
        let scale = ColorScale::viridis();
        scene
            .points
            .extend(plain.into_iter().map(|p| (p, scale.at((p[2] - lo) / span))));
    }
    Ok(scene)
}

/// Reads a Wavefront OBJ: `v` lines and `f` lines (polygons fanned into triangles; `v/vt/vn`
/// and negative indices understood).
pub fn parse_obj(text: &str) -> Result<Scene3d, String> {
    let mut scene = Scene3d {
        up: Up::Y,
        ..Scene3d::default()
    };
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        match parts.next() {
            Some("v") => {
                let c: Vec<f64> = parts.take(3).filter_map(|p| p.parse().ok()).collect();
                if c.len() == 3 {
                    scene.vertices.push([c[0], c[1], c[2]]);
                }
            }
            Some("f") => {
                let n = scene.vertices.len() as i64;
                let idx: Vec<u32> = parts
                    .filter_map(|p| {
                        let i: i64 = p.split('/').next()?.parse().ok()?;
                        let i = if i < 0 { n + i } else { i - 1 };
                        (0..n).contains(&i).then_some(i as u32)
                    })
                    .collect();
                for k in 1..idx.len().saturating_sub(1) {
                    scene.triangles.push([idx[0], idx[k], idx[k + 1]]);
                }
            }
            _ => {}
        }
    }
    if scene.vertices.is_empty() {
        return Err("the OBJ file has no vertices".into());
    }
    Ok(scene)
}

/// Reads an STL file, binary (80-byte header, count, 50 bytes per triangle) or ASCII.
pub fn parse_stl(bytes: &[u8]) -> Result<Scene3d, String> {
    let mut scene = Scene3d::default();
    if bytes.len() >= 84 {
        let n = u32::from_le_bytes([bytes[80], bytes[81], bytes[82], bytes[83]]) as usize;
        if bytes.len() == 84 + n * 50 {
            for t in bytes[84..].chunks_exact(50) {
                let f =
                    |o: usize| f64::from(f32::from_le_bytes([t[o], t[o + 1], t[o + 2], t[o + 3]]));
                let base = scene.vertices.len() as u32;
                for v in 0..3 {
                    let o = 12 + v * 12;
                    scene.vertices.push([f(o), f(o + 4), f(o + 8)]);
                }
                scene.triangles.push([base, base + 1, base + 2]);
            }
            return Ok(scene);
        }
    }
    let text = std::str::from_utf8(bytes).map_err(|_| "the STL file is neither binary nor text")?;
    let mut facet: Vec<[f64; 3]> = Vec::new();
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        match parts.next() {
            Some("vertex") => {
                let c: Vec<f64> = parts.take(3).filter_map(|p| p.parse().ok()).collect();
                if c.len() == 3 {
                    facet.push([c[0], c[1], c[2]]);
                }
            }
            Some("endloop") => {
                let base = scene.vertices.len() as u32;
                for k in 1..facet.len().saturating_sub(1) {
                    scene
                        .triangles
                        .push([base, base + k as u32, base + k as u32 + 1]);
                }
                scene.vertices.append(&mut facet);
            }
            _ => {}
        }
    }
    if scene.vertices.is_empty() {
        return Err("the STL file has no triangles".into());
    }
    Ok(scene)
}

/// Reads a binary glTF (`.glb`): its JSON chunk and binary chunk.
pub fn parse_glb(bytes: &[u8]) -> Result<Scene3d, String> {
    if bytes.len() < 20 || &bytes[0..4] != b"glTF" {
        return Err("not a glb file".into());
    }
    let u32_at = |o: usize| -> Option<usize> {
        Some(u32::from_le_bytes(bytes.get(o..o + 4)?.try_into().ok()?) as usize)
    };
    let mut off = 12;
    let (mut json, mut bin): (Option<Value>, Option<&[u8]>) = (None, None);
    while off + 8 <= bytes.len() {
        let (len, kind) = (u32_at(off).unwrap_or(0), u32_at(off + 4).unwrap_or(0));
        let Some(chunk) = bytes.get(off + 8..off + 8 + len) else {
            break;
        };
        match kind {
            0x4E4F_534A => json = serde_json::from_slice(chunk).ok(),
            0x004E_4942 => bin = Some(chunk),
            _ => {}
        }
        off += 8 + len;
    }
    let json = json.ok_or("the glb file has no JSON chunk")?;
    gltf_meshes(&json, &|i| {
        if i == 0 {
            bin.map(<[u8]>::to_vec)
        } else {
            None
        }
    })
}

/// Reads a `.gltf` whose buffers are embedded as base64 `data:` URIs.
pub fn parse_gltf(json: &Value) -> Result<Scene3d, String> {
    let buffers: Vec<Option<Vec<u8>>> = json
        .get("buffers")
        .and_then(Value::as_array)
        .map(|b| {
            b.iter()
                .map(|b| {
                    let uri = b.get("uri")?.as_str()?;
                    let (_, data) = uri.strip_prefix("data:")?.split_once(";base64,")?;
                    base64_decode(data)
                })
                .collect()
        })
        .unwrap_or_default();
    if buffers.iter().any(Option::is_none) {
        return Err("the glTF's buffers are separate files, which are not drawn".into());
    }
    gltf_meshes(json, &|i| buffers.get(i).cloned().flatten())
}

/// A 4×4 affine transform, row-major (`m[row][col]`).
type Mat4 = [[f64; 4]; 4];

const IDENTITY: Mat4 = [
    [1.0, 0.0, 0.0, 0.0],
    [0.0, 1.0, 0.0, 0.0],
    [0.0, 0.0, 1.0, 0.0],
    [0.0, 0.0, 0.0, 1.0],
];

/// Deepest node nesting and most mesh instances followed in a glTF scene (a hostile file may
/// nest or instance without end).
const MAX_NODE_DEPTH: usize = 64;
const MAX_MESH_INSTANCES: usize = 10_000;

fn mat_mul(a: &Mat4, b: &Mat4) -> Mat4 {
    let mut out = [[0.0; 4]; 4];
    for (r, row) in out.iter_mut().enumerate() {
        for (c, cell) in row.iter_mut().enumerate() {
            *cell = (0..4).map(|k| a[r][k] * b[k][c]).sum();
        }
    }
    out
}

fn transform_point(m: &Mat4, p: [f64; 3]) -> [f64; 3] {
    let at = |r: usize| m[r][0] * p[0] + m[r][1] * p[1] + m[r][2] * p[2] + m[r][3];
    [at(0), at(1), at(2)]
}

/// A node's local transform: its `matrix` (16 numbers, column-major), else its translation,
/// rotation (a unit quaternion `[x, y, z, w]`) and scale.
fn node_transform(node: &Value) -> Mat4 {
    let nums = |k: &str, n: usize| -> Option<Vec<f64>> {
        let v: Vec<f64> = node.get(k)?.as_array()?.iter().filter_map(num).collect();
        (v.len() == n).then_some(v)
    };
    if let Some(m) = nums("matrix", 16) {
        let mut out = IDENTITY;
        for (c, col) in m.chunks_exact(4).enumerate() {
            for (r, x) in col.iter().enumerate() {
                out[r][c] = *x;
            }
        }
        return out;
    }
    let t = nums("translation", 3).unwrap_or_else(|| vec![0.0; 3]);
    let q = nums("rotation", 4).unwrap_or_else(|| vec![0.0, 0.0, 0.0, 1.0]);
    let s = nums("scale", 3).unwrap_or_else(|| vec![1.0; 3]);
    let (x, y, z, w) = (q[0], q[1], q[2], q[3]);
    let rot = [
        [
            1.0 - 2.0 * (y * y + z * z),
            2.0 * (x * y - z * w),
            2.0 * (x * z + y * w),
        ],
        [
            2.0 * (x * y + z * w),
            1.0 - 2.0 * (x * x + z * z),
            2.0 * (y * z - x * w),
        ],
        [
            2.0 * (x * z - y * w),
            2.0 * (y * z + x * w),
            1.0 - 2.0 * (x * x + y * y),
        ],
    ];
    let mut out = IDENTITY;
    for r in 0..3 {
        for c in 0..3 {
            out[r][c] = rot[r][c] * s[c];
        }
        out[r][3] = t[r];
    }
    out
}

/// The meshes a glTF draws and where: the default scene's node tree walked from its roots, each
/// node's transform applied on its parent's. A file without scenes or nodes draws every mesh
/// where it is.
fn gltf_instances(json: &Value) -> Vec<(usize, Mat4)> {
    let nodes = json
        .get("nodes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let indices = |v: Option<&Value>| -> Vec<usize> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|i| Some(i.as_u64()? as usize))
                    .collect()
            })
            .unwrap_or_default()
    };
    let scenes = json.get("scenes").and_then(Value::as_array);
    let chosen = json.get("scene").and_then(Value::as_u64).unwrap_or(0) as usize;
    let roots = match scenes.and_then(|s| s.get(chosen)) {
        Some(scene) => indices(scene.get("nodes")),
        // No scene: every node that is nobody's child is a root.
        None => {
            let children: std::collections::HashSet<usize> = nodes
                .iter()
                .flat_map(|n| indices(n.get("children")))
                .collect();
            (0..nodes.len()).filter(|i| !children.contains(i)).collect()
        }
    };
    if nodes.is_empty() || roots.is_empty() {
        let meshes = json
            .get("meshes")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        return (0..meshes).map(|m| (m, IDENTITY)).collect();
    }
    let mut out = Vec::new();
    let mut stack: Vec<(usize, Mat4, usize)> =
        roots.into_iter().rev().map(|r| (r, IDENTITY, 0)).collect();
    while let Some((i, parent, depth)) = stack.pop() {
        let Some(node) = nodes.get(i) else { continue };
        if depth > MAX_NODE_DEPTH || out.len() >= MAX_MESH_INSTANCES {
            continue;
        }
        let world = mat_mul(&parent, &node_transform(node));
        if let Some(m) = node.get("mesh").and_then(Value::as_u64) {
            out.push((m as usize, world));
        }
        for c in indices(node.get("children")).into_iter().rev() {
            stack.push((c, world, depth + 1));
        }
    }
    out
}

/// The triangles of every mesh primitive (positions and indices), placed by the scene's nodes.
fn gltf_meshes(json: &Value, buffer: &dyn Fn(usize) -> Option<Vec<u8>>) -> Result<Scene3d, String> {
    let list = |k: &str| {
        json.get(k)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let (accessors, views) = (list("accessors"), list("bufferViews"));
    let mut cache: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut read = |acc: usize| -> Option<(Vec<f64>, usize)> {
        let a = accessors.get(acc)?;
        let view = views.get(a.get("bufferView")?.as_u64()? as usize)?;
        let buf_i = view.get("buffer")?.as_u64()? as usize;
        if !cache.iter().any(|(i, _)| *i == buf_i) {
            cache.push((buf_i, buffer(buf_i)?));
        }
        let data = &cache.iter().find(|(i, _)| *i == buf_i)?.1;
        let comps = match a.get("type")?.as_str()? {
            "SCALAR" => 1,
            "VEC2" => 2,
            "VEC3" => 3,
            "VEC4" => 4,
            _ => return None,
        };
        let ct = a.get("componentType")?.as_u64()?;
        let size = match ct {
            5120 | 5121 => 1,
            5122 | 5123 => 2,
            5125 | 5126 => 4,
            _ => return None,
        };
        let count = a.get("count")?.as_u64()? as usize;
        let start = view.get("byteOffset").and_then(Value::as_u64).unwrap_or(0) as usize
            + a.get("byteOffset").and_then(Value::as_u64).unwrap_or(0) as usize;
        let stride = view
            .get("byteStride")
            .and_then(Value::as_u64)
            .map_or(comps * size, |s| s as usize);
        let mut out = Vec::with_capacity(count * comps);
        for k in 0..count {
            for c in 0..comps {
                let o = start + k * stride + c * size;
                let b = data.get(o..o + size)?;
                out.push(match ct {
                    5126 => f64::from(f32::from_le_bytes(b.try_into().ok()?)),
                    5125 => f64::from(u32::from_le_bytes(b.try_into().ok()?)),
                    5123 => f64::from(u16::from_le_bytes(b.try_into().ok()?)),
                    5122 => f64::from(i16::from_le_bytes(b.try_into().ok()?)),
                    5121 => f64::from(b[0]),
                    _ => f64::from(b[0] as i8),
                });
            }
        }
        Some((out, comps))
    };
    let mut scene = Scene3d {
        up: Up::Y,
        ..Scene3d::default()
    };
    let meshes = list("meshes");
    for (mesh_index, at) in gltf_instances(json) {
        let Some(mesh) = meshes.get(mesh_index) else {
            continue;
        };
        let place = |c: &[f64]| transform_point(&at, [c[0], c[1], c[2]]);
        for prim in mesh
            .get("primitives")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let mode = prim.get("mode").and_then(Value::as_u64).unwrap_or(4);
            let Some(pos) = prim
                .get("attributes")
                .and_then(|a| a.get("POSITION"))
                .and_then(Value::as_u64)
            else {
                continue;
            };
            let Some((p, 3)) = read(pos as usize) else {
                return Err("a mesh's positions could not be read".into());
            };
            let base = scene.vertices.len() as u32;
            scene.vertices.extend(p.chunks_exact(3).map(place));
            let n = (p.len() / 3) as u32;
            let idx: Vec<u32> = match prim.get("indices").and_then(Value::as_u64) {
                Some(i) => read(i as usize)
                    .ok_or("a mesh's indices could not be read")?
                    .0
                    .into_iter()
                    .map(|v| v as u32)
                    .collect(),
                None => (0..n).collect(),
            };
            match mode {
                4 => scene.triangles.extend(
                    idx.chunks_exact(3)
                        .filter(|t| t.iter().all(|&v| v < n))
                        .map(|t| [base + t[0], base + t[1], base + t[2]]),
                ),
                0 => scene.points.extend(
                    p.chunks_exact(3)
                        .map(|c| (place(c), Rgba([80, 80, 80, 255]))),
                ),
                _ => return Err(format!("glTF primitive mode {mode} is not drawn")),
            }
        }
    }
    if scene.vertices.is_empty() && scene.points.is_empty() {
        return Err("the glTF file has no mesh positions".into());
    }
    Ok(scene)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn point_clouds_of_each_shape() {
        let s = parse_points(&json!([[0, 0, 0], [1, 1, 1]])).unwrap();
        assert_eq!(s.points.len(), 2);
        assert_ne!(s.points[0].1, s.points[1].1, "coloured by height");
        let s = parse_points(&json!([[0, 0, 0, 2]])).unwrap();
        assert_eq!(s.points[0].1, Rgba::parse("#ff7f0e").unwrap());
        let s = parse_points(&json!([[0, 0, 0, 255, 0, 10]])).unwrap();
        assert_eq!(s.points[0].1, Rgba([255, 0, 10, 255]));
        let corners: Vec<Vec<f64>> = (0..8)
            .map(|i| vec![f64::from(i & 4), f64::from(i & 2), f64::from(i & 1)])
            .collect();
        let s = parse_points(&json!({"type": "lidar/beta", "points": [[1, 2, 3]],
            "boxes": [{"corners": corners, "color": [0, 1, 0], "label": "car"}],
            "vectors": [{"start": [0, 0, 0], "end": [1, 0, 0]}]}))
        .unwrap();
        assert_eq!(s.boxes[0].color, Rgba([0, 255, 0, 255]));
        assert_eq!(s.boxes[0].label.as_deref(), Some("car"));
        assert_eq!(s.vectors.len(), 1);
        assert_eq!(Box3::edges().count(), 12);
        assert!(parse_points(&json!({"type": "radar", "points": []})).is_err());
    }

    #[test]
    fn obj_faces_fan_into_triangles() {
        let s = parse_obj("# quad\nv 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nf 1/1/1 2/2/2 3/3/3 -1\n")
            .unwrap();
        assert_eq!(s.vertices.len(), 4);
        assert_eq!(s.triangles, vec![[0, 1, 2], [0, 2, 3]]);
        assert!(parse_obj("nothing").is_err());
    }

    #[test]
    fn stl_binary_and_ascii() {
        let mut b = vec![0u8; 80];
        b.extend(1u32.to_le_bytes());
        b.extend([0u8; 12]);
        for v in [[0f32, 0., 0.], [1., 0., 0.], [0., 1., 0.]] {
            for c in v {
                b.extend(c.to_le_bytes());
            }
        }
        b.extend([0u8; 2]);
        let s = parse_stl(&b).unwrap();
        assert_eq!(s.vertices[1], [1.0, 0.0, 0.0]);
        assert_eq!(s.triangles, vec![[0, 1, 2]]);
        let ascii = "solid t\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex 0 1 0\nendloop\nendfacet\nendsolid t\n";
        assert_eq!(parse_stl(ascii.as_bytes()).unwrap().triangles.len(), 1);
    }

    #[test]
    fn gltf_nodes_place_their_meshes() {
        // One triangle, as an embedded base64 buffer.
        let mut bin = Vec::new();
        for c in [0f32, 0., 0., 1., 0., 0., 0., 1., 0.] {
            bin.extend(c.to_le_bytes());
        }
        let b64 = {
            const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            let mut out = String::new();
            for ch in bin.chunks(3) {
                let n = (u32::from(ch[0]) << 16)
                    | (u32::from(*ch.get(1).unwrap_or(&0)) << 8)
                    | u32::from(*ch.get(2).unwrap_or(&0));
                for k in 0..4 {
                    out.push(if k <= ch.len() {
                        A[(n >> (18 - 6 * k)) as usize & 63] as char
                    } else {
                        '='
                    });
                }
            }
            out
        };
        let h = std::f64::consts::FRAC_1_SQRT_2;
        let gltf = json!({"asset": {"version": "2.0"}, "scene": 0,
            "scenes": [{"nodes": [0, 2]}],
            "nodes": [
                // Moved by +10 on x.
                {"mesh": 0, "translation": [10.0, 0.0, 0.0]},
                // Child of node 2: turned 90° about z and doubled, then its parent's matrix
                // (column-major) moves it by +5 on z.
                {"mesh": 0, "rotation": [0.0, 0.0, h, h], "scale": [2.0, 2.0, 2.0]},
                {"children": [1], "matrix": [1,0,0,0, 0,1,0,0, 0,0,1,0, 0,0,5,1]}
            ],
            "buffers": [{"uri": format!("data:application/octet-stream;base64,{b64}")}],
            "bufferViews": [{"buffer": 0, "byteLength": 36}],
            "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3"}],
            "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}]});
        let s = parse_gltf(&gltf).unwrap();
        let round = |v: [f64; 3]| v.map(|x| (x * 1e6).round() / 1e6);
        let got: Vec<[f64; 3]> = s.vertices.iter().map(|v| round(*v)).collect();
        assert_eq!(
            got,
            vec![
                [10.0, 0.0, 0.0],
                [11.0, 0.0, 0.0],
                [10.0, 1.0, 0.0],
                [0.0, 0.0, 5.0],
                [0.0, 2.0, 5.0],
                [-2.0, 0.0, 5.0],
            ]
        );
        assert_eq!(s.triangles, vec![[0, 1, 2], [3, 4, 5]]);
        // A node that is its own child is followed only so deep.
        let mut cyclic = gltf.clone();
        cyclic["nodes"][2]["children"] = json!([1, 2]);
        let s = parse_gltf(&cyclic).unwrap();
        assert!(s.triangles.len() <= MAX_NODE_DEPTH + 2);
    }

    #[test]
    fn glb_positions_and_indices() {
        let mut bin = Vec::new();
        for c in [0f32, 0., 0., 1., 0., 0., 0., 1., 0.] {
            bin.extend(c.to_le_bytes());
        }
        for i in [0u16, 1, 2, 0] {
            bin.extend(i.to_le_bytes());
        }
        let gltf = json!({"asset": {"version": "2.0"}, "buffers": [{"byteLength": bin.len()}],
            "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": 36},
                            {"buffer": 0, "byteOffset": 36, "byteLength": 6}],
            "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3"},
                          {"bufferView": 1, "componentType": 5123, "count": 3, "type": "SCALAR"}],
            "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1}]}]});
        let mut text = serde_json::to_vec(&gltf).unwrap();
        while !text.len().is_multiple_of(4) {
            text.push(b' ');
        }
        let mut glb = b"glTF".to_vec();
        glb.extend(2u32.to_le_bytes());
        glb.extend(((12 + 8 + text.len() + 8 + bin.len()) as u32).to_le_bytes());
        glb.extend((text.len() as u32).to_le_bytes());
        glb.extend(0x4E4F_534Au32.to_le_bytes());
        glb.extend(&text);
        glb.extend((bin.len() as u32).to_le_bytes());
        glb.extend(0x004E_4942u32.to_le_bytes());
        glb.extend(&bin);
        let s = parse_glb(&glb).unwrap();
        assert_eq!(s.vertices.len(), 3);
        assert_eq!(s.triangles, vec![[0, 1, 2]]);
        assert!(parse_glb(b"nope").is_err());
        let external = json!({"buffers": [{"uri": "mesh.bin"}]});
        assert!(
            parse_gltf(&external)
                .unwrap_err()
                .contains("separate files")
        );
    }
}
