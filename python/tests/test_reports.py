"""Reports made from code (``trackline.reports``, W&B's ``wandb_workspaces.reports.v2`` names):
the JSON each block becomes, W&B's filter strings translated or refused, the x axis and
smoothing mapping, the ops a second save sends, where the daemon is found; then end to end
against the real daemon binary ($TRACKLINE_BIN, else target/debug/trackline of this repository;
build it with `TRACKLINE_SKIP_WEB=1 cargo build -p trackline`)."""

import http.server
import json
import os
import re
import subprocess
import sys
import threading
import urllib.request
import warnings

import pytest

import trackline
import trackline.reports as wr
from trackline import UsageError, _reports, _reports_http
from trackline._reports_filter import run_set_filter, translate
from conftest import REPO_DIR, run_script, wait_for

BIN = os.environ.get("TRACKLINE_BIN") or os.path.join(REPO_DIR, "target", "debug", "trackline")


def line(key, **settings):
    """A line panel's JSON with the default chart settings, overridden by ``settings``."""
    s = {"x": "step", "x_key": None, "smoothing": {"kind": "none"}, "x_log": False,
         "y_log": False, "ignore_outliers": False, "group_by": None, "agg": "mean",
         "band": "min_max"}
    wide = settings.pop("wide", False)
    s.update(settings)
    return {"kind": "line", "key": key, "settings": s, "wide": wide}


def grid(panels, **runset):
    return {"kind": "panel_grid", "runset": dict({"filter": ""}, **runset), "panels": panels}


# -- the JSON of each block ------------------------------------------------------------------------
def test_text_blocks_merge_into_one_markdown_block_and_show_as_written():
    report = wr.Report(project="p", title="T", description="Sweep *3*", blocks=[
        wr.H1("Results"), wr.P("lr 1. [best] is_good\n# not a heading\n- not a list"),
        wr.TableOfContents(), wr.P(), wr.H2(["see ", wr.Link("the paper", "https://x.org/a b"),
                                             " and ", wr.InlineCode("f(x)")]),
        wr.H3("multi\nline"), wr.MarkdownBlock("**bold** stays markdown"),
    ])
    assert report.contents() == [{"kind": "markdown", "text": "\n\n".join([
        "Sweep \\*3\\*",
        "# Results",
        "lr 1. \\[best\\] is\\_good\n\\# not a heading\n\\- not a list",
        "## see [the paper](https://x.org/a%20b) and `f(x)`",
        "### multi line",
        "**bold** stays markdown",
    ])}]
    assert wr.P("1. first")._markdown() == "1\\. first"


def test_panel_grids_split_the_markdown_and_collapsed_blocks_follow_their_heading():
    report = wr.Report(project="p", blocks=[
        wr.H1("A", collapsed_blocks=[wr.P("inside"), wr.PanelGrid(panels=[wr.RunsTable()])]),
        wr.P("after"),
    ])
    assert report.contents() == [
        {"kind": "markdown", "text": "# A\n\ninside"},
        grid([{"kind": "runs_table", "columns": []}]),
        {"kind": "markdown", "text": "after"},
    ]
    assert wr.Report(project="p").contents() == []


def test_a_panel_grid_maps_its_run_set_and_panels():
    block = wr.PanelGrid(
        runsets=[wr.Runset(project="p", filters="Config('lr') < 0.01", groupby=["config.opt"],
                           order=[wr.OrderBy(wr.SummaryMetric("acc"))], runs=["a", "b"],
                           limit=5)],
        panels=[
            wr.LinePlot(x="Step", y=["loss", "acc"], smoothing_factor=0.6, log_y=True,
                        groupby=wr.Config("opt"), groupby_aggfunc="median",
                        groupby_rangefunc="stddev"),
            wr.LinePlot(x="epoch", y="val/loss", ignore_outliers=True, layout=wr.Layout(w=24)),
            wr.RunComparer(diff_only=True),
            wr.RunComparer(keys=["config.lr", wr.SummaryMetric("acc")]),
            wr.RunsTable(columns=["name", "State", "config:lr.value", "summary:acc", "run:state",
                                  wr.Config("opt")]),
        ])
    settings = dict(smoothing={"kind": "time_weighted_ema", "param": 0.6}, y_log=True,
                    group_by="config.opt", agg="median", band="std")
    assert wr.Report(project="p", blocks=[block]).contents() == [grid(
        [line("loss", **settings), line("acc", **settings),
         line("val/loss", x_key="epoch", ignore_outliers=True, wide=True),
         {"kind": "compare", "keys": []},
         {"kind": "compare", "keys": ["config.lr", "summary.acc"]},
         {"kind": "runs_table", "columns": ["name", "state", "config.lr", "summary.acc", "state",
                                            "config.opt"]}],
        filter="config.lr < 0.01", runs=["a", "b"], sort={"key": "summary.acc", "desc": True},
        limit=5, group_by="config.opt")]
    # The default run set: every run of the project, newest first.
    assert wr.PanelGrid(panels=[wr.LinePlot(y=["loss"])])._content("p") == grid([line("loss")])
    order = wr.Runset(order=[wr.OrderBy("CreatedTimestamp", ascending=True)])._wire("p")
    assert order == {"filter": "", "sort": {"key": "created", "desc": False}}


