"""Packaging and import-cost checks: versions agree, `import trackline` stays light, log() is cheap."""

import builtins
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

import trackline
from conftest import PYTHON_DIR, REPO_DIR, read_history


def _version_in(path, section):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    body = text.split("[%s]" % section, 1)[1].split("\n[", 1)[0]
    return re.search(r'^version\s*=\s*"([^"]+)"', body, re.M).group(1)


def test_versions_agree_with_the_rust_workspace():
    cargo = _version_in(os.path.join(REPO_DIR, "Cargo.toml"), "workspace.package")
    pyproject = _version_in(os.path.join(PYTHON_DIR, "pyproject.toml"), "project")
    assert pyproject == cargo == trackline.__version__
    assert trackline.CLIENT == "trackline-python " + cargo


def test_import_does_not_import_numpy_or_torch(tmp_path):
    # Importable stand-ins for numpy and torch: trackline must recognise their values by duck
    # typing, never by importing them (that would make `import trackline` slow).
    for name in ("numpy", "torch"):
        (tmp_path / (name + ".py")).write_text("IMPORTED = True\n")
    code = (
        "import sys, trackline\n"
        "r = trackline.init(project='p')\n"
        "trackline.log({'a': 1.0, 'b': {'c': [1, 2]}, 'd': object()})\n"
        "trackline.config.update({'e': object()})\n"
        "trackline.finish()\n"
        "print([m for m in ('numpy', 'torch') if m in sys.modules])\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), PYTHON_DIR]),
               TRACKLINE_DIR=str(tmp_path / "root"))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_log_does_no_io(tmp_path, monkeypatch):
    """The hot path only appends to memory: no write, fsync, rename or open in log()."""
    monkeypatch.setenv("TRACKLINE_FLUSH_INTERVAL", "60")
    run = trackline.init(project="p")
    calls = []
    main = threading.current_thread()

    def spy(name, real):
        def wrapper(*args, **kwargs):
            if threading.current_thread() is main:
                calls.append(name)
            return real(*args, **kwargs)
        return wrapper

    for name in ("write", "fsync", "replace", "rename", "open"):
        monkeypatch.setattr(os, name, spy(name, getattr(os, name)))
    monkeypatch.setattr(builtins, "open", spy("builtins.open", builtins.open))
    for i in range(1000):
        trackline.log({"i": i, "nested": {"x": i * 0.5}})
        trackline.log({"j": i}, commit=False)
    trackline.log({"k": 1}, step=5000)
    assert calls == []
    monkeypatch.undo()
    run.flush()
    assert calls == [] and len(read_history(run.dir)) == 1001  # the step jump committed "j"


def test_log_hot_path_is_cheap(tmp_path):
    """log() costs about as much as json.dumps + a buffered write (the target is 1.5x; this smoke
    test allows 3x so that a busy machine does not make it flaky)."""
    n = 20000
    data = {"loss": 0.123456, "acc": 0.5}

    def plain():
        with open(os.path.join(tempfile.mkdtemp(dir=str(tmp_path)), "h.jsonl"), "w") as f:
            start = time.perf_counter()
            for _ in range(n):
                f.write(json.dumps(data) + "\n")
            return time.perf_counter() - start

    def ours():
        trackline.init(project="bench")
        log = trackline.log
        start = time.perf_counter()
        for _ in range(n):
            log(data)
        elapsed = time.perf_counter() - start
        trackline.finish()
        return elapsed

    plain_times, our_times = [], []
    for _ in range(7):  # interleaved, best of 7: robust to load from other processes
        plain_times.append(plain())
        our_times.append(ours())
    ratio = min(our_times) / min(plain_times)
    assert ratio <= 3, ratio


def test_pip_install_works_without_dependencies(tmp_path):
    """`pip install ./python` builds and installs the package with nothing but setuptools, and the
    installed copy has every module (a module missing from the package would fail here)."""
    import shutil

    if subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True).returncode:
        import pytest

        pytest.skip("pip is not available")
    src = tmp_path / "src"
    shutil.copytree(PYTHON_DIR, str(src), ignore=shutil.ignore_patterns(
        "tests", "bench", "build", "*.egg-info", "__pycache__", ".pytest_cache"))
    target = tmp_path / "site"
    proc = subprocess.run(  # what a user runs; pip fetches setuptools for the isolated build
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
         str(src)],
        capture_output=True, text=True, timeout=300,
    )
    offline = ("No matching distribution", "Could not find a version", "NewConnectionError",
               "Temporary failure in name resolution", "Network is unreachable")
    if proc.returncode and any(s in proc.stderr for s in offline):
        import pytest

        pytest.skip("pip cannot reach a package index for setuptools")
    assert proc.returncode == 0, proc.stderr
    code = (
        "import os, trackline\n"
        "assert trackline.__file__.startswith(os.environ['TARGET']), trackline.__file__\n"
        "run = trackline.init(project='p', config={'lr': 0.1})\n"
        "trackline.log({'loss': 1.0, 'img': trackline.Image([[0, 255]])})\n"
        "trackline.finish()\n"
        "r = trackline.Api().run('p/' + run.id)\n"
        "print(trackline.__version__, r.state, r.config, len(list(r.scan_history())))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(target), TARGET=str(target),
               TRACKLINE_DIR=str(tmp_path / "root"))
    out = subprocess.run([sys.executable, "-c", code], cwd=str(tmp_path), env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [trackline.__version__, "finished", "{'lr':", "0.1}", "1"]

    def files(root):
        return sorted(os.path.relpath(os.path.join(d, f), root)
                      for d, dirs, names in os.walk(root) for f in names
                      if "__pycache__" not in d and not f.endswith(".pyc"))

    source = files(os.path.join(PYTHON_DIR, "trackline"))
    assert files(str(target / "trackline")) == source  # every module, subpackage and shim file


def test_log_is_the_core_hot_path():
    """The W&B extras (media, define_metric, save, ...) never wrap log(): the Run that init()
    returns uses the core's log() as is, so their cost is zero for plain metric rows."""
    from trackline import _run

    assert trackline.Run.log is _run.RunWriter.log
    assert trackline.Run._commit_pending is _run.RunWriter._commit_pending
