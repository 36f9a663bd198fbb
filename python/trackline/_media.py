"""Media values for log(): :class:`Image`, :class:`Histogram`, :class:`Table` (W&B's classes).

When logged, each becomes a small *reference object* in the history row (format in
docs/format.md, "Media references"); images and tables are written under ``<run>/media/``:

- ``{"_type": "image-file", "path": "media/images/<key>_<step>_<hash>.png", "width": W,
  "height": H, "format": "png", "caption": ...}``
- ``{"_type": "histogram", "bins": [...edges], "values": [...counts]}`` (inline)
- ``{"_type": "table-file", "path": "media/tables/<key>_<step>_<hash>.table.json", "ncols": C,
  "nrows": R}``; the file is ``{"columns": [...], "data": [[...], ...]}``

A list of media logged under one key becomes a list of references. Nothing here imports numpy,
torch or PIL: arrays and tensors are recognised by duck typing and PNG files are written by
:func:`encode_png` (zlib + struct). PIL images are saved with PIL (the caller has it).
"""

import hashlib
import math
import os
import re
import struct
import zlib

from ._values import to_json

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (8 bits per sample)
_MODE_CHANNELS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}
_IMAGE_EXTENSIONS = {"png", "jpg", "jpeg", "gif", "bmp", "webp", "svg", "tif", "tiff"}


class Media:
    """Base of the loggable media types; ``_trackline_media`` marks them for log()."""

    _trackline_media = True


# -- images ------------------------------------------------------------------------------------------
class Image(Media):
    """An image to log: ``Image(data_or_path, mode=None, caption=None)``.

    ``data_or_path`` is a numpy array (``H×W`` grey, ``H×W×C`` with C in 1..4, or ``C×H×W``;
    uint8 as is, other types W&B-style: negative data is rescaled to 0..1, data within 0..1 is
    multiplied by 255, then clipped to 0..255), a torch tensor (via ``.numpy()``), a nested list
    of rows of numbers or of channel lists (same rules), a PIL image, or the path of an image
    file (copied as is), or a matplotlib figure (saved as PNG). ``normalize=False`` takes array
    values as 0..255 as they are (only clipped). The image is encoded when the object is made,
    like W&B. W&B's other arguments (boxes, masks, ...) are accepted and ignored."""

    def __init__(self, data_or_path, mode=None, caption=None, normalize=True, **kwargs):
        self.caption = None if caption is None else str(caption)
        self.mode = mode
        self._data, self.format, self.width, self.height = _encode_image(
            data_or_path, mode, normalize)

    def __repr__(self):
        return "<trackline.Image %s %sx%s>" % (self.format, self.width, self.height)

    def _trackline_ref(self, writer, key, step):
        ext = "." + ("jpg" if self.format == "jpeg" else self.format)
        ref = {"_type": "image-file"}
        ref.update(writer.write_file("images", key, step, self._data, ext))
        ref.update({"format": self.format, "width": self.width, "height": self.height})
        if self.caption is not None:
            ref["caption"] = self.caption
        return ref


def _encode_image(data, mode, normalize=True):
    """Return (bytes, format, width, height)."""
    if isinstance(data, Image):
        return data._data, data.format, data.width, data.height
    if isinstance(data, (str, bytes)) or hasattr(data, "__fspath__"):
        return _image_file(os.fsdecode(os.fspath(data)))
    if hasattr(data, "save") and hasattr(data, "size") and hasattr(data, "mode"):
        return _pil_image(data, mode)
    if callable(getattr(data, "savefig", None)):  # a matplotlib figure (or pyplot itself)
        import io

        buf = io.BytesIO()
        data.savefig(buf, format="png")
        png = buf.getvalue()
        width, height = image_size(png)
        return png, "png", width, height
    if hasattr(data, "detach") and hasattr(data, "cpu"):  # a torch tensor
        data = data.detach().cpu().numpy()
    if hasattr(data, "shape") and hasattr(data, "dtype") and hasattr(data, "tobytes"):
        width, height, channels, pixels = _array_pixels(data, normalize)
    elif isinstance(data, (list, tuple)):
        width, height, channels, pixels = _list_pixels(data, normalize)
    else:
        raise TypeError("Image() takes an array, a PIL image, a nested list or a file path, not %s"
                        % type(data).__name__)
    if mode is not None and _MODE_CHANNELS.get(mode) not in (None, channels):
        raise ValueError("Image(mode=%r) does not fit data with %d channel(s)" % (mode, channels))
    return encode_png(width, height, channels, pixels), "png", width, height


