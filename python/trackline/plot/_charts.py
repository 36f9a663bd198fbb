"""W&B's simple custom charts over a table: ``line``, ``scatter``, ``bar``, ``histogram``, and
``line_series`` (which builds its table from lists of series)."""

from collections.abc import Iterable

from ._custom_chart import plot_table


def line(table, x, y, stroke=None, title="", split_table=False):
    """A line chart of column ``y`` over ``x``, one line per value of ``stroke``."""
    return plot_table(data_table=table, vega_spec_name="wandb/line/v0",
                      fields={"x": x, "y": y, "stroke": stroke}, string_fields={"title": title},
                      split_table=split_table)


def scatter(table, x, y, title="", split_table=False):
    """A scatter plot of column ``y`` against ``x``."""
    return plot_table(data_table=table, vega_spec_name="wandb/scatter/v0",
                      fields={"x": x, "y": y}, string_fields={"title": title},
                      split_table=split_table)


def bar(table, label, value, title="", split_table=False):
    """A bar per row: ``label`` names it, ``value`` sizes it."""
    return plot_table(data_table=table, vega_spec_name="wandb/bar/v0",
                      fields={"label": label, "value": value}, string_fields={"title": title},
                      split_table=split_table)


def histogram(table, value, title="", split_table=False):
    """A histogram of column ``value`` (binned by the chart)."""
    return plot_table(data_table=table, vega_spec_name="wandb/histogram/v0",
                      fields={"value": value}, string_fields={"title": title},
                      split_table=split_table)


def line_series(xs, ys, keys=None, title="", xname="x", split_table=False):
    """Several lines: ``ys`` is a list of series, ``xs`` one x series for all or one per line,
    ``keys`` their names (``line_0``, ``line_1``, ... by default)."""
    from .._table import Table

    if not isinstance(xs[0], Iterable) or isinstance(xs[0], (str, bytes)):
        xs = [xs] * len(ys)
    if len(xs) != len(ys):
        raise ValueError("Number of x-series (%d) must match y-series (%d)." % (len(xs), len(ys)))
    if keys is None:
        keys = ["line_%d" % i for i in range(len(ys))]
    if len(keys) != len(ys):
        raise ValueError("Number of keys (%d) must match y-series (%d)." % (len(keys), len(ys)))
    data = [[x, keys[i], y] for i, (xx, yy) in enumerate(zip(xs, ys)) for x, y in zip(xx, yy)]
    table = Table(data=data, columns=["step", "lineKey", "lineVal"])
    return plot_table(data_table=table, vega_spec_name="wandb/lineseries/v0",
                      fields={"step": "step", "lineKey": "lineKey", "lineVal": "lineVal"},
                      string_fields={"title": title, "xname": xname}, split_table=split_table)
