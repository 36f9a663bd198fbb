"""Reports made from code: ``trackline.reports`` (also ``trackline.Report``), with the names and
arguments of W&B's ``wandb_workspaces.reports.v2``, so a W&B script changes one import::

    import trackline.reports as wr

    report = wr.Report(project="mnist", title="Sweep 3", description="best runs of the sweep",
                       blocks=[
        wr.H1("Learning rate"),
        wr.P("Runs with a small learning rate converge."),
        wr.PanelGrid(runsets=[wr.Runset(filters="Config('lr') < 0.01")],
                     panels=[wr.LinePlot(x="Step", y=["loss", "acc"], smoothing_factor=0.6),
                             wr.RunComparer(diff_only=True), wr.RunsTable()]),
    ]).save()
    print(report.url)

The report model (shared/src/reports.rs) is blocks: markdown, and panel grids over one run set
with line charts (one metric each), a runs table and a comparison. The mapping:

- ``H1``/``H2``/``H3``/``P``/``MarkdownBlock`` and the report's ``description`` are markdown;
  consecutive ones are MERGED into one markdown block, separated by blank lines (headings become
  ``#``/``##``/``###``; ``P`` and heading text is escaped, so it shows as written, as in W&B;
  ``MarkdownBlock`` is markdown as is). ``TableOfContents()`` adds nothing: a report's ``#`` and
  ``##`` headings always make its table of contents. A heading's ``collapsed_blocks`` follow it.
- ``PanelGrid(runsets=[Runset(...)], panels=[...])`` is a panel grid; it takes one run set.
  ``Runset(filters=..., query=..., groupby=[...], order=[OrderBy(...)])`` becomes the run set's
  filter (see ``_reports_filter.py``), grouping and sort; ``runs=[ids]`` and ``limit=N`` are ours.
- ``LinePlot(y=[a, b])`` is one line panel per metric; ``x`` (``"Step"``, ``"Wall Time"``,
  ``"Relative Time"``, another metric), ``log_x``/``log_y``, ``ignore_outliers``, ``groupby``,
  ``groupby_aggfunc`` (mean, median), ``groupby_rangefunc`` (minmax, stddev, none),
  ``smoothing_factor`` with ``smoothing_type`` (exponentialTimeWeighted, exponential, gaussian,
  average, none) map onto the chart settings; ``layout=Layout(w=24)`` or ``wide=True`` spans the
  row. ``RunComparer()`` is the comparison panel (``keys=[...]`` to choose rows);
  ``RunsTable(columns=[...])`` is the runs table.
- What changes what is shown but has no equivalent is refused with :class:`~trackline.UsageError`
  (``metric_regex``, ``custom_expressions``, ``min``/``max`` aggregation, a second run set, a run
  set of another project, W&B's other panels and blocks); display-only arguments with no
  equivalent (titles, ranges, colours, legends, column widths) are ignored with a warning.

``report.save()`` sends ONE ``report_create`` op and sets ``report.id`` and ``report.url``
(``{daemon}/projects/{project}/reports/{id}``); ``save()`` again after changes reads the report
back and sends the block ops that make the draft match (``block_set`` with the revision it last
saw, ``block_add``, ``block_delete``, ``report_title``): an edit someone else made meanwhile
raises :class:`ReportConflict` naming them, and nothing is overwritten. As in W&B, ``save()``
also publishes what it saved (what viewers of a shared daemon see; one more op, sent only when the
published copy differs) and ``save(draft=True)`` writes the draft alone; ``report.publish()``
saves and publishes. ``Report.from_url(url)`` and ``Api().reports(project)``
read reports back: markdown comes back as ``MarkdownBlock``, each line panel as one ``LinePlot``.
Where the daemon is: ``_reports_http.py``.
"""

import json
import math

from ._errors import CommError, UsageError, termlog, warn
from ._reports_filter import column_id, group_id, run_set_filter
from ._reports_http import Daemon, DaemonRefused, locate, new_id, q

#: Limits of shared/src/reports.rs, checked before anything is sent.
MAX_REPORT_BLOCKS = 200
MAX_GRID_PANELS = 64
MAX_REPORT_TITLE_CHARS = 200
MAX_RUNSET_FILTER_BYTES = 4096
MAX_RUNSET_RUNS = 1000
MAX_PANEL_COLUMNS = 100

#: W&B's smoothing types (and ours) -> the chart's smoothing kind.
SMOOTHING_KINDS = {
    "exponentialTimeWeighted": "time_weighted_ema", "exponential": "ema", "gaussian": "gaussian",
    "average": "running_average", "none": "none",
    "time_weighted_ema": "time_weighted_ema", "twema": "time_weighted_ema", "ema": "ema",
    "running_average": "running_average",
}
#: Our smoothing kind -> W&B's name, for reading back.
WANDB_SMOOTHING = {"time_weighted_ema": "exponentialTimeWeighted", "ema": "exponential",
                   "gaussian": "gaussian", "running_average": "average"}
