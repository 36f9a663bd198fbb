"""trackline.Table: W&B's constructor, column types, row and column methods, log modes (IMMUTABLE,
MUTABLE, INCREMENTAL), the table file and its reference, media in cells, DataFrames logged directly,
and -- where wandb 0.31 is installed -- the same file bytes and reference fields as W&B writes."""

import hashlib
import json
import os
import re
import textwrap
import warnings

import pytest

import trackline
from conftest import read_history


def history(run):
    trackline.finish()
    return read_history(run.dir)


def logged(run, key):
    return [r[key] for r in history(run) if key in r]


def media_file(run, ref):
    assert not os.path.isabs(ref["path"]) and ".." not in ref["path"].split("/")
    with open(os.path.join(run.dir, *ref["path"].split("/")), "rb") as f:
        return f.read()


def check_file_ref(run, ref):
    """The file a reference names exists with the sha256 and size the reference carries."""
    data = media_file(run, ref)
    assert ref["sha256"] == hashlib.sha256(data).hexdigest() and ref["size"] == len(data)
    assert ref["path"].split("/")[-1].split("_")[-1].startswith(ref["sha256"][:20])
    return data


# -- the file and its reference -------------------------------------------------------------------
def test_table_file_and_reference_as_w_and_b_writes_them(tmp_path):
    run = trackline.init(project="p")
    table = trackline.Table(columns=["id", "pred", "score"], data=[[1, "chat", 0.5]])
    table.add_data(2, "é\n", float("nan"))
    table.add_data(3, None, float("inf"))
    trackline.log({"eval/preds": table})
    (ref,) = logged(run, "eval/preds")
    assert re.fullmatch(r"media/table/eval/preds_0_[0-9a-f]{20}\.table\.json", ref["path"])
    assert {k: v for k, v in ref.items() if k not in ("path", "sha256", "size")} == {
        "_type": "table-file", "ncols": 3, "nrows": 3, "log_mode": "IMMUTABLE"}
    data = check_file_ref(run, ref)
    assert data == ('{"columns":["id","pred","score"],"data":[[1,"chat",0.5],[2,"é\\n",NaN],'
                    '[3,null,Infinity]]}').encode("utf-8")


def test_cells_hold_media_references_and_json_of_other_values(tmp_path):
    import datetime
    import enum

    class Colour(enum.Enum):
        RED = 1

    run = trackline.init(project="p")
    table = trackline.Table(columns=["img", "when", "colour", "nested", "raw"], allow_mixed_types=True)
    table.add_data(trackline.Image([[0, 255]]), datetime.date(2024, 1, 2), Colour.RED,
                   {"a": (1, 2), 3: {"b": None}}, b"bytes")
    table.add_data(None, datetime.datetime(2024, 1, 2, 3, 4, 5), None, [], object())
    with pytest.warns(UserWarning, match="cell holds a object") as warned:
        trackline.log({"t": table})
    assert warned[0].filename == __file__  # pointed at the script's line
    (ref,) = logged(run, "t")
    content = json.loads(check_file_ref(run, ref))
    image = content["data"][0][0]
    assert image["_type"] == "image-file" and (image["width"], image["height"]) == (2, 1)
    assert re.fullmatch(r"media/images/t_0_[0-9a-f]{20}\.png", image["path"])
    check_file_ref(run, image)
    assert content["data"][0][1:] == ["2024-01-02", "RED", {"a": [1, 2], "3": {"b": None}}, "bytes"]
    assert content["data"][1] == [None, "2024-01-02T03:04:05", None, [], None]


def test_table_defaults_and_constructors(tmp_path):
    assert trackline.Table().columns == ["Input", "Output", "Expected"]
    assert trackline.Table(data=[[1, 2]]).columns == ["0", "1"]
    assert trackline.Table(columns=["a"], rows=[[1], [2]]).data == [[1], [2]]
    assert trackline.Table(columns=[0, "b"], data=[(1, 2)]).columns == [0, "b"]
    with pytest.raises(TypeError):
        trackline.Table(columns=[1.5])
    with pytest.raises(ValueError):
        trackline.Table(columns=["a"], log_mode="SOMETIMES")
    with pytest.raises(ValueError, match="expects 2 columns"):
        trackline.Table(columns=["a", "b"]).add_data(1)


