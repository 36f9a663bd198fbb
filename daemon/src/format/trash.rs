//! The trash: a run an owner deletes is never destroyed but moved, with one rename, to
//! `<data dir>/.trackline/trash/<project>/<run>-<unix secs>`, where no reader looks (a name
//! beginning with `.` is no project). Restoring it is moving the folder back.

use super::FormatError;
use super::beneath::Dir;
use std::path::{Path, PathBuf};

/// Where deleted runs go, relative to the data directory.
pub const TRASH_DIR: &str = ".trackline/trash";

/// Moves the folder of run `run` of `project` (names already validated) out of `data_dir` into
/// the trash, creating the trash folders; nothing on the way is a followed symbolic link.
/// Answers where the run now is.
pub fn trash_run(
    data_dir: &Path,
    project: &str,
    run: &str,
    now_secs: u64,
) -> Result<PathBuf, FormatError> {
    let root = Dir::open_root(data_dir)?;
    let project_dir = root.open_dir(project)?.ok_or_else(|| {
        FormatError::io(
            data_dir.join(project),
            std::io::Error::from(std::io::ErrorKind::NotFound),
        )
    })?;
    let trash = root.create_dirs(&format!("{TRASH_DIR}/{project}"))?;
    let name = format!("{run}-{now_secs}");
    project_dir.rename_into(run, &trash, &name)?;
    Ok(trash.path().join(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trashed_run_leaves_its_project_whole_for_the_trash() {
        let data = tempfile::tempdir().unwrap();
        let run_dir = data.path().join("p/r1");
        std::fs::create_dir_all(&run_dir).unwrap();
        std::fs::write(run_dir.join("run.json"), "{}").unwrap();
        let moved = trash_run(data.path(), "p", "r1", 42).unwrap();
        assert_eq!(moved, data.path().join(".trackline/trash/p/r1-42"));
        assert!(!run_dir.exists());
        assert_eq!(
            std::fs::read_to_string(moved.join("run.json")).unwrap(),
            "{}"
        );
    }

    #[test]
    fn a_missing_run_or_a_symlinked_project_is_not_moved() {
        let data = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(data.path().join("p")).unwrap();
        assert!(trash_run(data.path(), "p", "gone", 1).is_err());
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(elsewhere.path().join("r")).unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(elsewhere.path(), data.path().join("q")).unwrap();
            assert!(trash_run(data.path(), "q", "r", 1).is_err());
            assert!(elsewhere.path().join("r").exists());
        }
    }
}
