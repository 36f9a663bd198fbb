"""TensorBoard into the run (W&B's ``wandb.tensorboard`` and ``init(sync_tensorboard=True)``).

``patch()`` wraps the event-file writers of tensorboardX, of ``torch.utils.tensorboard`` (the
``tensorboard`` package's writer) and of TensorFlow, so that every log directory a writer opens
is followed: its ``events.out.tfevents.*`` files are read as they grow (``_tfevents.py``, no
TensorFlow needed) and their values logged into the active run as wandb-core (wandb 0.31) does —
one row per run of consecutive events at the same step, with the step as ``global_step``; scalars
as numbers, histograms as ``Histogram``, images as a list of ``Image``, text as strings (wandb
drops it). Only files named ``…tfevents.<secs>.<this host>…`` written since the run started are
read, as wandb-core chooses them.

Key prefixes: a folder's keys are prefixed with its path relative to the root, which is
``root_logdir`` when given, else the longest common path of the followed folders (so writers in
``runs/train`` and ``runs/val`` log ``train/loss`` and ``val/loss``; the first folder waits up to
:data:`ROOT_WAIT` seconds for a second one, as wandb-core does). ``add_scalars(main, {"a": …})``
writes into sub-run folders (``<logdir>/<main>/a`` for tensorboardX, ``<logdir>/<main>_a`` for
torch), logged as ``<main>/a/<main>`` (``<main>_a/<main>``), the keys wandb logs; so are
``add_hparams``' metrics (``<run_name>/<metric>``). One wandb-core quirk is not copied: its reader
of a folder also lists its sub-folders' files and, whenever it reaches the end of a file, jumps
to the last-sorted file present, so it logs some sub-run values a second time under the bare
tag, and may skip the folder's own later values, depending on timing.

Hyperparameters of the ``hparams`` plugin (tensorboardX's and torch's ``add_hparams``,
TensorFlow's ``hp.hparams``: the ``session_start_info`` summary) go into the run's config; a key
the config already has keeps its value. wandb 0.31 ignores them; a TensorBoard user expects to
find them. Numbers are the plugin's doubles (``32`` is ``32.0``).

At ``finish()`` the files are read to their end and copied into the run's ``files/`` at their
path relative to the root (the working folder when only one folder was followed, as wandb-core
does; ``save``). Histograms of more than 512 buckets are rebinned to 512 as wandb-core rebins
them (:func:`reduce_histogram`).
"""

import os
import tempfile
import threading
import time

from . import _tfevents
from ._errors import warn

#: Seconds between two reads of the followed folders.
POLL_INTERVAL = 1.0
#: Seconds the first folder waits for a second one before it is read (wandb-core's wait: the
#: root that key prefixes are relative to is guessed from two folders or more).
ROOT_WAIT = 10.0
#: Most buckets of a histogram (W&B's ``Histogram`` limit); larger ones are rebinned to it.
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
    """One followed folder: its event files, read in the order of their names, each from where
    the last read stopped, and the row being gathered for the current step (rows go on across
    the folder's files, as wandb-core's)."""

    def __init__(self, logdir, namespace):
        self.logdir, self.namespace = logdir, namespace
        self.offsets = {}  # file name -> bytes read
        self.step, self.row = None, {}


class _Follower:
    """Reads the followed folders' event files on a thread and logs their rows."""

    def __init__(self, root, save):
        self.explicit_root = os.path.abspath(root) if root else None
        self.save = save
        self.dirs = []
        self.streams = {}  # logdir -> _Stream
        self.read = []  # absolute paths of the event files read, in order
        self.first_follow = None
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = None

    @property
    def root(self):
        """The folder key prefixes are relative to: the one given, else the longest common path
        of the followed folders (wandb-core's guess: ``train``/``val`` under one root)."""
        if self.explicit_root or not self.dirs:
            return self.explicit_root
        return os.path.commonpath(self.dirs)

    def follow(self, logdir):
        with self.lock:
            if logdir in self.dirs:
                return
            self.dirs.append(logdir)
            if self.first_follow is None:
                self.first_follow = time.monotonic()
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
        root = self.root
        rel = os.path.relpath(logdir, root) if root else "."
        return "" if rel == "." or rel.startswith("..") else rel.replace(os.sep, "/")

    def drain(self, run, final):
        """Log what the files gained since the last read; ``final``: also the rows still being
        gathered, and copy the files into the run."""
        with self.lock:
            if (not final and self.explicit_root is None and len(self.dirs) < 2
                    and time.monotonic() - self.first_follow < ROOT_WAIT):
                return  # wandb-core waits for a second folder to guess the root
            accept = _file_filter(run)
            for logdir in self.dirs:
                stream = self.streams.get(logdir)
                if stream is None:
                    stream = self.streams[logdir] = _Stream(logdir, self._namespace(logdir))
                self._follow_files(run, stream, accept)
                if final:
                    self._commit(run, stream)
            if final and self.save:
                self._copy(run)

    def _follow_files(self, run, stream, accept):
        for name in _event_files(stream.logdir, accept):
            path = os.path.join(stream.logdir, name)
            if name not in stream.offsets:
                stream.offsets[name] = 0
                self.read.append(path)
            self._read(run, stream, name, path)

    def _read(self, run, stream, name, path):
        offset = stream.offsets[name]
        if offset is None:
            return  # damaged earlier
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                data = f.read()
        except OSError:
            return
        try:
            records, used = _tfevents.read_records(data)
        except _tfevents.CorruptRecord as exc:
            warn("TensorBoard sync: %s is damaged at byte %d; the rest of it is skipped"
                 % (path, offset + exc.offset), 2)
            records, used = _tfevents.read_records(data[:exc.offset])[0], None
        stream.offsets[name] = None if used is None else offset + used
        for record in records:
            event = _tfevents.parse_event(record)
            if event is None:
                continue
            if stream.step is not None and event.step != stream.step:
                self._commit(run, stream)
            stream.step = event.step
            for value in event.values:
                if value.kind == "hparams":
                    _record_hparams(run, value.value)
                    continue
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
        # Relative to the root guessed from two folders or more, else (as wandb-core, whose
        # guess times out on one folder) to the working folder: ``runs/exp/events…``.
        root = self.explicit_root or (self.root if len(self.dirs) >= 2 else os.getcwd())
        for path in self.read:
            rel = os.path.relpath(path, root) if root else os.path.basename(path)
            if rel.startswith(".."):
                rel = os.path.basename(path)
            target = os.path.join(files, rel)
            try:
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copyfile(path, target)
            except OSError as exc:
                warn("TensorBoard sync: cannot copy %s into the run (%s)" % (path, exc), 2)