# -- column types ---------------------------------------------------------------------------------
def test_columns_keep_one_type_as_in_w_and_b():
    table = trackline.Table(columns=["n", "s"])
    table.add_data(1, "a")
    table.add_data(2.5, None)  # int and float are both numbers; None fits optional columns
    table.add_data(float("nan"), "c")  # a float NaN counts as None, as in W&B
    with pytest.raises(TypeError, match="incompatible types"):
        table.add_data("three", "d")
    with pytest.raises(TypeError):
        table.add_data(True, "d")  # booleans are not numbers
    assert len(table.data) == 3  # a refused row is not added
    strict = trackline.Table(columns=["n"], optional=False)
    with pytest.raises(TypeError):
        strict.add_data(1) or strict.add_data(None)
    typed = trackline.Table(columns=["n", "s"], dtype=[int, str])
    with pytest.raises(TypeError):
        typed.add_data("1", "x")
    mixed = trackline.Table(columns=["x"], allow_mixed_types=True)
    for value in (1, "a", [1], {"k": 1}, None):
        mixed.add_data(value)
    assert mixed.get_column("x") == [1, "a", [1], {"k": 1}, None]


def test_add_column_cast_and_row_helpers():
    table = trackline.Table(columns=["a"], data=[[1], [2]])
    table.add_column("b", ["x", "y"])
    with pytest.raises(TypeError):  # add_column(optional=False) refuses None, as in W&B
        table.add_column("c", [trackline.Image([[0]]), None])
    table.add_column("c", [trackline.Image([[0]]), None], optional=True)
    with pytest.raises(ValueError):
        table.add_column("d", [1])
    with pytest.raises(ValueError):
        table.add_column("a", [1, 2])
    assert table.columns == ["a", "b", "c"] and table.get_column("b") == ["x", "y"]
    table.add_computed_columns(lambda ndx, row: {"twice": row["a"] * 2, "ndx": int(ndx)})
    assert table.get_column("twice") == [2, 4] and table.get_column("ndx") == [0, 1]
    index = table.get_index()
    assert index == [0, 1] and index[1].get_row()["b"] == "y"
    assert [(int(i), row[0]) for i, row in table.iterrows()] == [(0, 1), (1, 2)]
    with pytest.raises(TypeError):
        table.cast("b", int)
    assert table.cast("a", float) == "number"
    empty = trackline.Table(columns=[])
    empty.add_column("first", [1, 2, 3])
    assert empty.data == [[1], [2], [3]]


# -- log modes ------------------------------------------------------------------------------------
def test_immutable_table_logs_its_first_version_again(tmp_path):
    run = trackline.init(project="p")
    table = trackline.Table(columns=["a"], data=[[1]])
    trackline.log({"t": table})
    with pytest.warns(UserWarning, match="log_mode='IMMUTABLE'") as warned:
        table.add_data(2)
    assert warned[0].filename == __file__
    trackline.log({"t": table})
    first, second = logged(run, "t")
    assert first["nrows"] == 1 and second == dict(first, nrows=2)  # W&B counts the rows it has now
    assert json.loads(check_file_ref(run, first))["data"] == [[1]]


def test_mutable_table_is_written_again_after_a_change(tmp_path):
    run = trackline.init(project="p")
    table = trackline.Table(columns=["a"], data=[[1]], log_mode="MUTABLE")
    trackline.log({"t": table})
    trackline.log({"t": table})
    table.add_data(2)
    trackline.log({"t": table})
    refs = logged(run, "t")
    assert refs[0] == refs[1] and refs[2]["path"] != refs[1]["path"]
    assert re.fullmatch(r"media/table/t_2_[0-9a-f]{20}\.table\.json", refs[2]["path"])
    assert [r["log_mode"] for r in refs] == ["MUTABLE"] * 3
    assert json.loads(check_file_ref(run, refs[2]))["data"] == [[1], [2]]


