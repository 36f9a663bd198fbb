"""Follows the docs page "Customize log axes / summary" (``define_metric`` reference): glob
patterns, ``summary="mean"``, ``"last"``, ``"none"``, several aggregates (``summary="max,min"``),
``hidden=True`` and ``step_sync``."""

import random

import wandb

random.seed(4)
run = wandb.init(project="define-metric-summaries")
run.define_metric("epoch", hidden=True)
run.define_metric("metrics/*", step_metric="epoch", summary="mean")
run.define_metric("metrics/f1", summary="max,min")
run.define_metric("debug/*", summary="none")
run.define_metric("throughput", summary="last", step_sync=True)
for epoch in range(8):
    run.log({"epoch": epoch, "metrics/precision": random.random(),
             "metrics/recall": random.random(), "metrics/f1": random.random(),
             "debug/grad_norm": random.random() * 10, "throughput": 100 + epoch})
run.finish()
