"""Editing a run read back with ``trackline.Api()``: W&B's ``run.update()``,
``run.summary.update()`` and ``run.delete()`` (wandb/apis/public/runs.py), under the
run-directory format's rules.

Where an edit goes, so that the run keeps one writer and nothing a reader sees is torn:

- **A finished run** (any state but ``running``) has no writer left. Its ``notes``, ``group``,
  ``job_type``, ``name`` and ``tags`` are replaced in ``run.json``, its config in ``config.json``
  and its summary in ``summary.json``, each atomically (temp file, fsync, rename: the files the
  format already replaces whole); ``history.jsonl`` and every other appended file are never
  touched. A resume (``init(id=..., resume=...)``) reads these files back, so it keeps the edit.
  Right before each replacement ``run.json`` is checked to be the file that was read: if a
  resumed writer replaced it in between, the edit stops with :class:`CommError` ("try again").
- **The name and tags an owner set in the web app** live in the daemon's database (a run
  overlay, docs/api.md "Run names and tags"), shown instead of ``run.json``. A field that has an
  overlay is changed there, with the ``run_rename``/``run_retag`` op, through the daemon serving
  the data directory (its ``.trackline/daemon.lock``); so is the name or tags of a **live run**,
  whose writer rewrites ``run.json`` from memory every few seconds. A live run's other fields are
  refused (:class:`UsageError`): its writer owns them until it finishes.
- **A daemon** (``Api(url=...)``): name and tags through the same ops; notes, group and job
  type with ``PATCH /api/projects/{project}/runs/{run}``, config and summary with ``PUT`` of its
  ``config``/``summary`` (docs/api.md "Editing a finished run"), which the daemon writes as this
  module writes a folder; a running run's are refused. ``delete()`` is its ``DELETE`` route.

``delete()`` moves the run's folder whole to ``<root>/.trackline/trash/<project>/<run>-<secs>``
(the daemon's ``DELETE`` route when a daemon serves the directory, else one rename here); a
running run is refused, as the daemon refuses it.
"""

import json
import os
import sqlite3
import time
from collections.abc import Mapping
from urllib.parse import quote

from ._errors import CommError, UsageError

#: The fields ``run.update()`` persists, and where each lives in the run folder.
META_FIELDS = ("name", "notes", "tags", "group", "job_type")
EDITABLE = META_FIELDS + ("config", "summary")
#: The fields a run overlay of the daemon can hold, with the op that sets each.
OVERLAY_OPS = {"name": "run_rename", "tags": "run_retag"}
TRASH_DIR = os.path.join(".trackline", "trash")
DB_PATH = os.path.join(".trackline", "index.sqlite")


class Summary(dict):
    """``run.summary`` of a run read back: a dict, with W&B's ``HTTPSummary`` persistence.
    Setting or deleting keys changes only this object; ``update()`` (or ``run.update()``)
    writes the whole summary. Keys are stripped of surrounding spaces, as W&B does."""

    def __init__(self, run, data=()):
        dict.__init__(self, data)
        self._run = run
        self._locked = set()  # keys set here, kept by update(..., overwrite=False)

    def __setitem__(self, key, value):
        key = key.strip() if isinstance(key, str) else key
        self.__dict__.setdefault("_locked", set()).add(key)  # also while copy rebuilds one
        dict.__setitem__(self, key, value)

    def __reduce__(self):  # copies and pickles are plain dicts
        return (dict, (dict(self),))

    def __getitem__(self, key):
        return dict.__getitem__(self, key.strip() if isinstance(key, str) else key)

    def __delitem__(self, key):
        dict.__delitem__(self, key.strip() if isinstance(key, str) else key)

    def __setattr__(self, key, value):
        if key.startswith("_"):
            object.__setattr__(self, key, value)
        else:
            self[key] = value

    def __getattr__(self, key):
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def update(self, key_vals=None, overwrite=True):
        """Set ``key_vals`` (keys set here before are kept when ``overwrite`` is false) and
        write the whole summary to the run."""
        if key_vals:
            for key, value in dict(key_vals).items():
                key = key.strip() if isinstance(key, str) else key
                if overwrite or key not in self._locked:
                    self[key] = value
        self._run._commit(("summary",))

    def load(self):
        """No-op, as W&B's."""


