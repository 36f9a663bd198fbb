"""The Keras callbacks (``trackline.integration.keras``) record what W&B's own record: the same
``model.fit`` script runs under the real wandb 0.31 (offline) and, unchanged, under Trackline
standing in for ``wandb`` (``trackline.as_wandb()``, so ``from wandb.integration.keras import …``
goes through the shim); both must have the same history keys with the same row counts, the same
x-axis values, the same ``define_metric`` calls, config and summary keys, and the same artifact
versions (name, type, aliases, files). Needs tensorflow-cpu and wandb
(tests/requirements-media.txt); the two processes of a comparison run side by side."""

import glob
import json
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import read_history, subprocess_env

pytest.importorskip("wandb")
pytest.importorskip("tensorflow")
from wandb_offline import WandbRun, records, own_keys_left_out, rows_per_key  # noqa: E402

#: A tiny regression model and its data, the same in both processes (deterministic ops).
PRELUDE = """
    import os
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np, tensorflow as tf
    tf.keras.utils.set_random_seed(0)
    tf.config.experimental.enable_op_determinism()
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    y = x.sum(1, keepdims=True)
    labels = (y[:, 0] > 0).astype("int64")
    def make_model(outputs=1, loss="mse", metrics=("mae",)):
        layers = tf.keras.layers
        model = tf.keras.Sequential([tf.keras.Input((4,)), layers.Dense(8, activation="relu"),
                                     layers.Dense(outputs)])
        model.compile(optimizer=tf.keras.optimizers.Adam(
            tf.keras.optimizers.schedules.ExponentialDecay(0.01, 2, 0.9)), loss=loss,
            metrics=list(metrics))
        return model
"""

#: Epoch and batch logging (every 2nd batch of 3), checkpoints per epoch (best only, one file
#: per epoch) and every 3 batches (weights only).
FIT = """
    from wandb.integration.keras import WandbMetricsLogger, WandbModelCheckpoint
    model = make_model()
    model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0, callbacks=[
        WandbMetricsLogger(), WandbMetricsLogger(log_freq=2),
        WandbModelCheckpoint("ckpt/model-{epoch:02d}.keras", save_best_only=True),
        WandbModelCheckpoint("w.weights.h5", save_weights_only=True, save_freq=3)])
"""

#: A WandbEvalCallback: 5 rows of ground truth (with images), the predictions after each epoch.
EVAL = """
    from wandb.integration.keras import WandbEvalCallback
    class Eval(WandbEvalCallback):
        def add_ground_truth(self, logs=None):
            for i in range(5):
                self.data_table.add_data(
                    i, wandb.Image(np.full((4, 4), i * 40, dtype=np.uint8)), int(labels[i]))
        def add_model_predictions(self, epoch, logs=None):
            preds = self.model.predict(x[:5], verbose=0).argmax(-1)
            for i in self.data_table_ref.get_index():
                row = self.data_table_ref.data[i]
                self.pred_table.add_data(epoch, row[0], row[2], int(preds[i]))
    model = make_model(outputs=2, metrics=(),
                       loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, labels, epochs=2, batch_size=16, verbose=0, callbacks=[
        Eval(["idx", "image", "label"], ["epoch", "idx", "label", "pred"])])
"""

#: wandb 0.31 offline refuses use_artifact() (and wait()), which WandbEvalCallback's
#: log_data_table() calls: under W&B the test logs the data table and keeps it in memory.
WANDB_OFFLINE_DATA_TABLE = """
    from wandb.integration.keras import WandbEvalCallback
    def _offline_log_data_table(self, name="val", type="dataset", table_name="val_data"):
        artifact = wandb.Artifact(name, type=type)
        artifact.add(self.data_table, table_name)
        wandb.run.log_artifact(artifact)
        self.data_table_ref = self.data_table
    WandbEvalCallback.log_data_table = _offline_log_data_table
"""