#: The parameter of a smoothing given a type but no factor (the web app's defaults).
DEFAULT_SMOOTHING_PARAM = {"time_weighted_ema": 0.6, "ema": 0.6, "gaussian": 3.0,
                           "running_average": 9}

#: ``LinePlot(x=...)`` names of the built-in x axes -> the chart's ``x``.
X_AXES = {
    "step": "step", "_step": "step", "Step": "step",
    "Wall Time": "wall_time", "WallTime": "wall_time", "_timestamp": "wall_time",
    "wall_time": "wall_time",
    "Relative Time": "relative_time", "Relative Time (Wall)": "relative_time",
    "Relative Time (Process)": "relative_time", "RelativeTime(Wall)": "relative_time",
    "RelativeTime(Process)": "relative_time", "_runtime": "relative_time",
    "_absolute_runtime": "relative_time", "relative_time": "relative_time",
}
WANDB_X = {"step": "Step", "wall_time": "Wall Time", "relative_time": "Relative Time"}

AGGS = {"mean": "mean", "median": "median"}
BANDS = {"minmax": "min_max", "stddev": "std", "none": "none", "min_max": "min_max",
         "std": "std"}
WANDB_BANDS = {"min_max": "minmax", "std": "stddev", "none": "none"}

#: W&B's width of a panel grid row (``Layout(w=24)`` spans it).
GRID_COLUMNS = 24


class ReportConflict(CommError):
    """Someone changed the report since this script saved or read it; nothing of theirs was
    overwritten."""


# -- small values ----------------------------------------------------------------------------------
class _Spec:
    """A W&B-style value object: keyword fields, repr of what is set, equality by fields."""

    _fields = ()

    def __repr__(self):
        shown = ("%s=%r" % (k, getattr(self, k)) for k in self._fields
                 if getattr(self, k) not in (None, "", [], {}, (None, None)))
        return "%s(%s)" % (type(self).__name__, ", ".join(shown))

    def __eq__(self, other):
        return type(self) is type(other) and all(
            getattr(self, k) == getattr(other, k) for k in self._fields)

    __hash__ = None


class _MetricRef:
    _trackline_metric = "run"

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "%s(%r)" % (type(self).__name__, self.name)

    def __eq__(self, other):
        return type(self) is type(other) and self.name == other.name

    def __hash__(self):
        return hash((type(self).__name__, self.name))


class Metric(_MetricRef):
    """A run attribute (``Metric("State")``) or, as a line plot's ``x``/``y``, a logged metric."""


class Config(_MetricRef):
    """A config key: ``Config("lr")``."""

    _trackline_metric = "config"


class SummaryMetric(_MetricRef):
    """A summary metric: ``SummaryMetric("acc")``."""

    _trackline_metric = "summary"


class Layout(_Spec):
    """A panel's place in W&B's 24-column grid; here only ``w`` counts: 24 spans the row."""

    _fields = ("x", "y", "w", "h")

    def __init__(self, x=0, y=0, w=8, h=6):
        self.x, self.y, self.w, self.h = x, y, w, h


class OrderBy(_Spec):
    """A sort of the run set: a column (``"summary.acc"``, ``SummaryMetric("acc")``,
    ``"CreatedTimestamp"``, ...) and the direction (W&B's default: descending)."""

    _fields = ("name", "ascending")

    def __init__(self, name, ascending=False):
        self.name, self.ascending = name, ascending


class Link(_Spec):
    """A link inside ``P``/heading text: ``P(["see ", Link("the paper", "https://...")])``."""

    _fields = ("text", "url")

    def __init__(self, text, url):
        self.text, self.url = text, url


class InlineCode(_Spec):
    """Code inside ``P``/heading text."""

    _fields = ("text",)

    def __init__(self, text):
        self.text = text


# -- blocks ----------------------------------------------------------------------------------------
class Block(_Spec):
    """A report block."""


class _Heading(Block):
    _fields = ("text", "collapsed_blocks")
    _level = 1

    def __init__(self, text="", collapsed_blocks=None):
        self.text, self.collapsed_blocks = text, collapsed_blocks

    def _markdown(self):
        text = " ".join(_inline(self.text, "%s(text)" % type(self).__name__).splitlines())
        return "%s %s" % ("#" * self._level, text) if text.strip() else ""


class H1(_Heading):
    """A level-1 heading (``# text``), in the table of contents."""


class H2(_Heading):
    """A level-2 heading (``## text``), in the table of contents."""

    _level = 2


class H3(_Heading):
    """A level-3 heading (``### text``)."""

    _level = 3


class P(Block):
    """A paragraph of plain text (or a list of text, ``Link`` and ``InlineCode``), shown as
    written."""

    _fields = ("text",)

    def __init__(self, text=""):
        self.text = text

    def _markdown(self):
        return _inline(self.text, "P(text)")