@pytest.mark.parametrize("x, expected", [
    ("Step", {}), ("_step", {}), (None, {}), ("Wall Time", {"x": "wall_time"}),
    ("_timestamp", {"x": "wall_time"}), ("Relative Time", {"x": "relative_time"}),
    ("RelativeTime(Process)", {"x": "relative_time"}), ("_runtime", {"x": "relative_time"}),
    ("epoch", {"x_key": "epoch"}), (wr.Metric("epoch"), {"x_key": "epoch"}),
    (wr.Metric("Step"), {}),
])
def test_the_x_axis(x, expected):
    assert wr.LinePlot(x=x, y=["loss"])._wire() == [line("loss", **expected)]


@pytest.mark.parametrize("factor, kind, expected", [
    (None, None, {"kind": "none"}),
    (0.6, None, {"kind": "time_weighted_ema", "param": 0.6}),
    (0, "exponentialTimeWeighted", {"kind": "time_weighted_ema", "param": 0.0}),
    (0.9, "exponential", {"kind": "ema", "param": 0.9}),
    (2, "gaussian", {"kind": "gaussian", "param": 2.0}),
    (5, "average", {"kind": "running_average", "param": 5}),
    (5.0, "average", {"kind": "running_average", "param": 5}),
    (0.6, "none", {"kind": "none"}),
    (None, "gaussian", {"kind": "gaussian", "param": 3.0}),
    (0.3, "ema", {"kind": "ema", "param": 0.3}),
])
def test_smoothing(factor, kind, expected):
    panel = wr.LinePlot(y=["loss"], smoothing_factor=factor, smoothing_type=kind)._wire()[0]
    assert panel["settings"]["smoothing"] == expected


@pytest.mark.parametrize("factor, kind", [
    (1.5, "exponential"), (-1, None), (0.5, "average"), (0, "average"), (0.5, "bogus"),
    (float("nan"), None), ("0.5", None),
])
def test_smoothing_that_does_not_map_is_refused(factor, kind):
    with pytest.raises(UsageError, match="smoothing"):
        wr.LinePlot(y=["loss"], smoothing_factor=factor, smoothing_type=kind)._wire()


@pytest.mark.parametrize("groupby, expected", [
    (wr.Config("opt"), "config.opt"), ("Group", "group"), ("group", "group"), ("lr", "config.lr"),
    ("config.a.b", "config.a.b"), ("summary.acc", "summary.acc"), (wr.Metric("JobType"),
                                                                     "job_type"),
    ("config.lr.value", "config.lr"), ("a.b", "config.a.b"),
])
def test_grouping(groupby, expected):
    assert wr.LinePlot(y=["l"], groupby=groupby)._wire()[0]["settings"]["group_by"] == expected
    assert wr.Runset(groupby=[groupby])._wire("p")["group_by"] == expected


