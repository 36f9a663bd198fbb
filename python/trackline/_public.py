"""``trackline.Api()``: read runs back, as W&B's public API (``wandb.Api()``) does.

Two sources with the same interface:

- ``Api(root=None)`` reads run folders directly (``root`` defaults like the client:
  ``$TRACKLINE_DIR``, else ``./trackline``), no daemon needed;
- ``Api(url="http://127.0.0.1:8765")`` asks a daemon over its REST API (docs/api.md):
  ``/api/projects``, ``/api/projects/{p}/runs``, ``/api/projects/{p}/runs/{r}``, and the raw
  ``history.jsonl`` from ``/api/projects/{p}/runs/{r}/files/history.jsonl``, parsed here.

``api.runs(path, filters, order)`` takes W&B's MongoDB-style filters: ``{"config.lr": 0.01}``,
``{"state": "finished"}``, ``{"summary_metrics.acc": {"$gt": 0.9}}``, ``{"tags": "baseline"}``
(a list field matches when any element does), ``$eq $ne $gt $gte $lt $lte $in $nin $exists $regex``
and ``$and $or $nor $not``. ``order`` is a field, ``-`` first for descending (default
``"-created_at"``). A run's ``created_at`` is W&B's UTC ISO string (``"2025-11-29T16:43:02"``);
comparing it with a number compares unix seconds.

Annotations made in the web app (``_annotations.py``): ``api.annotations(project)``,
``api.project(name).notepad`` and ``api.run(path).annotations`` (``.note``, ``.threads``). The
name and tags an owner gave a run in the web app (the daemon's run overlays) are shown over
``run.json``, as the daemon shows them.

A run object is editable as W&B's: ``update()``, ``save()``, ``summary.update()``, ``delete()``
(``_public_edit.py`` says where each edit goes).
"""

import json
import math
import os
import re
import time
from collections.abc import Mapping
from urllib.parse import quote

from ._errors import CommError, UsageError
from ._meta import derive_state
from ._public_edit import apply_overlay, read_overlays

ENTITY = "local"
DEFAULT_URL_TIMEOUT = 30.0

_NON_FINITE = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


