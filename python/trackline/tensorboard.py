"""TensorBoard into the run (W&B's ``wandb.tensorboard`` and ``init(sync_tensorboard=True)``).

``patch()`` wraps the event-file writers of tensorboardX, of ``torch.utils.tensorboard`` (the
``tensorboard`` package's writer) and of TensorFlow, so that every log directory a writer opens
is followed: its ``events.out.tfevents.*`` files are read as they grow (``_tfevents.py``, no
TensorFlow needed) and their values logged into the active run as W&B does — one row per run of
consecutive events at the same step, with the step as ``global_step``; scalars as numbers,
histograms as ``Histogram``, images as a list of ``Image``, text as strings (wandb drops it);
a writer in a sub-folder of the first one (``add_scalars``) prefixes its keys with the sub-folder.
At ``finish()`` the files are read to their end and copied into the run's ``files/`` (``save``).
"""

import glob
import os
import tempfile
import threading

from . import _tfevents
from ._errors import warn

#: Seconds between two reads of the followed folders.
POLL_INTERVAL = 1.0
#: Most buckets of a histogram (W&B's ``Histogram`` limit); larger ones are skipped with a warning.
MAX_BUCKETS = 512

#: (module, attribute, how the log directory is found in the call's arguments).
#: Each is the name a writer module looks up when it makes a file writer.
_WRITERS = (
    ("tensorboardX.writer", "EventFileWriter", "logdir"),
    ("tensorboard.summary.writer.event_file_writer", "EventFileWriter", "log_dir"),
    ("torch.utils.tensorboard.writer", "EventFileWriter", "log_dir"),
    ("tensorflow.python.ops.gen_summary_ops", "create_summary_file_writer", "logdir"),
)

_lock = threading.Lock()
_originals = {}  # (module, attribute) -> the function replaced
_follower = None


def patch(root_logdir=None, pytorch=None, tensorboard_x=None, save=True):
    """Follow every TensorBoard writer created from now on (see the module's doc). ``root_logdir``
    is the folder key prefixes are taken relative to (default: the first writer's)."""
    import importlib
    import importlib.util

    global _follower
    with _lock:
        if _follower is None:
            _follower = _Follower(root_logdir, save)
    for module_name, attribute, argument in _WRITERS:
        top = module_name.split(".")[0]
        if (top == "tensorboardX" and tensorboard_x is False) or (
                top in ("tensorboard", "torch") and pytorch is False):
            continue
        try:
            if importlib.util.find_spec(top) is None:
                continue
            module = importlib.import_module(module_name)
        except Exception:  # a library that is not installed or does not import: nothing to patch
            continue
        key = (module_name, attribute)
        with _lock:
            if key in _originals or not hasattr(module, attribute):
                continue
            original = getattr(module, attribute)
            _originals[key] = original
            setattr(module, attribute, _wrap(original, argument))


def unpatch():
    """Undo :func:`patch` (writers created later are not followed) and stop following."""
    import importlib

    global _follower
    with _lock:
        originals = dict(_originals)
        _originals.clear()
        follower, _follower = _follower, None
    for (module_name, attribute), original in originals.items():
        setattr(importlib.import_module(module_name), attribute, original)
    if follower is not None:
        follower.stop()


def finish(run):
    """Read every followed file to its end into ``run`` and copy the files (called by ``finish``)."""
    follower = _follower
    if follower is not None:
        follower.drain(run, final=True)


def _wrap(original, argument):
    if isinstance(original, type):
        class Patched(original):
            def __init__(self, *args, **kwargs):
                original.__init__(self, *args, **kwargs)
                _opened(args[0] if args else kwargs.get(argument))

        Patched.__name__ = Patched.__qualname__ = original.__name__
        Patched.__module__ = original.__module__
        return Patched

    def patched(*args, **kwargs):
        writer = original(*args, **kwargs)
        _opened(args[1] if len(args) > 1 else kwargs.get(argument))  # (writer, logdir, ...)
        return writer

    return patched


def _opened(logdir):
    if hasattr(logdir, "numpy"):  # a TensorFlow string tensor
        logdir = logdir.numpy()
    if isinstance(logdir, bytes):
        logdir = logdir.decode("utf-8", "replace")
    follower = _follower
    if logdir and follower is not None:
        follower.follow(os.path.abspath(os.fspath(logdir)))


