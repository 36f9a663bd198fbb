"""Follows examples/boosting-algorithms/lightgbm-regression/train.py and
colabs/boosting/Simple_LightGBM_Integration.ipynb: LightGBM parameters put into the config,
``wandb_callback()`` during ``lgb.train`` with early stopping, then ``log_summary`` with the model
checkpoint (random regression data instead of the downloaded files)."""

import lightgbm as lgb
import numpy as np

import wandb
from wandb.integration.lightgbm import log_summary, wandb_callback

rng = np.random.default_rng(15)
X = rng.normal(size=(400, 6))
y = X[:, 0] * 3 - X[:, 1] + rng.normal(scale=0.2, size=400)
wandb.init(project="lightgbm-regression")
params = {"boosting_type": "gbdt", "objective": "regression", "metric": ["rmse", "l2", "l1"],
          "num_leaves": 15, "learning_rate": 0.1, "feature_fraction": 0.9, "verbosity": -1,
          "seed": 0, "num_threads": 1}
wandb.config.update(params)
train = lgb.Dataset(X[:300], y[:300])
valid = lgb.Dataset(X[300:], y[300:], reference=train)
gbm = lgb.train(params, train, num_boost_round=15, valid_sets=[valid], valid_names=["validation"],
                callbacks=[wandb_callback(), lgb.early_stopping(stopping_rounds=5, verbose=False)])
rmse = float(np.sqrt(np.mean((gbm.predict(X[300:]) - y[300:]) ** 2)))
wandb.summary["rmse"] = rmse
log_summary(gbm, save_model_checkpoint=True)
wandb.finish()
