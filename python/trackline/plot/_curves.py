"""W&B's classifier charts: ``pr_curve``, ``roc_curve`` and ``confusion_matrix``.

W&B computes the curves with scikit-learn (``precision_recall_curve``, ``roc_curve`` with its
``drop_intermediate``) and numpy, then rounds them to 3 decimals with pandas; this module does the
same arithmetic in plain Python, so the tables hold the same numbers without those libraries.
Inputs may be lists or numpy arrays (anything with ``tolist()``)."""

import math

from .._errors import termerror, termwarn
from ._custom_chart import plot_table


def pr_curve(y_true=None, y_probas=None, labels=None, classes_to_plot=None, interp_size=21,
             title="Precision-Recall Curve", split_table=False):
    """Precision against recall for each class (one-vs-rest), at ``interp_size`` recall levels
    from 1 to 0: ``y_true`` holds the true classes, ``y_probas`` one row of class scores per
    sample (columns in sorted class order); ``labels`` names integer classes."""
    y_true, y_probas = _inputs(y_true, y_probas)
    if y_true is None:
        return None
    interp_recall = _linspace(0.0, 1.0, interp_size)[::-1]
    rows = []
    for i, cls, label in _plotted_classes(y_true, labels, classes_to_plot):
        scores = [row[i] for row in y_probas]
        precision, recall = _precision_recall(y_true, scores, cls)
        precision = _running_max(precision)[::-1]
        recall = recall[::-1]
        for r in interp_recall:
            rows.append([label, precision[_search_left(recall, r)], r])
    rows = [[_round_label(c), _round3(p), _round3(r)] for c, p, r in rows]
    table = _sampled(rows, ["class", "precision", "recall"],
                     "Table has a limit of %d rows. Resampling to fit.")
    return plot_table(data_table=table, vega_spec_name="wandb/area-under-curve/v0",
                      fields={"x": "recall", "y": "precision", "class": "class"},
                      string_fields={"title": title, "x-axis-title": "Recall",
                                     "y-axis-title": "Precision"},
                      split_table=split_table)


def roc_curve(y_true=None, y_probas=None, labels=None, classes_to_plot=None, title="ROC Curve",
              split_table=False):
    """True positive rate against false positive rate for each class (one-vs-rest), at every
    threshold scikit-learn's ``roc_curve`` keeps; arguments as :func:`pr_curve`."""
    y_true, y_probas = _inputs(y_true, y_probas)
    if y_true is None:
        return None
    rows = []
    for i, cls, label in _plotted_classes(y_true, labels, classes_to_plot):
        scores = [row[i] for row in y_probas]
        fpr, tpr = _roc(y_true, scores, cls)
        rows.extend([label, f, t] for f, t in zip(fpr, tpr))
    rows = [[_round_label(c), _round3(f), _round3(t)] for c, f, t in rows]
    table = _sampled(rows, ["class", "fpr", "tpr"],
                     "wandb uses only %d data points to create the plots.")
    return plot_table(data_table=table, vega_spec_name="wandb/area-under-curve/v0",
                      fields={"x": "fpr", "y": "tpr", "class": "class"},
                      string_fields={"title": title, "x-axis-title": "False positive rate",
                                     "y-axis-title": "True positive rate"},
                      split_table=split_table)


