"""log() semantics (W&B's step/commit rules) and how values are written to history.jsonl."""

import json
import math
import os
from decimal import Decimal

import pytest

import trackline
from conftest import assert_steps_increasing, read_history


def history(run):
    trackline.finish()
    return read_history(run.dir)


def metrics(row):
    return {k: v for k, v in row.items() if not k.startswith("_")}


def test_steps_auto_increment_and_rows_have_time_fields(tmp_path):
    run = trackline.init(project="p")
    for i in range(5):
        trackline.log({"i": i})
        assert run.step == i + 1
    rows = history(run)
    assert [r["_step"] for r in rows] == [0, 1, 2, 3, 4]
    for r in rows:
        assert list(r)[:3] == ["_step", "_timestamp", "_runtime"]
        assert isinstance(r["_timestamp"], float) and r["_runtime"] >= 0
        assert abs(r["_timestamp"] - run.start_time - r["_runtime"]) < 1e-5


def test_commit_false_merges_into_the_pending_row(tmp_path):
    run = trackline.init(project="p")
    trackline.log({"a": 1}, commit=False)
    trackline.log({"b": 2}, commit=False)
    assert run.step == 0
    trackline.log({"c": 3})
    trackline.log({"d": 4})
    rows = history(run)
    assert [(r["_step"], metrics(r)) for r in rows] == [(0, {"a": 1, "b": 2, "c": 3}), (1, {"d": 4})]


def test_pending_row_is_committed_at_finish(tmp_path):
    run = trackline.init(project="p")
    trackline.log({"a": 1}, commit=False)
    rows = history(run)
    assert [(r["_step"], metrics(r)) for r in rows] == [(0, {"a": 1})]


def test_step_going_back_is_dropped_with_a_warning(tmp_path):
    run = trackline.init(project="p")
    trackline.log({"x": 1}, step=5)
    trackline.log({"x": 2}, step=6)
    with pytest.warns(trackline.TracklineWarning, match="step 3 that is less than the current step 6"):
        trackline.log({"x": 3}, step=3)
    assert run.step == 6
    rows = history(run)
    assert [(r["_step"], r["x"]) for r in rows] == [(5, 1), (6, 2)]


def test_explicit_steps_follow_wandb_rules(tmp_path):
    run = trackline.init(project="p")
    trackline.log({"a": 1}, step=0)  # pending at step 0
    trackline.log({"b": 2}, step=0)  # same step: merged
    trackline.log({"c": 3}, step=2)  # higher step: commits step 0, pending at 2
    trackline.log({"d": 4}, step=2, commit=True)  # commits step 2 now
    trackline.log({"e": 5})  # no step: step 3
    rows = history(run)
    assert [(r["_step"], metrics(r)) for r in rows] == [
        (0, {"a": 1, "b": 2}),
        (2, {"c": 3, "d": 4}),
        (3, {"e": 5}),
    ]
    assert_steps_increasing(rows)


def test_bad_step_is_ignored_with_a_warning(tmp_path):
    run = trackline.init(project="p")
    with pytest.warns(trackline.TracklineWarning, match="integer"):
        trackline.log({"a": 1}, step=1.5)
    with pytest.warns(trackline.TracklineWarning, match="integer"):
        trackline.log({"a": 1}, step="x")
    trackline.log({"a": 2}, step=4.0, commit=True)
    assert [r["_step"] for r in history(run)] == [4]


def test_nested_dicts_flatten_with_slash(tmp_path):
    run = trackline.init(project="p")
    trackline.log({"train": {"loss": 1.5, "acc": {"top1": 0.5}}, "lr": 0.1, 7: "int key"})
    (row,) = history(run)
    assert metrics(row) == {"train/loss": 1.5, "train/acc/top1": 0.5, "lr": 0.1, "7": "int key"}


def test_non_finite_floats_are_written_as_literals(tmp_path):
    run = trackline.init(project="p")
    trackline.log({"nan": float("nan"), "inf": float("inf"), "ninf": float("-inf"), "x": 1.0})
    trackline.finish()
    with open(os.path.join(run.dir, "history.jsonl")) as f:
        line = f.read()
    assert '"nan": NaN' in line and '"inf": Infinity' in line and '"ninf": -Infinity' in line
    (row,) = read_history(run.dir)
    assert math.isnan(row["nan"]) and row["inf"] == math.inf and row["ninf"] == -math.inf
    with open(os.path.join(run.dir, "summary.json")) as f:
        assert "NaN" in f.read()


