"""``trackline.sweep`` and ``trackline.agent`` (W&B's ``wandb.sweep``/``wandb.agent``) against the
real daemon binary, which ``sweep()`` starts for the data directory when none serves it."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import urllib.request

import pytest

import trackline
from conftest import REPO_DIR, read_json, subprocess_env, wait_for
from trackline import _sweeps

BIN = os.environ.get("TRACKLINE_BIN") or os.path.join(REPO_DIR, "target", "debug", "trackline")

pytestmark = pytest.mark.skipif(
    not os.access(BIN, os.X_OK),
    reason="daemon binary %s not found: build it with `TRACKLINE_SKIP_WEB=1 cargo build -p "
           "trackline` or set TRACKLINE_BIN" % BIN,
)


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A data dir whose daemon (started by sweep()) is stopped after the test."""
    root = tmp_path / "root"
    monkeypatch.setenv("TRACKLINE_DIR", str(root))
    monkeypatch.setenv("TRACKLINE_BIN", BIN)
    monkeypatch.delenv("TRACKLINE_URL", raising=False)
    for name in ("TRACKLINE_SWEEP_ID", "WANDB_SWEEP_ID", "TRACKLINE_SWEEP_PARAMS",
                 "TRACKLINE_RUN_ID", "WANDB_RUN_ID"):
        monkeypatch.delenv(name, raising=False)
    yield root
    holder = _sweeps.read_lock(str(root)) or {}
    if holder.get("pid"):
        try:
            os.kill(holder["pid"], signal.SIGTERM)
        except OSError:
            pass


def get(url):
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.loads(resp.read().decode("utf-8"))


def train():
    """A W&B-style training function: its defaults are overridden by the sweep, and its own
    later update of a swept key is ignored with a warning."""
    run = trackline.init(config={"lr": 0.5, "epochs": 3})
    trackline.config.update({"lr": 999.0, "batch": 8})
    for epoch in range(trackline.config.epochs):
        trackline.log({"loss": trackline.config.lr * trackline.config.batch / (epoch + 1)})
    if trackline.config.batch == 8 and trackline.config.lr == 0.01:
        raise RuntimeError("this run fails on purpose")
    run.finish()


def test_sweep_and_function_agent_run_locally(root, capsys):
    config = {"method": "grid", "metric": {"name": "loss", "goal": "minimize"},
              "parameters": {"lr": {"values": [0.1, 0.01, 0.001]}, "epochs": {"value": 2}}}
    sweep_id = trackline.sweep(config, project="sweepy")
    out = capsys.readouterr().err
    assert "Created sweep with ID: %s" % sweep_id in out
    assert "trackline agent sweepy/%s" % sweep_id in out
    assert "started a Trackline daemon" in out
    trackline.agent("local/sweepy/" + sweep_id, function=train)
    url = _sweeps.read_lock(str(root))["url"]
    # A run's last summary may reach the daemon just after its process ended.
    detail = wait_for(lambda: (lambda d: d if all(r["metric"] is not None for r in d["runs"])
                               else None)(get("%s/api/sweeps/%s" % (url, sweep_id))), 15)
    runs = detail["runs"]
    assert [r["params"] for r in runs] == [{"epochs": 2, "lr": v} for v in (0.1, 0.01, 0.001)]
    states = {r["params"]["lr"]: r["state"] for r in runs}
    assert states == {0.1: "finished", 0.01: "failed", 0.001: "finished"}, runs
    for r in runs:
        folder = root / "sweepy" / r["run"]
        cfg = read_json(str(folder / "config.json"))
        # The sweep's values won over the defaults and over the later update.
        assert (cfg["lr"], cfg["epochs"], cfg["batch"]) == (r["params"]["lr"], 2, 8), cfg
        assert read_json(str(folder / "run.json"))["sweep_id"] == sweep_id
    assert detail["info"]["best"]["value"] == pytest.approx(0.001 * 8 / 2)


def test_count_is_honoured_and_ids_are_checked(root):
    sweep_id = trackline.sweep({"method": "random", "parameters": {"lr": {"min": 0.0, "max": 1.0}}},
                               project="p")
    trackline.agent(sweep_id, function=train, count=2)
    url = _sweeps.read_lock(str(root))["url"]
    assert len(get("%s/api/sweeps/%s" % (url, sweep_id))["runs"]) == 2
    with pytest.raises(trackline.UsageError):
        trackline.agent("not-an-id", function=train)
    with pytest.raises(trackline.UsageError):
        trackline.sweep("method: random")


def test_no_binary_is_a_clear_error(tmp_path):
    code = textwrap.dedent("""
        import trackline
        try:
            trackline.sweep({"method": "random", "parameters": {"a": {"value": 1}}})
        except trackline.UsageError as e:
            print("refused:", e)
    """)
    env = subprocess_env(tmp_path / "root")
    env.pop("TRACKLINE_BIN", None)
    env["PATH"] = "/nonexistent"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert "refused: sweeps need the trackline daemon" in out.stdout
