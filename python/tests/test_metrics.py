"""define_metric(): W&B's summary aggregations, globs, goals, and metrics.json."""

import json
import math
import os

import pytest

import trackline
from conftest import read_history, read_json


def summary_file(run):
    return read_json(os.path.join(run.dir, "summary.json"))


def metrics_file(run):
    return read_json(os.path.join(run.dir, "metrics.json"))


LOSSES = [0.9, 0.4, 0.7, 0.2, 0.5]


def log_losses(key="loss"):
    for v in LOSSES:
        trackline.log({key: v})


@pytest.mark.parametrize("option, expected", [
    ("min", {"min": 0.2}),
    ("max", {"max": 0.9}),
    ("mean", {"mean": sum(LOSSES) / len(LOSSES)}),
    ("last", {"last": 0.5}),
    ("min,max", {"min": 0.2, "max": 0.9}),
    (["last", "mean"], {"last": 0.5, "mean": sum(LOSSES) / len(LOSSES)}),
])
def test_summary_aggregations(tmp_path, option, expected):
    run = trackline.init(project="p")
    run.define_metric("loss", summary=option)
    log_losses()
    assert run.summary["loss"].keys() == expected.keys()
    for k, v in expected.items():
        assert math.isclose(run.summary["loss"][k], v)
    trackline.finish()
    assert summary_file(run)["loss"] == run.summary["loss"]
    assert [r["loss"] for r in read_history(run.dir)] == LOSSES  # history is untouched


@pytest.mark.parametrize("goal, best", [(None, 0.2), ("minimize", 0.2), ("maximize", 0.9)])
def test_best_follows_the_goal(tmp_path, goal, best):
    run = trackline.init(project="p")
    trackline.define_metric("loss", summary="best", goal=goal)
    log_losses()
    assert run.summary["loss"] == {"best": best}


def test_copy_none_and_default(tmp_path):
    run = trackline.init(project="p")
    trackline.define_metric("copied", summary="copy")
    trackline.define_metric("never", summary="none")
    trackline.define_metric("axis_only", step_metric="epoch")
    for v in LOSSES:
        trackline.log({"copied": v, "never": v, "axis_only": v, "plain": v})
    s = run.summary
    assert (s["copied"], s["axis_only"], s["plain"]) == (0.5, 0.5, 0.5)
    assert "never" not in s


def test_globs_and_precedence(tmp_path):
    run = trackline.init(project="p")
    trackline.define_metric("val/*", summary="max")
    trackline.define_metric("val/loss", summary="min")  # an exact name wins over a glob
    trackline.define_metric("*", summary="min")  # never matches keys starting with "_"
    for i, v in enumerate(LOSSES):
        trackline.log({"val/acc": v, "val/loss": v, "val/deep/x": i, "train/loss": v})
    s = run.summary
    assert s["val/acc"] == {"max": 0.9} and s["val/deep/x"] == {"max": 4}
    assert s["val/loss"] == {"min": 0.2}
    assert s["train/loss"] == {"min": 0.2}
    assert s["_step"] == 4 and isinstance(s["_timestamp"], float)


def test_only_values_logged_after_the_definition_count(tmp_path):
    run = trackline.init(project="p")
    trackline.log({"acc": 0.99})
    trackline.define_metric("acc", summary="max")
    assert run.summary["acc"] == 0.99  # untouched until the next value
    trackline.log({"acc": 0.5})
    trackline.log({"acc": 0.6})
    assert run.summary["acc"] == {"max": 0.6}


def test_non_numbers_and_nan_are_skipped(tmp_path):
    run = trackline.init(project="p")
    trackline.define_metric("x", summary="min,mean,last")
    for v in (3, float("nan"), "text", None, 1, True):
        trackline.log({"x": v})
    assert run.summary["x"] == {"min": 1, "mean": (3 + 1 + 1) / 3, "last": True}


def test_script_writes_to_summary_stay_plain(tmp_path):
    run = trackline.init(project="p")
    trackline.define_metric("acc", summary="max")
    trackline.log({"acc": 0.5})
    run.summary["acc"] = 0.75  # the script's own value is set as is
    run.summary.update({"best_epoch": 3})
    assert run.summary["acc"] == 0.75 and run.summary["best_epoch"] == 3
    trackline.log({"acc": 0.6})  # and a logged value aggregates again
    assert run.summary["acc"] == {"max": 0.6}


def test_commit_false_and_explicit_steps_aggregate_committed_rows(tmp_path):
    run = trackline.init(project="p")
    trackline.define_metric("a", summary="min,max")
    trackline.log({"a": 5}, commit=False)
    trackline.log({"a": 1}, commit=False)  # replaces 5 in the pending row: 5 is never committed
    trackline.log({"b": 0})
    trackline.log({"a": 3}, step=4)
    trackline.finish()
    assert summary_file(run)["a"] == {"min": 1, "max": 3}


