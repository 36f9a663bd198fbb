"""What the boosting callbacks share: the active run or W&B's error, the summary rule of a
metric by its name, and the feature-importance bar chart."""

import trackline


def active_run(who):
    """The active run; W&B's error when there is none."""
    if trackline.run is None:
        raise trackline.Error("You must call wandb.init() before %s" % who)
    return trackline.run


def define_best_summary(key, metric_name, minimize, maximize):
    """Keep the best value of ``key`` in the summary when W&B would: ``min`` for a loss or a
    metric in ``minimize``, ``max`` for one in ``maximize`` (by the metric's bare name)."""
    name = metric_name.lower()
    if "loss" in name or name in minimize:
        trackline.define_metric(key, summary="min")
    elif name in maximize:
        trackline.define_metric(key, summary="max")


def log_feature_importance(pairs, commit):
    """A ``Feature Importance`` bar chart of ``(feature, importance)`` pairs."""
    import trackline.plot

    # numpy scalars as W&B writes them: LightGBM's split counts stay integers.
    table = trackline.Table(data=[[str(f), v.item() if hasattr(v, "item") else v]
                                 for f, v in pairs],
                            columns=["Feature", "Importance"])
    chart = trackline.plot.bar(table, "Feature", "Importance", title="Feature Importance")
    trackline.log({"Feature Importance": chart}, commit=commit)
