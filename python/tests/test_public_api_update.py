"""Editing runs read back with trackline.Api(), as W&B's public Run: ``update()``/``save()`` of
name, notes, tags, group, job_type, config and summary, ``summary.update()``, ``delete()``, over
local run folders and through a daemon ($TRACKLINE_BIN), without touching a run's history or a
live run's files."""

import hashlib
import inspect
import json
import math
import os
import re
import subprocess

import pytest

import trackline
from conftest import read_json, start_script, wait_for

APPENDED = ("history.jsonl", "system.jsonl", "console.log")


def make_run(project="p", **init):
    init.setdefault("config", {"lr": 0.1, "layers": 3, "_hidden": {"x": 1}})
    init.setdefault("tags", ["base"])
    run = trackline.init(project=project, name="first", notes="n0", group="g0",
                         job_type="train", **init)
    for i in range(5):
        trackline.log({"loss": 1.0 / (i + 1), "val": {"acc": i / 10}})
    run.summary["best"] = 0.2
    trackline.finish()
    return run


def appended_digests(run_dir):
    out = {}
    for name in APPENDED:
        path = os.path.join(run_dir, name)
        if os.path.exists(path):
            with open(path, "rb") as f:
                out[name] = hashlib.sha256(f.read()).hexdigest()
    return out


def edit_everything(run):
    run.name = "renamed"
    run.notes = "new notes"
    run.tags.append("edited")
    run.group = "g1"
    run.job_type = "eval"
    run.config["lr"] = 0.01
    run.config["new"] = {"nested": True}
    del run.config["layers"]
    run.summary["best"] = 3
    run.summary["note"] = "hand-set"


EDITED = {"name": "renamed", "notes": "new notes", "tags": ["base", "edited"], "group": "g1",
          "job_type": "eval"}


def assert_edited(run):
    assert {f: getattr(run, f) for f in EDITED} == EDITED
    assert run.display_name == "renamed"
    assert run.config == {"lr": 0.01, "new": {"nested": True}}
    assert run.summary["best"] == 3 and run.summary["note"] == "hand-set"
    assert run.summary["loss"] == 0.2 and run.summary["_step"] == 4  # the rest kept


# -- local -----------------------------------------------------------------------------------------
def test_update_persists_every_field_and_leaves_history_alone(tmp_path):
    made = make_run()
    before = appended_digests(made.dir)
    meta_before = read_json(os.path.join(made.dir, "run.json"))
    run = trackline.Api().run("p/" + made.id)
    edit_everything(run)
    run.update()
    again = trackline.Api().run("p/" + made.id)
    assert_edited(again)
    assert again.state == "finished"
    assert [r["loss"] for r in again.scan_history()] == [1.0, 0.5, 1 / 3, 0.25, 0.2]
    assert appended_digests(made.dir) == before
    # Hidden config keys stay; run.json keeps every field it had but the edited ones.
    assert read_json(os.path.join(made.dir, "config.json"))["_hidden"] == {"x": 1}
    meta = read_json(os.path.join(made.dir, "run.json"))
    assert {k: v for k, v in meta.items() if k not in EDITED} == {
        k: v for k, v in meta_before.items() if k not in EDITED}
    # No temp file left behind.
    assert not [n for n in os.listdir(made.dir) if n.startswith(".")]
    # save() is update(); an unchanged object writes nothing.
    stamp = os.stat(os.path.join(made.dir, "run.json")).st_mtime_ns
    again.save()
    assert os.stat(os.path.join(made.dir, "run.json")).st_mtime_ns == stamp


def test_runs_list_objects_are_editable_too(tmp_path):
    made = make_run()
    (run,) = trackline.Api().runs("p")
    run.display_name = "via display_name"
    run.tags = ["x", "y"]
    run.update()
    again = trackline.Api().run("p/" + made.id)
    assert (again.name, again.tags) == ("via display_name", ["x", "y"])


