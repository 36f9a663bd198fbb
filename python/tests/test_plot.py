"""trackline.plot (W&B's wandb.plot): each chart logs its table under ``<key>_table`` and its spec
into config ``_wandb.visualize.<key>``; the classifier charts compute scikit-learn's curves and
W&B's confusion counts; and -- where wandb 0.31 is installed -- the same rows, table files and
config entries as W&B records."""

import json
import math
import os
import textwrap

import pytest

import trackline
import trackline as wandb
from trackline.plot import _curves
from conftest import read_history, read_json


def finish(run):
    trackline.finish()
    return read_history(run.dir), read_json(os.path.join(run.dir, "config.json"))


def table_rows(run, ref):
    with open(os.path.join(run.dir, *ref["path"].split("/")), "rb") as f:
        return json.loads(f.read())


def spec_of(config, key):
    return config["_wandb"]["visualize"][key]["panel_config"]


# -- what log() records ---------------------------------------------------------------------------
def test_a_chart_logs_its_table_and_its_spec(tmp_path):
    run = wandb.init(project="p")
    table = wandb.Table(columns=["step", "height"], data=[[0, 1.5], [1, 2.5]])
    wandb.log({"curve": wandb.plot.line(table, "step", "height", title="Height"), "acc": 0.5})
    rows, config = finish(run)
    (row,) = rows
    assert "curve" not in row and row["acc"] == 0.5
    ref = row["curve_table"]
    assert ref["_type"] == "table-file" and ref["path"].startswith("media/table/curve_table_0_")
    assert table_rows(run, ref) == {"columns": ["step", "height"], "data": [[0, 1.5], [1, 2.5]]}
    assert config["_wandb"]["visualize"]["curve"] == {
        "panel_type": "Vega2",
        "panel_config": {
            "panelDefId": "wandb/line/v0",
            "fieldSettings": {"x": "step", "y": "height", "stroke": None},
            "stringSettings": {"title": "Height"},
            "transform": {"name": "tableWithLeafColNames"},
            "userQuery": {"queryFields": [{
                "name": "runSets",
                "args": [{"name": "runSets", "value": "${runSets}"}],
                "fields": [
                    {"name": "id", "fields": []},
                    {"name": "name", "fields": []},
                    {"name": "_defaultColorIndex", "fields": []},
                    {"name": "summaryTable", "args": [{"name": "tableKey", "value": "curve_table"}],
                     "fields": []},
                ],
            }]},
        },
    }


def test_every_simple_chart_names_its_fields(tmp_path):
    run = wandb.init(project="p", config={"lr": 0.1})
    table = wandb.Table(columns=["a", "b"], data=[[1, 2]])
    wandb.log({
        "s": wandb.plot.scatter(table, "a", "b", title="S"),
        "b": wandb.plot.bar(table, "a", "b"),
        "h": wandb.plot.histogram(table, "a", title="H", split_table=True),
        "nested": {"l": wandb.plot.line(table, "a", "b", stroke="b")},
        "custom": wandb.plot_table("me/chart/v1", table, {"x": "a"}, {"title": "C"}),
    })
    rows, config = finish(run)
    (row,) = rows
    assert sorted(k for k in row if not k.startswith("_")) == [
        "Custom Chart Tables/h_table", "b_table", "custom_table", "nested.l_table", "s_table"]
    assert config["lr"] == 0.1
    expected = {
        "s": ("wandb/scatter/v0", {"x": "a", "y": "b"}, {"title": "S"}, "s_table"),
        "b": ("wandb/bar/v0", {"label": "a", "value": "b"}, {"title": ""}, "b_table"),
        "h": ("wandb/histogram/v0", {"value": "a"}, {"title": "H"}, "Custom Chart Tables/h_table"),
        "nested.l": ("wandb/line/v0", {"x": "a", "y": "b", "stroke": "b"}, {"title": ""},
                     "nested.l_table"),
        "custom": ("me/chart/v1", {"x": "a"}, {"title": "C"}, "custom_table"),
    }
    assert sorted(config["_wandb"]["visualize"]) == sorted(expected)
    for key, (spec, fields, strings, table_key) in expected.items():
        panel = spec_of(config, key)
        assert (panel["panelDefId"], panel["fieldSettings"], panel["stringSettings"]) == (
            spec, fields, strings)
        query = panel["userQuery"]["queryFields"][0]["fields"][3]
        assert query["args"] == [{"name": "tableKey", "value": table_key}]


def test_logging_a_chart_again_keeps_one_spec_and_config_json_unchanged(tmp_path):
    run = wandb.init(project="p")
    table = wandb.Table(columns=["a", "b"], data=[[1, 2]], log_mode="MUTABLE")
    wandb.log({"c": wandb.plot.scatter(table, "a", "b")})
    path = os.path.join(run.dir, "config.json")
    before = os.stat(path).st_mtime_ns, os.path.getsize(path)
    table.add_data(3, 4)
    wandb.log({"c": wandb.plot.scatter(table, "a", "b")})
    assert (os.stat(path).st_mtime_ns, os.path.getsize(path)) == before
    rows, config = finish(run)
    assert [table_rows(run, r["c_table"])["data"] for r in rows] == [[[1, 2]], [[1, 2], [3, 4]]]
    assert list(config["_wandb"]["visualize"]) == ["c"]


