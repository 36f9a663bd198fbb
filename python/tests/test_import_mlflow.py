"""``trackline import mlflow``: runs written by the real ``mlflow`` package (mlflow-skinny) to a
file store (``mlruns/``) and to a SQLite store (``sqlite:///mlflow.db``), imported into a data
directory and compared point for point with what MLflow's own client reads back: every metric's
steps, values and timestamps, params as config keys, run names, tags, notes, status, times and
artifact bytes. Deleted runs are left out and said so; importing again imports nothing twice and a
changed run replaces its earlier import; a damaged metrics line or an unreadable run is reported
and the rest still imports; the SQLite store is only read.

Needs mlflow-skinny, sqlalchemy and alembic (requirements-media.txt) and the daemon binary;
skipped without them."""

import glob
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys

import pytest

from conftest import read_history, subprocess_env

pytest.importorskip("mlflow")
pytest.importorskip("sqlalchemy")
pytest.importorskip("alembic")

REPO_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("TRACKLINE_BIN") or os.path.join(REPO_DIR, "target", "debug", "trackline")

#: Logs the same runs to the tracking URI argv[1] and dumps what MLflow reads back to argv[2].
SCRIPT = r'''
import json, math, os, sys, time
import mlflow
from mlflow import MlflowClient

mlflow.set_tracking_uri(sys.argv[1])
client = MlflowClient()
os.makedirs("art/plots", exist_ok=True)
with open("art/weights.bin", "wb") as f:
    f.write(bytes(range(256)) * 40)
with open("art/plots/curve.txt", "w") as f:
    f.write("a curve\n")

mlflow.set_experiment("vision/mnist")
with mlflow.start_run(run_name="first try", tags={"team": "vision", "seed": ""}) as run:
    mlflow.log_params({"lr": 0.01, "batch_size": 64, "optimizer": "adam", "betas": [0.9, 0.99],
                       "flag": True, "tiny": 1e-5, "big": 1e16, "version": "007"})
    mlflow.set_tag("mlflow.note.content", "a note")
    mlflow.set_tag("mlflow.source.git.commit", "9f1c2e0d")
    for step in range(20):
        mlflow.log_metric("train/loss", 1.0 / (step + 1), step=step)
        if step % 5 == 0:
            time.sleep(0.002)
            mlflow.log_metrics({"val/acc": step / 20.0, "val/top5": 0.5 + step / 40.0}, step=step)
    mlflow.log_metric("odd", float("nan"), step=3)
    mlflow.log_metric("odd", math.inf, step=4)
    mlflow.log_metric("odd", -math.inf, step=5)
    mlflow.log_metric("odd", 2.5e-7, step=6)
    mlflow.log_metric("late", 1.5, step=40)
    mlflow.log_artifact("art/weights.bin")
    mlflow.log_artifacts("art/plots", artifact_path="plots")
    with mlflow.start_run(run_name="child", nested=True):
        mlflow.log_metric("child/loss", 0.5, step=1)

with mlflow.start_run(run_name="crashed"):
    mlflow.log_metric("loss", 3.0, step=0)
    mlflow.end_run(status="FAILED")
with mlflow.start_run(run_name="stopped"):
    mlflow.log_metric("loss", 4.0, step=0)
    mlflow.end_run(status="KILLED")
# Logged without steps: MLflow puts every point at step 0.
with mlflow.start_run(run_name="no steps"):
    for i in range(6):
        if i % 2 == 0:
            mlflow.log_metrics({"loss": 1.0 - i / 10.0, "acc": i / 10.0})
        else:
            mlflow.log_metric("loss", 1.0 - i / 10.0)
        time.sleep(0.002)  # the file store cannot tell two calls of one millisecond apart
gone = mlflow.start_run(run_name="deleted")
mlflow.log_metric("loss", 9.0, step=0)
mlflow.end_run()
client.delete_run(gone.info.run_id)

mlflow.set_experiment("other")
exp = mlflow.get_experiment_by_name("other")
still = client.create_run(exp.experiment_id, run_name="still going")
client.log_param(still.info.run_id, "depth", "3")
client.log_metric(still.info.run_id, "loss", 0.25, step=7)

def artifacts(run_id, path=None):
    out = {}
    for item in client.list_artifacts(run_id, path):
        if item.is_dir:
            out.update(artifacts(run_id, item.path))
        else:
            local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=item.path,
                                                        dst_path="downloads/" + run_id)
            with open(local, "rb") as f:
                out[item.path] = f.read().hex()
    return out

truth = {}
for e in client.search_experiments(view_type=3):
    for r in client.search_runs([e.experiment_id], run_view_type=3):
        info, data = r.info, r.data
        truth[info.run_id] = {
            "experiment": e.name, "run_name": info.run_name, "status": info.status,
            "lifecycle_stage": info.lifecycle_stage, "start_time": info.start_time,
            "end_time": info.end_time, "user": info.user_id, "params": data.params,
            "tags": data.tags, "latest": data.metrics,
            "history": {k: [[m.step, m.timestamp, m.value]
                            for m in client.get_metric_history(info.run_id, k)]
                        for k in data.metrics},
            "artifacts": artifacts(info.run_id) if info.lifecycle_stage == "active" else {},
        }
with open(sys.argv[2], "w") as f:
    json.dump(truth, f)
'''

