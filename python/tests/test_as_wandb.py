"""Trackline as ``wandb`` for third-party code, on request (``_as_wandb.py``, ``_shim/``): the
checks Lightning, accelerate, transformers and Ultralytics make pass, ``import wandb`` records into
Trackline, children inherit it, and a real wandb is never shadowed unless asked."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import PYTHON_DIR, read_history, subprocess_env
from trackline import _as_wandb

#: What a third-party library does to find and drive W&B, then a short W&B script. Prints one
#: JSON line with what it saw.
PROBE = textwrap.dedent("""
    import importlib.metadata as md, importlib.util, json, os, subprocess, sys
    found = importlib.util.find_spec("wandb")            # transformers' is_wandb_available
    meta = md.metadata("wandb")                           # accelerate's check
    version = md.version("wandb")                         # Lightning's RequirementCache
    try:
        from lightning_utilities.core.imports import RequirementCache
        lightning = bool(RequirementCache("wandb>=0.12.10"))
    except ImportError:
        from packaging.requirements import Requirement
        from packaging.version import Version
        lightning = Version(version) in Requirement("wandb>=0.12.10").specifier
    import wandb
    from wandb.sdk.lib import RunDisabled                 # Lightning's imports
    from wandb.wandb_run import Run
    from wandb.sdk.lib.config_util import ConfigError     # transformers'
    from wandb.sdk.lib import telemetry                   # the boosting/Keras callbacks'
    run = wandb.init(project="shim", config={"lr": 0.1})
    with telemetry.context(run=run) as tel:
        tel.feature.keras = True
    wandb.config.update({"epochs": 2}, allow_val_change=True)
    for step in range(3):
        wandb.log({"loss": 1.0 / (step + 1)})
    out = {
        "origin": found.origin, "name": meta["Name"], "version": version,
        "lightning": lightning, "has_version": hasattr(wandb, "__version__"),
        "is_run": isinstance(wandb.run, (Run, RunDisabled)), "run_id": wandb.run.id,
        "errors": wandb.errors.Error.__module__, "config_error": ConfigError.__module__,
        "child": subprocess.run([sys.executable, "-c",
                                 "import wandb; print(wandb.__file__)"],
                                capture_output=True, text=True).stdout.strip(),
    }
    wandb.finish()
    print(json.dumps(out))
