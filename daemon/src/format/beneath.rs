//! Opening files and folders beneath a folder handle, so that everything the daemon opens under its
//! data directory is inside it by construction: paths are resolved from an open folder, no symbolic
//! link is followed (not even on the way), only regular files are opened as files, and no open
//! blocks on a named pipe or device.
//!
//! On Linux one `openat2` call with `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS`
//! does it. Where that call is missing or filtered (old kernels, seccomp) and on other Unix systems,
//! the path is walked one folder at a time with `openat(…, O_NOFOLLOW | O_DIRECTORY)`, the last part
//! with `O_NOFOLLOW`. Files are opened `O_NONBLOCK | O_CLOEXEC` and checked with `fstat` on the very
//! handle that is then read, so there is no window between a check and an open; anything but a
//! regular file is [`FormatError::NotRegular`], which callers report once ([`report_refusal`]) and
//! skip. Elsewhere (not Unix) the same rules are checked part by part with `symlink_metadata`, which
//! leaves a race window: the daemon's target is Linux.

use super::FormatError;
use std::collections::HashSet;
use std::fs::{File, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

/// A folder held open; paths are opened beneath it.
#[derive(Debug)]
pub struct Dir {
    handle: sys::Handle,
    /// Where the folder is, to name files in errors and logs.
    path: PathBuf,
}

/// A folder opened on first use and then held, for code that opens many paths beneath one folder
/// (the data directory): the folder is resolved by path once, not again for every open. While
/// opening it fails (it does not exist yet), each use tries again. Once held, it is the folder that
/// was there: a folder later moved into its place is not seen, as for any open handle.
#[derive(Debug)]
pub struct HeldDir {
    path: PathBuf,
    dir: OnceLock<Dir>,
}

impl HeldDir {
    /// Opens nothing yet; see [`Dir::open_root`] for what `path` may be.
    pub fn new(path: PathBuf) -> HeldDir {
        HeldDir {
            path,
            dir: OnceLock::new(),
        }
    }

    /// Where the folder is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The folder, opened now if it was not yet.
    pub fn get(&self) -> Result<&Dir, FormatError> {
        if let Some(dir) = self.dir.get() {
            return Ok(dir);
        }
        let opened = Dir::open_root(&self.path)?;
        // Two first uses at once each open it; one handle is kept and the other closed.
        Ok(self.dir.get_or_init(|| opened))
    }
}

/// How a regular file is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileHow {
    /// Only its metadata is wanted (on Linux an `O_PATH` handle: no read, no event).
    Stat,
    Read,
    /// Writes land at the end; the file is created if missing.
    Append {
        read: bool,
    },
    /// A new file that must not exist yet.
    CreateNew,
}

/// Why an open did not give a handle (mapped to a [`FormatError`] with the path by [`Dir`]).
#[derive(Debug)]
enum Fail {
    /// Nothing there (or a file where a folder is on the way).
    Missing,
    /// Something there that is not followed or read; says what it is.
    Refused(&'static str),
    Io(std::io::Error),
}

const SYMLINK: &str = "a symbolic link, or one is on its path";

impl Dir {
    /// Opens the folder at `path` as a root to open things beneath. The path itself is trusted
    /// (symbolic links in it are followed): it is the data directory, canonicalized at start, or a
    /// folder a user named.
    pub fn open_root(path: &Path) -> Result<Dir, FormatError> {
        match sys::open_root(path) {
            Ok(handle) => Ok(Dir {
                handle,
                path: path.to_owned(),
            }),
            Err(fail) => Err(to_error(path.to_owned(), fail)),
        }
    }

    /// Where this folder is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the folder `rel` (`/`-separated) beneath this one; `Ok(None)` when it does not exist.
    pub fn open_dir(&self, rel: &str) -> Result<Option<Dir>, FormatError> {
        let path = self.path.join(rel);
        let segments = segments(rel)?;
        match sys::open_dir(&self.handle, &segments, false) {
            Ok(handle) => Ok(Some(Dir { handle, path })),
            Err(Fail::Missing) => Ok(None),
            Err(fail) => Err(to_error(path, fail)),
        }
    }

    /// This folder as a readable handle, to `fsync` it so that new names in it survive a crash.
    /// It is the folder already held (reopened as `.`), so nothing is resolved again.
    pub fn open_to_sync(&self) -> Result<File, FormatError> {
        sys::reopen_dir(&self.handle).map_err(|e| FormatError::io(&self.path, e))
    }