# -- checks ----------------------------------------------------------------------------------------
def normalize(field, value):
    """The value stored for ``field``, or UsageError for one the format cannot hold."""
    if field == "name":
        if not isinstance(value, str) or not value.strip():
            raise UsageError("run.name must be a non-empty string, not %r" % (value,))
        return value
    if field == "tags":
        if isinstance(value, str) or not hasattr(value, "__iter__"):
            raise UsageError("run.tags must be a list of strings, not %r" % (value,))
        tags = list(value)
        if not all(isinstance(t, str) and t.strip() for t in tags):
            raise UsageError("run.tags must be non-empty strings: %r" % (tags,))
        return tags
    if field in ("notes", "group", "job_type"):
        if value is not None and not isinstance(value, str):
            raise UsageError("run.%s must be a string or None, not %r" % (field, value))
        return value
    if not isinstance(value, Mapping):
        raise UsageError("run.%s must be a dict, not %s" % (field, type(value).__name__))
    return dict(value)


def fingerprint(value):
    """A comparable form of a field's value (NaN equal to NaN, key order kept)."""
    from ._values import to_json

    return json.dumps(to_json(value), sort_keys=False, default=repr)


# -- local run folders -----------------------------------------------------------------------------
def edit_local(root, project, run_id, changes):
    """Apply ``changes`` ({field: new value}) to the run folder ``root/project/run_id``."""
    from ._files import read_json
    from ._meta import derive_state

    folder = os.path.join(root, project, run_id)
    meta_path = os.path.join(folder, "run.json")
    seen = _stat(meta_path)
    meta = read_json(meta_path)
    if meta is None or seen is None:
        raise CommError("no run %r in project %r (in %s)" % (run_id, project, root))
    live = derive_state(meta, time.time()) == "running"
    overlay = read_overlays(root, project).get(run_id) or {}
    by_daemon = [f for f in OVERLAY_OPS if f in changes
                 and (live or overlay.get(f + "_rev", 0) > 0)]
    in_files = [f for f in changes if f not in by_daemon]
    if live and in_files:
        raise UsageError(
            "run %s/%s is being written (state running, process %s on %s): its %s can be "
            "changed once it has finished (name and tags can be changed now, through the daemon)"
            % (project, run_id, meta.get("pid"), meta.get("host"), ", ".join(in_files)))
    if by_daemon:
        daemon = serving_daemon(root)
        if daemon is None:
            why = ("the run is live: its writer rewrites run.json" if live
                   else "it was set in the web app and lives in the daemon's database")
            raise CommError(
                "cannot change the %s of run %s/%s: %s, and no daemon serves %s (start one "
                "with `trackline serve --dir %s`); nothing was changed"
                % (" and ".join(by_daemon), project, run_id, why, root, root))
        for field in by_daemon:
            set_overlay(daemon, project, run_id, field, changes[field], overlay)
    _write_files(folder, meta_path, seen, meta, {f: changes[f] for f in in_files})


def _write_files(folder, meta_path, seen, meta, changes):
    from ._files import atomic_write_json, read_json

    def check():
        if _stat(meta_path) != seen:
            raise CommError("run %s changed while it was being edited (resumed by a script?): "
                            "read it again and retry; what was written so far stays"
                            % (folder,))

    if "config" in changes:
        path = os.path.join(folder, "config.json")
        old = read_json(path, {})
        config = {k: v for k, v in old.items()
                  if isinstance(k, str) and k.startswith("_") and k not in changes["config"]}
        config.update(changes["config"])
        check()
        atomic_write_json(path, config)
    if "summary" in changes:
        check()
        atomic_write_json(os.path.join(folder, "summary.json"), changes["summary"])
    fields = {f: v for f, v in changes.items() if f in META_FIELDS}
    if fields:
        new = dict(meta)
        new.update(fields)
        check()
        atomic_write_json(meta_path, new)