def _file_filter(run):
    """wandb-core's choice of event files: ``…tfevents.<unix secs>.<this host>…`` made since the
    run started (older files in a reused folder belong to earlier runs)."""
    import re
    import socket

    start = getattr(run, "start_time", None)
    start = int(start) if isinstance(start, (int, float)) else 0
    pattern = re.compile(r"tfevents\.(\d+)\.%s" % re.escape(socket.gethostname()))

    def accept(name):
        if name.endswith((".profile-empty", ".sagemaker-uploaded")):
            return False
        found = pattern.search(name)
        return found is not None and int(found.group(1)) >= start

    return accept


def _event_files(logdir, accept):
    """The names of the event files in ``logdir``, sorted. Its sub-folders are not read: a
    sub-folder is a writer's own folder, followed apart with its own key prefix (wandb-core
    also lists them here, see the module's doc)."""
    try:
        names = os.listdir(logdir)
    except OSError:
        return []
    return sorted(n for n in names if accept(n) and os.path.isfile(os.path.join(logdir, n)))


def _record_hparams(run, values):
    """TensorBoard hyperparameters (``add_hparams``) into the run's config; keys the config
    already has keep their value (wandb 0.31 records none of them: a Trackline addition)."""
    values = {k: v for k, v in values.items() if k not in run.config}
    if values:
        run.config.setdefaults(values)


def _key(value, namespace):
    return namespace + "/" + value.tag if namespace else value.tag


def _convert(value):
    import trackline

    if value.kind in ("scalar", "text"):
        return value.value
    if value.kind == "histogram":
        counts, edges = value.value
        if len(counts) > MAX_BUCKETS:
            try:
                edges, counts = reduce_histogram(MAX_BUCKETS, edges, counts)
            except (IndexError, ArithmeticError):  # edges out of order: not a histogram
                warn("TensorBoard sync: not logging histogram %r: its %d bucket limits are "
                     "not in order" % (value.tag, len(counts)), 2)
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


def reduce_histogram(bins, edges, counts):
    """``(edges, counts)`` of ``bins`` buckets holding the same total as ``edges``/``counts``
    (more buckets), as wandb-core rebins a TensorBoard histogram: new edge ``j`` lies at the
    fractional position ``j * old / bins`` of the old edges (so the edges keep their spread), and
    an old bucket cut by a new edge is shared between the two in proportion to its width."""
    old = len(edges) - 1
    new_edges = [edges[0]] + [0.0] * (bins - 1) + [edges[old]]
    step, frac_step = divmod(old, bins)
    index, frac = step, frac_step
    for j in range(1, bins):  # integer fractions: no drift, index stays below old
        low, high = edges[index], edges[index + 1]
        new_edges[j] = low + (high - low) * (frac / bins)
        index += step
        frac += frac_step
        if frac >= bins:
            index += 1
            frac -= bins
    new_counts = [0.0] * bins
    i = 0
    for j in range(bins):
        right = new_edges[j + 1]
        while edges[i + 1] < right:
            new_counts[j] += counts[i]
            i += 1
        if right <= edges[i + 1]:
            width = edges[i + 1] - edges[i]
            share = (right - edges[i]) / width if width > 0 else 1.0
            new_counts[j] += share * counts[i]
            new_counts[min(j + 1, bins - 1)] += (1 - share) * counts[i]
            i += 1
    return new_edges, new_counts
