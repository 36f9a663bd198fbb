"""Where the daemon a report is saved to runs, and the requests reports send it.

The daemon is, in order: the URL given (``Report(url=...)``, ``Api(url=...)``, a report's URL);
``$TRACKLINE_URL`` (where runs stream to); the daemon serving the data directory
(``$TRACKLINE_DIR``, else ``./trackline``) as its lock file ``.trackline/daemon.lock`` names it
(``{"pid", "url", "public_urls"}``, daemon/src/lock.rs), with the data directory's owner token
``.trackline/owner-token`` when that daemon is shared; else ``http://127.0.0.1:8765``. A token
given (``api_key``: a share link's ``tl_…``) is sent as ``Authorization: Bearer``.

Report changes are annotation ops (``POST /api/projects/{p}/annotations/ops``, docs/api.md): each
carries this process's ``client_id`` and a fresh ``op_id``, so an op whose answer was lost is sent
again under the same id and applied once. A connection that fails is retried a few times; ``429``
and ``503`` are waited out as ``Retry-After`` says (bounded, as the run uploader does).
"""

import http.client
import json
import os
import secrets
import time
import urllib.error
import urllib.request
from urllib.parse import quote

from ._errors import CommError, UsageError
from ._names import resolve_root
from ._remote import MAX_RETRY_AFTER, MIN_RETRY_AFTER, retry_after_seconds
from ._wandb_run import DEFAULT_URL
from . import _env

LOCK_FILE = os.path.join(".trackline", "daemon.lock")
OWNER_TOKEN_FILE = os.path.join(".trackline", "owner-token")

#: Seconds between the tries of a request whose connection failed (then it gives up).
CONNECT_RETRIES = (0.25, 0.5, 1.0, 2.0)
#: Seconds at most spent waiting out 429/503 answers for one request.
MAX_WAIT = 120.0
#: Seconds one request may take.
REQUEST_TIMEOUT = 30.0
#: The daemon's request body cap.
MAX_BODY = 1 << 20

#: This process's id in the op log (one per process, as one per browser tab).
CLIENT_ID = "py-" + secrets.token_hex(8)


def new_id(length=12):
    """A fresh id of ``[A-Za-z0-9_-]`` (reports, blocks, ops)."""
    return secrets.token_urlsafe(length * 3 // 4)[:length]


class DaemonRefused(CommError):
    """The daemon answered with an error: ``status``, ``code`` (its JSON error code) and message."""

    def __init__(self, message, status, code):
        CommError.__init__(self, message)
        self.status, self.code = status, code


class Daemon:
    """One daemon: its ``url`` (no trailing slash), the ``token`` sent as ``Bearer`` (or None),
    and ``found``: how it was found, for messages."""

    def __init__(self, url, token=None, found="given"):
        self.url = str(url).rstrip("/")
        self.token = token or None
        self.found = found

    def __repr__(self):
        return "<Daemon %s (%s)>" % (self.url, self.found)

    def get(self, path):
        return self.request("GET", path)

    def send_op(self, project, op):
        """Sends one op; answers the daemon's ``{"outcome": "committed" | "conflict", ...}``."""
        body = {"client_id": CLIENT_ID, "op_id": new_id(16), "op": op}
        return self.request("POST", "/api/projects/%s/annotations/ops" % q(project), body)

    def request(self, method, path, body=None, text=None):
        """The JSON answer of ``method path`` (``{}`` when it has none); the same request (same op
        id) is sent again after a failed connection or a 429/503. ``text``: a JSON body already
        serialised (the run format's ``NaN``/``Infinity`` literals allowed)."""
        data = None
        headers = {"Accept": "application/json"}
        if body is not None or text is not None:
            data = text if text is not None else json.dumps(body, allow_nan=False).encode("utf-8")
            if len(data) > MAX_BODY:
                raise UsageError("this change is %d bytes, over the daemon's %d-byte request "
                                 "limit: make the report smaller" % (len(data), MAX_BODY))
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        retries = list(CONNECT_RETRIES)
        waited = 0.0
        backoff = MIN_RETRY_AFTER
        while True:
            request = urllib.request.Request(self.url + path, data=data, method=method,
                                             headers=headers)
            try:
                with _open(request, REQUEST_TIMEOUT) as resp:
                    answer = resp.read()
                    return json.loads(answer.decode("utf-8")) if answer.strip() else {}
            except urllib.error.HTTPError as exc:
                status = exc.code
                code, message = _error_of(exc)
                if status in (429, 503) and waited < MAX_WAIT:
                    pause = retry_after_seconds(exc.headers.get("Retry-After")
                                                if exc.headers else None)
                    if pause is None:
                        pause, backoff = backoff, min(MAX_RETRY_AFTER, backoff * 2)
                    pause = min(pause, MAX_WAIT - waited)
                    time.sleep(pause)
                    waited += pause
                    continue
                raise DaemonRefused("the trackline daemon at %s refused %s %s: HTTP %d %s: %s"
                                    % (self.url, method, path, status, code or "", message),
                                    status, code) from None
            except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
                if retries:
                    time.sleep(retries.pop(0))
                    continue
                reason = getattr(exc, "reason", None) or exc
                raise CommError("cannot reach a trackline daemon at %s (%s): %s; nothing was "
                                "sent. Start one with `trackline serve`, or say where it is with "
                                "$TRACKLINE_URL or url=..."
                                % (self.url, self.found, reason)) from None


def _open(request, timeout):
    """``urllib.request.urlopen`` (a seam for the tests that lose an answer)."""
    return urllib.request.urlopen(request, timeout=timeout)


def _error_of(exc):
    """``(code, message)`` of the daemon's JSON error body, else ``(None, reason)``."""
    try:
        error = json.loads(exc.read().decode("utf-8"))["error"]
        return error.get("code"), error.get("message") or exc.reason
    except Exception:
        return None, exc.reason


def q(segment):
    return quote(str(segment), safe="")


def locate(url=None, api_key=None, root=None):
    """The daemon to talk to (see the module's docstring for the order; a ``root`` given, as
    ``Api(root=...)`` does, is asked before ``$TRACKLINE_URL``)."""
    if url:
        return Daemon(url, api_key, "given")
    env = _env.get(_env.URL)
    if env and root is None:
        return Daemon(env, api_key, "$%s" % _env.URL)
    root = os.path.abspath(os.fspath(root)) if root is not None else resolve_root()
    holder = read_lock(root)
    if holder and holder.get("url"):
        token = api_key or read_owner_token(root)
        return Daemon(holder["url"], token, "the daemon of %s, from %s"
                      % (root, os.path.join(root, LOCK_FILE)))
    return Daemon(DEFAULT_URL, api_key, "the default address: no daemon has served %s" % root)


def read_lock(root):
    """What the data directory's lock file says about its daemon (``pid``, ``url``,
    ``public_urls``), or None. The file stays after its daemon ends: the URL may not answer."""
    try:
        with open(os.path.join(root, LOCK_FILE), encoding="utf-8") as f:
            holder = json.load(f)
    except (OSError, ValueError):
        return None
    return holder if isinstance(holder, dict) else None


def read_owner_token(root):
    """The data directory's owner token (written by a shared daemon), or None."""
    try:
        with open(os.path.join(root, OWNER_TOKEN_FILE), encoding="utf-8") as f:
            token = f.read().strip()
    except OSError:
        return None
    return token or None