class MarkdownBlock(Block):
    """Markdown as it is (the notes' safe subset: headings, emphasis, code, lists, links)."""

    _fields = ("text",)

    def __init__(self, text=""):
        self.text = text

    def _markdown(self):
        if not isinstance(self.text, str):
            raise UsageError("MarkdownBlock(text=%r): the markdown must be a string" % (self.text,))
        return self.text


class TableOfContents(Block):
    """W&B's table of contents; a report here always shows one from its ``#``/``##`` headings,
    so this block adds nothing."""


class Runset(_Spec):
    """The runs a panel grid shows: ``filters`` (W&B's string syntax or the runs table's),
    ``query`` (a regular expression on run names), ``groupby`` (one column), ``order`` (one
    ``OrderBy``; default newest first), and ours: ``runs`` (only these run ids), ``limit``."""

    _fields = ("entity", "project", "name", "query", "filters", "groupby", "order",
               "custom_run_colors", "run_settings", "pinned_columns", "visible_columns",
               "hidden_columns", "column_order", "column_widths", "lock_columns", "runs", "limit")
    #: Arguments that only change how runs look: ignored with a warning.
    _display_only = ("custom_run_colors", "pinned_columns", "visible_columns", "hidden_columns",
                     "column_order", "column_widths", "lock_columns")

    def __init__(self, entity="", project="", name="Run set", query="", filters="", groupby=None,
                 order=None, custom_run_colors=None, run_settings=None, pinned_columns=None,
                 visible_columns=None, hidden_columns=None, column_order=None, column_widths=None,
                 lock_columns=None, *, runs=None, limit=None):
        self.entity, self.project, self.name, self.query = entity, project, name, query
        self.filters, self.groupby, self.order = filters, groupby, order
        self.custom_run_colors, self.run_settings = custom_run_colors, run_settings
        self.pinned_columns, self.visible_columns = pinned_columns, visible_columns
        self.hidden_columns, self.column_order = hidden_columns, column_order
        self.column_widths, self.lock_columns = column_widths, lock_columns
        self.runs, self.limit = runs, limit

    def _wire(self, project):
        if self.project and self.project != project:
            raise UsageError("Runset(project=%r): a report's run sets are runs of its own project "
                             "%r" % (self.project, project))
        for name, value in (self.run_settings or {}).items():
            hidden = value.get("disabled") if isinstance(value, dict) else getattr(
                value, "disabled", False)
            if hidden:
                raise UsageError("Runset(run_settings=...): hiding run %r has no equivalent; "
                                 "leave it out with filters or runs=[...]" % (name,))
        _ignored(self, self._display_only + (("run_settings",) if self.run_settings else ()),
                 "Runset")
        out = {"filter": run_set_filter(self.filters, self.query)}
        if len(out["filter"].encode("utf-8")) > MAX_RUNSET_FILTER_BYTES:
            raise UsageError("Runset: the filter is over %d bytes" % MAX_RUNSET_FILTER_BYTES)
        if self.runs:
            runs = [self.runs] if isinstance(self.runs, str) else list(self.runs)
            if not all(isinstance(r, str) and r for r in runs):
                raise UsageError("Runset(runs=%r): run ids are strings" % (self.runs,))
            if len(runs) > MAX_RUNSET_RUNS:
                raise UsageError("Runset(runs=...): at most %d runs" % MAX_RUNSET_RUNS)
            out["runs"] = runs
        order = _listify(self.order)
        if len(order) > 1:
            raise UsageError("Runset(order=%r): a run set sorts by one column" % (self.order,))
        if order:
            by = order[0] if isinstance(order[0], OrderBy) else OrderBy(order[0])
            out["sort"] = {"key": column_id(by.name, "OrderBy(name)"),
                           "desc": not by.ascending}
        if self.limit is not None:
            if not isinstance(self.limit, int) or isinstance(self.limit, bool) or self.limit < 0:
                raise UsageError("Runset(limit=%r): a number of runs" % (self.limit,))
            out["limit"] = self.limit
        groups = _listify(self.groupby)
        if len(groups) > 1:
            raise UsageError("Runset(groupby=%r): a run set groups by one column"
                             % (self.groupby,))
        if groups:
            out["group_by"] = group_id(groups[0], "Runset(groupby)")
        return out


class Panel(_Spec):
    """A panel of a panel grid."""


