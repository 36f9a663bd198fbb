"""Follows the docs page "Log objects and media" (nested dictionaries) and the W&B quickstart's
``with wandb.init() as run:`` form: nested metric dicts (``{"train": {"loss": ...}}``), numpy
scalars and arrays, None/NaN values, and a string metric."""

import math

import numpy as np

import wandb

rng = np.random.default_rng(19)
with wandb.init(project="nested-logging", config={"model": {"depth": 2, "width": 16},
                                                   "optim": {"name": "sgd", "lr": 0.1}}) as run:
    for epoch in range(5):
        run.log({"train": {"loss": np.float32(1.0 / (epoch + 1)), "acc": np.float64(rng.random())},
                 "val": {"loss": float(rng.random()), "per_class": rng.random(3).round(4)},
                 "phase": "warmup" if epoch < 2 else "main",
                 "maybe": math.nan if epoch == 3 else epoch,
                 "epoch": np.int64(epoch)})
