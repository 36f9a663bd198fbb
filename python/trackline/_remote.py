"""Remote mode: stream a run to a Trackline daemon (``POST /api/ingest/v1/batch``, docs/api.md).

The run is written locally exactly as in offline mode -- the local run directory is the spool --
and an :class:`Uploader` thread tails it: it sends ``run.json``, ``config.json``,
``summary.json`` and ``metrics.json`` whenever their bytes change, and the new whole lines of
``history.jsonl``, ``system.jsonl``, ``console.log``, ``alerts.jsonl`` and ``artifacts.jsonl``
(artifact lineage) with the byte offset they start at in the local file. Every batch is
idempotent on the daemon's side (an append at an offset the file already covers is not written
twice), so a batch whose answer was lost is simply sent again; nothing is ever duplicated or
dropped, whatever dies when. Saved files and media (``files/``, ``media/``) follow in 1 MiB
chunks (``POST /api/ingest/v1/file``, idempotent by offset the same way), at most
:data:`FILE_BUDGET` bytes per cycle so that metrics keep flowing while a large checkpoint
uploads. A file replaced after it was uploaded is sent again from 0 and the daemon keeps it if it
only grew; a file whose content changed otherwise stays local (message).

- The thread is woken by the writer's flush cycle (every 0.5 s); ``log()`` never waits for it.
- Batches carry at most :data:`CHUNK` bytes of appended data (whole lines) and stay under the
  daemon's 1 MiB body cap once JSON-encoded; a backlog is sent as consecutive batches.
- Unreachable daemon, timeout or 5xx: retried with exponential backoff from 0.25 s up to
  :data:`MAX_BACKOFF` (5 s); one line on stderr the first time.
- ``429`` (rate limited), ``503`` (unavailable) and ``507`` (the daemon's disk is full): the daemon
  says how long to wait in ``Retry-After``; the thread waits that long (bounded to
  :data:`MIN_RETRY_AFTER`..:data:`MAX_RETRY_AFTER` seconds; exponential backoff from 1 s when the
  header is missing), keeps everything in the local run directory meanwhile, says once per kind of
  answer what happened, and resumes where the daemon's copy ends: nothing is lost.
- ``409 offset_mismatch``: the daemon's ``lengths`` say where its copy ends; sending resumes there
  (this is also how a resumed run, or a daemon restarted from an older disk state, catches up).
- ``401`` (wrong or missing token), ``403``, ``404`` (no ingest endpoint), ``400``, ``413``: one
  clear line on stderr, and the run stays local only.
- At ``finish()`` the thread gets up to ``$TRACKLINE_UPLOAD_TIMEOUT`` seconds (default
  :data:`FINISH_TIMEOUT`) to send what is left; if it cannot, one line says how to upload the run
  later: ``trackline sync <run dir>``.

Only the standard library is used: a plain HTTP/1.1 request over a socket for ``http://`` URLs,
``urllib.request`` for ``https://`` or when a proxy is configured (imported by the thread, never
at ``import trackline``).
"""

import json
import os
import sys
import threading
import time

from . import _env

#: Files replaced whole, sent when their bytes change.
SMALL_FILES = ("run.json", "config.json", "summary.json", "metrics.json")

#: Append-only files, sent from the daemon's length on.
APPEND_FILES = ("history.jsonl", "system.jsonl", "console.log", "alerts.jsonl",
                "artifacts.jsonl")

#: Folders whose files (saved files, media) go through ``POST /api/ingest/v1/file``.
UPLOAD_DIRS = ("files", "media")

#: Bytes of one file chunk (the daemon's cap is 1 MiB).
FILE_CHUNK = 1 << 20

#: Bytes of files sent per cycle before history gets its turn again.
FILE_BUDGET = 8 << 20

#: Seconds between two scans of files/ and media/ (every cycle when finishing).
SCAN_INTERVAL = 2.0

