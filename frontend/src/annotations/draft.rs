//! Editing a note without losing text: the draft, the revision it started from, a teammate's
//! update that arrived meanwhile, and the conflict a stale save was refused with. Pure, host-tested;
//! the editor in [`super::note`] shows it.

use trackline_shared::annotations::Note;

/// A note being edited.
#[derive(Clone, Debug, PartialEq)]
pub struct Draft {
    /// The text in the textarea (never replaced behind the user's back).
    pub text: String,
    /// The note's rev the draft is based on (sent as `base_rev`).
    pub base_rev: u64,
    /// A newer version that arrived while editing (shown: "updated by X while you were editing").
    pub remote: Option<Note>,
    /// The current note a save was refused with: shown beside the draft until the user chooses.
    pub conflict: Option<Note>,
}

impl Draft {
    pub fn start(note: &Note) -> Draft {
        Draft {
            text: note.text.clone(),
            base_rev: note.rev,
            remote: None,
            conflict: None,
        }
    }

    /// A live update of the note: remembered when it is newer than the draft's base; the draft
    /// stays as typed.
    pub fn remote_update(&mut self, note: &Note) {
        if note.rev > self.base_rev && self.remote.as_ref().is_none_or(|r| note.rev > r.rev) {
            self.remote = Some(note.clone());
        }
    }

    /// A save was refused: `current` is the note as it is now.
    pub fn refused(&mut self, current: Note) {
        self.remote = None;
        self.conflict = Some(current);
    }

    /// Keep my text: it will replace theirs (based on their rev now).
    pub fn keep_mine(&mut self) {
        if let Some(theirs) = self.conflict.take() {
            self.base_rev = theirs.rev;
        }
    }

    /// Take their text into the editor (mine is dropped by this explicit choice).
    pub fn take_theirs(&mut self) {
        if let Some(theirs) = self.conflict.take() {
            self.base_rev = theirs.rev;
            self.text = theirs.text;
        }
    }

    /// Merge by hand: both texts in the editor, marked, based on their rev.
    pub fn merge(&mut self) {
        if let Some(theirs) = self.conflict.take() {
            self.base_rev = theirs.rev;
            self.text = merged(&self.text, &theirs);
        }
    }
}

/// Both versions in one text, git style, for merging by hand.
pub fn merged(mine: &str, theirs: &Note) -> String {
    let who = theirs
        .updated_by
        .as_ref()
        .map_or("theirs", |a| a.label.as_str());
    format!(
        "<<<<<<< {who}\n{}\n=======\n{}\n>>>>>>> yours\n",
        theirs.text.trim_end(),
        mine.trim_end()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use trackline_shared::annotations::{Author, NoteTarget};

    fn note(rev: u64, text: &str, by: &str) -> Note {
        Note {
            target: NoteTarget::Project,
            text: text.into(),
            rev,
            updated_by: Some(Author {
                id: by.into(),
                label: by.into(),
            }),
            updated_ms: 0.0,
        }
    }

    #[test]
    fn a_remote_update_keeps_the_draft() {
        let mut d = Draft::start(&note(3, "base", "a"));
        d.text = "mine".into();
        d.remote_update(&note(3, "base", "a"));
        assert_eq!(d.remote, None, "the same rev is not an update");
        d.remote_update(&note(4, "bob's", "bob"));
        assert_eq!(d.text, "mine");
        assert_eq!(d.remote.as_ref().map(|n| n.rev), Some(4));
        assert_eq!(
            d.base_rev, 3,
            "a save still names the rev the draft started from"
        );
    }

    #[test]
    fn conflict_choices_lose_no_text_silently() {
        let mut d = Draft::start(&note(3, "base", "a"));
        d.text = "mine".into();
        d.refused(note(5, "theirs", "bob"));
        let mut keep = d.clone();
        keep.keep_mine();
        assert_eq!((keep.text.as_str(), keep.base_rev), ("mine", 5));
        let mut take = d.clone();
        take.take_theirs();
        assert_eq!((take.text.as_str(), take.base_rev), ("theirs", 5));
        d.merge();
        assert_eq!(d.base_rev, 5);
        assert!(d.conflict.is_none());
        assert_eq!(
            d.text,
            "<<<<<<< bob\ntheirs\n=======\nmine\n>>>>>>> yours\n"
        );
    }
}
