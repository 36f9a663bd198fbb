//! "Editing" badges: a note editor says which entity it edits ([`use_editing`]), and
//! [`EditingBadge`] shows who else edits that entity now.
//!
//! Test id: `editing-badge` (with `data-entity`, and `data-labels`: the editors' labels,
//! comma-separated), shown only while someone else edits.

use leptos::prelude::*;

/// While `active()` is true this page tells the others it edits `entity` (e.g.
/// [`super::view::note_entity`]); it stops when `active()` turns false or the caller's view is
/// disposed.
pub fn use_editing(entity: String, active: impl Fn() -> bool + Send + Sync + 'static) {
    let entity = StoredValue::new(entity);
    let mine = StoredValue::new(false);
    Effect::new(move |_| {
        let on = active();
        if on != mine.get_value() {
            mine.set_value(on);
            super::set_editing(on.then(|| entity.get_value()));
        }
    });
    on_cleanup(move || {
        if mine.try_get_value() == Some(true) {
            super::set_editing(None);
        }
    });
}

/// Who else edits `entity`, as a small badge in their colours ("alice is editing").
#[component]
pub fn EditingBadge(#[prop(into)] entity: String) -> impl IntoView {
    let p = super::start();
    let entity = StoredValue::new(entity);
    let editors = Memo::new(move |_| {
        let e = entity.get_value();
        p.peers.with(|peers| {
            peers
                .values()
                .filter(|peer| peer.state.editing.as_deref() == Some(e.as_str()))
                .map(|peer| (peer.label.clone(), peer.color.clone()))
                .collect::<Vec<_>>()
        })
    });
    move || {
        let list = editors.get();
        (!list.is_empty()).then(|| {
            let labels = list
                .iter()
                .map(|(l, _)| l.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let verb = if list.len() == 1 { "is" } else { "are" };
            let dots = list
                .iter()
                .map(|(_, color)| {
                    view! {
                        <span style=format!(
                            "display:inline-block;width:8px;height:8px;border-radius:50%;margin-right:3px;background:{color}",
                        )></span>
                    }
                })
                .collect_view();
            view! {
                <span
                    class="editing-badge"
                    data-testid="editing-badge"
                    data-entity=entity.get_value()
                    data-labels=labels.clone()
                    style="display:inline-flex;align-items:center;font-size:12px;color:#555;margin-left:8px"
                >
                    {dots}
                    {format!("{labels} {verb} editing")}
                </span>
            }
        })
    }
}
