"""``run.define_metric()``: summary aggregations, default x axes and hidden metrics, as in W&B.

``define_metric(name, step_metric=None, summary=None, goal=None, hidden=False)`` -- ``name`` may
be a glob (``"val/*"``: ``*`` matches any characters, ``/`` included; keys beginning with ``_`` never
match a glob). Exact names win over globs; among globs the first defined wins.

- ``summary``: comma-separated (or a list) of ``min``, ``max``, ``mean``, ``last``, ``best``,
  ``copy``, ``none``. Then ``summary[name]`` is a dict such as ``{"min": 0.1, "last": 0.3}``, built
  from the numeric values logged *after* the definition (NaN and non-numbers are skipped), as W&B
  does; ``best`` is the min or the max according to ``goal`` (``minimize`` unless ``maximize``);
  ``copy`` alone keeps the plain last value (the default), ``none`` leaves the summary untouched.
- ``step_metric``, ``goal`` and ``hidden`` are recorded for the UI.
- ``step_sync`` (the default when ``step_metric`` is given): a row holding the metric but not its
  step metric gets the step metric's last logged number (0 before any), as wandb-core's
  ``InsertStepMetrics`` does; so ``define_metric("val/*", step_metric="epoch")`` then
  ``log({"val/acc": a})`` records the epoch beside the accuracy.

Every definition is written to ``metrics.json`` in the run folder (replaced atomically; format in
docs/format.md).

How values reach the aggregation without slowing log() down: until the first define_metric(),
the run's summary is a plain dict that log() updates with ``dict.update``. The first definition
swaps it for an :class:`AggregatingDict` (same data), whose ``update`` -- the call log() makes
for each committed row -- aggregates the defined keys. Script writes to ``run.summary`` use
``dict.update`` and so are stored as given.
"""

import math
from fnmatch import fnmatchcase

from ._errors import UsageError, warn
from ._files import atomic_write_json

SUMMARY_OPTIONS = ("min", "max", "mean", "last", "best", "copy", "none")
_GOALS = {"minimize": "minimize", "min": "minimize", "maximize": "maximize", "max": "maximize"}


class Metric:
    """A metric definition, as returned by ``define_metric()`` (W&B's ``wandb.Metric``)."""

    __slots__ = ("name", "step_metric", "step_sync", "summary", "goal", "hidden")

    def __init__(self, name, step_metric=None, step_sync=None, summary=None, goal=None, hidden=False):
        self.name = name
        self.step_metric = step_metric
        self.step_sync = step_sync
        self.summary = summary  # tuple of options, or None (default: last value)
        self.goal = goal
        self.hidden = hidden

    def as_json(self):
        return {
            "step_metric": self.step_metric,
            "summary": list(self.summary) if self.summary is not None else None,
            "goal": self.goal,
            "hidden": self.hidden,
        }

    def __repr__(self):
        return "<trackline.Metric %r %r>" % (self.name, self.as_json())


def make_metric(name, step_metric=None, step_sync=None, hidden=None, summary=None, goal=None,
                overwrite=None, **kwargs):
    """Validate define_metric()'s arguments and return the :class:`Metric`."""
    if kwargs:
        warn("define_metric() ignores unsupported argument(s): %s" % ", ".join(sorted(kwargs)), 4)
    if not isinstance(name, str) or not name:
        raise UsageError("define_metric() needs a metric name (a non-empty string)")
    if step_metric is not None:
        if hasattr(step_metric, "name") and not isinstance(step_metric, str):
            step_metric = step_metric.name  # a Metric, as W&B allows
        if not isinstance(step_metric, str) or not step_metric:
            raise UsageError("define_metric(step_metric=...) must be a metric name")
    options = None
    if summary is not None:
        parts = summary.split(",") if isinstance(summary, str) else list(summary)
        options = []
        for part in parts:
            part = str(part).strip().lower()
            if part not in SUMMARY_OPTIONS:
                raise UsageError(
                    "define_metric(summary=%r): unknown option %r (use %s)"
                    % (summary, part, ", ".join(SUMMARY_OPTIONS))
                )
            if part not in options:
                options.append(part)
        options = tuple(options)
    if goal is not None:
        if str(goal).lower() not in _GOALS:
            raise UsageError("define_metric(goal=%r): use 'minimize' or 'maximize'" % (goal,))
        goal = _GOALS[str(goal).lower()]
    if step_sync is None:
        step_sync = step_metric is not None  # W&B's default
    return Metric(name, step_metric, bool(step_sync), options, goal, bool(hidden))


