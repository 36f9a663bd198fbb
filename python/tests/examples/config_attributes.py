"""Follows examples/wandb-log/pi.py and the docs page "Configure experiments": config keys set as
attributes (``wandb.config.steps = n``) and items, ``config.update`` with ``allow_val_change``,
``setdefaults``, then a series approximating pi logged term by term."""

import wandb

wandb.init(project="pi", config={"series": "Gregory-Leibniz"})
wandb.config.steps = 25
wandb.config["precision"] = "float64"
wandb.config.update({"steps": 30, "note": "more terms"}, allow_val_change=True)
wandb.config.setdefaults({"precision": "float32", "start": 0})

approx_pi = 0.0
for i in range(wandb.config.start, wandb.config.steps):
    approx_pi += -((i % 2) * 2 - 1) * 4.0 / (2 * i + 1)
    wandb.log({"Approx. Pi": approx_pi})
wandb.run.summary["final"] = approx_pi
