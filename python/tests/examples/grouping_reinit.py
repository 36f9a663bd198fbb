"""Follows colabs/Grouping_Feature.ipynb and the docs page "Group runs into experiments":
several runs in one process (``finish()`` between them), each with ``group=`` and ``job_type=``,
a cross-validation-like loop of folds then an eval run."""

import random

import wandb

random.seed(13)
for fold in range(3):
    run = wandb.init(project="grouping", group="cv-experiment", job_type="train",
                     name="fold-%d" % fold, config={"fold": fold, "lr": 0.01}, reinit=True)
    for epoch in range(4):
        run.log({"loss": 1.0 / (epoch + 1) + random.random() * 0.1})
    run.summary["fold_score"] = random.random()
    run.finish()
with wandb.init(project="grouping", group="cv-experiment", job_type="eval") as run:
    run.log({"mean_score": 0.5})