def test_metrics_json_records_definitions(tmp_path):
    run = trackline.init(project="p")
    trackline.define_metric("epoch", hidden=True)
    m = trackline.define_metric("val/*", step_metric="epoch", summary="min,max", goal="maximize")
    assert (m.name, m.step_metric, m.summary, m.goal, m.hidden) == (
        "val/*", "epoch", ("min", "max"), "maximize", False)
    trackline.define_metric("val/loss", step_metric=m, summary="best", goal="min")
    data = metrics_file(run)
    assert data == {
        "epoch": {"step_metric": None, "summary": None, "goal": None, "hidden": True},
        "val/loss": {"step_metric": "val/*", "summary": ["best"], "goal": "minimize",
                     "hidden": False},
        "val/*": {"step_metric": "epoch", "summary": ["min", "max"], "goal": "maximize",
                  "hidden": False},
    }
    assert not [n for n in os.listdir(run.dir) if n.startswith(".")]  # replaced atomically
    trackline.define_metric("epoch", hidden=False)  # a new definition replaces the old
    assert metrics_file(run)["epoch"]["hidden"] is False


def test_no_metrics_json_without_definitions(tmp_path):
    run = trackline.init(project="p")
    trackline.log({"a": 1})
    trackline.finish()
    assert not os.path.exists(os.path.join(run.dir, "metrics.json"))
    assert type(run.summary._data) is dict  # the log() hot path keeps a plain dict


def test_invalid_definitions_raise(tmp_path):
    trackline.init(project="p")
    with pytest.raises(trackline.UsageError, match="median"):
        trackline.define_metric("a", summary="min,median")
    with pytest.raises(trackline.UsageError):
        trackline.define_metric("a", goal="up")
    with pytest.raises(trackline.UsageError):
        trackline.define_metric("")


def test_resumed_run_keeps_its_min(tmp_path):
    run = trackline.init(project="p", id="resumed")
    trackline.define_metric("loss", summary="min")
    trackline.log({"loss": 0.3})
    trackline.finish()
    again = trackline.init(project="p", id="resumed")
    trackline.define_metric("loss", summary="min")
    trackline.log({"loss": 0.5})
    assert again.summary["loss"] == {"min": 0.3}
    trackline.log({"loss": 0.1})
    trackline.finish()
    assert json.loads(open(os.path.join(run.dir, "summary.json")).read())["loss"] == {"min": 0.1}


STEP_SYNC_SCRIPT = """
    run.define_metric("epoch")
    run.define_metric("val/*", step_metric="epoch")
    run.define_metric("train/*", step_metric="epoch", step_sync=False)
    run.define_metric("gstep")
    run.define_metric("img*", step_metric="gstep", step_sync=True)
    run.log({"val/acc": 0.1})               # before any epoch: 0
    run.log({"epoch": 1, "val/acc": 0.2})   # has it
    run.log({"val/acc": 0.3, "other": 1})   # gets epoch 1
    run.log({"train/loss": 0.5})            # step_sync=False: nothing added
    run.log({"epoch": 2.5})
    run.log({"val/loss": 0.4}, commit=False)
    run.log({"imgs": 3})                    # one row: epoch 2.5 and gstep 0
    run.log({"gstep": True, "img2": 1})     # has gstep (a bool: not taken as its last number)
    run.log({"img3": 1})                    # so gets gstep 0
    run.log({"val/x": "text"})
"""


def test_step_sync_fills_in_the_step_metric_as_wandb_does(tmp_path):
    pytest.importorskip("wandb")
    from wandb_offline import run_wandb

    wb = run_wandb(tmp_path, STEP_SYNC_SCRIPT)
    run = trackline.init(project="p")
    exec(compile(__import__("textwrap").dedent(STEP_SYNC_SCRIPT), "<script>", "exec"),
         {"run": run})
    assert run.define_metric("z", step_metric="e").step_sync is True  # W&B's default
    run.finish()
    own = ("_step", "_timestamp", "_runtime", "_wandb")
    ours = [{k: v for k, v in row.items() if k not in own} for row in read_history(run.dir)]
    theirs = [{k: v for k, v in row.items() if k not in own} for row in wb.history]
    assert ours == theirs
    assert ours[0] == {"val/acc": 0.1, "epoch": 0}
    assert ours[2] == {"val/acc": 0.3, "other": 1, "epoch": 1}
    assert ours[3] == {"train/loss": 0.5}
