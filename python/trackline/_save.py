"""``run.save(glob, base_path, policy)`` and ``run.log_code()``: copies of files in ``<run>/files/``.

Paths follow W&B: a relative glob is matched from the current directory and saved under its path
relative to ``base_path`` (default: the current directory, so ``save("ckpt/*.pt")`` gives
``files/ckpt/x.pt``); an absolute glob without ``base_path`` is saved relative to the glob's own
folder (``save("/data/run1/*.txt")`` gives ``files/a.txt``; pass ``base_path="/data"`` for
``files/run1/a.txt``). A glob reaching above ``base_path`` is
refused (ValueError); a matched path that leads outside ``base_path`` through a symlink is skipped
with a warning, and so is, silently, anything in the trackline data directory -- except files the
script wrote into this run's folder itself (W&B's ``save(os.path.join(run.dir, "model.pt"))``
idiom), which are copied into ``files/`` like any other.

Policies: ``"now"`` copies at once; ``"end"`` copies at ``finish()``; ``"live"`` (the default)
copies at once, then on each flush re-copies a file whose size or mtime changed (one ``stat`` per
file) and, at most every GLOB_INTERVAL seconds, matches the glob again to pick up new files; and
once more at ``finish()``. Copies are atomic (temp file + rename), so the daemon never reads a
half-copied file.
"""

import glob
import os
import shutil
import threading
import time

from ._errors import warn
from ._files import atomic_replace

#: Minimum seconds between two re-matchings of a "live" glob during flushes.
GLOB_INTERVAL = 2.0

POLICIES = ("live", "now", "end")

#: What the run folder holds by itself (docs/format.md): never saved as a script's file.
RUN_FILES = frozenset((
    "run.json", "config.json", "summary.json", "history.jsonl", "system.jsonl", "console.log",
    "metrics.json", "alerts.jsonl", "files", "media", "artifacts",
))

#: Folder names log_code() never walks into.
_SKIP_DIRS = frozenset(("__pycache__", "node_modules", "site-packages", "wandb"))


class Saver:
    """The saved files of one run."""

    def __init__(self, run_dir, data_root):
        self._files = os.path.join(run_dir, "files")
        self._run_dir = os.path.realpath(run_dir)
        self._data_root = os.path.realpath(data_root)
        self._lock = threading.Lock()
        self._live = {}  # source path -> [destination, (mtime_ns, size) copied]
        self._live_globs = []  # (pattern, base)
        self._end_globs = []  # (pattern, base, glob_str)
        self._next_glob = 0.0
        self._warned = set()

    # -- run.save() ----------------------------------------------------------------------------
    def save(self, glob_str, base_path=None, policy="live"):
        """Apply ``policy`` to the files ``glob_str`` matches; return their destination paths."""
        if policy not in POLICIES:
            raise ValueError("save(policy=%r): use one of %s" % (policy, ", ".join(POLICIES)))
        pattern, base = _resolve(glob_str, base_path)
        matches = self._match(pattern, base)
        with self._lock:
            if policy == "end":
                self._end_globs.append((pattern, base, glob_str))
                return [dest for _, dest in matches]
            if not matches:
                warn("save(%r) matched no file%s" % (
                    glob_str, "; new matches are picked up while the run goes on"
                    if policy == "live" else ""), 4)
            for src, dest in matches:
                state = self._copy(src, dest)
                if policy == "live" and state is not None:
                    self._live[src] = [dest, state]
            if policy == "live":
                self._live_globs.append((pattern, base))
        return [dest for _, dest in matches]

    def poll(self, final=False):
        """Re-copy changed live files; re-match live globs (throttled unless ``final``)."""
        with self._lock:
            now = time.monotonic()
            if self._live_globs and (final or now >= self._next_glob):
                self._next_glob = now + GLOB_INTERVAL
                for pattern, base in self._live_globs:
                    for src, dest in self._match(pattern, base, quiet=True):
                        if src not in self._live:
                            self._live[src] = [dest, None]
            for src, entry in list(self._live.items()):
                try:
                    st = os.stat(src)
                except OSError:
                    continue  # deleted since: keep the last copy
                if entry[1] != (st.st_mtime_ns, st.st_size):
                    state = self._copy(src, entry[0])
                    if state is not None:
                        entry[1] = state

    def finish(self):
        """At finish(): copy the "end" globs and bring every live file up to date."""
        self.poll(final=True)
        with self._lock:
            for pattern, base, glob_str in self._end_globs:
                matches = self._match(pattern, base)
                if not matches:
                    warn("save(%r, policy='end') matched no file at finish()" % (glob_str,), 5)
                for src, dest in matches:
                    self._copy(src, dest)

    # -- helpers -------------------------------------------------------------------------------
    def _match(self, pattern, base, quiet=False):
        """[(source, destination)] for the files matching ``pattern``, all inside ``base``."""
        real_base = os.path.realpath(base)
        out = []
        for src in sorted(glob.glob(pattern, recursive=True)):
            if not os.path.isfile(src):
                continue
            real = os.path.realpath(src)
            if not _inside(real, real_base):
                self._warn_once(src, "save(): skipping %s: it leads outside %s" % (src, base), quiet)
                continue
            if _inside(real, self._data_root) and not self._script_file(real):
                continue  # never copy the runs (this one's record included) into a run
            rel = os.path.relpath(os.path.abspath(src), base)
            if rel.startswith(os.pardir) or os.path.isabs(rel):
                continue
            out.append((src, os.path.join(self._files, rel)))
        return out

    def _script_file(self, real):
        """True for a file the script put in this run's folder: not one of the run's own files,
        nothing under files/, media/ or a hidden name."""
        if not _inside(real, self._run_dir):
            return False
        rel = os.path.relpath(real, self._run_dir).split(os.sep)
        return not (rel[0] in RUN_FILES or rel[0].startswith("."))

    def _copy(self, src, dest):
        """Copy atomically; return the source's (mtime_ns, size) as copied, or None."""
        try:
            st = os.stat(src)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            atomic_replace(dest, lambda tmp: shutil.copyfile(src, tmp))
            return (st.st_mtime_ns, st.st_size)
        except OSError as exc:
            self._warn_once(src, "cannot save %s (%s)" % (src, exc))
            return None

    def _warn_once(self, key, message, quiet=False):
        if key not in self._warned:
            self._warned.add(key)
            if not quiet:
                warn(message, 5)


