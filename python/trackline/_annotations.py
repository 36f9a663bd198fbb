"""Annotations made in the web app, read back: each run's note, the project's notepad, and the
comment threads on runs, chart points and x-ranges (pins). The daemon stores them (its SQLite,
docs/api.md "Annotations"); they are not the run's own ``notes`` from ``trackline.init``.

Two sources, one shape: a daemon's ``GET /api/projects/{project}/annotations``
(:func:`from_snapshot`), or, for a local data directory, the daemon's database
``<root>/.trackline/index.sqlite`` opened read-only (:func:`read_local`). A data directory no
daemon has served yet has no annotations.

Threads are plain dicts::

    {"id": "t1", "resolved": False, "created_by": "alice", "created_at": 1733300000.0,
     "anchor": {"kind": "pin", "run": "r1", "key": "loss", "x_axis": "_step",
                "x0": 1200.0, "x1": None, "y": None},          # or {"kind": "run", "run": "r1"}
     "comments": [{"id": "c1", "text": "spike", "author": "alice", "created_at": ...,
                   "edited_at": None, "deleted": False}, ...]}

Times are unix seconds. A deleted comment stays in its thread with ``deleted`` true and no text.
"""

import json
import os
import sqlite3
from urllib.parse import quote

DB_PATH = os.path.join(".trackline", "index.sqlite")


class ProjectAnnotations:
    """Everything annotated in a project: ``notepad`` (markdown text, ``""`` when never written),
    ``run_notes`` (run id -> note text), ``threads`` (list of dicts, oldest first) and ``seq``
    (the daemon's op-log position this view includes)."""

    def __init__(self, project, seq=0, notepad="", run_notes=None, threads=None):
        self.project = project
        self.seq = seq
        self.notepad = notepad
        self.run_notes = dict(run_notes or {})
        self.threads = list(threads or [])

    def run(self, run_id):
        """The annotations of one run: its note and the threads anchored on it."""
        return RunAnnotations(
            run_id,
            self.run_notes.get(run_id, ""),
            [t for t in self.threads if t["anchor"].get("run") == run_id],
        )

    def __repr__(self):
        return "<ProjectAnnotations %s: %d run notes, %d threads>" % (
            self.project, len(self.run_notes), len(self.threads))


class RunAnnotations:
    """One run's annotations: ``note`` (markdown text, ``""`` when none) and ``threads``."""

    def __init__(self, run_id, note="", threads=None):
        self.run_id = run_id
        self.note = note
        self.threads = list(threads or [])

    def __repr__(self):
        return "<RunAnnotations %s: %d threads>" % (self.run_id, len(self.threads))


def from_snapshot(snapshot):
    """A :class:`ProjectAnnotations` from the daemon's snapshot JSON (``ProjectAnnotations``)."""
    notes = list(snapshot.get("run_notes") or [])
    notepad = snapshot.get("notepad") or {}
    threads = []
    for thread in snapshot.get("threads") or []:
        threads.append(_thread(thread.get("head") or {}, thread.get("comments") or []))
    return ProjectAnnotations(
        snapshot.get("project"),
        seq=snapshot.get("seq") or 0,
        notepad=notepad.get("text") or "",
        run_notes={n["target"]["run"]: n.get("text") or "" for n in notes
                   if (n.get("target") or {}).get("kind") == "run"},
        threads=threads,
    )


def read_local(root, project):
    """The annotations of ``project`` from the database of the data directory ``root``, read-only
    (safe while a daemon serves it); empty when there is no database or it predates annotations."""
    path = os.path.join(root, DB_PATH)
    if not os.path.isfile(path):
        return ProjectAnnotations(project)
    try:
        conn = sqlite3.connect("file:%s?mode=ro" % quote(os.path.abspath(path)), uri=True,
                               timeout=5.0)
    except sqlite3.Error:
        return ProjectAnnotations(project)
    try:
        with conn:  # one read transaction: a consistent view while the daemon writes
            conn.execute("BEGIN")
            return _read(conn, project)
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return ProjectAnnotations(project)
        raise
    finally:
        conn.close()


def _read(conn, project):
    seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM annotation_ops WHERE project = ?",
                       (project,)).fetchone()[0]
    notes = [json.loads(row[0]) for row in conn.execute(
        "SELECT note FROM annotation_notes WHERE project = ? ORDER BY target", (project,))]
    heads = [json.loads(row[0]) for row in conn.execute(
        "SELECT head FROM annotation_threads WHERE project = ? ORDER BY created_seq", (project,))]
    comments = {}
    for (text,) in conn.execute(
            "SELECT comment FROM annotation_comments WHERE project = ? ORDER BY created_seq",
            (project,)):
        comment = json.loads(text)
        comments.setdefault(comment.get("thread"), []).append(comment)
    notepad = next((n for n in notes if n["target"]["kind"] == "project"), None)
    return from_snapshot({
        "project": project, "seq": seq, "notepad": notepad,
        "run_notes": [n for n in notes if n["target"]["kind"] == "run"],
        "threads": [{"head": h, "comments": comments.get(h["id"], [])} for h in heads],
    })


def _thread(head, comments):
    anchor = dict(head.get("anchor") or {})
    if anchor.get("kind") == "pin":
        anchor.setdefault("x1", None)
        anchor.setdefault("y", None)
    return {
        "id": head.get("id"),
        "anchor": anchor,
        "resolved": bool(head.get("resolved")),
        "created_by": (head.get("created_by") or {}).get("label"),
        "created_at": _secs(head.get("created_ms")),
        "comments": [_comment(c) for c in comments],
    }


def _comment(comment):
    return {
        "id": comment.get("id"),
        "text": comment.get("text") or "",
        "author": (comment.get("author") or {}).get("label"),
        "created_at": _secs(comment.get("created_ms")),
        "edited_at": _secs(comment.get("edited_ms")),
        "deleted": bool(comment.get("deleted")),
    }


def _secs(ms):
    return ms / 1000.0 if isinstance(ms, (int, float)) and not isinstance(ms, bool) else None
