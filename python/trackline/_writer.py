"""Background flushing: the only code that touches ``history.jsonl`` after ``init()``.

``log()`` never does I/O: it serialises the row and appends the line to an in-memory list. A daemon
thread (:class:`Flusher`) wakes every ``FLUSH_INTERVAL`` seconds -- 0.1 s by default, overridden by
the environment variable ``TRACKLINE_FLUSH_INTERVAL`` -- and hands everything buffered to
:class:`HistoryFile`, which appends it with ``os.write`` calls of whole lines (one per 1,000 lines,
so a backlog is never copied whole) to a descriptor opened with ``O_APPEND``. It wakes early when
many lines are waiting, and once more at ``finish()``.

Durability choice: periodic flushes do not ``fsync`` -- once written, lines live in the OS page
cache and survive the death of the process (crash, ``kill -9``); only a machine crash can lose the
last few seconds. ``finish()`` fsyncs. Small JSON files are always fsynced (atomic replace).

:class:`Extras` starts and stops the rest of a run's background work, each part in its own module
and each optional: system metrics (:mod:`._system`), console capture (:mod:`._console`, flushed in
the flusher's cycle) and streaming to a remote daemon (:mod:`._remote`, woken by the flusher's cycle).
Those modules are imported only when used, so ``import trackline`` stays light.
"""

import os
import threading
import time

from ._errors import warn
from ._files import write_all

#: Default seconds between two flushes of buffered history lines: short enough that a logged
#: point reaches a live dashboard within ~0.2 s, long enough to batch many log() calls per write.
FLUSH_INTERVAL = 0.1

#: Flush intervals between two periodic rewrites of summary.json (2 s by default): temp + fsync +
#: rename is costly, and history lines are what a live chart needs. Always written at finish.
SUMMARY_EVERY_FLUSHES = 20

#: Seconds between two rewrites of run.json that move ``heartbeat_at`` forward.
HEARTBEAT_INTERVAL = 10.0

#: Lines encoded and written per ``write`` when a flush has many.
WRITE_LINES = 1000

_O_BINARY = getattr(os, "O_BINARY", 0)


def flush_interval():
    """``$TRACKLINE_FLUSH_INTERVAL`` if it is a positive number, else FLUSH_INTERVAL."""
    raw = os.environ.get("TRACKLINE_FLUSH_INTERVAL")
    if raw:
        try:
            value = float(raw)
            if value > 0 and value == value and value != float("inf"):
                return value
        except ValueError:
            pass
        warn("ignoring TRACKLINE_FLUSH_INTERVAL=%r (not a positive number of seconds)" % raw, 3)
    return FLUSH_INTERVAL