def _start_trackline(tmp_path, *code):
    """Start the ``code`` parts under Trackline as ``wandb`` in a subprocess; returns (Popen,
    root)."""
    root = tmp_path / "tl_root"
    script = tmp_path / "tl_script.py"
    script.write_text("import trackline\ntrackline.as_wandb()\nimport wandb\n"
                      "run = wandb.init(project='p')\n%s\nprint(run.id)\nrun.finish()\n"
                      % "".join(textwrap.dedent(part) for part in code))
    proc = subprocess.Popen([sys.executable, str(script)], cwd=str(tmp_path),
                            env=subprocess_env(root), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    return proc, root


def _start_wandb(tmp_path, *code):
    """Start the ``code`` parts under the real wandb, offline (as wandb_offline.run_wandb
    does)."""
    root = tmp_path / "wandb_root"
    root.mkdir()
    script = root / "script.py"
    script.write_text("import wandb\nrun = wandb.init(mode='offline', project='p', dir=%r)\n%s\n"
                      "run.finish()\n" % (str(root), "".join(textwrap.dedent(p) for p in code)))
    env = dict(os.environ, WANDB_SILENT="true", WANDB_MODE="offline")
    proc = subprocess.Popen([sys.executable, str(script)], cwd=str(root), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, root


def _finish(proc):
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err[-3000:]
    return out


def _run_both(tmp_path, code, wandb_extra=""):
    """Run ``code`` under both trackers at once; returns (WandbRun, its .wandb log, run dir)."""
    tl_proc, tl_root = _start_trackline(tmp_path, PRELUDE, code)
    wb_proc, wb_root = _start_wandb(tmp_path, PRELUDE, wandb_extra, code)
    _finish(wb_proc)
    run_id = _finish(tl_proc).strip().splitlines()[-1]
    (wb_dir,) = glob.glob(str(wb_root / "wandb" / "offline-run-*"))
    (wb_log,) = glob.glob(os.path.join(wb_dir, "run-*.wandb"))
    return WandbRun(wb_dir), wb_log, os.path.join(str(tl_root), "p", run_id)


def _read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _wandb_artifacts(wb_log):
    """W&B's artifact records: ``(name with <id>, type, aliases but latest, files)`` in order,
    whether each had ``latest``, and each record's ``{path: local file}``."""
    rows, latest, local = [], [], []
    run_id = None
    for record in records(wb_log):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            run_id = record.run.run_id
        elif kind == "artifact":
            art = record.artifact
            rows.append((art.name.replace(run_id, "<id>"), art.type,
                         sorted(set(art.aliases) - {"latest"}),
                         sorted(e.path for e in art.manifest.contents)))
            latest.append("latest" in art.aliases)
            local.append({e.path: e.local_path for e in art.manifest.contents})
    return rows, latest, local


def _trackline_artifacts(run_dir, tmp_path):
    """The same for the versions the Trackline run logged, plus their downloaded folders."""
    import trackline

    api = trackline.Api(root=os.path.dirname(os.path.dirname(run_dir)))
    run_id = os.path.basename(run_dir)
    rows, latest, folders = [], [], []
    with open(os.path.join(run_dir, "artifacts.jsonl"), encoding="utf-8") as f:
        lines = [json.loads(line) for line in f if line.strip()]
    # Each version the run logged or brought in (use_artifact of a new one), once, in order.
    seen = []
    for line in lines:
        if (line["name"], line["version"]) not in [(x["name"], x["version"]) for x in seen]:
            seen.append(line)
    for n, line in enumerate(seen):
        art = api.artifact("p/%s:v%d" % (line["name"], line["version"]))
        rows.append((line["name"].replace(run_id, "<id>"), art.type,
                     sorted(set(art.aliases) - {"latest"}), sorted(e.path for e in art.files())))
        latest.append("latest" in art.aliases)
        folders.append(art.download(root=str(tmp_path / "dl" / str(n))))
    return rows, latest, folders, lines


def _wandb_metrics(wb_log):
    """``(name or glob, step_metric)`` of each define_metric call W&B recorded."""
    return sorted((m.name or m.glob_name, m.step_metric) for m in
                  (r.metric for r in records(wb_log) if r.WhichOneof("record_type") == "metric"))


def _trackline_metrics(run_dir):
    metrics = _read_json(os.path.join(run_dir, "metrics.json"))
    return sorted((name, spec["step_metric"] or "") for name, spec in metrics.items())


def test_metrics_logger_and_checkpoint_record_what_wandb_records(tmp_path):
    wb, wb_log, run_dir = _run_both(tmp_path, FIT)
    rows = read_history(run_dir)
    assert rows_per_key(rows) == rows_per_key(wb.history)
    assert own_keys_left_out(_read_json(os.path.join(run_dir, "config.json"))) == own_keys_left_out(wb.config)
    assert own_keys_left_out(_read_json(os.path.join(run_dir, "summary.json"))) == own_keys_left_out(wb.summary)
    assert _trackline_metrics(run_dir) == _wandb_metrics(wb_log) == [
        ("batch/*", "batch/batch_step"), ("batch/batch_step", ""),
        ("epoch/*", "epoch/epoch"), ("epoch/epoch", "")]
    for key in ("epoch/epoch", "batch/batch_step", "epoch/learning_rate", "batch/learning_rate",
                "epoch/val_loss", "batch/loss"):
        got = [r[key] for r in rows if key in r]
        assert got == pytest.approx([r[key] for r in wb.history if key in r], rel=1e-5), key
    # Both loggers log each epoch (W&B's batch-wise one too), the batch-wise one every 2nd batch.
    assert [r["epoch/epoch"] for r in rows if "epoch/epoch" in r] == [0, 0, 1, 1, 2, 2]
    assert [r["batch/batch_step"] for r in rows if "batch/batch_step" in r] == [0, 2, 4, 6, 8, 10]
    lrs = [r["batch/learning_rate"] for r in rows if "batch/learning_rate" in r]
    assert lrs[0] > lrs[-1]  # the schedule, at the global step

    wb_arts, wb_latest, _ = _wandb_artifacts(wb_log)
    tl_arts, tl_latest, _, _ = _trackline_artifacts(run_dir, tmp_path)
    assert tl_arts == wb_arts
    assert all(wb_latest) and tl_latest == [False] * (len(tl_latest) - 1) + [True]
    assert [(name, kind, aliases) for name, kind, aliases, _ in tl_arts] == [
        ("run_<id>_model", "model", ["epoch_0_batch_2"]), ("run_<id>_model", "model", ["epoch_0"]),
        ("run_<id>_model", "model", ["epoch_1_batch_2"]), ("run_<id>_model", "model", ["epoch_1"]),
        ("run_<id>_model", "model", ["epoch_2_batch_2"]), ("run_<id>_model", "model", ["epoch_2"])]
    assert [files for *_, files in tl_arts] == [
        ["w.weights.h5"], ["model-01.keras"], ["w.weights.h5"], ["model-02.keras"],
        ["w.weights.h5"], ["model-03.keras"]]


def test_eval_callback_logs_the_tables_wandb_logs(tmp_path):
    wb, wb_log, run_dir = _run_both(tmp_path, EVAL, wandb_extra=WANDB_OFFLINE_DATA_TABLE)
    assert rows_per_key(read_history(run_dir)) == rows_per_key(wb.history) == {}
    wb_arts, _, wb_local = _wandb_artifacts(wb_log)
    tl_arts, tl_latest, folders, lines = _trackline_artifacts(run_dir, tmp_path)
    # Names, types, aliases, the table files and as many images (Trackline names them its way).
    strip = [(name, kind, aliases, [f for f in files if not f.startswith("media/")],
              len(files)) for name, kind, aliases, files in wb_arts]
    assert [(name, kind, aliases, [f for f in files if not f.startswith("media/")], len(files))
            for name, kind, aliases, files in tl_arts] == strip == [
        ("val", "dataset", [], ["val_data.table.json"], 6),
        ("run_<id>_pred", "evaluation", [], ["eval_data.table.json"], 1),
        ("run_<id>_pred", "evaluation", [], ["eval_data.table.json"], 1)]
    assert tl_latest == [True, False, True]
    # The data table is used, not produced, by the run: W&B's use_artifact of a new artifact
    # commits it with no producer (wandb-core sends no run name for a user-created artifact).
    assert [(x["direction"], x["name"]) for x in lines if x["name"] == "val"] == [("input", "val")]
    # The same predictions, read back from the data table that was logged.
    for n in (1, 2):
        tl_table = _read_json(os.path.join(folders[n], "eval_data.table.json"))
        wb_table = _read_json(wb_local[n]["eval_data.table.json"])
        assert tl_table["columns"] == wb_table["columns"] == ["epoch", "idx", "label", "pred"]
        assert tl_table["data"] == wb_table["data"]
        assert [row[0] for row in tl_table["data"]] == [n - 1] * 5


#: Each bad call, and what it raised (type and first line), printed one per line.
ERRORS = """
    import os
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import tensorflow as tf
    from wandb.integration.keras import (WandbEvalCallback, WandbMetricsLogger,
                                         WandbModelCheckpoint)
    class Eval(WandbEvalCallback):
        def add_ground_truth(self, logs=None):
            pass
        def add_model_predictions(self, epoch, logs=None):
            pass
    def attempt(label, make):
        try:
            made = make()
        except Exception as e:
            print(label, type(e).__name__, (str(e).splitlines() or [""])[0])
        else:
            print(label, "ok", made if isinstance(made, (int, str, type(None))) else "")
    attempt("logger-no-run", WandbMetricsLogger)
    attempt("checkpoint-no-run", lambda: WandbModelCheckpoint("m.keras"))
    attempt("checkpoint-no-run-bad-path", lambda: WandbModelCheckpoint("m.txt"))
    attempt("eval-no-run", lambda: Eval(["a"], ["b"]))
    run = wandb.init(project="p")
    attempt("checkpoint-bad-path", lambda: WandbModelCheckpoint("m.txt"))
    attempt("checkpoint-weights-path", lambda: WandbModelCheckpoint("m.keras",
                                                                   save_weights_only=True))
    attempt("checkpoint-bad-save-freq", lambda: WandbModelCheckpoint("m.keras", save_freq="batch"))
    attempt("eval-abstract", lambda: WandbEvalCallback(["a"], ["b"]))
    attempt("logger-batch", lambda: WandbMetricsLogger("batch").log_freq)
    attempt("logger-epoch", lambda: WandbMetricsLogger("epoch").log_freq)
    attempt("logger-int", lambda: WandbMetricsLogger(5).log_freq)
    attempt("checkpoint-ok", lambda: WandbModelCheckpoint("m.keras").monitor)
    run.finish()
"""


def test_argument_errors_are_wandbs(tmp_path):
    code = textwrap.dedent(ERRORS)
    (tmp_path / "wb").mkdir()
    (tmp_path / "tl").mkdir()
    wb_script, tl_script = tmp_path / "wb" / "errors.py", tmp_path / "tl" / "errors.py"
    wb_script.write_text("import wandb\n" + code)
    tl_script.write_text("import trackline\ntrackline.as_wandb()\nimport wandb\n" + code)
    procs = [subprocess.Popen([sys.executable, str(script)], cwd=str(script.parent), env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for script, env in (
                 (wb_script, dict(os.environ, WANDB_SILENT="true", WANDB_MODE="offline",
                                  WANDB_DIR=str(tmp_path / "wb"))),
                 (tl_script, subprocess_env(tmp_path / "tl_root")))]
    wb_out, tl_out = (_finish(proc).splitlines() for proc in procs)
    assert tl_out == wb_out
    said = dict(line.split(" ", 1) for line in tl_out)
    assert said["logger-no-run"] == "Error You must call `wandb.init()` before WandbMetricsLogger()"
    assert said["checkpoint-no-run"].startswith("Error You must call `wandb.init()`")
    assert said["checkpoint-no-run-bad-path"].startswith("ValueError")  # Keras checks first
    assert said["eval-abstract"].startswith("TypeError Can't instantiate abstract class")
    assert said["logger-batch"] == "ok 1" and said["logger-epoch"] == "ok None"


def test_best_only_checkpoint_logs_only_improvements_and_the_aliases(tmp_path):
    """Where wandb 0.31 raises FileNotFoundError (an epoch that was not the best, with
    ``{epoch}`` in the path), Trackline logs nothing; ``trackline.keras`` and ``wandb.keras``
    are W&B's short name of the module."""
    code = """
        import trackline, wandb.keras, wandb.integration.keras as wik
        import trackline.integration.keras as tik
        assert trackline.keras is tik
        assert wandb.keras.WandbModelCheckpoint is tik.WandbModelCheckpoint
        assert wik.WandbMetricsLogger is tik.WandbMetricsLogger and wik.__all__ == tik.__all__
        model = make_model()
        model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0, callbacks=[
            wik.WandbModelCheckpoint("best-{epoch}.keras", monitor="val_loss", mode="max",
                                     save_best_only=True)])
    """
    proc, root = _start_trackline(tmp_path, PRELUDE, code)
    run_id = _finish(proc).strip().splitlines()[-1]
    arts, latest, _, _ = _trackline_artifacts(os.path.join(str(root), "p", run_id), tmp_path)
    # val_loss goes down: under mode="max" only the first epoch is the best.
    assert arts == [("run_<id>_model", "model", ["epoch_0"], ["best-1.keras"])]
    assert latest == [True]
