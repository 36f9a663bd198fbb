"""Artifacts next to the real wandb (0.31): the same names are refused, the same metadata limits,
the same ``new_file`` modes, a logged path's name, and the default download folder. Skipped when
wandb is not installed (``pip install wandb==0.31.0``)."""

import os
import subprocess
import sys

import pytest

import trackline
from conftest import subprocess_env, write_script

wandb = pytest.importorskip("wandb")

NAMES = ["ok", "a-b_c.d", "a/b", "a:b", "x" * 128, "x" * 129, "sp ace", "", "ü"]
TYPES = ["dataset", "model", "job", "wandb-history", "run_table"]


def _accepts(factory, *args, **kwargs):
    try:
        factory(*args, **kwargs)
        return True
    except (ValueError, TypeError):
        return False


@pytest.mark.parametrize("name", NAMES)
def test_names_are_refused_as_wandb_refuses_them(name):
    assert _accepts(trackline.Artifact, name, "dataset") == _accepts(wandb.Artifact, name,
                                                                     "dataset")


def test_dot_names_are_stricter_than_wandb():
    # W&B takes "." and "..", which cannot be folder names of the store (docs/format.md).
    assert _accepts(wandb.Artifact, ".", "dataset")
    assert not _accepts(trackline.Artifact, ".", "dataset")


@pytest.mark.parametrize("kind", TYPES)
def test_reserved_types_as_wandb(kind):
    assert _accepts(trackline.Artifact, "ok", kind) == _accepts(wandb.Artifact, "ok", kind)


def test_metadata_errors_as_wandb():
    many = {str(i): i for i in range(101)}
    for lib in (trackline, wandb):
        with pytest.raises(ValueError):
            lib.Artifact("ok", "dataset", metadata=many)
        with pytest.raises(TypeError):
            lib.Artifact("ok", "dataset", metadata={"o": object()})
        lib.Artifact("ok", "dataset", metadata={str(i): i for i in range(100)})


@pytest.mark.parametrize("mode", ["x", "w", "xb", "wb", "a"])
def test_new_file_write_modes_as_wandb(mode):
    for lib in (trackline, wandb):
        art = lib.Artifact("m", "model")
        with art.new_file("f.bin", mode=mode) as f:
            f.write(b"x" if "b" in mode else "x")
        if lib is wandb:  # W&B's get_entry needs a logged artifact
            assert art.manifest.entries["f.bin"].size == 1
        else:
            assert art.get_entry("f.bin").size == 1
        if "x" in mode:
            with pytest.raises(ValueError):
                with art.new_file("f.bin", mode=mode) as f:
                    pass
        else:  # "w" and "a" replace the file (W&B: overwrite = "x" not in mode)
            with art.new_file("f.bin", mode=mode) as f:
                f.write(b"yy" if "b" in mode else "yy")


def test_default_download_root_as_wandb(tmp_path, monkeypatch):
    from wandb import env as wandb_env

    monkeypatch.chdir(tmp_path)
    for value in (None, str(tmp_path / "elsewhere")):
        if value is None:
            monkeypatch.delenv("WANDB_ARTIFACT_DIR", raising=False)
        else:
            monkeypatch.setenv("WANDB_ARTIFACT_DIR", value)
        run = trackline.init(project="roots")
        (tmp_path / "f.txt").write_text("f")
        art = run.log_artifact(str(tmp_path / "f.txt"), name="data", type="dataset")
        # W&B's root is get_artifact_dir()/<name:version>
        assert art.download() == os.path.join(wandb_env.get_artifact_dir(), art.name)
        run.finish()


LOG_PATH = """
import os, sys
lib = __import__(sys.argv[1])
open("f.txt", "w").write("hi")
run = lib.init(project="names")
art = run.log_artifact("f.txt")
print(art.name.split(":")[0] == "run-%s-f.txt" % run.id, art.type)
run.finish()
"""


def test_log_artifact_of_a_path_is_named_as_wandb_names_it(tmp_path):
    script = write_script(tmp_path, LOG_PATH, "log_path.py")
    outputs = []
    for lib in ("wandb", "trackline"):
        env = subprocess_env(tmp_path / "root", WANDB_MODE="offline", WANDB_SILENT="true",
                             WANDB_DIR=str(tmp_path))
        done = subprocess.run([sys.executable, str(script), lib], cwd=str(tmp_path), env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout.strip().splitlines()[-1])
    assert outputs[0] == outputs[1] == "True unspecified"
