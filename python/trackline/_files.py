"""File primitives of the run-directory format (docs/format.md).

- :func:`atomic_write_json` replaces a small JSON file atomically: write ``.<name>.tmp-<random>`` in
  the same folder, fsync it, rename it over the target (:func:`atomic_replace`). A reader never
  sees a partial file.
- :func:`write_all` writes a byte string to a file descriptor, retrying short writes.
- :class:`AppendFile` appends whole lines to ``history.jsonl``, ``system.jsonl``, ``console.log``.
- :func:`read_json` and :func:`repair_history` read a run back when it is resumed.
"""

import json
import os

from ._errors import warn
from ._values import to_json

_O_BINARY = getattr(os, "O_BINARY", 0)  # Windows only

#: Lines encoded and written per ``write`` when an :class:`AppendFile` is handed many.
WRITE_LINES = 1000


def encode_json(obj):
    """Pretty UTF-8 JSON of ``obj`` (normalised with to_json; NaN/Infinity written as literals)."""
    obj = to_json(obj)
    try:
        text = json.dumps(obj, indent=2, ensure_ascii=False)
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: fall back to \u escapes
        return (json.dumps(obj, indent=2) + "\n").encode("ascii")


def write_all(fd, data):
    """Write all of ``data`` to ``fd``; returns nothing, raises OSError on failure.

    On failure, the exception carries ``written`` (bytes written before the error)."""
    view = memoryview(data)
    written = 0
    try:
        while written < len(view):
            written += os.write(fd, view[written:])
    except OSError as exc:
        exc.written = written
        raise


def atomic_replace(path, fill):
    """Replace the file at ``path`` atomically: ``fill(tmp)`` writes the new content to a fresh
    ``.<name>.tmp-<random>`` path in the same folder, which is then renamed over ``path``. On any
    failure the temporary file is removed and the old file is left as it was."""
    directory, name = os.path.split(path)
    tmp = os.path.join(directory, ".%s.tmp-%s" % (name, os.urandom(4).hex()))
    try:
        fill(tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_json(path, obj):
    """Replace the file at ``path`` with the JSON of ``obj``, atomically (temp + fsync + rename)."""
    data = encode_json(obj)

    def fill(tmp):
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o644)
        try:
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)

    atomic_replace(path, fill)


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


def read_json(path, default=None):
    """The JSON object in ``path``, or ``default`` if the file is missing or not a JSON object."""
    try:
        with open(path, "rb") as f:
            value = json.loads(f.read().decode("utf-8"))
    except (OSError, ValueError):
        return default
    return value if isinstance(value, dict) else default


def repair_history(path):
    """Prepare ``history.jsonl`` for appending again; return its last ``_step`` (-1 if none).

    Bytes after the last newline (a line torn by a crash) are truncated away. The file is read
    backwards in blocks, so resuming a long run does not read its whole history."""
    try:
        f = open(path, "r+b")
    except FileNotFoundError:
        return -1
    with f:
        size = f.seek(0, os.SEEK_END)
        pos = size
        buf = b""  # bytes from pos on, ending with a newline once `end` is known
        end = None  # offset just after the last newline: the end of the committed lines
        last_step = -1
        while pos > 0:
            n = min(65536, pos)
            pos -= n
            f.seek(pos)
            buf = f.read(n) + buf
            if end is None:
                nl = buf.rfind(b"\n")
                if nl < 0:
                    continue
                end = pos + nl + 1
                buf = buf[: nl + 1]
            head, body = (b"", buf) if pos == 0 else buf.split(b"\n", 1)
            for raw in reversed(body.split(b"\n")):
                step = _step_of(raw)
                if step is not None:
                    last_step = step
                    break
            if last_step >= 0:
                break
            buf = head + b"\n"
        end = end or 0
        if end < size:
            f.truncate(end)
        return last_step


def _step_of(raw):
    raw = raw.strip()
    if not raw:
        return None
    try:
        row = json.loads(raw.decode("utf-8"))
    except ValueError:
        return None
    step = row.get("_step") if isinstance(row, dict) else None
    return step if type(step) is int and step >= 0 else None