def _stat(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def delete_local(root, project, run_id, api=None, delete_artifacts=False):
    """Move the run's folder to the trash (through the serving daemon's route when there is one)."""
    from ._files import read_json
    from ._meta import derive_state

    folder = os.path.join(root, project, run_id)
    meta = read_json(os.path.join(folder, "run.json"))
    if meta is None:
        raise CommError("no run %r in project %r (in %s)" % (run_id, project, root))
    if derive_state(meta, time.time()) == "running":
        raise UsageError("run %s/%s is still running: stop it first, then delete it"
                         % (project, run_id))
    if delete_artifacts and api is not None:
        delete_logged_artifacts(api, _complete_lines(os.path.join(folder, "artifacts.jsonl")),
                                project)
    daemon = serving_daemon(root)
    if daemon is not None:
        try:
            return delete_remote(daemon.url, daemon.token, project, run_id)
        except _Unreachable:
            pass  # its lock file outlived it: move the folder here
    trash = os.path.join(root, TRASH_DIR, project)
    os.makedirs(trash, exist_ok=True)
    secs = int(time.time())
    while True:
        target = os.path.join(trash, "%s-%d" % (run_id, secs))
        if not os.path.exists(target):
            try:
                os.rename(folder, target)
                return
            except FileExistsError:
                pass
            except OSError as exc:
                if not os.path.exists(target):
                    raise CommError("cannot move %s to the trash: %s" % (folder, exc)) from None
        secs += 1


def _complete_lines(path):
    try:
        with open(path, "rb") as f:
            return [line for line in f if line.endswith(b"\n")]
    except FileNotFoundError:
        return []


def delete_logged_artifacts(api, lines, project):
    """W&B's ``delete(delete_artifacts=True)``: the versions the run's ``artifacts.jsonl``
    ``lines`` say it logged, aliases and all."""
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict) or entry.get("direction") != "output":
            continue
        path = "%s/%s" % (entry.get("project") or project, entry.get("name"))
        try:
            versions = api.artifact_versions(None, path)
        except (CommError, ValueError, UsageError):
            continue
        for artifact in versions:
            if getattr(artifact, "digest", None) == entry.get("digest"):
                artifact.delete(delete_aliases=True)


# -- the daemon ------------------------------------------------------------------------------------
class _Unreachable(CommError):
    pass


def serving_daemon(root):
    """The daemon serving the data directory ``root`` (a ``_reports_http.Daemon``), or None when
    its lock file names none or names a process that is gone."""
    from ._reports_http import Daemon, read_lock, read_owner_token

    holder = read_lock(root)
    if not holder or not holder.get("url"):
        return None
    pid = holder.get("pid")
    if type(pid) is int and pid > 0:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except OSError:
            pass
    return Daemon(holder["url"], read_owner_token(root), "the daemon serving %s" % root)


def set_overlay(daemon, project, run_id, field, value, overlay=None):
    """Set the run overlay's ``field`` (``name`` or ``tags``) with its op; the last writer wins,
    as in W&B: a conflict (someone set it since ``overlay`` was read) is retried on its rev."""
    from ._reports_http import DaemonRefused

    if overlay is None:
        overlay = remote_overlays(daemon, project).get(run_id) or {}
    base = overlay.get(field + "_rev", 0)
    for _ in range(5):
        op = {"kind": OVERLAY_OPS[field], "run": run_id, field: value, "base_rev": base}
        try:
            answer = daemon.send_op(project, op)
        except DaemonRefused as exc:
            raise CommError("the daemon at %s refused to set the %s of run %s/%s: %s"
                            % (daemon.url, field, project, run_id, exc)) from None
        if answer.get("outcome") == "committed":
            return
        current = answer.get("current") or {}
        base = current.get(field + "_rev", base)
    raise CommError("the %s of run %s/%s keeps changing on the daemon at %s; nothing was set"
                    % (field, project, run_id, daemon.url))


