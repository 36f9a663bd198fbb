"""``plot_*``: check the arguments as W&B does, compute the chart, log it under W&B's key."""

import numpy as np
import trackline

from . import _charts
from ._checks import fitted, missing, types


def _log(key, chart):
    if chart is not None:
        trackline.log({key: chart})


def plot_summary_metrics(model=None, X=None, y=None, X_test=None, y_test=None):
    """``summary_metrics``: the model's test-set metrics as a bar chart."""
    if (missing(model=model, X=X, y=y, X_test=X_test, y_test=y_test)
            and types(model=model, X=X, y=y, X_test=X_test, y_test=y_test) and fitted(model)):
        _log("summary_metrics", _charts.summary_metrics(model, X_test, y_test))


def plot_learning_curve(model=None, X=None, y=None, cv=None, shuffle=False, random_state=None,
                        train_sizes=None, n_jobs=1, scoring=None):
    """``learning_curve``: train and cross-validated score against training-set size."""
    if missing(model=model, X=X, y=y) and types(model=model, X=X, y=y):
        sizes = np.linspace(0.1, 1.0, 5) if train_sizes is None else train_sizes
        _log("learning_curve", _charts.learning_curve(
            model, X, np.asarray(y), cv, shuffle, random_state, sizes, n_jobs, scoring))


def plot_feature_importances(model=None, feature_names=None, title="Feature Importance",
                             max_num_features=50):
    """``feature_importances``: the fitted model's importances, largest first."""
    if missing(model=model) and types(model=model) and fitted(model):
        _log("feature_importances", _charts.feature_importances(model, feature_names))


def plot_confusion_matrix(y_true=None, y_pred=None, labels=None, true_labels=None,
                          pred_labels=None, normalize=False):
    """``confusion_matrix``: (predicted, actual) counts."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if missing(y_true=y_true, y_pred=y_pred) and types(y_true=y_true, y_pred=y_pred):
        _log("confusion_matrix", _charts.confusion_matrix(
            y_true, y_pred, labels, true_labels, pred_labels, normalize))


def plot_class_proportions(y_train=None, y_test=None, labels=None):
    """``class_proportions``: each class's count in the train and test sets."""
    if missing(y_train=y_train, y_test=y_test) and types(y_train=y_train, y_test=y_test):
        _log("class_proportions", _charts.class_proportions(
            np.array(y_train), np.array(y_test), labels))


def plot_calibration_curve(clf=None, X=None, y=None, clf_name="Classifier"):
    """``calibration_curve`` of a binary classifier (other labels are reported and skipped)."""
    if missing(clf=clf, X=X, y=y) and types(clf=clf, X=X, y=y) and fitted(clf):
        y = np.asarray(y)
        if y.dtype.char == "U" or not ((y == 0) | (y == 1)).all():
            trackline.termwarn("This function only supports binary classification at the moment "
                               "and therefore expects labels to be binary. Skipping calibration "
                               "curve.")
            return
        _log("calibration_curve", _charts.calibration_curve(clf, X, y, clf_name))


def plot_roc(y_true=None, y_probas=None, labels=None, plot_micro=True, plot_macro=True,
             classes_to_plot=None):
    """``roc``: ``trackline.plot.roc_curve`` of the test predictions."""
    import trackline.plot

    _log("roc", trackline.plot.roc_curve(y_true, y_probas, labels, classes_to_plot))


def plot_precision_recall(y_true=None, y_probas=None, labels=None, plot_micro=True,
                          classes_to_plot=None):
    """``precision_recall``: ``trackline.plot.pr_curve`` of the test predictions."""
    import trackline.plot

    _log("precision_recall", trackline.plot.pr_curve(y_true, y_probas, labels, classes_to_plot))


def plot_elbow_curve(clusterer=None, X=None, cluster_ranges=None, n_jobs=1,
                     show_cluster_time=True):
    """``elbow_curve``: error and fit time for each number of clusters."""
    if not hasattr(clusterer, "n_clusters"):
        trackline.termlog("n_clusters attribute not in classifier. Cannot plot elbow method.")
        return
    if missing(clusterer=clusterer) and fitted(clusterer):
        _log("elbow_curve", _charts.elbow_curve(clusterer, X, cluster_ranges))


