"""run.config with W&B's rules: sources (argparse, absl flags, config-defaults.yaml, sweeps),
allow_val_change, locked sweep keys, setdefaults, hidden `_` keys, include/exclude filters, and
the small YAML reader."""

import argparse
import json
import math
import os
import sys

import pytest

import trackline
from trackline import _yaml
from conftest import only_run_dir, read_json, run_script


def config_file(run):
    return read_json(os.path.join(run.dir, "config.json"))


# -- sources -----------------------------------------------------------------------------------------
def test_argparse_namespace_in_init_and_update(tmp_path):
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--layers", type=int, nargs="+", default=[64, 32])
    parser.add_argument("--cuda", action="store_true")
    args = parser.parse_args(["--lr", "0.5", "--cuda"])
    run = trackline.init(project="p", config=args)
    assert config_file(run) == {"lr": 0.5, "layers": [64, 32], "cuda": True}
    run.config.update(argparse.Namespace(epochs=3))
    assert run.config.epochs == 3 and config_file(run)["epochs"] == 3


class FakeAbslFlags:
    """What absl.flags.FLAGS offers: flag_values_dict(), plus a __dict__ full of internals."""

    def __init__(self, **values):
        self._flags_internal = {"noise": object()}
        self._values = values

    def flag_values_dict(self):
        return dict(self._values)


def test_absl_like_flags_use_flag_values_dict(tmp_path):
    flags = FakeAbslFlags(batch_size=32, model="resnet")
    run = trackline.init(project="p", config=flags)
    assert config_file(run) == {"batch_size": 32, "model": "resnet"}
    run.config.update(FakeAbslFlags(seed=7))
    assert config_file(run) == {"batch_size": 32, "model": "resnet", "seed": 7}


def test_config_defaults_yaml_is_read_from_the_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config-defaults.yaml").write_text(
        "wandb_version: 1\n"
        "epochs:\n  desc: Number of epochs to train over\n  value: 100\n"
        "batch_size:\n  value: 32\n"
        "optimizer: adam\n"
        "betas: [0.9, 0.999]\n"
    )
    run = trackline.init(project="p", config={"batch_size": 64})
    assert config_file(run) == {"epochs": 100, "batch_size": 64, "optimizer": "adam",
                                "betas": [0.9, 0.999]}
    assert run.config.epochs == 100


def test_config_defaults_yaml_without_pyyaml(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "yaml", None)  # `import yaml` now fails
    (tmp_path / "config-defaults.yaml").write_text("lr:\n  value: 0.001\n  desc: rate\ndepth: 3\n")
    run = trackline.init(project="p")
    assert config_file(run) == {"lr": 0.001, "depth": 3}


def test_config_given_as_a_file_path(tmp_path):
    (tmp_path / "exp.yaml").write_text("lr:\n  value: 0.2\nname: big\n")
    run = trackline.init(project="p", config=str(tmp_path / "exp.yaml"))
    assert config_file(run) == {"lr": 0.2, "name": "big"}
    with pytest.raises(trackline.UsageError):
        trackline.init(project="p", config=str(tmp_path / "missing.yaml"))


