"""In-process tests of the public API: init, config, summary, run metadata, module state."""

import argparse
import os
import re
import threading
import time
import warnings

import pytest

import trackline
from conftest import read_history, read_json, wait_for


def meta(run):
    return read_json(os.path.join(run.dir, "run.json"))


def config_file(run):
    return read_json(os.path.join(run.dir, "config.json"))


def summary_file(run):
    return read_json(os.path.join(run.dir, "summary.json"))


# -- init, directories, module state ---------------------------------------------------------------
def test_defaults_and_run_dir_layout(tmp_path):
    run = trackline.init()
    assert run.project == "uncategorized"
    assert re.fullmatch(r"[0-9a-z]{8}", run.id)
    assert re.fullmatch(r"[a-z]+-[a-z]+-1", run.name)
    assert run.dir == str(tmp_path / "root" / "uncategorized" / run.id)
    m = meta(run)
    assert (m["state"], m["name"], m["id"], m["project"]) == ("running", run.name, run.id, "uncategorized")
    assert m["finished_at"] is None and m["exit_code"] is None
    assert m["pid"] == os.getpid()
    assert config_file(run) == {} and summary_file(run) == {}
    assert read_history(run.dir) == []
    trackline.finish()
    second = trackline.init()
    assert second.name.endswith("-2")  # N counts the runs of the project, like W&B


def test_root_is_cwd_trackline_without_env(tmp_path, monkeypatch):
    monkeypatch.delenv("TRACKLINE_DIR")
    monkeypatch.chdir(tmp_path)
    run = trackline.init(project="p")
    assert run.dir == str(tmp_path / "trackline" / "p" / run.id)


def test_init_dir_puts_root_under_it(tmp_path):
    run = trackline.init(project="p", dir=str(tmp_path / "elsewhere"))
    assert run.dir == str(tmp_path / "elsewhere" / "trackline" / "p" / run.id)


def test_init_arguments_are_recorded(tmp_path):
    run = trackline.init(
        project="proj", name="n1", group="g", tags=["a", "b"], notes="hello", job_type="train",
        config={"lr": 0.1},
    )
    m = meta(run)
    assert (m["name"], m["group"], m["tags"], m["notes"], m["job_type"]) == (
        "n1", "g", ["a", "b"], "hello", "train"
    )
    assert (run.name, run.group, run.tags, run.notes, run.job_type) == (
        "n1", "g", ("a", "b"), "hello", "train"
    )
    assert config_file(run) == {"lr": 0.1}


def test_module_state_before_during_after(tmp_path):
    assert trackline.run is None
    with pytest.raises(trackline.Error):
        trackline.log({"a": 1})
    with pytest.raises(trackline.Error):
        trackline.config.update({"a": 1})
    with pytest.raises(trackline.Error):
        trackline.summary["a"] = 1
    run = trackline.init()
    assert trackline.run is run
    assert trackline.config is run.config and trackline.summary is run.summary
    trackline.log({"a": 1})
    trackline.finish()
    assert trackline.run is None
    with pytest.raises(trackline.Error):
        trackline.log({"a": 2})
    assert [r["a"] for r in read_history(run.dir)] == [1]


def test_init_twice_finishes_the_previous_run(tmp_path):
    first = trackline.init(project="p")
    trackline.log({"x": 1})
    second = trackline.init(project="p")
    assert trackline.run is second and first.id != second.id
    assert meta(first)["state"] == "finished" and meta(first)["exit_code"] == 0
    assert [r["x"] for r in read_history(first.dir)] == [1]
    assert meta(second)["state"] == "running"


def test_unknown_kwargs_warn_but_work(tmp_path):
    with pytest.warns(trackline.TracklineWarning, match="unsupported argument.s.: monitor_gym$"):
        run = trackline.init(project="p", sync_tensorboard=True, monitor_gym=True)
    try:
        trackline.log({"a": 1})
        assert run.project == "p"
    finally:
        trackline.tensorboard.unpatch()  # sync_tensorboard is supported: undo its patch