def test_bools_are_json_booleans(tmp_path):
    run = trackline.init(project="p")
    trackline.log({"t": True, "f": False, "n": None, "s": "text", "l": [1, 2.5]})
    trackline.finish()
    with open(os.path.join(run.dir, "history.jsonl")) as f:
        line = f.read()
    assert '"t": true' in line and '"f": false' in line
    assert metrics(read_history(run.dir)[0]) == {"t": True, "f": False, "n": None, "s": "text", "l": [1, 2.5]}


class FakeNumpyScalar:
    """Quacks like numpy.float32(…) / numpy.array(…) of size 1: .item() and .size."""

    def __init__(self, value, size=1):
        self.value, self.size = value, size

    def item(self):
        if self.size != 1:
            raise ValueError("can only convert an array of size 1 to a Python scalar")
        return self.value

    def tolist(self):
        return [self.value] * self.size


class FakeTensor:
    """Quacks like a torch tensor: .item() for one element, .numel(), .tolist()."""

    def __init__(self, values):
        self.values = values

    def numel(self):
        return len(self.values)

    def item(self):
        if len(self.values) != 1:
            raise RuntimeError("a Tensor with %d elements cannot be converted to Scalar" % len(self.values))
        return self.values[0]

    def tolist(self):
        return list(self.values)


class NumpyBool:
    def item(self):
        return True


def test_array_likes_become_numbers_by_duck_typing(tmp_path):
    run = trackline.init(project="p")
    trackline.log({
        "np": FakeNumpyScalar(0.25),
        "np_int": FakeNumpyScalar(3),
        "np_bool": NumpyBool(),
        "np_array": FakeNumpyScalar(1.5, size=3),
        "tensor": FakeTensor([2.5]),
        "tensor_vec": FakeTensor([1, 2]),
        "nested": {"t": FakeTensor([float("nan")])},
        "list": [FakeTensor([1.0]), 2],
        "decimal": Decimal("0.5"),
    })
    with pytest.warns(trackline.TracklineWarning, match="'object': a type"):
        trackline.log({"object": object}, commit=False)
    (row,) = history(run)
    m = metrics(row)
    assert m["np"] == 0.25 and m["np_int"] == 3 and m["np_bool"] is True
    assert m["np_array"] == [1.5, 1.5, 1.5]
    assert m["tensor"] == 2.5 and m["tensor_vec"] == [1, 2]
    assert math.isnan(m["nested/t"])
    assert m["list"] == [1.0, 2] and m["decimal"] == 0.5
    assert "object" not in m  # never stored as its repr
    assert run.summary["tensor"] == 2.5  # the summary keeps numbers, not tensors


def test_reserved_keys_are_dropped_with_a_warning(tmp_path):
    run = trackline.init(project="p")
    with pytest.warns(trackline.TracklineWarning, match="_step"):
        trackline.log({"_step": 100, "a": 1})
    (row,) = history(run)
    assert row["_step"] == 0 and metrics(row) == {"a": 1}


def test_log_requires_a_dict(tmp_path):
    trackline.init(project="p")
    with pytest.raises(TypeError):
        trackline.log([1, 2])


def test_logged_dict_can_be_reused_by_the_caller(tmp_path):
    run = trackline.init(project="p")
    data = {"a": 1}
    trackline.log(data)
    data["a"] = 2
    trackline.log(data)
    data["a"] = 3
    assert [r["a"] for r in history(run)] == [1, 2]


def test_every_line_is_one_json_object(tmp_path):
    run = trackline.init(project="p")
    trackline.log({"multi\nline": "a\nb", "quote\"": "\u00e9\u4e2d", "emoji": "\U0001F600"})
    trackline.finish()
    with open(os.path.join(run.dir, "history.jsonl"), "rb") as f:
        lines = f.read().split(b"\n")
    assert len(lines) == 2 and lines[1] == b""
    assert metrics(json.loads(lines[0])) == {"multi\nline": "a\nb", "quote\"": "\u00e9\u4e2d", "emoji": "\U0001F600"}