    /// Creates each missing folder of `rel` beneath this one (none through a symbolic link) and
    /// opens the last.
    pub fn create_dirs(&self, rel: &str) -> Result<Dir, FormatError> {
        let path = self.path.join(rel);
        let segments = segments(rel)?;
        match sys::open_dir(&self.handle, &segments, true) {
            Ok(handle) => Ok(Dir { handle, path }),
            Err(fail) => Err(to_error(path, fail)),
        }
    }

    /// The metadata of the regular file `rel`; `Ok(None)` when it does not exist.
    pub fn stat(&self, rel: &str) -> Result<Option<Metadata>, FormatError> {
        let Some(file) = self.open_file(rel, FileHow::Stat)? else {
            return Ok(None);
        };
        // The handle's one `fstat` says both what the file is and its metadata.
        let meta = file
            .metadata()
            .map_err(|e| FormatError::io(self.path.join(rel), e))?;
        if !meta.is_file() {
            return Err(FormatError::NotRegular {
                path: self.path.join(rel),
                found: what_is(meta.file_type()),
            });
        }
        Ok(Some(meta))
    }

    /// Opens the regular file `rel` to read; `Ok(None)` when it does not exist.
    pub fn open_read(&self, rel: &str) -> Result<Option<File>, FormatError> {
        self.open_file(rel, FileHow::Read)
    }

    /// Reads the whole regular file `rel`; `Ok(None)` when it does not exist.
    pub fn read(&self, rel: &str) -> Result<Option<Vec<u8>>, FormatError> {
        let Some(mut file) = self.open_read(rel)? else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| FormatError::io(self.path.join(rel), e))?;
        Ok(Some(bytes))
    }

    /// Opens the regular file `rel` to append to (and to read, if `read`), creating it if missing.
    pub fn open_append(&self, rel: &str, read: bool) -> Result<File, FormatError> {
        self.open_file(rel, FileHow::Append { read })?
            .ok_or_else(|| missing(self.path.join(rel)))
    }

    /// Creates the file `rel`, which must not exist, to write it.
    pub fn create_new(&self, rel: &str) -> Result<File, FormatError> {
        self.open_file(rel, FileHow::CreateNew)?
            .ok_or_else(|| missing(self.path.join(rel)))
    }

    /// Renames `from` to `to`, both directly in this folder (replacing `to` atomically).
    pub fn rename(&self, from: &str, to: &str) -> Result<(), FormatError> {
        let (from_seg, to_seg) = (single(from)?, single(to)?);
        sys::rename(&self.handle, from_seg, to_seg)
            .map_err(|e| FormatError::io(self.path.join(to), e))
    }

    /// Moves `from`, directly in this folder, to `to` directly in folder `into` with one rename
    /// (both on the same file system); an existing `to` is replaced only if it is an empty folder.
    pub fn rename_into(&self, from: &str, into: &Dir, to: &str) -> Result<(), FormatError> {
        let (from_seg, to_seg) = (single(from)?, single(to)?);
        sys::rename_into(&self.handle, from_seg, &into.handle, to_seg)
            .map_err(|e| FormatError::io(into.path.join(to), e))
    }

    /// Gives the file `from`, directly in this folder, a second name `to` directly in folder `into`
    /// (a hard link, same file system); fails with `AlreadyExists` if `to` exists, never replacing it.
    pub fn link_into(&self, from: &str, into: &Dir, to: &str) -> Result<(), FormatError> {
        let (from_seg, to_seg) = (single(from)?, single(to)?);
        sys::link_into(&self.handle, from_seg, &into.handle, to_seg)
            .map_err(|e| FormatError::io(into.path.join(to), e))
    }

    /// Removes the file `name` directly in this folder.
    pub fn remove_file(&self, name: &str) -> Result<(), FormatError> {
        sys::remove(&self.handle, single(name)?)
            .map_err(|e| FormatError::io(self.path.join(name), e))
    }

    /// Removes the empty folder `name` directly in this folder.
    pub fn remove_dir(&self, name: &str) -> Result<(), FormatError> {
        sys::remove_dir(&self.handle, single(name)?)
            .map_err(|e| FormatError::io(self.path.join(name), e))
    }

    /// The metadata of this folder itself (one `fstat` of the handle).
    pub fn metadata(&self) -> Result<Metadata, FormatError> {
        self.open_to_sync()?
            .metadata()
            .map_err(|e| FormatError::io(&self.path, e))
    }

    fn open_file(&self, rel: &str, how: FileHow) -> Result<Option<File>, FormatError> {
        let segments = segments(rel)?;
        match sys::open_file(&self.handle, &segments, how) {
            Ok(file) => Ok(Some(file)),
            Err(Fail::Missing) => Ok(None),
            Err(fail) => Err(to_error(self.path.join(rel), fail)),
        }
    }
}

