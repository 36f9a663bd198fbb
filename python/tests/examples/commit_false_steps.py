"""Follows examples/api-examples/metrics-at-different-steps/train.py and the docs page "Log
objects and media" (section on ``step``/``commit``): training metrics logged with
``commit=False``, validation every few steps into the same row, a bare ``wandb.log()`` committing
it; then explicit ``step=`` values, including two calls for the same step."""

import random

import wandb

random.seed(5)
wandb.init(project="different-steps", config={"max_epochs": 10, "validate_every": 3})
for i in range(wandb.config.max_epochs):
    loss = 10 / (i + 1) + (random.random() - 0.5) * 0.5
    wandb.log({"loss": loss, "acc": (100 - loss) / 100.0}, commit=False)
    if i % wandb.config.validate_every == 0:
        wandb.log({"val_acc": (100 - loss) / 100.0 - 0.05}, commit=False)
    wandb.log({})  # the public example's bare wandb.log(); wandb 0.31 needs the dict
for step in range(20, 26):
    wandb.log({"eval/loss": 1.0 / step}, step=step)
    wandb.log({"eval/extra": step * 2}, step=step)
wandb.log({"final": 1.0}, step=30, commit=True)
wandb.finish()
