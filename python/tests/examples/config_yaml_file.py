"""Follows the docs page "Configure experiments" (section "File-based configs"): defaults from
``config-defaults.yaml`` in the working folder (``key: {value: ..., desc: ...}``), and a second
YAML file given as ``wandb.init(config="train.yaml")``, plus ``config_exclude_keys``."""

import random

import wandb

with open("config-defaults.yaml", "w") as f:
    f.write("epochs:\n  desc: Number of epochs to train over\n  value: 6\n"
            "batch_size:\n  desc: Size of each mini-batch\n  value: 32\n")
with open("train.yaml", "w") as f:
    f.write("learning_rate:\n  value: 0.001\noptimizer:\n  value: adam\n"
            "layers:\n  value: [64, 32]\nsecret:\n  value: hidden\n")

random.seed(2)
run = wandb.init(project="yaml-config", config="train.yaml", config_exclude_keys=["secret"])
for epoch in range(run.config.epochs):
    run.log({"epoch": epoch, "loss": 1.0 / (epoch + 1) + random.random() * 0.01,
             "lr": run.config.learning_rate})
run.finish()
