"""Turning user values into JSON-ready data.

``log()`` data is flattened (nested dicts joined with ``/``) and every value is made JSON-ready:
numpy scalars, 0-d/size-1 arrays and torch tensors -- anything with ``.item()`` that yields a plain
number -- become Python numbers; other array-likes with ``.tolist()`` become lists. In log() data, matplotlib and plotly
figures become media (_media_docs.py), pandas DataFrames tables (``_table.table_from_dataframe``),
and any other object JSON cannot represent is skipped with a one-line warning naming its key and
type -- never stored as its ``repr``. numpy, torch, pandas, matplotlib and plotly are never
imported here: they are recognised by duck typing and module names, so ``import trackline`` stays
cheap.
"""

from collections.abc import Mapping

#: Types json.dumps writes natively and that need no conversion.
PLAIN_TYPES = frozenset((str, int, float, bool, type(None)))

#: History keys set by the client on every row; a user value for them is dropped.
RESERVED_KEYS = frozenset(("_step", "_timestamp", "_runtime"))


def is_flat_plain(data):
    """True if ``data`` (a dict) can be written as is: str keys, plain values, no reserved keys."""
    for key, value in data.items():
        if type(value) not in PLAIN_TYPES or type(key) is not str or key in RESERVED_KEYS:
            return False
    return True


def flatten(data, media=None):
    """Return ``(flat, dropped)``: ``data`` flattened with ``/`` and normalised, and reserved keys.

    With a list ``media``, media values (trackline.Image & co, or lists of them) are kept as they
    are and ``(key, innermost key)`` appended to ``media``; without, they are converted like any
    object."""
    out = {}
    dropped = []
    _flatten_into(out, data, "", dropped, media)
    return out, dropped


def is_media(value):
    """True for a trackline media value (anything with ``_trackline_ref(writer, key, step)``:
    Image, Histogram, Table, ...) or a list starting with one."""
    if type(value) in (list, tuple):
        return bool(value) and hasattr(type(value[0]), "_trackline_ref")
    return hasattr(type(value), "_trackline_ref")


def _flatten_into(out, data, prefix, dropped, media):
    for key, value in data.items():
        leaf = key if type(key) is str else str(key)
        key = prefix + leaf
        if type(value) in PLAIN_TYPES:
            pass
        elif isinstance(value, Mapping):
            _flatten_into(out, value, key + "/", dropped, media)
            continue
        elif media is not None and (is_media(value) or is_convertible_media(value)):
            if key not in RESERVED_KEYS:
                media.append((key, leaf))  # written (and converted) by _media.MediaWriter
        else:
            try:
                value = log_json(value)
            except TypeError as exc:
                _skip_warning(key, value, exc.args[0] if exc.args else value)
                continue
        if key in RESERVED_KEYS:
            dropped.append(key)
        else:
            out[key] = value


def _type_name(value):
    kind = type(value)
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else "%s.%s" % (module, kind.__qualname__)


def _skip_warning(key, value, culprit):
    """One line naming the key and the type that cannot be logged, attributed to the caller's
    line (the first frame outside this package)."""
    import os
    import sys

    from ._errors import warn

    what = _type_name(culprit)
    if culprit is not value:
        what = "%s holding a %s" % (_type_name(value), what)
    here = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == here:
        frame, level = frame.f_back, level + 1
    warn("not logging %r: a %s is neither a number, text, a list, a dict nor media (W&B's media "
         "types, a matplotlib or plotly figure, a DataFrame)" % (key, what), level + 1)


def is_convertible_media(value):
    """True for what log() turns into media (see ``_media.as_media``): a matplotlib figure (or
    ``pyplot``, an Axes), a plotly figure, a pandas DataFrame, or a non-empty list of them.
    Recognised by module and class names: nothing is imported."""
    if type(value) in (list, tuple):
        return bool(value) and all(is_convertible_media(v) for v in value)
    kind = type(value)
    package = (kind.__module__ or "").split(".")[0]
    if package == "matplotlib":
        return callable(getattr(value, "savefig", None)) or hasattr(value, "figure")
    if getattr(value, "__name__", None) == "matplotlib.pyplot":
        return True
    if package == "plotly":
        return kind.__name__.endswith("Figure")
    return package == "pandas" and kind.__name__ == "DataFrame"


def log_json(value):
    """Like :func:`to_json`, but raises TypeError for an object JSON cannot represent (where
    :func:`to_json` would take its ``str()``): what log() stores must be data, not a repr."""
    if type(value) in PLAIN_TYPES:
        return value
    if isinstance(value, Mapping):
        return {(k if type(k) is str else str(k)): log_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [log_json(v) for v in value]
    converted = to_json(value, strict=True)
    if converted is _NOT_JSON:
        raise TypeError(value)  # the object that has no JSON form
    return converted


#: What ``to_json(value, strict=True)`` returns for an object it would otherwise stringify.
_NOT_JSON = object()


def to_json(value, strict=False):
    """Return a JSON-ready equivalent of ``value`` (recursively; dict keys become str).

    An object with no JSON form becomes its ``str()`` -- or, with ``strict``, ``_NOT_JSON``
    (for the top-level value; see :func:`log_json` for nested ones)."""
    if type(value) in PLAIN_TYPES:
        return value
    if isinstance(value, Mapping):
        return {(k if type(k) is str else str(k)): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, int):  # IntEnum and other int subclasses
        return int(value)
    if isinstance(value, float):  # numpy.float64 is a float subclass
        return float(value)
    if isinstance(value, str):
        return str.__str__(value)
    item = getattr(value, "item", None)
    if callable(item):  # numpy scalars and arrays, torch tensors, ...: only when of size 1
        try:
            scalar = item()
        except Exception:
            pass
        else:
            if type(scalar) in PLAIN_TYPES:
                return scalar
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        try:
            return to_json(tolist())
        except Exception:
            pass
    if isinstance(value, (set, frozenset)):
        return [to_json(v) for v in value]
    if hasattr(type(value), "__float__") and not isinstance(value, complex):
        try:
            return float(value)  # Decimal, Fraction, ...
        except Exception:
            pass
    if strict:
        isoformat = getattr(value, "isoformat", None)  # datetime, date, time
        if callable(isoformat) and type(value).__module__ == "datetime":
            return isoformat()
        if hasattr(value, "__fspath__"):
            return str(value.__fspath__())
        return _NOT_JSON
    return str(value)


def _make_dumps():
    """``json.dumps`` for history rows, minus its per-call set-up cost.

    json.dumps builds a new C encoder on every call; this builds one once, with json.dumps's
    default settings (NaN/Infinity written as literals, ASCII output), and checks at import that
    it writes exactly what json.dumps writes. Anywhere that fails, json.dumps itself is used."""
    import json

    try:
        from json.encoder import c_make_encoder, encode_basestring_ascii

        encode = c_make_encoder(
            None, None, encode_basestring_ascii, None, ": ", ", ", False, False, True
        )
        join = "".join

        def dumps(row):
            return join(encode(row, 0))

        sample = {"a": [1, -2.5, float("nan"), float("inf"), -float("inf")], "b/\u00e9": True,
                  "c": None, "d": {"e": "x\ny\"\\"}, "f": 10 ** 20, "g": 1e-7, "h": False}
        if dumps(sample) == json.dumps(sample):
            return dumps
    except Exception:
        pass
    return json.dumps


#: Serialises a history row (a dict of JSON-ready values) to one line, exactly like json.dumps.
dumps_row = _make_dumps()