def test_summary_update_writes_the_summary_alone(tmp_path):
    made = make_run()
    run = trackline.Api().run("p/" + made.id)
    run.summary["best"] = 3
    run.name = "not yet"
    assert trackline.Api().run("p/" + made.id).summary["best"] == 0.2  # W&B: only at update()
    run.summary.update()
    again = trackline.Api().run("p/" + made.id)
    assert again.summary["best"] == 3 and again.name == "first"
    run.summary.update({"extra": [1, 2]})
    assert trackline.Api().run("p/" + made.id).summary["extra"] == [1, 2]
    run.summary.update({"best": 9, "other": 1}, overwrite=False)  # "best" was set here: kept
    assert (run.summary["best"], run.summary["other"]) == (3, 1)
    del run.summary["extra"]
    run.update()
    again = trackline.Api().run("p/" + made.id)
    assert "extra" not in again.summary and again.summary["other"] == 1
    assert again.name == "not yet"


def test_bad_values_are_refused_before_anything_is_written(tmp_path):
    made = make_run()
    run = trackline.Api().run("p/" + made.id)
    for field, value in (("name", ""), ("tags", "one"), ("notes", 3), ("config", [1])):
        fresh = trackline.Api().run("p/" + made.id)
        fresh.group = "would be written"
        setattr(fresh, field, value)
        with pytest.raises(trackline.UsageError):
            fresh.update()
    assert trackline.Api().run("p/" + made.id).group == "g0"
    run.notes = None  # None clears notes, group, job_type
    run.update()
    assert trackline.Api().run("p/" + made.id).notes is None


def test_an_edit_survives_a_resume(tmp_path):
    made = make_run()
    run = trackline.Api().run("p/" + made.id)
    edit_everything(run)
    run.update()
    resumed = trackline.init(project="p", id=made.id, resume="allow")
    trackline.log({"loss": 0.1})
    resumed.finish()
    again = trackline.Api().run("p/" + made.id)
    assert (again.name, again.notes, again.group, again.job_type) == (
        "renamed", "new notes", "g1", "eval")
    assert again.tags == ["base", "edited"]
    assert again.config == {"lr": 0.01, "new": {"nested": True}}
    assert again.summary["best"] == 3 and again.summary["loss"] == 0.1
    assert [r["_step"] for r in again.scan_history()] == [0, 1, 2, 3, 4, 5]


LIVE = """
    import os, time, trackline
    run = trackline.init(project="p", name="live", notes="live notes")
    trackline.log({"loss": 1.0})
    print(run.id, flush=True)
    while not os.path.exists("stop"):
        time.sleep(0.05)
    trackline.finish()
"""


def test_a_live_run_is_never_rewritten(tmp_path):
    proc = start_script(tmp_path, LIVE)
    try:
        run_id = proc.stdout.readline().split()[0]
        run = trackline.Api().run("p/" + run_id)
        assert run.state == "running"
        folder = os.path.join(str(tmp_path / "root"), "p", run_id)
        stamp = os.stat(os.path.join(folder, "run.json")).st_ino
        run.notes = "edited"
        with pytest.raises(trackline.UsageError, match="being written"):
            run.update()
        run = trackline.Api().run("p/" + run_id)
        run.summary["x"] = 1
        with pytest.raises(trackline.UsageError, match="summary"):
            run.summary.update()
        run = trackline.Api().run("p/" + run_id)
        run.name = "renamed"  # name and tags of a live run go through the daemon: none here
        with pytest.raises(trackline.CommError, match="no daemon serves"):
            run.update()
        with pytest.raises(trackline.UsageError, match="still running"):
            run.delete()
        assert os.stat(os.path.join(folder, "run.json")).st_ino == stamp  # not replaced by us
    finally:
        (tmp_path / "stop").write_text("")
        proc.wait(timeout=30)
    assert proc.returncode == 0, proc.stderr.read()
    run = trackline.Api().run("p/" + run_id)
    assert (run.state, run.name, run.notes) == ("finished", "live", "live notes")
    run.notes = "after the end"
    run.update()
    assert trackline.Api().run("p/" + run_id).notes == "after the end"


