//! The table's settings, loaded from and saved to the project's layout (`layout.table`).

use leptos::prelude::*;
use std::time::Duration;

use crate::live::load;
use crate::table::settings::TableSettings;
use crate::workspace::layout::Saver;

/// Quiet time after the last edit before the settings are saved.
const SAVE_DELAY: Duration = Duration::from_millis(600);

/// The settings and how they change: every edit is saved after [`SAVE_DELAY`], merged onto the
/// layout as stored (a teammate's changes kept), and only once the saved layout was read.
#[derive(Clone, Copy, Debug)]
pub(super) struct SettingsEditor {
    pub settings: RwSignal<TableSettings>,
    /// Why loading or saving failed, for people.
    pub save_error: RwSignal<Option<String>>,
    /// Changed by the user since the page opened (a late load must not undo that).
    edited: StoredValue<bool>,
    save_wanted: StoredValue<bool>,
    save_gen: StoredValue<u64>,
    saver: Saver<TableSettings>,
}

impl SettingsEditor {
    /// Applies `f` to the settings as the user's edit and schedules a save.
    pub fn edit(self, f: &dyn Fn(&mut TableSettings)) {
        self.edited.set_value(true);
        self.settings.update(|s| f(s));
        self.schedule_save();
    }

    /// Marks the settings as edited by the user (for changes made through `settings` directly).
    pub fn mark_edited(self) {
        self.edited.set_value(true);
    }

    /// Saves after [`SAVE_DELAY`] unless another change comes first.
    pub fn schedule_save(self) {
        if self.save_gen.is_disposed() {
            return;
        }
        // Nothing is saved until the saved layout was read: a failed load is never saved over.
        if !self.saver.is_loaded() {
            self.save_wanted.set_value(true);
            return;
        }
        self.save_gen.update_value(|g| *g += 1);
        let generation = self.save_gen.get_value();
        let (save_gen, saver) = (self.save_gen, self.saver);
        set_timeout(
            move || {
                if save_gen.try_get_value() == Some(generation) {
                    saver.save();
                }
            },
            SAVE_DELAY,
        );
    }
}

/// The table's settings for `project`: defaults at once, the saved ones when they arrive.
pub(super) fn use_settings_editor(project: &str) -> SettingsEditor {
    let settings = RwSignal::new(TableSettings::default());
    let save_error = RwSignal::new(None::<String>);
    let editor = SettingsEditor {
        settings,
        save_error,
        edited: StoredValue::new(false),
        save_wanted: StoredValue::new(false),
        save_gen: StoredValue::new(0u64),
        saver: Saver::new(project.to_string(), settings, save_error, "table"),
    };
    load(editor.saver.load(), move |res| {
        match res {
            Ok(saved) => {
                if !editor.edited.get_value() {
                    // Keep a group-by the charts chose meanwhile if none was saved.
                    let group_by = settings.with_untracked(|s| s.group_by.clone());
                    settings.set(TableSettings {
                        group_by: saved.group_by.clone().or(group_by),
                        ..saved.clone()
                    });
                }
                editor.saver.loaded(saved);
                if editor.save_wanted.get_value() {
                    editor.schedule_save();
                }
            }
            Err(e) => save_error.set(Some(format!(
                "Could not load the saved table settings; changes are not saved: {e}"
            ))),
        }
    });
    editor
}