/// Logs a refused file ([`FormatError::NotRegular`]) once per path for the life of the process,
/// so a symlink or pipe that is looked at on every scan or request does not flood the log.
pub fn report_refusal(error: &FormatError) {
    /// Enough distinct paths for any real data directory; past it the memory starts over.
    const MAX_REMEMBERED: usize = 10_000;
    static REPORTED: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);
    let FormatError::NotRegular { path, .. } = error else {
        return;
    };
    let mut reported = REPORTED.lock().unwrap_or_else(PoisonError::into_inner);
    let seen = reported.get_or_insert_with(HashSet::new);
    if seen.len() >= MAX_REMEMBERED {
        seen.clear();
    }
    if seen.insert(path.clone()) {
        tracing::warn!("skipped: {error}");
    }
}

/// What a file that is not a regular file is, in a refusal's words.
fn what_is(kind: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a named pipe";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
    }
    if kind.is_dir() {
        "a folder"
    } else if kind.is_symlink() {
        SYMLINK
    } else {
        "not a regular file"
    }
}

fn missing(path: PathBuf) -> FormatError {
    FormatError::io(path, std::io::ErrorKind::NotFound.into())
}

fn to_error(path: PathBuf, fail: Fail) -> FormatError {
    match fail {
        Fail::Missing => missing(path),
        Fail::Refused(found) => FormatError::NotRegular { path, found },
        Fail::Io(source) => FormatError::io(path, source),
    }
}

/// The parts of a `/`-separated relative path: plain names only (no empty part, `.` or `..`).
fn segments(rel: &str) -> Result<Vec<&str>, FormatError> {
    let parts: Vec<&str> = rel.split('/').collect();
    if parts
        .iter()
        .all(|p| !p.is_empty() && *p != "." && *p != ".." && !p.contains('\0'))
    {
        Ok(parts)
    } else {
        Err(FormatError::Refused(format!(
            "'{rel}' is not a relative path of plain names"
        )))
    }
}

/// A name directly in a folder.
fn single(name: &str) -> Result<&str, FormatError> {
    match segments(name)?.as_slice() {
        [one] => Ok(one),
        _ => Err(FormatError::Refused(format!(
            "'{name}' is not a plain name"
        ))),
    }
}

