"""Follows examples/boosting-algorithms/xgboost-dermatology/train.py: a multi-class
``xgb.train`` with a watchlist and ``wandb.integration.xgboost.WandbCallback``, parameters in the
config and the error rate in the summary (random data instead of the dermatology file)."""

import numpy as np
import xgboost as xgb

import wandb
from wandb.integration.xgboost import WandbCallback

rng = np.random.default_rng(16)
X = rng.normal(size=(300, 8))
y = (np.abs(X[:, 0] * 2 + X[:, 1]) * 1.5).astype(int).clip(0, 5)
wandb.init(project="xgboost-dermatology")
param = {"objective": "multi:softmax", "eta": 0.1, "max_depth": 4, "nthread": 1,
         "num_class": 6, "eval_metric": "mlogloss"}
wandb.config.update(param)
train, test = xgb.DMatrix(X[:210], label=y[:210]), xgb.DMatrix(X[210:], label=y[210:])
bst = xgb.train(param, train, 6, evals=[(train, "train"), (test, "test")],
                callbacks=[WandbCallback(log_model=False, log_feature_importance=True)])
pred = bst.predict(test)
wandb.summary["Error Rate"] = float(np.sum(pred != y[210:]) / len(pred))
wandb.finish()
