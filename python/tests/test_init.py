"""init(): modes (disabled/offline/online and their environment variables), the context manager,
W&B keyword arguments, reinit, and the run's W&B attributes (path, url, entity, ...)."""

import os
import warnings

import pytest

import trackline
from conftest import only_run_dir, read_history, read_json, run_script


def meta(run):
    return read_json(os.path.join(run.dir, "run.json"))


def tree(path):
    """Every file and folder under ``path`` (relative), or [] if it does not exist."""
    out = []
    for dirpath, dirnames, filenames in os.walk(str(path)):
        out += [os.path.relpath(os.path.join(dirpath, n), str(path)) for n in dirnames + filenames]
    return sorted(out)


# -- disabled mode ---------------------------------------------------------------------------------
def exercise(run, tmp_path):
    """Every part of the run API a script uses; returns what the disabled run answered."""
    run.config.update({"b": 2})
    run.config.c = 3
    run.summary["best"] = 1.0
    run.log({"loss": 0.5, "img": trackline.Image([[0, 255]])})
    run.log({"x": 1}, step=10, commit=False)
    trackline.log({"y": 2})
    trackline.config.update({"d": 4})
    trackline.summary.update({"e": 5})
    (tmp_path / "f.txt").write_text("x")
    metric = trackline.define_metric("loss", summary="min")
    out = {
        "save": run.save(str(tmp_path / "f.txt")),
        "alert": run.alert("t", "x"),
        "code": run.log_code(str(tmp_path)),
        "metric": metric.summary,
        "watch": trackline.watch(object()),
        "unknown": run.some_future_wandb_method(1, k=2),
    }
    run.name = "renamed"
    run.tags = ["a"]
    run.notes = "n"
    return out


def test_disabled_mode_writes_nothing_and_returns_working_objects(tmp_path):
    run = trackline.init(project="p", mode="disabled", config={"a": 1}, name="n", tags=["t"])
    assert trackline.run is run and run.disabled and run.mode == "disabled"
    answers = exercise(run, tmp_path)
    assert answers["save"] == [] and answers["alert"] is False and answers["code"] == []
    assert answers["metric"] == ("min",)
    assert not answers["unknown"]  # a no-op stand-in, not an error
    assert dict(run.config) == {"a": 1, "b": 2, "c": 3, "d": 4}
    assert run.config.a == 1 and run.config["b"] == 2
    with pytest.raises(trackline.ConfigError):
        run.config.a = 99  # the same config rules as a real run
    assert run.summary["best"] == 1.0 and run.summary["e"] == 5
    assert (run.name, run.tags, run.notes, run.project) == ("renamed", ("a",), "n", "p")
    assert run.path == "local/p/%s" % run.id and len(run.id) == 8
    assert os.path.isdir(run.dir)  # a scratch folder for checkpoints, outside the data dir
    assert not run.dir.startswith(str(tmp_path / "root"))
    with run:
        pass
    assert trackline.run is None
    run.finish()
    assert tree(tmp_path / "root") == []  # not even the data directory


@pytest.mark.parametrize("var", ["TRACKLINE_MODE", "WANDB_MODE"])
def test_disabled_by_environment_even_over_the_argument(tmp_path, monkeypatch, var):
    monkeypatch.setenv(var, "disabled")
    run = trackline.init(project="p", mode="online")
    trackline.log({"a": 1})
    trackline.finish()
    assert run.mode == "disabled"
    assert tree(tmp_path / "root") == []


def test_offline_by_environment_and_by_argument(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "dryrun")  # W&B's old name for offline
    run = trackline.init(project="p")
    assert run.mode == "offline" and not run.disabled and run.offline
    trackline.log({"a": 1})
    trackline.finish()
    assert [r["a"] for r in read_history(run.dir)] == [1]
    monkeypatch.delenv("WANDB_MODE")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = trackline.init(project="p", mode="offline")
    assert run.mode == "offline"


def test_mode_from_settings_and_invalid_modes(tmp_path, monkeypatch):
    run = trackline.init(project="p", settings=trackline.Settings(mode="disabled", x_label="z"))
    assert run.mode == "disabled"
    run = trackline.init(project="p", settings={"mode": "offline"})
    assert run.mode == "offline"
    with pytest.raises(trackline.UsageError):
        trackline.init(project="p", mode="sideways")
    monkeypatch.setenv("TRACKLINE_MODE", "bogus")
    with pytest.warns(trackline.TracklineWarning, match="TRACKLINE_MODE"):
        run = trackline.init(project="p")
    assert run.mode == "offline"


