"""run.save() policies and paths, alert() lines and log_code() (watch() is in test_watch.py)."""

import json
import os
import sys
import textwrap
import time

import pytest

import trackline
from trackline import _save
from conftest import run_script


def files_of(run):
    base = os.path.join(run.dir, "files")
    out = {}
    for dirpath, _, names in os.walk(base):
        for n in names:
            path = os.path.join(dirpath, n)
            out[os.path.relpath(path, base).replace(os.sep, "/")] = open(path).read()
    return out


def bump_mtime(path):
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))


# -- save(): paths -----------------------------------------------------------------------------------
def test_relative_glob_keeps_paths_from_the_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ckpt" / "sub").mkdir(parents=True)
    (tmp_path / "ckpt" / "a.pt").write_text("A")
    (tmp_path / "ckpt" / "sub" / "b.pt").write_text("B")
    (tmp_path / "ckpt" / "c.txt").write_text("C")
    run = trackline.init(project="p")
    saved = trackline.save("ckpt/**/*.pt", policy="now")
    assert files_of(run) == {"ckpt/a.pt": "A", "ckpt/sub/b.pt": "B"}
    assert sorted(saved) == sorted(os.path.join(run.dir, "files", "ckpt", *p)
                                   for p in (["a.pt"], ["sub", "b.pt"]))
    assert not [n for n in os.listdir(os.path.join(run.dir, "files", "ckpt")) if n.startswith(".")]


def test_base_path_and_absolute_globs(tmp_path):
    data = tmp_path / "data" / "run123"
    data.mkdir(parents=True)
    (data / "x.txt").write_text("X")
    run = trackline.init(project="p")
    run.save(str(data / "*.txt"), policy="now")  # absolute: relative to the glob's folder
    run.save(str(data / "*.txt"), base_path=str(tmp_path), policy="now")
    run.save(str(tmp_path / "data" / "**" / "*.txt"), policy="now")
    assert files_of(run) == {"x.txt": "X", "data/run123/x.txt": "X", "run123/x.txt": "X"}


def test_glob_outside_base_path_is_refused(tmp_path):
    (tmp_path / "a.txt").write_text("a")
    run = trackline.init(project="p")
    with pytest.raises(ValueError):
        run.save(str(tmp_path / "a.txt"), base_path=str(tmp_path / "sub"))
    with pytest.raises(ValueError):
        run.save("*.txt", policy="sometimes")
    assert files_of(run) == {}


def test_symlink_leading_outside_is_skipped(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "secret.txt").write_text("s")
    (work / "ok.txt").write_text("ok")
    os.symlink(str(tmp_path / "secret.txt"), str(work / "link.txt"))
    monkeypatch.chdir(work)
    run = trackline.init(project="p")
    with pytest.warns(trackline.TracklineWarning, match="outside"):
        run.save("*.txt", policy="now")
    assert files_of(run) == {"ok.txt": "ok"}


def test_run_folders_are_never_saved_into_a_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRACKLINE_DIR", str(tmp_path / "trackline"))
    (tmp_path / "model.py").write_text("x = 1\n")
    run = trackline.init(project="p")
    trackline.log({"a": 1})
    run.flush()
    run.save("**/*", policy="now")
    assert files_of(run) == {"model.py": "x = 1\n"}


def test_files_written_into_run_dir_are_saved(tmp_path, monkeypatch):
    """W&B's idiom: write into run.dir, then save() that path."""
    monkeypatch.chdir(tmp_path)
    run = trackline.init(project="p")
    trackline.log({"a": 1})
    with open(os.path.join(run.dir, "model.pt"), "w") as f:
        f.write("weights")
    run.save(os.path.join(run.dir, "model.pt"), policy="now")
    run.save(os.path.join(run.dir, "*"), policy="now")  # the run's own files are never copied
    assert files_of(run) == {"model.pt": "weights"}


