"""The dict-like protocol that ``run.config`` and ``run.summary`` share.

Attribute and item access over ``self._data``; listing methods take ``self._lock`` so a copy is
never made while another thread writes. Each class brings its own writes (``__setitem__``,
``__delitem__``, ``update``), since config and summary validate and persist differently.
"""


class DictView:
    """Mixin: read ``self._data`` as a dict (and as attributes); ``x.key = v`` means ``x[key] = v``."""

    __slots__ = ()

    #: What the mapping is called in an AttributeError ("config has no key 'lr'").
    _what = "mapping"

    def __setattr__(self, key, value):
        self[key] = value

    def __delattr__(self, key):
        try:
            del self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __getattr__(self, key):
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self._data[key]
        except KeyError:
            raise AttributeError("%s has no key %r" % (self._what, key)) from None

    def __getitem__(self, key):
        return self._data[key]

    def __contains__(self, key):
        return key in self._data

    def __iter__(self):
        return iter(self.keys())

    def __len__(self):
        return len(self._data)

    def keys(self):
        with self._lock:
            return list(self._data)

    def values(self):
        with self._lock:
            return list(self._data.values())

    def items(self):
        with self._lock:
            return list(self._data.items())

    def get(self, key, default=None):
        return self._data.get(key, default)

    def as_dict(self):
        """A shallow copy as a plain dict."""
        with self._lock:
            return dict(self._data)
