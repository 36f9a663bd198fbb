"""Follows colabs/wandb-artifacts/Artifacts_Quickstart_with_W&B.ipynb and
Basic_Artifacts_with_W&B.ipynb: a "raw data" run logging a dataset artifact (files added with
``add_file``, ``new_file`` and ``add_dir``), then a "train" run logging a model artifact with
metadata and aliases. (``use_artifact`` is left out: W&B refuses it in offline mode.)"""

import os

import numpy as np

import wandb

rng = np.random.default_rng(18)
os.makedirs("data/images", exist_ok=True)
for i in range(3):
    np.save("data/images/img_%d.npy" % i, rng.integers(0, 255, size=(4, 4), dtype=np.uint8))
with open("labels.csv", "w") as f:
    f.write("id,label\n0,cat\n1,dog\n2,cat\n")

with wandb.init(project="artifacts-quickstart", job_type="load-data") as run:
    raw = wandb.Artifact("mnist-raw", type="dataset", description="random digits",
                         metadata={"source": "numpy", "sizes": [3]})
    raw.add_file("labels.csv")
    raw.add_dir("data/images", name="images")
    with raw.new_file("README.txt") as f:
        f.write("three random images\n")
    run.log_artifact(raw)
    run.log({"dataset_size": 3})

with wandb.init(project="artifacts-quickstart", job_type="train") as run:
    with open("model.txt", "w") as f:
        f.write("weights %s\n" % rng.random(3).round(4).tolist())
    model = wandb.Artifact("trained-model", type="model", metadata={"epochs": 2})
    model.add_file("model.txt")
    run.log({"loss": 0.3})
    run.log_artifact(model, aliases=["best", "latest"])