def test_meaningless_wandb_kwargs_are_silent(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trackline.init(project="p", entity="me", reinit=True, mode="offline", anonymous="allow")


def test_invalid_names_are_refused(tmp_path):
    for bad in ("a/b", ".hidden", "x" * 129):
        with pytest.raises(ValueError):
            trackline.init(project=bad)
    with pytest.raises(ValueError):
        trackline.init(project="p", id="not valid!")
    with pytest.raises(TypeError):
        trackline.init(project="p", config=42)
    assert not (tmp_path / "root" / "p").exists() or not os.listdir(tmp_path / "root" / "p")


def test_context_manager(tmp_path):
    with trackline.init(project="p") as run:
        trackline.log({"a": 1})
    assert meta(run)["state"] == "finished"
    with pytest.raises(ZeroDivisionError):
        with trackline.init(project="p") as run:
            1 / 0
    assert (meta(run)["state"], meta(run)["exit_code"]) == ("failed", 1)


# -- run metadata ----------------------------------------------------------------------------------
def test_name_tags_notes_are_persisted_at_once(tmp_path):
    run = trackline.init(project="p")
    run.name = "renamed"
    assert meta(run)["name"] == "renamed"
    run.tags = ("x", "y")
    run.notes = "note"
    m = meta(run)
    assert (m["tags"], m["notes"]) == (["x", "y"], "note")


def test_save_without_arguments_persists_metadata(tmp_path):
    run = trackline.init(project="p")
    before = meta(run)["heartbeat_at"]
    time.sleep(0.01)
    assert run.save() is True
    assert meta(run)["heartbeat_at"] > before
    assert trackline.save() is True


def test_finish_is_idempotent_and_exit_code_sets_state(tmp_path):
    run = trackline.init(project="p")
    run.finish(exit_code=2)
    first = meta(run)
    assert (first["state"], first["exit_code"]) == ("failed", 2)
    assert first["finished_at"] >= first["created_at"]
    run.finish()
    trackline.finish()
    assert meta(run) == first
    with pytest.warns(trackline.TracklineWarning, match="finished"):
        run.log({"late": 1})
    assert read_history(run.dir) == []


def test_heartbeat_moves_forward(tmp_path, monkeypatch):
    monkeypatch.setattr(trackline._writer, "HEARTBEAT_INTERVAL", 0.1)
    monkeypatch.setenv("TRACKLINE_FLUSH_INTERVAL", "0.05")
    run = trackline.init(project="p")
    first = meta(run)["heartbeat_at"]
    assert wait_for(lambda: meta(run)["heartbeat_at"] > first + 0.3, timeout=10)
    assert meta(run)["state"] == "running"


# -- config ----------------------------------------------------------------------------------------
def test_config_from_namespace(tmp_path):
    args = argparse.Namespace(lr=0.01, epochs=3, model="FM", tags=["a"], flag=True)
    run = trackline.init(project="p")
    trackline.config.update(args)
    assert config_file(run) == {"lr": 0.01, "epochs": 3, "model": "FM", "tags": ["a"], "flag": True}
    assert trackline.config.lr == 0.01 and trackline.config["epochs"] == 3


def test_init_config_namespace_and_object(tmp_path):
    class Hparams:
        def __init__(self):
            self.hidden = 64
            self.dropout = 0.5

    run = trackline.init(project="p", config=argparse.Namespace(a=1))
    assert config_file(run) == {"a": 1}
    run.config.update(Hparams())
    assert config_file(run) == {"a": 1, "hidden": 64, "dropout": 0.5}


def test_config_mapping_protocol_and_persistence(tmp_path):
    run = trackline.init(project="p", config={"a": 1})
    config = run.config
    config.b = 2
    assert config_file(run) == {"a": 1, "b": 2}
    config["c"] = {"nested": [1, 2]}
    assert config_file(run)["c"] == {"nested": [1, 2]}
    config.update({"a": 10}, allow_val_change=True)
    assert config_file(run)["a"] == 10
    assert config.keys() == ["a", "b", "c"]
    assert config.items()[0] == ("a", 10)
    assert config.values()[1] == 2
    assert config.get("missing", 5) == 5 and config.get("b") == 2
    assert "b" in config and "zz" not in config
    assert len(config) == 3 and list(config) == ["a", "b", "c"]
    assert config.as_dict() == {"a": 10, "b": 2, "c": {"nested": [1, 2]}}
    assert not hasattr(config, "missing")
    with pytest.raises(KeyError):
        config["missing"]
    del config["c"]
    del config.b
    assert config_file(run) == {"a": 10}
    config.setdefaults({"a": 99, "d": 4})
    assert config_file(run) == {"a": 10, "d": 4}


def test_config_keeps_objects_and_writes_json_for_them(tmp_path):
    class Device:
        def __str__(self):
            return "cuda:0"

    device = Device()
    run = trackline.init(project="p")
    run.config.update({"device": device, "path": tmp_path, 3: "int key"})
    assert run.config.device is device
    assert config_file(run) == {"device": "cuda:0", "path": str(tmp_path), "3": "int key"}


# -- summary ---------------------------------------------------------------------------------------
def test_summary_is_last_value_and_settable(tmp_path):
    run = trackline.init(project="p")
    for i in range(3):
        trackline.log({"loss": 1.0 / (i + 1), "acc": {"top1": i}})
    assert run.summary["loss"] == 1 / 3 and run.summary["acc/top1"] == 2
    run.summary["best"] = 0.9
    run.summary.update({"epochs": 3})
    run.summary.note = "x"
    assert run.summary.best == 0.9 and "epochs" in run.summary and len(run.summary) >= 6
    run.flush()
    s = summary_file(run)
    assert (s["loss"], s["acc/top1"], s["best"], s["epochs"], s["note"], s["_step"]) == (
        1 / 3, 2, 0.9, 3, "x", 2
    )
    trackline.log({"best": 0.95})  # a later logged value wins, as in W&B
    trackline.finish()
    assert summary_file(run)["best"] == 0.95


def test_summary_is_written_on_flush_not_on_log(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKLINE_FLUSH_INTERVAL", "60")
    run = trackline.init(project="p")
    trackline.log({"loss": 1.0})
    trackline.summary["user"] = 1
    assert summary_file(run) == {}  # nothing written yet: no I/O on the hot path
    assert read_history(run.dir) == []
    run.flush()
    assert summary_file(run)["user"] == 1 and read_history(run.dir)[0]["loss"] == 1.0


def test_summary_set_after_finish_is_written(tmp_path):
    run = trackline.init(project="p")
    trackline.finish()
    run.summary["late"] = 1
    assert summary_file(run)["late"] == 1


# -- resuming ---------------------------------------------------------------------------------------
def test_resume_by_id_continues_steps_and_repairs_torn_tail(tmp_path):
    run = trackline.init(project="p", id="myrun", config={"a": 1}, name="first")
    for i in range(3):
        trackline.log({"i": i})
    trackline.finish(exit_code=1)
    with open(os.path.join(run.dir, "history.jsonl"), "ab") as f:
        f.write(b'{"_step": 3, "_timest')  # a line torn by a crash
    again = trackline.init(project="p", id="myrun", config={"b": 2})
    assert again.resumed and again.step == 3 and again.name == "first"
    assert meta(again)["state"] == "running" and meta(again)["exit_code"] is None
    assert again.start_time == run.start_time  # _runtime keeps counting from the first start
    assert config_file(again) == {"a": 1, "b": 2}
    assert again.summary["i"] == 2
    trackline.log({"i": 3})
    trackline.finish()
    rows = read_history(again.dir)
    assert [r["_step"] for r in rows] == [0, 1, 2, 3] and [r["i"] for r in rows] == [0, 1, 2, 3]
    with pytest.raises(ValueError):
        trackline.init(project="p", id="myrun", resume="never")
    with pytest.raises(ValueError):
        trackline.init(project="p", id="other", resume="must")


# -- threads -----------------------------------------------------------------------------------------
def test_concurrent_logging_keeps_steps_unique_and_increasing(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKLINE_FLUSH_INTERVAL", "0.01")
    run = trackline.init(project="p")

    def worker(k):
        for i in range(2000):
            trackline.log({"worker": k, "i": i})

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    trackline.finish()
    rows = read_history(run.dir)
    assert [r["_step"] for r in rows] == list(range(8000))
    for k in range(4):
        assert [r["i"] for r in rows if r["worker"] == k] == list(range(2000))
