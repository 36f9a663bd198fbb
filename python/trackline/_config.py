"""``run.config``: the run's hyperparameters, persisted to ``config.json`` on every change.

Attribute and item access (``config.lr``, ``config["lr"]``), ``update()`` from a dict, an argparse
Namespace, absl flags (anything with ``flag_values_dict()``) or any object with ``__dict__``, and
the read-only dict protocol. Values are kept as the script gave them (so ``config.device`` stays
usable); they are converted to JSON only when written.

W&B rules: changing the value of an existing key raises :class:`ConfigError` unless
``allow_val_change=True`` (given to ``update()``, or to ``init()`` for the whole run); keys set by a
sweep are *locked*: the script's later changes to them are ignored with a warning.

:func:`init_config` builds the config a run starts with: ``config-defaults.yaml`` of the current
directory, then ``init(config=...)`` (filtered by ``config_include_keys``/``config_exclude_keys``),
then the sweep's parameters (``$TRACKLINE_SWEEP_PARAMS``, or W&B's ``$WANDB_SWEEP_PARAM_PATH``).
"""

import json
import os
import threading
from collections.abc import Mapping

from . import _env
from ._errors import ConfigError, UsageError, warn
from ._mapping import DictView
from ._values import to_json

#: Name of the defaults file read from the current directory at init(), as W&B does.
DEFAULTS_FILE = "config-defaults.yaml"


def as_mapping(obj):
    """A dict view of ``obj``: a Mapping as is, absl flags through ``flag_values_dict()``, else
    ``vars(obj)`` (argparse.Namespace and friends)."""
    if obj is None:
        return {}
    if isinstance(obj, Mapping):
        return obj
    flag_values_dict = getattr(obj, "flag_values_dict", None)
    if callable(flag_values_dict):  # absl.flags.FLAGS, tf.compat.v1.flags.FLAGS
        return flag_values_dict()
    if hasattr(obj, "__dict__"):
        return vars(obj)
    raise TypeError(
        "config must be a dict, an argparse.Namespace or an object with __dict__, not %s"
        % type(obj).__name__
    )


class Config(DictView):
    """Dict-like hyperparameters; every change is persisted through ``persist(dict)``."""

    _what = "config"

    def __init__(self, data=None, persist=None):
        object.__setattr__(self, "_data", {})
        object.__setattr__(self, "_persist", persist)
        object.__setattr__(self, "_lock", threading.RLock())
        object.__setattr__(self, "_allow_val_change", False)
        object.__setattr__(self, "_locked", {})  # key -> who locked it ("sweep")
        if data:
            self._data.update((_key(k), v) for k, v in as_mapping(data).items())

    def _configure(self, allow_val_change=False, locked=None):
        """Run-level settings: ``init(allow_val_change=...)`` and the keys a sweep locked."""
        object.__setattr__(self, "_allow_val_change", bool(allow_val_change))
        object.__setattr__(self, "_locked", dict.fromkeys(locked or (), "sweep"))

    # -- writing -------------------------------------------------------------------------------
    def update(self, d=None, allow_val_change=None, **kwargs):
        """Merge ``d`` (dict, argparse.Namespace, absl flags or object with ``__dict__``) and
        ``kwargs``. Changing an existing value raises ConfigError unless ``allow_val_change``."""
        items = dict(as_mapping(d))
        items.update(kwargs)
        with self._lock:
            items = self._accepted(items, allow_val_change, 3)
            self._data.update(items)
            self._save()

    def setdefaults(self, d=None, allow_val_change=None, **kwargs):
        """Set the keys of ``d`` and ``kwargs`` that are not set yet (others are left alone)."""
        items = dict(as_mapping(d))
        items.update(kwargs)
        with self._lock:
            for k, v in items.items():
                self._data.setdefault(_key(k), v)
            self._save()

    def __setitem__(self, key, value):
        with self._lock:
            items = self._accepted({key: value}, None, 3)
            if items:
                self._data.update(items)
                self._save()

    def _accepted(self, items, allow_val_change, stacklevel):
        """The items of an update that apply: locked keys are dropped (with a warning when the
        value differs); a changed value raises ConfigError unless allowed. Caller holds the lock."""
        allow = self._allow_val_change or bool(allow_val_change)
        out = {}
        for key, value in items.items():
            key = _key(key)
            if key in self._locked:
                if key in self._data and not same_value(self._data[key], value):
                    warn(
                        "config item %r was locked by %r (ignored update to %r; keeping %r)"
                        % (key, self._locked[key], value, self._data[key]),
                        stacklevel,
                    )
                continue
            if not allow and key in self._data and not same_value(self._data[key], value):
                raise ConfigError(
                    "attempted to change value of key %r from %r to %r; if you really want to do "
                    "this, pass allow_val_change=True to config.update()"
                    % (key, self._data[key], value)
                )
            out[key] = value
        return out

    def __delitem__(self, key):
        with self._lock:
            del self._data[key]
            self._save()

    def _save(self):
        if self._persist is not None:
            self._persist(dict(self._data))

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


