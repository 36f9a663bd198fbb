"""Follows examples/api-examples/group-and-resume/train.py: hyperparameters from ``argparse``,
``wandb.config.update(args)`` with the Namespace, one more key set by attribute, and metrics with
a ``section/`` prefix logged beside plain ones."""

import argparse
import random

import wandb

parser = argparse.ArgumentParser(description="Train an example model")
parser.add_argument("--group_id", type=str, default="exp-1")
parser.add_argument("--worker_index", type=int, default=0)
parser.add_argument("--learning_rate", type=float, default=0.9)
parser.add_argument("--momentum", type=float, default=0.8)
args = parser.parse_args([])

random.seed(1)
wandb.init(project="argparse-config", group=args.group_id, job_type="train")
wandb.config.update(args)
wandb.config.job_type = "training"
for i in range(12):
    loss = 10 / (i + 1) + (random.random() - 0.5) * 0.5
    wandb.log({"epoch": i, "loss": loss, "train/acc": (100 - loss) / 100.0})
