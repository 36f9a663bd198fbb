"""The blog post's W&B script, run unchanged but for ``import trackline as wandb``."""

import json
import os
import re
import socket

from conftest import (
    REPO_DIR,
    assert_steps_increasing,
    only_run_dir,
    read_history,
    read_json,
    run_script,
)

SEED_SCRIPT = r'''
import argparse
import math
import random

import trackline as wandb


class Setting:
    @staticmethod
    def seed_everything(seed):
        random.seed(seed)


def models_load(args, data):
    return lambda x: args.lr * x


def loss_fn(y, y_hat):
    return (y - y_hat) ** 2


def valid(args, model, dataloader, loss_fn):
    return sum(loss_fn(y, model(x)) for x, y in dataloader["valid_dataloader"]) / 2


def train(args, model, dataloader, logger, setting):
    for epoch in range(args.epochs):
        total_loss = 0
        batch = 0

        for idx, data in enumerate(dataloader["train_dataloader"]):
            x, y = data[0], data[1]
            y_hat = model(x)
            loss = loss_fn(y, y_hat) / (epoch + 1)
            total_loss += loss
            batch += 1

            # Log train loss
            wandb.log({"Train Loss": total_loss / batch})

        valid_loss = valid(args, model, dataloader, loss_fn)

        # Log valid loss
        wandb.log({"Valid Loss": valid_loss})

    return model


def main(args):
    Setting.seed_everything(args.seed)

    ############### wandb initialization
    wandb.init(project="project_name")

    ######################## WandB start run
    wandb.run.name = "exp_name"
    wandb.run.save()

    wandb.config.update(args)

    data = {
        "train_dataloader": [(float(i), float(i % 3)) for i in range(args.batches)],
        "valid_dataloader": [(1.0, 2.0), (2.0, 1.0)],
    }
    ######################## Model
    print(f"--------------- INIT {args.model} ---------------")
    model = models_load(args, data)

    ######################## TRAIN
    print(f"--------------- {args.model} TRAINING ---------------")
    model = train(args, model, data, None, None)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--model", type=str, default="FM")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--device", type=str, default="cpu")
    main(parser.parse_args())
'''


def expected_rows(epochs, batches, lr):
    """The metric rows the seed script logs, recomputed here."""
    rows = []
    valid = ((2.0 - lr * 1.0) ** 2 + (1.0 - lr * 2.0) ** 2) / 2
    for epoch in range(epochs):
        total = 0
        for i in range(batches):
            total += (float(i % 3) - lr * float(i)) ** 2 / (epoch + 1)
            rows.append({"Train Loss": total / (i + 1)})
        rows.append({"Valid Loss": valid})
    return rows


def documented_run_json():
    """The example run.json object of docs/format.md."""
    with open(os.path.join(REPO_DIR, "docs", "format.md"), encoding="utf-8") as f:
        text = f.read()
    section = text[text.index("## `run.json`"):]
    return json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))


def test_seed_script_records_a_finished_run(tmp_path):
    args = ["--epochs", "3", "--batches", "4", "--lr", "0.005"]
    proc = run_script(tmp_path, SEED_SCRIPT, args)
    assert proc.returncode == 0, proc.stderr
    assert "INIT FM" in proc.stdout and "FM TRAINING" in proc.stdout
    assert "trackline" not in proc.stderr  # the W&B idioms used trigger no warning

    run_dir = only_run_dir(tmp_path / "root")
    assert os.path.basename(os.path.dirname(run_dir)) == "project_name"
    for name in ("run.json", "config.json", "summary.json", "history.jsonl"):
        assert os.path.isfile(os.path.join(run_dir, name)), name
    assert not [n for n in os.listdir(run_dir) if n.startswith(".")]  # no temp file left

    meta = read_json(os.path.join(run_dir, "run.json"))
    assert list(meta) == list(documented_run_json())
    assert meta["format_version"] == 1
    assert meta["id"] == os.path.basename(run_dir)
    assert re.fullmatch(r"[0-9a-z]{8}", meta["id"])
    assert meta["name"] == "exp_name"
    assert meta["project"] == "project_name"
    assert (meta["group"], meta["tags"], meta["notes"], meta["job_type"]) == (None, [], None, None)
    assert meta["state"] == "finished"
    assert meta["exit_code"] == 0
    assert meta["created_at"] <= meta["finished_at"] <= meta["heartbeat_at"]
    assert meta["host"] == socket.gethostname()
    assert meta["command"] == [str(tmp_path / "script.py")] + args
    assert isinstance(meta["pid"], int) and meta["pid"] > 0
    assert meta["client"] == "trackline-python 0.1.0"

    config = read_json(os.path.join(run_dir, "config.json"))
    assert config == {
        "seed": 42, "model": "FM", "epochs": 3, "batches": 4, "lr": 0.005, "device": "cpu",
    }

    rows = read_history(run_dir)
    expected = expected_rows(3, 4, 0.005)
    assert len(rows) == len(expected) == 15
    assert [r["_step"] for r in rows] == list(range(15))
    assert_steps_increasing(rows)
    for row, want in zip(rows, expected):
        metrics = {k: v for k, v in row.items() if not k.startswith("_")}
        assert metrics.keys() == want.keys()
        for key in want:
            assert abs(metrics[key] - want[key]) < 1e-12
        assert abs(row["_runtime"] - (row["_timestamp"] - meta["created_at"])) < 1e-5
    timestamps = [r["_timestamp"] for r in rows]
    assert timestamps == sorted(timestamps)
    assert meta["created_at"] <= timestamps[0] and timestamps[-1] <= meta["finished_at"]

    summary = read_json(os.path.join(run_dir, "summary.json"))
    assert summary["_step"] == 14
    assert summary["Valid Loss"] == rows[-1]["Valid Loss"]
    assert summary["Train Loss"] == rows[-2]["Train Loss"]
