//! Presence on the WebSocket: who else has the app open, what each person views, where their
//! pointer is on a chart, which note they edit. Never stored; the daemon keeps it in memory only.
//!
//! A client sends [`PresenceState`] (as `ClientMsg::Presence`) whenever its view or cursor changes
//! and at least every [`HEARTBEAT_SECS`]; the daemon answers the other people in the same project
//! with [`Peer`] upserts (`ServerMsg::Presence`) and `ServerMsg::PeerLeft` once a peer closes its
//! socket or stays silent for [`TIMEOUT_SECS`]. Cursors are forwarded at most [`CURSOR_HZ`] times a
//! second and views at most [`VIEW_HZ`] per person (excess updates are coalesced: the latest wins).

use serde::{Deserialize, Serialize};

/// A connection's id, unique within one daemon process.
pub type ConnId = u64;

/// Most cursor updates per second forwarded for one person.
pub const CURSOR_HZ: u32 = 10;
/// Most view changes per second forwarded for one person (editing changes go at [`CURSOR_HZ`]).
pub const VIEW_HZ: u32 = 1;
/// A client re-sends its presence at least this often while its page is open.
pub const HEARTBEAT_SECS: u64 = 15;
/// A peer not heard from for this long is dropped (the daemon's default; `serve
/// --presence-timeout-secs`).
pub const TIMEOUT_SECS: u64 = 30;

/// Longest route, panel, key, axis or entity id kept; longer text is cut.
pub const MAX_TEXT_CHARS: usize = 256;
/// Most run ids kept in one view.
pub const MAX_VIEW_RUNS: usize = 32;

/// What one person tells the others about themselves: the whole state each time (latest wins).
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug, Default)]
pub struct PresenceState {
    pub view: View,
    /// Where the pointer is on a chart; `None` when it is on none.
    #[serde(default)]
    pub cursor: Option<Cursor>,
    /// The entity whose editor is open, e.g. `note:run:<run id>` or `note:project`.
    #[serde(default)]
    pub editing: Option<String>,
}

/// The page a person has open.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug, Default)]
pub struct View {
    /// The app's route, e.g. `/projects/p/runs/r1`.
    pub route: String,
    /// The project the route belongs to; people see the others of their project.
    #[serde(default)]
    pub project: Option<String>,
    /// Runs on screen: the run of a run page, the selected runs of a runs page.
    #[serde(default)]
    pub runs: Vec<String>,
    /// The panel (chart) in focus, if any.
    #[serde(default)]
    pub panel: Option<String>,
}

/// A pointer on a chart, in data coordinates, so every chart of the same metric and x axis can
/// draw it whatever its zoom and size.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct Cursor {
    /// The chart's metric.
    pub key: String,
    /// The chart's x axis: `step`, `wall_time`, `relative_time`, or `metric:<key>` for a metric.
    pub x_axis: String,
    pub x: f64,
    pub y: f64,
}

/// Another person, as the daemon forwards them.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct Peer {
    pub conn: ConnId,
    /// The share link's label (`local` without sharing).
    pub label: String,
    /// A CSS colour, `#rrggbb`: derived from the share link, so one link keeps its colour.
    pub color: String,
    #[serde(flatten)]
    pub state: PresenceState,
}

/// Who this connection is, told in the hello.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct Me {
    pub conn: ConnId,
    pub label: String,
    pub color: String,
    /// The link's scope (`viewer`, `annotator`, `owner`); `None` without sharing.
    #[serde(default)]
    pub scope: Option<String>,
}

impl PresenceState {
    /// The state with every text cut to [`MAX_TEXT_CHARS`], at most [`MAX_VIEW_RUNS`] runs, and no
    /// cursor at a non-finite position.
    pub fn bounded(mut self) -> PresenceState {
        cut(&mut self.view.route);
        if let Some(p) = &mut self.view.project {
            cut(p);
        }
        self.view.runs.truncate(MAX_VIEW_RUNS);
        self.view.runs.iter_mut().for_each(cut);
        if let Some(p) = &mut self.view.panel {
            cut(p);
        }
        if let Some(e) = &mut self.editing {
            cut(e);
        }
        if let Some(c) = &mut self.cursor {
            cut(&mut c.key);
            cut(&mut c.x_axis);
        }
        if self
            .cursor
            .as_ref()
            .is_some_and(|c| !(c.x.is_finite() && c.y.is_finite()))
        {
            self.cursor = None;
        }
        self
    }
}

fn cut(text: &mut String) {
    if let Some((at, _)) = text.char_indices().nth(MAX_TEXT_CHARS) {
        text.truncate(at);
    }
}

/// Initials for an avatar: the first letters of the label's first two words, upper-cased.
pub fn initials(label: &str) -> String {
    let letters: String = label
        .split(|c: char| c.is_whitespace() || c == '-' || c == '_' || c == '.' || c == '@')
        .filter_map(|w| w.chars().find(|c| c.is_alphanumeric()))
        .take(2)
        .flat_map(char::to_uppercase)
        .collect();
    if letters.is_empty() {
        "?".into()
    } else {
        letters
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_flattens_its_state_and_reads_back() {
        let peer = Peer {
            conn: 4,
            label: "alice".into(),
            color: "#aa3377".into(),
            state: PresenceState {
                view: View {
                    route: "/projects/p".into(),
                    project: Some("p".into()),
                    runs: vec!["r1".into()],
                    panel: None,
                },
                cursor: Some(Cursor {
                    key: "loss".into(),
                    x_axis: "step".into(),
                    x: 1200.0,
                    y: 0.5,
                }),
                editing: None,
            },
        };
        let s = serde_json::to_string(&peer).unwrap();
        assert_eq!(
            s,
            r##"{"conn":4,"label":"alice","color":"#aa3377","view":{"route":"/projects/p","project":"p","runs":["r1"],"panel":null},"cursor":{"key":"loss","x_axis":"step","x":1200.0,"y":0.5},"editing":null}"##
        );
        assert_eq!(serde_json::from_str::<Peer>(&s).unwrap(), peer);
        // A minimal state reads with its defaults.
        let st: PresenceState = serde_json::from_str(r#"{"view":{"route":"/"}}"#).unwrap();
        assert_eq!(st, PresenceState::default().tap_route("/"));
    }

    impl PresenceState {
        fn tap_route(mut self, r: &str) -> Self {
            self.view.route = r.into();
            self
        }
    }

    #[test]
    fn bounded_cuts_long_texts_and_many_runs() {
        let st = PresenceState {
            view: View {
                route: "é".repeat(1000),
                runs: vec!["r".into(); 100],
                ..View::default()
            },
            editing: Some("x".repeat(300)),
            ..PresenceState::default()
        }
        .bounded();
        assert_eq!(st.view.route.chars().count(), MAX_TEXT_CHARS);
        assert_eq!(st.view.runs.len(), MAX_VIEW_RUNS);
        assert_eq!(st.editing.unwrap().len(), MAX_TEXT_CHARS);
    }

    #[test]
    fn initials_take_two_words() {
        assert_eq!(initials("alice"), "A");
        assert_eq!(initials("bob smith"), "BS");
        assert_eq!(initials("ann-marie lee"), "AM");
        assert_eq!(initials("  "), "?");
    }
}