def test_glob_matching_nothing_warns(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = trackline.init(project="p")
    with pytest.warns(trackline.TracklineWarning, match=r"save\('nothing\*.pt'\) matched no file"):
        assert run.save("nothing*.pt", policy="now") == []


# -- save(): policies ---------------------------------------------------------------------------------
def test_now_copies_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f.txt").write_text("v1")
    run = trackline.init(project="p")
    run.save("f.txt", policy="now")
    (tmp_path / "f.txt").write_text("v2")
    bump_mtime(tmp_path / "f.txt")
    trackline.finish()
    assert files_of(run) == {"f.txt": "v1"}


def test_end_copies_at_finish(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = trackline.init(project="p")
    run.save("model.pt", policy="end")  # the file does not exist yet: no warning now
    assert files_of(run) == {}
    (tmp_path / "model.pt").write_text("weights")
    run.flush()
    assert files_of(run) == {}
    trackline.finish()
    assert files_of(run) == {"model.pt": "weights"}


def test_end_glob_still_matching_nothing_warns_at_finish(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = trackline.init(project="p")
    run.save("never.pt", policy="end")
    with pytest.warns(trackline.TracklineWarning, match="matched no file at finish"):
        run.finish()


def test_live_recopies_changed_files_at_flush_and_finish(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(_save, "GLOB_INTERVAL", 0.0)
    monkeypatch.setenv("TRACKLINE_FLUSH_INTERVAL", "60")  # flushes only when the test says so
    (tmp_path / "log.txt").write_text("one")
    run = trackline.init(project="p")
    run.save("*.txt")  # live is the default policy
    assert files_of(run) == {"log.txt": "one"}
    (tmp_path / "log.txt").write_text("two")
    bump_mtime(tmp_path / "log.txt")
    assert files_of(run) == {"log.txt": "one"}  # nothing happens between flushes
    run.flush()
    assert files_of(run) == {"log.txt": "two"}
    (tmp_path / "new.txt").write_text("new")  # a new match is picked up too
    run.flush()
    assert files_of(run) == {"log.txt": "two", "new.txt": "new"}
    (tmp_path / "log.txt").write_text("three")
    bump_mtime(tmp_path / "log.txt")
    trackline.finish()
    assert files_of(run) == {"log.txt": "three", "new.txt": "new"}


def test_live_unchanged_files_are_not_copied_again(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRACKLINE_FLUSH_INTERVAL", "60")
    (tmp_path / "f.txt").write_text("x")
    run = trackline.init(project="p")
    run.save("f.txt")
    dest = os.path.join(run.dir, "files", "f.txt")
    inode = os.stat(dest).st_ino
    for _ in range(3):
        run.flush()
    assert os.stat(dest).st_ino == inode  # no new copy was renamed over it


def test_live_save_in_a_background_flush(tmp_path):
    proc = run_script(tmp_path, """
        import time
        import trackline
        run = trackline.init(project="p")
        open("progress.txt", "w").write("start")
        trackline.save("progress.txt")
        time.sleep(0.1)
        open("progress.txt", "w").write("halfway")
        deadline = time.time() + 10
        dest = run.dir + "/files/progress.txt"
        while open(dest).read() != "halfway" and time.time() < deadline:
            time.sleep(0.02)
        print("seen", open(dest).read())
        import os; os._exit(0)  # no finish(): the flusher alone copied it
    """, TRACKLINE_FLUSH_INTERVAL="0.05")
    assert proc.returncode == 0, proc.stderr
    assert "seen halfway" in proc.stdout


# -- alert() -------------------------------------------------------------------------------------------
def read_alerts(run):
    with open(os.path.join(run.dir, "alerts.jsonl"), "rb") as f:
        data = f.read()
    assert data.endswith(b"\n")
    return [json.loads(line) for line in data.decode("utf-8").splitlines()]


def test_alerts_are_json_lines(tmp_path):
    run = trackline.init(project="p")
    trackline.log({"a": 1})
    assert trackline.alert("Low accuracy", "acc 0.1 < 0.5") is True
    assert run.alert("Diverged", "loss is NaN", level=trackline.AlertLevel.ERROR,
                     wait_duration=300) is True
    run.alert("Note", "ünïcode", level="warn")
    alerts = read_alerts(run)
    assert [(a["title"], a["text"], a["level"], a["wait_duration"]) for a in alerts] == [
        ("Low accuracy", "acc 0.1 < 0.5", "INFO", None),
        ("Diverged", "loss is NaN", "ERROR", 300.0),
        ("Note", "ünïcode", "WARN", None),
    ]
    assert all(a["_step"] == 1 and abs(a["_timestamp"] - time.time()) < 60 for a in alerts)


def test_alert_wait_duration_drops_repeats(tmp_path):
    import datetime

    run = trackline.init(project="p")
    assert run.alert("t", "first", wait_duration=datetime.timedelta(minutes=5)) is True
    assert run.alert("t", "again", wait_duration=60) is False
    assert run.alert("other", "x") is True
    assert run.alert("other", "y") is True  # no wait_duration: every alert is kept
    assert [a["text"] for a in read_alerts(run)] == ["first", "x", "y"]
    with pytest.raises(ValueError):
        run.alert("t", "x", level="LOUD")


# -- log_code() -----------------------------------------------------------------------------------------
def test_log_code_copies_python_files(tmp_path, monkeypatch):
    src = tmp_path / "proj"
    (src / "pkg").mkdir(parents=True)
    (src / ".git").mkdir()
    (src / "venv").mkdir()
    (src / "venv" / "pyvenv.cfg").write_text("")
    (src / "venv" / "lib.py").write_text("venv")
    (src / "__pycache__").mkdir()
    (src / "__pycache__" / "x.py").write_text("cache")
    (src / ".git" / "hook.py").write_text("hidden")
    (src / "train.py").write_text("train")
    (src / "pkg" / "model.py").write_text("model")
    (src / "README.md").write_text("readme")
    monkeypatch.chdir(src)
    monkeypatch.setenv("TRACKLINE_DIR", str(src / "trackline"))
    run = trackline.init(project="p")
    assert sorted(run.log_code()) == ["pkg/model.py", "train.py"]
    assert files_of(run) == {"code/train.py": "train", "code/pkg/model.py": "model"}
    copied = run.log_code(str(src), include_fn=lambda path: path.endswith(".md"))
    assert copied == ["README.md"]
    assert run.log_code(str(src), include_fn=lambda path, root: path.endswith(".py"),
                        exclude_fn=lambda path, root: "pkg" in path) == ["train.py"]
