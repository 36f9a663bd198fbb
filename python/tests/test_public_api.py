"""trackline.Api(): projects, runs with W&B's MongoDB-style filters and order, one run, history and
scan_history -- over local run folders, and over a daemon's REST API when $TRACKLINE_BIN names a
daemon binary."""

import json
import math
import os
import re
import socket
import subprocess
import time

import pytest

import trackline
from trackline._public import sample_evenly
from conftest import wait_for


def make_runs(base=None):
    """Three runs in "mnist" (two finished, one failed) and one in "cifar", under
    ``<base>/trackline`` (else $TRACKLINE_DIR). Returns {name: id}."""
    ids = {}
    specs = [
        ("a", {"lr": 0.01, "opt": {"name": "adam"}}, ["baseline"], "g1", 0, [0.9, 0.5, 0.2]),
        ("b", {"lr": 0.1, "opt": {"name": "sgd"}}, ["baseline", "fast"], "g1", 0, [0.8, 0.7]),
        ("c", {"lr": 0.001, "_secret": 1}, [], "g2", 1, [1.0, float("nan"), 0.6]),
    ]
    for name, config, tags, group, code, losses in specs:
        run = trackline.init(project="mnist", name=name, config=config, tags=tags, group=group,
                             dir=base)
        for i, loss in enumerate(losses):
            trackline.log({"loss": loss, "epoch": i, "val": {"acc": 1 - loss}})
        trackline.log({"lr_now": 0.5})
        run.summary["best"] = min(v for v in losses if v == v)
        trackline.finish(exit_code=code)
        ids[name] = run.id
        time.sleep(0.01)  # distinct created_at
    run = trackline.init(project="cifar", name="d", dir=base)
    trackline.log({"x": 1})
    trackline.finish()
    ids["d"] = run.id
    return ids


@pytest.fixture
def runs(tmp_path):
    return make_runs()


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """The same runs, made once for the read-only filter tests: (Api, ids)."""
    base = tmp_path_factory.mktemp("shared")
    ids = make_runs(str(base))
    return trackline.Api(root=str(base / "trackline")), ids


def names(runs):
    return [r.name for r in runs]


# -- local -------------------------------------------------------------------------------------------
def test_projects_and_runs(tmp_path, runs):
    api = trackline.Api()
    assert sorted(p.name for p in api.projects()) == ["cifar", "mnist"]
    mnist = [p for p in api.projects() if p.name == "mnist"][0]
    assert (mnist.run_count, mnist.running_count) == (3, 0)
    assert names(api.runs("mnist")) == ["c", "b", "a"]  # newest first
    assert names(api.runs("local/mnist", order="+created_at")) == ["a", "b", "c"]
    assert names(api.runs("mnist", order="name")) == ["a", "b", "c"]
    assert names(api.runs("mnist", order="-summary_metrics.best")) == ["b", "c", "a"]
    assert names(api.runs("mnist", order="config.lr")) == ["c", "a", "b"]
    assert api.runs("nothing") == []
    assert len(trackline.Api(str(tmp_path / "root")).runs("cifar")) == 1


def test_run_object(tmp_path, runs):
    run = trackline.Api().run("mnist/" + runs["a"])
    assert (run.id, run.name, run.state, run.group, run.tags) == (
        runs["a"], "a", "finished", "g1", ["baseline"])
    assert run.config == {"lr": 0.01, "opt": {"name": "adam"}}
    assert run.summary["best"] == 0.2 and run.summary["loss"] == 0.2 and run.summary["_step"] == 3
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", run.created_at)
    assert run.path == ["local", "mnist", runs["a"]]
    assert run.url.endswith("/projects/mnist/runs/" + runs["a"])
    failed = trackline.Api().run("local/mnist/runs/" + runs["c"])  # W&B's URL-style path
    assert failed.state == "failed" and failed.config == {"lr": 0.001}  # "_" keys hidden
    with pytest.raises(trackline.CommError):
        trackline.Api().run("mnist/nosuchid")
    with pytest.raises(trackline.UsageError):
        trackline.Api().run("justone")