def test_incremental_table_writes_only_new_rows(tmp_path):
    run = trackline.init(project="p")
    table = trackline.Table(columns=["step", "loss"], log_mode="INCREMENTAL")
    table.add_data(0, 1.0)
    table.add_data(1, 0.5)
    trackline.log({"progress": table})
    trackline.log({"progress": table})  # nothing new: the same increment again
    table.add_data(2, 0.25)
    trackline.log({"progress": table})
    with pytest.raises(trackline.Error):
        table.add_column("x", [1, 2, 3])
    refs = logged(run, "progress")
    assert [r["_type"] for r in refs] == ["incremental-table-file"] * 3
    assert [(r["increment_num"], r["nrows"], r["log_mode"]) for r in refs] == [
        (0, 2, "INCREMENTAL"), (0, 2, "INCREMENTAL"), (1, 3, "INCREMENTAL")]
    assert refs[0] == refs[1]
    assert refs[0]["previous_increments_paths"] == []
    assert refs[2]["previous_increments_paths"] == [refs[0]["path"]]
    assert json.loads(check_file_ref(run, refs[0]))["data"] == [[0, 1.0], [1, 0.5]]
    assert json.loads(check_file_ref(run, refs[2])) == {"columns": ["step", "loss"],
                                                        "data": [[2, 0.25]]}
    # The whole table, as the dashboard reassembles it from the last reference:
    rows = [row for path in refs[2]["previous_increments_paths"] + [refs[2]["path"]]
            for row in json.loads(media_file(run, {"path": path}))["data"]]
    assert rows == [[0, 1.0], [1, 0.5], [2, 0.25]] and len(rows) == refs[2]["nrows"]


def test_incremental_table_belongs_to_one_run(tmp_path):
    table = trackline.Table(columns=["a"], data=[[1]], log_mode="INCREMENTAL")
    trackline.init(project="p")
    trackline.log({"t": table})
    trackline.finish()
    trackline.init(project="p")
    table.add_data(2)
    with pytest.raises(trackline.Error, match="one Run"):
        trackline.log({"t": table})


def test_rows_beyond_the_cap_are_left_out_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(trackline.Table, "MAX_ARTIFACT_ROWS", 3)
    run = trackline.init(project="p")
    table = trackline.Table(columns=["i"], data=[[i] for i in range(5)])
    with pytest.warns(UserWarning, match="Truncating wandb.Table object to 3 rows"):
        trackline.log({"t": table})
    (ref,) = logged(run, "t")
    assert ref["nrows"] == 5  # W&B counts every row
    assert json.loads(check_file_ref(run, ref))["data"] == [[0], [1], [2]]


def test_a_small_table_logs_without_warnings(tmp_path):
    trackline.init(project="p")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trackline.log({"t": trackline.Table(columns=["a"], data=[[i] for i in range(50)])})


# -- pandas and numpy -----------------------------------------------------------------------------
def test_dataframes_and_arrays(tmp_path):
    pd = pytest.importorskip("pandas")
    np = pytest.importorskip("numpy")
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "ts": pd.to_datetime(["2024-01-01", "2024-01-02"])})
    table = trackline.Table(dataframe=df)
    assert table.columns == ["a", "b", "ts"] and table.data[1][:2] == [2, "y"]
    assert trackline.Table(data=df).columns == ["a", "b", "ts"]
    assert trackline.Table(columns=["x", "y"], data=np.arange(4).reshape(2, 2)).data == [[0, 1], [2, 3]]
    assert table.get_dataframe()["b"].tolist() == ["x", "y"]
    assert table.get_column("a", convert_to="numpy").tolist() == [1, 2]
    run = trackline.init(project="p")
    trackline.log({"t": trackline.Table(columns=["v"], data=[[np.float32(1.5)], [np.array([1, 2])]],
                                        allow_mixed_types=True)})
    (ref,) = logged(run, "t")
    assert check_file_ref(run, ref) == b'{"columns":["v"],"data":[[1.5],[[1,2]]]}'


def test_a_dataframe_logged_directly_becomes_a_table(tmp_path):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "ts": pd.to_datetime(["2024-01-01", "2024-01-02"])})
    run = trackline.init(project="p")
    trackline.log({"frame": df})
    (ref,) = logged(run, "frame")
    assert ref["_type"] == "table-file" and (ref["ncols"], ref["nrows"]) == (3, 2)
    assert check_file_ref(run, ref) == (b'{"columns":["a","b","ts"],"data":[[1,"x","2024-01-01T00:00:00"],'
                                        b'[2,"y","2024-01-02T00:00:00"]]}')


