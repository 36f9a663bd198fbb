"""``init(sync_tensorboard=True)``: what a tensorboardX writer writes is logged into the run as the
real wandb 0.31 logs it (same rows, keys, steps and kinds; ``add_scalars`` sub-run folders and
``add_hparams`` metrics under wandb's keys), plus text, which wandb drops, and the hyperparameters
of ``add_hparams`` in the config, which wandb ignores; event files are read without TensorFlow
(``_tfevents.py``), torn tails are left for the next read."""

import glob
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import read_history, read_json, subprocess_env
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
    w.add_histogram("wide", np.random.default_rng(3).normal(size=1000), 3)  # > 512 buckets
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


#: add_scalars (tensorboardX's <logdir>/<main>/<tag> folders, and torch's <logdir>/<main>_<tag>,
#: made here by hand), add_hparams (a sub-run folder with the hparams plugin's summaries).
SCALARS_SCRIPT = """
    import os
    from tensorboardX import SummaryWriter
    w = SummaryWriter(logdir=LOGDIR)
    torch_style = SummaryWriter(logdir=os.path.join(LOGDIR, "pair_b"))
    for step in range(3):
        w.add_scalar("loss", 1.0 / (step + 1), step)
        w.add_scalars("run_14h", {"xsinx": step * 1.0, "xcosx": step * 2.0, "tanx": 3.0}, step)
        torch_style.add_scalar("pair", step * 10.0, step)
    w.add_hparams({"lr": 0.1, "bsize": 32, "opt": "adam", "flag": True, "given": 7},
                  {"hparam/accuracy": 0.5, "hparam/loss": 0.25}, name="hp")
    torch_style.close()
    w.close()
"""


