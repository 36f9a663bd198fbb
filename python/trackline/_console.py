"""Console capture: what the script prints to ``sys.stdout``/``sys.stderr`` is tee'd to
``<run>/console.log``, one text line per output line (docs/format.md)::

    2026-11-29T16:40:01.123Z stdout epoch 1 done
    2026-11-29T16:40:01.130Z stderr Traceback (most recent call last):

UTC timestamp (milliseconds) of the ``write`` that began the line, one space, the stream name
(``stdout`` or ``stderr``), one space, the text without its newline. A carriage return (a progress
bar redrawing itself) keeps only what a terminal would finally show: the text after the last ``\\r``.

:class:`Capture` replaces ``sys.stdout`` and ``sys.stderr`` with :class:`Tee` objects. A tee writes
through to the original stream first -- the user sees exactly what they saw before -- then appends
``(time, stream, text)`` to an in-memory queue: no system call, no formatting, no lock. The writer's flush
cycle (every 0.5 s) calls :meth:`Capture.flush`, which assembles and appends the lines to
``console.log`` in one ``write``. ``isatty()``, ``fileno()``, ``encoding``, ``flush()`` and every
other attribute are those of the original stream. :meth:`Capture.stop` puts the original streams
back (if nobody replaced them meanwhile) and writes what is left, partial last lines included.

Only Python-level text writes are seen: output of subprocesses, of C extensions writing to file
descriptor 1/2 directly, of ``sys.stdout.buffer`` and of handlers that grabbed ``sys.stderr`` before
``init()`` (a ``logging`` handler set up earlier, say) is not captured.
"""

import os
import sys
import threading
import time
from collections import deque

from ._files import AppendFile

#: A partial line longer than this many characters is written out as a line of its own.
MAX_PARTIAL = 64 * 1024

#: Buffered writes above which the flush cycle is woken early, bounding memory.
WAKE_CHUNKS = 10000

_STREAMS = ("stdout", "stderr")

_active = []  # the Capture objects of this process (one in practice)
_fork_hook = False


def _after_fork_in_child():
    for capture in _active:
        capture._enabled = False  # a forked child's output is not the run's
        capture._chunks.clear()


class Tee:
    """Stands for ``sys.stdout``/``sys.stderr``: writes through, then records the text."""

    def __init__(self, stream, index, capture):
        self._stream = stream
        self._index = index
        self._capture = capture

    def write(self, s):
        n = self._stream.write(s)
        capture = self._capture
        if capture._enabled and s:
            if type(s) is not str:
                s = str(s)
            chunks = capture._chunks
            chunks.append((time.time(), self._index, s))  # deque.append: atomic, no lock
            if len(chunks) >= WAKE_CHUNKS and capture._wake is not None:
                capture._wake()
        return n

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        return self._stream.flush()

    def isatty(self):
        return self._stream.isatty()

    def fileno(self):
        return self._stream.fileno()

    @property
    def encoding(self):
        return self._stream.encoding

    @property
    def errors(self):
        return self._stream.errors

    def __getattr__(self, name):
        return getattr(self._stream, name)

    def __repr__(self):
        return "<trackline tee of %r>" % (self._stream,)


class Capture:
    """Tees ``sys.stdout`` and ``sys.stderr`` into ``path`` until :meth:`stop`."""

    def __init__(self, path, wake=None):
        global _fork_hook
        self._file = AppendFile(path)
        self._flush_lock = threading.Lock()
        self._chunks = deque()  # (time, stream index, text) of each write, oldest first
        self._partial = ["", ""]  # per stream: text of the line being written
        self._partial_t = [0.0, 0.0]  # per stream: when it began
        self._wake = wake
        self._written = False
        self._enabled = True
        self._prefix_second = None
        self._prefix = ""
        self._tees = (Tee(sys.stdout, 0, self), Tee(sys.stderr, 1, self))
        self._originals = (sys.stdout, sys.stderr)
        if not _fork_hook and hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_after_fork_in_child)
            _fork_hook = True
        _active.append(self)
        if sys.stdout is not None:
            sys.stdout = self._tees[0]
        if sys.stderr is not None:
            sys.stderr = self._tees[1]

    def flush(self, final=False):
        """Append the complete lines buffered so far (all of them, partial ones too, if final)."""
        with self._flush_lock:
            pending = self._chunks
            chunks = [pending.popleft() for _ in range(len(pending))]
            out = []
            partial = self._partial
            partial_t = self._partial_t
            for t, index, text in chunks:
                if not partial[index]:
                    partial_t[index] = t
                text = partial[index] + text
                if "\n" in text:
                    lines = text.split("\n")
                    text = lines.pop()
                    for line in lines:
                        out.append(self._line(partial_t[index], index, line))
                        partial_t[index] = t
                if len(text) > MAX_PARTIAL:
                    out.append(self._line(partial_t[index], index, text))
                    text = ""
                partial[index] = text
            if final:
                for index in (0, 1):
                    if partial[index]:
                        out.append(self._line(partial_t[index], index, partial[index]))
                        partial[index] = ""
            if out:
                data = "".join(out).encode("utf-8", "backslashreplace")
                self._file.write_bytes(data)
                self._written = True
            return True

    def _line(self, t, index, text):
        if "\r" in text:
            text = _terminal_view(text)
        second = int(t)
        if second != self._prefix_second:
            self._prefix_second = second
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        ms = int((t - second) * 1000)
        return "%s.%03dZ %s %s\n" % (self._prefix, ms, _STREAMS[index], text)

    def stop(self):
        """Put the original streams back, stop recording, and write everything left."""
        if sys.stdout is self._tees[0]:
            sys.stdout = self._originals[0]
        if sys.stderr is self._tees[1]:
            sys.stderr = self._originals[1]
        self._enabled = False  # tees kept by someone else still write through, unrecorded
        try:
            self.flush(final=True)
        finally:
            if self in _active:
                _active.remove(self)
            if self._written:  # finish() fsyncs what the run wrote; an empty file needs no sync
                self._file.sync()
            self._file.close()


def _terminal_view(text):
    """What a terminal shows of a line containing carriage returns: the last non-empty segment."""
    for segment in reversed(text.split("\r")):
        if segment:
            return segment
    return ""