def test_online_without_a_daemon_url_still_writes_locally(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the remote client may say it has nowhere to stream
        run = trackline.init(project="p", mode="online")
    trackline.log({"a": 1})
    trackline.finish()
    assert [r["a"] for r in read_history(run.dir)] == [1]


def test_disabled_script_in_a_subprocess(tmp_path):
    proc = run_script(tmp_path, """
        import trackline as wandb
        with wandb.init(project="p", config={"lr": 0.1}) as run:
            for i in range(3):
                wandb.log({"loss": 1.0 / (i + 1)})
            wandb.run.summary["best"] = 0.1
            print("lr", wandb.config.lr, wandb.run.name is not None)
    """, WANDB_MODE="disabled")
    assert proc.returncode == 0, proc.stderr
    assert "lr 0.1 True" in proc.stdout
    assert not (tmp_path / "root").exists()


# -- context manager, reinit, keyword arguments ----------------------------------------------------
def test_context_manager_finishes_or_fails_and_deactivates(tmp_path):
    with trackline.init(project="p") as run:
        assert trackline.run is run
        trackline.log({"a": 1})
    assert trackline.run is None
    assert (meta(run)["state"], meta(run)["exit_code"]) == ("finished", 0)
    with pytest.raises(KeyError):
        with trackline.init(project="p") as run:
            {}["missing"]
    assert (meta(run)["state"], meta(run)["exit_code"]) == ("failed", 1)
    assert trackline.run is None


def test_reinit_return_previous_keeps_the_active_run(tmp_path):
    first = trackline.init(project="p")
    assert trackline.init(project="p", reinit="return_previous") is first
    assert meta(first)["state"] == "running"
    second = trackline.init(project="p", reinit=True)
    assert second is not first and meta(first)["state"] == "finished"


def test_wandb_arguments_accepted_silently(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = trackline.init(
            project="p", entity="someone", reinit=True, resume="allow", mode="offline",
            settings=trackline.Settings(start_method="thread"), allow_val_change=False,
            config_exclude_keys=[], anonymous="allow", job_type="train",
        )
    assert run.entity == "local" and run.job_type == "train"


def test_unknown_kwargs_warn_once_in_one_line(tmp_path):
    with pytest.warns(trackline.TracklineWarning) as record:
        run = trackline.init(project="p", tensorboard=True, fork_from="x", monitor_gym=True)
    messages = [str(w.message) for w in record]
    assert len(messages) == 1 and "\n" not in messages[0]
    assert "fork_from, monitor_gym, tensorboard" in messages[0]
    trackline.log({"a": 1})
    assert run.step == 1


def test_bad_config_refused_before_the_previous_run_is_finished(tmp_path):
    first = trackline.init(project="p")
    with pytest.raises(TypeError):
        trackline.init(project="p", config=42)
    assert trackline.run is first and meta(first)["state"] == "running"


# -- run attributes --------------------------------------------------------------------------------
def test_path_url_and_identity(tmp_path, monkeypatch):
    run = trackline.init(project="my proj", name="n")
    assert run.path == "local/my proj/" + run.id
    assert run.url == "http://127.0.0.1:8765/projects/my%20proj/runs/" + run.id
    assert run.get_url() == run.url
    assert run.project_url == "http://127.0.0.1:8765/projects/my%20proj"
    monkeypatch.setenv("TRACKLINE_URL", "https://tracker.example:9000/base/")
    assert run.url == "https://tracker.example:9000/base/projects/my%20proj/runs/" + run.id
    assert run.entity == "local" and run.mode == "offline"
    assert isinstance(run.start_time, float) and run.step == 0


def test_name_notes_tags_settable_and_persisted(tmp_path):
    run = trackline.init(project="p")
    run.name, run.notes, run.tags = "x", "y", ["z"]
    trackline.finish()
    m = meta(run)
    assert (m["name"], m["notes"], m["tags"]) == ("x", "y", ["z"])


def test_save_code_copies_the_main_script(tmp_path):
    proc = run_script(tmp_path, """
        import trackline
        run = trackline.init(project="p", save_code=True)
        trackline.finish()
    """)
    assert proc.returncode == 0, proc.stderr
    run_dir = only_run_dir(tmp_path / "root")
    copied = os.path.join(run_dir, "files", "code", "script.py")
    assert open(copied).read() == (tmp_path / "script.py").read_text()


def test_module_functions_need_a_run(tmp_path):
    for call in (
        lambda: trackline.define_metric("a"),
        lambda: trackline.watch(object()),
        lambda: trackline.alert("t", "x"),
        lambda: trackline.save("*.pt"),
    ):
        with pytest.raises(trackline.Error):
            call()
    trackline.unwatch()  # no-op without a run, as finish()


def test_small_wandb_helpers(tmp_path, capsys):
    assert trackline.login() is True and trackline.login(key="x", relogin=True) is True
    trackline.require("service")
    trackline.setup()
    s = trackline.Settings(mode="offline", start_method="thread")
    assert s.mode == "offline" and s.start_method == "thread" and s.anything_else is None
    trackline.termlog("hello")
    trackline.termwarn("careful")
    trackline.termerror("bad")
    err = capsys.readouterr().err
    assert "trackline: hello\n" in err and "WARNING careful" in err and "ERROR bad" in err
    assert issubclass(trackline.UsageError, trackline.Error)
    assert issubclass(trackline.ConfigError, trackline.Error)
    assert issubclass(trackline.CommError, trackline.Error)
    assert trackline.AlertLevel.WARN.value == "WARN"
