"""Each sklearn chart's table, computed as W&B computes it, and the chart spec it is drawn with."""

import itertools
import time

import numpy as np
import trackline

from ._checks import CHART_LIMIT, over_limit, plain


def _chart(spec, columns, rows):
    table = trackline.Table(columns=columns, data=[[plain(v) for v in row] for row in rows])
    return trackline.visualize(spec, table)


def summary_metrics(model, X_test, y_test):
    """Accuracy, weighted precision/recall/F1 for a classifier; MAE, MSE, R² for a regressor,
    each rounded to 2 places, on the test set."""
    import sklearn.base
    from sklearn import metrics

    y_test = np.asarray(y_test)
    y_pred = model.predict(X_test)
    if sklearn.base.is_classifier(model):
        values = {
            "accuracy_score": metrics.accuracy_score(y_test, y_pred),
            "precision": metrics.precision_score(y_test, y_pred, average="weighted"),
            "recall": metrics.recall_score(y_test, y_pred, average="weighted"),
            "f1_score": metrics.f1_score(y_test, y_pred, average="weighted"),
        }
    else:
        values = {
            "mae": metrics.mean_absolute_error(y_test, y_pred),
            "mse": metrics.mean_squared_error(y_test, y_pred),
            "r2_score": metrics.r2_score(y_test, y_pred),
        }
    name = type(model).__name__
    rows = [[key, round(float(v), 2), name] for key, v in values.items()]
    return _chart("wandb/metrics/v1", ["metric_name", "metric_value", "model_name"], rows)


def learning_curve(model, X, y, cv, shuffle, random_state, train_sizes, n_jobs, scoring):
    """Mean train and cross-validated scores at each training-set size."""
    from sklearn import model_selection

    sizes, train, test = model_selection.learning_curve(
        model, X, y, cv=cv, n_jobs=n_jobs, train_sizes=train_sizes, scoring=scoring,
        shuffle=shuffle, random_state=random_state)
    rows = []
    for i, (tr, te) in enumerate(zip(train.mean(axis=1), test.mean(axis=1))):
        if over_limit(i, "learning_curve", CHART_LIMIT / 2):
            break
        rows += [["train", round(float(tr), 2), sizes[i]], ["test", round(float(te), 2), sizes[i]]]
    return _chart("wandb/learning_curve/v1", ["dataset", "score", "train_size"], rows)


def feature_importances(model, feature_names):
    """The model's importances (``feature_importances_``, ``coef_`` or ``feature_log_prob_``),
    largest first; None (with a warning) when it has none or they are not one-dimensional."""
    found = next((a for a in ("feature_importances_", "coef_", "feature_log_prob_")
                  if hasattr(model, a)), None)
    if found is None:
        trackline.termwarn("could not find any of attributes feature_importances_, coef_, "
                           "feature_log_prob_ on classifier. Cannot plot feature importances.")
        return None
    importances = np.asarray(getattr(model, found))
    if importances.ndim > 1:
        if sum(n > 1 for n in importances.shape) > 1:
            trackline.termwarn(
                "%d-dimensional feature importances array passed to plot_feature_importances. "
                "%d-dimensional and higher feature importances arrays are not currently "
                "supported. These importances will not be plotted."
                % (importances.ndim, importances.ndim))
            return None
        importances = np.squeeze(importances)
    order = np.argsort(importances)[::-1]
    names = order if feature_names is None else np.asarray(feature_names)[order]
    rows = [[names[i], importances[order][i]] for i in range(len(names))]
    return _chart("wandb/feature_importances/v1", ["feature_names", "importances"], rows)


