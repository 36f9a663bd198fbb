"""Annotations made in the web app, read back with ``trackline.Api()``: from a daemon over HTTP and
from the data directory's database (read-only, also while the daemon runs and after it stopped),
against the real daemon binary ($TRACKLINE_BIN, else target/debug/trackline of this repository;
build it with `TRACKLINE_SKIP_WEB=1 cargo build -p trackline`)."""

import json
import os
import re
import sqlite3
import subprocess
import urllib.request

import pytest

import trackline
from conftest import REPO_DIR, wait_for

BIN = os.environ.get("TRACKLINE_BIN") or os.path.join(REPO_DIR, "target", "debug", "trackline")

needs_daemon = pytest.mark.skipif(
    not os.access(BIN, os.X_OK),
    reason="daemon binary %s not found: build it with `TRACKLINE_SKIP_WEB=1 cargo build -p "
           "trackline` or set TRACKLINE_BIN" % BIN,
)


def serve(tmp_path, *args):
    """A run in project "p" and a daemon serving the data dir: (root, url, run id, process)."""
    root = str(tmp_path / "root")
    run = trackline.init(project="p", name="a", notes="the run's own notes")
    trackline.log({"loss": 1.0})
    trackline.finish()
    env = dict(os.environ, TRACKLINE_LOG="warn")
    proc = subprocess.Popen([BIN, "serve", "--dir", root, "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    line = proc.stdout.readline()
    match = re.search(r"at (http://127\.0\.0\.1:\d+)/", line)
    assert match, line
    return root, match.group(1), run.id, proc


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=10)
    proc.stdout.close()


@pytest.fixture
def served(tmp_path):
    root, url, run_id, proc = serve(tmp_path)
    try:
        assert wait_for(lambda: trackline.Api(url=url).runs("p"), 20)
        yield root, url, run_id, proc
    finally:
        stop(proc)


def share_token(root, scope, label):
    out = subprocess.run([BIN, "share", "--scope", scope, "--label", label, "--dir", root],
                         capture_output=True, text=True, check=True,
                         env=dict(os.environ, TRACKLINE_LOG="warn")).stdout
    return re.search(r"#t=(\S+)", out).group(1)


def post_op(url, client_id, op_id, op, token=None):
    body = json.dumps({"client_id": client_id, "op_id": op_id, "op": op}).encode()
    headers = {"Content-Type": "application/json"}
    if token:
        headers.update({"Authorization": "Bearer " + token, "Origin": url})
    request = urllib.request.Request(
        url + "/api/projects/p/annotations/ops", data=body, method="POST", headers=headers)
    with urllib.request.urlopen(request, timeout=10) as resp:
        answer = json.loads(resp.read())
    assert answer["outcome"] == "committed", answer
    return answer["event"]


def annotate(url, run_id):
    post_op(url, "py", "1", {"kind": "note_set", "target": {"kind": "project"},
                             "text": "# Plan\nsweep lr", "base_rev": 0})
    post_op(url, "py", "2", {"kind": "note_set", "target": {"kind": "run", "run": run_id},
                             "text": "diverged after warmup", "base_rev": 0})
    post_op(url, "py", "3", {
        "kind": "thread_create", "thread": "t1", "comment": "c1", "text": "spike here",
        "anchor": {"kind": "pin", "run": run_id, "key": "loss", "x_axis": "_step",
                   "x0": 10.0, "x1": 20.0}})
    post_op(url, "py", "4", {"kind": "comment_add", "thread": "t1", "comment": "c2",
                             "text": "to delete"})
    post_op(url, "py", "5", {"kind": "comment_delete", "comment": "c2"})
    post_op(url, "py", "6", {"kind": "thread_resolve", "thread": "t1", "resolved": True,
                             "base_rev": 1})


def check(api, run_id):
    """What ``annotate`` wrote, as ``api`` reads it."""
    assert api.project("p").notepad == "# Plan\nsweep lr"
    project = api.annotations("p")
    assert project.seq == 6
    assert project.run_notes == {run_id: "diverged after warmup"}
    run = api.run("p/" + run_id)
    assert run.notes == "the run's own notes"  # the client's notes are not the UI's note
    assert run.annotations.note == "diverged after warmup"
    [thread] = run.annotations.threads
    assert thread["id"] == "t1" and thread["resolved"] is True
    assert thread["created_by"] == "local"
    assert thread["anchor"] == {"kind": "pin", "run": run_id, "key": "loss", "x_axis": "_step",
                                "x0": 10.0, "x1": 20.0, "y": None}
    first, deleted = thread["comments"]
    assert (first["id"], first["text"], first["author"], first["deleted"]) == (
        "c1", "spike here", "local", False)
    assert first["created_at"] > 1e9 and first["edited_at"] is None
    assert (deleted["id"], deleted["text"], deleted["deleted"]) == ("c2", "", True)
    return project


@needs_daemon
def test_annotations_read_from_the_daemon_and_from_its_database(served):
    root, url, run_id, proc = served
    remote, local = trackline.Api(url=url), trackline.Api(root=root)
    assert remote.annotations("p").threads == [] and remote.project("p").notepad == ""
    assert local.annotations("p").threads == []
    annotate(url, run_id)
    from_daemon = check(remote, run_id)
    from_db = check(local, run_id)  # the daemon is still running: read-only, beside its writes
    assert from_db.threads == from_daemon.threads
    assert remote.annotations("nope").threads == []
    proc.terminate()
    proc.wait(timeout=10)
    check(trackline.Api(root=root), run_id)


def test_no_database_or_an_old_one_means_no_annotations(tmp_path):
    root = str(tmp_path / "root")
    run = trackline.init(project="p")
    trackline.finish()
    api = trackline.Api(root=root)
    assert api.run("p/" + run.id).annotations.note == ""
    assert api.annotations("p").threads == []
    os.makedirs(os.path.join(root, ".trackline"), exist_ok=True)
    with sqlite3.connect(os.path.join(root, ".trackline", "index.sqlite")) as conn:
        conn.execute("CREATE TABLE runs (project TEXT)")
    assert api.project("p").notepad == ""


@needs_daemon
def test_a_shared_daemon_is_read_with_a_share_links_token(tmp_path):
    root, url, run_id, proc = serve(tmp_path, "--public-url", "https://team.example")
    try:
        viewer = share_token(root, "viewer", "vera")
        annotator = share_token(root, "annotator", "alice")
        api = trackline.Api(url=url, api_key=viewer)
        assert wait_for(lambda: api.runs("p"), 20)
        event = post_op(url, "py", "1", {
            "kind": "thread_create", "thread": "t1", "comment": "c1", "text": "look",
            "anchor": {"kind": "run", "run": run_id}}, token=annotator)
        assert event["author"]["label"] == "alice"
        [thread] = api.run("p/" + run_id).annotations.threads
        assert thread["created_by"] == "alice" and thread["comments"][0]["author"] == "alice"
        with pytest.raises(trackline.CommError, match="401"):
            trackline.Api(url=url).annotations("p")
    finally:
        stop(proc)