def confusion_matrix(probs=None, y_true=None, preds=None, class_names=None,
                     title="Confusion Matrix Curve", split_table=False):
    """Counts of (actual, predicted) class pairs: ``preds`` (or ``probs``, one row of class
    scores per sample, whose argmax is the prediction) against ``y_true``. With
    ``class_names``, classes are the integers 0..n-1; without, the sorted set of the values seen,
    named ``Class_1``, ``Class_2``, ..."""
    from .._table import Table

    if probs is not None and preds is not None:
        raise ValueError("Only one of `probs` or `preds` should be provided, not both.")
    if probs is not None:
        preds = [_argmax(row) for row in _as_list(probs)]
    if preds is None or y_true is None:
        raise ValueError("confusion_matrix needs y_true and preds (or probs)")
    preds, y_true = _as_list(preds), _as_list(y_true)
    if len(preds) != len(y_true):
        raise ValueError("The number of predictions and true labels must be equal.")
    if class_names is not None:
        class_names = _as_list(class_names)
        n_classes = len(class_names)
        class_idx = list(range(n_classes))
        if len(set(preds)) > n_classes:
            raise ValueError("The number of unique predicted classes exceeds the number of class names.")
        if len(set(y_true)) > n_classes:
            raise ValueError("The number of unique true labels exceeds the number of class names.")
    else:
        class_idx = set(preds).union(set(y_true))
        n_classes = len(class_idx)
        class_names = ["Class_%d" % (i + 1) for i in range(n_classes)]
    mapping = {value: i for i, value in enumerate(sorted(class_idx))}
    counts = [[0.0] * n_classes for _ in range(n_classes)]  # floats, as numpy.zeros gives W&B
    for actual, predicted in zip(y_true, preds):
        counts[mapping[actual]][mapping[predicted]] += 1
    data = [[class_names[i], class_names[j], counts[i][j]]
            for i in range(n_classes) for j in range(n_classes)]
    table = Table(columns=["Actual", "Predicted", "nPredictions"], data=data)
    return plot_table(data_table=table, vega_spec_name="wandb/confusion_matrix/v1",
                      fields={"Actual": "Actual", "Predicted": "Predicted",
                              "nPredictions": "nPredictions"},
                      string_fields={"title": title}, split_table=split_table)


# -- inputs ------------------------------------------------------------------------------------------
def _as_list(values):
    if hasattr(values, "detach") and hasattr(values, "cpu"):  # a torch tensor
        values = values.detach().cpu().numpy()
    tolist = getattr(values, "tolist", None)
    if callable(tolist):
        return tolist()
    return [v.tolist() if hasattr(v, "tolist") else v for v in values]


def _inputs(y_true, y_probas):
    """(y_true, y_probas) as lists, or (None, None) after W&B's error message."""
    ok = True
    for name, value in (("y_true", y_true), ("y_probas", y_probas)):
        if value is None:
            termerror("%s is None. Please try again." % name)
            ok = False
    if not ok:
        return None, None
    y_true = _as_list(y_true)
    y_probas = [_as_list(row) if not isinstance(row, list) else row for row in _as_list(y_probas)]
    if len(y_true) != len(y_probas):
        raise ValueError("y_true has %d samples, y_probas %d" % (len(y_true), len(y_probas)))
    return y_true, y_probas


def _plotted_classes(y_true, labels, classes_to_plot):
    """``(column, class, label)`` of each class to plot, classes sorted as numpy.unique sorts."""
    classes = sorted(set(y_true))
    wanted = None if classes_to_plot is None else set(_as_list(classes_to_plot))
    for i, cls in enumerate(classes):
        if wanted is not None and cls not in wanted:
            continue
        if labels is not None and isinstance(classes[0], int) and not isinstance(classes[0], bool):
            yield i, cls, labels[cls]
        else:
            yield i, cls, cls


# -- scikit-learn's curves -----------------------------------------------------------------------
def _binary_clf_curve(y_true, scores, pos_label):
    """(fps, tps, thresholds) at each distinct score, highest first (``_binary_clf_curve``)."""
    order = sorted(range(len(scores)), key=lambda i: scores[i], reverse=True)
    fps, tps, thresholds = [], [], []
    positives = 0.0
    for n, i in enumerate(order):
        positives += 1.0 if y_true[i] == pos_label else 0.0
        last = n == len(order) - 1
        if last or scores[order[n + 1]] != scores[i]:
            tps.append(positives)
            fps.append(1.0 + n - positives)
            thresholds.append(scores[i])
    return fps, tps, thresholds


def _precision_recall(y_true, scores, pos_label):
    """``precision_recall_curve``: precision and recall by decreasing recall, ending (1, 0)."""
    fps, tps, _ = _binary_clf_curve(y_true, scores, pos_label)
    precision = [t / (t + f) if t + f != 0 else 0.0 for t, f in zip(tps, fps)]
    recall = [t / tps[-1] for t in tps] if tps and tps[-1] != 0 else [1.0] * len(tps)
    return precision[::-1] + [1.0], recall[::-1] + [0.0]