def plot_silhouette(clusterer=None, X=None, cluster_labels=None, labels=None,
                    metric="euclidean", kmeans=True):
    """``silhouette_plot``: each sample's silhouette by cluster."""
    if missing(clusterer=clusterer) and types(clusterer=clusterer) and fitted(clusterer):
        if hasattr(X, "to_numpy"):
            X = X.to_numpy()
        _log("silhouette_plot", _charts.silhouette(clusterer, np.asarray(X), cluster_labels,
                                                   metric, kmeans))


def plot_outlier_candidates(regressor=None, X=None, y=None):
    """``outlier_candidates``: Cook's distance of each sample."""
    if (missing(regressor=regressor, X=X, y=y) and types(regressor=regressor, X=X, y=y)
            and fitted(regressor)):
        _log("outlier_candidates", _charts.outlier_candidates(regressor, X, np.asarray(y)))


def plot_residuals(regressor=None, X=None, y=None):
    """``residuals``: predictions against residuals, train and test."""
    if (missing(regressor=regressor, X=X, y=y) and types(regressor=regressor, X=X, y=y)
            and fitted(regressor)):
        _log("residuals", _charts.residuals(regressor, X, np.asarray(y)))


def plot_classifier(model, X_train, X_test, y_train, y_test, y_pred, y_probas, labels,
                    is_binary=False, model_name="Classifier", feature_names=None,
                    log_learning_curve=False):
    """Every classifier chart W&B's ``plot_classifier`` logs, in its order."""
    from sklearn import naive_bayes

    trackline.termlog("\nPlotting %s." % model_name)
    multinomial = isinstance(model, naive_bayes.MultinomialNB)
    if not multinomial:
        plot_feature_importances(model, feature_names)
        trackline.termlog("Logged feature importances.")
    if log_learning_curve:
        plot_learning_curve(model, X_train, y_train)
        trackline.termlog("Logged learning curve.")
    plot_confusion_matrix(y_test, y_pred, labels)
    trackline.termlog("Logged confusion matrix.")
    plot_summary_metrics(model, X=X_train, y=y_train, X_test=X_test, y_test=y_test)
    trackline.termlog("Logged summary metrics.")
    plot_class_proportions(y_train, y_test, labels)
    trackline.termlog("Logged class proportions.")
    if not multinomial:
        plot_calibration_curve(model, X_train, y_train, model_name)
        trackline.termlog("Logged calibration curve.")
    plot_roc(y_test, y_probas, labels)
    trackline.termlog("Logged roc curve.")
    plot_precision_recall(y_test, y_probas, labels)
    trackline.termlog("Logged precision-recall curve.")


def plot_regressor(model, X_train, X_test, y_train, y_test, model_name="Regressor"):
    """Every regressor chart W&B's ``plot_regressor`` logs, in its order."""
    trackline.termlog("\nPlotting %s." % model_name)
    plot_summary_metrics(model, X_train, y_train, X_test, y_test)
    trackline.termlog("Logged summary metrics.")
    plot_learning_curve(model, X_train, y_train)
    trackline.termlog("Logged learning curve.")
    plot_outlier_candidates(model, X_train, y_train)
    trackline.termlog("Logged outlier candidates.")
    plot_residuals(model, X_train, y_train)
    trackline.termlog("Logged residuals.")


def plot_clusterer(model, X_train, cluster_labels, labels=None, model_name="Clusterer"):
    """Every clusterer chart W&B's ``plot_clusterer`` logs (elbow and silhouette for k-means)."""
    from sklearn.cluster import KMeans

    trackline.termlog("\nPlotting %s." % model_name)
    if isinstance(model, KMeans):
        plot_elbow_curve(model, X_train)
        trackline.termlog("Logged elbow curve.")
        plot_silhouette(model, X_train, cluster_labels, labels=labels, kmeans=True)
    else:
        plot_silhouette(model, X_train, cluster_labels, kmeans=False)
    trackline.termlog("Logged silhouette plot.")
