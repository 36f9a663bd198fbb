"""Background flushing: the only code that touches ``history.jsonl`` after ``init()``.

``log()`` never does I/O: it serialises the row and appends the line to an in-memory list. A daemon
thread (:class:`Flusher`) wakes every ``FLUSH_INTERVAL`` seconds -- 0.5 s by default, overridden by
the environment variable ``TRACKLINE_FLUSH_INTERVAL`` -- and hands everything buffered to
:class:`HistoryFile`, which appends it with a single ``os.write`` of whole lines to a descriptor
opened with ``O_APPEND``. It wakes early when many lines are waiting, and once more at ``finish()``.

Durability choice: periodic flushes do not ``fsync`` -- once written, lines live in the OS page
cache and survive the death of the process (crash, ``kill -9``); only a machine crash can lose the
last few seconds. ``finish()`` fsyncs. Small JSON files are always fsynced (atomic replace).
"""

import os
import threading
import time

from ._errors import warn
from ._files import write_all

#: Default seconds between two flushes of buffered history lines.
FLUSH_INTERVAL = 0.5

#: Seconds between two rewrites of run.json that move ``heartbeat_at`` forward.
HEARTBEAT_INTERVAL = 10.0

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


class HistoryFile:
    """Append-only writer of ``history.jsonl`` that only ever writes whole lines.

    A failed or short write keeps the unwritten bytes and retries them first on the next call, so
    every line reaches the file exactly once and lines are never interleaved."""

    def __init__(self, path):
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _O_BINARY, 0o644)
        self._unwritten = b""
        self._warned = False

    def write_lines(self, lines):
        """Append ``lines`` (str without newlines); return False if some bytes are still unwritten."""
        data = self._unwritten
        if lines:
            data += ("\n".join(lines) + "\n").encode("utf-8")
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
        self._thread = threading.Thread(target=self._loop, name="trackline-flusher", daemon=True)
        self._thread.start()

    def wake(self):
        """Flush soon rather than at the next tick."""
        self._wake.set()

    def stop(self):
        """Stop the thread and wait for it; the caller does the final flush."""
        self._stopping = True
        self._wake.set()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def _loop(self):
        next_heartbeat = time.monotonic() + self._heartbeat_interval
        while True:
            self._wake.wait(self._interval)
            self._wake.clear()
            if self._stopping:
                return
            try:
                self._flush()
                if time.monotonic() >= next_heartbeat:
                    next_heartbeat = time.monotonic() + self._heartbeat_interval
                    self._heartbeat()
            except Exception as exc:  # never let the thread die silently
                warn("background flush failed: %r" % (exc,), 1)