class LinePlot(Panel):
    """Line charts of the metrics ``y`` (one chart each) against ``x``."""

    _fields = ("title", "x", "y", "range_x", "range_y", "log_x", "log_y", "title_x", "title_y",
               "ignore_outliers", "groupby", "groupby_aggfunc", "groupby_rangefunc",
               "smoothing_factor", "smoothing_type", "smoothing_show_original",
               "max_runs_to_show", "custom_expressions", "plot_type", "font_size",
               "legend_position", "legend_template", "aggregate", "xaxis_expression",
               "xaxis_format", "legend_fields", "metric_regex", "point_visualization_method",
               "line_titles", "line_colors", "line_widths", "line_marks", "layout", "wide")
    _refused = ("custom_expressions", "metric_regex", "xaxis_expression")
    _display_only = ("title", "range_x", "range_y", "title_x", "title_y",
                     "smoothing_show_original", "max_runs_to_show", "plot_type", "font_size",
                     "legend_position", "legend_template", "aggregate", "xaxis_format",
                     "legend_fields", "point_visualization_method", "line_titles", "line_colors",
                     "line_widths", "line_marks")

    def __init__(self, title=None, x="Step", y=None, range_x=(None, None), range_y=(None, None),
                 log_x=None, log_y=None, title_x=None, title_y=None, ignore_outliers=None,
                 groupby=None, groupby_aggfunc=None, groupby_rangefunc=None,
                 smoothing_factor=None, smoothing_type=None, smoothing_show_original=None,
                 max_runs_to_show=None, custom_expressions=None, plot_type=None, font_size=None,
                 legend_position=None, legend_template=None, aggregate=None,
                 xaxis_expression=None, xaxis_format=None, legend_fields=None, metric_regex=None,
                 point_visualization_method=None, line_titles=None, line_colors=None,
                 line_widths=None, line_marks=None, *, layout=None, wide=False):
        values = dict(locals())
        for name in self._fields:
            setattr(self, name, values[name])

    def _wire(self):
        for name in self._refused:
            if getattr(self, name):
                raise UsageError("LinePlot(%s=...) has no equivalent: name the metrics in y=[...]"
                                 % name)
        _ignored(self, self._display_only, "LinePlot")
        keys = [_metric_name(m, "LinePlot(y)") for m in _listify(self.y)]
        if not keys:
            raise UsageError("LinePlot(y=...): name at least one metric")
        settings = {
            "x": "step", "x_key": None, "smoothing": smoothing(self.smoothing_factor,
                                                                self.smoothing_type),
            "x_log": bool(self.log_x), "y_log": bool(self.log_y),
            "ignore_outliers": bool(self.ignore_outliers),
            "group_by": group_id(self.groupby, "LinePlot(groupby)")
            if self.groupby not in (None, "", "None") else None,
            "agg": _choice(self.groupby_aggfunc, AGGS, "mean", "LinePlot(groupby_aggfunc)"),
            "band": _choice(self.groupby_rangefunc, BANDS, "min_max",
                            "LinePlot(groupby_rangefunc)"),
        }
        x = self.x.name if isinstance(self.x, Metric) else self.x
        if x is None or x in X_AXES:
            settings["x"] = X_AXES.get(x, "step")
        else:
            settings["x_key"] = _metric_name(x, "LinePlot(x)")
        wide = bool(self.wide) or (self.layout is not None and getattr(self.layout, "w", 0)
                                   >= GRID_COLUMNS)
        return [{"kind": "line", "key": k, "settings": dict(settings), "wide": wide}
                for k in keys]


class RunComparer(Panel):
    """The runs side by side, one row per config or summary key: by default every config key
    whose values differ, then the summary keys (W&B's ``diff_only``); ``keys=[...]`` chooses."""

    _fields = ("diff_only", "layout", "keys")

    def __init__(self, diff_only=None, *, layout=None, keys=None):
        self.diff_only, self.layout, self.keys = diff_only, layout, keys

    def _wire(self):
        keys = [column_id(k, "RunComparer(keys)") for k in _listify(self.keys)]
        if len(keys) > MAX_PANEL_COLUMNS:
            raise UsageError("RunComparer(keys=...): at most %d" % MAX_PANEL_COLUMNS)
        return [{"kind": "compare", "keys": keys}]


class RunsTable(Panel):
    """The runs as a table with these columns (``"name"``, ``"state"``, ``"config.lr"``,
    ``"summary.acc"``, ...; by default name, state, created and the columns that differ)."""

    _fields = ("columns", "layout")

    def __init__(self, columns=None, *, layout=None):
        self.columns, self.layout = columns, layout

    def _wire(self):
        columns = [column_id(c, "RunsTable(columns)") for c in _listify(self.columns)]
        if len(columns) > MAX_PANEL_COLUMNS:
            raise UsageError("RunsTable(columns=...): at most %d" % MAX_PANEL_COLUMNS)
        return [{"kind": "runs_table", "columns": columns}]


