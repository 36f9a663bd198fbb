"""``trackline.plot``: W&B's ``wandb.plot`` custom charts.

Each function returns a chart to pass to ``log()``: logged under key ``K``, its data table is
logged under the history key ``K_table`` (``Custom Chart Tables/K_table`` with ``split_table``) and
its spec goes into the run's config under ``_wandb.visualize.K``, in W&B's shape (docs/format.md,
"Custom charts"). ``visualize(id, table)`` logs the table under ``K`` itself and its spec under
``_wandb.viz.K``. The maths of ``pr_curve``, ``roc_curve`` and ``confusion_matrix`` is W&B's (and
scikit-learn's, which W&B calls), computed here without numpy, pandas or scikit-learn.
"""

from ._custom_chart import CustomChart, CustomChartSpec, Visualize, VisualizeSpec, plot_table, visualize
from ._charts import bar, histogram, line, line_series, scatter
from ._curves import confusion_matrix, pr_curve, roc_curve

__all__ = [
    "line",
    "histogram",
    "scatter",
    "bar",
    "roc_curve",
    "pr_curve",
    "confusion_matrix",
    "line_series",
    "plot_table",
    "visualize",
    "CustomChart",
    "CustomChartSpec",
    "Visualize",
    "VisualizeSpec",
]
