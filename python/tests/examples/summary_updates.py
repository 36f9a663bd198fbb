"""Follows the docs page "Log summary metrics": ``run.summary["key"] = value`` after training,
``wandb.summary.update({...})`` with a nested dict, overriding a logged metric's last value, and
``del`` of a summary key."""

import random

import wandb

random.seed(6)
run = wandb.init(project="summary", config={"epochs": 5})
best = 0.0
for epoch in range(run.config.epochs):
    acc = random.random()
    best = max(best, acc)
    run.log({"accuracy": acc, "epoch": epoch})
run.summary["best_accuracy"] = best
run.summary["accuracy"] = best
wandb.summary.update({"test": {"accuracy": 0.91, "loss": 0.3}, "scratch": 1})
del run.summary["scratch"]
run.finish()
