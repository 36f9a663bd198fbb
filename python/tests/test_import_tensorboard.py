"""``trackline import tensorboard``: event files written by tensorboardX (the writer PyTorch's
``torch.utils.tensorboard`` is modelled on) imported into a data directory: every scalar point at
its step, histograms as W&B histogram values with every count, images as the same PNG bytes, text
as string values; one run per folder of event files; importing again changes nothing; a damaged
file imports every whole record; ``add_hparams``' hyperparameters become the config of its session
run and of the writer's run, and change nothing else.

Needs tensorboardX and numpy (requirements-media.txt) and the daemon binary; skipped without them."""

import glob
import json
import math
import os
import subprocess

import pytest

from conftest import read_history

tensorboardX = pytest.importorskip("tensorboardX")
np = pytest.importorskip("numpy")

REPO_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("TRACKLINE_BIN") or os.path.join(REPO_DIR, "target", "debug", "trackline")


def import_tb(logdir, root, *extra):
    return subprocess.run([BIN, "import", "tensorboard", str(logdir), "--dir", str(root), *extra],
                          capture_output=True, text=True, timeout=300)


def runs_by_name(root):
    out = {}
    for run_json in glob.glob(os.path.join(str(root), "*", "*", "run.json")):
        with open(run_json) as f:
            out[json.load(f)["name"]] = os.path.dirname(run_json)
    return out


@pytest.fixture()
def logdir(tmp_path):
    if not os.path.exists(BIN):
        pytest.skip("no daemon binary: cargo build -p trackline, or set TRACKLINE_BIN")
    top = tmp_path / "logs"
    image = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
    with tensorboardX.SummaryWriter(str(top / "run_a")) as w:
        for step in range(50):
            w.add_scalar("loss/train", 1.0 / (step + 1), step)
            if step % 10 == 0:
                w.add_scalar("loss/val", 2.0 / (step + 1), step)
        w.add_histogram("weights", np.array([0.5, 1.0, 1.0, 2.0, 3.5]), 49)
        w.add_image("sample", image, 49)
        w.add_text("notes", "first try", 0)
    with tensorboardX.SummaryWriter(str(top / "sweep" / "lr=0.1")) as w:
        for step in range(0, 30, 3):
            w.add_scalar("acc", step / 30.0, step)
    return {"dir": top, "image": image}


def test_scalars_histograms_images_and_text_arrive(logdir, tmp_path):
    root = tmp_path / "root"
    out = import_tb(logdir["dir"], root)
    assert out.returncode == 0, out.stderr
    assert "imported 2 runs" in out.stderr
    runs = runs_by_name(root)
    assert set(runs) == {"run_a", "sweep/lr=0.1"}
    assert all(os.path.basename(os.path.dirname(d)) == "logs" for d in runs.values())

    rows = read_history(runs["run_a"])
    train = {r["_step"]: r["loss/train"] for r in rows if "loss/train" in r}
    assert sorted(train) == list(range(50))
    for step, value in train.items():
        assert value == pytest.approx(1.0 / (step + 1), rel=1e-6)
    assert sorted(r["_step"] for r in rows if "loss/val" in r) == [0, 10, 20, 30, 40]
    assert [r["_step"] for r in rows] == sorted(r["_step"] for r in rows)

    last = rows[-1]
    hist = last["weights"]
    assert hist["_type"] == "histogram"
    assert sum(hist["values"]) == 5
    assert len(hist["bins"]) == len(hist["values"]) + 1
    assert hist["bins"][0] == 0.5 and hist["bins"][-1] == 3.5

    ref = last["sample"]
    assert ref["_type"] == "image-file" and ref["width"] == 5 and ref["height"] == 4
    png = open(os.path.join(runs["run_a"], ref["path"]), "rb").read()
    assert png.startswith(b"\x89PNG") and len(png) == ref["size"]
    from PIL import Image
    import io
    decoded = np.array(Image.open(io.BytesIO(png)))
    assert (decoded == np.transpose(logdir["image"], (1, 2, 0))).all()

    assert rows[0]["notes"] == "first try"
    with open(os.path.join(runs["run_a"], "summary.json")) as f:
        summary = json.load(f)
    assert summary["loss/train"] == pytest.approx(1.0 / 50, rel=1e-6)

    acc = read_history(runs["sweep/lr=0.1"])
    assert [r["_step"] for r in acc] == list(range(0, 30, 3))