class PanelGrid(Block):
    """Panels over one run set (``runsets=[Runset(...)]``; default: every run of the project)."""

    _fields = ("runsets", "hide_run_sets", "panels", "active_runset", "custom_run_colors")

    def __init__(self, runsets=None, hide_run_sets=False, panels=None, active_runset=0,
                 custom_run_colors=None):
        self.runsets = runsets if runsets is not None else [Runset()]
        self.hide_run_sets, self.panels = hide_run_sets, panels
        self.active_runset, self.custom_run_colors = active_runset, custom_run_colors

    def _content(self, project):
        runsets = _listify(self.runsets)
        if len(runsets) != 1 or not isinstance(runsets[0], Runset):
            raise UsageError("PanelGrid(runsets=...): a panel grid shows one Runset (got %d); "
                             "make one grid per run set" % len(runsets))
        _ignored(self, ("hide_run_sets", "custom_run_colors"), "PanelGrid")
        panels = []
        for panel in _listify(self.panels):
            if not isinstance(panel, Panel):
                raise UsageError("PanelGrid(panels=...): %r is not a panel (LinePlot, RunsTable, "
                                 "RunComparer)" % (panel,))
            panels.extend(panel._wire())
        if len(panels) > MAX_GRID_PANELS:
            raise UsageError("PanelGrid: %d panels, at most %d" % (len(panels), MAX_GRID_PANELS))
        return {"kind": "panel_grid", "runset": runsets[0]._wire(project), "panels": panels}


# -- the report ------------------------------------------------------------------------------------
class Report(_Spec):
    """A report of ``project``: ``title``, ``description`` (its first paragraph) and ``blocks``.
    ``url``/``api_key`` (ours) say which daemon and token to use (see ``_reports_http.py``)."""

    _fields = ("project", "entity", "title", "description", "blocks", "width")

    def __init__(self, project, entity="", title="Untitled Report", description="", blocks=None,
                 width="readable", *, url=None, api_key=None):
        if not isinstance(project, str) or not project:
            raise UsageError("Report(project=%r): name the project" % (project,))
        self.project, self.entity, self.title = project, entity, title
        self.description, self.blocks, self.width = description, list(blocks or []), width
        self.id = ""
        #: The revision of the last publish this object knows of (None: never published).
        self.published_rev = None
        self._where = (url, api_key)
        self._daemon = None
        self._saved = None  # {"title", "title_rev", "blocks": [[id, rev, content], ...]}

    @property
    def url(self):
        """The report's page: ``{daemon}/projects/{project}/reports/{id}``."""
        if not self.id:
            raise AttributeError("save report or explicitly pass `id` to get a url")
        return report_url(self._daemon_url(), self.project, self.id)

    def _daemon_url(self):
        return (self._daemon or locate(*self._where)).url

    def _connect(self):
        if self._daemon is None:
            self._daemon = locate(*self._where)
        return self._daemon

    def contents(self):
        """The blocks' contents as the daemon stores them (``BlockContent`` JSON), in order."""
        out, text = [], []

        def flush():
            if text:
                out.append({"kind": "markdown", "text": "\n\n".join(text)})
                del text[:]

        if self.description:
            text.append(_inline(self.description, "Report(description)"))
        for block in _flatten(self.blocks):
            if isinstance(block, PanelGrid):
                flush()
                out.append(block._content(self.project))
            elif isinstance(block, TableOfContents):
                continue
            elif isinstance(block, Block):
                md = block._markdown()
                if md.strip():
                    text.append(md)
            else:
                raise UsageError("Report(blocks=...): %r is not a block (H1, H2, H3, P, "
                                 "MarkdownBlock, TableOfContents, PanelGrid)" % (block,))
        flush()
        if len(out) > MAX_REPORT_BLOCKS:
            raise UsageError("the report has %d blocks, at most %d" % (len(out), MAX_REPORT_BLOCKS))
        return out

    def _title(self):
        title = self.title if isinstance(self.title, str) else ""
        if not title.strip() or len(title) > MAX_REPORT_TITLE_CHARS:
            raise UsageError("Report(title=%r): 1 to %d characters"
                             % (self.title, MAX_REPORT_TITLE_CHARS))
        return title

    def save(self, draft=False, clone=False):
        """Writes the report to the daemon (created on the first save, or with ``clone=True`` as
        a new report) and, unless ``draft=True``, publishes it as W&B's ``save()`` does; returns
        the report."""
        title, contents = self._title(), self.contents()  # every check before anything is sent
        daemon = self._connect()
        if clone or not self.id or self._saved is None:
            report = self._create(daemon, title, contents)
        else:
            report = self._update(daemon, title, contents)
        if not draft and _unpublished(report):
            event = self._commit({"kind": "report_publish", "report": self.id})
            self.published_rev = (event["change"].get("published") or {}).get("rev")
        termlog("Saved report to: %s" % self.url)
        return self

    def publish(self):
        """Saves the report and publishes its draft (viewers of a shared daemon see only
        published reports); the same as ``save()``. Returns the report."""
        return self.save()

    def delete(self):
        """Deletes the report (the daemon keeps a tombstone). Returns True."""
        if not self.id:
            raise UsageError("this report was never saved")
        self._commit({"kind": "report_delete", "report": self.id})
        self.id, self._saved = "", None
        return True

    @classmethod
    def from_url(cls, url, *, api_key=None, as_model=False):
        """The report at ``url`` (``{daemon}/projects/{p}/reports/{id}``, a ``#t=<token>`` part
        taken as the token), read from its daemon."""
        daemon, project, report_id = _parse_report_url(url, api_key)
        path = ("/api/projects/%s/reports/%s" % (q(project), q(report_id)) if project
                else "/api/reports/%s" % q(report_id))
        try:
            snapshot = daemon.get(path)
        except DaemonRefused as exc:
            if exc.status == 404:
                raise CommError("no report %r at %s: %s" % (report_id, daemon.url, exc)) from None
            raise
        return snapshot if as_model else from_wire(snapshot["report"], daemon)

    # -- saving ----------------------------------------------------------------------------------
    def _commit(self, op):
        """Sends ``op``; the committed event, or ReportConflict naming who changed what."""
        answer = self._connect().send_op(self.project, op)
        if answer.get("outcome") == "committed":
            return answer["event"]
        current = (answer.get("current") or {})
        raise ReportConflict(_conflict_message(self, op, current))

    def _create(self, daemon, title, contents):
        report_id = new_id(16)
        blocks = [{"id": new_id(8), "content": c} for c in contents]
        self.id = report_id
        try:
            event = self._commit({"kind": "report_create", "report": report_id, "title": title,
                                  "blocks": blocks})
        except Exception:
            self.id = ""
            raise
        self.published_rev = None
        self._remember(event["change"], title, [(b["id"], b["content"]) for b in blocks])
        return event["change"]

    def _update(self, daemon, title, contents):
        try:
            snapshot = daemon.get("/api/projects/%s/reports/%s" % (q(self.project), q(self.id)))
        except DaemonRefused as exc:
            if exc.status == 404:
                raise ReportConflict("report %s is not on %s any more; save(clone=True) saves "
                                     "this one as a new report" % (self.id, daemon.url)) from None
            raise
        current = snapshot["report"]
        if current.get("deleted"):
            raise ReportConflict("report %s was deleted by %s; save(clone=True) saves this one "
                                 "as a new report" % (self.id, _who(current.get("updated_by"))))
        saved = self._saved
        ops, plan = _plan(self.id, saved["blocks"], contents)
        _preflight(self, current, saved, ops, plan, title)
        if title != saved["title"]:
            ops.insert(0, {"kind": "report_title", "report": self.id, "title": title,
                           "base_rev": saved["title_rev"]})
        report = current
        for op in ops:
            report = self._commit(op)["change"]
        title_rev = report["title_rev"] if title != saved["title"] else saved["title_rev"]
        revs = {b["id"]: b["rev"] for b in report.get("blocks") or []}
        kept = {bid: rev for bid, rev, _ in saved["blocks"]}
        self._saved = {"title": title, "title_rev": title_rev, "blocks": [
            [bid, kept[bid] if how == "keep" else revs.get(bid, 0), content]
            for bid, how, content in plan]}
        return report

    def _remember(self, report, title, blocks):
        revs = {b["id"]: b["rev"] for b in report.get("blocks") or []}
        self._saved = {"title": title, "title_rev": report.get("title_rev", 1),
                       "blocks": [[bid, revs.get(bid, 1), content] for bid, content in blocks]}


