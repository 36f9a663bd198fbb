"""Shared helpers: run folders in tmp dirs, scripts in real subprocesses, strict file readers."""

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_DIR = os.path.dirname(PYTHON_DIR)
sys.path.insert(0, PYTHON_DIR)

import trackline  # noqa: E402


#: Environment variables that change what init() does; tests start without them.
MODE_ENV = ("TRACKLINE_MODE", "WANDB_MODE", "TRACKLINE_URL", "TRACKLINE_SWEEP_PARAMS",
            "WANDB_SWEEP_PARAM_PATH")


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Every in-process test writes under its own tmp dir and leaves no active run behind."""
    monkeypatch.setenv("TRACKLINE_DIR", str(tmp_path / "root"))
    monkeypatch.delenv("TRACKLINE_FLUSH_INTERVAL", raising=False)
    for name in MODE_ENV:
        monkeypatch.delenv(name, raising=False)
    yield
    trackline.finish()


def subprocess_env(root, **extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = PYTHON_DIR + os.pathsep + env.get("PYTHONPATH", "")
    env["TRACKLINE_DIR"] = str(root)
    env.pop("TRACKLINE_FLUSH_INTERVAL", None)
    for name in MODE_ENV:
        env.pop(name, None)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def write_script(tmp_path, code, name="script.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(code))
    return path


def run_script(tmp_path, code, args=(), timeout=60, **env):
    """Run ``code`` as a script in a subprocess; returns the CompletedProcess (text output)."""
    path = write_script(tmp_path, code)
    return subprocess.run(
        [sys.executable, str(path), *args],
        cwd=str(tmp_path),
        env=subprocess_env(tmp_path / "root", **env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_script(tmp_path, code, args=(), **env):
    """Start ``code`` as a script in a subprocess (stdout piped, text); returns the Popen."""
    path = write_script(tmp_path, code)
    return subprocess.Popen(
        [sys.executable, str(path), *args],
        cwd=str(tmp_path),
        env=subprocess_env(tmp_path / "root", **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def only_run_dir(root, project=None):
    """The single run folder under ``root`` (optionally in ``project``)."""
    runs = [
        os.path.join(root, p, r)
        for p in sorted(os.listdir(root))
        if project is None or p == project
        for r in sorted(os.listdir(os.path.join(root, p)))
        if not r.startswith(".")
    ]
    assert len(runs) == 1, runs
    return runs[0]


def read_json(path):
    with open(path, "rb") as f:
        return json.loads(f.read().decode("utf-8"))


def split_history(data):
    """Strictly parse history bytes: return (rows of complete lines, trailing partial bytes)."""
    end = data.rfind(b"\n") + 1
    rows = [json.loads(line) for line in data[:end].decode("utf-8").split("\n")[:-1]]
    return rows, data[end:]


def read_history(run_dir):
    with open(os.path.join(run_dir, "history.jsonl"), "rb") as f:
        rows, tail = split_history(f.read())
    assert tail == b"", "history ends with a partial line: %r" % tail[:80]
    return rows


def assert_steps_increasing(rows):
    steps = [r["_step"] for r in rows]
    assert all(type(s) is int and s >= 0 for s in steps), steps
    assert all(a < b for a, b in zip(steps, steps[1:])), steps


def wait_for(predicate, timeout, interval=0.02):
    """Poll ``predicate`` until it returns a truthy value (returned) or ``timeout`` elapses (None)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def count_lines(path):
    try:
        with open(path, "rb") as f:
            return f.read().count(b"\n")
    except FileNotFoundError:
        return 0
