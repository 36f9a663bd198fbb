"""W&B's argument checks for the sklearn charts (each failure is one terminal line and the chart
is skipped) and its limit of 1,000 points a chart."""

import numpy as np
import trackline

#: Most points W&B puts in one chart's table.
CHART_LIMIT = 1000

_ARRAY_ARGS = ("X", "X_test", "y", "y_test", "y_true", "y_probas")


def over_limit(count, chart, limit=CHART_LIMIT):
    """True (and a warning) once ``count`` passes the chart's limit."""
    if count > limit:
        trackline.termwarn("using only the first %s datapoints to create chart %s" % (limit, chart))
        return True
    return False


def _to_array(value):
    if hasattr(value, "toarray"):  # scipy sparse
        return value.toarray()
    if hasattr(value, "to_numpy"):  # pandas
        return value.to_numpy()
    return np.asarray(value)


def missing(**arguments):
    """True when none is None and ``X``/``X_test`` hold only numbers with no missing value."""
    import pandas as pd

    passed = True
    for name, value in arguments.items():
        if value is None:
            trackline.termerror("%s is None. Please try again." % name)
            passed = False
            continue
        if name in ("X", "X_test"):
            values = _to_array(value)
            nulls = int(np.count_nonzero(pd.isnull(values)))
            if nulls:
                trackline.termwarn("%s contains %d missing values. " % (name, nulls))
                passed = False
            if not np.issubdtype(values.dtype, np.number) and any(
                    not isinstance(v, (int, float, complex, np.number)) for v in values.ravel()):
                trackline.termerror(
                    "%s contains values that are not numbers. Please vectorize, label encode or "
                    "one hot encode %s and call the plotting function again." % (name, name))
                passed = False
    return passed


def types(**arguments):
    """True when arrays are arrays and models are of the kind each argument names."""
    import sklearn.base

    passed = True
    for name, value in arguments.items():
        if name in _ARRAY_ARGS and not (hasattr(value, "__len__") or hasattr(value, "__iter__")):
            trackline.termerror("%s is not an array. Please try again." % name)
            passed = False
        if name == "model" and not (sklearn.base.is_classifier(value)
                                    or sklearn.base.is_regressor(value)):
            trackline.termerror("%s is not a classifier or regressor. Please try again." % name)
            passed = False
        elif name in ("clf", "binary_clf") and not sklearn.base.is_classifier(value):
            trackline.termerror("%s is not a classifier. Please try again." % name)
            passed = False
        elif name == "regressor" and not sklearn.base.is_regressor(value):
            trackline.termerror("%s is not a regressor. Please try again." % name)
            passed = False
        elif name == "clusterer" and getattr(value, "_estimator_type", None) != "clusterer":
            trackline.termerror("%s is not a clusterer. Please try again." % name)
            passed = False
    return passed


def fitted(model):
    """True unless scikit-learn says the model is not fitted."""
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(model)
    except NotFittedError:
        trackline.termerror("Please fit the model before passing it in.")
        return False
    except (TypeError, AttributeError):
        return True  # not an estimator scikit-learn can judge: let the chart try
    return True


def plain(value):
    """A numpy scalar as the Python number (or string) it holds, for a table cell."""
    return value.item() if isinstance(value, np.generic) else value
