"""Follows colabs/tensorboard/TensorBoard_and_Weights_and_Biases.ipynb and
examples/tensorboard/tensorboard-pytorch/train.py: ``wandb.init(sync_tensorboard=True)`` and a
``tensorboardX.SummaryWriter`` writing scalars (several tags, two groups) and a histogram, so the
TensorBoard events become W&B history."""

import numpy as np
from tensorboardX import SummaryWriter

import wandb

rng = np.random.default_rng(17)
wandb.init(project="tensorboard-sync", config={"lr": 0.1}, sync_tensorboard=True)
writer = SummaryWriter("runs/experiment")
for step in range(8):
    writer.add_scalar("training loss", 1.0 / (step + 1), step)
    writer.add_scalar("accuracy/train", 0.5 + step * 0.05, step)
    if step % 2 == 0:
        writer.add_scalar("accuracy/val", 0.45 + step * 0.05, step)
writer.add_histogram("weights", rng.normal(size=100), 7)
writer.close()
wandb.finish()