# -- W&B's filter strings --------------------------------------------------------------------------
@pytest.mark.parametrize("wandb, ours", [
    ("Config('lr') < 0.01", "config.lr < 0.01"),
    ("Config('lr') = 0.001 and State = 'finished'", 'config.lr == 0.001 and state == "finished"'),
    ("SummaryMetric('loss') <= 0.1 or Summary('acc') > 0.9",
     "summary.loss <= 0.1 or summary.acc > 0.9"),
    ("Metric('State') == 'Finished' and (Config('learning_rate') == 0.01 or "
     "Config('learning_rate') == 0.1)",
     'state == "finished" and (config.learning_rate == 0.01 or config.learning_rate == 0.1)'),
    ("Tags() in ['baseline', 'experiment-v1'] and State == 'finished'",
     '("baseline" in tags or "experiment-v1" in tags) and state == "finished"'),
    ("Tags() not in ['debug', 'test']", 'not ("debug" in tags or "test" in tags)'),
    ("Metric('Tags') == 'prod'", '"prod" in tags'),
    ("Config('optimizer') in ['adam', 'adamw']", 'config.optimizer in ["adam", "adamw"]'),
    ("Config('opt') not in ('sgd',)", 'config.opt not in ["sgd"]'),
    ("Metric('CreatedTimestamp') >= '2025-01-01T00:00:00Z'", "created >= 1735689600.0"),
    ("Config('my key') == 1", "`config.my key` == 1"),
    ("Config('a.value.b') == -5", "config.a.b == -5"),
    ("Config('flag') != True and Config('x') == None", "config.flag != true and config.x == null"),
    ("Metric('Name') == \"it's \\\"q\\\"\"", 'name == "it\'s \\"q\\""'),
    ("Metric('Runtime') > 60 * 5 and Metric('Hostname') == 'gpu1'",
     'runtime > 300 and host == "gpu1"'),
    ("not Config('lr') > 1", "not (config.lr > 1)"),
    ("JobType == 'train'", 'job_type == "train"'),
    ("Metric('State') == finished", 'state == "finished"'),
])
def test_wandb_filters_are_translated(wandb, ours):
    assert translate(wandb) == ours


@pytest.mark.parametrize("ours", [
    'config.lr < 0.01 and state == "finished"', 'name =~ "Config(x)"', '"baseline" in tags',
    "summary.val/loss <= 0.3 or not (config.optimizer == \"sgd\")", "", "state == 'Metric('",
])
def test_our_filters_pass_unchanged(ours):
    assert translate(ours) == ours


@pytest.mark.parametrize("wandb, why", [
    ("Metric('CreatedTimestamp') within_last 5 days", "within_last"),
    ("KeysInfo('x') == 1", "KeysInfo"),
    ("Metric('User') == 'bob'", "'User' has no column"),
    ("Sweep == 'abc'", "'Sweep' has no column"),
    ("0.1 < Config('lr') < 1", "chained"),
    ("Config('lr') < Config('x')", "not a value"),
    ("Config(lr) == 1", "Config\\('key'\\)"),
    ("Tags() > 'a'", "tags are matched"),
    ("Config('a') in 3", "needs a list"),
    ("Config('lr')", "not a comparison"),
    ("Metric('CreatedTimestamp') > 'yesterday'", "not a date"),
    ("Config('a') ==", "neither W&B's syntax nor ours"),
])
def test_wandb_filters_that_do_not_map_are_refused(wandb, why):
    with pytest.raises(UsageError, match=why):
        translate(wandb)


def test_filter_lists_and_queries_combine():
    assert run_set_filter(["Config('a') == 1", "config.b > 2"]) == \
        "(config.a == 1) and (config.b > 2)"
    assert run_set_filter("", query='res"net') == 'name =~ "res\\"net"'
    assert run_set_filter("Config('a') == 1", query="x") == '(config.a == 1) and (name =~ "x")'
    assert run_set_filter(None) == ""
    with pytest.raises(UsageError, match="as a string"):
        run_set_filter(object())
    with pytest.raises(UsageError, match="within_last"):  # one bad filter of a list refuses all
        run_set_filter(["config.a > 1", "Metric('CreatedTimestamp') within_last 1 days"])


# -- what is refused or ignored --------------------------------------------------------------------
@pytest.mark.parametrize("make, why", [
    (lambda: wr.PanelGrid(runsets=[wr.Runset(), wr.Runset()]), "one Runset"),
    (lambda: wr.PanelGrid(runsets=[wr.Runset(project="other")]), "its own project"),
    (lambda: wr.PanelGrid(panels=[wr.LinePlot(metric_regex="loss.*")]), "metric_regex"),
    (lambda: wr.PanelGrid(panels=[wr.LinePlot(y=[])]), "at least one metric"),
    (lambda: wr.PanelGrid(panels=[wr.LinePlot(y=[wr.Config("lr")])]), "not a logged metric"),
    (lambda: wr.PanelGrid(panels=[wr.LinePlot(y=["l"], groupby_aggfunc="max")]), "max"),
    (lambda: wr.PanelGrid(panels=[wr.LinePlot(y=["l"], groupby_rangefunc="stderr")]), "stderr"),
    (lambda: wr.PanelGrid(panels=[wr.RunsTable(columns=["loss"])]), "not a column"),
    (lambda: wr.PanelGrid(panels=["loss"]), "not a panel"),
    (lambda: wr.PanelGrid(runsets=[wr.Runset(order=[wr.OrderBy("a"), wr.OrderBy("b")])]),
     "one column"),
    (lambda: wr.PanelGrid(runsets=[wr.Runset(run_settings={"r1": {"disabled": True}})]),
     "hiding run"),
    (lambda: wr.PanelGrid(panels=[wr.LinePlot(y=["l"]) for _ in range(65)]), "at most 64"),
    (lambda: "not a block", "not a block"),
])
def test_what_cannot_be_represented_is_refused(make, why):
    with pytest.raises(UsageError, match=why):
        wr.Report(project="p", blocks=[make()]).contents()


