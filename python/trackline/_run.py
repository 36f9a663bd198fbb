"""The run writer (:class:`RunWriter`): one run directory, its metadata, config, summary and history
(W&B semantics). :class:`trackline.Run` (_wandb_run.py) adds the rest of W&B's run API on top.

Hot path: :meth:`RunWriter.log` flattens and normalises the data, serialises the row (``json.dumps``
of the data behind a formatted ``_step``/``_timestamp``/``_runtime`` prefix) and appends the line
to an in-memory list under a lock -- no system call. The :class:`Flusher` thread
appends buffered lines to ``history.jsonl`` and rewrites ``summary.json`` (if it changed) every
flush interval, and rewrites ``run.json`` every HEARTBEAT_INTERVAL seconds to move
``heartbeat_at``. ``run.json`` and ``config.json`` are rewritten (atomically) right away when the
script changes them.
"""

import os
import sys
import threading
import time
from collections.abc import Mapping

from . import _env, _extras, _meta, _writer
from ._config import Config, as_mapping
from ._errors import warn
from ._files import AppendFile, atomic_write_json, read_json, repair_history
from ._names import check_project, check_run_id, default_name, new_run_id
from ._summary import Summary
from ._values import dumps_row, flatten, is_flat_plain

FORMAT_VERSION = 1

#: Buffered lines above which log() wakes the flusher early, bounding memory.
_WAKE_LINES = 10000

_dumps = dumps_row
_time = time.time

# A history line is this prefix followed by the JSON of the user's data without its "{". The time
# fields are written with 6 decimals (microseconds): cheaper than shortest-repr floats.
_LINE = '{"_step": %d, "_timestamp": %.6f, "_runtime": %.6f, %s'
_LINE_EMPTY = '{"_step": %d, "_timestamp": %.6f, "_runtime": %.6f}'