def _wandb_run(tmp_path, script=SCRIPT):
    pytest.importorskip("wandb")
    pytest.importorskip("tensorboard")  # wandb's sync needs the tensorboard package
    from wandb_offline import WandbRun

    root = tmp_path / "wb"
    root.mkdir()
    code = textwrap.dedent(script).replace("LOGDIR", repr(str(tmp_path / "wb_tb")))
    (root / "s.py").write_text(
        "import wandb\nrun = wandb.init(mode='offline', project='p', dir=%r, "
        "sync_tensorboard=True, config={'given': 1})\n%s\nrun.finish()\n" % (str(root), code))
    env = dict(os.environ, WANDB_SILENT="true", WANDB_MODE="offline")
    done = subprocess.run([sys.executable, str(root / "s.py")], cwd=str(root), env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    (run_dir,) = glob.glob(str(root / "wandb" / "offline-run-*"))
    return WandbRun(run_dir)


def _wandb_rows(tmp_path):
    return _wandb_run(tmp_path).history


def _trackline_run(tmp_path, script=SCRIPT):
    code = textwrap.dedent(script).replace("LOGDIR", repr(str(tmp_path / "tl_tb")))
    script = tmp_path / "tl.py"
    script.write_text("import trackline as wandb\nrun = wandb.init(project='p', "
                      "sync_tensorboard=True, config={'given': 1})\n%s\nprint(run.id)\n"
                      "run.finish()\n" % code)
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
    # Histograms hold wandb-core's bins and counts: the first bucket (from -inf) dropped when
    # empty, a histogram of more than 512 buckets rebinned to 512.
    def histograms(rows):
        return {(key, row["global_step"]): (value["bins"], value["values"])
                for row in rows for key, value in row.items()
                if isinstance(value, dict) and value.get("_type") == "histogram"}
    wb_hists, tl_hists = histograms(wb_rows), histograms(rows)
    assert set(tl_hists) == set(wb_hists) == {("weights", 3), ("wide", 3)}
    assert len(tl_hists[("wide", 3)][1]) == 512
    for key, (bins, values) in wb_hists.items():
        assert tl_hists[key][0] == pytest.approx(bins, rel=1e-12, abs=1e-300), key
        assert tl_hists[key][1] == pytest.approx(values, rel=1e-9), key
    # The event file is copied into the run's files at its path from the working folder (the
    # only folder followed gives no root to guess), as wandb does.
    assert glob.glob(os.path.join(run_dir, "files", "tl_tb", "events.out.tfevents.*"))


def _series(rows):
    """Each key's ``(global_step, value)`` pairs in order (the order of rows from different
    folders interleaves differently from one wandb run to the next; each folder's does not)."""
    out = {}
    for row in rows:
        for key, value in row.items():
            if not key.startswith(_OWN) and key != "global_step":
                if isinstance(value, float):
                    value = round(value, 6)  # wandb keeps float32 digits, we the double
                out.setdefault(key, []).append((row["global_step"], value))
    return out


#: The keys wandb-core logs from the sub-run folders of SCALARS_SCRIPT, every time.
SUB_RUN_KEYS = {"run_14h/xsinx/run_14h", "run_14h/xcosx/run_14h", "run_14h/tanx/run_14h",
                "pair_b/pair", "hp/hparam/accuracy", "hp/hparam/loss"}


def test_add_scalars_and_add_hparams_are_logged_under_wandbs_keys(tmp_path):
    wb = _wandb_run(tmp_path, SCALARS_SCRIPT)
    run_dir = _trackline_run(tmp_path, SCALARS_SCRIPT)
    rows = read_history(run_dir)
    ours, theirs = _series(rows), _series(wb.history)
    # Each folder's values under <folder relative to the root>/<tag>, the root's under <tag>.
    assert set(ours) == SUB_RUN_KEYS | {"loss"}
    assert SUB_RUN_KEYS <= set(theirs)
    for key in set(ours) & set(theirs):
        assert ours[key] == theirs[key], key
    assert ours["run_14h/xcosx/run_14h"] == [(0, 0.0), (1, 2.0), (2, 4.0)]
    assert [r["global_step"] for r in rows if "run_14h/tanx/run_14h" in r] == [0, 1, 2]
    # What wandb-core logs beyond that depends on timing: its reader of the root folder lists
    # the sub-folders' files too and jumps to the last-sorted file present whenever it reaches
    # the end of one, so it logs some sub-run values a second time under the bare tag (and may
    # skip the root's own). Anything else of wandb's is such a duplicate.
    for key in set(theirs) - set(ours):
        copies = [pair for k in SUB_RUN_KEYS if k.endswith("/" + key) for pair in ours[k]]
        assert copies and all(pair in copies for pair in theirs[key]), key
    # The hyperparameters go into the config (wandb ignores them); a key set before keeps its
    # value. Numbers come back as the hparams plugin stores them: doubles.
    config = read_json(os.path.join(run_dir, "config.json"))
    assert config == {"given": 1, "lr": 0.1, "bsize": 32.0, "opt": "adam", "flag": True}
    assert "lr" not in wb.config and "bsize" not in wb.config
    # Every event file is copied at its place under the root, as wandb does.
    files = os.path.join(run_dir, "files")
    for sub in ("", "run_14h/xsinx", "pair_b", "hp"):
        assert glob.glob(os.path.join(files, sub, "events.out.tfevents.*")), sub


TRAIN_VAL_SCRIPT = """
    import os
    from tensorboardX import SummaryWriter
    train = SummaryWriter(logdir=os.path.join(LOGDIR, "train"))
    val = SummaryWriter(logdir=os.path.join(LOGDIR, "val"))
    for step in range(3):
        train.add_scalar("loss", 1.0 / (step + 1), step)
        val.add_scalar("loss", 2.0 / (step + 1), step)
    train.close()
    val.close()
"""


def test_sibling_writers_are_prefixed_by_their_folder(tmp_path):
    """Two writers side by side: the root is their common folder (wandb-core's guess)."""
    theirs = _series(_wandb_run(tmp_path, TRAIN_VAL_SCRIPT).history)
    ours = _series(read_history(_trackline_run(tmp_path, TRAIN_VAL_SCRIPT)))
    assert ours == theirs
    assert set(ours) == {"train/loss", "val/loss"}


def test_hparams_as_torch_writes_them():
    """torch.utils.tensorboard's add_hparams writes the hparams plugin's session_start_info
    with tensorboard's own protos (torch is not needed to make the same bytes)."""
    pytest.importorskip("tensorboard")
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboard.plugins.hparams import plugin_data_pb2

    ssi = plugin_data_pb2.SessionStartInfo()
    ssi.hparams["lr"].number_value = 0.01
    ssi.hparams["optimizer"].string_value = "sgd"
    ssi.hparams["nesterov"].bool_value = True
    content = plugin_data_pb2.HParamsPluginData(session_start_info=ssi, version=0)
    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
        plugin_name="hparams", content=content.SerializeToString()))
    event = Event(step=0, summary=Summary(value=[
        Summary.Value(tag="_hparams_/session_start_info", metadata=meta)]))
    (value,) = _tfevents.parse_event(event.SerializeToString()).values
    assert (value.kind, value.value) == (
        "hparams", {"lr": 0.01, "optimizer": "sgd", "nesterov": True})
    # The experiment and session_end_info summaries of the same plugin carry no values.
    end = plugin_data_pb2.HParamsPluginData(session_end_info=plugin_data_pb2.SessionEndInfo())
    meta.plugin_data.content = end.SerializeToString()
    event = Event(step=0, summary=Summary(value=[
        Summary.Value(tag="_hparams_/session_end_info", metadata=meta)]))
    assert _tfevents.parse_event(event.SerializeToString()) is None


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