class Api:
    """Read-only access to runs: ``Api(root=None)`` (local folders) or ``Api(url=...)`` (daemon).

    ``overrides={"project": ...}`` sets the project ``runs()`` lists when given no path.
    ``api_key``: for a daemon shared with ``--public-url``, a share link's token (``tl_…``, the
    part after ``#t=`` of a ``trackline share`` link), sent as ``Authorization: Bearer``."""

    def __init__(self, root=None, url=None, overrides=None, timeout=None, api_key=None, **kwargs):
        if isinstance(root, Mapping):  # wandb.Api({"entity": ..., "project": ...})
            overrides, root = root, None
        self.overrides = dict(overrides or {})
        if url is not None:
            self._store = _HttpStore(str(url), timeout or DEFAULT_URL_TIMEOUT, api_key)
        else:
            from ._names import resolve_root

            if root is None:
                root = resolve_root()
            self._store = _LocalStore(os.path.abspath(os.fspath(root)))

    @property
    def default_entity(self):
        return ENTITY

    def flush(self):
        """No-op: nothing is cached."""

    def projects(self, entity=None, per_page=None):
        """Every project, as :class:`Project` objects (newest activity first)."""
        return [Project(self, p) for p in self._store.projects()]

    def project(self, name, entity=None):
        for p in self.projects():
            if p.name == name:
                return p
        raise CommError("no project %r" % (name,))

    def runs(self, path=None, filters=None, order="-created_at", per_page=50, include_sweeps=True,
             **kwargs):
        """The runs of a project (``path`` is ``"<project>"`` or ``"<entity>/<project>"``)
        matching ``filters``, sorted by ``order``: a list of :class:`ApiRun`."""
        project = _project_of(path) if path else self.overrides.get("project")
        if not project:
            raise UsageError("Api.runs() needs a project: api.runs('<project>')")
        docs = [d for d in self._store.runs(project) if matches(_filter_doc(d), filters or {})]
        if order:
            docs = _sorted(docs, order)
        return [ApiRun(self._store, d, self) for d in docs]

    def run(self, path):
        """One run: ``"<project>/<id>"``, ``"<entity>/<project>/<id>"`` or
        ``"<entity>/<project>/runs/<id>"``. Raises CommError if there is none."""
        parts = [p for p in str(path).strip("/").split("/") if p]
        if len(parts) >= 3 and parts[-2] == "runs":
            del parts[-2]
        if len(parts) < 2:
            raise UsageError("Api.run(%r): use '<project>/<run_id>'" % (path,))
        return ApiRun(self._store, self._store.run(parts[-2], parts[-1]), self)

    def artifact(self, name, type=None):
        """One artifact version: ``"project/name:alias"`` (or ``"name:v3"`` with
        ``overrides={"project": ...}``; ``entity/`` first is ignored); see _artifacts.py."""
        from ._artifacts import api_artifact

        return api_artifact(self._artifacts(), name, type, self.overrides.get("project"))

    def artifact_versions(self, type_name, name, per_page=50):
        """Every live version of ``"project/name"``, newest first."""
        from ._artifacts import api_artifact_versions

        return api_artifact_versions(self._artifacts(), type_name, name,
                                     self.overrides.get("project"))

    def artifacts(self, type_name, name, per_page=50, tags=None):
        """W&B's other name for :meth:`artifact_versions`."""
        return self.artifact_versions(type_name, name, per_page)

    def artifact_exists(self, name, type=None):
        try:
            self.artifact(name, type)
            return True
        except (CommError, ValueError):
            return False

    def _artifacts(self):
        store = self._store
        if isinstance(store, _HttpStore):
            from ._artifact_remote import RemoteStore

            return RemoteStore(store.url, store.api_key)
        from ._artifact_store import Store

        return Store.of(store.root)

    def annotations(self, project):
        """What teammates annotated in ``project`` in the web app: ``.notepad``, ``.run_notes``
        (run id -> text), ``.threads`` (plain dicts), ``.run(run_id)``."""
        return self._store.annotations(_project_of(project))

    def reports(self, project):
        """The reports of ``project`` (``trackline.reports.Report`` objects), from the daemon:
        ``Api(url=...)``'s, or the one serving ``Api(root=...)``'s data directory."""
        from ._reports import project_reports

        store = self._store
        return project_reports(_project_of(project), url=getattr(store, "url", None),
                               api_key=getattr(store, "api_key", None),
                               root=getattr(store, "root", None))


class Project:
    """A project: ``name``, ``run_count``, ``running_count``, ``last_activity`` (unix seconds)."""

    def __init__(self, api, info):
        self._api = api
        self.name = info["name"]
        self.entity = ENTITY
        self.run_count = info.get("run_count")
        self.running_count = info.get("running_count")
        self.last_activity = info.get("last_activity")

    @property
    def path(self):
        return [self.entity, self.name]

    def runs(self, filters=None, order="-created_at"):
        return self._api.runs(self.name, filters=filters, order=order)

    @property
    def notepad(self):
        """The project's notepad from the web app (markdown; ``""`` when never written)."""
        return self._api.annotations(self.name).notepad

    def __repr__(self):
        return "<Project %s/%s>" % (self.entity, self.name)