def same_value(old, new):
    """True if setting ``new`` over ``old`` is no change: equal, or equal once written as JSON
    (so a tuple equals its list, NaN equals NaN, and arrays compare by content)."""
    try:
        equal = old == new
        if type(equal) is bool and equal:
            return True
    except Exception:
        pass
    try:
        return _canonical(old) == _canonical(new)
    except Exception:
        return False


def _canonical(value):
    return json.dumps(to_json(value), sort_keys=True)


# -- the config a run starts with ---------------------------------------------------------------------
def init_config(config=None, include_keys=None, exclude_keys=None, cwd=None):
    """Return ``(data, locked_keys)``: the run's initial config and the keys a sweep set.

    Layers, later ones winning: ``config-defaults.yaml`` in ``cwd`` (W&B's format: ``key: value``
    or ``key: {value: X, desc: ...}``), ``config`` (a mapping or object, or the path of a YAML or
    JSON file in the same format) filtered by ``include_keys``/``exclude_keys``, then the sweep
    parameters, whose keys are locked."""
    if include_keys is not None and exclude_keys is not None:
        raise UsageError("pass config_include_keys or config_exclude_keys, not both")
    data = dict(load_defaults(os.path.join(cwd or os.getcwd(), DEFAULTS_FILE)))
    if isinstance(config, str) or hasattr(config, "__fspath__"):  # W&B: a YAML/JSON file's path
        path = os.fspath(config)
        if not os.path.isfile(path):
            raise UsageError("init(config=%r): no such config file" % (path,))
        config = load_defaults(path)
    user = {_key(k): v for k, v in as_mapping(config).items()}
    if include_keys is not None:
        keep = {_key(k) for k in _key_list(include_keys)}
        user = {k: v for k, v in user.items() if k in keep}
    if exclude_keys is not None:
        drop = {_key(k) for k in _key_list(exclude_keys)}
        user = {k: v for k, v in user.items() if k not in drop}
    data.update(user)
    sweep = sweep_params()
    data.update(sweep)
    return data, list(sweep)


def _key_list(keys):
    return [keys] if isinstance(keys, str) else list(keys)


def load_defaults(path):
    """The config in a W&B-style YAML file (``{}`` if it is missing; a bad file warns)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        warn("cannot read %s (%s); ignoring it" % (path, exc), 4)
        return {}
    from ._yaml import load

    try:
        data = load(text)
    except Exception as exc:
        warn("cannot parse %s (%s); ignoring it" % (path, exc), 4)
        return {}
    if data is None:
        return {}
    if not isinstance(data, dict):
        warn("ignoring %s: it is not a mapping of keys to values" % path, 4)
        return {}
    return strip_value_dicts(data)


def strip_value_dicts(data):
    """W&B's config-file format: ``{"lr": {"value": 0.1, "desc": "..."}}`` -> ``{"lr": 0.1}``.

    Plain values are kept; ``wandb_version`` and ``_wandb`` entries are dropped."""
    out = {}
    for key, value in data.items():
        key = _key(key)
        if key in ("wandb_version", "_wandb"):
            continue
        if isinstance(value, dict) and "value" in value and set(value) <= {"value", "desc"}:
            value = value["value"]
        out[key] = value
    return out


def sweep_params():
    """The parameters a sweep agent chose for this run, or ``{}``.

    ``$TRACKLINE_SWEEP_PARAMS`` holds a JSON object (``{"lr": 0.01}``; W&B's ``{"lr": {"value":
    0.01}}`` form is accepted too); else ``$WANDB_SWEEP_PARAM_PATH`` names a JSON or YAML file in
    W&B's format. A bad value warns and is ignored."""
    raw = _env.get(_env.SWEEP_PARAMS)
    source = _env.SWEEP_PARAMS
    if not raw:
        path = _env.get(_env.WANDB_SWEEP_PARAM_PATH)
        if not path:
            return {}
        source = path
        try:
            with open(path, encoding="utf-8") as f:
                raw = f.read()
        except OSError as exc:
            warn("cannot read the sweep parameters in %s (%s)" % (path, exc), 4)
            return {}
    try:
        data = json.loads(raw)
    except ValueError:
        try:
            from ._yaml import load

            data = load(raw)
        except Exception as exc:
            warn("cannot parse the sweep parameters in %s (%s)" % (source, exc), 4)
            return {}
    if not isinstance(data, dict):
        warn("ignoring the sweep parameters in %s: not a JSON object" % source, 4)
        return {}
    return strip_value_dicts(data)