def test_titles_and_unsupported_wandb_names():
    with pytest.raises(UsageError, match="1 to 200"):
        wr.Report(project="p", title="x" * 201).save()
    with pytest.raises(UsageError, match="1 to 200"):
        wr.Report(project="p", title=" ").save()
    with pytest.raises(AttributeError, match="no BarPlot.*LinePlot, RunsTable and RunComparer"):
        wr.BarPlot
    with pytest.raises(AttributeError):
        wr.Nothing
    assert trackline.Report is wr.Report and trackline.reports is wr
    assert "Report" in dir(trackline) and "reports" in dir(trackline)
    with pytest.raises(AttributeError, match="save report"):
        wr.Report(project="p").url


def test_display_only_arguments_are_ignored_with_a_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wr.Report(project="p", blocks=[wr.PanelGrid(
            runsets=[wr.Runset(name="mine", pinned_columns=["run:name"])],
            panels=[wr.LinePlot(title="Loss", y=["loss"], range_y=(0, 1))])]).contents()
    messages = [str(w.message) for w in caught]
    assert any("LinePlot ignores title, range_y" in m for m in messages), messages
    assert any("Runset ignores pinned_columns" in m for m in messages), messages


# -- reading back, and the second save's ops -------------------------------------------------------
def wire_report(contents, report_id="r1", revs=None):
    return {"id": report_id, "project": "p", "title": "T", "title_rev": 1, "deleted": False,
            "blocks": [{"id": "b%d" % i, "rev": (revs or {}).get(i, 1), "content": c,
                        "updated_by": {"id": "local", "label": "local"}, "updated_ms": 1.0}
                       for i, c in enumerate(contents)],
            "published": None, "created_by": {"id": "local", "label": "local"},
            "updated_by": {"id": "local", "label": "local"}, "created_ms": 1.0,
            "updated_ms": 1.0}


def sample_report():
    return wr.Report(project="p", title="T", blocks=[
        wr.H1("A"), wr.P("text"),
        wr.PanelGrid(runsets=[wr.Runset(filters="Config('lr') < 0.01", groupby="config.opt",
                                        order=[wr.OrderBy("summary.acc", ascending=True)],
                                        runs=["x"], limit=3)],
                     panels=[wr.LinePlot(x="Wall Time", y=["loss"], smoothing_factor=4,
                                         smoothing_type="average", log_x=True,
                                         groupby="config.opt", groupby_rangefunc="none",
                                         groupby_aggfunc="median", wide=True),
                             wr.LinePlot(x="epoch", y=["acc"], smoothing_factor=0.2,
                                         smoothing_type="gaussian"),
                             wr.RunsTable(columns=["name"]), wr.RunComparer(keys=["config.lr"]),
                             wr.RunComparer()]),
        wr.MarkdownBlock("end"),
    ])


def test_a_report_read_back_makes_the_same_blocks():
    contents = sample_report().contents()
    back = _reports.from_wire(wire_report(contents))
    assert back.contents() == contents
    assert back.id == "r1" and back.title == "T" and back.published_rev is None
    assert [type(b) for b in back.blocks] == [wr.MarkdownBlock, wr.PanelGrid, wr.MarkdownBlock]
    plot = back.blocks[1].panels[0]
    assert (plot.x, plot.y, plot.smoothing_type, plot.smoothing_factor, plot.wide) == (
        "Wall Time", ["loss"], "average", 4, True)


def test_a_second_save_sends_only_the_changes():
    saved = [["b0", 1, {"kind": "markdown", "text": "a"}], ["b1", 2, grid([])],
             ["b2", 1, {"kind": "markdown", "text": "c"}], ["b3", 1, grid([line("x")])]]
    new = [{"kind": "markdown", "text": "a"}, grid([line("loss")]),
           {"kind": "markdown", "text": "inserted"}, {"kind": "markdown", "text": "c"}]
    ops, plan = _reports._plan("r", saved, new)
    kinds = [(o["kind"], o.get("block") if isinstance(o.get("block"), str) else None,
              o.get("base_rev"), o.get("after")) for o in ops]
    added = plan[2][0]
    assert kinds == [("block_set", "b1", 2, None), ("block_add", None, None, "b1"),
                     ("block_delete", "b3", None, None)]
    assert [(bid, how) for bid, how, _ in plan] == [
        ("b0", "keep"), ("b1", "set"), (added, "add"), ("b2", "keep")]
    assert ops[1]["block"] == {"id": added, "content": {"kind": "markdown", "text": "inserted"}}
    assert _reports._plan("r", saved, [c for _, _, c in saved]) == (
        [], [(b, "keep", c) for b, _, c in saved])
    ops, _ = _reports._plan("r", [], new[:1])
    assert ops[0]["after"] is None


