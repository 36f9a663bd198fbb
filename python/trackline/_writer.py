"""Background flushing: the only code that touches ``history.jsonl`` after ``init()``.

``log()`` never does I/O: it serialises the row and appends the line to an in-memory list. A daemon
thread (:class:`Flusher`) wakes every ``FLUSH_INTERVAL`` seconds -- 0.1 s by default, overridden by
the environment variable ``TRACKLINE_FLUSH_INTERVAL`` -- and hands everything buffered to the run's
:class:`~._files.AppendFile`, which appends it with ``os.write`` calls of whole lines (one per 1,000
lines, so a backlog is never copied whole) to a descriptor opened with ``O_APPEND``. It wakes early
when many lines are waiting, and once more at ``finish()``.

Durability choice: periodic flushes do not ``fsync`` -- once written, lines live in the OS page
cache and survive the death of the process (crash, ``kill -9``); only a machine crash can lose the
last few seconds. ``finish()`` fsyncs. Small JSON files are always fsynced (atomic replace).

The rest of a run's background work (system metrics, console capture, remote upload) is started by
:mod:`._extras` and runs as tasks of this flusher's cycle.
"""

import threading
import time

from . import _env
from ._errors import warn

#: Default seconds between two flushes of buffered history lines: short enough that a logged
#: point reaches a live dashboard within ~0.2 s, long enough to batch many log() calls per write.
FLUSH_INTERVAL = 0.1

#: Flush intervals between two periodic rewrites of summary.json (2 s by default): temp + fsync +
#: rename is costly, and history lines are what a live chart needs. Always written at finish.
SUMMARY_EVERY_FLUSHES = 20

#: Seconds between two rewrites of run.json that move ``heartbeat_at`` forward.
HEARTBEAT_INTERVAL = 10.0


def flush_interval():
    """``$TRACKLINE_FLUSH_INTERVAL`` if it is a positive number, else FLUSH_INTERVAL."""
    raw = _env.get(_env.FLUSH_INTERVAL)
    if raw:
        try:
            value = float(raw)
            if value > 0 and value == value and value != float("inf"):
                return value
        except ValueError:
            pass
        warn("ignoring TRACKLINE_FLUSH_INTERVAL=%r (not a positive number of seconds)" % raw, 3)
    return FLUSH_INTERVAL


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