def _resolve(glob_str, base_path):
    """(absolute pattern, absolute base) per W&B's rules; ValueError if the glob leaves the base."""
    glob_str = os.fsdecode(os.fspath(glob_str))
    if not glob_str:
        raise ValueError("save() needs a file name or glob")
    pattern = os.path.abspath(glob_str)
    if base_path is not None:
        base = os.path.abspath(os.fspath(base_path))
    elif not os.path.isabs(glob_str):
        base = os.path.abspath(os.curdir)
    else:
        base = _glob_folder(pattern)
    if not _inside(pattern, base) or pattern == base:
        raise ValueError("save(%r): the glob must lie inside base_path %s" % (glob_str, base))
    return pattern, base


def _glob_folder(pattern):
    """The folder of an absolute glob: its leading components without wildcards."""
    parts = pattern.split(os.sep)
    for i, part in enumerate(parts):
        if glob.has_magic(part):
            return os.sep.join(parts[:i]) or os.sep
    return os.path.dirname(pattern)


def _inside(path, directory):
    directory = directory.rstrip(os.sep) + os.sep
    return path.startswith(directory)


# -- log_code ---------------------------------------------------------------------------------------
def default_include(path, root=None):
    return path.endswith(".py")


def log_code(run_dir, data_root, root=".", include_fn=None, exclude_fn=None):
    """Copy the source files under ``root`` (``*.py`` unless ``include_fn(path, root)`` says
    otherwise) to ``<run>/files/code/``, keeping their paths relative to ``root``. Hidden folders,
    virtualenvs, ``__pycache__``, ``node_modules``, ``site-packages`` and the data directory are
    skipped. Returns the copied paths relative to ``root``."""
    root = os.path.abspath(os.fspath(root))
    include = _two_arg(include_fn or default_include)
    exclude = _two_arg(exclude_fn) if exclude_fn is not None else None
    real_data = os.path.realpath(data_root)
    dest_root = os.path.join(run_dir, "files", "code")
    saver = Saver(run_dir, data_root)
    copied = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d for d in dirnames
            if not d.startswith(".") and d not in _SKIP_DIRS
            and not os.path.isfile(os.path.join(dirpath, d, "pyvenv.cfg"))
            and os.path.realpath(os.path.join(dirpath, d)) != real_data
        )
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if not include(path, root) or (exclude is not None and exclude(path, root)):
                continue
            rel = os.path.relpath(path, root)
            if saver._copy(path, os.path.join(dest_root, rel)) is not None:
                copied.append(rel.replace(os.sep, "/"))
    return copied


def _two_arg(fn):
    """``fn(path, root)``, also for W&B's older one-argument ``include_fn(path)``."""
    import inspect

    try:
        params = inspect.signature(fn).parameters.values()
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        takes_two = len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in params)
    except (TypeError, ValueError):
        takes_two = True
    if takes_two:
        return fn
    return lambda path, root: fn(path)