class ApiRun:
    """A run read back: ``id, name, project, state, config, summary, created_at, tags, group,
    notes, job_type, path, url``, and its history.

    Editable as in W&B (``_public_edit.py``): set ``name`` (or ``display_name``), ``notes``,
    ``tags``, ``group``, ``job_type``, change ``config`` or ``summary``, then ``update()``
    (``save()``); ``summary.update()`` writes the summary alone; ``delete()`` moves the run to
    the trash."""

    def __init__(self, store, doc, api=None):
        self._store = store
        self._api = api
        self._load_doc(doc)

    def _load_doc(self, doc):
        from ._public_edit import Summary

        self._doc = doc
        self.id = doc["id"]
        self.name = doc.get("name")
        self.project = doc["project"]
        self.entity = ENTITY
        self.state = doc.get("state")
        raw = doc.get("config") or {}
        self._rawconfig = dict(raw)
        self.config = {k: v for k, v in raw.items() if not k.startswith("_")}
        self.summary = Summary(self, doc.get("summary") or {})
        self.tags = list(doc.get("tags") or [])
        self.group = doc.get("group")
        self.notes = doc.get("notes")
        self.job_type = doc.get("job_type")
        self.created_at = _iso(doc.get("created_at"))
        self.heartbeat_at = _iso(doc.get("heartbeat_at"))
        self.created_at_secs = doc.get("created_at")
        self.metadata = {"host": doc.get("host"), "args": list(doc.get("command") or [])[1:],
                         "program": (doc.get("command") or [None])[0]}
        self._saved = self._fingerprints()

    @property
    def display_name(self):
        return self.name

    @display_name.setter
    def display_name(self, value):
        self.name = value

    summary_metrics = property(lambda self: self.summary)

    @property
    def rawconfig(self):
        """The config with its hidden (``_``) keys, as W&B's ``rawconfig``."""
        raw = {k: v for k, v in self._rawconfig.items() if k.startswith("_")}
        raw.update(self.config)
        return raw

    @property
    def json_config(self):
        """The config as W&B's ``json_config``: ``{key: {"value": v, "desc": None}}`` JSON."""
        return json.dumps({k: {"value": v, "desc": None} for k, v in self.rawconfig.items()})

    # -- editing (W&B's Run.update, save, delete, load) ------------------------------------------
    def update(self):
        """Persist what was changed on this object: ``name``/``display_name``, ``notes``,
        ``tags``, ``group``, ``job_type``, ``config`` and ``summary`` (only the fields that
        differ from what was read are written; where they go: ``_public_edit.py``)."""
        self._commit(("name", "notes", "tags", "group", "job_type", "config", "summary"))

    def save(self):
        """W&B's other name for :meth:`update`."""
        self.update()

    def delete(self, delete_artifacts=False):
        """Delete the run: its folder moves whole to ``<root>/.trackline/trash/<project>/``
        (restore it by moving it back). A running run is refused. ``delete_artifacts``: also
        delete the artifact versions it logged."""
        self._store.delete(self.project, self.id, self._api, delete_artifacts)

    def load(self, force=False):
        """Read the run again (every load reads it; ``force`` is W&B's)."""
        self._load_doc(self._store.run(self.project, self.id))
        return self._doc

    def _values(self):
        return {"name": self.name, "notes": self.notes, "tags": self.tags, "group": self.group,
                "job_type": self.job_type, "config": self.config, "summary": dict(self.summary)}

    def _fingerprints(self):
        from ._public_edit import fingerprint

        return {k: fingerprint(v) for k, v in self._values().items()}

    def _commit(self, fields):
        from ._public_edit import fingerprint, normalize

        values = self._values()
        changes = {f: normalize(f, values[f]) for f in fields
                   if fingerprint(values[f]) != self._saved[f]}
        if not changes:
            return
        self._store.edit(self.project, self.id, changes)
        if "config" in changes:
            self._rawconfig = self.rawconfig
        for field in changes:
            self._saved[field] = fingerprint(values[field])

    @property
    def path(self):
        return [self.entity, self.project, self.id]

    @property
    def url(self):
        from ._wandb_run import _base_url

        return "%s/projects/%s/runs/%s" % (_base_url(), quote(self.project, safe=""),
                                           quote(self.id, safe=""))

    @property
    def annotations(self):
        """The run's annotations from the web app: ``.note`` (its note there, markdown; not
        ``run.notes``) and ``.threads`` (comment threads on the run and pins on its charts)."""
        return self._store.annotations(self.project).run(self.id)

    @property
    def lastHistoryStep(self):
        step = self.summary.get("_step")
        return step if type(step) is int else -1

    # -- history ---------------------------------------------------------------------------------
    def scan_history(self, keys=None, page_size=1000, min_step=None, max_step=None):
        """Every history row, in order, as a dict (NaN and infinities kept as floats). With
        ``keys``, only rows that have all of them, reduced to those keys."""
        keys = _key_list(keys)
        for row in self._rows("history.jsonl"):
            step = row.get("_step")
            if min_step is not None and (type(step) is not int or step < min_step):
                continue
            if max_step is not None and (type(step) is not int or step >= max_step):
                continue
            if keys is None:
                yield row
            elif all(k in row for k in keys):
                yield {k: row[k] for k in keys}

    def history(self, keys=None, x_axis="_step", samples=500, pandas=True, stream="default"):
        """Up to ``samples`` rows, evenly spread over the run (first and last included), as a
        pandas DataFrame when pandas is importable (and ``pandas=True``), else a list of dicts.

        With ``keys``, only rows that have all of them, with columns ``x_axis`` + ``keys``.
        ``stream="system"`` (or W&B's ``"events"``) reads the system metrics instead."""
        keys = _key_list(keys)
        name = "system.jsonl" if stream in ("system", "events") else "history.jsonl"
        rows = []
        for row in self._rows(name):
            if keys is None:
                rows.append(row)
            elif all(k in row for k in keys):
                cols = [x_axis] + [k for k in keys if k != x_axis]
                rows.append({k: row[k] for k in cols if k in row})
        rows = sample_evenly(rows, samples)
        if pandas:
            try:
                import pandas as pd
            except ImportError:
                return rows
            return pd.DataFrame(rows)
        return rows

    def _rows(self, name):
        for line in self._store.lines(self.project, self.id, name):
            try:
                row = json.loads(line)
            except ValueError:
                continue  # a torn or foreign line: skipped, as the daemon does
            if isinstance(row, dict):
                yield row

    def __repr__(self):
        return "<Run %s/%s/%s (%s)>" % (self.entity, self.project, self.id, self.state)