def confusion_matrix(y_true, y_pred, labels, true_labels, pred_labels, normalize):
    """Counts (or row-normalised fractions) of each (predicted, actual) pair."""
    from sklearn import metrics
    from sklearn.utils.multiclass import unique_labels

    matrix = metrics.confusion_matrix(y_true, y_pred)
    classes = unique_labels(y_true, y_pred) if labels is None else np.asarray(labels)
    if normalize:
        with np.errstate(invalid="ignore", divide="ignore"):
            matrix = matrix.astype(float) / matrix.sum(axis=1)[:, np.newaxis]
        matrix = np.nan_to_num(np.around(matrix, decimals=2))
    true_classes = pred_classes = classes
    if true_labels is not None:
        keep = np.isin(classes, true_labels)
        true_classes, matrix = classes[keep], matrix[keep]
    if pred_labels is not None:
        keep = np.isin(classes, pred_labels)
        pred_classes, matrix = classes[keep], matrix[:, keep]
    named = labels is not None and isinstance(pred_classes[0], (int, np.integer))
    rows = []
    for count, (i, j) in enumerate(itertools.product(range(matrix.shape[0]),
                                                     range(matrix.shape[1])), 1):
        pred, true = pred_classes[i], true_classes[j]
        if named:
            pred, true = labels[pred], labels[true]
        rows.append([pred, true, matrix[i, j]])
        if over_limit(count, "confusion_matrix"):
            break
    return _chart("wandb/confusion_matrix/v1", ["Predicted", "Actual", "Count"], rows)


def class_proportions(y_train, y_test, labels):
    """How many of each class the train and test sets hold."""
    from sklearn.utils.multiclass import unique_labels

    classes = np.array(unique_labels(y_train, y_test))
    rows = []
    for i, c in enumerate(classes):
        name = labels[c] if labels is not None and isinstance(c, (int, np.integer)) else c
        rows += [[name, "train", (y_train == c).sum()], [name, "test", (y_test == c).sum()]]
        if over_limit(i, "class_proportions"):
            break
    return _chart("wandb/class_proportions/v1", ["class", "dataset", "count"], rows)


def calibration_curve(clf, X, y, clf_name):
    """Calibration of a logistic baseline and of the model's isotonic and sigmoid calibrations,
    each trained on 10% of the data and judged on the rest, beside the perfect diagonal."""
    from sklearn import calibration, model_selection, naive_bayes
    from sklearn.linear_model import LogisticRegression

    if isinstance(clf, naive_bayes.ComplementNB):
        X = X - X.min()
    models = [(LogisticRegression(C=1.0), "Logistic"),
              (calibration.CalibratedClassifierCV(clf, cv=2, method="isotonic"),
               "%s Isotonic" % clf_name),
              (calibration.CalibratedClassifierCV(clf, cv=2, method="sigmoid"),
               "%s Sigmoid" % clf_name)]
    rows = [["Perfectly calibrated", 0, 0, 0, 0], ["Perfectly calibrated", 1, 1, 0, 0]]
    x_train, x_test, y_train, y_test = model_selection.train_test_split(
        X, y, test_size=0.9, random_state=42)
    for model, name in models:
        model.fit(x_train, y_train)
        if hasattr(model, "predict_proba"):
            positive = model.predict_proba(x_test)[:, 1]
        else:
            positive = model.decision_function(x_test)
            positive = (positive - positive.min()) / (positive.max() - positive.min())
        hist, edges = np.histogram(positive, bins=10, density=False)
        fraction, mean_pred = calibration.calibration_curve(y_test, positive, n_bins=10)
        for i in range(len(fraction)):
            rows.append([name, round(float(fraction[i]), 3), round(float(mean_pred[i]), 3),
                         hist[i], edges[i]])
            if over_limit(i, "calibration_curve", CHART_LIMIT - 2):
                break
    columns = ["model", "fraction_of_positives", "mean_predicted_value", "hist_dict", "edge_dict"]
    return _chart("wandb/calibration/v1", columns, rows)


