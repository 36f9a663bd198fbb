"""Media values for log() and how they are stored: the :class:`Media` base, :class:`MediaWriter`
(one protocol for every type), W&B's file names, and :class:`Histogram`.

Each media value becomes a small *reference object* in the history row, exactly as W&B stores it
(docs/format.md, "Media references"); its files go under ``<run>/media/<subdir>/`` named
``<key>_<step>_<sha256[:20]><ext>``, and every file reference carries ``sha256`` and ``size``.
The types live in their own modules: images with masks and boxes in _media_image.py, audio and
video in _media_av.py, HTML, plotly, matplotlib figures and 3-D objects in _media_docs.py, tables
in _table.py; histograms are inline (here). numpy and torch are never imported: arrays and tensors
are recognised by duck typing, and PNGs are encoded without PIL. Pillow is used only where W&B
needs it too: JPEG/BMP output, PIL images, re-saving a matplotlib figure.
"""

import hashlib
import json
import math
import os

from ._media_av import Audio, Video  # noqa: F401
from ._media_base import Media, media_file_name  # noqa: F401
from ._media_docs import Html, Object3D, Plotly, plot_media  # noqa: F401
from ._media_image import BoundingBoxes2D, Image, ImageMask  # noqa: F401
from ._media_pixels import encode_png, image_size  # noqa: F401
from ._values import is_convertible_media, to_json


# -- histograms --------------------------------------------------------------------------------------
class Histogram(Media):
    """A histogram to log: ``Histogram(sequence=None, np_histogram=None, num_bins=64)``.

    ``sequence`` is any iterable of numbers (nested lists, arrays and tensors are flattened;
    NaN and infinities are left out); ``np_histogram`` a ``(values, bins)`` pair as returned by
    ``numpy.histogram``. ``bins`` are the ``num_bins + 1`` edges, ``values`` the counts (the last
    bin includes its right edge, as numpy's)."""

    MAX_LENGTH = 512

    def __init__(self, sequence=None, np_histogram=None, num_bins=64):
        if np_histogram is not None:
            values, bins = np_histogram
            self.histogram = [to_json(v) for v in _flat_numbers(values, keep_all=True)]
            self.bins = [to_json(b) for b in _flat_numbers(bins, keep_all=True)]
            if len(self.bins) != len(self.histogram) + 1:
                raise ValueError("np_histogram: len(bins) must be len(values) + 1")
        elif sequence is not None:
            num_bins = int(num_bins)
            if not 1 <= num_bins <= self.MAX_LENGTH:
                raise ValueError("Histogram(num_bins=%d): use 1 to %d" % (num_bins, self.MAX_LENGTH))
            self.histogram, self.bins = _histogram(sequence, num_bins)
        else:
            raise ValueError("Histogram() needs a sequence or np_histogram")
        if len(self.histogram) > self.MAX_LENGTH:
            raise ValueError("Histogram: at most %d bins" % self.MAX_LENGTH)

    def to_json(self):
        return {"_type": "histogram", "values": list(self.histogram), "bins": list(self.bins)}

    def _trackline_ref(self, writer, key, step):
        return self.to_json()

    def __repr__(self):
        return "<trackline.Histogram %d bins>" % len(self.histogram)


def _flat_numbers(seq, keep_all=False):
    if hasattr(seq, "detach") and hasattr(seq, "cpu"):
        seq = seq.detach().cpu()
    if hasattr(seq, "tolist"):
        seq = seq.tolist()
    out = []
    stack = [iter([seq])]
    while stack:
        for item in stack[-1]:
            if isinstance(item, (list, tuple)):
                stack.append(iter(item))
                break
            if hasattr(item, "item") and not isinstance(item, (int, float)):
                item = item.item()
            if isinstance(item, bool) or not isinstance(item, (int, float)):
                if keep_all:
                    out.append(item)
                continue
            if keep_all or math.isfinite(item):
                out.append(item)
        else:
            stack.pop()
    return out


def _histogram(sequence, num_bins):
    """numpy.histogram(sequence, bins=num_bins) without numpy: (counts, edges)."""
    np_mod = _numpy_if_loaded(sequence)
    if np_mod is not None:
        a = np_mod.asarray(sequence, dtype="float64").ravel()
        a = a[np_mod.isfinite(a)]
        counts, edges = np_mod.histogram(a, bins=num_bins)
        return counts.tolist(), edges.tolist()
    values = _flat_numbers(sequence)
    if values:
        low, high = float(min(values)), float(max(values))
    else:
        low, high = 0.0, 1.0
    if low == high:
        low, high = low - 0.5, high + 0.5
    width = (high - low) / num_bins
    edges = [low + i * width for i in range(num_bins)] + [high]
    counts = [0] * num_bins
    scale = num_bins / (high - low)
    for v in values:
        i = int((v - low) * scale)
        if i >= num_bins:
            i = num_bins - 1
        if i > 0 and v < edges[i]:  # float rounding near an edge, corrected as numpy does
            i -= 1
        elif i < num_bins - 1 and v >= edges[i + 1]:
            i += 1
        counts[i] += 1
    return counts, edges


def _numpy_if_loaded(value):
    import sys

    np_mod = sys.modules.get("numpy")
    if np_mod is not None and isinstance(value, getattr(np_mod, "ndarray", ())):
        return np_mod
    return None