def sample_evenly(rows, samples):
    """At most ``samples`` of ``rows``, evenly spaced, the first and the last included."""
    n = len(rows)
    if samples is None or n <= samples:
        return rows
    samples = int(samples)
    if samples <= 0:
        return []
    if samples == 1:
        return [rows[-1]]
    return [rows[round(i * (n - 1) / (samples - 1))] for i in range(samples)]


def _key_list(keys):
    if keys is None:
        return None
    return [keys] if isinstance(keys, str) else list(keys)


def _project_of(path):
    parts = [p for p in str(path).strip("/").split("/") if p]
    if not parts:
        raise UsageError("Api.runs(%r): use '<project>'" % (path,))
    return parts[-1]


def _iso(secs):
    if type(secs) not in (int, float) or not math.isfinite(secs):
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))


# -- filters ---------------------------------------------------------------------------------------
_MISSING = object()


def _filter_doc(d):
    """The fields filters and order see, under W&B's names and ours."""
    summary = d.get("summary") or {}
    return {
        "id": d.get("id"), "name": d.get("name"), "display_name": d.get("name"),
        "displayName": d.get("name"), "state": d.get("state"), "tags": d.get("tags") or [],
        "group": d.get("group"), "notes": d.get("notes"), "job_type": d.get("job_type"),
        "jobType": d.get("job_type"), "project": d.get("project"), "host": d.get("host"),
        "config": d.get("config") or {}, "summary_metrics": summary, "summary": summary,
        "created_at": _Time(d.get("created_at")), "createdAt": _Time(d.get("created_at")),
        "heartbeat_at": _Time(d.get("heartbeat_at")), "heartbeatAt": _Time(d.get("heartbeat_at")),
    }


