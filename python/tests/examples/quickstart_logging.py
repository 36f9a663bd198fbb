"""Follows the W&B quickstart (docs "Quickstart" and colabs/intro/Intro_to_Weights_&_Biases.ipynb):
``wandb.init(project, config=dict)``, a simulated training loop logging ``acc`` and ``loss`` each
epoch, ``wandb.finish()``."""

import random

import wandb

random.seed(0)
run = wandb.init(project="quickstart", config={"learning_rate": 0.02, "architecture": "CNN",
                                                 "dataset": "CIFAR-100", "epochs": 10})
offset = random.random() / 5
for epoch in range(2, run.config.epochs):
    acc = 1 - 2 ** -epoch - random.random() / epoch - offset
    loss = 2 ** -epoch + random.random() / epoch + offset
    wandb.log({"acc": acc, "loss": loss})
wandb.finish()
