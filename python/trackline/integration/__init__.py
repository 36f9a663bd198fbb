"""Callbacks for training libraries, as W&B ships them in ``wandb.integration``: ``lightgbm``
(``wandb_callback``, ``log_summary``), ``xgboost`` (``WandbCallback``, ``wandb_callback``) and
``keras`` (``WandbMetricsLogger``, ``WandbModelCheckpoint``, ``WandbEvalCallback``).
Each records what W&B's records (the same keys, steps, config and summary), into Trackline.
A module imports its library only when it is imported itself."""