#: The daemon's request body cap.
MAX_BODY = 1 << 20

#: Bytes of appended data per batch (before JSON encoding, which adds escapes: ~10% for history
#: rows; a batch that comes out over MAX_BODY is rebuilt with half as much). A line longer than
#: this cannot be uploaded: its file is then kept local only (with a message).
CHUNK = 768 * 1024

#: Seconds at most between two retries of an unreachable daemon.
MAX_BACKOFF = 5.0
FIRST_BACKOFF = 0.25

#: Bounds of a wait the daemon asks for with ``Retry-After`` (429, 503, 507).
MIN_RETRY_AFTER = 1.0
MAX_RETRY_AFTER = 60.0

#: Answers that mean "not now, try again after Retry-After seconds".
WAIT_STATUSES = {
    429: "asks clients to slow down",
    503: "is unavailable",
    507: "is out of disk space",
}

#: Seconds finish() waits for the upload to complete, unless $TRACKLINE_UPLOAD_TIMEOUT says.
FINISH_TIMEOUT = 10.0

#: Seconds one request may take.
REQUEST_TIMEOUT = 15.0

#: Seconds between two looks at the files when nothing wakes the thread.
POLL = 1.0

_dumps = json.dumps


def finish_timeout():
    raw = _env.get(_env.UPLOAD_TIMEOUT)
    if raw:
        try:
            value = float(raw)
            if value >= 0 and value != float("inf"):
                return value
        except ValueError:
            pass
        _say("ignoring TRACKLINE_UPLOAD_TIMEOUT=%r (not a number of seconds)" % raw)
    return FINISH_TIMEOUT


def _say(message):
    """One line on stderr (through console capture if it is on: it belongs to the run's log)."""
    try:
        sys.stderr.write("trackline: %s\n" % message)
        sys.stderr.flush()
    except Exception:
        pass


class _Retry(Exception):
    """The daemon could not be reached or failed; try again later."""


class _Fatal(Exception):
    """The daemon refused the upload for good (bad token, no endpoint, ...)."""


class _Wait(Exception):
    """The daemon asked to be left alone for a while (429, 503, 507 with ``Retry-After``)."""

    def __init__(self, status, code, seconds):
        Exception.__init__(self, "HTTP %d %s" % (status, code))
        self.status, self.code, self.seconds = status, code, seconds