def test_importing_again_changes_nothing_and_new_events_replace(logdir, tmp_path):
    root = tmp_path / "root"
    assert import_tb(logdir["dir"], root).returncode == 0
    again = import_tb(logdir["dir"], root)
    assert again.returncode == 0, again.stderr
    assert "2 already imported" in again.stderr
    with tensorboardX.SummaryWriter(str(logdir["dir"] / "sweep" / "lr=0.1")) as w:
        w.add_scalar("acc", 1.0, 99)
    third = import_tb(logdir["dir"], root)
    assert third.returncode == 0, third.stderr
    assert "imported 1 runs" in third.stderr and "1 already imported" in third.stderr
    steps = [r["_step"] for r in read_history(runs_by_name(root)["sweep/lr=0.1"])]
    assert steps[-1] == 99
    assert glob.glob(str(root / ".trackline" / "trash" / "logs" / "*"))


def test_a_damaged_event_file_imports_every_whole_record(logdir, tmp_path):
    (event_file,) = glob.glob(str(logdir["dir"] / "run_a" / "events.out.tfevents.*"))
    data = bytearray(open(event_file, "rb").read())
    data[len(data) // 2] ^= 0xFF
    with open(event_file, "wb") as f:
        f.write(data[:-5])
    root = tmp_path / "root"
    out = import_tb(logdir["dir"] / "run_a", root, "--project", "damaged")
    assert out.returncode == 0, out.stderr
    assert "damaged parts skipped" in out.stderr
    (run_dir,) = runs_by_name(root).values()
    rows = read_history(run_dir)
    assert 30 < len(rows) < 51


def test_follow_appends_steps_as_they_complete(tmp_path):
    if not os.path.exists(BIN):
        pytest.skip("no daemon binary")
    import signal
    import time

    logdir = tmp_path / "live"
    root = tmp_path / "root"
    writer = tensorboardX.SummaryWriter(str(logdir / "run"), max_queue=1, flush_secs=1)
    for step in range(5):
        writer.add_scalar("loss", 1.0 / (step + 1), step)
    writer.flush()
    follower = subprocess.Popen([BIN, "import", "tensorboard", str(logdir), "--dir", str(root),
                                 "--follow", "--interval", "0.2"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def steps():
            runs = runs_by_name(root)
            if "run" not in runs or not os.path.exists(os.path.join(runs["run"], "history.jsonl")):
                return []
            return [r["_step"] for r in read_history(runs["run"])]

        deadline = time.monotonic() + 30
        while steps() != [0, 1, 2, 3] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert steps() == [0, 1, 2, 3]  # step 4 is held until a later step appears
        with open(os.path.join(runs_by_name(root)["run"], "run.json")) as f:
            assert json.load(f)["state"] == "running"
        for step in range(5, 8):
            writer.add_scalar("loss", 1.0 / (step + 1), step)
            writer.add_scalar("acc", step / 10.0, step)
            writer.add_scalar("grad_norm", float("nan") if step == 7 else 1.0, step)
        writer.flush()
        deadline = time.monotonic() + 30
        while steps() != list(range(7)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert steps() == list(range(7))
        writer.add_hparams({"lr": 0.1, "opt": "sgd", "wd": float("nan")},
                           {"hparam/loss": 0.125})  # a sub-folder
        writer.close()  # flushes step 7's last value; the follow reads it within its interval
        time.sleep(1.0)
    finally:
        writer.close()
        follower.send_signal(signal.SIGINT)
        out, err = follower.communicate(timeout=30)
    assert follower.returncode == 0, err
    run_dir = runs_by_name(root)["run"]
    rows = read_history(run_dir)
    assert [r["_step"] for r in rows] == list(range(8))
    assert rows[7]["acc"] == pytest.approx(0.7)
    with open(os.path.join(run_dir, "run.json")) as f:
        assert json.load(f)["state"] == "finished"
    # NaN stays a number in both files, as a one-shot import writes it (not the string "NaN").
    with open(os.path.join(run_dir, "summary.json")) as f:
        summary = json.load(f)
    assert summary["loss"] == pytest.approx(1.0 / 8)
    assert isinstance(summary["grad_norm"], float) and math.isnan(summary["grad_norm"])
    with open(os.path.join(run_dir, "config.json")) as f:
        config = json.load(f)
    wd = config.pop("wd")
    assert isinstance(wd, float) and math.isnan(wd)
    assert config == {"lr": 0.1, "opt": "sgd"}


def _write_training(logdir, hparams=None):
    """Two runs; ``run_a``'s writer calls ``add_hparams`` when ``hparams`` are given, which
    tensorboardX writes into a session folder of its own, ``run_a/<time.time()>/``."""
    with tensorboardX.SummaryWriter(str(logdir / "run_a")) as w:
        for step in range(5):
            w.add_scalar("loss", 1.0 / (step + 1), step)
        w.add_histogram("weights", np.array([0.5, 1.0, 2.0]), 4)
        w.add_text("notes", "first try", 0)
        if hparams is not None:
            w.add_hparams(hparams, {"hparam/accuracy": 0.75, "hparam/loss": 0.25}, global_step=4)
    with tensorboardX.SummaryWriter(str(logdir / "run_b")) as w:
        w.add_scalar("acc", 0.5, 0)


def _run_files(run_dir):
    """What a run holds, wall times left out (the two logdirs are written at different times)."""
    times = ("_timestamp", "_runtime", "created_at", "heartbeat_at", "finished_at")
    out = {"history": [{k: v for k, v in row.items() if k not in times}
                        for row in read_history(run_dir)]}
    for name in ("run.json", "summary.json", "config.json"):
        with open(os.path.join(run_dir, name)) as f:
            out[name] = {k: v for k, v in json.load(f).items() if k not in times}
    out["media"] = sorted(os.path.relpath(p, run_dir)
                          for p in glob.glob(os.path.join(run_dir, "media", "**", "*"), recursive=True))
    return out


def test_add_hparams_become_the_config_and_nothing_else_changes(tmp_path):
    if not os.path.exists(BIN):
        pytest.skip("no daemon binary: cargo build -p trackline, or set TRACKLINE_BIN")
    plain, with_hp = tmp_path / "plain" / "logs", tmp_path / "hp" / "logs"
    _write_training(plain)
    _write_training(with_hp, {"lr": 0.01, "bsize": 32, "opt": "adam", "nesterov": True,
                              "dropout": None})
    out = import_tb(plain, tmp_path / "root_plain")
    assert out.returncode == 0, out.stderr
    out = import_tb(with_hp, tmp_path / "root_hp")
    assert out.returncode == 0, out.stderr
    assert "imported 3 runs" in out.stderr and "0 damaged parts skipped" in out.stderr

    plain_runs, hp_runs = runs_by_name(tmp_path / "root_plain"), runs_by_name(tmp_path / "root_hp")
    (session,) = set(hp_runs) - set(plain_runs)
    assert session.startswith("run_a/") and float(session[len("run_a/"):]) > 0
    assert set(plain_runs) == {"run_a", "run_b"}

    # tensorboardX drops a None value; numbers are the plugin's doubles (32 is 32.0).
    expected = {"lr": 0.01, "bsize": 32.0, "opt": "adam", "nesterov": True}
    for name in ("run_a", session):
        config = _run_files(hp_runs[name])["config.json"]
        assert config == expected, name
        assert type(config["bsize"]) is float and type(config["nesterov"]) is bool

    # The writer's run gains only its config; the session run is what it was, plus its config.
    a_plain, a_hp = _run_files(plain_runs["run_a"]), _run_files(hp_runs["run_a"])
    assert a_plain["config.json"] == {}
    a_hp["config.json"] = {}
    assert a_hp == a_plain
    assert _run_files(hp_runs["run_b"]) == _run_files(plain_runs["run_b"])
    assert _run_files(plain_runs["run_b"])["config.json"] == {}
    rows = read_history(hp_runs[session])
    assert [(r["_step"], r["hparam/accuracy"], r["hparam/loss"]) for r in rows] == [(4, 0.75, 0.25)]
    assert set(rows[0]) == {"_step", "_timestamp", "_runtime", "hparam/accuracy", "hparam/loss"}

    # A session folder that appears later (its writer's own event files unchanged) makes the
    # run import again: its config gains the new keys, keys it had keep their first value.
    import shutil
    with tensorboardX.SummaryWriter(str(tmp_path / "elsewhere")) as w:
        w.add_hparams({"lr": 0.5, "warmup": 3}, {"hparam/accuracy": 0.8}, name="later")
    shutil.move(str(tmp_path / "elsewhere" / "later"), str(with_hp / "run_a" / "later"))
    again = import_tb(with_hp, tmp_path / "root_hp")
    assert again.returncode == 0, again.stderr
    assert "imported 2 runs" in again.stderr and "2 already imported" in again.stderr  # run_a, later
    config = _run_files(runs_by_name(tmp_path / "root_hp")["run_a"])["config.json"]
    assert config == {**expected, "warmup": 3.0}
