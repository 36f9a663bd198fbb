"""Stable-Baselines3's ``WandbCallback`` (``trackline.integration.sb3``, ``wandb.integration.sb3``
through the shim): a PPO run on CartPole records what the real wandb 0.31 records — the same
config keys (W&B's ``str()`` of objects replaced by what they are), the same gradient and
parameter histogram keys with the same number of rows, and the saved ``model.zip`` in the run's
files.

The comparison needs torch and stable-baselines3 (~3 GB, not installed by ``.ci/run``): it runs
when ``TRACKLINE_HEAVY_PYTHON`` names a Python that has them (``python/bench/heavy_examples.sh``
makes one). How config values are described is tested everywhere."""

import json
import os
import subprocess
import sys
import textwrap
import types

import pytest

from conftest import PYTHON_DIR, read_history, subprocess_env

HEAVY = os.environ.get("TRACKLINE_HEAVY_PYTHON")

SCRIPT = """
    import sys
    # TensorFlow (a test requirement, for Keras) beside torch in one process aborts on LLVM
    # options registered twice, and sync_tensorboard would import it: keep it out on both sides.
    sys.modules["tensorflow"] = None
    import torch
    from stable_baselines3 import PPO
    from wandb.integration.sb3 import WandbCallback
    torch.manual_seed(0)
    config = {"policy_type": "MlpPolicy", "total_timesteps": 256, "env_name": "CartPole-v1"}
    run = wandb.init(project="sb3", config=config, **INIT)
    model = PPO(config["policy_type"], config["env_name"], n_steps=64, batch_size=32,
                n_epochs=2, seed=0, verbose=0)
    model.learn(total_timesteps=config["total_timesteps"],
                callback=WandbCallback(model_save_path="models/" + run.id, model_save_freq=128,
                                       gradient_save_freq=2, verbose=2))
    print("RUN", run.id)
    run.finish()
"""


def _sb3_module(monkeypatch):
    """``trackline.integration.sb3`` loaded against a stand-in ``stable_baselines3`` when the
    real one is missing (its helpers need none of it); both leave with the test."""
    try:
        import stable_baselines3  # noqa: F401
    except ImportError:
        callbacks = types.ModuleType("stable_baselines3.common.callbacks")
        callbacks.BaseCallback = type("BaseCallback", (), {"__init__": lambda self, v=0: None})
        for name, module in (("stable_baselines3", types.ModuleType("stable_baselines3")),
                             ("stable_baselines3.common",
                              types.ModuleType("stable_baselines3.common")),
                             ("stable_baselines3.common.callbacks", callbacks)):
            monkeypatch.setitem(sys.modules, name, module)
    import importlib.util

    import trackline.integration

    path = os.path.join(os.path.dirname(trackline.integration.__file__), "sb3.py")
    spec = importlib.util.spec_from_file_location("trackline.integration._sb3_probe", path)
    sb3 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sb3)  # not kept in sys.modules
    return sb3


def test_config_values_say_what_objects_are_never_how_they_print(monkeypatch):
    sb3 = _sb3_module(monkeypatch)

    class Space:
        shape = (4,)
        dtype = "float32"

    class Env:
        pass

    def schedule(progress):
        return progress

    values = {"lr": 3e-4, "n": 64, "flag": True, "name": "x", "none": None,
              "kwargs": {"net_arch": [64, 64], "fn": schedule}, "cls": Env, "env": Env(),
              "space": Space(), "pair": (1, 2.5)}
    got = {k: sb3.config_value(v) for k, v in values.items()}
    assert got == {
        "lr": 3e-4, "n": 64, "flag": True, "name": "x", "none": None,
        "kwargs": {"net_arch": [64, 64],
                   "fn": __name__ + ".test_config_values_say_what_objects_are_never_how_"
                                    "they_print.<locals>.schedule"},
        "cls": __name__ + ".test_config_values_say_what_objects_are_never_how_they_print."
                          "<locals>.Env",
        "env": __name__ + ".test_config_values_say_what_objects_are_never_how_they_print."
                          "<locals>.Env",
        "space": {"type": __name__ + ".test_config_values_say_what_objects_are_never_how_they_"
                                     "print.<locals>.Space", "shape": [4], "dtype": "float32"},
        "pair": [1, 2.5],
    }
    assert " at 0x" not in json.dumps(got)


def _history_counts(rows):
    counts = {}
    for row in rows:
        for key in row:
            if key.startswith(("gradients/", "parameters/")):
                counts[key] = counts.get(key, 0) + 1
    return counts


@pytest.mark.skipif(not HEAVY, reason="needs torch and stable-baselines3: set "
                                      "TRACKLINE_HEAVY_PYTHON (python/bench/heavy_examples.sh)")
def test_ppo_with_the_callback_records_what_wandb_records(tmp_path):
    pytest.importorskip("wandb")
    from wandb_offline import WandbRun

    body = textwrap.dedent(SCRIPT)
    # The real wandb, offline.
    wb_root = tmp_path / "wb"
    wb_root.mkdir()
    (wb_root / "s.py").write_text("import wandb\nINIT = {'mode': 'offline', 'dir': %r}\n%s"
                                  % (str(wb_root), body))
    env = dict(os.environ, WANDB_SILENT="true", WANDB_MODE="offline")
    done = subprocess.run([HEAVY, "s.py"], cwd=str(wb_root), env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    (run_dir,) = [os.path.join(wb_root, "wandb", d) for d in os.listdir(wb_root / "wandb")
                  if d.startswith("offline-run-")]
    wb = WandbRun(run_dir)
    # Trackline as wandb, through the shim (`import wandb` is Trackline in the script).
    tl_work = tmp_path / "tl"
    tl_work.mkdir()
    (tl_work / "s.py").write_text("import wandb\nINIT = {}\n%s" % body)
    root = tmp_path / "tl_root"
    done = subprocess.run([HEAVY, "-m", "trackline", "run", "--", HEAVY, "s.py"],
                          cwd=str(tl_work), env=subprocess_env(root, PYTHONPATH=PYTHON_DIR),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    run_id = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("RUN ")][0]
    tl_dir = os.path.join(str(root), "sb3", run_id)
    with open(os.path.join(tl_dir, "config.json"), encoding="utf-8") as f:
        tl_config = {k: v for k, v in json.load(f).items() if not k.startswith("_")}
    wb_config = {k: v for k, v in wb.config.items() if not k.startswith("_")}
    # wandb sends init's config in its run record, which WandbRun does not fold in.
    script_keys = {"policy_type", "total_timesteps", "env_name"}
    assert sorted(tl_config) == sorted(set(wb_config) | script_keys)
    assert tl_config["algo"] == wb_config["algo"] == "PPO"
    assert " object at 0x" not in json.dumps(tl_config)
    assert " object at 0x" in json.dumps(wb_config)  # what W&B keeps, and this does not
    tl_counts = _history_counts(read_history(tl_dir))
    wb_counts = _history_counts(wb.history)
    assert tl_counts and tl_counts == wb_counts
    with open(os.path.join(tl_dir, "files", "model.zip"), "rb") as f:
        assert f.read(2) == b"PK"
    assert os.path.isfile(os.path.join(wb.files_dir, "model.zip"))