def _unpublished(report):
    """Whether ``report``'s draft differs from its published copy (or it was never published)."""
    published = report.get("published")
    if not published:
        return True
    return (published.get("title") != report.get("title")
            or [(b["id"], b["content"]) for b in published.get("blocks") or []]
            != [(b["id"], b["content"]) for b in report.get("blocks") or []])


def report_url(base, project, report_id):
    return "%s/projects/%s/reports/%s" % (base.rstrip("/"), q(project), q(report_id))


def from_wire(report, daemon=None):
    """A :class:`Report` from the daemon's ``Report`` JSON, its blocks mapped back."""
    blocks = report.get("blocks") or []
    out = Report(project=report["project"], title=report.get("title") or "",
                 blocks=[_block_from_wire(b.get("content") or {}) for b in blocks])
    out.id = report["id"]
    out.published_rev = (report.get("published") or {}).get("rev")
    out._daemon = daemon
    out._saved = {"title": out.title, "title_rev": report.get("title_rev", 1),
                  "blocks": [[b["id"], b["rev"], b.get("content")] for b in blocks]}
    return out


def project_reports(project, url=None, api_key=None, root=None):
    """The reports of ``project`` on its daemon, oldest first (``Api().reports(project)``)."""
    daemon = locate(url, api_key, root)
    try:
        reports = daemon.get("/api/projects/%s/reports" % q(project))
    except DaemonRefused as exc:
        if exc.status == 404 and "no such API endpoint" not in str(exc):
            return []  # a project with no runs
        raise
    return [from_wire(r, daemon) for r in reports if not r.get("deleted")]