#[cfg(unix)]
mod sys {
    use super::{Fail, FileHow, SYMLINK};
    use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags};
    use rustix::io::Errno;
    use std::fs::File;
    use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
    use std::path::Path;

    pub type Handle = OwnedFd;

    /// Folders are held as `O_PATH` handles on Linux: they are only resolved from, never read.
    /// Without `O_DIRECTORY`, a symbolic link opens as itself and `fstat` names it.
    #[cfg(target_os = "linux")]
    const DIR_ACCESS: OFlags = OFlags::PATH;
    #[cfg(not(target_os = "linux"))]
    const DIR_ACCESS: OFlags = OFlags::RDONLY.union(OFlags::DIRECTORY);

    /// Folders and files are created with these bits, less the umask (as `std::fs` does).
    const NEW_FILE_MODE: u32 = 0o666;
    const NEW_DIR_MODE: u32 = 0o777;

    pub fn open_root(path: &Path) -> Result<OwnedFd, Fail> {
        let fd = rfs::open(path, DIR_ACCESS | OFlags::CLOEXEC, Mode::empty()).map_err(fail)?;
        expect_dir(fd)
    }

    pub fn open_dir(dir: &OwnedFd, segments: &[&str], create: bool) -> Result<OwnedFd, Fail> {
        if create {
            let mut current: Option<OwnedFd> = None;
            for segment in segments {
                let at = current.as_ref().map_or(dir.as_fd(), AsFd::as_fd);
                match rfs::mkdirat(at, *segment, Mode::from_raw_mode(NEW_DIR_MODE)) {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(e) => return Err(fail(e)),
                }
                current = Some(open_one_dir(at, segment)?);
            }
            return current.ok_or(Fail::Missing);
        }
        let fd = open_beneath(dir, segments, DIR_ACCESS, Mode::empty())?;
        expect_dir(fd)
    }

    pub fn open_file(dir: &OwnedFd, segments: &[&str], how: FileHow) -> Result<File, Fail> {
        let (flags, mode) = match how {
            #[cfg(target_os = "linux")]
            FileHow::Stat => (OFlags::PATH, 0),
            #[cfg(not(target_os = "linux"))]
            FileHow::Stat => (OFlags::RDONLY | OFlags::NONBLOCK, 0),
            FileHow::Read => (OFlags::RDONLY | OFlags::NONBLOCK, 0),
            FileHow::Append { read } => {
                let access = if read { OFlags::RDWR } else { OFlags::WRONLY };
                (
                    access | OFlags::APPEND | OFlags::CREATE | OFlags::NONBLOCK,
                    NEW_FILE_MODE,
                )
            }
            FileHow::CreateNew => (
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NONBLOCK,
                NEW_FILE_MODE,
            ),
        };
        let fd = open_beneath(dir, segments, flags, Mode::from_raw_mode(mode))?;
        if how == FileHow::Stat {
            // The caller's one `fstat` of the handle says what it is (`Dir::stat`).
            return Ok(File::from(fd));
        }
        let kind = FileType::from_raw_mode(rfs::fstat(&fd).map_err(fail)?.st_mode);
        if kind != FileType::RegularFile {
            return Err(Fail::Refused(describe(kind)));
        }
        if flags.contains(OFlags::NONBLOCK) {
            // Only there so that opening a pipe or device cannot block; reads of a regular file
            // do not depend on it, but clear it so the handle behaves as any other file.
            let now = rfs::fcntl_getfl(&fd).map_err(fail)?;
            rfs::fcntl_setfl(&fd, now - OFlags::NONBLOCK).map_err(fail)?;
        }
        Ok(File::from(fd))
    }

    pub fn rename(dir: &OwnedFd, from: &str, to: &str) -> std::io::Result<()> {
        Ok(rfs::renameat(dir, from, dir, to)?)
    }

    pub fn rename_into(dir: &OwnedFd, from: &str, into: &OwnedFd, to: &str) -> std::io::Result<()> {
        Ok(rfs::renameat(dir, from, into, to)?)
    }

    pub fn link_into(dir: &OwnedFd, from: &str, into: &OwnedFd, to: &str) -> std::io::Result<()> {
        Ok(rfs::linkat(dir, from, into, to, AtFlags::empty())?)
    }

    pub fn reopen_dir(dir: &OwnedFd) -> std::io::Result<File> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        Ok(File::from(rfs::openat(dir, ".", flags, Mode::empty())?))
    }

    pub fn remove(dir: &OwnedFd, name: &str) -> std::io::Result<()> {
        Ok(rfs::unlinkat(dir, name, AtFlags::empty())?)
    }

    pub fn remove_dir(dir: &OwnedFd, name: &str) -> std::io::Result<()> {
        Ok(rfs::unlinkat(dir, name, AtFlags::REMOVEDIR)?)
    }

    /// Opens `segments` beneath `dir` with `flags` (plus `O_NOFOLLOW | O_CLOEXEC`) following no
    /// symbolic link and never leaving `dir`.
    fn open_beneath(
        dir: &OwnedFd,
        segments: &[&str],
        flags: OFlags,
        mode: Mode,
    ) -> Result<OwnedFd, Fail> {
        let flags = flags | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        #[cfg(target_os = "linux")]
        if let Some(opened) = linux::openat2_beneath(dir, segments, flags, mode) {
            return opened.map_err(fail);
        }
        let (last, parents) = segments.split_last().ok_or(Fail::Missing)?;
        let mut current: Option<OwnedFd> = None;
        for segment in parents {
            let at = current.as_ref().map_or(dir.as_fd(), AsFd::as_fd);
            current = Some(open_one_dir(at, segment)?);
        }
        let at = current.as_ref().map_or(dir.as_fd(), AsFd::as_fd);
        rfs::openat(at, *last, flags, mode).map_err(fail)
    }

    /// Opens the folder `segment` directly in `at`, refusing a symbolic link.
    fn open_one_dir(at: BorrowedFd<'_>, segment: &str) -> Result<OwnedFd, Fail> {
        let flags = DIR_ACCESS | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        expect_dir(rfs::openat(at, segment, flags, Mode::empty()).map_err(fail)?)
    }

    /// `O_PATH | O_NOFOLLOW` can hand back the symbolic link itself: only a folder goes on.
    fn expect_dir(fd: OwnedFd) -> Result<OwnedFd, Fail> {
        match FileType::from_raw_mode(rfs::fstat(&fd).map_err(fail)?.st_mode) {
            FileType::Directory => Ok(fd),
            FileType::Symlink => Err(Fail::Refused(SYMLINK)),
            _ => Err(Fail::Missing),
        }
    }

    fn describe(kind: FileType) -> &'static str {
        match kind {
            FileType::Directory => "a folder",
            FileType::Symlink => SYMLINK,
            FileType::Fifo => "a named pipe",
            FileType::Socket => "a socket",
            FileType::CharacterDevice | FileType::BlockDevice => "a device",
            _ => "not a regular file",
        }
    }

    fn fail(e: Errno) -> Fail {
        match e {
            Errno::NOENT | Errno::NOTDIR => Fail::Missing,
            Errno::LOOP => Fail::Refused(SYMLINK),
            // FreeBSD's answer to O_NOFOLLOW on a symbolic link.
            #[cfg(target_os = "freebsd")]
            Errno::MLINK => Fail::Refused(SYMLINK),
            // A socket, or a pipe opened to write with no reader.
            Errno::NXIO => Fail::Refused("a socket or a named pipe"),
            Errno::ISDIR => Fail::Refused("a folder"),
            // RESOLVE_BENEATH: the path would leave the folder.
            Errno::XDEV => Fail::Refused("outside its folder"),
            other => Fail::Io(other.into()),
        }
    }

    #[cfg(target_os = "linux")]
    mod linux {
        use rustix::fs::{self as rfs, Mode, OFlags, ResolveFlags};
        use rustix::io::Errno;
        use std::os::fd::OwnedFd;
        use std::sync::atomic::{AtomicBool, Ordering};

        /// Cleared once the kernel (or a seccomp filter) says it has no `openat2`.
        static HAVE_OPENAT2: AtomicBool = AtomicBool::new(true);
        /// `openat2` answers EAGAIN when a rename raced the lookup; this many tries, then the walk.
        const TRIES: usize = 8;

        /// One `openat2` confined to `dir`; `None` when the walk must do it instead.
        pub fn openat2_beneath(
            dir: &OwnedFd,
            segments: &[&str],
            flags: OFlags,
            mode: Mode,
        ) -> Option<rustix::io::Result<OwnedFd>> {
            #[cfg(test)]
            if FORCE_WALK.with(std::cell::Cell::get) {
                return None;
            }
            if !HAVE_OPENAT2.load(Ordering::Relaxed) {
                return None;
            }
            let rel = segments.join("/");
            let resolve =
                ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
            for _ in 0..TRIES {
                match rfs::openat2(dir, rel.as_str(), flags, mode, resolve) {
                    Err(Errno::AGAIN) => continue,
                    Err(Errno::NOSYS) => {
                        HAVE_OPENAT2.store(false, Ordering::Relaxed);
                        return None;
                    }
                    // Some seccomp profiles answer EPERM; the walk tells a real EPERM apart.
                    Err(Errno::PERM) => return None,
                    result => return Some(result),
                }
            }
            None
        }

        #[cfg(test)]
        thread_local! {
            /// Set by tests to check the segment walk on this thread.
            pub static FORCE_WALK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
        }
    }

    #[cfg(all(test, target_os = "linux"))]
    pub use linux::FORCE_WALK;
}

