"""Follows examples/api-examples/resume/train.py and the docs page "Resume a run": the same run
id started twice with ``resume="allow"`` (the second start continuing from epoch 5), in one
process, with ``wandb.run.resumed`` decided by whether the run existed."""

import random

import wandb

random.seed(14)
for start in (0, 5):
    run = wandb.init(project="resume", id="resume-example-1", resume="allow",
                     config={"learning_rate": 0.01, "num_epochs": 5})
    for epoch in range(start, start + run.config.num_epochs):
        loss = 10 / (epoch + 1) + (random.random() - 0.5) * 0.5
        run.log({"epoch": epoch, "loss": loss, "acc": (100 - loss) / 100.0})
    run.finish()
