"""XGBoost: ``WandbCallback()`` (an ``xgboost.callback.TrainingCallback``) puts the booster's
configuration in the run's config, logs each evaluation metric per round (``<data>-<metric>``)
with the round as ``epoch``, keeps the best value of losses and known metrics in the summary, and
after training logs a feature importance chart, ``best_score``/``best_iteration`` when early
stopping recorded them, and on request the model as an artifact — as W&B's callback does.
``wandb_callback()`` is W&B's older function form."""

__all__ = ["WandbCallback", "wandb_callback"]

import json
import os
import warnings

import trackline
import xgboost

from ._shared import active_run, define_best_summary, log_feature_importance

#: XGBoost metrics whose best value is the smallest / the largest (W&B's lists).
MINIMIZE_METRICS = ("rmse", "rmsle", "mae", "mape", "mphe", "logloss", "error", "error@t",
                    "merror")
MAXIMIZE_METRICS = ("auc", "aucpr", "ndcg", "map", "ndcg@n", "map@n")


def wandb_callback():
    """W&B's old-style function callback: each evaluation result, one step per round."""
    warnings.warn("wandb_callback will be deprecated in favor of WandbCallback. Please use "
                  "WandbCallback for more features.", stacklevel=2)

    def callback(env):
        for key, value in env.evaluation_result_list:
            trackline.log({key: value}, commit=False)
        trackline.log({})

    return callback


class WandbCallback(xgboost.callback.TrainingCallback):
    """The XGBoost callback (see the module's doc)."""

    def __init__(self, log_model=False, log_feature_importance=True, importance_type="gain",
                 define_metric=True):
        super().__init__()
        self.log_model = log_model
        self.log_feature_importance = log_feature_importance
        self.importance_type = importance_type
        self.define_metric = define_metric
        active_run("WandbCallback()")

    def before_training(self, model):
        trackline.config.update(json.loads(model.save_config()))
        return model

    def after_iteration(self, model, epoch, evals_log):
        for data, metrics in evals_log.items():
            for metric, values in metrics.items():
                key = "%s-%s" % (data, metric)
                if self.define_metric:
                    define_best_summary(key, metric, MINIMIZE_METRICS, MAXIMIZE_METRICS)
                trackline.log({key: _last(values)}, commit=False)
        trackline.log({"epoch": epoch})
        self.define_metric = False  # defined once, on the first round
        return False

    def after_training(self, model):
        run = trackline.run
        if self.log_model and run is not None:
            name = "%s_model.json" % run.id
            files = os.path.join(run.dir, "files")  # W&B's run.dir: the run's files
            os.makedirs(files, exist_ok=True)
            path = os.path.join(files, name)
            model.save_model(path)
            artifact = trackline.Artifact(name=name, type="model")
            artifact.add_file(path)
            trackline.log_artifact(artifact)
        if self.log_feature_importance:
            scores = model.get_score(importance_type=self.importance_type)
            log_feature_importance(scores.items(), commit=True)
        if model.attr("best_score") is not None:
            trackline.log({"best_score": float(model.attr("best_score")),
                           "best_iteration": int(model.attr("best_iteration"))})
        return model


def _last(values):
    """The newest value of a metric's log (a float, or ``(mean, std)`` under ``xgb.cv``)."""
    value = values[-1]
    return list(value) if isinstance(value, tuple) else value