#[cfg(not(unix))]
mod sys {
    use super::{Fail, FileHow, SYMLINK};
    use std::fs::{File, OpenOptions};
    use std::path::{Path, PathBuf};

    pub type Handle = PathBuf;

    pub fn open_root(path: &Path) -> Result<PathBuf, Fail> {
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => Ok(path.to_owned()),
            Ok(_) => Err(Fail::Missing),
            Err(e) => Err(fail(e)),
        }
    }

    pub fn open_dir(dir: &Path, segments: &[&str], create: bool) -> Result<PathBuf, Fail> {
        let mut path = dir.to_owned();
        for segment in segments {
            path.push(segment);
            if create {
                match std::fs::create_dir(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(fail(e)),
                }
            }
            expect(&path, true)?;
        }
        Ok(path)
    }

    pub fn open_file(dir: &Path, segments: &[&str], how: FileHow) -> Result<File, Fail> {
        let (last, parents) = segments.split_last().ok_or(Fail::Missing)?;
        let path = open_dir(dir, parents, false)?.join(last);
        if how != FileHow::CreateNew {
            match expect(&path, false) {
                Err(Fail::Missing) if matches!(how, FileHow::Append { .. }) => {}
                other => other?,
            }
        }
        let mut options = OpenOptions::new();
        match how {
            FileHow::Stat | FileHow::Read => options.read(true),
            FileHow::Append { read } => options.read(read).append(true).create(true),
            FileHow::CreateNew => options.write(true).create_new(true),
        };
        options.open(&path).map_err(fail)
    }

    pub fn rename(dir: &Path, from: &str, to: &str) -> std::io::Result<()> {
        std::fs::rename(dir.join(from), dir.join(to))
    }

    pub fn rename_into(dir: &Path, from: &str, into: &Path, to: &str) -> std::io::Result<()> {
        std::fs::rename(dir.join(from), into.join(to))
    }

    pub fn link_into(dir: &Path, from: &str, into: &Path, to: &str) -> std::io::Result<()> {
        std::fs::hard_link(dir.join(from), into.join(to))
    }

    pub fn reopen_dir(dir: &Path) -> std::io::Result<File> {
        File::open(dir)
    }

    pub fn remove(dir: &Path, name: &str) -> std::io::Result<()> {
        std::fs::remove_file(dir.join(name))
    }

    pub fn remove_dir(dir: &Path, name: &str) -> std::io::Result<()> {
        std::fs::remove_dir(dir.join(name))
    }

    fn expect(path: &Path, folder: bool) -> Result<(), Fail> {
        let kind = std::fs::symlink_metadata(path).map_err(fail)?.file_type();
        match (kind.is_symlink(), kind.is_dir(), kind.is_file(), folder) {
            (true, ..) => Err(Fail::Refused(SYMLINK)),
            (_, true, _, true) | (_, _, true, false) => Ok(()),
            (_, true, _, false) => Err(Fail::Refused("a folder")),
            (_, _, _, true) => Err(Fail::Missing),
            _ => Err(Fail::Refused("not a regular file")),
        }
    }

    fn fail(e: std::io::Error) -> Fail {
        if e.kind() == std::io::ErrorKind::NotFound {
            Fail::Missing
        } else {
            Fail::Io(e)
        }
    }
}