""")


def _real_wandb_installed():
    return _as_wandb.real_wandb() is not None


def _probe_result(proc):
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _assert_trackline_recorded(result, root):
    shim = _as_wandb.SHIM_DIR + os.sep
    assert result["origin"].startswith(shim)
    assert result["name"] == "wandb" and result["version"].endswith("+trackline")
    assert result["lightning"] and result["has_version"] and result["is_run"]
    assert result["errors"].startswith("trackline") and result["config_error"].startswith("trackline")
    assert result["child"].startswith(shim), "a child process must see the shim too"
    run_dir = os.path.join(str(root), "shim", result["run_id"])
    with open(os.path.join(run_dir, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    assert config["lr"] == 0.1 and config["epochs"] == 2
    assert [row["loss"] for row in read_history(run_dir)] == [1.0, 0.5, 1.0 / 3]


def test_run_command_makes_wandb_trackline_for_the_command_and_its_children(tmp_path):
    root = tmp_path / "root"
    proc = subprocess.run(
        [sys.executable, "-m", "trackline", "run", "--", sys.executable, "-c", PROBE],
        env=subprocess_env(root), capture_output=True, text=True, timeout=120, cwd=str(tmp_path))
    _assert_trackline_recorded(_probe_result(proc), root)
    if _real_wandb_installed():  # shadowing a real wandb is said, never silent
        assert "stands in for wandb here, as asked" in proc.stderr


def test_as_wandb_in_process_before_any_import(tmp_path):
    root = tmp_path / "root"
    code = "import trackline\ntrackline.as_wandb()\n" + PROBE
    proc = subprocess.run([sys.executable, "-c", code], env=subprocess_env(root),
                          capture_output=True, text=True, timeout=120, cwd=str(tmp_path))
    _assert_trackline_recorded(_probe_result(proc), root)


def test_as_wandb_after_the_real_wandb_was_imported_is_refused(tmp_path):
    if not _real_wandb_installed():
        pytest.skip("the real wandb is not installed")
    code = textwrap.dedent("""
        import wandb, trackline
        try:
            trackline.as_wandb()
        except trackline.UsageError as e:
            print("refused:", e)
        print(wandb.__file__)
    """)
    proc = subprocess.run([sys.executable, "-c", code], env=subprocess_env(tmp_path / "root"),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "refused: as_wandb(): the real wandb was already imported" in proc.stdout
    assert not proc.stdout.strip().splitlines()[-1].startswith(_as_wandb.SHIM_DIR)


def test_without_asking_wandb_is_never_trackline(tmp_path):
    code = ("import importlib.util; s = importlib.util.find_spec('wandb'); "
            "print(s.origin if s else None)")
    proc = subprocess.run([sys.executable, "-c", code], env=subprocess_env(tmp_path / "root"),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert not proc.stdout.strip().startswith(_as_wandb.SHIM_DIR)


def test_permanent_switch_gives_way_to_a_real_wandb(tmp_path):
    """The .pth line adds the shim at the end of the path: with no real wandb, `import wandb` is
    Trackline; with one installed, the real one still wins."""
    site_dir = tmp_path / "site"
    path = _as_wandb.install(str(site_dir))
    assert os.path.basename(path) == _as_wandb.PTH_NAME
    where = ("import site, sys; site.addsitedir(%r); import wandb; print(wandb.__file__)"
             % str(site_dir))
    env = subprocess_env(tmp_path / "root")
    # No real wandb: -S leaves site-packages out; only the client and the switch's folder remain.
    bare = subprocess.run([sys.executable, "-S", "-c", "import sys; sys.path.insert(0, %r); %s"
                           % (PYTHON_DIR, where)], env=env, capture_output=True, text=True,
                          timeout=60)
    assert bare.returncode == 0, bare.stderr
    assert bare.stdout.strip().startswith(_as_wandb.SHIM_DIR)
    if _real_wandb_installed():
        full = subprocess.run([sys.executable, "-c", where], env=env, capture_output=True,
                              text=True, timeout=60)
        assert full.returncode == 0, full.stderr
        assert not full.stdout.strip().startswith(_as_wandb.SHIM_DIR)
    assert _as_wandb.uninstall(str(site_dir)) == path
    assert not os.path.exists(path) and _as_wandb.uninstall(str(site_dir)) is None


def test_shim_version_matches_its_distribution():
    with open(os.path.join(_as_wandb.SHIM_DIR, "wandb", "__init__.py"), encoding="utf-8") as f:
        text = f.read()
    dist = [d for d in os.listdir(_as_wandb.SHIM_DIR) if d.endswith(".dist-info")]
    assert len(dist) == 1
    version = dist[0][len("wandb-"):-len(".dist-info")]
    with open(os.path.join(_as_wandb.SHIM_DIR, dist[0], "METADATA"), encoding="utf-8") as f:
        assert "\nVersion: %s\n" % version in f.read()
    assert '__version__ = "%s"' % version in text


def test_usage_errors_exit_2(tmp_path):
    for args in (["run"], ["run", "--"], ["shim"], ["nope"]):
        proc = subprocess.run([sys.executable, "-m", "trackline"] + args,
                              env=subprocess_env(tmp_path / "root"), capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "usage" in proc.stderr


def test_the_daemon_binary_runs_a_command_as_wandb(tmp_path):
    """`trackline run -- CMD` (the Rust binary) hands the command to the client's shim."""
    from conftest import REPO_DIR

    binary = os.environ.get("TRACKLINE_BIN") or os.path.join(REPO_DIR, "target", "debug",
                                                                "trackline")
    if not os.access(binary, os.X_OK):
        pytest.skip("the trackline binary is not built")
    env = subprocess_env(tmp_path / "root", TRACKLINE_PYTHON=sys.executable)
    code = "import wandb, importlib.metadata as m, sys; print(m.version('wandb')); sys.exit(3)"
    proc = subprocess.run([binary, "run", "--", sys.executable, "-c", code], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout.strip() == "0.31.0+trackline"
