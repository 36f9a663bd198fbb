"""The Run that ``trackline.init()`` returns: the core run of _run.py plus the rest of W&B's run API.

The core (:class:`trackline._run.RunWriter`) owns the hot path -- log(), flushing, run.json, finish --
and this subclass adds what sits around it without touching that path: ``log()`` itself is not
overridden (media values take the slow path through :meth:`_flatten`, which only runs for rows
that are not flat dicts of plain values), and the extras hook in at flush and finish.

Added here: media values in log() (_media.py), ``define_metric()`` (_metrics.py),
``save(glob, base_path, policy)`` and ``log_code()`` (_save.py), ``alert()`` (``alerts.jsonl``),
``watch()``/``unwatch()`` (_watch.py), artifacts (_artifacts.py), ``path``, ``url``, ``entity``,
``mode``, and W&B's config rules (``allow_val_change``, keys locked by a sweep).
"""

import json
import os
import sys
import threading
import time
from collections.abc import Mapping

from . import _env, _run
from ._errors import warn
from ._files import write_all
from ._values import flatten

#: The dashboard a run's ``url`` points to when $TRACKLINE_URL is not set.
DEFAULT_URL = "http://127.0.0.1:8765"

#: What ``run.path`` and the public API use in place of a W&B entity.
ENTITY = "local"

ALERT_LEVELS = ("INFO", "WARN", "ERROR")

_O_BINARY = getattr(os, "O_BINARY", 0)