class Metrics:
    """The definitions of one run and the running aggregates of their summaries."""

    def __init__(self, path):
        self._path = path  # metrics.json
        self._exact = {}
        self._globs = {}
        self._cache = {}  # history key -> its definition (own or glob), or None
        self._track = {}  # (key, "min"|"max"|"tot"|"num") -> float
        self._latest = {}  # step metric -> its last number logged (0 before any)

    def define(self, metric):
        """Add (or replace) a definition; the caller holds the run's lock."""
        table = self._globs if "*" in metric.name else self._exact
        table.pop(metric.name, None)
        table[metric.name] = metric
        self._cache.clear()
        if metric.step_metric is not None:
            self._latest.setdefault(metric.step_metric, 0)

    def has_step_metrics(self):
        return bool(self._latest)

    def fill_steps(self, row):
        """``row`` (a new dict when something is added) after noting the step metrics' values it
        holds, with the step metric of each key whose definition has ``step_sync`` added when the
        row lacks it (under the run's lock)."""
        latest = self._latest
        for step_key in latest:
            value = row.get(step_key)
            if type(value) in (int, float):
                latest[step_key] = value
        added = None
        for key in row:
            metric = self._definition(key)
            step_key = metric.step_metric if metric is not None and metric.step_sync else None
            if step_key is not None and step_key not in row:
                if added is None:
                    added = {}
                added[step_key] = latest[step_key]
        if added is None:
            return row
        row = dict(row)
        row.update(added)
        return row

    def _definition(self, key):
        """The definition of history key ``key``: its own, else the first glob matching it
        (never for a key beginning with ``_``), or None; cached until the next definition."""
        try:
            return self._cache[key]
        except KeyError:
            pass
        metric = self._exact.get(key)
        if metric is None and not key.startswith("_"):
            for pattern, candidate in self._globs.items():
                if fnmatchcase(key, pattern):
                    metric = candidate
                    break
        self._cache[key] = metric
        return metric

    def as_json(self):
        out = {name: m.as_json() for name, m in self._exact.items()}
        out.update((name, m.as_json()) for name, m in self._globs.items())
        return out

    def write(self):
        try:
            atomic_write_json(self._path, self.as_json())
        except OSError as exc:
            warn("cannot write %s (%s)" % (self._path, exc), 4)

    def lookup(self, key):
        """The definition whose summary spec applies to history key ``key``, or None."""
        metric = self._definition(key)
        return metric if metric is not None and metric.summary is not None else None

    def apply(self, summary, key, value, metric):
        """Fold ``value`` of ``key`` into ``summary[key]`` per ``metric.summary`` (under the lock)."""
        options = metric.summary
        if "none" in options:
            return
        if options == ("copy",):
            dict.__setitem__(summary, key, value)
            return
        if type(value) not in (int, float, bool) or value != value:
            return  # W&B aggregates real numbers only, and skips NaN
        v = float(value)
        old = dict.get(summary, key)
        entry = dict(old) if isinstance(old, dict) else {}  # never mutate a snapshotted dict
        track = self._track
        if (key, "seeded") not in track:
            track[key, "seeded"] = True
            for agg in ("min", "max"):
                seed = entry.get(agg)
                if type(seed) in (int, float) and not math.isnan(seed):
                    track[key, agg] = float(seed)
        if "last" in options or "copy" in options:
            entry["last"] = value
        best = "best" in options
        maximize = metric.goal == "maximize"
        if "max" in options or best and maximize:
            old_max = track.get((key, "max"))
            if old_max is None or v > old_max:
                track[key, "max"] = v
                if "max" in options:
                    entry["max"] = value
                if best:
                    entry["best"] = value
        if "min" in options or best and not maximize:
            old_min = track.get((key, "min"))
            if old_min is None or v < old_min:
                track[key, "min"] = v
                if "min" in options:
                    entry["min"] = value
                if best:
                    entry["best"] = value
        if "mean" in options:
            tot = track.get((key, "tot"), 0.0) + v
            num = track.get((key, "num"), 0) + 1
            track[key, "tot"], track[key, "num"] = tot, num
            entry["mean"] = tot / num
        dict.__setitem__(summary, key, entry)


class AggregatingDict(dict):
    """The run's summary data once a metric is defined: ``update()`` -- what log() calls with each
    committed row -- aggregates the defined keys; everything else behaves as a dict."""

    __slots__ = ("_metrics",)

    def update(self, data=(), **kwargs):
        metrics = self._metrics
        items = data.items() if hasattr(data, "items") else data
        for key, value in items:
            metric = metrics.lookup(key)
            if metric is None:
                dict.__setitem__(self, key, value)
            else:
                metrics.apply(self, key, value, metric)
        for key, value in kwargs.items():
            dict.__setitem__(self, key, value)


def install(run):
    """Give ``run`` its :class:`Metrics` (once): swaps the summary dict under the run's lock."""
    import os

    metrics = Metrics(os.path.join(run.dir, "metrics.json"))
    with run._lock:
        data = AggregatingDict(run.summary._data)
        data._metrics = metrics
        object.__setattr__(run.summary, "_data", data)
        run._summary_data = data
    return metrics
