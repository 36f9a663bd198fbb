"""Follows colabs/huggingface/Simple_accelerate_integration_wandb.ipynb and the docs page
"Hugging Face Accelerate": ``Accelerator(log_with="wandb")``, ``init_trackers`` with a config and
``init_kwargs={"wandb": {...}}``, ``accelerator.log`` per step, the W&B run from
``get_tracker("wandb", unwrap=True)`` and ``end_training``."""

import torch
from accelerate import Accelerator
from torch import nn

torch.manual_seed(0)
accelerator = Accelerator(log_with="wandb", cpu=True)
config = {"lr": 0.05, "epochs": 3, "hidden": 8}
accelerator.init_trackers("accelerate-tiny", config=config,
                          init_kwargs={"wandb": {"name": "tiny-mlp", "tags": ["cpu"]}})
model = nn.Sequential(nn.Linear(4, config["hidden"]), nn.ReLU(), nn.Linear(config["hidden"], 1))
optimizer = torch.optim.SGD(model.parameters(), lr=config["lr"])
model, optimizer = accelerator.prepare(model, optimizer)
x, y = torch.randn(32, 4), torch.randn(32, 1)
step = 0
for epoch in range(config["epochs"]):
    for i in range(0, 32, 8):
        loss = nn.functional.mse_loss(model(x[i:i + 8]), y[i:i + 8])
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad()
        accelerator.log({"train_loss": loss.item()}, step=step)
        step += 1
    accelerator.log({"epoch": epoch, "val_loss": float(nn.functional.mse_loss(model(x), y))},
                    step=step)
run = accelerator.get_tracker("wandb", unwrap=True)
run.summary["final_loss"] = loss.item()
accelerator.end_training()
