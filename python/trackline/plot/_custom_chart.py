"""A custom chart (``plot_table``) and a table visualisation (``visualize``): the objects
``log()`` turns into a table in history plus a spec in the run's config (W&B's
``CustomChartSpec.config_value`` and ``VisualizeSpec.config_value``), and :func:`split_charts`,
which does that turning for ``Run._flatten``."""

from collections.abc import Mapping

from .._errors import Error


class CustomChartSpec:
    """Which W&B chart (``spec_name``, e.g. ``wandb/line/v0``) draws which table columns."""

    def __init__(self, spec_name, fields, string_fields, key="", panel_type="Vega2",
                 split_table=False):
        self.spec_name = spec_name
        self.fields = fields
        self.string_fields = string_fields
        self.key = key
        self.panel_type = panel_type
        self.split_table = split_table

    @property
    def table_key(self):
        if not self.key:
            raise Error("Key for the custom chart spec is not set.")
        if self.split_table:
            return "Custom Chart Tables/%s_table" % self.key
        return "%s_table" % self.key

    @property
    def config_value(self):
        return {
            "panel_type": self.panel_type,
            "panel_config": {
                "panelDefId": self.spec_name,
                "fieldSettings": self.fields,
                "stringSettings": self.string_fields,
                "transform": {"name": "tableWithLeafColNames"},
                "userQuery": {
                    "queryFields": [
                        {
                            "name": "runSets",
                            "args": [{"name": "runSets", "value": "${runSets}"}],
                            "fields": [
                                {"name": "id", "fields": []},
                                {"name": "name", "fields": []},
                                {"name": "_defaultColorIndex", "fields": []},
                                {
                                    "name": "summaryTable",
                                    "args": [{"name": "tableKey", "value": self.table_key}],
                                    "fields": [],
                                },
                            ],
                        }
                    ],
                },
            },
        }

    @property
    def config_key(self):
        return ("_wandb", "visualize", self.key)


class _TableChart:
    """A table and the spec that shows it; ``log({K: chart})`` logs both, the table under
    :meth:`_history_key` and the spec in the run's config."""

    _trackline_chart = True

    def __init__(self, table, spec):
        self.table = table
        self.spec = spec

    def set_key(self, key):
        self.spec.key = key


class CustomChart(_TableChart):
    """A table and the spec of the chart drawn from it; the table goes under ``K_table``."""

    def _history_key(self):
        return self.spec.table_key


class VisualizeSpec:
    """W&B's spec of ``visualize(id, table)``: a built-in panel ``id`` over the table."""

    def __init__(self, name, key=""):
        self.name = name
        self.key = key

    @property
    def config_value(self):
        return {"id": self.name, "historyFieldSettings": {"x-axis": "_step", "key": self.key}}

    @property
    def config_key(self):
        return ("_wandb", "viz", self.key)


class Visualize(_TableChart):
    """A table shown by a built-in W&B panel; logged under its own key."""

    def _history_key(self):
        return self.spec.key


def _check_table(table, what):
    from .._table import Table

    if not isinstance(table, Table):
        raise Error("Expected `%s` to be `wandb.Table` type, instead got %s"
                    % (what, type(table).__name__))


def plot_table(vega_spec_name, data_table, fields, string_fields=None, split_table=False):
    """A custom chart: W&B's chart ``vega_spec_name`` drawn from ``data_table``, ``fields``
    mapping the chart's fields to table columns, ``string_fields`` its constants (title, ...)."""
    _check_table(data_table, "data_table")
    return CustomChart(table=data_table, spec=CustomChartSpec(
        spec_name=vega_spec_name, fields=fields, string_fields=string_fields or {},
        split_table=split_table))


def visualize(id, value):  # noqa: A002 - W&B's parameter name
    """Show ``value`` (a Table) with W&B's built-in panel ``id``."""
    _check_table(value, "value")
    return Visualize(table=value, spec=VisualizeSpec(name=id))


def has_charts(data):
    """True when ``data`` (a log() dict) holds a chart at any depth."""
    for value in data.values():
        if getattr(type(value), "_trackline_chart", False):
            return True
        if isinstance(value, Mapping) and has_charts(value):
            return True
    return False


def split_charts(data):
    """``(data, charts)``: ``data`` with every chart replaced as W&B's ``_serialize_custom_charts``
    does -- a chart logged under ``K`` (``a.b`` when nested in ``{"a": {"b": chart}}``) leaves the
    dict, and its table joins the top level under ``K_table`` (a Visualize's under ``K``) -- and
    the charts with their keys set. The caller's dicts are not changed."""
    charts = []
    out = _without_charts(data, None, charts)
    for key, chart in charts:
        chart.set_key(key)
        out[chart._history_key()] = chart.table
    return out, [chart for _, chart in charts]


def _without_charts(data, prefix, charts):
    out = {}
    for key, value in data.items():
        full = "%s.%s" % (prefix, key) if prefix else key
        if getattr(type(value), "_trackline_chart", False):
            charts.append((full, value))
        elif isinstance(value, Mapping):
            out[key] = _without_charts(value, full, charts)
        else:
            out[key] = value
    return out
