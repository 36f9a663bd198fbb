"""``run.config``: the run's hyperparameters, persisted to ``config.json`` on every change.

Attribute and item access (``config.lr``, ``config["lr"]``), ``update()`` from a dict, an argparse
Namespace or any object with ``__dict__``, and the read-only dict protocol. Values are kept as the
script gave them (so ``config.device`` stays usable); they are converted to JSON only when written.
Unlike W&B, changing an existing value never raises (``allow_val_change`` is accepted and ignored).
"""

import threading
from collections.abc import Mapping


def as_mapping(obj):
    """A dict view of ``obj``: a Mapping as is, else ``vars(obj)`` (argparse.Namespace and friends)."""
    if obj is None:
        return {}
    if isinstance(obj, Mapping):
        return obj
    if hasattr(obj, "__dict__"):
        return vars(obj)
    raise TypeError(
        "config must be a dict, an argparse.Namespace or an object with __dict__, not %s"
        % type(obj).__name__
    )


class Config:
    """Dict-like hyperparameters; every change is persisted through ``persist(dict)``."""

    def __init__(self, data=None, persist=None):
        object.__setattr__(self, "_data", {})
        object.__setattr__(self, "_persist", persist)
        object.__setattr__(self, "_lock", threading.RLock())
        if data:
            self._data.update((_key(k), v) for k, v in as_mapping(data).items())

    # -- writing -------------------------------------------------------------------------------
    def update(self, d=None, allow_val_change=None, **kwargs):
        """Merge ``d`` (dict, argparse.Namespace or object with ``__dict__``) and ``kwargs``."""
        items = dict(as_mapping(d))
        items.update(kwargs)
        with self._lock:
            self._data.update((_key(k), v) for k, v in items.items())
            self._save()

    def setdefaults(self, d=None, **kwargs):
        """Set the keys of ``d`` and ``kwargs`` that are not set yet."""
        items = dict(as_mapping(d))
        items.update(kwargs)
        with self._lock:
            for k, v in items.items():
                self._data.setdefault(_key(k), v)
            self._save()

    def __setitem__(self, key, value):
        with self._lock:
            self._data[_key(key)] = value
            self._save()

    def __delitem__(self, key):
        with self._lock:
            del self._data[key]
            self._save()

    def __setattr__(self, key, value):
        self[key] = value

    def __delattr__(self, key):
        try:
            del self[key]
        except KeyError:
            raise AttributeError(key) from None

    def _save(self):
        if self._persist is not None:
            self._persist(dict(self._data))

    # -- reading -------------------------------------------------------------------------------
    def __getattr__(self, key):
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self._data[key]
        except KeyError:
            raise AttributeError("config has no key %r" % key) from None

    def __getitem__(self, key):
        return self._data[key]

    def __contains__(self, key):
        return key in self._data

    def __iter__(self):
        return iter(list(self._data))

    def __len__(self):
        return len(self._data)

    def keys(self):
        return list(self._data.keys())

    def values(self):
        return list(self._data.values())

    def items(self):
        return list(self._data.items())

    def get(self, key, default=None):
        return self._data.get(key, default)

    def as_dict(self):
        """A shallow copy of the configuration as a plain dict."""
        return dict(self._data)

    def __eq__(self, other):
        if isinstance(other, Config):
            other = other._data
        return self._data == other

    __hash__ = None

    def __repr__(self):
        return "Config(%r)" % (self._data,)

    def __dir__(self):
        return sorted(set(super().__dir__()) | {k for k in self._data if k.isidentifier()})


def _key(key):
    return key if type(key) is str else str(key)
