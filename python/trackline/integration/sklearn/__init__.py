"""scikit-learn charts as W&B's ``wandb.sklearn.plot_*`` log them: each is a ``Table`` plus the
chart spec W&B names it by (``wandb/confusion_matrix/v1``, …), logged under W&B's key
(``confusion_matrix``, ``roc``, …), with W&B's argument checks (a bad argument is reported and the
chart skipped, never an exception) and its 1,000-point chart limit. Importing this module imports
scikit-learn, numpy and pandas; ``import trackline`` does not."""

from ._plots import (
    plot_calibration_curve, plot_class_proportions, plot_classifier, plot_clusterer,
    plot_confusion_matrix, plot_elbow_curve, plot_feature_importances, plot_learning_curve,
    plot_outlier_candidates, plot_precision_recall, plot_regressor, plot_residuals, plot_roc,
    plot_silhouette, plot_summary_metrics,
)

__all__ = [
    "plot_classifier", "plot_clusterer", "plot_regressor", "plot_summary_metrics",
    "plot_learning_curve", "plot_feature_importances", "plot_class_proportions",
    "plot_calibration_curve", "plot_roc", "plot_precision_recall", "plot_confusion_matrix",
    "plot_elbow_curve", "plot_silhouette", "plot_residuals", "plot_outlier_candidates",
]