@pytest.mark.parametrize("filters, expected", [
    ({"config.lr": 0.01}, ["a"]),
    ({"config.lr.value": 0.01}, ["a"]),  # W&B's stored form
    ({"config.opt.name": "sgd"}, ["b"]),
    ({"state": "finished"}, ["b", "a"]),
    ({"state": "failed", "config.lr": {"$lt": 0.01}}, ["c"]),
    ({"config.lr": {"$gt": 0.005, "$lte": 0.1}}, ["b", "a"]),
    ({"config.lr": {"$in": [0.1, 0.001]}}, ["c", "b"]),
    ({"config.lr": {"$nin": [0.1]}}, ["c", "a"]),
    ({"tags": "fast"}, ["b"]),
    ({"tags": {"$in": ["baseline"]}}, ["b", "a"]),
    ({"summary_metrics.best": {"$gte": 0.6}}, ["c", "b"]),
    ({"$or": [{"config.lr": 0.1}, {"group": "g2"}]}, ["c", "b"]),
    ({"$and": [{"group": "g1"}, {"config.lr": {"$ne": 0.1}}]}, ["a"]),
    ({"display_name": {"$regex": "^[ab]$"}}, ["b", "a"]),
    ({"config._secret": {"$exists": True}}, ["c"]),
    ({"config.missing": None}, ["c", "b", "a"]),
    ({"created_at": {"$gt": "2000-01-01T00:00:00"}}, ["c", "b", "a"]),
    ({"created_at": {"$lt": 946684800}}, []),  # numbers compare unix seconds
])
def test_filters(shared, filters, expected):
    api, _ = shared
    assert names(api.runs("mnist", filters=filters)) == expected


def test_history_and_scan_history(tmp_path, runs):
    run = trackline.Api().run("mnist/" + runs["c"])
    rows = list(run.scan_history())
    assert [r["_step"] for r in rows] == [0, 1, 2, 3]
    assert math.isnan(rows[1]["loss"]) and rows[1]["val/acc"] != rows[1]["val/acc"]
    losses = [r["loss"] for r in run.scan_history(keys=["loss"])]
    assert losses[0] == 1.0 and math.isnan(losses[1]) and losses[2] == 0.6
    assert list(run.scan_history(keys=["loss", "lr_now"])) == []  # never logged together
    assert [r["_step"] for r in run.scan_history(min_step=1, max_step=3)] == [1, 2]
    hist = run.history(keys=["loss"], pandas=False)
    assert [sorted(r) for r in hist] == [["_step", "loss"]] * 3
    assert [r["_step"] for r in run.history(pandas=False)] == [0, 1, 2, 3]
    by_epoch = run.history(keys=["loss"], x_axis="epoch", pandas=False)
    assert [r["epoch"] for r in by_epoch] == [0, 1, 2]


def test_history_skips_partial_and_bad_lines(tmp_path, runs):
    path = os.path.join(str(tmp_path / "root"), "cifar", runs["d"], "history.jsonl")
    with open(path, "ab") as f:
        f.write(b"not json\n{\"_step\": 1, \"x\": 2}\n{\"_step\": 2, \"x\"")
    run = trackline.Api().run("cifar/" + runs["d"])
    assert [r["x"] for r in run.scan_history()] == [1, 2]


def test_history_samples_evenly(tmp_path):
    run = trackline.init(project="big")
    for i in range(1001):
        trackline.log({"v": i})
    trackline.finish()
    hist = trackline.Api().run("big/" + run.id).history(samples=11, pandas=False)
    assert [r["v"] for r in hist] == list(range(0, 1001, 100))
    assert sample_evenly(list(range(5)), 10) == list(range(5))
    assert sample_evenly(list(range(5)), 2) == [0, 4]
    assert len(list(trackline.Api().run("big/" + run.id).scan_history(page_size=7))) == 1001