# -- the second save: which ops make the draft match -----------------------------------------------
def _plan(report_id, saved, contents):
    """``(ops, plan)``: the ops that turn the blocks last saved (``[id, rev, content]``) into
    ``contents``, and for each new block ``(id, "keep" | "set" | "add", content)``. Unchanged
    blocks keep their ids (and the threads on them); no block is moved."""
    from difflib import SequenceMatcher

    old = [_key(c) for _, _, c in saved]
    new = [_key(c) for c in contents]
    ops, plan = [], []
    prev = None
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        if tag == "equal":
            for k in range(j2 - j1):
                prev = saved[i1 + k][0]
                plan.append((prev, "keep", contents[j1 + k]))
            continue
        for k in range(paired):
            bid, rev, _ = saved[i1 + k]
            ops.append({"kind": "block_set", "report": report_id, "block": bid,
                        "content": contents[j1 + k], "base_rev": rev})
            plan.append((bid, "set", contents[j1 + k]))
            prev = bid
        for k in range(i1 + paired, i2):
            ops.append({"kind": "block_delete", "report": report_id, "block": saved[k][0]})
        for k in range(j1 + paired, j2):
            bid = new_id(8)
            ops.append({"kind": "block_add", "report": report_id, "after": prev,
                        "block": {"id": bid, "content": contents[k]}})
            plan.append((bid, "add", contents[k]))
            prev = bid
    return ops, plan


def _preflight(report, current, saved, ops, plan, title):
    """Refuses (before sending anything) a save over changes made by someone else since."""
    now = {b["id"]: b for b in current.get("blocks") or []}
    problems = []
    touched = {op["block"] for op in ops if op["kind"] in ("block_set", "block_delete")}
    for bid, rev, _ in saved["blocks"]:
        block = now.get(bid)
        if block is None:
            problems.append("block %s was deleted" % bid)
        elif bid in touched and block.get("rev") != rev:
            problems.append("block %s was edited by %s" % (bid, _who(block.get("updated_by"))))
    if title != saved["title"] and current.get("title_rev") != saved["title_rev"]:
        problems.append("the title was changed to %r" % current.get("title"))
    if problems:
        raise ReportConflict(
            "report %s changed since this script saved or read it (last change by %s): %s. "
            "Nothing was saved; read it again with Report.from_url(%r) and redo the changes"
            % (report.id, _who(current.get("updated_by")), "; ".join(problems), report.url))


def _conflict_message(report, op, current):
    who = _who(current.get("updated_by"))
    what = op.get("kind")
    block = op.get("block")
    if block:
        for b in current.get("blocks") or []:
            if b.get("id") == block:
                who = _who(b.get("updated_by"))
    return ("report %s: %s was refused, %s changed it meanwhile (the changes before it were "
            "saved); read it again with Report.from_url(%r) and redo the rest"
            % (report.id, what + (" of block %s" % block if block else ""), who, report.url))


def _who(author):
    return (author or {}).get("label") or "someone"


def _key(content):
    return json.dumps(content, sort_keys=True, allow_nan=False)


# -- reading back ----------------------------------------------------------------------------------
def _block_from_wire(content):
    kind = content.get("kind")
    if kind == "markdown":
        return MarkdownBlock(content.get("text") or "")
    if kind != "panel_grid":
        raise CommError("a report block of kind %r is not known to this client" % (kind,))
    rs = content.get("runset") or {}
    sort = rs.get("sort")
    runset = Runset(filters=rs.get("filter") or "",
                    groupby=[rs["group_by"]] if rs.get("group_by") else None,
                    order=[OrderBy(sort["key"], ascending=not sort.get("desc"))] if sort else None,
                    runs=rs.get("runs") or None, limit=rs.get("limit"))
    return PanelGrid(runsets=[runset],
                     panels=[_panel_from_wire(p) for p in content.get("panels") or []])


def _panel_from_wire(panel):
    kind = panel.get("kind")
    if kind == "runs_table":
        return RunsTable(columns=panel.get("columns") or None)
    if kind == "compare":
        return RunComparer(keys=panel.get("keys") or None)
    if kind != "line":
        raise CommError("a report panel of kind %r is not known to this client" % (kind,))
    s = panel.get("settings") or {}
    smooth = s.get("smoothing") or {}
    smoothing_kind = smooth.get("kind") or "none"
    agg, band = s.get("agg") or "mean", s.get("band") or "min_max"
    return LinePlot(
        x=s.get("x_key") or WANDB_X.get(s.get("x") or "step", "Step"), y=[panel["key"]],
        log_x=s.get("x_log") or None, log_y=s.get("y_log") or None,
        ignore_outliers=s.get("ignore_outliers") or None, groupby=s.get("group_by"),
        groupby_aggfunc=agg if agg != "mean" else None,
        groupby_rangefunc=WANDB_BANDS.get(band) if band != "min_max" else None,
        smoothing_factor=smooth.get("param") if smoothing_kind != "none" else None,
        smoothing_type=WANDB_SMOOTHING.get(smoothing_kind), wide=bool(panel.get("wide")))