# -- where the daemon is ---------------------------------------------------------------------------
def test_the_daemon_is_found_like_the_client_finds_it(tmp_path, monkeypatch):
    root = tmp_path / "root"
    found = _reports_http.locate()
    assert found.url == "http://127.0.0.1:8765" and found.token is None
    assert "no daemon has served %s" % root in found.found
    (root / ".trackline").mkdir(parents=True)
    (root / ".trackline" / "daemon.lock").write_text(json.dumps(
        {"pid": 1, "url": "http://127.0.0.1:9999", "public_urls": ["https://x.example"]}))
    assert _reports_http.locate().url == "http://127.0.0.1:9999"
    assert _reports_http.locate().token is None
    (root / ".trackline" / "owner-token").write_text("tl_owner\n")
    assert _reports_http.locate().token == "tl_owner"
    assert _reports_http.locate(api_key="tl_mine").token == "tl_mine"
    monkeypatch.setenv("TRACKLINE_URL", "http://remote:1/")
    assert (_reports_http.locate().url, _reports_http.locate().token) == ("http://remote:1", None)
    assert _reports_http.locate(url="http://given:2").url == "http://given:2"


def test_report_urls_are_parsed():
    daemon, project, rid = _reports._parse_report_url(
        "https://x.example/team/projects/my%20p/reports/abc#t=tl_tok", None)
    assert (daemon.url, daemon.token, project, rid) == ("https://x.example/team", "tl_tok",
                                                         "my p", "abc")
    daemon, project, rid = _reports._parse_report_url("http://h:1/reports/abc", "k")
    assert (daemon.url, daemon.token, project, rid) == ("http://h:1", "k", None, "abc")
    with pytest.raises(UsageError, match="not a report's URL"):
        _reports._parse_report_url("http://h:1/projects/p", None)


def test_no_daemon_is_a_clear_error_naming_the_url(monkeypatch):
    monkeypatch.setattr(_reports_http, "CONNECT_RETRIES", (0.0,))
    report = wr.Report(project="p", title="T", url="http://127.0.0.1:9", blocks=[wr.P("x")])
    with pytest.raises(trackline.CommError, match=r"cannot reach a trackline daemon at "
                                                  r"http://127\.0\.0\.1:9 .*nothing was sent"):
        report.save()
    assert report.id == ""


class _Answers(http.server.BaseHTTPRequestHandler):
    """Answers 503 with Retry-After once, then what the test put in ``answers``."""
    answers = []
    seen = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append((self.headers.get("Authorization"), body))
        status, payload = type(self).answers.pop(0)
        data = json.dumps(payload).encode()
        self.send_response(status)
        if status == 503:
            self.send_header("Retry-After", "1")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_a_busy_daemon_is_waited_out_with_the_same_op_id():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = "http://127.0.0.1:%d" % server.server_address[1]
        event = {"change": wire_report([{"kind": "markdown", "text": "x"}], "ignored")}
        _Answers.answers[:] = [(503, {"error": {"code": "busy", "message": "later"}}),
                               (200, {"outcome": "committed", "event": event})]
        _Answers.seen[:] = []
        report = wr.Report(project="p", title="T", blocks=[wr.P("x")], url=url, api_key="tl_k")
        report.save(draft=True)
        (auth1, first), (auth2, second) = _Answers.seen
        assert first == second and auth1 == auth2 == "Bearer tl_k"
        assert first["op"]["kind"] == "report_create" and first["op"]["report"] == report.id
        assert report.url == "%s/projects/p/reports/%s" % (url, report.id)
        _Answers.answers[:] = [(403, {"error": {"code": "forbidden", "message": "owners only"}})]
        with pytest.raises(trackline.CommError, match="HTTP 403 forbidden: owners only"):
            wr.Report(project="p", title="T", url=url).save(draft=True)
    finally:
        server.shutdown()
        server.server_close()