def test_delete_moves_the_run_to_the_trash(tmp_path):
    made = make_run()
    keep = make_run()
    before = appended_digests(made.dir)
    run = trackline.Api().run("p/" + made.id)
    run.delete()
    with pytest.raises(trackline.CommError):
        trackline.Api().run("p/" + made.id)
    assert [r.id for r in trackline.Api().runs("p")] == [keep.id]
    root = str(tmp_path / "root")
    (trashed,) = os.listdir(os.path.join(root, ".trackline", "trash", "p"))
    assert re.fullmatch(re.escape(made.id) + r"-\d+", trashed)
    assert appended_digests(os.path.join(root, ".trackline", "trash", "p", trashed)) == before


def test_delete_artifacts_deletes_the_versions_the_run_logged(tmp_path):
    src = tmp_path / "weights.bin"
    src.write_bytes(b"w" * 100)
    run = trackline.init(project="p")
    art = trackline.Artifact("model", type="model")
    art.add_file(str(src))
    run.log_artifact(art)
    other = trackline.Artifact("data", type="dataset")
    other.add_file(str(src))
    run.log_artifact(other)
    trackline.finish()
    api = trackline.Api()
    assert api.artifact_exists("p/model:v0") and api.artifact_exists("p/data:v0")
    api.run("p/" + run.id).delete(delete_artifacts=True)
    api = trackline.Api()
    assert not api.artifact_exists("p/model:v0") and not api.artifact_exists("p/data:v0")


def test_the_editing_surface_is_wandbs():
    wandb_runs = pytest.importorskip("wandb.apis.public.runs")
    from wandb.apis.public.summary import HTTPSummary

    from trackline._public import ApiRun
    from trackline._public_edit import Summary

    def params(fn):
        return [(p.name, p.default) for p in inspect.signature(fn).parameters.values()]

    for name in ("update", "save", "delete", "load"):
        assert params(getattr(ApiRun, name)) == params(getattr(wandb_runs.Run, name)), name
    assert params(Summary.update) == params(HTTPSummary.update)
    # W&B's edited attributes: display_name is a settable view of name; rawconfig and
    # json_config read back.
    assert inspect.getattr_static(ApiRun, "display_name").fset is not None
    assert isinstance(inspect.getattr_static(wandb_runs.Run, "name"), property)
    for prop in ("rawconfig", "json_config", "summary_metrics"):
        assert hasattr(wandb_runs.Run, prop) and hasattr(ApiRun, prop)


