"""Follows colabs/wandb-log/Customize_metric_logging_with_define_metric.ipynb: a custom x-axis
(``define_metric("train/step")``, ``define_metric("train/*", step_metric="train/step")``), a
validation metric on its own step, and summaries kept as ``min``/``max``."""

import random

import wandb

random.seed(3)
run = wandb.init(project="define-metric", config={"epochs": 4, "batches": 5})
run.define_metric("train/step")
run.define_metric("train/*", step_metric="train/step")
run.define_metric("val/step")
run.define_metric("val/loss", step_metric="val/step", summary="min")
run.define_metric("val/acc", step_metric="val/step", summary="max")
step = 0
for epoch in range(run.config.epochs):
    for batch in range(run.config.batches):
        step += 1
        run.log({"train/step": step, "train/loss": 1.0 / step + random.random() * 0.1})
    run.log({"val/step": epoch, "val/loss": 1.0 / (epoch + 1) + random.random() * 0.05,
             "val/acc": 0.5 + 0.1 * epoch + random.random() * 0.01})
run.finish()