# -- W&B's own names -------------------------------------------------------------------------------
WR_PYTHON = os.environ.get("TRACKLINE_WR_PYTHON")

#: The W&B arguments each class takes here (ours, such as RunsTable, are left out).
WANDB_ARGS = {
    "Report": ["project", "entity", "title", "description", "blocks", "width"],
    "H1": ["text", "collapsed_blocks"], "H2": ["text", "collapsed_blocks"],
    "H3": ["text", "collapsed_blocks"], "P": ["text"], "MarkdownBlock": ["text"],
    "TableOfContents": [], "Layout": ["x", "y", "w", "h"], "OrderBy": ["name", "ascending"],
    "Link": ["text", "url"], "InlineCode": ["text"], "RunComparer": ["diff_only", "layout"],
    "PanelGrid": ["runsets", "hide_run_sets", "panels", "active_runset", "custom_run_colors"],
    "Runset": ["entity", "project", "name", "query", "filters", "groupby", "order",
               "custom_run_colors", "run_settings", "pinned_columns", "visible_columns",
               "hidden_columns", "column_order", "column_widths", "lock_columns"],
    "LinePlot": [f for f in wr.LinePlot._fields if f != "wide"],
    "Config": ["name"], "SummaryMetric": ["name"], "Metric": ["name"],
}


def test_our_wandb_arguments_are_accepted_here_in_the_same_order():
    import inspect

    for name, args in WANDB_ARGS.items():
        params = [p for p in inspect.signature(getattr(wr, name)).parameters.values()]
        positional = [p.name for p in params if p.kind == p.POSITIONAL_OR_KEYWORD]
        keyword = [p.name for p in params if p.kind == p.KEYWORD_ONLY]
        wandb_positional = [a for a in args if a != "layout"]
        assert positional == wandb_positional, name
        assert ("layout" in args) == ("layout" in keyword), name


def _wandb_signatures():
    code = ("import inspect, json, wandb_workspaces.reports.v2 as wr\n"
            "print(json.dumps({n: list(inspect.signature(getattr(wr, n)).parameters) "
            "for n in %r}))" % sorted(WANDB_ARGS))
    python = WR_PYTHON or sys.executable
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_argument_names_are_those_wandb_workspaces_accepts():
    """Run with the real package: `python -m venv v && v/bin/pip install wandb-workspaces` and
    TRACKLINE_WR_PYTHON=v/bin/python (never a dependency of trackline)."""
    wandb = _wandb_signatures()
    if wandb is None:
        pytest.skip("wandb-workspaces is not installed (set TRACKLINE_WR_PYTHON to a Python "
                    "that has it)")
    for name, args in WANDB_ARGS.items():
        assert wandb[name] == args, (name, wandb[name])


# -- end to end, against the daemon ----------------------------------------------------------------
needs_daemon = pytest.mark.skipif(
    not os.access(BIN, os.X_OK),
    reason="daemon binary %s not found: build it with `TRACKLINE_SKIP_WEB=1 cargo build -p "
           "trackline` or set TRACKLINE_BIN" % BIN,
)


def serve(tmp_path, *args):
    """Three runs in project "p" (lr 0.001, 0.005, 0.1) and a daemon serving their data dir
    (``$TRACKLINE_DIR``): (root, url, process)."""
    root = str(tmp_path / "root")
    for lr in (0.001, 0.005, 0.1):
        trackline.init(project="p", config={"lr": lr})
        for step in range(3):
            trackline.log({"loss": lr * (3 - step), "acc": step / 3})
        trackline.finish()
    env = dict(os.environ, TRACKLINE_LOG="warn")
    proc = subprocess.Popen([BIN, "serve", "--dir", root, "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    match = re.search(r"at (http://127\.0\.0\.1:\d+)/", proc.stdout.readline())
    assert match
    url = match.group(1)
    return root, url, proc


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=10)
    proc.stdout.close()


@pytest.fixture
def served(tmp_path):
    root, url, proc = serve(tmp_path)
    try:
        assert wait_for(lambda: len(trackline.Api(url=url).runs("p")) == 3, 20)
        yield root, url
    finally:
        stop(proc)


def get(url, path, token=None):
    headers = {"Authorization": "Bearer " + token} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url + path, headers=headers),
                                timeout=10) as resp:
        return json.loads(resp.read())


def stored(url, report_id):
    return get(url, "/api/projects/p/reports/%s" % report_id)["report"]


def contents(report):
    return [b["content"] for b in report["blocks"]]


