//! The 3-D viewer's camera and frame, drawn with the canvas 2-D API: an orbit camera (yaw and
//! pitch around the object's centre, dragged; zoom by wheel) with mild perspective, points as
//! small squares far to near, mesh triangles flat-shaded by their normal and painted far to near
//! (painter's algorithm), box edges and vectors as lines.

use super::figure::{Rendered, Rgba, Shape};
use super::meshes::{Box3, Scene3d, Up};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Camera {
    /// Turn around the up axis, radians.
    pub yaw: f64,
    /// Tilt towards the viewer, radians (±1.5 at most).
    pub pitch: f64,
    pub zoom: f64,
}

impl Default for Camera {
    fn default() -> Self {
        Camera {
            yaw: -0.6,
            pitch: 0.45,
            zoom: 1.0,
        }
    }
}

impl Camera {
    /// The camera after a drag of `(dx, dy)` CSS pixels (half a turn per 300 px).
    pub fn dragged(self, dx: f64, dy: f64) -> Camera {
        Camera {
            yaw: self.yaw + dx * std::f64::consts::PI / 300.0,
            pitch: (self.pitch + dy * std::f64::consts::PI / 300.0).clamp(-1.5, 1.5),
            zoom: self.zoom,
        }
    }

    /// The camera after a wheel turn of `delta_y` (positive zooms out).
    pub fn wheeled(self, delta_y: f64) -> Camera {
        Camera {
            zoom: (self.zoom * (-delta_y / 500.0).exp()).clamp(0.1, 50.0),
            ..self
        }
    }
}

/// Most points and triangles drawn in one frame; larger objects are sampled evenly.
pub const MAX_POINTS: usize = 150_000;
pub const MAX_TRIANGLES: usize = 100_000;

/// World coordinates turned so that up is +y.
fn upright(p: [f64; 3], up: Up) -> [f64; 3] {
    match up {
        Up::Y => p,
        Up::Z => [p[0], p[2], -p[1]],
    }
}