def elbow_curve(clusterer, X, cluster_ranges):
    """The clustering error (−score) and fit time for each number of clusters."""
    from sklearn.base import clone

    ranges = range(1, 10, 2) if cluster_ranges is None else sorted(cluster_ranges)
    rows = []
    for n in ranges:
        start = time.time()
        model = clone(clusterer)
        model.n_clusters = n
        error = abs(model.fit(X).score(X))
        rows.append([n, error, time.time() - start])
    return _chart("wandb/elbow/v1", ["cluster_ranges", "errors", "clustering_time"], rows)


def silhouette(clusterer, X, cluster_labels, metric, kmeans):
    """Each sample's silhouette, stacked by cluster, with the first two features and centres."""
    from sklearn.metrics import silhouette_samples, silhouette_score

    cluster_labels = np.asarray(cluster_labels)
    average = silhouette_score(X, cluster_labels, metric=metric)
    samples = silhouette_samples(X, cluster_labels, metric=metric)
    x_sil, y_sil, color_sil = [], [], []
    count, y_lower = 0, 10
    for i in range(len(np.unique(cluster_labels))):
        values = np.sort(samples[cluster_labels == i])
        for j, y_value in enumerate(range(y_lower, y_lower + len(values))):
            y_sil.append(y_value)
            x_sil.append(values[j])
            color_sil.append(i)
            count += 1
            if over_limit(count, "silhouette"):
                break
        y_lower += len(values) + 10
    if kmeans:
        centers = clusterer.cluster_centers_
        center_x, center_y = centers[:, 0], centers[:, 1]
    else:
        center_x = center_y = [None] * len(color_sil)
    rows = [[X[i, 0], X[i, 1], cluster_labels[i], center_x[cluster_labels[i]],
             center_y[cluster_labels[i]], y_sil[i], 0, x_sil[i], color_sil[i], average]
            for i in range(len(color_sil))]
    columns = ["x", "y", "colors", "centerx", "centery", "y_sil", "x1", "x2", "color_sil",
               "silhouette_avg"]
    return _chart("wandb/silhouette_/v1", columns, rows)


def outlier_candidates(regressor, X, y):
    """Cook's distance of each sample, the share above the 4/n threshold and the threshold."""
    regressor.fit(X, y)
    X = np.asarray(X, dtype=float)
    leverage = (X * np.linalg.pinv(X).T).sum(1)
    dof = X.shape[0] - np.linalg.matrix_rank(X)
    residuals = y - regressor.predict(X)
    mse = np.dot(residuals, residuals) / dof
    studentized = residuals / np.sqrt(mse) / np.sqrt(1 - leverage)
    distance = studentized ** 2 / X.shape[1] * (leverage / (1 - leverage))
    threshold = 4 / X.shape[0]
    share = round(float(np.sum(distance >= threshold) / X.shape[0] * 100.0), 3)
    rows = []
    for i, d in enumerate(distance):
        rows.append([d, i, share, threshold])
        if over_limit(i + 1, "outlier_candidates"):
            break
    columns = ["distance", "instance_indicies", "outlier_percentage", "influence_threshold"]
    return _chart("wandb/outliers/v1", columns, rows)


def residuals(regressor, X, y):
    """Predictions against residuals on an 80/20 split (at most 100 points of each), with both
    scores."""
    from sklearn import model_selection

    x_train, x_test, y_train, y_test = model_selection.train_test_split(X, y, test_size=0.2)
    regressor.fit(x_train, y_train)
    train_score, test_score = regressor.score(x_train, y_train), regressor.score(x_test, y_test)
    rows = []
    for name, xs, ys in (("train", x_train, y_train), ("test", x_test, y_test)):
        predicted = regressor.predict(xs)
        for count, (p, r) in enumerate(zip(predicted, predicted - ys), 1):
            rows.append([name, p, r, train_score, test_score])
            if over_limit(count, "residuals", 100):
                break
    columns = ["dataset", "y_pred", "residuals", "train_score", "test_score"]
    return _chart("wandb/residuals_plot/v1", columns, rows)