class AppendFile:
    """Append-only writer of a ``*.jsonl`` file (or ``console.log``) that only writes whole lines.

    A failed or short write keeps the unwritten bytes and retries them first on the next call, so
    every line reaches the file exactly once and lines are never interleaved."""

    def __init__(self, path):
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _O_BINARY, 0o644)
        self._unwritten = b""
        self._warned = False

    def write_lines(self, lines):
        """Append ``lines`` (str without newlines); return False if some bytes are still unwritten.

        Lines are encoded and written :data:`WRITE_LINES` at a time, so a large backlog is never
        copied whole (peak memory stays at the buffered lines plus one chunk)."""
        n = len(lines)
        if n <= WRITE_LINES:
            return self.write_bytes("\n".join(lines + [""]).encode("utf-8") if n else b"")
        ok = True
        for i in range(0, n, WRITE_LINES):
            chunk = lines[i:i + WRITE_LINES]
            chunk.append("")
            ok = self.write_bytes("\n".join(chunk).encode("utf-8")) and ok
        return ok

    def write_bytes(self, data):
        """Append ``data`` (whole lines, UTF-8); return False if some bytes are still unwritten."""
        data = self._unwritten + data if self._unwritten else data
        if not data:
            return True
        if self._fd is None:
            return False
        try:
            write_all(self._fd, data)
        except OSError as exc:
            self._unwritten = data[getattr(exc, "written", 0):]
            if not self._warned:
                self._warned = True
                warn("cannot write %s (%s); will retry" % (self.path, exc), 1)
            return False
        self._unwritten = b""
        return True

    def sync(self):
        if self._fd is not None:
            try:
                os.fsync(self._fd)
            except OSError:
                pass

    def close(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


#: The history writer is an AppendFile (name kept for _run.py).
HistoryFile = AppendFile


class Flusher:
    """Daemon thread calling ``flush()`` every ``interval`` seconds and ``heartbeat()`` every
    HEARTBEAT_INTERVAL seconds until :meth:`stop`."""

    def __init__(self, flush, heartbeat, interval, heartbeat_interval=None):
        self._flush = flush
        self._heartbeat = heartbeat
        self._interval = interval
        self._heartbeat_interval = heartbeat_interval or HEARTBEAT_INTERVAL
        self._wake = threading.Event()
        self._stopping = False
        self._tasks = ()  # called after each flush: console capture, remote uploader
        self._thread = threading.Thread(target=self._loop, name="trackline-flusher", daemon=True)
        self._thread.start()

    def wake(self):
        """Flush soon rather than at the next tick."""
        self._wake.set()

    def add_task(self, task):
        """Call ``task()`` after each periodic flush (in the flusher thread)."""
        self._tasks = self._tasks + (task,)

    def remove_task(self, task):
        self._tasks = tuple(t for t in self._tasks if t is not task)

    def stop(self):
        """Stop the thread and wait for it; the caller does the final flush."""
        self._stopping = True
        self._wake.set()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def _loop(self):
        # Ticks on a fixed cadence (start + k * interval): the time a flush takes is not added to
        # the period. A flush that overruns is followed by the next one at once, and missed ticks
        # are skipped rather than caught up in a burst.
        now = time.monotonic()
        next_heartbeat = now + self._heartbeat_interval
        next_tick = now + self._interval
        while True:
            self._wake.wait(max(0.0, next_tick - time.monotonic()))
            self._wake.clear()
            if self._stopping:
                return
            now = time.monotonic()
            if now >= next_tick:
                next_tick += self._interval
                if next_tick <= now:
                    next_tick = now + self._interval
            try:
                self._flush()
                if time.monotonic() >= next_heartbeat:
                    next_heartbeat = time.monotonic() + self._heartbeat_interval
                    self._heartbeat()
            except Exception as exc:  # never let the thread die silently
                warn("background flush failed: %r" % (exc,), 1)
            for task in self._tasks:
                try:
                    task()
                except Exception as exc:
                    warn("background task %r failed: %r" % (task, exc), 1)


# -- the rest of a run's background work -------------------------------------------------------
_TRUE = ("1", "true", "yes", "on")


def setting(settings, *names):
    """The first of ``names`` set in ``settings`` (a dict, or an object such as wandb.Settings)."""
    if settings is None:
        return None
    for name in names:
        if isinstance(settings, dict):
            value = settings.get(name)
        else:
            value = getattr(settings, name, None)
        if value is not None:
            return value
    return None


def _positive(value, what):
    try:
        value = float(value)
    except (TypeError, ValueError):
        value = -1.0
    if value > 0 and value != float("inf"):
        return value
    warn("ignoring %s (not a positive number of seconds)" % what, 5)
    return None


def _truthy(value):
    if isinstance(value, str):
        return value.strip().lower() in _TRUE
    return bool(value)


def system_interval(settings):
    """Seconds between system samples, or None when system metrics are off."""
    off = setting(settings, "_disable_stats", "x_disable_stats", "disable_stats")
    if off is not None:
        if _truthy(off):
            return None
    elif _truthy(os.environ.get("TRACKLINE_DISABLE_SYSTEM", "")):
        return None
    from ._system import SYSTEM_INTERVAL

    value = setting(settings, "system_interval", "_stats_sample_rate_seconds",
                    "x_stats_sampling_interval")
    if value is not None:
        return _positive(value, "settings system_interval=%r" % (value,)) or SYSTEM_INTERVAL
    raw = os.environ.get("TRACKLINE_SYSTEM_INTERVAL")
    if raw:
        return _positive(raw, "TRACKLINE_SYSTEM_INTERVAL=%r" % raw) or SYSTEM_INTERVAL
    return SYSTEM_INTERVAL


def console_enabled(settings):
    value = setting(settings, "console")
    if value is None:
        value = os.environ.get("TRACKLINE_CONSOLE", "")
    return str(value).strip().lower() not in ("off", "0", "false", "no")


def remote_target(settings, mode):
    """``(url, api_key)`` when the run streams to a daemon, else None.

    Online when ``mode="online"`` (init argument, else settings ``mode``, else $TRACKLINE_MODE), or
    when no mode is given and $TRACKLINE_URL (settings ``base_url``) is set."""
    if mode is None:
        mode = setting(settings, "mode") or os.environ.get("TRACKLINE_MODE") or None
    url = setting(settings, "base_url", "url") or os.environ.get("TRACKLINE_URL") or None
    mode = None if mode is None else str(mode).strip().lower()
    if mode in ("offline", "disabled", "dryrun"):
        return None
    if mode == "online" and not url:
        warn("mode='online' needs TRACKLINE_URL=http://host:port; this run is written locally only", 5)
        return None
    if not url:
        return None
    key = setting(settings, "api_key") or os.environ.get("TRACKLINE_API_KEY") or None
    return str(url), key


class Extras:
    """A run's optional background work: system metrics, console capture, remote upload.

    Started at the end of Run.__init__; :meth:`stop` is called by finish() before the final flush
    (stops sampling, puts sys.stdout/sys.stderr back), :meth:`close` after the final run.json
    (uploads what is left, for a bounded time). A part that fails to start warns and stays off."""

    def __init__(self, run, settings=None, mode=None):
        self._run = run
        self._flusher = run._flusher
        self.system = None
        self.console = None
        self.uploader = None
        interval = system_interval(settings)
        if interval is not None:
            try:
                from ._system import SystemMonitor

                self.system = SystemMonitor(
                    os.path.join(run.dir, "system.jsonl"), run.start_time, interval
                )
            except Exception as exc:
                warn("system metrics are off: %r" % (exc,), 4)
        if console_enabled(settings):
            try:
                from ._console import Capture

                self.console = Capture(os.path.join(run.dir, "console.log"), self._flusher.wake)
                self._flusher.add_task(self.console.flush)
            except Exception as exc:
                warn("console capture is off: %r" % (exc,), 4)
        target = remote_target(settings, mode)
        if target is not None:
            try:
                from ._remote import Uploader

                self.uploader = Uploader(
                    run.dir, run.project, run.id, target[0], target[1],
                )
                self._flusher.add_task(self.uploader.wake)
            except Exception as exc:
                warn("remote upload is off: %r" % (exc,), 4)

    def stop(self):
        """Before the final flush: stop sampling and capturing (idempotent)."""
        if self.system is not None:
            self.system.stop()
            self.system = None
        if self.console is not None:
            self._flusher.remove_task(self.console.flush)
            try:
                self.console.stop()
            except Exception as exc:
                warn("could not write console.log: %r" % (exc,), 4)
            self.console = None

    def close(self):
        """After the final run.json: upload what is left (bounded wait), report what was not."""
        self.stop()
        if self.uploader is not None:
            self._flusher.remove_task(self.uploader.wake)
            self.uploader.finish()
            self.uploader = None
