"""``run.summary``: one value per key, shown in run tables; written to ``summary.json`` on flush.

By default it holds the last logged value of every history key (``log()`` updates it in place,
under the run's lock, on each committed row); a script may also set, change or delete keys, and
the latest write wins -- as in W&B. Keys are the flattened history keys (``"train/loss"``).
``define_metric(name, summary="min")`` makes the logged values of ``name`` aggregate instead
(``{"min": ...}``), see _metrics.py.
"""

from ._mapping import DictView
from ._values import is_convertible_media, is_media, to_json


class Summary(DictView):
    """Dict-like run summary; changes are written with the next flush (or at finish)."""

    _what = "summary"

    def __init__(self, lock, data=None):
        object.__setattr__(self, "_lock", lock)  # the run's hot-path lock
        object.__setattr__(self, "_data", dict(data or {}))
        object.__setattr__(self, "_dirty", False)
        object.__setattr__(self, "_on_change", None)  # set once the run has finished
        # (key, value) -> reference: writes a media value's files, as W&B does for a summary
        # value (named ``<key>_summary_<hash>``); set by the W&B run.
        object.__setattr__(self, "_media", None)

    # -- writing -------------------------------------------------------------------------------
    def __setitem__(self, key, value):
        self.update({key: value})

    def __delitem__(self, key):
        with self._lock:
            del self._data[key]
            object.__setattr__(self, "_dirty", True)
        self._changed()

    def update(self, d=None, **kwargs):
        """Set several keys at once (values are converted to JSON-ready data now)."""
        items = dict(d or {})
        items.update(kwargs)
        items = {(k if type(k) is str else str(k)): v for k, v in items.items()}
        media = self._media
        items = {k: (media(k, v) if media is not None and (is_media(v) or is_convertible_media(v))
                     else to_json(v)) for k, v in items.items()}
        with self._lock:
            # dict.update, not self._data.update: after define_metric() _data aggregates the
            # values log() gives it (see _metrics.py), while the script's own writes are set as is.
            dict.update(self._data, items)
            object.__setattr__(self, "_dirty", True)
        self._changed()

    def _changed(self):
        if self._on_change is not None:
            self._on_change()

    def _snapshot(self, force=False):
        """A copy of the data if it changed since the last snapshot (or ``force``), else None.

        The caller holds the run's lock."""
        if not (force or self._dirty):
            return None
        object.__setattr__(self, "_dirty", False)
        return dict(self._data)

    def __repr__(self):
        return "Summary(%r)" % (self.as_dict(),)
