"""LightGBM: ``lgb.train(..., callbacks=[wandb_callback()])`` logs every evaluation result once
per boosting round (``<data>_<metric>``, and ``-mean``/``-stdv`` under ``lgb.cv``) with the round
as ``iteration``, the training params as config, and the best value of losses and known metrics
in the summary; ``log_summary(booster)`` adds ``best_iteration``, ``best_score``, a feature
importance chart and, on request, the model as a ``model`` artifact — as W&B's callback does."""

__all__ = ["wandb_callback", "log_summary"]

import os

import trackline

from ._shared import active_run, define_best_summary, log_feature_importance

#: LightGBM metrics whose best value is the smallest / the largest (W&B's lists).
MINIMIZE_METRICS = ("l1", "l2", "rmse", "mape", "huber", "fair", "poisson", "gamma",
                    "binary_logloss")
MAXIMIZE_METRICS = ("map", "auc", "average_precision")


def _results(env):
    """``(key, value)`` of each evaluation result of this round."""
    for item in env.evaluation_result_list:
        if len(item) == 4:  # lgb.train: (data, metric, value, higher_is_better)
            data, metric, value = item[:3]
            yield "%s_%s" % (data, metric), metric, value
        else:  # lgb.cv: ("cv_agg", "<data> <metric>", mean, higher_is_better, stdv)
            data, metric = item[1].split()
            yield "%s_%s-mean" % (data, metric), metric + "-mean", item[2]
            yield "%s_%s-stdv" % (data, metric), metric + "-stdv", item[4]


class _Callback:
    """The callable LightGBM calls after each round (``order`` after its own recorders)."""

    def __init__(self, log_params, define_metric):
        self.order = 20
        self.before_iteration = False
        self.log_params = log_params
        self.define_metric = define_metric

    def _start(self, env):
        if self.log_params:
            trackline.config.update(env.params)
        if self.define_metric:
            for key, metric, _ in _results(env):
                define_best_summary(key, metric, MINIMIZE_METRICS, MAXIMIZE_METRICS)

    def __call__(self, env):
        if env.iteration == env.begin_iteration:
            self._start(env)
        for key, _, value in _results(env):
            trackline.log({key: value}, commit=False)
        trackline.log({"iteration": env.iteration}, commit=True)


def wandb_callback(log_params=True, define_metric=True):
    """The LightGBM callback (see the module's doc)."""
    return _Callback(log_params, define_metric)


def log_summary(model, feature_importance=True, save_model_checkpoint=False):
    """After training: ``best_iteration``/``best_score`` in the summary, a feature importance
    chart, and with ``save_model_checkpoint`` the model at its best round as artifact
    ``model_<run id>`` aliased ``best``."""
    from lightgbm import Booster

    run = active_run("WandbCallback()")
    if not isinstance(model, Booster):
        raise trackline.Error("Model should be an instance of lightgbm.basic.Booster")
    run.summary["best_iteration"] = model.best_iteration
    run.summary["best_score"] = _plain(model.best_score)
    if feature_importance:
        log_feature_importance(zip(model.feature_name(), model.feature_importance()), commit=False)
    if save_model_checkpoint:
        files = os.path.join(run.dir, "files")  # W&B's run.dir: the run's files
        os.makedirs(files, exist_ok=True)
        path = os.path.join(files, "model_ckpt_%d.txt" % model.best_iteration)
        model.save_model(path, num_iteration=model.best_iteration)
        artifact = trackline.Artifact(name="model_%s" % run.id, type="model")
        artifact.add_file(path)
        trackline.log_artifact(artifact, aliases=["best"])


def _plain(scores):
    """LightGBM's ``best_score`` (nested defaultdicts of numpy floats) as plain dicts of floats."""
    if isinstance(scores, dict):
        return {str(k): _plain(v) for k, v in scores.items()}
    return float(scores)