def sweep_report(**kwargs):
    return wr.Report(project="p", title="Sweep", description="the best runs", blocks=[
        wr.H1("Loss"), wr.P("small learning rates win"),
        wr.PanelGrid(runsets=[wr.Runset(filters="Config('lr') < 0.01",
                                        order=[wr.OrderBy("summary.loss", ascending=True)],
                                        limit=2)],
                     panels=[wr.LinePlot(y=["loss", "acc"], smoothing_factor=0.6),
                             wr.RunsTable(columns=["name", "config.lr"]), wr.RunComparer()]),
        wr.MarkdownBlock("the end"),
    ], **kwargs)


@needs_daemon
def test_save_creates_the_report_with_one_op_and_it_reads_back(served):
    root, url = served
    report = sweep_report(url=url)
    assert report.save(draft=True) is report
    assert report.url == "%s/projects/p/reports/%s" % (url, report.id)
    saved = stored(url, report.id)
    assert saved["title"] == "Sweep" and saved["published"] is None
    assert contents(saved) == report.contents()
    assert len(saved["blocks"]) == 3
    assert get(url, "/api/projects/p/annotations")["seq"] == 1  # one op
    [listed] = trackline.Api(url=url).reports("p")
    assert (listed.id, listed.title, listed.contents()) == (report.id, "Sweep", report.contents())
    assert trackline.Api(root=root).reports("p")[0].id == report.id  # the data dir's daemon
    back = wr.Report.from_url(report.url)
    assert back.contents() == report.contents()
    by_id = wr.Report.from_url("%s/reports/%s" % (url, report.id))  # GET /api/reports/{id}
    assert (by_id.project, by_id.contents()) == ("p", report.contents())
    back.blocks.append(wr.P("added after reading"))  # a report read back saves as an edit
    back.save(draft=True)  # the paragraph merges into the markdown block before it
    after = stored(url, report.id)["blocks"]
    assert after[-1]["content"] == {"kind": "markdown", "text": "the end\n\nadded after reading"}
    assert after[-1]["rev"] == 2 and len(after) == 3
    assert trackline.Api(url=url).reports("nothing") == []


@needs_daemon
def test_an_op_whose_answer_was_lost_is_sent_again_and_applied_once(served, monkeypatch):
    root, url = served
    real, sent = _reports_http._open, []

    def lose_the_first_answer(request, timeout):
        sent.append((request.get_method(), request.data))
        resp = real(request, timeout)
        if len(sent) == 1:
            resp.read()
            resp.close()
            raise ConnectionResetError("the answer was lost")
        return resp

    monkeypatch.setattr(_reports_http, "_open", lose_the_first_answer)
    report = sweep_report(url=url).save(draft=True)
    assert len(sent) == 2 and sent[0] == sent[1]  # the same op id, sent again
    assert [r.id for r in trackline.Api(url=url).reports("p")] == [report.id]
    assert get(url, "/api/projects/p/annotations")["seq"] == 1


@needs_daemon
def test_a_second_save_edits_the_blocks_that_changed(served):
    root, url = served
    report = sweep_report(url=url).save(draft=True)
    before = stored(url, report.id)["blocks"]
    report.title = "Sweep, revised"
    report.blocks[-1] = wr.MarkdownBlock("a new end")
    report.blocks.append(wr.PanelGrid(panels=[wr.LinePlot(x="Wall Time", y=["acc"])]))
    report.save(draft=True)
    after = stored(url, report.id)
    assert after["title"] == "Sweep, revised" and after["title_rev"] == 2
    assert contents(after) == report.contents() and len(after["blocks"]) == 4
    assert [b["id"] for b in after["blocks"][:3]] == [b["id"] for b in before]  # kept, then set
    assert [b["rev"] for b in after["blocks"]] == [1, 1, 2, 1]
    assert get(url, "/api/projects/p/annotations")["seq"] == 4  # create, title, set, add
    report.save(draft=True)  # nothing changed: nothing sent
    assert get(url, "/api/projects/p/annotations")["seq"] == 4
    del report.blocks[2]  # the grid: the markdown around it merges into one block
    report.save(draft=True)
    assert contents(stored(url, report.id)) == report.contents()
    assert len(report.contents()) == 2


