"""``import trackline.reports as wr``: reports made from code, with the names of W&B's
``wandb_workspaces.reports.v2`` (see ``_reports.py`` for the mapping onto trackline's reports)."""

from ._reports import (
    Block, Config, H1, H2, H3, InlineCode, Layout, LinePlot, Link, MarkdownBlock, Metric,
    OrderBy, P, Panel, PanelGrid, Report, ReportConflict, RunComparer, RunsTable, Runset,
    SummaryMetric, TableOfContents,
)

__all__ = [
    "Report", "ReportConflict", "H1", "H2", "H3", "P", "MarkdownBlock", "TableOfContents",
    "PanelGrid", "Runset", "OrderBy", "LinePlot", "RunComparer", "RunsTable", "Layout", "Link",
    "InlineCode", "Metric", "Config", "SummaryMetric", "Block", "Panel",
]

#: W&B's report blocks and panels with no equivalent here.
_UNSUPPORTED = (
    "BarPlot", "BlockQuote", "CalloutBlock", "CheckedList", "CheckedListItem", "CodeBlock",
    "CodeComparer", "CustomChart", "Gallery", "GradientPoint", "HorizontalRule", "Image",
    "InlineLatex", "LatexBlock", "MarkdownPanel", "MediaBrowser", "OrderedList",
    "OrderedListItem", "ParallelCoordinatesPlot", "ParallelCoordinatesPlotColumn",
    "ParameterImportancePlot", "RunSettings", "RunsetGroup", "RunsetGroupKey", "ScalarChart",
    "ScatterPlot", "UnorderedList", "UnorderedListItem", "Video", "WeaveBlockArtifact",
    "WeaveBlockArtifactVersionedFile", "WeaveBlockSummaryTable", "WeavePanel",
    "WeavePanelArtifact", "WeavePanelArtifactVersionedFile", "WeavePanelSummaryTable",
)


def __getattr__(name):
    if name in _UNSUPPORTED:
        raise AttributeError(
            "trackline.reports has no %s: a report here has markdown (H1, H2, H3, P, "
            "MarkdownBlock) and panel grids of LinePlot, RunsTable and RunComparer" % name)
    raise AttributeError("module 'trackline.reports' has no attribute %r" % (name,))
