"""The environment a launcher, scheduler or sweep agent sets, read as W&B reads it: run identity
($WANDB_NAME, $WANDB_TAGS, $WANDB_NOTES, $WANDB_RUN_GROUP, $WANDB_JOB_TYPE, $WANDB_PROJECT),
resuming ($WANDB_RUN_ID + $WANDB_RESUME continue one run across two processes), $WANDB_DIR,
$WANDB_DISABLED, $WANDB_SILENT, $WANDB_CONSOLE, and the small W&B surface scripts touch
(``wandb.join``, ``log()`` with no data, ``wandb.errors.term``, ``run.sweep_id``)."""

import json
import os
import subprocess
import sys

from conftest import read_history, subprocess_env

SCRIPT = r'''
import sys
import trackline as wandb
run = wandb.init(config={"lr": 0.1})
start = int(sys.argv[1])
for step in range(start, start + 3):
    wandb.log({"loss": 1.0 / (step + 1)})
wandb.log()
print("sweep", run.sweep_id, run.sweep_url)
wandb.errors.term.termlog("from term")
wandb.join()
'''


def run_script(tmp_path, env, start=0):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    return subprocess.run([sys.executable, str(script), str(start)], cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, timeout=120)


def test_identity_and_resume_come_from_the_environment(tmp_path):
    env = subprocess_env(tmp_path / "root", WANDB_PROJECT="envproj", WANDB_NAME="named by env",
                         WANDB_TAGS="a, b,,c", WANDB_NOTES="from env", WANDB_RUN_GROUP="g",
                         WANDB_JOB_TYPE="eval", WANDB_RUN_ID="fixedid1", WANDB_RESUME="allow",
                         WANDB_SWEEP_ID="sw1", WANDB_CONSOLE="off")
    first = run_script(tmp_path, env)
    assert first.returncode == 0, first.stderr
    assert "from term" in first.stderr
    second = run_script(tmp_path, env, start=3)
    assert second.returncode == 0, second.stderr
    run_dir = tmp_path / "root" / "envproj" / "fixedid1"
    run = json.loads((run_dir / "run.json").read_text())
    assert (run["name"], run["tags"], run["notes"], run["group"], run["job_type"]) == (
        "named by env", ["a", "b", "c"], "from env", "g", "eval")
    rows = read_history(str(run_dir))
    assert [r["_step"] for r in rows] == list(range(8))  # 3 + the empty log, twice, one run
    assert [r["loss"] for r in rows if "loss" in r] == [1.0 / (s + 1) for s in range(6)]
    assert "sweep sw1 " in first.stdout and first.stdout.strip().endswith("/sweeps/sw1")
    assert not (run_dir / "console.log").exists()


def test_arguments_win_over_the_environment(tmp_path):
    env = subprocess_env(tmp_path / "root", WANDB_NAME="env name", TRACKLINE_NAME="trackline name")
    code = ("import trackline as wandb\n"
            "run = wandb.init(project='p', tags=['arg'])\n"
            "print(run.name, run.tags)\n"
            "wandb.finish()\n")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=60, cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0:2] == ["trackline", "name"]
    assert "arg" in out.stdout


def test_wandb_dir_disabled_and_silent(tmp_path):
    env = subprocess_env(tmp_path / "unused")
    del env["TRACKLINE_DIR"]
    env["WANDB_DIR"] = str(tmp_path / "wd")
    code = ("import trackline as wandb\nwandb.init(project='p', id='r1')\n"
            "wandb.log({'x': 1})\nwandb.termlog('noisy')\nwandb.finish()\n")
    out = subprocess.run([sys.executable, "-c", code], env=dict(env, WANDB_SILENT="true"),
                         capture_output=True, text=True, timeout=60, cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "wd" / "trackline" / "p" / "r1" / "history.jsonl").exists()
    assert "noisy" not in out.stderr
    off = subprocess.run([sys.executable, "-c", code.replace("'r1'", "'r2'")],
                         env=dict(env, WANDB_DISABLED="true"), capture_output=True, text=True,
                         timeout=60, cwd=str(tmp_path))
    assert off.returncode == 0, off.stderr
    assert not (tmp_path / "wd" / "trackline" / "p" / "r2").exists()