class _Time:
    """A time field: compares as the ISO string with strings, as unix seconds with numbers."""

    __slots__ = ("secs",)

    def __init__(self, secs):
        self.secs = secs if type(secs) in (int, float) else None

    def against(self, other):
        if isinstance(other, str):
            return _iso(self.secs)
        return self.secs


def _lookup(doc, path):
    """The value at a dotted ``path`` (keys containing dots or slashes are tried whole first)."""
    head, _, rest = path.partition(".")
    if head not in doc:
        # W&B's display name is "display_name"; anything else unknown is missing
        return _MISSING
    value = doc[head]
    if not rest:
        return value
    return _lookup_in(value, rest)


def _lookup_in(value, rest):
    if isinstance(value, Mapping):
        if rest in value:
            return value[rest]
        if rest.endswith(".value") and rest[:-6] in value:
            return value[rest[:-6]]  # W&B's {"lr": {"value": 0.01}} form, "config.lr.value"
        head, sep, tail = rest.partition(".")
        while sep:
            if head in value:
                found = _lookup_in(value[head], tail)
                if found is not _MISSING:
                    return found
            nxt, sep, tail = tail.partition(".")
            head = head + "." + nxt
        return _MISSING
    if isinstance(value, list) and rest.isdigit() and int(rest) < len(value):
        return value[int(rest)]
    return _MISSING


def matches(doc, flt):
    """True if ``doc`` matches the MongoDB-style filter ``flt``."""
    if not isinstance(flt, Mapping):
        raise UsageError("filters must be a dict, not %s" % type(flt).__name__)
    for key, cond in flt.items():
        if key == "$and":
            if not all(matches(doc, f) for f in cond):
                return False
        elif key == "$or":
            if not any(matches(doc, f) for f in cond):
                return False
        elif key == "$nor":
            if any(matches(doc, f) for f in cond):
                return False
        elif key.startswith("$"):
            raise UsageError("unsupported filter operator %r" % key)
        elif not _field_matches(_lookup(doc, key), cond):
            return False
    return True


def _field_matches(value, cond):
    if isinstance(cond, Mapping) and cond and all(str(k).startswith("$") for k in cond):
        return all(_op(value, op, arg) for op, arg in cond.items())
    return _equals(value, cond)


def _op(value, op, arg):
    if op == "$eq":
        return _equals(value, arg)
    if op == "$ne":
        return not _equals(value, arg)
    if op in ("$gt", "$gte", "$lt", "$lte"):
        return any(_compare(v, op, arg) for v in _candidates(value))
    if op == "$in":
        return any(_equals(value, a) for a in arg)
    if op == "$nin":
        return not any(_equals(value, a) for a in arg)
    if op == "$exists":
        return (value is not _MISSING) == bool(arg)
    if op == "$regex":
        pattern = re.compile(arg)
        return any(isinstance(v, str) and pattern.search(v) for v in _candidates(value))
    if op == "$not":
        return not _field_matches(value, arg)
    if op == "$size":
        return isinstance(value, list) and len(value) == arg
    raise UsageError("unsupported filter operator %r" % op)


def _candidates(value):
    """The values a condition is tried on: a list's elements (MongoDB's array rule) and itself."""
    if isinstance(value, list):
        return value + [value]
    return [value]


def _scalar(value, other):
    if isinstance(value, _Time):
        return value.against(other)
    return value


def _equals(value, arg):
    if value is _MISSING:
        return arg is None
    return any(_equal1(_scalar(v, arg), arg) for v in _candidates(value))


def _equal1(v, arg):
    if isinstance(v, bool) or isinstance(arg, bool):
        return type(v) is type(arg) and v == arg  # True is not 1 here
    if isinstance(v, float) and isinstance(arg, float) and v != v and arg != arg:
        return True  # NaN matches NaN
    try:
        return bool(v == arg)
    except Exception:
        return False