class Run(_run.RunWriter):
    """A tracked run. Created by ``trackline.init()``; do not instantiate directly."""

    _saver = None  # _save.Saver once save(glob) is used
    _metrics = None  # _metrics.Metrics once define_metric() is used
    _media_writer = None
    _watch_handles = ()

    def __init__(self, root, allow_val_change=False, locked_keys=(), mode=None, settings=None,
                 save_code=False, **kwargs):
        accepted = _base_parameters()
        if "mode" in accepted:
            kwargs["mode"] = mode
        if "settings" in accepted:
            kwargs["settings"] = settings
        self._data_root = root
        self._extra_lock = threading.Lock()
        self._alerts_sent = {}
        super().__init__(root=root, **kwargs)
        self.config._configure(allow_val_change=allow_val_change, locked=locked_keys)
        object.__setattr__(self.summary, "_media", self._summary_media)
        extras = getattr(self, "_extras", None)  # system metrics, console, remote (_extras.py)
        self._mode = "online" if getattr(extras, "uploader", None) is not None else "offline"
        if save_code:
            self._save_main_script()

    # -- log(): media values -------------------------------------------------------------------
    def _flatten(self, data):
        if not isinstance(data, Mapping):
            raise TypeError("log() takes a dict of metrics, not %s" % type(data).__name__)
        from .plot._custom_chart import has_charts

        if has_charts(data):
            data = self._custom_charts(data)
        media = []
        flat, dropped = flatten(data, media)
        if dropped:
            warn("ignoring logged key(s) %s: they are set by trackline" % ", ".join(dropped), 3)
        if media:
            writer = self._writer_of_media()
            step = self._step
            for key, leaf in media:
                try:
                    flat[key] = writer.reference(key, step, flat[key], file_key=leaf)
                except OSError as exc:
                    warn("cannot write the media of %r (%s); not logged" % (key, exc), 3)
                    del flat[key]
        return flat

    def _writer_of_media(self):
        writer = self._media_writer
        if writer is None:
            from ._media import MediaWriter

            writer = self._media_writer = MediaWriter(self.dir)
            # An incremental table continues the increments of a resumed run (_table.py).
            writer.resumed_summary = self.summary if getattr(self, "_resumed", False) else None
        return writer

    def _summary_media(self, key, value):
        """The reference of a media value set in the summary: its files written under the
        ``summary`` namespace (``media/images/<key>_summary_<hash>.png``), as W&B does."""
        return self._writer_of_media().reference(key, "summary", value)

    def _custom_charts(self, data):
        """W&B's custom charts (trackline.plot) in a log() dict: each chart's table joins the row
        under its table key (``<key>_table``) and its spec goes into the config under
        ``_wandb.visualize.<key>`` (``_wandb.viz.<key>`` for ``visualize()``), as W&B does."""
        from .plot._custom_chart import split_charts

        data, charts = split_charts(data)
        for chart in charts:
            self._set_internal_config(chart.spec.config_key, chart.spec.config_value)
        return data

    def _set_internal_config(self, keys, value):
        """Set ``config[keys[0]][keys[1]]...`` to ``value`` (W&B's ``_config_callback``: no
        locked-key or changed-value rules); config.json is rewritten only when it changes."""
        config = self.config
        with config._lock:
            top = config._data.get(keys[0])
            top = dict(top) if isinstance(top, Mapping) else {}
            node = top
            for key in keys[1:-1]:
                child = node.get(key)
                node[key] = child = dict(child) if isinstance(child, Mapping) else {}
                node = child
            if keys[-1] in node and node[keys[-1]] == value:
                return
            node[keys[-1]] = value
            config._data[keys[0]] = top
            config._save()

    # -- flushing and finishing ----------------------------------------------------------------
    def flush(self, *args, **kwargs):
        ok = super().flush(*args, **kwargs)
        saver = self._saver
        if saver is not None:
            try:
                saver.poll()
            except Exception as exc:
                warn("saving files failed: %r" % (exc,), 2)
        return ok

    def finish(self, exit_code=None, quiet=None):
        """End the run: flush everything, copy the files saved with ``policy="end"``/``"live"``,
        then mark it ``finished`` (``failed`` if ``exit_code`` is non-zero) in run.json.
        Idempotent; a no-op in a forked child process."""
        if os.getpid() == self._pid and not self._finished:
            self._before_finish()
        return super().finish(exit_code=exit_code, quiet=quiet)

    def _before_finish(self):
        artifacts = sys.modules.get("trackline._artifacts")
        if artifacts is not None:  # the versions it logged, committed by the worker
            artifacts.wait_for_run(self)
        with self._extra_lock:
            handles, self._watch_handles = self._watch_handles, ()
            saver = self._saver
        if handles:
            from ._watch import remove

            remove(handles)
        tensorboard = sys.modules.get("trackline.tensorboard")
        if tensorboard is not None:  # sync_tensorboard: the event files' last rows, their copies
            try:
                tensorboard.finish(self)
            except Exception as exc:
                warn("TensorBoard sync at finish failed: %r" % (exc,), 4)
        if saver is not None:
            try:
                saver.finish()
            except Exception as exc:
                warn("saving files at finish failed: %r" % (exc,), 4)

    # -- files ---------------------------------------------------------------------------------
    def save(self, glob_str=None, base_path=None, policy="live"):
        """``save()``: persist the run's metadata (W&B's old idiom); returns True.

        ``save(glob_str, base_path=None, policy="live")``: copy the matching files into
        ``<run>/files/`` (see _save.py for paths and policies); returns their destination paths."""
        if glob_str is None:
            return super().save()
        if self._finished:
            self._ignored("save")
            return []
        with self._extra_lock:
            if self._saver is None:
                from ._save import Saver

                self._saver = Saver(self.dir, self._data_root)
            saver = self._saver
        return saver.save(glob_str, base_path, policy or "live")

    def log_code(self, root=".", name=None, include_fn=None, exclude_fn=None):
        """Copy the ``*.py`` files under ``root`` (or those ``include_fn(path, root)`` accepts)
        into ``<run>/files/code/``; returns their paths relative to ``root``."""
        from ._save import log_code

        return log_code(self.dir, self._data_root, root, include_fn, exclude_fn)

    def _save_main_script(self):
        import sys

        script = sys.argv[0] if sys.argv else ""
        if script.endswith(".py") and os.path.isfile(script):
            from ._save import Saver

            Saver(self.dir, self._data_root)._copy(
                script, os.path.join(self.dir, "files", "code", os.path.basename(script))
            )

    # -- metrics ---------------------------------------------------------------------------------
    def define_metric(self, name, step_metric=None, step_sync=None, hidden=None, summary=None,
                      goal=None, overwrite=None, **kwargs):
        """Customise a metric (or a glob of them) as W&B does; see _metrics.py. Returns the
        Metric; the definitions are written to ``metrics.json``."""
        from . import _metrics

        metric = _metrics.make_metric(name, step_metric, step_sync, hidden, summary, goal,
                                      overwrite, **kwargs)
        if self._finished:
            self._ignored("define_metric")
            return metric
        with self._extra_lock:
            if self._metrics is None:
                self._metrics = _metrics.install(self)
            metrics = self._metrics
            with self._lock:
                metrics.define(metric)
                data = metrics.as_json()
                if metrics.has_step_metrics():
                    self._step_sync = metrics.fill_steps
            try:
                from ._files import atomic_write_json

                atomic_write_json(self._path("metrics.json"), data)
            except OSError as exc:
                warn("cannot write metrics.json (%s)" % exc, 3)
        return metric

    def _label(self, code=None, repo=None, code_version=None, **kwargs):
        """W&B's telemetry labels (transformers' callback calls ``run._label(code=...)``): W&B
        sends them to its server only; nothing to record here."""

    # -- alerts ----------------------------------------------------------------------------------
    def alert(self, title, text, level=None, wait_duration=None):
        """Record an alert as one JSON line of ``<run>/alerts.jsonl``.

        ``level`` is ``"INFO"`` (default), ``"WARN"`` or ``"ERROR"`` (or a trackline.AlertLevel);
        ``wait_duration`` (seconds or a timedelta): another alert with the same title within that
        time is dropped, as W&B does. Returns True if the alert was recorded."""
        level = _alert_level(level)
        wait = _seconds(wait_duration)
        if self._finished:
            self._ignored("alert")
            return False
        now = time.time()
        with self._extra_lock:
            last = self._alerts_sent.get(title)
            if last is not None and now < last[0] + last[1]:
                return False
            self._alerts_sent[title] = (now, wait or 0.0)
            line = {
                "title": str(title), "text": str(text), "level": level, "wait_duration": wait,
                "_timestamp": now, "_step": self._step,
            }
            data = (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")
            try:
                fd = os.open(self._path("alerts.jsonl"),
                             os.O_WRONLY | os.O_APPEND | os.O_CREAT | _O_BINARY, 0o644)
                try:
                    write_all(fd, data)
                finally:
                    os.close(fd)
            except OSError as exc:
                warn("cannot write alerts.jsonl (%s)" % exc, 2)
                return False
        return True

    # -- models ----------------------------------------------------------------------------------
    def watch(self, models, criterion=None, log="gradients", log_freq=1000, idx=None,
              log_graph=False):
        """Log histograms of torch models' gradients (and/or parameters) every ``log_freq``
        backward (forward) passes, as W&B does; without torch, warns and does nothing. See
        _watch.py."""
        from ._watch import watch

        if self._finished:
            self._ignored("watch")
            return None
        handles = watch(self, models, criterion=criterion, log=log, log_freq=log_freq, idx=idx,
                        log_graph=log_graph)
        with self._extra_lock:
            self._watch_handles = tuple(self._watch_handles) + tuple(handles)
        return None

    def unwatch(self, models=None):
        """Remove the hooks watch() installed on ``models`` (all of them without)."""
        from ._watch import remove, unwatch

        with self._extra_lock:
            if models:
                self._watch_handles = unwatch(self._watch_handles, models)
                return
            handles, self._watch_handles = self._watch_handles, ()
        remove(handles)

    # -- artifacts (_artifacts.py) ---------------------------------------------------------------
    def log_artifact(self, artifact_or_path, name=None, type=None, aliases=None, tags=None):
        """Log an Artifact (or a file/folder path) as the next version of its name."""
        from . import _artifacts

        return _artifacts.log_artifact(self, artifact_or_path, name, type, aliases, tags)

    def use_artifact(self, artifact_or_name, type=None, aliases=None, use_as=None):
        """The version ``"name[:v<N>|:alias]"`` (or ``"project/name:alias"``) names, recorded as
        an input of this run; works offline."""
        from . import _artifacts

        return _artifacts.use_artifact(self, artifact_or_name, type, aliases, use_as)

    def log_model(self, path, name=None, aliases=None):
        from . import _artifacts

        return _artifacts.log_model(self, path, name, aliases)

    def use_model(self, name):
        from . import _artifacts

        return _artifacts.use_model(self, name)

    def link_artifact(self, artifact, target_path, aliases=None):
        from . import _artifacts

        return _artifacts.link_artifact(self, artifact, target_path, aliases)

    def link_model(self, path, registered_model_name, name=None, aliases=None):
        from . import _artifacts

        return _artifacts.link_model(self, path, registered_model_name, name, aliases)

    def upsert_artifact(self, artifact_or_path, name=None, type=None, aliases=None,
                        distributed_id=None):
        """W&B's distributed artifact: here each call logs a version (same content, same one)."""
        return self.log_artifact(artifact_or_path, name, type, aliases)

    def finish_artifact(self, artifact_or_path, name=None, type=None, aliases=None,
                        distributed_id=None):
        return self.log_artifact(artifact_or_path, name, type, aliases)

    # -- identity --------------------------------------------------------------------------------
    @property
    def entity(self):
        return ENTITY

    @property
    def path(self):
        """``"local/<project>/<id>"``, W&B's ``entity/project/id``."""
        return "%s/%s/%s" % (ENTITY, self.project, self.id)

    @property
    def url(self):
        """The run's page on the dashboard ($TRACKLINE_URL, else http://127.0.0.1:8765)."""
        from urllib.parse import quote

        return "%s/projects/%s/runs/%s" % (
            _base_url(), quote(self.project, safe=""), quote(self.id, safe=""),
        )

    def get_url(self):
        return self.url

    @property
    def project_url(self):
        from urllib.parse import quote

        return "%s/projects/%s" % (_base_url(), quote(self.project, safe=""))

    def get_project_url(self):
        return self.project_url

    @property
    def sweep_id(self):
        """The sweep this run belongs to ($TRACKLINE_SWEEP_ID or $WANDB_SWEEP_ID, set by a sweep
        agent), else None."""
        from . import _env

        return _env.first(_env.SWEEP_ID, _env.WANDB_SWEEP_ID)[1]

    @property
    def sweep_url(self):
        """The sweep's page on the dashboard, or None outside a sweep."""
        from urllib.parse import quote

        sweep = self.sweep_id
        if sweep is None:
            return None
        return "%s/sweeps/%s" % (self.project_url, quote(sweep, safe=""))

    def get_sweep_url(self):
        return self.sweep_url

    @property
    def mode(self):
        """``"online"`` when the run streams to a daemon ($TRACKLINE_URL), else ``"offline"``."""
        return self._mode

    @property
    def offline(self):
        return self._mode != "online"

    @property
    def disabled(self):
        return False

    def mark_preempting(self):
        """No-op (W&B marks the run as preemptible)."""


def _base_parameters(cache=[]):
    """The parameter names of the core Run's constructor (``mode``/``settings`` are passed on
    when it takes them)."""
    if not cache:
        import inspect

        cache.append(frozenset(inspect.signature(_run.RunWriter.__init__).parameters))
    return cache[0]


def _base_url():
    return (_env.get(_env.URL) or DEFAULT_URL).rstrip("/")


def _alert_level(level):
    if level is None:
        return "INFO"
    value = getattr(level, "value", level)
    value = str(value).upper()
    if value == "WARNING":
        value = "WARN"
    if value not in ALERT_LEVELS:
        raise ValueError("alert(level=%r): use INFO, WARN or ERROR" % (level,))
    return value


def _seconds(duration):
    if duration is None:
        return None
    total = getattr(duration, "total_seconds", None)
    value = float(total() if callable(total) else duration)
    if value != value or value < 0:
        raise ValueError("alert(wait_duration=%r): needs a duration >= 0" % (duration,))
    return value