# -- writing references ------------------------------------------------------------------------------
class MediaWriter:
    """Writes the files of media values under ``<run>/media/`` and returns their references.

    The protocol: every media value has ``_trackline_ref(writer, key, step) -> dict`` (its
    reference object, files written through :meth:`write_file` / :meth:`copy_file`); a list of
    values of one class that has ``_trackline_seq_ref(writer, key, step, items)`` becomes that
    one object (W&B's ``images/separated``, ``audio``, ``videos``, ...), any other list a list of
    references."""

    def __init__(self, run_dir):
        self._dir = run_dir
        # (key, the key its files are named after) while a value logged in a nested dict is
        # referenced: W&B names those files after the innermost key (``{"eval": {"scores": t}}``
        # writes ``scores_<step>_<hash>``), the history keeps the flattened key.
        self._file_key = None

    def reference(self, key, step, value, file_key=None):
        """The JSON reference of a media value (or of a list of them) logged under ``key``,
        its files named after ``file_key`` when given (the innermost key of a nested dict)."""
        if file_key is not None and file_key != key:
            outer, self._file_key = self._file_key, (key, file_key)
            try:
                return self.reference(key, step, value)
            finally:
                self._file_key = outer
        if isinstance(value, (list, tuple)):
            if value and is_convertible_media(value):
                value = [as_media(v) for v in value]
            kind = type(value[0]) if value else None
            seq_ref = getattr(kind, "_trackline_seq_ref", None)
            if seq_ref is not None and all(type(v) is kind for v in value):
                return seq_ref(self, key, step, list(value))
            return [self.reference(key, step, v) for v in value]
        ref = getattr(value, "_trackline_ref", None)
        if ref is not None:
            if not getattr(value, "_trackline_bind_once", False):
                return ref(self, key, step)
            # W&B binds a media object to the run when first logged alone: logged again, it
            # refers to the same file (the first key's and step's name).
            bound = getattr(value, "_trackline_bound", None)
            if bound is None or bound[0] is not self:
                bound = (self, ref(self, key, step))
                value._trackline_bound = bound
            return json.loads(json.dumps(bound[1]))
        if is_convertible_media(value):
            return self.reference(key, step, as_media(value))
        return to_json(value)

    def write_file(self, subdir, key, step, data, ext):
        """Write ``data`` (bytes) as ``media/<subdir>/<key>_<step>_<sha256[:20]><ext>``.

        ``ext`` starts with a dot (``.png``, ``.mask.png``, ``.plotly.json``). Returns
        ``{"path", "sha256", "size"}``, the fields every W&B file reference carries."""
        digest = hashlib.sha256(data).hexdigest()
        rel = "media/%s/%s" % (subdir, media_file_name(self._name_of(key), step, digest[:20], ext))
        self._write(rel, data)
        return {"path": rel, "sha256": digest, "size": len(data)}

    def copy_file(self, subdir, key, step, source, ext):
        """Copy the file at ``source`` like :meth:`write_file`, streaming it (videos can be big)."""
        sha = hashlib.sha256()
        size = 0
        with open(source, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                sha.update(block)
                size += len(block)
        digest = sha.hexdigest()
        rel = "media/%s/%s" % (subdir, media_file_name(self._name_of(key), step, digest[:20], ext))
        path = self._path(rel)
        if not os.path.exists(path):
            directory, name = os.path.split(path)
            os.makedirs(directory, exist_ok=True)
            tmp = os.path.join(directory, ".%s.tmp-%s" % (name, os.urandom(4).hex()))
            try:
                with open(source, "rb") as src, open(tmp, "wb") as dst:
                    for block in iter(lambda: src.read(1 << 20), b""):
                        dst.write(block)
                os.replace(tmp, path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        return {"path": rel, "sha256": digest, "size": size}

    def _name_of(self, key):
        """The key a file of the value logged under ``key`` is named after."""
        if self._file_key is not None and self._file_key[0] == key:
            return self._file_key[1]
        return key

    def _path(self, rel):
        return os.path.join(self._dir, *rel.split("/"))

    def _write(self, rel, data):
        path = self._path(rel)
        if os.path.exists(path):
            return  # same name, same hash: same content
        directory, name = os.path.split(path)
        os.makedirs(directory, exist_ok=True)
        tmp = os.path.join(directory, ".%s.tmp-%s" % (name, os.urandom(4).hex()))
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)


def as_media(value):
    """The media value W&B makes of a logged object: a matplotlib figure becomes plotly JSON (or
    a PNG where plotly cannot convert it), a plotly figure plotly JSON, a pandas DataFrame a
    table (``_table.table_from_dataframe``); media values are returned as they are."""
    if hasattr(type(value), "_trackline_ref"):
        return value
    package = (type(value).__module__ or "").split(".")[0]
    if package == "plotly":
        return Plotly(value)
    if package == "pandas":
        from . import _table

        convert = getattr(_table, "table_from_dataframe", None)
        return convert(value) if convert is not None else _table.Table(dataframe=value)
    return plot_media(value)


def __getattr__(name):
    """``trackline._media.Table``, imported when asked for (_table.py imports this module)."""
    if name == "Table":
        from ._table import Table

        return Table
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
