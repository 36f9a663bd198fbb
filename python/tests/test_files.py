"""run.save() policies and paths, alert() lines, log_code(), and watch() with and without torch."""

import json
import os
import sys
import textwrap
import time

import pytest

import trackline
from trackline import _save
from conftest import PYTHON_DIR, only_run_dir, read_history, run_script


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


# -- watch() ---------------------------------------------------------------------------------------------
def test_watch_without_torch_warns_and_does_nothing(tmp_path):
    proc = run_script(tmp_path, """
        import sys
        sys.modules["torch"] = None  # torch cannot be imported, installed or not
        import trackline as wandb
        wandb.init(project="p")
        wandb.watch(object(), log="all", log_freq=10)
        wandb.watch(object())
        wandb.log({"loss": 1.0})
        wandb.unwatch()
        wandb.finish()
    """)
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "watch() needs PyTorch" in line]
    assert len(warnings) == 2 and "script.py" in proc.stderr  # pointed at the caller
    rows = read_history(only_run_dir(tmp_path / "root"))
    assert [sorted(k for k in r if not k.startswith("_")) for r in rows] == [["loss"]]


FAKE_TORCH = '''
"""Just enough of torch's API for watch(): modules, parameters, hooks, norms."""
import math


class _Handle:
    def __init__(self, hooks, fn):
        self.hooks, self.fn = hooks, fn

    def remove(self):
        self.hooks.remove(self.fn)


class Tensor:
    def __init__(self, values, requires_grad=False):
        self.values = list(values)
        self.requires_grad = requires_grad
        self._hooks = []

    def detach(self):
        return Tensor(self.values)

    def norm(self, p=2):
        return Tensor([math.sqrt(sum(v * v for v in self.values))])

    def item(self):
        return self.values[0]

    def register_hook(self, fn):
        self._hooks.append(fn)
        return _Handle(self._hooks, fn)

    def backward_with(self, grad):
        for fn in list(self._hooks):
            fn(Tensor(grad))
'''

FAKE_NN = '''
from torch import Tensor, _Handle


class Module:
    def __init__(self):
        self._params = {}
        self._forward_hooks = []

    def named_parameters(self):
        return iter(self._params.items())

    def register_forward_hook(self, fn):
        self._forward_hooks.append(fn)
        return _Handle(self._forward_hooks, fn)

    def __call__(self, x):
        for fn in list(self._forward_hooks):
            fn(self, (x,), x)
        return x


class Linear(Module):
    def __init__(self):
        super().__init__()
        self._params = {"fc.weight": Tensor([3.0, 4.0], True), "fc.bias": Tensor([1.0], True),
                        "frozen": Tensor([9.0], False)}
'''


def test_watch_with_a_torch_like_module_adds_norms_every_log_freq(tmp_path):
    fake = tmp_path / "fake"
    (fake / "torch" / "nn").mkdir(parents=True)
    (fake / "torch" / "__init__.py").write_text(FAKE_TORCH + "\nfrom . import nn\n")
    (fake / "torch" / "nn" / "__init__.py").write_text(FAKE_NN)
    proc = run_script(tmp_path, """
        import torch
        import trackline as wandb
        model = torch.nn.Linear()
        wandb.init(project="p")
        wandb.watch(model, log="all", log_freq=2)
        w, b = model._params["fc.weight"], model._params["fc.bias"]
        for step in range(4):
            w.backward_with([0.6, 0.8 * (step + 1)])
            b.backward_with([2.0])
            wandb.log({"loss": step})
        wandb.unwatch()
        w.backward_with([1.0, 1.0])
        w.backward_with([1.0, 1.0])
        wandb.log({"loss": 9})
        other = torch.nn.Linear()
        wandb.watch(other, log="parameters", log_freq=3)
        for _ in range(3):
            other(0)
        wandb.log({"loss": 10})
        wandb.finish()
    """, PYTHONPATH=str(fake) + os.pathsep + PYTHON_DIR)
    assert proc.returncode == 0, proc.stderr
    rows = [{k: v for k, v in r.items() if not k.startswith("_")}
            for r in read_history(only_run_dir(tmp_path / "root"))]
    assert rows[0] == {"loss": 0} and rows[2] == {"loss": 2}
    assert rows[1] == pytest.approx({
        "loss": 1, "gradients/fc.weight.norm": (0.36 + 1.6 ** 2) ** 0.5,
        "parameters/fc.weight.norm": 5.0, "gradients/fc.bias.norm": 2.0,
        "parameters/fc.bias.norm": 1.0,
    })
    assert rows[3]["gradients/fc.weight.norm"] == pytest.approx((0.36 + 3.2 ** 2) ** 0.5)
    assert rows[4] == {"loss": 9}  # unwatch() removed the hooks
    assert rows[5] == {"loss": 10, "parameters/fc.weight.norm": 5.0,
                       "parameters/fc.bias.norm": 1.0, "parameters/frozen.norm": 9.0}


def test_watch_with_real_torch(tmp_path):
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    run = trackline.init(project="p")
    trackline.watch(model, log="all", log_freq=2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for step in range(4):
        opt.zero_grad()
        loss = model(torch.ones(4, 3)).pow(2).mean()
        loss.backward()
        opt.step()
        trackline.log({"loss": loss.item()})
    trackline.finish()
    rows = read_history(run.dir)
    assert "gradients/0.weight.norm" not in rows[0]
    for row in (rows[1], rows[3]):
        assert row["gradients/0.weight.norm"] >= 0 and row["parameters/2.bias.norm"] >= 0
        assert "loss" in row