# -- the same as W&B ------------------------------------------------------------------------------
W_AND_B_TABLES = """
    import datetime
    t = Table(columns=["id", "pred", "score", "tags"], data=[[1, "chat", 0.5, ["a"]]])
    t.add_data(2, "é\\n", float("nan"), [])
    t.add_data(3, None, float("inf"), ["b", "c"])
    log({"eval/preds": t})
    m = Table(columns=["a"], data=[[1]], log_mode="MUTABLE")
    log({"m": m})
    m.add_data(2)
    log({"m": m})
    inc = Table(columns=["step", "loss"], log_mode="INCREMENTAL")
    inc.add_data(0, 1.0)
    inc.add_data(1, 0.5)
    log({"inc": inc})
    inc.add_data(2, 0.25)
    log({"inc": inc})
    log({"wide": Table(columns=["x", "y"], data=[[i, i * i] for i in range(300)])})
    t.add_data(4, "late", 1.0, [])  # IMMUTABLE: logged again, it is the first version
    log({"eval/preds": t, "inc": inc})  # INCREMENTAL, unchanged: the same increment
    log({"ints": Table(columns=[0, 1], data=[[1, {"k": [1, 2]}], [2, {"k": []}]], allow_mixed_types=True)})
    log({"frame": Table(dataframe=__import__("pandas").DataFrame({"a": [1.5, None], "b": ["x", "y"]}))})
"""

#: Fields of W&B's table references that point into its artifacts (Trackline has none).
ARTIFACT_FIELDS = ("artifact_path", "_latest_artifact_path")


def test_same_files_and_references_as_w_and_b(tmp_path):
    pytest.importorskip("wandb")
    pytest.importorskip("pandas")
    from wandb_offline import run_wandb

    wb = run_wandb(tmp_path, "Table = wandb.Table\nlog = run.log\n" + textwrap.dedent(W_AND_B_TABLES))
    run = trackline.init(project="p")
    with pytest.warns(UserWarning, match="log_mode='IMMUTABLE'"):  # as W&B warns
        exec(textwrap.dedent(W_AND_B_TABLES), {"Table": trackline.Table, "log": trackline.log})
    rows = history(run)
    assert len(rows) == len(wb.history)
    for ours, theirs in zip(rows, wb.history):
        keys = [k for k in theirs if not k.startswith("_")]
        assert keys and sorted(keys) == sorted(k for k in ours if not k.startswith("_"))
        for key in keys:
            expected = {k: v for k, v in theirs[key].items() if k not in ARTIFACT_FIELDS}
            mine = dict(ours[key])
            if expected.get("_type") == "incremental-table-file":
                # W&B lists its artifact entries, Trackline the earlier increments' files.
                assert len(mine.pop("previous_increments_paths")) == len(
                    expected.pop("previous_increments_paths"))
            assert mine == expected, key
            assert media_file(run, mine) == wb.file(mine["path"])


def test_incremental_table_continues_in_a_resumed_run(tmp_path):
    first = trackline.Table(columns=["i"], data=[[0], [1]], log_mode="INCREMENTAL")
    run = trackline.init(project="p", id="inc")
    trackline.log({"t": first})
    first.add_data(2)
    trackline.log({"t": first})
    (one, two) = logged(run, "t")
    again = trackline.Table(columns=["i"], data=[[3]], log_mode="INCREMENTAL")
    run = trackline.init(project="p", id="inc", resume="must")
    trackline.log({"t": again})
    three = logged(run, "t")[-1]  # the resumed run's history goes on after the first two rows
    assert (three["increment_num"], three["previous_increments_paths"]) == (2, [one["path"], two["path"]])
    assert json.loads(check_file_ref(run, three))["data"] == [[3]]
    fresh = trackline.init(project="p", id="other")
    trackline.log({"t": trackline.Table(columns=["i"], data=[[9]], log_mode="INCREMENTAL")})
    assert [(r["increment_num"], r["previous_increments_paths"]) for r in logged(fresh, "t")] == [(0, [])]