class RunWriter:
    """A tracked run. Created by ``trackline.init()``; do not instantiate directly."""

    #: ``row -> row`` with the step metrics of define_metric(step_sync) filled in, once a metric
    #: has a step metric (``_metrics.Metrics.fill_steps``); called under the lock on each row.
    _step_sync = None

    def __init__(
        self, root, project, name, config, group, tags, notes, job_type, run_id, resume, client,
        on_finish=None, settings=None, mode=None,
    ):
        check_project(project)
        config = dict(as_mapping(config))  # a bad config fails before any file is written
        project_dir = os.path.join(root, project)
        os.makedirs(project_dir, exist_ok=True)
        self._dir, run_id, resumed = _make_run_dir(project_dir, run_id, resume)
        self._pid = os.getpid()
        self._lock = threading.Lock()  # hot path: pending row, step, buffered lines, summary
        self._meta_lock = threading.Lock()  # run.json
        self._flush_lock = threading.Lock()
        self._finish_lock = threading.Lock()
        self._finished = False
        self._on_finish = on_finish
        self._lines = []
        self._pending = {}
        self._resumed = resumed
        now = _time()

        old = read_json(self._path("run.json"), {}) if resumed else {}
        created = old.get("created_at")
        self._t0 = float(created) if type(created) in (int, float) else now
        self._meta = {
            "format_version": FORMAT_VERSION,
            "id": run_id,
            "name": str(name) if name is not None else old.get("name") or default_name(project_dir),
            "project": project,
            "group": group if group is not None else old.get("group"),
            "tags": _tag_list(tags) if tags is not None else old.get("tags") or [],
            "notes": notes if notes is not None else old.get("notes"),
            "job_type": job_type if job_type is not None else old.get("job_type"),
            # The sweep an agent started this run for (docs/format.md); a resumed run keeps it.
            "sweep_id": _env.first(_env.SWEEP_ID, _env.WANDB_SWEEP_ID)[1] or old.get("sweep_id"),
            "state": "running",
            "created_at": self._t0,
            "heartbeat_at": now,
            "finished_at": None,
            "exit_code": None,
            "host": _meta.hostname(),
            "command": list(sys.argv),
            "pid": self._pid,
            "client": client,
        }
        self._meta.update(_meta.collect())  # os, python, git
        self._write_meta()  # run.json first: a folder without it is not a run

        old_config = read_json(self._path("config.json"), {}) if resumed else {}
        old_config.update(config)
        self.config = Config(old_config, persist=self._write_config)
        self.config._save()

        old_summary = read_json(self._path("summary.json"), {}) if resumed else {}
        self.summary = Summary(self._lock, old_summary)
        self._summary_data = self.summary._data
        self._summary_stale = False  # history lines were written after the last summary.json
        self._summary_written_at = _time()
        self._write_summary(self.summary.as_dict())

        self._step = repair_history(self._path("history.jsonl")) + 1 if resumed else 0
        self._history = AppendFile(self._path("history.jsonl"))
        interval = _writer.flush_interval()
        self._summary_interval = interval * _writer.SUMMARY_EVERY_FLUSHES
        self._flusher = _writer.Flusher(
            lambda: self.flush(_periodic=True), self._write_meta, interval, _writer.HEARTBEAT_INTERVAL
        )
        self._extras = _extras.Extras(self, settings, mode)  # system metrics, console, remote

    # -- logging -------------------------------------------------------------------------------
    def log(self, data=None, step=None, commit=None, sync=None):
        """Log a dict of metrics as W&B does.

        Without ``step``, each call commits a row at the current step, which then increments;
        ``commit=False`` merges ``data`` into the pending row instead. With ``step``: a step lower
        than the current one is dropped with a warning; a higher one commits the pending row and
        moves to it; ``data`` is then merged and committed only if ``commit=True`` (else at the
        next step change, the next commit or finish). Nested dicts are flattened with ``/``."""
        if self._finished:
            return self._ignored("log")
        if data is None:
            data = {}  # W&B's log() with no data commits the pending row
        if type(data) is not dict or not is_flat_plain(data):
            data = self._flatten(data)
        if step is not None or commit is not None:
            return self._log_explicit(data, step, commit)
        with self._lock:
            if self._pending:
                self._pending.update(data)
                data = self._pending
                self._pending = {}
            if self._step_sync is not None:
                data = self._step_sync(data)
            t = _time()
            step = self._step
            runtime = t - self._t0
            lines = self._lines
            if data:
                lines.append(_LINE % (step, t, runtime, _dumps(data)[1:]))
            else:
                lines.append(_LINE_EMPTY % (step, t, runtime))
            summary = self._summary_data
            summary["_step"] = step
            summary["_timestamp"] = t
            summary["_runtime"] = runtime
            summary.update(data)
            self._step = step + 1
            if len(lines) >= _WAKE_LINES:
                self._flusher.wake()

    def _flatten(self, data):
        if not isinstance(data, Mapping):
            raise TypeError("log() takes a dict of metrics, not %s" % type(data).__name__)
        flat, dropped = flatten(data)
        if dropped:
            warn("ignoring logged key(s) %s: they are set by trackline" % ", ".join(dropped), 3)
        return flat

    def _log_explicit(self, data, step, commit):
        if step is not None:
            try:
                valid = int(step) == step
            except (TypeError, ValueError, OverflowError):
                valid = False
            if not valid or isinstance(step, bool):
                warn("ignoring log(step=%r): step must be an integer" % (step,), 3)
                return
            step = int(step)
        with self._lock:
            current = self._step
            dropped = step is not None and step < current
            if not dropped:
                if step is not None:
                    if step > current:
                        if self._pending:
                            self._commit_pending()
                        self._step = step
                    if commit is None:
                        commit = False
                elif commit is None:
                    commit = True
                self._pending.update(data)
                if commit:
                    self._commit_pending()
        if dropped:
            warn(
                "tried to log to step %d that is less than the current step %d; steps must be "
                "monotonically increasing, so this data will be ignored" % (step, current),
                3,
            )

    def _commit_pending(self):
        """Commit the pending row at the current step (caller holds the lock).

        The same as the end of log(), which inlines it for speed."""
        data = self._pending
        self._pending = {}
        if self._step_sync is not None:
            data = self._step_sync(data)
        t = _time()
        step = self._step
        runtime = t - self._t0
        if data:
            self._lines.append(_LINE % (step, t, runtime, _dumps(data)[1:]))
        else:
            self._lines.append(_LINE_EMPTY % (step, t, runtime))
        summary = self._summary_data
        summary["_step"] = step
        summary["_timestamp"] = t
        summary["_runtime"] = runtime
        summary.update(data)
        self._step = step + 1

    def _detach(self):
        """In a forked child: leave the parent's run alone (calls are then silently ignored)."""
        self._finished = True

    def _ignored(self, what):
        if os.getpid() == self._pid:  # a forked child silently ignores its parent's run
            warn("run %s is finished; the call to %s() is ignored" % (self.id, what), 3)

    # -- flushing ------------------------------------------------------------------------------
    def flush(self, _sync=False, _periodic=False):
        """Write buffered history lines, and summary.json if it changed.

        The flusher calls this every FLUSH_INTERVAL with ``_periodic``: then summary.json is only
        rewritten every SUMMARY_EVERY_FLUSHES intervals. An explicit call always writes it."""
        with self._flush_lock:
            now = _time()
            summary_due = (
                not _periodic or now - self._summary_written_at >= self._summary_interval
            )
            with self._lock:
                lines = self._lines
                self._lines = []
                if lines:
                    self._summary_stale = True
                summary = None
                if summary_due:
                    summary = self.summary._snapshot(force=self._summary_stale)
                    self._summary_stale = False
            ok = self._history.write_lines(lines)
            if _sync:
                self._history.sync()
            if summary is not None:
                if self._write_summary(summary):
                    self._summary_written_at = now
                else:
                    with self._lock:
                        object.__setattr__(self.summary, "_dirty", True)
            return ok

    def _path(self, name):
        return os.path.join(self._dir, name)

    def _write_meta(self, **changes):
        with self._meta_lock:
            self._meta.update(changes)
            self._meta["heartbeat_at"] = _time()
            return self._atomic("run.json", self._meta)

    def _write_config(self, data):
        self._atomic("config.json", data)

    def _write_summary(self, data):
        return self._atomic("summary.json", data)

    def _atomic(self, name, data):
        try:
            atomic_write_json(self._path(name), data)
            return True
        except OSError as exc:
            warn("cannot write %s (%s)" % (self._path(name), exc), 4)
            return False

    # -- ending --------------------------------------------------------------------------------
    def finish(self, exit_code=None, quiet=None):
        """End the run: flush everything, then mark it ``finished`` (``failed`` if ``exit_code`` is
        non-zero) in run.json. Idempotent; a no-op in a forked child process."""
        if os.getpid() != self._pid:
            return
        with self._finish_lock:
            if self._finished:
                return
            self._finished = True
        with self._lock:
            if self._pending:
                self._commit_pending()
        self._extras.stop()
        self._flusher.stop()
        self.flush(_sync=True)
        self._history.close()
        code = _exit_code(exit_code)
        self._write_meta(
            state="finished" if code == 0 else "failed", finished_at=_time(), exit_code=code
        )
        self._extras.close()  # remote mode: upload what is left (bounded wait)
        object.__setattr__(self.summary, "_on_change", self._flush_summary_now)
        if self._on_finish is not None:
            self._on_finish(self)

    def _flush_summary_now(self):
        with self._lock:
            summary = self.summary._snapshot()
        if summary is not None:
            self._write_summary(summary)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.finish()
        else:
            self.finish(exit_code=130 if issubclass(exc_type, KeyboardInterrupt) else 1)
        return False

    # -- metadata ------------------------------------------------------------------------------
    def save(self, glob_str=None, base_path=None, policy=None):
        """Without arguments, persist the run's metadata (W&B's old ``run.save()`` idiom).

        Saving files (``run.save("*.pt")``) is not supported by format 1: warns, returns []."""
        if glob_str is None:
            self._write_meta()
            return True
        warn("run.save(%r) ignored: saving files is not supported yet" % (glob_str,), 2)
        return []

    @property
    def id(self):
        return self._meta["id"]

    @property
    def name(self):
        return self._meta["name"]

    @name.setter
    def name(self, value):
        self._write_meta(name=None if value is None else str(value))

    @property
    def tags(self):
        return tuple(self._meta["tags"])

    @tags.setter
    def tags(self, value):
        self._write_meta(tags=_tag_list(value))

    @property
    def notes(self):
        return self._meta["notes"]

    @notes.setter
    def notes(self, value):
        self._write_meta(notes=None if value is None else str(value))

    @property
    def project(self):
        return self._meta["project"]

    @property
    def group(self):
        return self._meta["group"]

    @property
    def job_type(self):
        return self._meta["job_type"]

    @property
    def dir(self):
        """The run directory, ``<root>/<project>/<run_id>``."""
        return self._dir

    @property
    def step(self):
        """The step the next committed row gets."""
        return self._step

    @property
    def start_time(self):
        return self._t0

    @property
    def resumed(self):
        return self._resumed

    @property
    def state(self):
        return self._meta["state"]

    def __repr__(self):
        return "<trackline.Run %s/%s name=%r state=%s>" % (
            self.project, self.id, self.name, self.state,
        )


def _make_run_dir(project_dir, run_id, resume):
    """Create (or find, when resuming) the run folder; return (path, run_id, resumed)."""
    if run_id is None:
        if resume not in (None, False, "allow", "never"):
            warn("resume=%r needs an explicit id=...; starting a new run" % (resume,), 4)
        while True:
            run_id = new_run_id()
            path = os.path.join(project_dir, run_id)
            try:
                os.mkdir(path)
                return path, run_id, False
            except FileExistsError:
                continue
    check_run_id(run_id)
    path = os.path.join(project_dir, run_id)
    exists = os.path.isfile(os.path.join(path, "run.json"))
    if exists and resume == "never":
        raise ValueError("run %r already exists in %s (resume='never')" % (run_id, project_dir))
    if not exists and resume in (True, "must"):
        raise ValueError("cannot resume run %r: not found in %s" % (run_id, project_dir))
    os.makedirs(path, exist_ok=True)
    return path, run_id, exists


def _tag_list(tags):
    if tags is None:
        return []
    if isinstance(tags, str):
        return [tags]
    return [str(t) for t in tags]


def _exit_code(code):
    if code is None:
        return 0
    if isinstance(code, bool):
        return int(code)
    if isinstance(code, int):
        return code
    return 1