def test_visualize_logs_the_table_under_its_own_key(tmp_path):
    run = wandb.init(project="p")
    wandb.log({"v": wandb.visualize("wandb/confusion_matrix/v1", wandb.Table(columns=["a"], data=[[1]]))})
    rows, config = finish(run)
    assert rows[0]["v"]["_type"] == "table-file"
    assert config["_wandb"]["viz"]["v"] == {"id": "wandb/confusion_matrix/v1",
                                           "historyFieldSettings": {"x-axis": "_step", "key": "v"}}


def test_charts_need_a_table():
    with pytest.raises(trackline.Error, match="wandb.Table"):
        wandb.plot.line([[1, 2]], "x", "y")
    with pytest.raises(trackline.Error):
        wandb.visualize("id", {"a": 1})


# -- tables built by the charts -------------------------------------------------------------------
def test_line_series_table():
    chart = wandb.plot.line_series([0, 1], [[10, 11], [20, 21]], keys=["a", "b"], title="T", xname="ep")
    assert chart.table.columns == ["step", "lineKey", "lineVal"]
    assert chart.table.data == [[0, "a", 10], [1, "a", 11], [0, "b", 20], [1, "b", 21]]
    assert chart.spec.string_fields == {"title": "T", "xname": "ep"}
    per_line = wandb.plot.line_series([[0], [5]], [[1], [2]])
    assert per_line.table.data == [[0, "line_0", 1], [5, "line_1", 2]]
    with pytest.raises(ValueError):
        wandb.plot.line_series([[0], [1], [2]], [[1], [2]])
    with pytest.raises(ValueError):
        wandb.plot.line_series([0], [[1], [2]], keys=["only one"])


def test_confusion_matrix_counts():
    chart = wandb.plot.confusion_matrix(y_true=[0, 1, 1, 2], preds=[0, 1, 2, 2],
                                        class_names=["cat", "dog", "fox"])
    assert chart.table.columns == ["Actual", "Predicted", "nPredictions"]
    counts = {(a, p): n for a, p, n in chart.table.data}
    assert counts[("cat", "cat")] == 1.0 and counts[("dog", "fox")] == 1.0
    assert counts[("fox", "fox")] == 1.0 and counts[("fox", "cat")] == 0.0
    assert len(chart.table.data) == 9 and all(type(n) is float for _, _, n in chart.table.data)
    probs = wandb.plot.confusion_matrix(probs=[[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]], y_true=[0, 1, 1])
    assert probs.table.data == [["Class_1", "Class_1", 1.0], ["Class_1", "Class_2", 0.0],
                                ["Class_2", "Class_1", 1.0], ["Class_2", "Class_2", 1.0]]
    assert probs.spec.spec_name == "wandb/confusion_matrix/v1"
    with pytest.raises(ValueError):
        wandb.plot.confusion_matrix(probs=[[1, 0]], preds=[0], y_true=[0])
    with pytest.raises(ValueError):
        wandb.plot.confusion_matrix(y_true=[0, 1], preds=[0])
    with pytest.raises(ValueError):
        wandb.plot.confusion_matrix(y_true=[0, 1, 2], preds=[0, 1, 2], class_names=["a", "b"])


def test_scikit_learns_curves_of_its_documented_example():
    # sklearn's docs: y = [0, 0, 1, 1], scores = [0.1, 0.4, 0.35, 0.8]
    y, scores = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]
    assert _curves._roc(y, scores, 1) == ([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0])
    precision, recall = _curves._precision_recall(y, scores, 1)
    assert recall == [1.0, 1.0, 0.5, 0.5, 0.0]
    assert precision == [0.5, 2 / 3, 0.5, 1.0, 1.0]
    assert _curves._linspace(0, 1, 21)[3] == 3 * 0.05 and _curves._linspace(0, 1, 21)[-1] == 1.0
    assert _curves._round3(2 / 3) == 0.667 and _curves._round3(0.0005) == 0.0  # half to even


def test_roc_and_pr_curve_tables():
    y_true = [0, 0, 1, 1]
    probas = [[0.9, 0.1], [0.6, 0.4], [0.65, 0.35], [0.2, 0.8]]
    roc = wandb.plot.roc_curve(y_true, probas, labels=["neg", "pos"], classes_to_plot=[1])
    assert roc.table.columns == ["class", "fpr", "tpr"]
    assert roc.table.data == [["pos", 0.0, 0.0], ["pos", 0.0, 0.5], ["pos", 0.5, 0.5],
                              ["pos", 0.5, 1.0], ["pos", 1.0, 1.0]]
    assert roc.spec.fields == {"x": "fpr", "y": "tpr", "class": "class"}
    pr = wandb.plot.pr_curve(y_true, probas, interp_size=3)
    assert pr.table.columns == ["class", "precision", "recall"]
    # class 1: precision by recall 1, 0.5, 0 after W&B's running maximum: 0.667, 1.0, 1.0
    assert [r for r in pr.table.data if r[0] == 1] == [[1, 0.667, 1.0], [1, 1.0, 0.5], [1, 1.0, 0.0]]
    assert len(pr.table.data) == 6
    assert wandb.plot.pr_curve(None, probas) is None


