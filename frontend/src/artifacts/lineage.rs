//! A version's lineage as a small SVG graph: the run that logged it (left) → the version
//! (middle) → every run that used it (right). Run nodes open the run's page; every name is an
//! SVG text node (escaped). The layout is a plain function, host-tested.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use trackline_shared::artifacts::{ArtifactRunRef, ArtifactVersion};

use crate::browser::href;
use crate::util::run_path;

pub const NODE_W: f64 = 210.0;
pub const NODE_H: f64 = 30.0;
const GAP_Y: f64 = 14.0;
const COL_X: [f64; 3] = [10.0, 290.0, 570.0];
const WIDTH: f64 = 790.0;
/// Characters of a name shown in a node.
const LABEL_CHARS: usize = 28;

/// Which part of the lineage a node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeRole {
    Producer,
    Version,
    User,
}

/// A node's place (its top-left corner).
#[derive(Clone, Debug, PartialEq)]
pub struct NodeBox {
    pub role: NodeRole,
    /// The run's index in `used_by` for a user.
    pub index: usize,
    pub x: f64,
    pub y: f64,
}

/// Places the producer (if any), the version and `users` run nodes; returns the height and the
/// nodes. Each column is centred on the tallest one.
pub fn lineage_layout(producer: bool, users: usize) -> (f64, Vec<NodeBox>) {
    let rows = users.max(1);
    let height = rows as f64 * (NODE_H + GAP_Y) + GAP_Y;
    let mid = (height - NODE_H) / 2.0;
    let mut nodes = Vec::with_capacity(users + 2);
    if producer {
        nodes.push(NodeBox {
            role: NodeRole::Producer,
            index: 0,
            x: COL_X[0],
            y: mid,
        });
    }
    nodes.push(NodeBox {
        role: NodeRole::Version,
        index: 0,
        x: COL_X[1],
        y: mid,
    });
    for i in 0..users {
        nodes.push(NodeBox {
            role: NodeRole::User,
            index: i,
            x: COL_X[2],
            y: GAP_Y + i as f64 * (NODE_H + GAP_Y),
        });
    }
    (height, nodes)
}

/// A name cut to fit a node, with `…` when cut.
pub fn clip_label(text: &str) -> String {
    if text.chars().count() <= LABEL_CHARS {
        return text.to_string();
    }
    let mut out: String = text.chars().take(LABEL_CHARS - 1).collect();
    out.push('…');
    out
}

/// A run as a node names it: its id, with its project when that is not this one.
fn run_label(project: &str, r: &ArtifactRunRef) -> String {
    if r.project == project {
        format!("run {}", r.run)
    } else {
        format!("run {}/{}", r.project, r.run)
    }
}

/// A curve from the right edge of `a` to the left edge of `b`.
fn edge(a: &NodeBox, b: &NodeBox) -> String {
    let (x1, y1) = (a.x + NODE_W, a.y + NODE_H / 2.0);
    let (x2, y2) = (b.x, b.y + NODE_H / 2.0);
    let mx = (x1 + x2) / 2.0;
    format!("M{x1},{y1} C{mx},{y1} {mx},{y2} {x2},{y2}")
}

#[component]
pub fn LineageGraph(project: String, version: ArtifactVersion) -> impl IntoView {
    let navigate = use_navigate();
    let (height, nodes) = lineage_layout(version.logged_by.is_some(), version.used_by.len());
    let center = nodes
        .iter()
        .find(|n| n.role == NodeRole::Version)
        .cloned()
        .expect("the version node");
    let edges: Vec<String> = nodes
        .iter()
        .filter_map(|n| match n.role {
            NodeRole::Producer => Some(edge(n, &center)),
            NodeRole::User => Some(edge(&center, n)),
            NodeRole::Version => None,
        })
        .collect();
    let title = format!("{}:v{}", version.info.name, version.info.version);
    let node_views = nodes
        .into_iter()
        .map(|n| {
            let run = match n.role {
                NodeRole::Producer => version.logged_by.clone(),
                NodeRole::User => version.used_by.get(n.index).cloned(),
                NodeRole::Version => None,
            };
            let (label, full, class, testid) = match (&run, n.role) {
                (Some(r), NodeRole::Producer) => (
                    run_label(&project, r),
                    r.run.clone(),
                    "af-node producer",
                    "lineage-producer",
                ),
                (Some(r), _) => (
                    run_label(&project, r),
                    r.run.clone(),
                    "af-node user",
                    "lineage-user",
                ),
                (None, _) => (
                    title.clone(),
                    title.clone(),
                    "af-node version",
                    "lineage-version",
                ),
            };
            let target = run.map(|r| href(&run_path(&r.project, &r.run)));
            let navigate = navigate.clone();
            let on_click = move |_| {
                if let Some(t) = &target {
                    navigate(t, Default::default());
                }
            };
            view! {
                <g class=class data-testid=testid data-run=full on:click=on_click>
                    <rect x=n.x y=n.y width=NODE_W height=NODE_H rx="6"></rect>
                    <text x=n.x + 10.0 y=n.y + NODE_H / 2.0 + 4.0>{clip_label(&label)}</text>
                </g>
            }
        })
        .collect_view();
    let empty = version.logged_by.is_none() && version.used_by.is_empty();
    view! {
        <div class="af-lineage" data-testid="lineage">
            <svg
                width=WIDTH
                height=height
                viewBox=format!("0 0 {WIDTH} {height}")
                role="img"
                aria-label="Lineage"
            >
                {edges.into_iter().map(|d| view! { <path d=d></path> }).collect_view()}
                {node_views}
            </svg>
            {empty.then(|| view! { <p class="faint">"No run logged or used this version."</p> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_and_rows() {
        let (h, nodes) = lineage_layout(true, 3);
        assert_eq!(nodes.len(), 5);
        assert_eq!(nodes[0].role, NodeRole::Producer);
        assert_eq!(nodes[1].role, NodeRole::Version);
        assert!(nodes[0].x < nodes[1].x && nodes[1].x < nodes[2].x);
        // Users stacked, the version centred between them.
        assert!(nodes[2].y < nodes[3].y && nodes[3].y < nodes[4].y);
        assert_eq!(nodes[1].y, nodes[3].y);
        assert!(nodes[4].y + NODE_H <= h);
        let (_, alone) = lineage_layout(false, 0);
        assert_eq!(alone.len(), 1);
        assert_eq!(alone[0].role, NodeRole::Version);
    }

    #[test]
    fn labels_are_cut() {
        assert_eq!(clip_label("short"), "short");
        let long = "x".repeat(40);
        let cut = clip_label(&long);
        assert_eq!(cut.chars().count(), LABEL_CHARS);
        assert!(cut.ends_with('…'));
    }
}
