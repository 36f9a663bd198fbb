"""Follows examples/pytorch-lightning/mnist.py and
colabs/pytorch-lightning/Supercharge_your_Training_with_Pytorch_Lightning_and_Weights_and_Biases.ipynb:
a ``LightningModule`` (a 2-layer MLP on random 8x8 "digits") trained with
``WandbLogger(log_model="all")``, hyperparameters from ``save_hyperparameters``, ``self.log`` of
train/val metrics, a ``ModelCheckpoint``, and ``logger.log_image``/``log_table`` at the end."""

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import WandbLogger
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import wandb


class MLP(L.LightningModule):
    def __init__(self, hidden=16, lr=0.05):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(64, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 10))

    def training_step(self, batch, _):
        x, y = batch
        loss = nn.functional.cross_entropy(self.net(x), y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, _):
        x, y = batch
        logits = self.net(x)
        self.log("val/loss", nn.functional.cross_entropy(logits, y))
        self.log("val/acc", (logits.argmax(1) == y).float().mean())

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


torch.manual_seed(0)
x, y = torch.rand(96, 8, 8), torch.randint(0, 10, (96,))
train = DataLoader(TensorDataset(x[:64], y[:64]), batch_size=16)
val = DataLoader(TensorDataset(x[64:], y[64:]), batch_size=16)
logger = WandbLogger(project="lightning-mnist", log_model="all")
trainer = L.Trainer(max_epochs=2, logger=logger, accelerator="cpu", log_every_n_steps=2,
                    enable_progress_bar=False, enable_model_summary=False,
                    callbacks=[ModelCheckpoint(monitor="val/acc", mode="max")])
trainer.fit(MLP(), train, val)
samples = (x[:2].numpy() * 255).astype(np.uint8)
logger.log_image(key="samples", images=list(samples), caption=["a", "b"])
logger.log_table(key="preds", columns=["label"], data=[[int(v)] for v in y[:3]])
wandb.finish()