def test_bad_config_defaults_yaml_warns_and_is_ignored(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config-defaults.yaml").write_text("- just\n- a list\n")
    with pytest.warns(trackline.TracklineWarning, match="config-defaults.yaml"):
        run = trackline.init(project="p", config={"a": 1})
    assert config_file(run) == {"a": 1}


# -- allow_val_change ----------------------------------------------------------------------------------
def test_changing_a_value_raises_unless_allowed(tmp_path):
    run = trackline.init(project="p", config={"lr": 0.1, "layers": (1, 2)})
    for change in (
        lambda: run.config.update({"lr": 0.2}),
        lambda: run.config.__setitem__("lr", 0.2),
        lambda: setattr(run.config, "lr", 0.2),
        lambda: trackline.config.update({"lr": 0.2}),
    ):
        with pytest.raises(trackline.ConfigError, match="allow_val_change"):
            change()
    assert run.config.lr == 0.1 and config_file(run)["lr"] == 0.1
    run.config.update({"lr": 0.1, "layers": [1, 2], "new": 1})  # the same values are no change
    run.config.update({"lr": 0.3}, allow_val_change=True)
    assert run.config.lr == 0.3 and config_file(run)["lr"] == 0.3
    run.config.setdefaults({"lr": 9, "other": 2})  # never changes a value, never raises
    assert config_file(run) == {"lr": 0.3, "layers": [1, 2], "new": 1, "other": 2}


def test_allow_val_change_at_init_allows_every_change(tmp_path):
    run = trackline.init(project="p", config={"lr": 0.1}, allow_val_change=True)
    run.config.lr = 0.2
    run.config.update({"lr": 0.3})
    assert config_file(run)["lr"] == 0.3


def test_nan_and_arrays_compare_by_value(tmp_path):
    run = trackline.init(project="p", config={"x": float("nan")})
    run.config.update({"x": float("nan")})  # NaN is no change

    class Array:  # numpy-like: == gives an array whose truth value raises
        def __init__(self, v):
            self.v = v

        def __eq__(self, other):
            class Ambiguous:
                def __bool__(self):
                    raise ValueError("ambiguous")
            return Ambiguous()

        def tolist(self):
            return self.v

    run.config.update({"a": Array([1, 2])})
    run.config.update({"a": Array([1, 2])})
    with pytest.raises(trackline.ConfigError):
        run.config.update({"a": Array([1, 3])})


# -- sweeps ---------------------------------------------------------------------------------------------
def test_sweep_params_win_and_are_locked(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKLINE_SWEEP_PARAMS", json.dumps({"lr": 0.05, "depth": {"value": 4}}))
    run = trackline.init(project="p", config={"lr": 0.1, "epochs": 3})
    assert config_file(run) == {"lr": 0.05, "epochs": 3, "depth": 4}
    with pytest.warns(trackline.TracklineWarning, match="'lr' was locked by 'sweep'"):
        run.config.update({"lr": 0.2, "epochs": 5}, allow_val_change=True)
    with pytest.warns(trackline.TracklineWarning, match="'depth' was locked"):
        run.config.depth = 8
    assert run.config.lr == 0.05 and run.config.depth == 4 and run.config.epochs == 5
    assert config_file(run) == {"lr": 0.05, "epochs": 5, "depth": 4}


def test_wandb_sweep_param_path_file(tmp_path, monkeypatch):
    path = tmp_path / "sweep.yaml"
    path.write_text("lr:\n  value: 0.02\nbatch:\n  value: 16\n")  # what the W&B agent writes
    monkeypatch.setenv("WANDB_SWEEP_PARAM_PATH", str(path))
    run = trackline.init(project="p", config={"lr": 1.0})
    assert config_file(run) == {"lr": 0.02, "batch": 16}
    with pytest.warns(trackline.TracklineWarning, match="locked"):
        trackline.config.update({"batch": 32})
    assert config_file(run)["batch"] == 16


def test_sweep_params_in_a_subprocess(tmp_path):
    proc = run_script(tmp_path, """
        import trackline as wandb
        wandb.init(project="p", config={"lr": 0.1, "dropout": 0.5})
        wandb.config.update({"lr": 0.9})
        print("lr", wandb.config.lr)
    """, TRACKLINE_SWEEP_PARAMS='{"lr": 0.003}')
    assert proc.returncode == 0, proc.stderr
    assert "lr 0.003" in proc.stdout
    assert "'lr' was locked by 'sweep'" in proc.stderr
    config = read_json(os.path.join(only_run_dir(tmp_path / "root"), "config.json"))
    assert config == {"lr": 0.003, "dropout": 0.5}


def test_bad_sweep_params_warn_and_are_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKLINE_SWEEP_PARAMS", "[1, 2]")
    with pytest.warns(trackline.TracklineWarning, match="sweep parameters"):
        run = trackline.init(project="p", config={"a": 1})
    assert config_file(run) == {"a": 1}


# -- keys -----------------------------------------------------------------------------------------------
def test_underscore_keys_are_stored_but_hidden_from_the_api(tmp_path):
    run = trackline.init(project="p", config={"_internal": {"x": 1}, "lr": 0.1})
    run.config._seed = 3  # attribute style works for "_" keys too
    assert config_file(run) == {"_internal": {"x": 1}, "lr": 0.1, "_seed": 3}
    assert run.config["_internal"] == {"x": 1}
    trackline.finish()
    assert trackline.Api().run("p/" + run.id).config == {"lr": 0.1}


def test_include_and_exclude_keys_filter_the_init_config(tmp_path):
    config = {"lr": 0.1, "epochs": 3, "secret": "x"}
    run = trackline.init(project="p", config=config, config_exclude_keys=["secret"])
    assert config_file(run) == {"lr": 0.1, "epochs": 3}
    run = trackline.init(project="p", config=config, config_include_keys=["lr", "missing"])
    assert config_file(run) == {"lr": 0.1}
    run.config.update({"later": 1})  # only the init config is filtered
    assert config_file(run) == {"lr": 0.1, "later": 1}
    with pytest.raises(trackline.UsageError):
        trackline.init(project="p", config=config, config_include_keys=["a"],
                       config_exclude_keys=["b"])


def test_config_as_plain_dict(tmp_path):
    run = trackline.init(project="p", config={"lr": 0.1, "opt": {"name": "adam"}})
    assert dict(run.config) == {"lr": 0.1, "opt": {"name": "adam"}}
    assert {**run.config} == dict(run.config)
    assert run.config.opt["name"] == "adam"


# -- the YAML reader --------------------------------------------------------------------------------------
YAML_SAMPLE = """\
# comment
wandb_version: 1
epochs:
  desc: Number of epochs   # trailing comment
  value: 100
lr: 1.0e-3
not_a_float: 1e-3
big: 1_000
hex: 0x1F
flag: yes
off_flag: off
nothing: ~
empty:
quoted: "a # b"
single: 'it''s'
inf: -.inf
flow: [1, two, {k: v}, [3]]
block:
  - 1
  - name: x
    size: 2
  -
    - nested
same_indent:
- a
- b
text: |
  line one
  line two
folded: >
  a
  b
url: http://example.com/x
"""

YAML_EXPECTED = {
    "wandb_version": 1,
    "epochs": {"desc": "Number of epochs", "value": 100},
    "lr": 0.001, "not_a_float": "1e-3", "big": 1000, "hex": 31, "flag": True, "off_flag": False,
    "nothing": None, "empty": None, "quoted": "a # b", "single": "it's", "inf": -math.inf,
    "flow": [1, "two", {"k": "v"}, [3]],
    "block": [1, {"name": "x", "size": 2}, ["nested"]],
    "same_indent": ["a", "b"],
    "text": "line one\nline two\n", "folded": "a b\n", "url": "http://example.com/x",
}


def test_yaml_subset_reader():
    assert _yaml.parse(YAML_SAMPLE) == YAML_EXPECTED
    assert _yaml.parse("") is None
    assert _yaml.parse("- 1\n- 2\n") == [1, 2]
    assert _yaml.parse("---\na: 1\n...\n") == {"a": 1}
    for bad in ("a: [1, 2\n", "a: 1\n   b: 2\n", "a: *ref\n", "\tb: 1\n"):
        with pytest.raises(ValueError):
            _yaml.parse(bad)


def test_yaml_subset_reader_agrees_with_pyyaml():
    yaml = pytest.importorskip("yaml")
    assert _yaml.parse(YAML_SAMPLE) == yaml.safe_load(YAML_SAMPLE)