def _array_pixels(a, normalize=True):
    """(width, height, channels, bytes) of a numpy-like array, W&B's conversion to uint8."""
    if a.ndim == 3 and a.shape[0] in (1, 3, 4) and a.shape[2] not in (1, 2, 3, 4):
        a = a.transpose(1, 2, 0)  # C×H×W (torch layout) -> H×W×C
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or a.ndim == 3 and a.shape[2] not in (2, 3, 4):
        raise ValueError("Image() needs an H×W or H×W×C (C in 1..4) array, got shape %s"
                         % (tuple(a.shape),))
    kind = a.dtype.kind
    if kind == "b":
        a = a.astype("uint8") * 255
    elif str(a.dtype) != "uint8":
        if kind not in "iuf":
            raise TypeError("Image() cannot convert an array of %s" % a.dtype)
        a = a.astype("float64")
        low = float(a.min()) if a.size else 0.0
        if normalize and low < 0:
            span = float(a.max()) - low
            a = (a - low) / (span or 1.0)
        if normalize and a.size and float(a.max()) <= 1.0:
            a = a * 255
        a = a.clip(0, 255).astype("uint8")
    height, width = int(a.shape[0]), int(a.shape[1])
    channels = 1 if a.ndim == 2 else int(a.shape[2])
    return width, height, channels, a.tobytes()


def _list_pixels(rows, normalize=True):
    """(width, height, channels, bytes) of a nested list, by the same rules as arrays."""
    rows = [list(r) for r in rows]
    height = len(rows)
    width = len(rows[0]) if rows else 0
    if not height or not width:
        raise ValueError("Image() got an empty nested list")
    first = rows[0][0]
    channels = len(first) if isinstance(first, (list, tuple)) else 1
    flat = []
    for r in rows:
        if len(r) != width:
            raise ValueError("Image(): rows of different lengths")
        for px in r:
            if channels == 1:
                if isinstance(px, (list, tuple)):
                    raise ValueError("Image(): mixed pixel shapes")
                flat.append(px)
            else:
                if not isinstance(px, (list, tuple)) or len(px) != channels:
                    raise ValueError("Image(): every pixel needs %d channels" % channels)
                flat.extend(px)
    if channels not in (1, 2, 3, 4):
        raise ValueError("Image(): pixels need 1 to 4 channels, not %d" % channels)
    values = [float(v) for v in flat]
    if normalize and not all(type(v) is int for v in flat):  # floats (and bools): W&B's rules
        low = min(values)
        if low < 0:
            span = max(values) - low or 1.0
            values = [(v - low) / span for v in values]
        if max(values) <= 1.0:
            values = [v * 255 for v in values]
    data = bytes(0 if v != v else int(min(255.0, max(0.0, v))) for v in values)
    return width, height, channels, data


def encode_png(width, height, channels, pixels):
    """A PNG file of 8-bit samples: ``pixels`` is ``height`` rows of ``width*channels`` bytes."""
    stride = width * channels
    if len(pixels) != stride * height:
        raise ValueError("encode_png: %d bytes for %dx%dx%d" % (len(pixels), width, height, channels))
    raw = b"".join(b"\x00" + pixels[i * stride:(i + 1) * stride] for i in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPES[channels], 0, 0, 0)
    return b"".join((
        _PNG_SIGNATURE,
        _chunk(b"IHDR", ihdr),
        _chunk(b"IDAT", zlib.compress(raw, 6)),
        _chunk(b"IEND", b""),
    ))


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _pil_image(image, mode):
    import io

    if mode is not None and image.mode != mode:
        image = image.convert(mode)
    if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
        image = image.convert("RGBA" if "A" in image.mode else "RGB")
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    width, height = image.size
    return buf.getvalue(), "png", int(width), int(height)