def _compare(value, op, arg):
    value = _scalar(value, arg)
    if value is _MISSING or value is None or isinstance(value, bool):
        return False
    if isinstance(arg, (int, float)) and not isinstance(arg, bool):
        if not isinstance(value, (int, float)):
            return False
    elif isinstance(arg, str):
        if not isinstance(value, str):
            return False
    else:
        return False
    if op == "$gt":
        return value > arg
    if op == "$gte":
        return value >= arg
    if op == "$lt":
        return value < arg
    return value <= arg


def _sorted(docs, order):
    descending = order.startswith("-")
    field = order.lstrip("+-")

    def sort_key(d):
        v = _lookup(_filter_doc(d), field)
        if isinstance(v, _Time):
            v = v.secs
        if v is _MISSING or v is None or isinstance(v, float) and v != v:
            return (1, 0, 0)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return (0, 0, v)
        return (0, 1, str(v))

    present = [d for d in docs if sort_key(d)[0] == 0]
    missing = [d for d in docs if sort_key(d)[0] == 1]
    return sorted(present, key=sort_key, reverse=descending) + missing


# -- sources ---------------------------------------------------------------------------------------
class _LocalStore:
    """Run folders on this machine."""

    def __init__(self, root):
        self.root = root

    def projects(self):
        out = []
        try:
            entries = sorted(os.scandir(self.root), key=lambda e: e.name)
        except OSError:
            return out
        for entry in entries:
            if entry.name.startswith(".") or not entry.is_dir():
                continue
            runs = self.runs(entry.name)
            if not runs:
                continue
            activity = max(max(r.get("heartbeat_at") or 0, r.get("created_at") or 0) for r in runs)
            out.append({
                "name": entry.name, "run_count": len(runs),
                "running_count": sum(1 for r in runs if r["state"] == "running"),
                "last_activity": activity,
            })
        out.sort(key=lambda p: -p["last_activity"])
        return out

    def runs(self, project):
        folder = os.path.join(self.root, project)
        out = []
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            return out
        overlays = read_overlays(self.root, project)
        for name in names:
            if name.startswith("."):
                continue
            doc = self._read(project, name, overlays)
            if doc is not None:
                out.append(doc)
        return out

    def run(self, project, run_id):
        if "/" in project or project.startswith(".") or "/" in run_id or run_id.startswith("."):
            raise CommError("no run %r in project %r" % (run_id, project))
        doc = self._read(project, run_id)
        if doc is None:
            raise CommError("no run %r in project %r (in %s)" % (run_id, project, self.root))
        return doc

    def _read(self, project, run_id, overlays=None):
        from ._files import read_json

        folder = os.path.join(self.root, project, run_id)
        meta = read_json(os.path.join(folder, "run.json"))
        if meta is None:
            return None
        doc = dict(meta)
        doc["id"] = run_id
        doc["project"] = project
        doc["config"] = read_json(os.path.join(folder, "config.json"), {})
        doc["summary"] = read_json(os.path.join(folder, "summary.json"), {})
        doc["state"] = derive_state(meta, time.time())
        if overlays is None:
            overlays = read_overlays(self.root, project)
        return apply_overlay(doc, overlays.get(run_id))

    def edit(self, project, run_id, changes):
        from ._public_edit import edit_local

        edit_local(self.root, project, run_id, changes)

    def delete(self, project, run_id, api=None, delete_artifacts=False):
        from ._public_edit import delete_local

        delete_local(self.root, project, run_id, api, delete_artifacts)

    def annotations(self, project):
        from ._annotations import read_local

        return read_local(self.root, project)

    def lines(self, project, run_id, name):
        path = os.path.join(self.root, project, run_id, name)
        try:
            f = open(path, "rb")
        except FileNotFoundError:
            return
        with f:
            for line in f:
                if line.endswith(b"\n"):  # bytes after the last newline are still being written
                    yield line


