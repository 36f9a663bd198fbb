"""``trackline import wandb``: a training-like script run under the real ``wandb`` (0.31, offline)
and under trackline (``import trackline as wandb``); the W&B run's ``.wandb`` file imported into a
data directory and compared with trackline's own recording of the same script: run fields, config
keys, history rows per key, summary keys, media files, console lines. Then re-importing changes
nothing, and a truncated or damaged ``.wandb`` imports every whole record.

Needs wandb and numpy (requirements-media.txt) and the daemon binary; skipped without them."""

import glob
import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import read_history, subprocess_env

pytest.importorskip("wandb")
pytest.importorskip("numpy")

REPO_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("TRACKLINE_BIN") or os.path.join(REPO_DIR, "target", "debug", "trackline")

SCRIPT = r'''
import math, os, sys
import numpy as np
if sys.argv[1] == "wandb":
    import wandb
    run = wandb.init(project="imported", mode="offline", dir=sys.argv[2], name="first try",
                     tags=["baseline", "cnn"], notes="a note", group="sweep-1", job_type="train",
                     config={"lr": 0.01, "optimizer": {"name": "adam", "betas": [0.9, 0.99]}})
else:
    import trackline as wandb
    run = wandb.init(project="imported", name="first try", tags=["baseline", "cnn"],
                     notes="a note", group="sweep-1", job_type="train",
                     config={"lr": 0.01, "optimizer": {"name": "adam", "betas": [0.9, 0.99]}})
wandb.define_metric("val/loss", summary="min")
for epoch in range(12):
    wandb.log({"train/loss": 1.0 / (epoch + 1), "train/acc": epoch / 12.0, "epoch": epoch,
               "odd": float("nan") if epoch == 3 else epoch * 0.5, "note": "text %d" % epoch})
    if epoch % 4 == 3:
        wandb.log({"val/loss": 2.0 / (epoch + 1), "val/inf": math.inf})
    print("epoch %d done" % epoch)
wandb.log({"sample": wandb.Image(np.arange(48, dtype=np.uint8).reshape(4, 4, 3), caption="x"),
           "weights": wandb.Histogram([1, 2, 2, 3])})
wandb.log({"late": 1.5}, step=40)
weights = os.path.join(sys.argv[2], "weights.bin")
with open(weights, "wb") as f:
    f.write(bytes(range(256)) * 40)
art = wandb.Artifact("model-x", type="model", metadata={"score": 0.5})
art.add_file(weights)
run.log_artifact(art, aliases=["best"])
run.config.update({"batch_size": 64})
run.summary["best_acc"] = 0.93
print("bye", file=sys.stderr)
wandb.finish()
'''


def run_script(kind, workdir, env):
    script = os.path.join(workdir, "train.py")
    with open(script, "w") as f:
        f.write(SCRIPT)
    out = subprocess.run([sys.executable, script, kind, workdir], cwd=workdir, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]


def import_wandb(paths, root, *extra):
    return subprocess.run([BIN, "import", "wandb", *paths, "--dir", root, *extra],
                          capture_output=True, text=True, timeout=300)


def only_run(root):
    runs = [d for d in glob.glob(os.path.join(root, "*", "*"))
            if os.path.isfile(os.path.join(d, "run.json"))]
    assert len(runs) == 1, runs
    return runs[0]


def rows_per_key(run_dir):
    counts = {}
    for row in read_history(run_dir):
        for key in row:
            counts[key] = counts.get(key, 0) + 1
    return counts


def dumps(rows):
    """Rows as text, so NaN values compare equal."""
    return [json.dumps(row, sort_keys=True) for row in rows]


def load(path):
    with open(path) as f:
        return json.load(f)


def media_files(run_dir):
    base = os.path.join(run_dir, "media")
    out = {}
    for path in glob.glob(os.path.join(base, "**", "*"), recursive=True):
        if os.path.isfile(path):
            with open(path, "rb") as f:
                out[os.path.relpath(path, base)] = f.read()
    return out


