"""``init(sync_tensorboard=True)``: what a tensorboardX writer writes is logged into the run as the
real wandb 0.31 logs it (same rows, keys, steps and kinds), plus text, which wandb drops; event
files are read without TensorFlow (``_tfevents.py``), torn tails are left for the next read."""

import glob
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import read_history, subprocess_env
from trackline import _tfevents

pytest.importorskip("tensorboardX")

SCRIPT = """
    import numpy as np
    from tensorboardX import SummaryWriter
    w = SummaryWriter(logdir=LOGDIR)
    for step in range(4):
        w.add_scalar("train/loss", 1.0 / (step + 1), step)
        w.add_scalar("val/acc", 0.5 + step * 0.1, step * 2)
    w.add_histogram("weights", np.arange(10.0), 3)
    w.add_text("note", "hello", 1)
    w.add_image("imgs/first", np.zeros((3, 8, 8)), 2)
    w.close()
"""

_OWN = ("_step", "_timestamp", "_runtime")


def _rows_shape(rows):
    """Each row as ``(global_step, sorted keys, kind of each value)``."""
    shaped = []
    for row in rows:
        kinds = {}
        for key, value in row.items():
            if key.startswith(_OWN) or key == "global_step":
                continue
            if isinstance(value, dict):
                kinds[key] = value.get("_type")
            else:  # wandb writes a float32 1.0 as 1
                kinds[key] = "number" if isinstance(value, (int, float)) else type(value).__name__
        shaped.append((row.get("global_step"), sorted(kinds.items())))
    return shaped


def _wandb_rows(tmp_path):
    pytest.importorskip("wandb")
    pytest.importorskip("tensorboard")  # wandb's sync needs the tensorboard package
    from wandb_offline import WandbRun

    root = tmp_path / "wb"
    root.mkdir()
    code = textwrap.dedent(SCRIPT).replace("LOGDIR", repr(str(tmp_path / "wb_tb")))
    (root / "s.py").write_text(
        "import wandb\nrun = wandb.init(mode='offline', project='p', dir=%r, "
        "sync_tensorboard=True)\n%s\nrun.finish()\n" % (str(root), code))
    env = dict(os.environ, WANDB_SILENT="true", WANDB_MODE="offline")
    done = subprocess.run([sys.executable, str(root / "s.py")], cwd=str(root), env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    (run_dir,) = glob.glob(str(root / "wandb" / "offline-run-*"))
    return WandbRun(run_dir).history


def _trackline_run(tmp_path):
    code = textwrap.dedent(SCRIPT).replace("LOGDIR", repr(str(tmp_path / "tl_tb")))
    script = tmp_path / "tl.py"
    script.write_text("import trackline as wandb\nrun = wandb.init(project='p', "
                      "sync_tensorboard=True)\n%s\nprint(run.id)\nrun.finish()\n" % code)
    root = tmp_path / "tl_root"
    done = subprocess.run([sys.executable, str(script)], cwd=str(tmp_path),
                          env=subprocess_env(root), capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return os.path.join(str(root), "p", done.stdout.split()[-1])


def test_sync_tensorboard_logs_what_wandb_logs(tmp_path):
    wb_rows = _wandb_rows(tmp_path)
    run_dir = _trackline_run(tmp_path)
    rows = read_history(run_dir)
    text = [r for r in rows if "note/text_summary" in r]
    assert [(r["global_step"], r["note/text_summary"]) for r in text] == [(1, "hello")]
    ours = _rows_shape([r for r in rows if "note/text_summary" not in r])
    assert ours == _rows_shape(wb_rows)
    assert [r["train/loss"] for r in rows if "train/loss" in r] == pytest.approx(
        [1.0, 0.5, 1 / 3, 0.25])
    # The event file is copied into the run's files, as wandb does.
    assert glob.glob(os.path.join(run_dir, "files", "events.out.tfevents.*"))


def _record(payload):
    import struct

    header = struct.pack("<Q", len(payload))
    return (header + struct.pack("<I", _tfevents._masked(_tfevents.crc32c(header))) + payload
            + struct.pack("<I", _tfevents._masked(_tfevents.crc32c(payload))))


def test_records_torn_tail_waits_and_damage_is_reported():
    whole = _record(b"abc") + _record(b"defg")
    for cut in range(len(_record(b"abc")), len(whole)):
        records, offset = _tfevents.read_records(whole[:cut])
        assert records == [b"abc"] and offset == len(_record(b"abc"))
    assert _tfevents.read_records(whole) == ([b"abc", b"defg"], len(whole))
    damaged = bytearray(whole)
    damaged[-6] ^= 0xFF
    with pytest.raises(_tfevents.CorruptRecord) as err:
        _tfevents.read_records(bytes(damaged))
    assert err.value.offset == len(_record(b"abc"))


def test_crc32c_known_value():
    assert _tfevents.crc32c(b"123456789") == 0xE3069283