/// Makes a named pipe at `path` (for tests of the daemon's refusal to open one).
#[cfg(all(test, unix))]
pub fn make_fifo(path: &Path) {
    let (dir, name) = (path.parent().unwrap(), path.file_name().unwrap());
    let dir = rustix::fs::open(
        dir,
        rustix::fs::OFlags::DIRECTORY,
        rustix::fs::Mode::empty(),
    )
    .unwrap();
    rustix::fs::mknodat(
        &dir,
        name,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::time::{Duration, Instant};

    /// Runs `check` once through `openat2` and once through the segment walk (on Linux), each on
    /// a thread that must finish within a few seconds: no open may block.
    fn both_ways(check: impl Fn() + Send + Sync + 'static) {
        let check = Arc::new(check);
        for walk in [false, true] {
            if walk && cfg!(not(target_os = "linux")) {
                continue;
            }
            let (tx, rx) = std::sync::mpsc::channel();
            let check = check.clone();
            std::thread::spawn(move || {
                #[cfg(target_os = "linux")]
                sys::FORCE_WALK.with(|w| w.set(walk));
                check();
                tx.send(()).unwrap();
            });
            rx.recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|e| panic!("walk={walk}: blocked or failed: {e}"));
        }
    }

    fn refused(result: Result<impl std::fmt::Debug, FormatError>) -> &'static str {
        match result {
            Err(FormatError::NotRegular { found, .. }) => found,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn regular_files_and_folders_open_beneath_the_root() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().to_owned();
        both_ways(move || {
            let dir = Dir::open_root(&path).unwrap();
            let run = dir.create_dirs("p/r").unwrap();
            assert_eq!(run.path(), path.join("p/r"));
            assert!(dir.read("p/r/a.txt").unwrap().is_none());
            assert!(dir.stat("p/r/a.txt").unwrap().is_none());
            assert!(dir.open_dir("p/zz").unwrap().is_none());
            let mut f = run.open_append("a.txt", false).unwrap();
            std::io::Write::write_all(&mut f, b"abc").unwrap();
            assert_eq!(dir.read("p/r/a.txt").unwrap().unwrap(), b"abc");
            assert_eq!(dir.stat("p/r/a.txt").unwrap().unwrap().len(), 3);
            let mut g = run.create_new("b.tmp").unwrap();
            std::io::Write::write_all(&mut g, b"new").unwrap();
            assert!(
                run.create_new("b.tmp").is_err(),
                "an existing file is never reused"
            );
            run.rename("b.tmp", "a.txt").unwrap();
            assert_eq!(dir.read("p/r/a.txt").unwrap().unwrap(), b"new");
            run.remove_file("a.txt").unwrap();
            run.open_to_sync().unwrap().sync_all().unwrap();
            // A file where a folder is on the way: missing, not an error.
            std::fs::write(path.join("p/f"), "x").unwrap();
            assert!(dir.read("p/f/x").unwrap().is_none());
            assert!(dir.open_dir("p/f").unwrap().is_none());
            std::fs::remove_file(path.join("p/f")).unwrap();
            std::fs::remove_dir_all(path.join("p")).unwrap();
        });
        let dir = Dir::open_root(root.path()).unwrap();
        for bad in ["", "/etc/passwd", "../x", "a/../../x", "a//b", "./a"] {
            assert!(
                matches!(dir.read(bad), Err(FormatError::Refused(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            dir.rename("a", "b/c"),
            Err(FormatError::Refused(_))
        ));
        assert!(matches!(dir.open_dir("p/r"), Ok(None)));
    }

    #[test]
    fn a_held_folder_is_opened_once_it_exists_and_then_kept() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("data");
        let held = HeldDir::new(path.clone());
        assert!(held.get().is_err(), "no folder yet");
        std::fs::create_dir_all(path.join("p")).unwrap();
        std::fs::write(path.join("p/a"), "one").unwrap();
        assert_eq!(held.get().unwrap().read("p/a").unwrap().unwrap(), b"one");
        // The handle is kept: the folder moved away is still the one read, by its handle.
        std::fs::rename(&path, root.path().join("moved")).unwrap();
        assert!(std::ptr::eq(held.get().unwrap(), held.get().unwrap()));
        assert_eq!(held.get().unwrap().read("p/a").unwrap().unwrap(), b"one");
        assert_eq!(held.path(), path);
    }

    #[test]
    fn no_symbolic_link_is_followed_for_reads() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(outside.path().join("r")).unwrap();
        std::fs::write(outside.path().join("r/run.json"), "SECRET").unwrap();
        std::fs::write(outside.path().join("secret"), "SECRET").unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("p/r")).unwrap();
        // A linked file, a linked run folder, a linked project folder, a link to a file inside.
        symlink(outside.path().join("secret"), r.join("p/r/config.json")).unwrap();
        symlink(outside.path().join("r"), r.join("p/linked-run")).unwrap();
        symlink(outside.path(), r.join("linked-project")).unwrap();
        std::fs::write(r.join("p/r/summary.json"), "{}").unwrap();
        symlink(r.join("p/r/summary.json"), r.join("p/r/metrics.json")).unwrap();
        let root_path = r.to_owned();
        both_ways(move || {
            let dir = Dir::open_root(&root_path).unwrap();
            for rel in [
                "p/r/config.json",
                "p/linked-run/run.json",
                "linked-project/r/run.json",
                "p/r/metrics.json",
            ] {
                assert!(refused(dir.read(rel)).contains("symbolic link"), "{rel}");
                assert!(refused(dir.stat(rel)).contains("symbolic link"), "{rel}");
            }
            refused(dir.open_dir("p/linked-run"));
            refused(dir.open_dir("linked-project/r"));
            assert_eq!(dir.read("p/r/summary.json").unwrap().unwrap(), b"{}");
        });
    }

    #[test]
    fn no_symbolic_link_is_followed_for_writes_or_new_folders() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("p/r")).unwrap();
        symlink(outside.path(), r.join("p/r/files")).unwrap();
        symlink(outside.path(), r.join("p/linked-run")).unwrap();
        symlink(outside.path(), r.join("linked-project")).unwrap();
        symlink(outside.path().join("new"), r.join("p/r/dangling")).unwrap();
        let (root_path, out) = (r.to_owned(), outside.path().to_owned());
        both_ways(move || {
            let dir = Dir::open_root(&root_path).unwrap();
            for rel in ["p/r/files/ckpt", "p/linked-run/files", "linked-project/r"] {
                refused(dir.create_dirs(rel));
            }
            refused(dir.open_append("p/r/files/x.bin", true));
            refused(dir.open_append("p/r/dangling", true));
            // A new file is never made through a dangling link: the name exists.
            assert!(dir.create_new("p/r/dangling").is_err());
            refused(dir.open_append("linked-project/x", false));
            let left: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
            assert!(left.is_empty(), "written outside: {left:?}");
        });
    }

    #[test]
    fn pipes_sockets_and_folders_are_not_opened_as_files_and_never_block() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("p/r/history.jsonl")).unwrap();
        make_fifo(&r.join("p/r/config.json"));
        let _socket = std::os::unix::net::UnixListener::bind(r.join("p/r/console.log")).unwrap();
        let root_path = r.to_owned();
        both_ways(move || {
            let dir = Dir::open_root(&root_path).unwrap();
            assert_eq!(refused(dir.read("p/r/config.json")), "a named pipe");
            assert_eq!(refused(dir.stat("p/r/config.json")), "a named pipe");
            // To write, with no reader: the open itself is refused (ENXIO), without blocking.
            refused(dir.open_append("p/r/config.json", false));
            refused(dir.open_append("p/r/config.json", true));
            refused(dir.read("p/r/console.log"));
            refused(dir.stat("p/r/console.log"));
            assert_eq!(refused(dir.read("p/r/history.jsonl")), "a folder");
            refused(dir.open_append("p/r/history.jsonl", true));
            // O_EXCL on the pipe's name: it exists, and nothing is opened.
            assert!(dir.create_new("p/r/config.json").is_err());
        });
    }

    /// One thread swaps a regular file, and separately a run folder, for a symbolic link to a
    /// secret outside the root as fast as it can; the reader opens them thousands of times (and
    /// while hundreds of swaps happen) and must never read the secret.
    #[test]
    fn swapping_files_and_folders_for_links_never_reaches_outside() {
        for walk in [false, true] {
            if walk && cfg!(not(target_os = "linux")) {
                continue;
            }
            let root = tempfile::tempdir().unwrap();
            let outside = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(outside.path().join("r")).unwrap();
            std::fs::write(outside.path().join("r/run.json"), "SECRET").unwrap();
            std::fs::write(outside.path().join("secret"), "SECRET").unwrap();
            let run = root.path().join("p/r");
            std::fs::create_dir_all(&run).unwrap();
            std::fs::write(run.join("run.json"), "plain").unwrap();
            let stop = Arc::new(AtomicBool::new(false));
            let swaps = Arc::new(AtomicU64::new(0));
            let swapper = {
                let (stop, swaps) = (stop.clone(), swaps.clone());
                let (root, outside) = (root.path().to_owned(), outside.path().to_owned());
                std::thread::spawn(move || swap_in_a_loop(&root, &outside, &stop, &swaps))
            };
            let dir = Dir::open_root(root.path()).unwrap();
            #[cfg(target_os = "linux")]
            sys::FORCE_WALK.with(|w| w.set(walk));
            let (mut served, mut refused, mut reads) = (0, 0, 0);
            let deadline = Instant::now() + Duration::from_secs(60);
            while (reads < 4_000 || swaps.load(Ordering::Relaxed) < 300)
                && Instant::now() < deadline
            {
                for rel in ["p/r/run.json", "p/r/config.json"] {
                    reads += 1;
                    match dir.read(rel) {
                        Ok(Some(bytes)) => {
                            assert_eq!(bytes, b"plain", "walk={walk}: read outside the root");
                            served += 1;
                        }
                        Ok(None) | Err(FormatError::NotRegular { .. }) => refused += 1,
                        Err(e) => panic!("walk={walk}: {e}"),
                    }
                }
            }
            #[cfg(target_os = "linux")]
            sys::FORCE_WALK.with(|w| w.set(false));
            stop.store(true, Ordering::Relaxed);
            swapper.join().unwrap();
            let swaps = swaps.load(Ordering::Relaxed);
            assert!(swaps >= 300, "walk={walk}: only {swaps} swaps in a minute");
            assert!(
                served > 0 && refused > 0,
                "walk={walk}: {served} served, {refused} refused"
            );
        }
    }

    /// Swaps `root/p/r/config.json` between a regular file and a link to `outside/secret`, and the
    /// run folder `root/p/r` between a real folder and a link to `outside/r`, counting in `swaps`.
    fn swap_in_a_loop(root: &Path, outside: &Path, stop: &AtomicBool, swaps: &AtomicU64) {
        let run = root.join("p/r");
        let (real, linked) = (root.join("p/.real"), root.join("p/.linked"));
        let (plain, link) = (run.join(".plain"), run.join(".link"));
        while !stop.load(Ordering::Relaxed) {
            std::fs::write(&plain, "plain").unwrap();
            std::fs::rename(&plain, run.join("config.json")).unwrap();
            let _ = std::fs::remove_file(&link);
            symlink(outside.join("secret"), &link).unwrap();
            std::fs::rename(&link, run.join("config.json")).unwrap();
            // The run folder: move the real one aside, put a link in its place, and back.
            std::fs::rename(&run, &real).unwrap();
            let _ = std::fs::remove_file(&linked);
            symlink(outside.join("r"), &linked).unwrap();
            std::fs::rename(&linked, &run).unwrap();
            std::fs::rename(&run, &linked).unwrap();
            std::fs::rename(&real, &run).unwrap();
            swaps.fetch_add(1, Ordering::Relaxed);
        }
    }
}