# -- helpers ---------------------------------------------------------------------------------------
def smoothing(factor, kind):
    """The chart's smoothing JSON for W&B's ``smoothing_factor`` and ``smoothing_type`` (a factor
    without a type is W&B's default, the time-weighted EMA)."""
    if kind is None:
        kind = "none" if factor is None else "exponentialTimeWeighted"
    ours = SMOOTHING_KINDS.get(kind)
    if ours is None:
        raise UsageError("LinePlot(smoothing_type=%r): one of %s"
                         % (kind, ", ".join(sorted(k for k in SMOOTHING_KINDS if "_" not in k))))
    if ours == "none":
        return {"kind": "none"}
    if factor is None:
        factor = DEFAULT_SMOOTHING_PARAM[ours]
    if (not isinstance(factor, (int, float)) or isinstance(factor, bool)
            or not math.isfinite(factor) or factor < 0):
        raise UsageError("LinePlot(smoothing_factor=%r): a number >= 0" % (factor,))
    if ours in ("time_weighted_ema", "ema"):
        if factor > 1:
            raise UsageError("LinePlot(smoothing_factor=%r): %s smoothing takes 0 to 1"
                             % (factor, kind))
        return {"kind": ours, "param": float(factor)}
    if ours == "gaussian":
        return {"kind": ours, "param": float(factor)}
    if factor != int(factor) or factor < 1:
        raise UsageError("LinePlot(smoothing_factor=%r): a running average takes a window of "
                         "1 or more points" % (factor,))
    return {"kind": ours, "param": int(factor)}


def _choice(value, table, default, what):
    if value is None:
        return default
    if value not in table:
        raise UsageError("%s=%r has no equivalent: use one of %s"
                         % (what, value, ", ".join(sorted(k for k in table if "_" not in k))))
    return table[value]


def _metric_name(metric, what):
    kind = getattr(type(metric), "_trackline_metric", None)
    if kind == "run":
        metric = metric.name
    elif kind is not None:
        raise UsageError("%s: %r is not a logged metric" % (what, metric))
    if not isinstance(metric, str) or not metric:
        raise UsageError("%s: %r is not a metric name" % (what, metric))
    return metric


def _listify(value):
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _flatten(blocks):
    for block in _listify(blocks):
        yield block
        if isinstance(block, _Heading) and block.collapsed_blocks:
            yield from _flatten(block.collapsed_blocks)


def _ignored(obj, names, where):
    set_ = [n for n in names
            if getattr(obj, n) not in (None, "", [], {}, (), (None, None), False)]
    if set_:
        warn("%s ignores %s (no equivalent in a trackline report)" % (where, ", ".join(set_)), 4)


def _inline(text, what):
    """Text (a string, Link, InlineCode or a list of them) as markdown that shows it as written."""
    if isinstance(text, str):
        return _escape(text)
    if isinstance(text, Link):
        url = str(text.url).replace(" ", "%20").replace("(", "%28").replace(")", "%29")
        return "[%s](%s)" % (_escape(str(text.text)), url)
    if isinstance(text, InlineCode):
        code = str(text.text)
        return "`%s`" % code if "`" not in code and "\n" not in code else _escape(code)
    if isinstance(text, (list, tuple)):
        return "".join(_inline(t, what) for t in text)
    raise UsageError("%s: %r is not text (a string, Link or InlineCode)" % (what, text))


_MARKDOWN_CHARS = "\\`*_[]"


def _escape(text):
    """Plain text as markdown that renders it unchanged."""
    out = "".join("\\" + c if c in _MARKDOWN_CHARS else c for c in text)
    lines = []
    for line in out.split("\n"):
        stripped = line.lstrip(" ")
        pad = line[:len(line) - len(stripped)]
        if stripped[:1] in ("#", "-", "+", ">"):
            stripped = "\\" + stripped
        else:
            digits = len(stripped) - len(stripped.lstrip("0123456789"))
            if digits and stripped[digits:digits + 1] in (".", ")"):
                stripped = stripped[:digits] + "\\" + stripped[digits:]
        lines.append(pad + stripped)
    return "\n".join(lines)


def _parse_report_url(url, api_key):
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(str(url))
    if parts.fragment.startswith("t=") and not api_key:
        api_key = parts.fragment[2:]
    segments = parts.path.rstrip("/").split("/")
    if "reports" not in segments or segments.index("reports") + 1 >= len(segments):
        raise UsageError("%r is not a report's URL ({daemon}/projects/<project>/reports/<id>)"
                         % (url,))
    at = len(segments) - 1 - segments[::-1].index("reports")
    report_id = unquote(segments[at + 1])
    project, base_end = None, at
    if at >= 2 and segments[at - 2] == "projects":
        project, base_end = unquote(segments[at - 1]), at - 2
    base = "%s://%s%s" % (parts.scheme or "http", parts.netloc, "/".join(segments[:base_end]))
    return Daemon(base, api_key, "the report's URL"), project, report_id