@needs_daemon
def test_a_save_over_someone_elses_edit_is_refused_naming_them(served):
    root, url = served
    report = sweep_report(url=url).save()
    first = stored(url, report.id)["blocks"][0]
    body = json.dumps({"client_id": "tab", "op_id": "1", "op": {
        "kind": "block_set", "report": report.id, "block": first["id"],
        "content": {"kind": "markdown", "text": "their words"}, "base_rev": 1}}).encode()
    request = urllib.request.Request(url + "/api/projects/p/annotations/ops", data=body,
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert json.loads(resp.read())["outcome"] == "committed"
    report.blocks[0] = wr.H1("my words")
    with pytest.raises(wr.ReportConflict, match="block %s was edited by local.*Nothing was saved"
                       % first["id"]):
        report.save()
    assert contents(stored(url, report.id))[0] == {"kind": "markdown", "text": "their words"}
    report.blocks[0] = wr.H1("Loss")  # leave their block alone: the rest saves
    report.blocks[-1] = wr.MarkdownBlock("mine")
    report.save()
    saved = contents(stored(url, report.id))
    assert saved[0]["text"] == "their words" and saved[-1]["text"] == "mine"


@needs_daemon
def test_save_publishes_like_wandb_and_a_draft_save_does_not(served):
    root, url = served
    report = sweep_report(url=url).save(draft=True)
    assert stored(url, report.id)["published"] is None and report.published_rev is None
    report.save()  # nothing changed, but never published: publish only
    assert report.published_rev == 1
    assert get(url, "/api/projects/p/annotations")["seq"] == 2
    report.save()  # the published copy is the draft: nothing sent
    assert get(url, "/api/projects/p/annotations")["seq"] == 2
    report.blocks[-1] = wr.MarkdownBlock("changed")
    report.save()  # block_set, then publish
    assert report.published_rev == 2
    saved = stored(url, report.id)
    assert [b["content"] for b in saved["published"]["blocks"]] == report.contents()
    assert get(url, "/api/projects/p/annotations")["seq"] == 4


@needs_daemon
def test_publish_copies_the_draft(served):
    root, url = served
    report = sweep_report(url=url)
    report.publish()
    assert report.published_rev == 1
    saved = stored(url, report.id)
    assert saved["published"]["rev"] == 1 and saved["published"]["title"] == "Sweep"
    assert [b["content"] for b in saved["published"]["blocks"]] == report.contents()
    assert wr.Report.from_url(report.url).published_rev == 1


@needs_daemon
def test_a_wandb_script_with_one_import_changed(served, tmp_path):
    root, url = served
    out = run_script(tmp_path, """
        import trackline.reports as wr

        report = wr.Report(
            project="p", entity="me", title="From a script",
            description="Made at the end of a sweep.",
            blocks=[
                wr.H1("Loss curves"),
                wr.P("Runs with a small learning rate."),
                wr.TableOfContents(),
                wr.PanelGrid(
                    runsets=[wr.Runset(entity="me", project="p",
                                       filters="Config('lr') < 0.01 and State == 'finished'")],
                    panels=[wr.LinePlot(x="Step", y=["loss", "acc"], smoothing_factor=0.8),
                            wr.RunComparer(diff_only="split")],
                ),
            ],
        ).save()
        print(report.url)
    """)  # no url: the daemon the data dir's lock file names
    assert out.returncode == 0, out.stderr
    printed = out.stdout.strip()
    [report] = trackline.Api(url=url).reports("p")
    assert printed == "%s/projects/p/reports/%s" % (url, report.id)
    assert "Saved report to: " + printed in out.stderr
    [text, panels] = report.contents()
    assert text["text"] == "Made at the end of a sweep.\n\n# Loss curves\n\n" \
        "Runs with a small learning rate."
    assert panels["runset"] == {"filter": 'config.lr < 0.01 and state == "finished"'}
    assert [p.get("key", p["kind"]) for p in panels["panels"]] == ["loss", "acc", "compare"]


@needs_daemon
def test_a_shared_daemon_takes_the_data_dirs_owner_token(tmp_path):
    root, url, proc = serve(tmp_path, "--public-url", "https://team.example")
    try:
        assert "owner link" in proc.stdout.readline()  # the owner token is written by now
        report = sweep_report().save(draft=True)  # found through the lock file, with the owner token
        assert report.url.startswith(url)
        viewer = subprocess.run(
            [BIN, "share", "--scope", "viewer", "--label", "vera", "--dir", root],
            capture_output=True, text=True, check=True,
            env=dict(os.environ, TRACKLINE_LOG="warn")).stdout
        token = re.search(r"#t=(\S+)", viewer).group(1)
        with pytest.raises(trackline.CommError, match="HTTP 403"):
            sweep_report(url=url, api_key=token).save()
        assert trackline.Api(url=url, api_key=token).reports("p") == []  # drafts are hidden
        report.publish()
        [seen] = trackline.Api(url=url, api_key=token).reports("p")
        assert seen.contents() == report.contents()
    finally:
        stop(proc)
