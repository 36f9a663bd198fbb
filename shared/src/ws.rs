//! WebSocket protocol on `/api/ws`: JSON text frames, one message each.
//!
//! The client subscribes to topics; the server answers with a snapshot and then pushes deltas.
//! Resumption is by offset: a series subscription names the first point offset it lacks, a project
//! subscription the last run `version` it saw, so a reconnect yields no gap and no duplicate.

use crate::annotations::{AnnotationEvent, Seq};
use crate::api::{ProjectInfo, RunInfo};
use serde::{Deserialize, Serialize};

/// Chosen by the client, echoed on every message for that subscription.
pub type SubId = u64;

#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    Subscribe {
        id: SubId,
        topic: Topic,
    },
    Unsubscribe {
        id: SubId,
    },
    Ping {
        nonce: u64,
    },
    /// This person's presence (view, cursor, editing): the whole state, sent on every change and
    /// at least every [`crate::presence::HEARTBEAT_SECS`] (see [`crate::presence`]).
    Presence(crate::presence::PresenceState),
}

#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Topic {
    /// The project list; answered with [`ServerMsg::Projects`] now and on every change.
    Projects,
    /// Runs of a project: [`ServerMsg::Runs`] with every run whose `version > since`, then each change.
    Project {
        project: String,
        #[serde(default)]
        since: u64,
    },
    /// One run: its info on each change plus [`ServerMsg::Keys`] whenever new metric keys appear.
    Run { project: String, run: String },
    /// Raw points of one metric of one run from offset `from` on, then every appended point.
    /// With `x_key`, the points are `key` against that metric, joined by step as the series query
    /// joins them (each point takes the x logged at its step or the latest before; points before
    /// the first x or at a non-finite x are left out): `step` carries the x, and `from` counts
    /// joined points, as the query's answer does.
    Series {
        project: String,
        run: String,
        key: String,
        #[serde(default)]
        from: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        x_key: Option<String>,
    },
    /// Logged values of one media key of one run (images, histograms, tables, ...) from entry
    /// offset `from` on, as [`ServerMsg::Media`], then every new one.
    Media {
        project: String,
        run: String,
        key: String,
        #[serde(default)]
        from: u64,
    },
    /// The annotations of a project (notes, threads, comments): every event with `seq > since`
    /// as [`ServerMsg::Annotations`], then each new one. A client takes the REST snapshot
    /// (`GET /api/projects/{project}/annotations`) and subscribes with its `seq`; after a
    /// reconnect it resumes from the last `seq` it saw, with no gap and no duplicate.
    Annotations {
        project: String,
        #[serde(default)]
        since: Seq,
    },
    /// The artifact names of a project: [`ServerMsg::Artifacts`] now and whenever a version, a
    /// deletion or an alias move changes them.
    Artifacts { project: String },
    /// The sweeps of a project: [`ServerMsg::Sweeps`] now and whenever one changes (a run handed
    /// out, ended or given a metric value, a state change).
    Sweeps { project: String },
    /// One sweep whole: [`ServerMsg::Sweep`] now and whenever it changes.
    Sweep { project: String, sweep: String },
}