def retry_after_seconds(value):
    """Seconds to wait for a ``Retry-After`` header value (delta-seconds or an HTTP date), bounded
    to MIN_RETRY_AFTER..MAX_RETRY_AFTER; None when it is missing or unreadable."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            from email.utils import parsedate_to_datetime

            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if seconds != seconds:  # NaN
        return None
    return min(MAX_RETRY_AFTER, max(MIN_RETRY_AFTER, seconds))


class Uploader:
    """Tails the run folder ``run_dir`` and streams it to the daemon at ``url``."""

    def __init__(self, run_dir, project, run_id, url, api_key=None, start=True):
        self.run_dir = run_dir
        self.url = url.rstrip("/")
        self.endpoint = self.url + "/api/ingest/v1/batch"
        self.files_endpoint = self.url + "/api/ingest/v1/file"
        self._project = project
        self._run_id = run_id
        self._head = '{"project": %s, "run": %s' % (_dumps(project), _dumps(run_id))
        self._api_key = api_key
        self._acked = dict.fromkeys(APPEND_FILES, 0)  # bytes of each file the daemon has
        self._files_acked = {}  # name -> bytes of a small file the daemon has
        self._skipped = set()  # files that cannot be uploaded (see _skip)
        self._uploads = {}  # "files/..." -> [daemon's length or None if unknown, (ino, size, mtime)]
        self._next_scan = 0.0
        self._files_endpoint_ok = True
        self.file_chunks = 0
        self._conflicts = 0
        self._wake = threading.Event()
        self._drained = threading.Event()
        self._finishing = False
        self._stopped = False
        self._deadline = None
        self._next_try = 0.0
        self._not_before = 0.0  # the end of a wait the daemon asked for (Retry-After)
        self._backoff = 0.0
        self._wait_backoff = 0.0
        self._reported = False
        self._waits_told = set()  # statuses (429, 503, 507) already reported on stderr
        self.waits = []  # (status, seconds) of every wait the daemon asked for
        self._retry_after = None  # the Retry-After of the last answer, if any
        self.error = None  # why the upload stopped for good, if it did
        self.batches = 0
        self._urllib = None
        self._plain = None  # (host, port, prefix, Host header) for plain http://, False for urllib
        self._thread = None
        if start:
            self._thread = threading.Thread(target=self._loop, name="trackline-upload", daemon=True)
            self._thread.start()

    # -- control (any thread) ----------------------------------------------------------------------
    def wake(self):
        self._wake.set()

    def finish(self, timeout=None):
        """Send what is left, waiting ``timeout`` seconds at most; True if all of it arrived."""
        if timeout is None:
            timeout = finish_timeout()
        self._deadline = time.monotonic() + timeout
        self._next_try = self._not_before  # at once, unless the daemon asked us to wait
        self._finishing = True
        self._wake.set()
        try:
            done = self._drained.wait(timeout) if self._thread is not None else False
        except KeyboardInterrupt:  # Ctrl-C while waiting: stop waiting, say what is left
            done = False
            self._last_error = "interrupted"
        self._stopped = True
        self._wake.set()
        if done and self.error is None:
            return True
        if self.error is None:  # the reason was not told yet
            left = self.pending_bytes()
            _say(
                "could not upload %s to %s before the timeout (%s); the run is saved in %s: "
                "upload it later with `trackline sync %s`"
                % (_amount(left), self.url, self._last_error or "no answer", self.run_dir,
                   self.run_dir)
            )
        return False

    def pending_bytes(self):
        left = 0
        for name in APPEND_FILES:
            try:
                left += max(0, os.path.getsize(os.path.join(self.run_dir, name)) - self._acked[name])
            except OSError:
                pass
        return left

    # -- the thread --------------------------------------------------------------------------------
    _last_error = None

    def _loop(self):
        while not self._stopped:
            now = time.monotonic()
            if self._next_try > now:
                wait = self._next_try - now
                if self._deadline is not None:
                    wait = min(wait, max(0.0, self._deadline - now))
            else:
                wait = POLL
            self._wake.wait(wait)
            self._wake.clear()
            if self._stopped:
                return
            if time.monotonic() < self._next_try:
                continue  # backing off: flush-cycle wake-ups do not shorten the wait
            try:
                more = self.sync_once()
            except _Wait as exc:
                self._last_error = str(exc)
                self._wait(exc)
                continue
            except _Retry as exc:
                self._last_error = str(exc)
                self._backoff = min(MAX_BACKOFF, max(FIRST_BACKOFF, self._backoff * 2))
                self._next_try = time.monotonic() + self._backoff
                if not self._reported:
                    self._reported = True
                    _say(
                        "cannot reach %s (%s); retrying in the background, the run is kept in %s"
                        % (self.url, exc, self.run_dir)
                    )
                continue
            except _Fatal as exc:
                self.error = str(exc)
                _say(
                    "%s; the run is kept locally in %s only: upload it later with "
                    "`trackline sync %s`" % (exc, self.run_dir, self.run_dir)
                )
                self._drained.set()
                return
            except Exception as exc:  # a bug: report, keep the run local
                self.error = "upload failed: %r" % (exc,)
                _say("%s; the run is kept in %s: upload it later with `trackline sync %s`"
                     % (self.error, self.run_dir, self.run_dir))
                self._drained.set()
                return
            self._backoff = 0.0
            self._wait_backoff = 0.0
            self._next_try = 0.0
            if more:  # files left over from this call's budget: go on at once
                self._wake.set()
                continue
            if self._finishing:
                self._drained.set()
                return

    def _wait(self, exc):
        """Hold off for as long as the daemon asked; say so once per kind of answer."""
        seconds = exc.seconds
        if seconds is None:  # no Retry-After: back off exponentially from MIN_RETRY_AFTER
            seconds = min(MAX_RETRY_AFTER, max(MIN_RETRY_AFTER, self._wait_backoff * 2))
            self._wait_backoff = seconds
        self.waits.append((exc.status, seconds))
        self._next_try = self._not_before = time.monotonic() + seconds
        if exc.status not in self._waits_told:
            self._waits_told.add(exc.status)
            _say(
                "the daemon at %s %s (HTTP %d %s); waiting %.0f s as it asks, then resuming; "
                "nothing is lost, the run is kept in %s"
                % (self.url, WAIT_STATUSES[exc.status], exc.status, exc.code, seconds,
                   self.run_dir)
            )

    def sync_once(self):
        """Send batches until the daemon has everything written so far, then saved files and
        media (a bounded amount per call, so that metrics keep flowing while a large checkpoint
        uploads); raise _Retry or _Fatal. Returns True if files are left for the next call."""
        self._send_batches()
        if not self._files_endpoint_ok:
            return False
        now = time.monotonic()
        if not self._finishing and now < self._next_scan:
            return False
        self._next_scan = now + SCAN_INTERVAL
        more = self._send_files(FILE_BUDGET)
        if more:
            self._next_scan = 0.0
        return more

    def _send_batches(self):
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            body, files, appends = batch
            status, answer = self._post(self.endpoint, body)
            if status == 200:
                self.batches += 1
                self._conflicts = 0
                lengths = answer.get("lengths") if isinstance(answer, dict) else None
                for name, data in files.items():
                    self._files_acked[name] = data
                for name, (offset, size) in appends.items():
                    new = lengths.get(name) if isinstance(lengths, dict) else None
                    self._acked[name] = new if type(new) is int else offset + size
                continue
            code = _error_code(answer)
            if status == 409 and code == "offset_mismatch":
                self._resync(answer.get("lengths") if isinstance(answer, dict) else None, appends)
                continue
            message = _error_message(answer)
            if status == 400:
                # An older daemon that does not take one of the files: leave that file out.
                refused = [n for n in list(files) + list(appends) if "'%s'" % n in message]
                if refused:
                    for name in refused:
                        self._skip(name, "the daemon does not accept it (%s)" % message)
                    continue
            self._fail(status, code, message, self.endpoint)

    def _fail(self, status, code, message, endpoint):
        """Raise _Fatal or _Retry for an answer that is neither 200 nor a handled 409."""
        if status == 401:
            hint = "" if self._api_key else " (TRACKLINE_API_KEY is not set)"
            raise _Fatal(
                "the daemon at %s refused the API key%s: set TRACKLINE_API_KEY to the token in "
                "<daemon dir>/.trackline/api_key" % (self.url, hint)
            )
        if status == 404:
            raise _Fatal("%s has no remote ingest endpoint (HTTP 404: is it a Trackline "
                         "daemon of version 0.1 or later?)" % endpoint)
        if status == 403:
            raise _Fatal("the daemon at %s refused the request (403 %s: %s)"
                         % (self.url, code, message))
        if status in (400, 413):
            raise _Fatal("the daemon at %s rejected a batch (%d %s: %s)"
                         % (self.url, status, code, message))
        if status in WAIT_STATUSES:
            raise _Wait(status, code or "", retry_after_seconds(self._retry_after))
        raise _Retry("HTTP %d %s" % (status, code or message or ""))

    # -- saved files and media -----------------------------------------------------------------
    def _scan_uploads(self):
        """``{"files/a/b": (path, stat)}`` of the regular files under files/ and media/."""
        found = {}
        for top in UPLOAD_DIRS:
            stack = [(os.path.join(self.run_dir, top), top)]
            while stack:
                directory, rel = stack.pop()
                try:
                    entries = list(os.scandir(directory))
                except OSError:
                    continue
                for entry in entries:
                    if entry.name.startswith("."):
                        continue  # temp files of atomic copies, hidden files
                    sub = rel + "/" + entry.name
                    try:
                        if entry.is_dir():
                            stack.append((entry.path, sub))
                        elif entry.is_file():  # follows symlinks: the content is uploaded
                            found[sub] = (entry.path, entry.stat())
                    except OSError:
                        continue
        return found

    def _send_files(self, budget):
        """Upload new bytes of saved files and media; True if the budget ran out first."""
        for rel, (path, st) in sorted(self._scan_uploads().items()):
            if rel in self._skipped:
                continue
            sig = (st.st_ino, st.st_size, st.st_mtime_ns)
            state = self._uploads.get(rel)
            if state is None:
                state = self._uploads[rel] = [None, sig]
            elif state[1] != sig:
                if state[1][0] != sig[0]:
                    state[0] = None  # replaced (atomic copy): let the daemon compare from 0
                state[1] = sig
            offset = state[0] or 0
            size = st.st_size
            if state[0] is not None and offset >= size:
                if offset > size:
                    self._skip(rel, "it shrank after it was uploaded")
                continue
            conflicts = 0
            while True:
                n = min(FILE_CHUNK, size - offset)
                data = _read_range(path, offset, n) if n else b""
                if data is None:
                    break
                status, answer = self._post_file(rel, offset, data)
                if status == 200:
                    length = answer.get("length") if isinstance(answer, dict) else None
                    offset = state[0] = length if type(length) is int else offset + len(data)
                    self.file_chunks += 1
                    budget -= len(data)
                    if offset >= size:
                        break
                    if budget <= 0:
                        return True
                    continue
                code = _error_code(answer)
                if status == 409 and code == "offset_mismatch":
                    length = answer.get("length") if isinstance(answer, dict) else None
                    conflicts += 1
                    if type(length) is not int or length > size or conflicts > 3:
                        self._skip(rel, "the daemon has a different version of it")
                        break
                    offset = state[0] = length
                    if offset >= size:
                        break
                    continue
                if status in (400, 404, 405, 413):
                    if status in (404, 405):
                        self._files_endpoint_ok = False
                        _say("the daemon at %s does not take files and media (HTTP %d); they stay "
                             "in %s" % (self.url, status, self.run_dir))
                        return False
                    self._skip(rel, "the daemon refused it (%d %s: %s)"
                               % (status, code, _error_message(answer)))
                    break
                self._fail(status, code, _error_message(answer), self.files_endpoint)
        return False

    def _post_file(self, rel, offset, data):
        from urllib.parse import urlencode

        query = urlencode({"project": self._project, "run": self._run_id, "path": rel,
                           "offset": offset})
        return self._post(self.files_endpoint + "?" + query, data, "application/octet-stream")

    def _resync(self, lengths, appends):
        """Handle 409 offset_mismatch: continue each file from the daemon's length."""
        self._conflicts += 1
        if self._conflicts > 10:
            raise _Fatal("the daemon at %s keeps answering offset_mismatch" % self.url)
        lengths = lengths if isinstance(lengths, dict) else {}
        for name in appends:
            if type(lengths.get(name)) is int:
                self._acked[name] = lengths[name]
            elif self._conflicts > 2:  # not reported: the daemon has no such file
                self._acked[name] = 0

    # -- building batches --------------------------------------------------------------------------
    def _next_batch(self):
        """``(body, files, appends)`` of the next batch, or None when the daemon is up to date."""
        files = {}
        for name in SMALL_FILES:
            if name in self._skipped:
                continue
            data = _read(os.path.join(self.run_dir, name))
            if data is None or data == self._files_acked.get(name):
                continue
            try:
                value = json.loads(data.decode("utf-8"))
            except ValueError:
                continue  # not ours to fix; the next rewrite will be sent
            if not isinstance(value, dict):
                continue
            if len(data) > MAX_BODY // 2:
                self._skip(name, "larger than %d bytes" % (MAX_BODY // 2))
                continue
            files[name] = data
        budget = CHUNK
        for _ in range(8):
            appends = self._appends(budget)
            if not files and not appends:
                return None
            body = self._encode(files, appends)
            if len(body) <= MAX_BODY:
                return body, files, {n: (o, size) for n, (o, _, size) in appends.items()}
            budget //= 2  # escapes made it too big (many quotes or control characters)
        raise _Fatal("cannot fit a batch in %d bytes" % MAX_BODY)

    def _appends(self, budget):
        appends = {}
        for name in APPEND_FILES:
            if name in self._skipped or budget <= 0:
                continue
            path = os.path.join(self.run_dir, name)
            try:
                size = os.path.getsize(path)
            except OSError:
                continue
            offset = self._acked[name]
            if size < offset:
                self._skip(name, "the daemon's copy (%d bytes) is longer than the local file "
                                 "(%d bytes)" % (offset, size))
                continue
            if size == offset:
                continue
            data = _read_range(path, offset, min(size - offset, budget))
            if data is None:
                continue
            end = data.rfind(b"\n") + 1
            if end == 0:
                if len(data) >= CHUNK and budget == CHUNK:
                    self._skip(name, "a line longer than %d bytes at offset %d" % (CHUNK, offset))
                continue  # only a partial line yet, or no room left in this batch
            try:
                text = data[:end].decode("utf-8")
            except UnicodeDecodeError:
                self._skip(name, "it is not valid UTF-8 after offset %d" % offset)
                continue
            appends[name] = (offset, text, end)
            budget -= end
        return appends

    def _encode(self, files, appends):
        parts = [self._head]
        if files:
            parts.append(', "files": {')
            parts.append(", ".join(
                "%s: %s" % (_dumps(name), data.decode("utf-8")) for name, data in files.items()
            ))
            parts.append("}")
        if appends:
            parts.append(', "append": {')
            parts.append(", ".join(
                '%s: {"offset": %d, "data": %s}' % (_dumps(name), offset, _dumps(text))
                for name, (offset, text, _) in appends.items()
            ))
            parts.append("}")
        parts.append("}")
        return "".join(parts).encode("utf-8")

    def _skip(self, name, why):
        if name not in self._skipped:
            self._skipped.add(name)
            _say("not uploading %s of %s: %s (the local copy is complete)"
                 % (name, self.run_dir, why))

    # -- HTTP --------------------------------------------------------------------------------------
    def _post(self, url, body, content_type="application/json"):
        """POST ``body``; returns (status, parsed JSON answer or None). Raises _Retry."""
        headers = {"Content-Type": content_type}
        if self._api_key:
            headers["Authorization"] = "Bearer " + self._api_key
        timeout = REQUEST_TIMEOUT
        if self._deadline is not None:
            timeout = max(0.5, min(timeout, self._deadline - time.monotonic()))
        if self._plain is None:
            self._plain = _plain_target(self.url) or False
        self._retry_after = None
        if self._plain:
            try:
                status, raw, fields = _raw_post(self._plain, url[len(self.url):], headers, body,
                                                timeout)
                self._retry_after = fields.get("retry-after")
            except _Retry:
                raise
            except Exception as exc:  # refused, reset, timeout, garbage
                raise _Retry(_describe(exc))
        else:
            status, raw = self._urllib_post(url, headers, body, timeout)
        try:
            answer = json.loads(raw.decode("utf-8")) if raw else None
        except ValueError:
            answer = None
        if status == 200 and not isinstance(answer, dict):
            raise _Retry("HTTP 200 with a body that is not JSON")
        return status, answer

    def _urllib_post(self, url, headers, body, timeout):
        """https://, or a proxy configured in the environment: urllib.request does it all."""
        if self._urllib is None:
            import urllib.error
            import urllib.request

            self._urllib = urllib
        urllib = self._urllib
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status = exc.code
            self._retry_after = exc.headers.get("Retry-After") if exc.headers else None
            try:
                raw = exc.read()
            except Exception:
                raw = b""
            finally:
                exc.close()
        except Exception as exc:  # URLError, ConnectionError, timeout, http.client errors
            raise _Retry(_describe(exc))
        return status, raw


# -- plain HTTP/1.1 over a socket ----------------------------------------------------------------
# For http:// without a proxy the request is written by hand: urllib.request (with http.client,
# email and ssl) costs ~60 ms of import -- taken from the training loop's share of the GIL when the
# first upload starts -- and ~7 MB of memory; a socket costs neither.


def _plain_target(url):
    """``(host, port, path prefix, Host header)`` for an http:// URL when no proxy is configured
    in the environment, else None (urllib.request is used)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        return None
    if _env.any_proxy():
        return None
    try:
        port = parts.port or 80
    except ValueError:
        return None
    host = parts.hostname
    header = "[%s]" % host if ":" in host else host
    if port != 80:
        header += ":%d" % port
    return host, port, parts.path.rstrip("/"), header


def _raw_post(target, path, headers, body, timeout):
    """POST ``body`` to ``path`` (with query) of ``target``; returns (status, body bytes, header
    fields by lower-case name)."""
    import socket

    host, port, prefix, host_header = target
    lines = ["POST %s%s HTTP/1.1" % (prefix, path), "Host: " + host_header,
             "Content-Length: %d" % len(body), "Connection: close",
             "User-Agent: trackline-python"]
    lines.extend("%s: %s" % item for item in headers.items())
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(head)
        sock.sendall(body)
        received = bytearray()
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
            answer = _parse_answer(received, complete=False)
            if answer is not None:
                return answer
    answer = _parse_answer(received, complete=True)
    if answer is None:
        raise _Retry("the connection closed before a whole answer")
    return answer


def _parse_answer(data, complete):
    """(status, body, header fields by lower-case name) once ``data`` holds a whole HTTP/1.1
    answer, else None."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = bytes(data[:end]).decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        raise _Retry("not an HTTP answer: %r" % lines[0][:80])
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    rest = bytes(data[end + 4:])
    if "chunked" in fields.get("transfer-encoding", "").lower():
        body = bytearray()
        pos = 0
        while True:
            eol = rest.find(b"\r\n", pos)
            if eol < 0:
                return None
            size = int(rest[pos:eol].split(b";")[0] or b"0", 16)
            if size == 0:
                return status, bytes(body), fields
            if len(rest) < eol + 2 + size + 2:
                return None
            body += rest[eol + 2:eol + 2 + size]
            pos = eol + 2 + size + 2
    if "content-length" in fields:
        n = int(fields["content-length"])
        return (status, rest[:n], fields) if len(rest) >= n else None
    return (status, rest, fields) if complete else None


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def _read_range(path, offset, size):
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read(size)
    except OSError:
        return None


def _error_code(answer):
    error = answer.get("error") if isinstance(answer, dict) else None
    return error.get("code", "") if isinstance(error, dict) else ""


def _error_message(answer):
    error = answer.get("error") if isinstance(answer, dict) else None
    return error.get("message", "") if isinstance(error, dict) else ""


def _describe(exc):
    reason = getattr(exc, "reason", None)
    if reason is not None:
        exc = reason
    text = str(exc) or type(exc).__name__
    return text if len(text) < 200 else text[:200] + "..."


def _amount(n):
    if n < 1024:
        return "%d bytes" % n
    if n < 1024 * 1024:
        return "%.1f KiB" % (n / 1024.0)
    return "%.1f MiB" % (n / 1048576.0)