def test_history_as_a_dataframe(tmp_path, runs):
    pd = pytest.importorskip("pandas")
    df = trackline.Api().run("mnist/" + runs["a"]).history(keys=["loss", "val/acc"])
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == ["_step", "loss", "val/acc"]
    assert df["loss"].tolist() == [0.9, 0.5, 0.2]


def test_history_without_pandas_is_a_list(tmp_path, runs, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pandas", None)
    hist = trackline.Api().run("mnist/" + runs["a"]).history(keys=["loss"])
    assert isinstance(hist, list) and [r["loss"] for r in hist] == [0.9, 0.5, 0.2]


def test_crashed_runs_are_reported(tmp_path):
    run = trackline.init(project="p")
    trackline.finish()
    path = os.path.join(run.dir, "run.json")
    meta = json.load(open(path))
    proc = subprocess.Popen(["true"])
    proc.wait()  # a pid that no longer exists
    meta.update(state="running", pid=proc.pid, host=socket.gethostname(), heartbeat_at=time.time())
    json.dump(meta, open(path, "w"))
    assert trackline.Api().run("p/" + run.id).state == "crashed"
    meta.update(pid=os.getpid())  # alive, fresh heartbeat
    json.dump(meta, open(path, "w"))
    assert trackline.Api().run("p/" + run.id).state == "running"
    # A heartbeat is never earlier than created_at (the daemon's rule), so both move back.
    meta.update(created_at=time.time() - 3700, heartbeat_at=time.time() - 3600)
    json.dump(meta, open(path, "w"))
    assert trackline.Api().run("p/" + run.id).state == "crashed"


def test_api_on_a_missing_root_is_empty(tmp_path):
    api = trackline.Api(root=str(tmp_path / "nowhere"))
    assert api.projects() == [] and api.runs("x") == []
    with pytest.raises(trackline.UsageError):
        api.runs()
    assert trackline.Api(overrides={"project": "x"}, root=str(tmp_path)).runs() == []


# -- through a daemon ---------------------------------------------------------------------------------
@pytest.fixture
def daemon(tmp_path):
    binary = os.environ.get("TRACKLINE_BIN")
    if not binary or not os.access(binary, os.X_OK):
        pytest.skip("set TRACKLINE_BIN to a trackline daemon binary to test Api(url=...)")
    proc = subprocess.Popen(
        [binary, "serve", "--dir", str(tmp_path / "root"), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        line = proc.stdout.readline()
        match = re.search(r"trackline: serving .* at (http://127\.0\.0\.1:\d+)/", line)
        assert match, line
        yield match.group(1)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_api_through_a_daemon_matches_the_local_reading(tmp_path, daemon):
    ids = make_runs()
    remote, local = trackline.Api(url=daemon), trackline.Api()
    assert wait_for(lambda: len(remote.runs("mnist")) == 3 and len(remote.runs("cifar")) == 1, 20)
    assert sorted(p.name for p in remote.projects()) == ["cifar", "mnist"]
    for flt in ({}, {"config.lr": 0.01}, {"state": "failed"}, {"tags": "baseline"}):
        assert names(remote.runs("mnist", filters=flt)) == names(local.runs("mnist", filters=flt))
    r, l = remote.run("mnist/" + ids["c"]), local.run("mnist/" + ids["c"])
    assert (r.id, r.name, r.state, r.tags, r.group, r.created_at) == (
        l.id, l.name, l.state, l.tags, l.group, l.created_at)
    assert r.config == l.config and r.summary["best"] == l.summary["best"]
    rows_r, rows_l = list(r.scan_history()), list(l.scan_history())
    assert json.dumps(rows_r) == json.dumps(rows_l)  # NaN included
    assert r.history(keys=["loss"], pandas=False)[0] == {"_step": 0, "loss": 1.0}
    with pytest.raises(trackline.CommError):
        remote.run("mnist/nosuchid")
    with pytest.raises(trackline.CommError):
        trackline.Api(url="http://127.0.0.1:9", timeout=2).projects()