# -- through a daemon ------------------------------------------------------------------------------
@pytest.fixture
def daemon(tmp_path):
    """Starts ``trackline serve`` on the test's data dir; yields a function that starts it (so a
    test can write first) and answers its URL."""
    binary = os.environ.get("TRACKLINE_BIN")
    if not binary or not os.access(binary, os.X_OK):
        pytest.skip("set TRACKLINE_BIN to a trackline daemon binary to test with a daemon")
    procs = []

    def start():
        proc = subprocess.Popen(
            [binary, "serve", "--dir", str(tmp_path / "root"), "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(proc)
        line = proc.stdout.readline()
        match = re.search(r"trackline: serving .* at (http://127\.0\.0\.1:\d+)/", line)
        assert match, line
        return match.group(1)

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


def test_local_edits_show_through_the_daemon(tmp_path, daemon):
    made = make_run()
    before = appended_digests(made.dir)
    run = trackline.Api().run("p/" + made.id)
    edit_everything(run)
    run.update()
    url = daemon()
    remote = trackline.Api(url=url)
    assert wait_for(lambda: remote.runs("p"), 20)
    assert_edited(remote.run("p/" + made.id))
    rows = list(remote.run("p/" + made.id).scan_history())
    assert [r["loss"] for r in rows] == [1.0, 0.5, 1 / 3, 0.25, 0.2]
    # While it serves: a notes edit (a file) is picked up; a name edit goes to the file as well.
    run = trackline.Api().run("p/" + made.id)
    run.notes, run.name = "while served", "served name"
    run.update()
    assert wait_for(lambda: remote.run("p/" + made.id).notes == "while served", 20)
    assert remote.run("p/" + made.id).name == "served name"
    assert appended_digests(made.dir) == before


def op(url, project, body):
    from trackline._reports_http import Daemon

    return Daemon(url).send_op(project, body)


def test_a_name_set_in_the_web_app_is_edited_where_it_lives(tmp_path, daemon):
    made = make_run()
    url = daemon()
    remote = trackline.Api(url=url)
    assert wait_for(lambda: remote.runs("p"), 20)
    # The owner renames the run in the web app: an overlay in the daemon's database.
    answer = op(url, "p", {"kind": "run_rename", "run": made.id, "name": "web", "base_rev": 0})
    assert answer["outcome"] == "committed"
    assert trackline.Api().run("p/" + made.id).name == "web"  # the local reading shows it too
    run = trackline.Api().run("p/" + made.id)
    run.name = "from python"
    run.tags = ["t1"]
    run.group = "g2"
    run.update()
    for api in (trackline.Api(), remote):
        assert wait_for(lambda: api.run("p/" + made.id).group == "g2", 20)
        again = api.run("p/" + made.id)
        assert (again.name, again.tags) == ("from python", ["t1"])
    # The name went to the overlay (rev 2), the tags (no overlay yet) to run.json.
    meta = read_json(os.path.join(made.dir, "run.json"))
    assert (meta["name"], meta["tags"], meta["group"]) == ("first", ["t1"], "g2")


def test_a_daemons_api_edits_every_field_and_deletes(tmp_path, daemon):
    made = make_run()
    keep = make_run()
    before = appended_digests(made.dir)
    url = daemon()
    remote = trackline.Api(url=url)
    assert wait_for(lambda: len(remote.runs("p")) == 2, 20)
    run = remote.run("p/" + made.id)
    edit_everything(run)
    run.summary["diverged"] = float("nan")  # the format's NaN literal goes through as a number
    run.update()
    assert_edited(run)
    local = trackline.Api().run("p/" + made.id)
    assert_edited(local)
    assert math.isnan(local.summary["diverged"])
    # The client's own config keys are kept, as in a local edit; history is never touched.
    with open(os.path.join(made.dir, "config.json")) as f:
        assert json.load(f)["_hidden"] == {"x": 1}
    assert appended_digests(made.dir) == before
    assert wait_for(lambda: remote.run("p/" + made.id).notes == "new notes", 20)
    again = remote.run("p/" + made.id)
    assert_edited(again)
    assert again.group == "g1" and again.job_type == "eval"
    # notes=None clears, as W&B's update() does.
    again.notes = None
    again.update()
    assert trackline.Api().run("p/" + made.id).notes in (None, "")
    remote.run("p/" + made.id).delete()
    assert [r.id for r in trackline.Api(url=url).runs("p")] == [keep.id]
    trash = os.path.join(str(tmp_path / "root"), ".trackline", "trash", "p")
    (trashed,) = os.listdir(trash)
    assert appended_digests(os.path.join(trash, trashed)) == before


def test_a_live_runs_name_goes_through_the_serving_daemon(tmp_path, daemon):
    url = daemon()
    proc = start_script(tmp_path, LIVE)
    try:
        run_id = proc.stdout.readline().split()[0]
        remote = trackline.Api(url=url)
        assert wait_for(lambda: remote.runs("p"), 20)
        # Its notes and summary are its writer's until it finishes: the daemon refuses them.
        live = remote.run("p/" + run_id)
        live.notes = "too early"
        with pytest.raises(trackline.UsageError, match="still running"):
            live.update()
        live = remote.run("p/" + run_id)
        live.summary["x"] = 1
        with pytest.raises(trackline.UsageError, match="still running"):
            live.update()
        run = trackline.Api().run("p/" + run_id)
        run.name = "renamed live"
        run.update()
        assert trackline.Api().run("p/" + run_id).name == "renamed live"
        assert remote.run("p/" + run_id).name == "renamed live"
    finally:
        (tmp_path / "stop").write_text("")
        proc.wait(timeout=30)
    with open(os.path.join(str(tmp_path / "root"), "p", run_id, "summary.json")) as f:
        assert "x" not in json.load(f)
    # The writer rewrote run.json with its own name at the end; the overlay still wins.
    assert json.load(open(os.path.join(str(tmp_path / "root"), "p", run_id, "run.json")))[
        "name"] == "live"
    assert trackline.Api().run("p/" + run_id).name == "renamed live"