class _Stream:
    """One event file: how far it was read, and the row being gathered for its current step."""

    def __init__(self, path, namespace):
        self.path, self.namespace, self.offset = path, namespace, 0
        self.step, self.row = None, {}


class _Follower:
    """Reads the followed folders' event files on a thread and logs their rows."""

    def __init__(self, root, save):
        self.root = os.path.abspath(root) if root else None
        self.save = save
        self.dirs = []
        self.streams = {}
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = None

    def follow(self, logdir):
        with self.lock:
            if logdir in self.dirs:
                return
            if self.root is None:
                self.root = logdir
            self.dirs.append(logdir)
            if self.thread is None:
                self.thread = threading.Thread(target=self._loop, name="trackline-tensorboard",
                                               daemon=True)
                self.thread.start()

    def stop(self):
        self.stopped.set()

    def _loop(self):
        import trackline

        while not self.stopped.wait(POLL_INTERVAL):
            run = trackline.run
            if run is not None and not getattr(run, "_finished", False):
                try:
                    self.drain(run, final=False)
                except Exception as exc:  # a damaged file must not end the training script
                    warn("TensorBoard sync: %s" % (exc,), 2)

    def _namespace(self, logdir):
        rel = os.path.relpath(logdir, self.root) if self.root else "."
        return "" if rel == "." or rel.startswith("..") else rel.replace(os.sep, "/")

    def drain(self, run, final):
        """Log what the files gained since the last read; ``final``: also the rows still being
        gathered, and copy the files into the run."""
        with self.lock:
            for logdir in self.dirs:
                for path in sorted(glob.glob(os.path.join(glob.escape(logdir),
                                                          "events.out.tfevents.*"))):
                    stream = self.streams.get(path)
                    if stream is None:
                        stream = self.streams[path] = _Stream(path, self._namespace(logdir))
                    self._read(run, stream)
                    if final:
                        self._commit(run, stream)
            if final and self.save:
                self._copy(run)

    def _read(self, run, stream):
        try:
            with open(stream.path, "rb") as f:
                f.seek(stream.offset)
                data = f.read()
        except OSError:
            return
        try:
            records, used = _tfevents.read_records(data)
        except _tfevents.CorruptRecord as exc:
            warn("TensorBoard sync: %s is damaged at byte %d; the rest of it is skipped"
                 % (stream.path, stream.offset + exc.offset), 2)
            stream.offset = float("inf")
            return
        stream.offset += used
        for record in records:
            event = _tfevents.parse_event(record)
            if event is None:
                continue
            if stream.step is not None and event.step != stream.step:
                self._commit(run, stream)
            stream.step = event.step
            for value in event.values:
                converted = _convert(value)
                if converted is not None:
                    key = _key(value, stream.namespace)
                    stream.row[key] = converted

    def _commit(self, run, stream):
        if stream.row:
            row, stream.row = stream.row, {}
            row["global_step"] = stream.step
            run.log(row)
        stream.step = None

    def _copy(self, run):
        import shutil

        files = os.path.join(run.dir, "files")
        for path in self.streams:
            logdir = os.path.dirname(path)
            rel = os.path.relpath(logdir, self.root) if self.root else "."
            target = files if rel in (".", "") or rel.startswith("..") else os.path.join(files, rel)
            try:
                os.makedirs(target, exist_ok=True)
                shutil.copyfile(path, os.path.join(target, os.path.basename(path)))
            except OSError as exc:
                warn("TensorBoard sync: cannot copy %s into the run (%s)" % (path, exc), 2)


def _key(value, namespace):
    return namespace + "/" + value.tag if namespace else value.tag


def _convert(value):
    import trackline

    if value.kind in ("scalar", "text"):
        return value.value
    if value.kind == "histogram":
        counts, edges = value.value
        if len(counts) > MAX_BUCKETS:
            warn("TensorBoard sync: not logging histogram %r: %d buckets (at most %d)"
                 % (value.tag, len(counts), MAX_BUCKETS), 2)
            return None
        return trackline.Histogram(np_histogram=(counts, edges))
    images = []
    for data in value.value:
        suffix = ".jpg" if data[:2] == b"\xff\xd8" else ".gif" if data[:4] == b"GIF8" else ".png"
        fd, path = tempfile.mkstemp(suffix=suffix)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            images.append(trackline.Image(path))
        finally:
            os.unlink(path)
    return images