class _HttpStore:
    """A daemon's REST API (docs/api.md)."""

    def __init__(self, url, timeout, api_key=None):
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.headers = {"Accept": "application/json"}
        if api_key:
            self.headers["Authorization"] = "Bearer " + api_key

    def _open(self, path):
        import urllib.error
        import urllib.request

        request = urllib.request.Request(self.url + path, headers=self.headers)
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            message = exc.reason
            try:
                message = json.loads(exc.read().decode("utf-8"))["error"]["message"]
            except Exception:
                pass
            if exc.code == 404:
                raise _NotFound(message) from None
            raise CommError("%s%s: HTTP %d: %s" % (self.url, path, exc.code, message)) from None
        except (urllib.error.URLError, OSError) as exc:
            raise CommError("cannot reach the trackline daemon at %s: %s" % (self.url, exc)) from None

    def _get(self, path):
        with self._open(path) as resp:
            return json.loads(resp.read().decode("utf-8"))

    def projects(self):
        return [
            {"name": p["name"], "run_count": p.get("run_count"),
             "running_count": p.get("running_count"),
             "last_activity": p.get("last_activity_secs")}
            for p in self._get("/api/projects")
        ]

    def runs(self, project):
        try:
            return [_from_run_info(r) for r in self._get("/api/projects/%s/runs" % _q(project))]
        except _NotFound:
            return []

    def run(self, project, run_id):
        try:
            return _from_run_info(self._get("/api/projects/%s/runs/%s" % (_q(project), _q(run_id))))
        except _NotFound as exc:
            raise CommError("no run %r in project %r: %s" % (run_id, project, exc)) from None

    def edit(self, project, run_id, changes):
        from ._public_edit import edit_remote

        edit_remote(self.url, self.api_key, project, run_id, changes)

    def delete(self, project, run_id, api=None, delete_artifacts=False):
        from ._public_edit import delete_logged_artifacts, delete_remote

        if delete_artifacts and api is not None:
            info = self.run(project, run_id)
            if info.get("state") == "running":
                raise UsageError("run %s/%s is still running: stop it first, then delete it"
                                 % (project, run_id))
            delete_logged_artifacts(api, list(self.lines(project, run_id, "artifacts.jsonl")),
                                    project)
        delete_remote(self.url, self.api_key, project, run_id)

    def annotations(self, project):
        from ._annotations import ProjectAnnotations, from_snapshot

        try:
            return from_snapshot(self._get("/api/projects/%s/annotations" % _q(project)))
        except _NotFound:
            return ProjectAnnotations(project)

    def lines(self, project, run_id, name):
        try:
            resp = self._open("/api/projects/%s/runs/%s/files/%s" % (_q(project), _q(run_id), name))
        except _NotFound:
            return
        with resp:
            for line in resp:
                if line.endswith(b"\n"):
                    yield line


class _NotFound(CommError):
    pass


def _q(segment):
    return quote(segment, safe="")


def _from_run_info(info):
    """A daemon RunInfo as the fields the local source gives."""
    return {
        "id": info["id"], "project": info["project"], "name": info.get("name"),
        "state": info.get("state"), "group": info.get("group"), "tags": info.get("tags") or [],
        "notes": info.get("notes"), "job_type": info.get("job_type"),
        "created_at": info.get("created_at_secs"), "heartbeat_at": info.get("heartbeat_at_secs"),
        "finished_at": info.get("finished_at_secs"), "host": info.get("host"),
        "command": info.get("command") or [], "pid": info.get("pid"),
        "exit_code": info.get("exit_code"),
        "config": _finite_back(info.get("config") or {}),
        "summary": _finite_back(info.get("summary") or {}),
    }


def _finite_back(value):
    """The daemon sends non-finite numbers as "NaN"/"Infinity"/"-Infinity": make them floats."""
    if isinstance(value, str):
        return _NON_FINITE.get(value, value)
    if isinstance(value, dict):
        return {k: _finite_back(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_back(v) for v in value]
    return value
