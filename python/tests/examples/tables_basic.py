"""Follows colabs/tables/W&B_Tables_Quickstart.ipynb: a ``wandb.Table`` built from columns and
rows, grown with ``add_data``, given a computed column with ``add_column``, and logged; a second
table logged under a nested key."""

import random

import wandb

random.seed(7)
run = wandb.init(project="tables-quickstart")
table = wandb.Table(columns=["id", "prediction", "truth"],
                    data=[[i, random.randint(0, 9), random.randint(0, 9)] for i in range(5)])
for i in range(5, 9):
    table.add_data(i, random.randint(0, 9), random.randint(0, 9))
table.add_column("correct", [row[1] == row[2] for row in table.data])
run.log({"predictions": table})
scores = wandb.Table(columns=["epoch", "score"])
for epoch in range(3):
    scores.add_data(epoch, round(random.random(), 6))
run.log({"eval": {"scores": scores}, "epoch": 3})
run.finish()
