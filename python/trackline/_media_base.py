"""The base of every media type (:class:`Media`, its ``_trackline_ref`` protocol) and W&B's media
file names (:func:`media_file_name`). The writer is _media.py's MediaWriter; the types are in
_media.py, _media_*.py and _table.py."""

import datetime
import json

from ._values import to_json


class Media:
    """Base of the loggable media types.

    A subclass implements ``_trackline_ref(self, writer, key, step) -> dict``: it writes its
    files through the :class:`MediaWriter` ``writer`` and returns its reference object. A class
    whose lists W&B stores as one object also has a classmethod
    ``_trackline_seq_ref(writer, key, step, items) -> dict``."""

    _trackline_media = True

    #: True where W&B binds the object to the run once: logged alone again, it refers to the
    #: file of its first log (Image, Audio, Video, Html, Plotly, Object3D).
    _trackline_bind_once = False

    def _trackline_ref(self, writer, key, step):
        raise NotImplementedError("%s does not say how it is stored" % type(self).__name__)


# -- file names -------------------------------------------------------------------------------------
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


def compact_json(value):
    """``value`` as W&B's media JSON files hold it (its json_util, pydantic-core): no spaces,
    UTF-8 rather than escapes, ``NaN``/``Infinity`` literals, dates in ISO 8601 (W&B's
    json_friendly), arrays as lists."""
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_json_default)
    except (TypeError, ValueError):  # e.g. dict keys json cannot take: normalise them first
        text = json.dumps(to_json(value), separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def _json_default(obj):
    if isinstance(obj, (datetime.datetime, datetime.date)):
        return obj.isoformat()
    tolist = getattr(obj, "tolist", None)  # numpy arrays and scalars (datetime64 -> datetime)
    if callable(tolist):
        return tolist()
    return to_json(obj)