/// Centre and radius of everything the scene holds (in its upright frame).
pub fn bounds(scene: &Scene3d) -> ([f64; 3], f64) {
    let mut lo = [f64::INFINITY; 3];
    let mut hi = [f64::NEG_INFINITY; 3];
    let mut add = |p: [f64; 3]| {
        let p = upright(p, scene.up);
        for k in 0..3 {
            if p[k].is_finite() {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
    };
    scene.points.iter().for_each(|(p, _)| add(*p));
    scene.vertices.iter().for_each(|p| add(*p));
    scene
        .boxes
        .iter()
        .flat_map(|b| b.corners)
        .for_each(&mut add);
    scene
        .vectors
        .iter()
        .flat_map(|(a, b)| [*a, *b])
        .for_each(&mut add);
    if !lo[0].is_finite() {
        return ([0.0; 3], 1.0);
    }
    let c = [
        (lo[0] + hi[0]) / 2.0,
        (lo[1] + hi[1]) / 2.0,
        (lo[2] + hi[2]) / 2.0,
    ];
    let r =
        ((hi[0] - lo[0]).powi(2) + (hi[1] - lo[1]).powi(2) + (hi[2] - lo[2]).powi(2)).sqrt() / 2.0;
    (c, if r > 0.0 { r } else { 1.0 })
}

/// Projects world points onto the canvas.
#[derive(Clone, Copy, Debug)]
pub struct Projector {
    cam: Camera,
    centre: [f64; 3],
    radius: f64,
    up: Up,
    w: f64,
    h: f64,
}

impl Projector {
    pub fn new(scene: &Scene3d, cam: Camera, w: f64, h: f64) -> Projector {
        let (centre, radius) = bounds(scene);
        Projector {
            cam,
            centre,
            radius,
            up: scene.up,
            w,
            h,
        }
    }

    /// View-space coordinates: x right, y up, z towards the viewer.
    fn view(&self, p: [f64; 3]) -> [f64; 3] {
        let p = upright(p, self.up);
        let (x, y, z) = (
            p[0] - self.centre[0],
            p[1] - self.centre[1],
            p[2] - self.centre[2],
        );
        let (sy, cy) = self.cam.yaw.sin_cos();
        let (x1, z1) = (cy * x + sy * z, -sy * x + cy * z);
        let (sp, cp) = self.cam.pitch.sin_cos();
        let (y2, z2) = (cp * y - sp * z1, sp * y + cp * z1);
        [x1, y2, z2]
    }

    /// Screen position and depth (larger = nearer) of a world point.
    pub fn project(&self, p: [f64; 3]) -> (f64, f64, f64) {
        let v = self.view(p);
        let scale = self.w.min(self.h) / 2.0 * 0.85 / self.radius * self.cam.zoom;
        let persp = 4.0 / (4.0 - (v[2] / self.radius).clamp(-3.0, 3.0));
        (
            self.w / 2.0 + v[0] * scale * persp,
            self.h / 2.0 - v[1] * scale * persp,
            v[2],
        )
    }
}

/// A triangle on screen: depth, corners, shaded colour.
type Facet = (f64, [(f64, f64); 3], Rgba);

/// What a frame drew, for the panel's read-out and its test attributes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FrameStats {
    pub points: usize,
    pub triangles: usize,
}

/// One frame of the scene.
pub fn render_scene(scene: &Scene3d, cam: Camera, w: f64, h: f64) -> (Rendered, FrameStats) {
    let mut out = Rendered::default();
    out.shapes.push(Shape::Rect {
        x: 0.0,
        y: 0.0,
        w,
        h,
        color: Rgba([250, 251, 252, 255]),
    });
    let pr = Projector::new(scene, cam, w, h);
    let mut stats = FrameStats::default();
    // Triangles, far to near, shaded by how squarely they face the light at the viewer.
    let tstep = scene.triangles.len().div_ceil(MAX_TRIANGLES).max(1);
    let mut tris: Vec<Facet> = Vec::new();
    let base = Rgba([110, 140, 190, 255]);
    for t in scene.triangles.iter().step_by(tstep) {
        let Some(vs) = t
            .iter()
            .map(|&i| scene.vertices.get(i as usize).copied())
            .collect::<Option<Vec<_>>>()
        else {
            continue;
        };
        let v: Vec<[f64; 3]> = vs.iter().map(|p| pr.view(*p)).collect();
        let (a, b) = (sub(v[1], v[0]), sub(v[2], v[0]));
        let n = cross(a, b);
        let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
        if !(len > 0.0 && len.is_finite()) {
            continue;
        }
        let light = (n[2] / len).abs();
        let s: Vec<(f64, f64)> = vs
            .iter()
            .map(|p| {
                let (x, y, _) = pr.project(*p);
                (x, y)
            })
            .collect();
        let depth = (v[0][2] + v[1][2] + v[2][2]) / 3.0;
        tris.push((depth, [s[0], s[1], s[2]], base.shade(0.35 + 0.65 * light)));
    }
    tris.sort_by(|a, b| a.0.total_cmp(&b.0));
    stats.triangles = tris.len();
    out.shapes
        .extend(tris.into_iter().map(|(_, p, color)| Shape::Fill {
            pts: p.to_vec(),
            color,
        }));
    // Points, far to near.
    let pstep = scene.points.len().div_ceil(MAX_POINTS).max(1);
    let mut pts: Vec<(f64, f64, f64, Rgba)> = scene
        .points
        .iter()
        .step_by(pstep)
        .map(|(p, c)| {
            let (x, y, d) = pr.project(*p);
            (d, x, y, *c)
        })
        .filter(|(_, x, y, _)| (0.0..=w).contains(x) && (0.0..=h).contains(y))
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    stats.points = pts.len();
    let size = if pts.len() > 20_000 { 1.5 } else { 2.5 };
    out.shapes
        .extend(pts.into_iter().map(|(_, x, y, color)| Shape::Rect {
            x: x - size / 2.0,
            y: y - size / 2.0,
            w: size,
            h: size,
            color,
        }));
    for b in &scene.boxes {
        box_lines(&pr, b, &mut out.shapes);
    }
    for (a, b) in &scene.vectors {
        let (p, q) = (pr.project(*a), pr.project(*b));
        out.shapes.push(Shape::Line {
            pts: vec![(p.0, p.1), (q.0, q.1)],
            color: Rgba([207, 34, 46, 255]),
            width: 1.5,
            dash: false,
        });
    }
    (out, stats)
}

fn box_lines(pr: &Projector, b: &Box3, shapes: &mut Vec<Shape>) {
    let s: Vec<(f64, f64, f64)> = b.corners.iter().map(|c| pr.project(*c)).collect();
    for (i, j) in Box3::edges() {
        shapes.push(Shape::Line {
            pts: vec![(s[i].0, s[i].1), (s[j].0, s[j].1)],
            color: b.color,
            width: 1.5,
            dash: false,
        });
    }
    if let Some(label) = &b.label {
        let top = s.iter().fold((0.0, f64::INFINITY), |acc, p| {
            if p.1 < acc.1 { (p.0, p.1) } else { acc }
        });
        shapes.push(Shape::Text {
            x: top.0,
            y: top.1 - 8.0,
            text: label.clone(),
            color: b.color,
            align: super::figure::Align::Center,
            size: 10.5,
            vertical: false,
        });
    }
}

fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::meshes::{parse_obj, parse_points};
    use serde_json::json;

    #[test]
    fn the_centre_projects_to_the_middle_and_orbit_moves_points() {
        let s = parse_points(&json!([[-1, -1, -1], [1, 1, 1], [1, -1, 0]])).unwrap();
        let cam = Camera::default();
        let pr = Projector::new(&s, cam, 200.0, 100.0);
        let (x, y, _) = pr.project([0.0, 0.0, 0.0]);
        assert!((x - 100.0).abs() < 1e-9 && (y - 50.0).abs() < 1e-9);
        let before = pr.project([1.0, -1.0, 0.0]);
        let moved =
            Projector::new(&s, cam.dragged(60.0, 0.0), 200.0, 100.0).project([1.0, -1.0, 0.0]);
        assert!((before.0 - moved.0).abs() > 1.0);
        let (r0, st0) = render_scene(&s, cam, 200.0, 100.0);
        let (r1, _) = render_scene(&s, cam.dragged(60.0, 20.0), 200.0, 100.0);
        assert_eq!(st0.points, 3);
        assert_ne!(r0, r1);
        // Zooming out shrinks the drawing.
        let far = Projector::new(&s, cam.wheeled(500.0), 200.0, 100.0).project([1.0, -1.0, 0.0]);
        assert!((far.0 - 100.0).abs() < (before.0 - 100.0).abs());
        assert!(cam.dragged(0.0, 1e6).pitch <= 1.5);
    }

    #[test]
    fn triangles_are_painted_far_to_near_and_shaded() {
        // Two parallel squares along the view axis: the nearer one is painted last.
        let obj = "v -1 -1 1\nv 1 -1 1\nv 1 1 1\nv -1 1 1\nv -1 -1 -1\nv 1 -1 -1\nv 1 1 -1\nv -1 1 -1\nf 1 2 3 4\nf 5 6 7 8\n";
        let s = parse_obj(obj).unwrap();
        let cam = Camera {
            yaw: 0.0,
            pitch: 0.0,
            zoom: 1.0,
        };
        let (r, st) = render_scene(&s, cam, 200.0, 200.0);
        assert_eq!(st.triangles, 4);
        let fills: Vec<&Vec<(f64, f64)>> = r
            .shapes
            .iter()
            .filter_map(|s| match s {
                Shape::Fill { pts, .. } => Some(pts),
                _ => None,
            })
            .collect();
        // Perspective draws the near square (z = +1) larger, and it comes last.
        let span = |p: &Vec<(f64, f64)>| {
            p.iter().map(|q| q.0).fold(f64::NEG_INFINITY, f64::max)
                - p.iter().map(|q| q.0).fold(f64::INFINITY, f64::min)
        };
        assert!(span(fills[3]) > span(fills[0]));
    }
}