def _image_file(path):
    with open(path, "rb") as f:
        data = f.read()
    ext = os.path.splitext(path)[1].lstrip(".").lower()
    if not re.fullmatch(r"[a-z0-9]{1,8}", ext or "-"):
        ext = "bin"
    if ext not in _IMAGE_EXTENSIONS:
        from ._errors import warn

        warn("Image(%r): not a known image file type; copied as is" % path, 4)
    width, height = image_size(data)
    return data, "jpeg" if ext == "jpg" else ext, width, height


def image_size(data):
    """(width, height) from a PNG, GIF or JPEG header, else (None, None)."""
    if data[:8] == _PNG_SIGNATURE and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return struct.unpack("<HH", data[6:10])
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
                i += 1 if marker == 0xFF else 2
                continue
            length = struct.unpack(">H", data[i + 2:i + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[i + 5:i + 9])
                return width, height
            i += 2 + length
    return None, None


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

    def reference(self, key, step, value):
        """The JSON reference of a media value (or of a list of them) logged under ``key``."""
        if isinstance(value, (list, tuple)):
            kind = type(value[0]) if value else None
            seq_ref = getattr(kind, "_trackline_seq_ref", None)
            if seq_ref is not None and all(type(v) is kind for v in value):
                return seq_ref(self, key, step, list(value))
            return [self.reference(key, step, v) for v in value]
        ref = getattr(value, "_trackline_ref", None)
        if ref is not None:
            return ref(self, key, step)
        return to_json(value)

    def write_file(self, subdir, key, step, data, ext):
        """Write ``data`` (bytes) as ``media/<subdir>/<key>_<step>_<sha256[:20]><ext>``.

        ``ext`` starts with a dot (``.png``, ``.mask.png``, ``.plotly.json``). Returns
        ``{"path", "sha256", "size"}``, the fields every W&B file reference carries."""
        digest = hashlib.sha256(data).hexdigest()
        rel = "media/%s/%s" % (subdir, media_file_name(key, step, digest[:20], ext))
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
        rel = "media/%s/%s" % (subdir, media_file_name(key, step, digest[:20], ext))
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

    def _image(self, key, step, image):
        """The reference of one image (kept for callers that hold an Image directly)."""
        return image._trackline_ref(self, key, step)

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


#: Longest key part of a media file name, in UTF-8 bytes (names stay under the usual 255).
_MAX_NAME_BYTES = 160


def media_file_name(key, step, digest, ext):
    """``<key>_<step>_<digest><ext>`` as W&B names media files (``_wb_filename``).

    As in W&B, a ``/`` in the key makes subdirectories, leading slashes are dropped and ``.`` /
    ``..`` components become ``_`` / ``__``. Beyond W&B, so that the daemon serves every file:
    empty components are dropped, a component's leading dot becomes ``_``, backslashes and NUL
    become ``_``, and an overlong last component is cut."""
    parts = []
    for part in str(key).replace("\\", "_").replace("\0", "_").split("/"):
        if not part:
            continue
        if part in (".", ".."):
            part = part.replace(".", "_")
        elif part.startswith("."):
            part = "_" + part[1:]
        parts.append(part)
    if not parts:
        parts = ["media"]
    last = parts[-1].encode("utf-8")
    if len(last) > _MAX_NAME_BYTES:
        parts[-1] = last[:_MAX_NAME_BYTES].decode("utf-8", "ignore")
    return "%s_%s_%s%s" % ("/".join(parts), step, digest, ext)


def _safe(key):
    """A history key as one file-name part: only ``[A-Za-z0-9._-]``, no leading dot, bounded."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", key).lstrip(".")
    return (safe or "media")[:100]


from ._table import Table  # noqa: E402,F401  (re-exported: trackline._media.Table)