def remote_overlays(daemon, project):
    """The run overlays of ``project`` as the daemon's annotations snapshot lists them."""
    snapshot = daemon.get("/api/projects/%s/annotations" % quote(project, safe=""))
    return {o["run"]: o for o in snapshot.get("run_overlays") or [] if "run" in o}


def edit_remote(url, api_key, project, run_id, changes):
    """Apply ``changes`` through the daemon at ``url``: name and tags with their overlay ops,
    notes, group and job type with ``PATCH`` of the run, config and summary with ``PUT`` (a
    running run's are refused by the daemon: its writer owns them)."""
    from ._reports_http import Daemon, DaemonRefused
    from ._values import to_json

    daemon = Daemon(url, api_key, "given")
    base = "/api/projects/%s/runs/%s" % (quote(project, safe=""), quote(run_id, safe=""))
    meta = {f: changes[f] for f in ("notes", "group", "job_type") if f in changes}
    try:
        if meta:
            daemon.request("PATCH", base, meta)
        for field in ("config", "summary"):
            if field in changes:
                text = json.dumps(to_json(changes[field]), allow_nan=True).encode("utf-8")
                daemon.request("PUT", "%s/%s" % (base, field), text=text)
    except DaemonRefused as exc:
        if exc.code == "run_running":
            raise UsageError("run %s/%s is still running: its notes, group, job type, config "
                             "and summary can be changed once it has finished (name and tags "
                             "can be changed now)" % (project, run_id)) from None
        raise CommError("the daemon at %s refused to edit run %s/%s: %s"
                        % (url, project, run_id, exc)) from None
    overlays = None
    for field in ("name", "tags"):
        if field in changes:
            if overlays is None:
                overlays = remote_overlays(daemon, project)
            set_overlay(daemon, project, run_id, field, changes[field],
                        overlays.get(run_id) or {})


def delete_remote(url, api_key, project, run_id):
    """``DELETE /api/projects/{project}/runs/{run}`` (the run goes to the daemon's trash)."""
    import urllib.error
    import urllib.request

    path = "/api/projects/%s/runs/%s" % (quote(project, safe=""), quote(run_id, safe=""))
    headers = {"Accept": "application/json"}
    if api_key:
        headers["Authorization"] = "Bearer " + api_key
    request = urllib.request.Request(url.rstrip("/") + path, method="DELETE", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30.0):
            return
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read().decode("utf-8"))["error"]["message"]
        except Exception:
            message = exc.reason
        if exc.code == 409:
            raise UsageError(message) from None
        raise CommError("the daemon at %s refused to delete run %s/%s: HTTP %d: %s"
                        % (url, project, run_id, exc.code, message)) from None
    except (urllib.error.URLError, OSError) as exc:
        raise _Unreachable("cannot reach the trackline daemon at %s: %s" % (url, exc)) from None


# -- reading the overlays of a data directory ------------------------------------------------------
def read_overlays(root, project):
    """{run id: overlay} of ``project`` from the daemon's database in ``root``, read-only (safe
    while the daemon runs); {} when no daemon has served the directory."""
    path = os.path.join(root, DB_PATH)
    if not os.path.isfile(path):
        return {}
    try:
        conn = sqlite3.connect("file:%s?mode=ro" % quote(os.path.abspath(path)), uri=True,
                               timeout=5.0)
    except sqlite3.Error:
        return {}
    try:
        rows = conn.execute("SELECT run, overlay FROM run_overlays WHERE project = ?",
                            (project,)).fetchall()
    except sqlite3.Error:
        return {}  # a database from before overlays, or locked past the timeout
    finally:
        conn.close()
    out = {}
    for run, text in rows:
        try:
            overlay = json.loads(text)
        except ValueError:
            continue
        if isinstance(overlay, dict):
            out[run] = overlay
    return out


def apply_overlay(doc, overlay):
    """``doc`` (a run's fields) as the daemon shows it: an overlay's name and tags win."""
    if overlay:
        if overlay.get("name") is not None:
            doc["name"] = overlay["name"]
        if overlay.get("tags") is not None:
            doc["tags"] = list(overlay["tags"])
    return doc
