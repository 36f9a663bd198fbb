"""Follows colabs/datasets-predictions/W&B_Tables_Quickstart.ipynb (section "Log a pandas
DataFrame"): ``wandb.Table(dataframe=df)`` logged beside scalar metrics, and a table summary set
on ``run.summary``."""

import numpy as np
import pandas as pd

import wandb

rng = np.random.default_rng(8)
df = pd.DataFrame({"feature_a": rng.normal(size=12).round(6),
                   "feature_b": rng.integers(0, 100, size=12),
                   "label": rng.choice(["cat", "dog", "bird"], size=12)})
run = wandb.init(project="tables-dataframe", config={"rows": len(df)})
run.log({"dataset": wandb.Table(dataframe=df), "mean_a": float(df.feature_a.mean())})
run.log({"dataset_head": wandb.Table(dataframe=df.head(4))})
run.summary["label_counts"] = df.label.value_counts().to_dict()
run.finish()