#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// First message on every connection. `instance` changes whenever the daemon restarts: a
    /// client that sees a new one resubscribes projects with `since: 0` (versions restarted).
    Hello {
        protocol: u32,
        version: String,
        #[serde(default)]
        instance: String,
        /// Who this connection is to the others (presence): its id, label, colour and scope.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        you: Option<crate::presence::Me>,
    },
    Subscribed {
        id: SubId,
    },
    Projects {
        sub: SubId,
        projects: Vec<ProjectInfo>,
    },
    /// Runs added or changed (upserts, keyed by id).
    Runs {
        sub: SubId,
        runs: Vec<RunInfo>,
    },
    RunRemoved {
        sub: SubId,
        project: String,
        run: String,
    },
    /// All metric keys of the run so far.
    Keys {
        sub: SubId,
        run: String,
        keys: Vec<String>,
    },
    /// Points `start .. start + value.len()` of a series. A client that holds points up to offset
    /// `n` appends when `start == n` and ignores points below `n`.
    Points {
        sub: SubId,
        run: String,
        key: String,
        start: u64,
        step: Vec<f64>,
        wall_time: Vec<f64>,
        #[serde(with = "crate::num::vec")]
        value: Vec<f64>,
    },
    /// Entries `start .. start + entries.len()` of a media key (see [`Topic::Media`]); a client
    /// that holds entries up to offset `n` appends when `start == n`.
    Media {
        sub: SubId,
        run: String,
        key: String,
        start: u64,
        entries: Vec<crate::media::MediaEntry>,
    },
    /// All media keys of the run so far, on the `run` topic: sent when one appears or when a key
    /// gets a new value (so a panel can follow its newest step).
    MediaKeys {
        sub: SubId,
        run: String,
        keys: Vec<crate::media::MediaKeyInfo>,
    },
    /// Every artifact name of the project, on the `artifacts` topic (the whole list each time).
    Artifacts {
        sub: SubId,
        collections: Vec<crate::artifacts::ArtifactCollection>,
    },
    /// Every sweep of the project, on the `sweeps` topic (the whole list each time).
    Sweeps {
        sub: SubId,
        sweeps: Vec<crate::sweeps::SweepInfo>,
    },
    /// One sweep whole, on the `sweep` topic (each time it changes).
    Sweep {
        sub: SubId,
        detail: Box<crate::sweeps::SweepDetail>,
    },
    /// Annotation events in `seq` order.
    Annotations {
        sub: SubId,
        events: Vec<AnnotationEvent>,
    },
    Pong {
        nonce: u64,
    },
    /// Other people of the project a client's presence names: upserts, keyed by `conn`.
    Presence {
        peers: Vec<crate::presence::Peer>,
    },
    /// A peer closed its connection, went silent, or moved to another project.
    PeerLeft {
        conn: crate::presence::ConnId,
    },
    /// A request failed; `sub` names the subscription when there is one.
    Error {
        sub: Option<SubId>,
        message: String,
    },
    /// Several messages in one frame, in the order they were sent: only to a connection opened
    /// with `api/ws?batch=1`, when more than one message waits to be written. A live project of
    /// a thousand runs sends a thousand `points` messages a tick; one frame costs the page one
    /// event and one parse instead.
    Batch {
        msgs: Vec<ServerMsg>,
    },
}

/// Largest text frame either side accepts.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;

/// Most points sent in one [`ServerMsg::Points`] message; longer backlogs arrive in several.
pub const MAX_POINTS_PER_MESSAGE: usize = 8192;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_have_stable_json() {
        let m = ClientMsg::Subscribe {
            id: 3,
            topic: Topic::Series {
                project: "p".into(),
                run: "r".into(),
                key: "loss".into(),
                from: 7,
                x_key: None,
            },
        };
        let s = serde_json::to_string(&m).unwrap();
        assert_eq!(
            s,
            r#"{"type":"subscribe","id":3,"topic":{"kind":"series","project":"p","run":"r","key":"loss","from":7}}"#
        );
        assert_eq!(serde_json::from_str::<ClientMsg>(&s).unwrap(), m);
        let p = ServerMsg::Points {
            sub: 3,
            run: "r".into(),
            key: "loss".into(),
            start: 7,
            step: vec![7.0],
            wall_time: vec![1.0],
            value: vec![f64::NAN],
        };
        let s = serde_json::to_string(&p).unwrap();
        assert!(s.contains(r#""value":["NaN"]"#), "{s}");
    }

    #[test]
    fn presence_messages_have_stable_json_and_an_old_hello_reads() {
        let m = ClientMsg::Presence(crate::presence::PresenceState::default());
        let s = serde_json::to_string(&m).unwrap();
        assert_eq!(
            s,
            r#"{"type":"presence","view":{"route":"","project":null,"runs":[],"panel":null},"cursor":null,"editing":null}"#
        );
        assert_eq!(serde_json::from_str::<ClientMsg>(&s).unwrap(), m);
        let left = serde_json::to_string(&ServerMsg::PeerLeft { conn: 9 }).unwrap();
        assert_eq!(left, r#"{"type":"peer_left","conn":9}"#);
        // A hello without `you` (no presence) keeps its old shape both ways.
        let hello = ServerMsg::Hello {
            protocol: 1,
            version: "v".into(),
            instance: "i".into(),
            you: None,
        };
        let s = serde_json::to_string(&hello).unwrap();
        assert_eq!(
            s,
            r#"{"type":"hello","protocol":1,"version":"v","instance":"i"}"#
        );
        assert_eq!(serde_json::from_str::<ServerMsg>(&s).unwrap(), hello);
    }
}