BIG = 1.7976931348623157e308


def logged(value):
    """A value MLflow read back as it was logged: its SQL store keeps ±inf as ±BIG."""
    return math.copysign(math.inf, value) if abs(value) == BIG else value


def same(a, b):
    return (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)) \
        or a == b


def import_mlflow(paths, root, *extra):
    return subprocess.run([BIN, "import", "mlflow", *map(str, paths), "--dir", str(root), *extra],
                          capture_output=True, text=True, timeout=300)


def runs_by_id(root):
    out = {}
    for run_json in glob.glob(os.path.join(str(root), "*", "*", "run.json")):
        out[os.path.basename(os.path.dirname(run_json))] = os.path.dirname(run_json)
    return out


def load(path):
    with open(path) as f:
        return json.load(f)


def files_of(run_dir):
    base = os.path.join(run_dir, "files")
    out = {}
    for path in glob.glob(os.path.join(base, "**", "*"), recursive=True):
        if os.path.isfile(path):
            with open(path, "rb") as f:
                out[os.path.relpath(path, base)] = f.read().hex()
    return out


def write_store(workdir, uri, env):
    workdir.mkdir(parents=True, exist_ok=True)
    script = workdir / "log.py"
    script.write_text(SCRIPT)
    truth = workdir / "truth.json"
    out = subprocess.run([sys.executable, str(script), uri, str(truth)], cwd=str(workdir),
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return load(truth)


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    if not os.path.exists(BIN):
        pytest.skip("no daemon binary: cargo build -p trackline, or set TRACKLINE_BIN")
    top = tmp_path_factory.mktemp("mlflow")
    env = subprocess_env(str(top / "unused"))
    env.update({"MLFLOW_ALLOW_FILE_STORE": "true", "GIT_PYTHON_REFRESH": "quiet"})
    files = write_store(top / "files", (top / "files" / "mlruns").as_uri(), env)
    db = top / "sql" / "mlflow.db"
    sql = write_store(top / "sql", "sqlite:///" + str(db), env)
    return {"files": (top / "files" / "mlruns", files), "sql": (db, sql), "top": top}


def check_run(run_dir, truth):
    """Everything MLflow reads back of one run is in the imported run."""
    run = load(os.path.join(run_dir, "run.json"))
    tags = truth["tags"]
    assert run["name"] == tags["mlflow.runName"] == truth["run_name"]
    assert run["project"] == truth["experiment"].replace("/", "_")
    assert run["user"] == truth["user"]
    assert sorted(run["tags"]) == sorted(k if not v else "%s=%s" % (k, v)
                                         for k, v in tags.items() if not k.startswith("mlflow."))
    assert run["notes"] == tags.get("mlflow.note.content")
    assert run["group"] == tags.get("mlflow.parentRunId")
    assert run["command"] == ([tags["mlflow.source.name"]] if tags.get("mlflow.source.name") else [])
    state = {"FINISHED": "finished", "FAILED": "failed", "KILLED": "failed",
             "RUNNING": "running"}[truth["status"]]
    assert run["state"] == state
    assert run["created_at"] == pytest.approx(truth["start_time"] / 1000.0)
    if state == "running":
        assert run["finished_at"] is None
    else:
        assert run["finished_at"] == pytest.approx(truth["end_time"] / 1000.0)
    assert run["exit_code"] == (0 if state == "finished" else None)

    config = load(os.path.join(run_dir, "config.json"))
    assert config["_mlflow"]["status"] == truth["status"]
    assert {k for k in config if not k.startswith("_")} == set(truth["params"])
    for key, text in truth["params"].items():
        assert str(config[key]) == text, key  # the number (or string) reads back as MLflow's

    rows = read_history(run_dir)
    steps = [r["_step"] for r in rows]
    assert steps == sorted(set(steps))
    stepless = all(step == 0 for points in truth["history"].values() for step, _, _ in points) \
        and any(len(points) > 1 for points in truth["history"].values())
    by_step = {}
    for key, points in truth["history"].items():
        for step, ts, value in points:
            by_step.setdefault(step, []).append(ts)
        got = [(r["_step"], r[key], r["_timestamp"]) for r in rows if key in r]
        if stepless:
            # One row per log call, in time order.
            assert [v for _, v, _ in got] == [logged(v) for _, _, v in points], key
            assert [round(t * 1000) for _, _, t in got] == [ts for _, ts, _ in points], key
        else:
            assert [s for s, _, _ in got] == [s for s, _, _ in points], key
            assert all(same(a, logged(b)) for (_, a, _), (_, _, b) in zip(got, points)), key
    if not stepless:
        for row in rows:  # a row's time is its latest point's
            assert round(row["_timestamp"] * 1000) == max(by_step[row["_step"]])
    summary = load(os.path.join(run_dir, "summary.json"))
    assert set(summary) == set(truth["latest"])
    for key, value in truth["latest"].items():
        assert same(summary[key], logged(value)), key

    assert files_of(run_dir) == truth["artifacts"]


@pytest.mark.parametrize("kind", ["files", "sql"])
def test_every_run_arrives_point_for_point(stores, kind, tmp_path):
    source, truth = stores[kind]
    before = hashlib.sha256(source.read_bytes()).hexdigest() if kind == "sql" else None
    root = tmp_path / "root"
    out = import_mlflow([source], root)
    assert out.returncode == 0, out.stderr
    live = {rid: t for rid, t in truth.items() if t["lifecycle_stage"] == "active"}
    (deleted,) = [rid for rid, t in truth.items() if t["lifecycle_stage"] == "deleted"]
    assert "imported %d runs" % len(live) in out.stderr
    assert "run %s is deleted in MLflow" % deleted in out.stderr
    assert "1 runs left out (deleted)" in out.stderr
    runs = runs_by_id(root)
    assert set(runs) == set(live)
    for run_id, run_truth in live.items():
        check_run(runs[run_id], run_truth)

    # Spot checks that do not lean on MLflow's read-back.
    by_name = {load(os.path.join(d, "run.json"))["name"]: d for d in runs.values()}
    assert set(by_name) == {"first try", "child", "crashed", "stopped", "no steps", "still going"}
    first = by_name["first try"]
    assert os.path.basename(os.path.dirname(first)) == "vision_mnist"
    config = load(os.path.join(first, "config.json"))
    assert (config["lr"], config["batch_size"], config["tiny"], config["big"]) == \
        (0.01, 64, 1e-5, 1e16)
    assert (config["optimizer"], config["betas"], config["flag"], config["version"]) == \
        ("adam", "[0.9, 0.99]", "True", "007")
    rows = {r["_step"]: r for r in read_history(first)}
    assert sorted(rows) == list(range(20)) + [40]
    assert rows[10]["val/acc"] == 0.5 and rows[10]["train/loss"] == 1.0 / 11
    assert math.isnan(rows[3]["odd"]) and rows[4]["odd"] == math.inf
    assert rows[5]["odd"] == -math.inf and rows[6]["odd"] == 2.5e-7
    assert load(os.path.join(first, "run.json"))["git"]["commit"] == "9f1c2e0d"
    assert open(os.path.join(first, "files", "weights.bin"), "rb").read() == bytes(range(256)) * 40
    assert load(os.path.join(by_name["child"], "run.json"))["group"] == os.path.basename(first)
    stepless = read_history(by_name["no steps"])
    assert [r["_step"] for r in stepless] == list(range(6))
    assert [r["loss"] for r in stepless] == [1.0 - i / 10.0 for i in range(6)]
    assert [r.get("acc") for r in stepless] == [0.0, None, 0.2, None, 0.4, None]
    assert load(os.path.join(by_name["still going"], "run.json"))["state"] == "running"
    if before is not None:
        assert hashlib.sha256(source.read_bytes()).hexdigest() == before

    # Trackline's own reader reads them as runs.
    check = subprocess.run([sys.executable, "-c",
                            "import trackline; r = trackline.Api().run('vision_mnist/%s'); "
                            "print(r.name, len(list(r.scan_history())))" % os.path.basename(first)],
                           env=subprocess_env(str(root)), capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr
    assert check.stdout.split() == ["first", "try", "21"]


def test_importing_again_imports_nothing_twice(stores, tmp_path):
    root = tmp_path / "root"
    sources = [stores["files"][0], "sqlite:///" + str(stores["sql"][0])]
    first = import_mlflow(sources, root)
    assert first.returncode == 0, first.stderr
    runs = runs_by_id(root)
    assert len(runs) == 12
    inodes = {rid: os.stat(os.path.join(d, "history.jsonl")).st_ino for rid, d in runs.items()}
    again = import_mlflow(sources, root)
    assert again.returncode == 0, again.stderr
    assert "imported 0 runs" in again.stderr and "12 already imported" in again.stderr
    assert {rid: os.stat(os.path.join(d, "history.jsonl")).st_ino
            for rid, d in runs_by_id(root).items()} == inodes
    assert not os.listdir(root / ".trackline" / "import")


def test_a_run_that_went_on_replaces_its_import(stores, tmp_path):
    store = tmp_path / "mlruns"
    shutil.copytree(stores["files"][0], store)
    root = tmp_path / "root"
    assert import_mlflow([store], root).returncode == 0
    (loss,) = glob.glob(str(store / "*" / "*" / "metrics" / "late"))
    with open(loss, "a") as f:
        f.write("4102444800000 2.5 41\n")
    again = import_mlflow([store], root)
    assert again.returncode == 0, again.stderr
    assert "imported 1 runs" in again.stderr and "5 already imported" in again.stderr
    run_id = os.path.basename(os.path.dirname(os.path.dirname(loss)))
    rows = read_history(runs_by_id(root)[run_id])
    assert rows[-1]["_step"] == 41 and rows[-1]["late"] == 2.5
    assert load(os.path.join(runs_by_id(root)[run_id], "summary.json"))["late"] == 2.5
    assert glob.glob(str(root / ".trackline" / "trash" / "*" / (run_id + "-*")))


def test_damage_is_reported_and_the_rest_imports(stores, tmp_path):
    store = tmp_path / "mlruns"
    shutil.copytree(stores["files"][0], store)
    truth = stores["files"][1]
    ids = {t["run_name"]: rid for rid, t in truth.items()}
    (first,) = glob.glob(str(store / "*" / ids["first try"]))
    with open(os.path.join(first, "metrics", "train", "loss"), "a") as f:
        f.write("not a metric line\n4102444800000 0.125\n")
    (crashed,) = glob.glob(str(store / "*" / ids["crashed"]))
    with open(os.path.join(crashed, "meta.yaml"), "w") as f:
        f.write("run_id: [unclosed\n")
    root = tmp_path / "root"
    out = import_mlflow([store], root)
    assert out.returncode != 0
    assert "1 failed" in out.stderr and "1 damaged parts skipped" in out.stderr
    assert "imported 5 runs" in out.stderr
    assert crashed in out.stderr and "not valid YAML" in out.stderr
    assert "metrics/train/loss line 21" in out.stderr
    runs = runs_by_id(root)
    assert ids["crashed"] not in runs and len(runs) == 5
    # The damaged line is left out; the whole line after it (no step: step 0) is kept.
    rows = read_history(runs[ids["first try"]])
    assert rows[0]["train/loss"] == 0.125
    assert [r["train/loss"] for r in rows[1:] if "train/loss" in r] == \
        [1.0 / (s + 1) for s in range(1, 20)]


def test_bad_input_is_refused_clearly(tmp_path):
    if not os.path.exists(BIN):
        pytest.skip("no daemon binary")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    out = import_mlflow([text], tmp_path / "root")
    assert out.returncode != 0 and "not an MLflow SQLite store" in out.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    out = import_mlflow([empty], tmp_path / "root")
    assert out.returncode != 0 and "no MLflow runs found" in out.stderr
    out = import_mlflow([empty], tmp_path / "root", "--follow")
    assert out.returncode != 0 and "--follow is for TensorBoard" in out.stderr