def test_long_curves_are_sampled_to_the_row_cap(monkeypatch):
    monkeypatch.setattr(trackline.Table, "MAX_ROWS", 40)
    monkeypatch.setitem(__import__("sys").modules, "sklearn", None)  # the fallback sampler
    y_true = [i % 2 for i in range(200)]
    probas = [[1 - (i * 7 % 200) / 200, (i * 7 % 200) / 200] for i in range(200)]
    roc = wandb.plot.roc_curve(y_true, probas)
    assert len(roc.table.data) == 40
    assert {r[0] for r in roc.table.data} == {0, 1}
    keys = [(r[1], r[2]) for r in roc.table.data]
    assert keys == sorted(keys)


# -- the same as W&B ------------------------------------------------------------------------------
CHARTS = """
    table = Table(columns=["step", "height", "kind"], data=[[0, 1.5, "a"], [1, 2.5, "b"], [2, 2.0, "a"]])
    log({"line": plot.line(table, "step", "height", stroke="kind", title="Height")})
    log({"scatter": plot.scatter(table, "step", "height"), "n": {"bar": plot.bar(table, "kind", "height")}})
    log({"hist": plot.histogram(table, "height", title="H", split_table=True)})
    log({"series": plot.line_series([0, 1, 2], [[1, 2, 3], [3, 2, 1.5]], keys=["up", "down"], xname="ep")})
    log({"cm": plot.confusion_matrix(y_true=[0, 1, 2, 2], preds=[0, 2, 2, 1], class_names=["x", "y", "z"])})
    log({"cm2": plot.confusion_matrix(probs=[[0.1, 0.9], [0.8, 0.2]], y_true=[1, 1])})
    log({"custom": plot_table("wandb/line/v0", table, {"x": "step", "y": "height"}, {"title": "C"})})
"""

CURVES = """
    import random
    rng = random.Random(7)
    y_true = [rng.randrange(3) for _ in range(60)]
    probas = []
    for y in y_true:
        row = [rng.random() for _ in range(3)]
        row[y] += rng.random()
        total = sum(row)
        probas.append([round(v / total, 2) for v in row])  # rounded: ties among the scores
    log({"pr": plot.pr_curve(y_true, probas, labels=["a", "b", "c"])})
    log({"pr2": plot.pr_curve(y_true, probas, classes_to_plot=[0, 2], interp_size=7, title="P")})
    log({"roc": plot.roc_curve(y_true, probas)})
    log({"roc2": plot.roc_curve([str(y) for y in y_true], probas, classes_to_plot=["1"])})
    import numpy as np
    log({"np": plot.pr_curve(np.array(y_true), np.array(probas), labels=np.array(["a", "b", "c"])),
         "cm": plot.confusion_matrix(probs=np.array(probas), y_true=np.array(y_true))})
    big_true = [rng.randrange(2) for _ in range(20000)]
    big_probas = [[1 - p, p] for p in (min(1.0, max(0.0, 0.3 * y + rng.random() * 0.7)) for y in big_true)]
    log({"big": plot.roc_curve(big_true, big_probas)})  # beyond Table.MAX_ROWS: resampled
"""


def same_as_w_and_b(tmp_path, code):
    pytest.importorskip("wandb")
    from wandb_offline import run_wandb

    wb = run_wandb(tmp_path, "import numpy as np\nTable, log, plot = wandb.Table, run.log, wandb.plot\n"
                   "plot_table = wandb.plot_table\n" + textwrap.dedent(code))
    run = trackline.init(project="p")
    exec(textwrap.dedent(code), {"Table": trackline.Table, "log": trackline.log, "plot": trackline.plot,
                                 "plot_table": trackline.plot_table})
    rows, config = finish(run)
    assert len(rows) == len(wb.history)
    for ours, theirs in zip(rows, wb.history):
        keys = sorted(k for k in theirs if not k.startswith("_"))
        assert keys == sorted(k for k in ours if not k.startswith("_"))
        for key in keys:
            assert table_rows(run, ours[key]) == json.loads(wb.file(theirs[key]["path"])), key
            assert ours[key]["sha256"] == theirs[key]["sha256"], key
    assert config["_wandb"] == wb.config["_wandb"]


def test_same_charts_as_w_and_b(tmp_path):
    same_as_w_and_b(tmp_path, CHARTS)


def test_same_curves_as_w_and_b(tmp_path):
    pytest.importorskip("sklearn")
    pytest.importorskip("pandas")
    same_as_w_and_b(tmp_path, CURVES)


def test_nan_rates_of_a_class_never_positive():
    fpr, tpr = _curves._roc([0, 0], [0.1, 0.2], 1)
    assert fpr == [0.0, 0.5, 1.0] and all(math.isnan(t) for t in tpr)