def console_texts(run_dir):
    with open(os.path.join(run_dir, "console.log")) as f:
        return [line.rstrip("\n").split(" ", 2)[1:] for line in f]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    if not os.path.exists(BIN):
        pytest.skip("no daemon binary: cargo build -p trackline, or set TRACKLINE_BIN")
    top = tmp_path_factory.mktemp("import")
    wandb_dir = top / "w"
    native_dir = top / "t"
    wandb_dir.mkdir()
    native_dir.mkdir()
    env = subprocess_env(str(native_dir / "root"))
    env.update({"WANDB_MODE": "offline", "WANDB_SILENT": "true", "WANDB_CONSOLE": "wrap",
                "WANDB_DATA_DIR": str(top / "wandb-data"), "WANDB_CACHE_DIR": str(top / "wc")})
    run_script("wandb", str(wandb_dir), env)
    run_script("trackline", str(native_dir), env)
    wandb_files = glob.glob(str(wandb_dir / "wandb" / "offline-run-*" / "run-*.wandb"))
    assert len(wandb_files) == 1
    return {"top": top, "wandb_root": str(wandb_dir / "wandb"), "wandb_file": wandb_files[0],
            "native": only_run(str(native_dir / "root"))}


def test_an_imported_run_matches_what_trackline_records(recorded, tmp_path):
    root = str(tmp_path / "root")
    out = import_wandb([recorded["wandb_root"]], root)
    assert out.returncode == 0, out.stderr
    assert "imported 1 runs" in out.stderr
    imported, native = only_run(root), recorded["native"]
    run = load(os.path.join(imported, "run.json"))
    assert os.path.basename(imported) == os.path.basename(os.path.dirname(
        recorded["wandb_file"])).rsplit("-", 1)[1]
    for field in ("name", "tags", "notes", "group", "job_type", "project"):
        assert run[field] == load(os.path.join(native, "run.json"))[field], field
    assert run["state"] == "finished" and run["exit_code"] == 0
    assert run["created_at"] > 1.7e9

    config = load(os.path.join(imported, "config.json"))
    assert config["optimizer"] == {"name": "adam", "betas": [0.9, 0.99]}
    public = lambda c: {k for k in c if not k.startswith("_")}
    assert public(config) == public(load(os.path.join(native, "config.json")))

    assert rows_per_key(imported) == rows_per_key(native)
    rows = read_history(imported)
    assert [r["_step"] for r in rows] == [r["_step"] for r in read_history(native)]
    assert rows[3]["odd"] != rows[3]["odd"]  # NaN kept as a number, not a string
    assert rows[4]["val/inf"] == float("inf")
    assert rows[-2]["sample"]["_type"] == "image-file"

    summary = load(os.path.join(imported, "summary.json"))
    assert public(summary) == public(load(os.path.join(native, "summary.json")))
    assert summary["val/loss"] == {"min": pytest.approx(2.0 / 12)}
    assert summary["best_acc"] == 0.93

    assert media_files(imported) == media_files(native)
    metrics = load(os.path.join(imported, "metrics.json"))
    assert metrics["val/loss"]["summary"] == ["min"]

    texts = console_texts(imported)
    assert ["stdout", "epoch 0 done"] in texts and ["stdout", "epoch 11 done"] in texts
    assert ["stderr", "bye"] in texts

    # The logged artifact is in the store, its bytes once, with its alias and the run's lineage.
    def version_of(root_dir):
        (path,) = glob.glob(os.path.join(root_dir, "imported", ".artifacts", "model-x", "v*.json"))
        return load(path)
    native_root = os.path.dirname(os.path.dirname(native))
    version, native_version = version_of(root), version_of(native_root)
    assert version["type"] == "model" and version["metadata"] == {"score": 0.5}
    assert version["run"] == os.path.basename(imported)
    assert version["digest"] == native_version["digest"]
    assert version["manifest"]["contents"] == native_version["manifest"]["contents"]
    digest = version["manifest"]["contents"]["weights.bin"]["digest"]
    blob = os.path.join(root, ".trackline", "blobs", digest[:2], digest[2:])
    assert open(blob, "rb").read() == bytes(range(256)) * 40
    with open(os.path.join(root, "imported", ".artifacts", "model-x", "aliases.jsonl")) as f:
        assert [json.loads(line)["alias"] for line in f] == ["best"]
    with open(os.path.join(imported, "artifacts.jsonl")) as f:
        (lineage,) = [json.loads(line) for line in f]
    assert (lineage["direction"], lineage["name"], lineage["version"]) == ("output", "model-x", 0)

    # Trackline's own reader reads it as a run.
    env = subprocess_env(root)
    check = subprocess.run([sys.executable, "-c",
                            "import trackline; r = trackline.Api().runs('imported')[0]; "
                            "print(r.name, len(list(r.scan_history())))"],
                           env=env, capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr
    assert check.stdout.split() == ["first", "try", str(len(rows))]


def test_importing_again_changes_nothing(recorded, tmp_path):
    root = str(tmp_path / "root")
    assert import_wandb([recorded["wandb_file"]], root).returncode == 0
    history = os.path.join(only_run(root), "history.jsonl")
    before = os.stat(history)
    again = import_wandb([os.path.dirname(recorded["wandb_file"])], root)
    assert again.returncode == 0, again.stderr
    assert "1 already imported" in again.stderr
    assert os.stat(history).st_ino == before.st_ino
    assert not os.listdir(os.path.join(root, ".trackline", "import"))


def test_a_truncated_or_damaged_file_imports_what_is_whole(recorded, tmp_path):
    full_root = str(tmp_path / "full")
    assert import_wandb([recorded["wandb_file"]], full_root).returncode == 0
    full_rows = read_history(only_run(full_root))
    with open(recorded["wandb_file"], "rb") as f:
        data = f.read()
    for i, cut in enumerate([len(data) // 2, len(data) - 3]):
        run_dir = tmp_path / ("cut%d" % i) / "offline-run-x-abc123"
        run_dir.mkdir(parents=True)
        path = run_dir / os.path.basename(recorded["wandb_file"])
        path.write_bytes(data[:cut])
        root = str(tmp_path / ("root%d" % i))
        out = import_wandb([str(path)], root)
        assert out.returncode == 0, out.stderr
        rows = read_history(only_run(root))
        assert 0 < len(rows) <= len(full_rows)
        assert dumps(rows) == dumps(full_rows[:len(rows)])
    damaged = bytearray(data)
    damaged[len(data) // 3] ^= 0xFF
    run_dir = tmp_path / "damaged" / "offline-run-x-abc123"
    run_dir.mkdir(parents=True)
    path = run_dir / os.path.basename(recorded["wandb_file"])
    path.write_bytes(bytes(damaged))
    out = import_wandb([str(path)], str(tmp_path / "root-damaged"))
    assert out.returncode == 0, out.stderr
    assert "damaged parts skipped" in out.stderr
    rows = read_history(only_run(str(tmp_path / "root-damaged")))
    assert 0 < len(rows) < len(full_rows) + 1
    full = {json.dumps(row, sort_keys=True) for row in full_rows}
    assert all(json.dumps(row, sort_keys=True) in full for row in rows)


def test_bad_input_is_refused_clearly(tmp_path):
    if not os.path.exists(BIN):
        pytest.skip("no daemon binary")
    not_wandb = tmp_path / "run-abc.wandb"
    not_wandb.write_bytes(b"{\"not\": \"wandb\"}")
    out = import_wandb([str(not_wandb)], str(tmp_path / "root"))
    assert out.returncode != 0
    assert "not a W&B run file" in out.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    out = import_wandb([str(empty)], str(tmp_path / "root"))
    assert out.returncode != 0 and "no W&B run files" in out.stderr
