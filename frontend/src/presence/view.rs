//! Pure helpers of presence (host-tested): the [`View`] a route names, the x-axis name a chart
//! shares its cursor under, the entity id of a note, and what a peer is doing in words.

use trackline_shared::annotations::NoteTarget;
use trackline_shared::api::XAxis;
use trackline_shared::presence::{Peer, View};

/// The view of the app path `path` (without the mount prefix) with query string `query`
/// (`runs=a,b` on the compare page).
pub fn view_of(path: &str, query: &str) -> View {
    let parts: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let mut view = View {
        route: path.to_owned(),
        ..View::default()
    };
    if let [first, project, rest @ ..] = parts.as_slice()
        && first == "projects"
    {
        view.project = Some(project.clone());
        match rest {
            [runs, run, ..] if runs == "runs" => view.runs = vec![run.clone()],
            [compare, ..] if compare == "compare" => {
                view.runs = query
                    .trim_start_matches('?')
                    .split('&')
                    .filter_map(|kv| kv.strip_prefix("runs="))
                    .flat_map(|v| v.split(','))
                    .map(percent_decode)
                    .filter(|r| !r.is_empty())
                    .collect();
            }
            _ => {}
        }
    }
    view
}

/// `%xx` escapes decoded (as UTF-8, lossily); `+` kept.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The name cursors are shared under for a chart's x axis: `step`, `wall_time`,
/// `relative_time`, or `metric:<key>`.
pub fn x_axis_name(x: XAxis, x_key: Option<&str>) -> String {
    match x_key {
        Some(k) => format!("metric:{k}"),
        None => x.as_str().to_owned(),
    }
}

/// The entity id of a note, as `editing` names it.
pub fn note_entity(target: &NoteTarget) -> String {
    match target {
        NoteTarget::Run { run } => format!("note:run:{run}"),
        NoteTarget::Project => "note:project".to_owned(),
    }
}

/// What a peer is doing, for the avatar's title: `alice — viewing run r1`.
pub fn describe(peer: &Peer) -> String {
    let v = &peer.state.view;
    let doing = if let Some(e) = &peer.state.editing {
        format!("editing {}", entity_words(e))
    } else {
        match (v.project.as_deref(), v.runs.as_slice()) {
            (None, _) => "on the projects page".to_owned(),
            (Some(_), [run]) if v.route.contains("/runs/") => format!("viewing run {run}"),
            (Some(_), []) => "viewing the runs".to_owned(),
            (Some(_), runs) => format!("comparing {}", runs.join(", ")),
        }
    };
    format!("{} — {doing}", peer.label)
}

fn entity_words(entity: &str) -> String {
    if let Some(run) = entity.strip_prefix("note:run:") {
        format!("the note of run {run}")
    } else if entity == "note:project" {
        "the project notepad".to_owned()
    } else if let Some(report) = entity.strip_prefix("report:") {
        // `report:<id>:<block>` (see `reports::block_entity`).
        let id = report.split(':').next().unwrap_or(report);
        format!("a block of report {id}")
    } else {
        entity.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trackline_shared::presence::PresenceState;

    #[test]
    fn routes_name_their_project_and_runs() {
        assert_eq!(
            view_of("/", ""),
            View {
                route: "/".into(),
                ..View::default()
            }
        );
        let v = view_of("/projects/my%20proj/runs/r%2F1", "");
        assert_eq!(v.project.as_deref(), Some("my proj"));
        assert_eq!(v.runs, ["r/1"]);
        let v = view_of("/projects/p/compare", "?runs=a,b%2Cc&x=1");
        assert_eq!(v.runs, ["a", "b,c"]);
        assert_eq!(view_of("/projects/p", "").runs, Vec::<String>::new());
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%e2%82%ac"), "%zz€");
    }

    #[test]
    fn axes_entities_and_descriptions() {
        assert_eq!(x_axis_name(XAxis::Step, None), "step");
        assert_eq!(x_axis_name(XAxis::WallTime, Some("epoch")), "metric:epoch");
        assert_eq!(
            note_entity(&NoteTarget::Run { run: "r1".into() }),
            "note:run:r1"
        );
        let mut peer = Peer {
            conn: 1,
            label: "alice".into(),
            color: "#000000".into(),
            state: PresenceState {
                view: view_of("/projects/p/runs/r1", ""),
                ..PresenceState::default()
            },
        };
        assert_eq!(describe(&peer), "alice — viewing run r1");
        peer.state.editing = Some("note:project".into());
        assert_eq!(describe(&peer), "alice — editing the project notepad");
        peer.state.editing = Some("report:r1:b2".into());
        assert_eq!(describe(&peer), "alice — editing a block of report r1");
    }
}