def _roc(y_true, scores, pos_label):
    """``roc_curve(drop_intermediate=True)``: false and true positive rates."""
    fps, tps, _ = _binary_clf_curve(y_true, scores, pos_label)
    if len(fps) > 2:
        keep = [0] + [j for j in range(1, len(fps) - 1)
                      if fps[j + 1] - 2 * fps[j] + fps[j - 1] != 0
                      or tps[j + 1] - 2 * tps[j] + tps[j - 1] != 0] + [len(fps) - 1]
        fps = [fps[j] for j in keep]
        tps = [tps[j] for j in keep]
    fps = [0.0] + fps
    tps = [0.0] + tps
    fpr = [f / fps[-1] for f in fps] if fps[-1] > 0 else [math.nan] * len(fps)
    tpr = [t / tps[-1] for t in tps] if tps[-1] > 0 else [math.nan] * len(tps)
    return fpr, tpr


# -- numpy's and pandas' small pieces ------------------------------------------------------------
def _linspace(start, stop, num):
    """``numpy.linspace(start, stop, num)`` to the last bit."""
    num = int(num)
    if num <= 0:
        return []
    if num == 1:
        return [float(start)]
    step = (stop - start) / (num - 1)
    values = [k * step + start for k in range(num)]
    values[-1] = float(stop)
    return values


def _running_max(values):
    out = list(values)
    for i in range(1, len(out)):
        out[i] = max(out[i], out[i - 1])
    return out


def _search_left(ascending, value):
    """``numpy.searchsorted(ascending, value, side="left")``."""
    lo, hi = 0, len(ascending)
    while lo < hi:
        mid = (lo + hi) // 2
        if ascending[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return min(lo, len(ascending) - 1)


def _round3(value):
    """``DataFrame.round(3)`` of a float: numpy multiplies by 1000, rounds half to even, divides."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if isinstance(value, int):
        return value
    if not math.isfinite(value):
        return value
    return round(value * 1000.0) / 1000.0


def _round_label(value):
    return _round3(value) if isinstance(value, float) else value


def _argmax(row):
    row = _as_list(row)
    best = 0
    for i, value in enumerate(row):
        if value > row[best]:
            best = i
    return best


def _sampled(rows, columns, message):
    """The table of ``rows``; beyond ``Table.MAX_ROWS`` rows, W&B's stratified sample of that many
    (scikit-learn's ``resample(..., random_state=42, stratify=class)`` where scikit-learn and
    pandas are installed, else evenly spaced rows of each class in proportion), sorted by the y
    column, the x column and the class, as W&B sorts it."""
    from .._table import Table

    cap = Table.MAX_ROWS
    if len(rows) > cap:
        termwarn(message % cap)
        rows = _stratified(rows, columns, cap)
    return Table(columns=columns, data=rows)


def _stratified(rows, columns, cap):
    sort_by = [columns[1], columns[2], "class"] if columns[1] != "fpr" else ["fpr", "tpr", "class"]
    try:
        import pandas
        from sklearn import utils as sklearn_utils
    except ImportError:
        pass
    else:
        df = pandas.DataFrame(rows, columns=columns)
        df = sklearn_utils.resample(df, replace=False, n_samples=cap, random_state=42,
                                    stratify=df["class"]).sort_values(sort_by)
        return [list(r) for r in df.itertuples(index=False, name=None)]
    by_class = {}
    for row in rows:
        by_class.setdefault(row[0], []).append(row)
    sample = []
    for members in by_class.values():
        take = max(1, cap * len(members) // len(rows))
        step = len(members) / take
        sample.extend(members[int(k * step)] for k in range(take))
    sample = sample[:cap]
    keys = [columns.index(c) for c in sort_by]
    sample.sort(key=lambda r: tuple(_sort_key(r[k]) for k in keys))
    return sample


def _sort_key(value):
    return (1, 0.0, str(value)) if not isinstance(value, (int, float)) else (0, float(value), "")
