"""Run-set filters and column names for reports: W&B's report syntax translated to the runs
table's filter language (``config.lr < 0.01 and state == "finished"``, docs/frontend.md), which
is also accepted as it is.

W&B (``wandb_workspaces.reports.v2.Runset(filters=...)``) writes a filter as a Python-like string:
``Config('lr') < 0.01 and Metric('State') == 'finished'``, ``SummaryMetric('acc') >= 0.9``,
``Tags() in ['a', 'b']``, bare attributes (``State == 'finished'``), ``=`` for ``==``, ``in`` and
``not in``, ``and``/``or`` and parentheses. What maps onto our language is translated; what does
not (``within_last``, ``KeysInfo``, attributes we do not have such as ``User`` or ``Sweep``, a
chained comparison) raises :class:`~trackline.UsageError` naming it: a filter is never dropped.

One difference on purpose: W&B turns ``<`` into ``<=`` and ``>`` into ``>=`` ("for platform
consistency", with a warning); here ``<`` stays ``<``.

Column names (sort keys, grouping, runs-table columns) are the runs table's column ids:
``config.<key>``, ``summary.<key>`` and the run fields ``name state created runtime tags group
notes id host job_type``; W&B's spellings (``Config("lr")``, ``SummaryMetric("acc")``,
``"CreatedTimestamp"``, ``"config:lr.value"``, ``"summary:acc"``, ``"run:state"``) map onto them.
"""

import ast
import math
import re
from datetime import datetime, timezone

from ._errors import UsageError

#: The runs table's run fields (column ids other than config.* and summary.*).
RUN_FIELDS = ("name", "state", "created", "runtime", "tags", "group", "notes", "id", "host",
              "job_type")

#: W&B's names of run attributes (user-facing and backend) -> our column id; None: we have none.
WANDB_RUN_FIELDS = {
    "ID": "id", "Name": "name", "Tags": "tags", "State": "state", "CreatedTimestamp": "created",
    "Runtime": "runtime", "Group": "group", "JobType": "job_type", "Hostname": "host",
    "Notes": "notes",
    "displayName": "name", "createdAt": "created", "duration": "runtime", "jobType": "job_type",
    "User": None, "Sweep": None, "UsingArtifact": None, "OutputtingArtifact": None,
    "username": None, "sweep": None, "inputArtifacts": None, "outputArtifacts": None,
    "Step": None, "WallTime": None, "_step": None, "_timestamp": None, "_runtime": None,
    "_absolute_runtime": None,
}

_WANDB_CALLS = ("Config", "SummaryMetric", "Summary", "Metric", "Tags", "KeysInfo", "WithinLast")
_CALL = re.compile(r"\b(%s)\s*\(" % "|".join(_WANDB_CALLS))
_STRING = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")
# W&B-only bare attribute names: a filter naming one is W&B's syntax (ours would not know it).
_WANDB_ONLY_NAME = re.compile(r"(?<![\w.`])(%s)(?![\w.(])" % "|".join(
    sorted((k for k in WANDB_RUN_FIELDS if k[0].isupper() and k.lower() not in RUN_FIELDS
            and k not in ("Runtime", "Notes")), key=len, reverse=True)))
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*$")

_OPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
        ast.In: "in", ast.NotIn: "not in"}


def is_wandb_syntax(text):
    """Whether ``text`` is a W&B filter string (it calls ``Config(...)``, ``Metric(...)``, ...,
    uses ``within_last`` or names a W&B-only attribute), not one in the runs table's language."""
    bare = _STRING.sub('""', text)
    return bool(_CALL.search(bare) or re.search(r"\bwithin_last\b", bare)
                or _WANDB_ONLY_NAME.search(bare))


def run_set_filter(filters, query=""):
    """The run-set filter for W&B's ``Runset(filters=..., query=...)``: ``filters`` is a string
    (W&B's syntax or ours), a list of them (all must hold) or empty; ``query`` is W&B's search
    of run names, a regular expression here (``name =~ "..."``)."""
    if filters is None:
        filters = ""
    if isinstance(filters, str):
        parts = [filters]
    elif isinstance(filters, (list, tuple)):
        parts = list(filters)
    else:
        raise UsageError(
            "Runset(filters=%r): pass the filter as a string, e.g. \"Config('lr') < 0.01\" or "
            "\"config.lr < 0.01\" (W&B's FilterExpr objects are not supported)" % (filters,))
    out = []
    for part in parts:
        if not isinstance(part, str):
            raise UsageError("Runset(filters=[...]): every filter must be a string, not %r"
                             % (part,))
        translated = translate(part)
        if translated:
            out.append(translated)
    if query:
        if not isinstance(query, str):
            raise UsageError("Runset(query=%r): a run-name search must be a string" % (query,))
        out.append("name =~ %s" % quote(query))
    if len(out) == 1:
        return out[0]
    return " and ".join("(%s)" % p for p in out)


def translate(text):
    """``text`` in the runs table's filter language: W&B's syntax translated, ours unchanged."""
    if not text.strip():
        return ""
    if not is_wandb_syntax(text):
        return text
    if re.search(r"\bwithin_last\b|\bWithinLast\s*\(", _STRING.sub('""', text)):
        raise UsageError(
            "filter %r: 'within_last' has no equivalent (a report's run set is evaluated live, "
            "and the runs table's filter language has no relative time); compare with unix "
            "seconds instead: created >= <secs>" % (text,))
    # W&B accepts a single '=' for '=='; Python's parser does not.
    source = re.sub(r"(?<![!<>=])=(?![=~])", "==", text)
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise UsageError("filter %r is neither W&B's syntax nor ours: %s" % (text, exc.msg)) from None
    return _Translator(text).expr(tree.body)


class _Translator:
    def __init__(self, source):
        self.source = source

    def refuse(self, why):
        raise UsageError("filter %r cannot be translated: %s" % (self.source, why))

    def expr(self, node, nested=False):
        if isinstance(node, ast.BoolOp):
            word = " and " if isinstance(node.op, ast.And) else " or "
            text = word.join(self.expr(v, nested=True) for v in node.values)
            return "(%s)" % text if nested else text
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return "not (%s)" % self.expr(node.operand)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        self.refuse("%s is not a comparison" % ast.unparse(node))

    def compare(self, node):
        if len(node.ops) != 1:
            self.refuse("a chained comparison (%s); write 'a and b'" % ast.unparse(node))
        op = _OPS.get(type(node.ops[0]))
        if op is None:
            self.refuse("the operator in %s" % ast.unparse(node))
        field = self.field(node.left)
        value = self.value(node.comparators[0])
        if field == "tags":
            return self.tags(op, value, node)
        if field == "state":
            value = _lower(value)
        if field == "created":
            value = _unix_secs(value, self)
        if op in ("in", "not in"):
            if not isinstance(value, list):
                self.refuse("'%s' needs a list: %s" % (op, ast.unparse(node)))
        elif isinstance(value, list):
            self.refuse("'%s' with a list: %s" % (op, ast.unparse(node)))
        return "%s %s %s" % (column_text(field), op, literal(value))

    def tags(self, op, value, node):
        if op in ("in", "not in"):
            tags = value if isinstance(value, list) else None
        elif op in ("==", "!="):
            tags = [value]
        else:
            tags = None
        if not tags or not all(isinstance(t, str) for t in tags):
            self.refuse("tags are matched with ==, !=, in or not in and text: %s"
                        % ast.unparse(node))
        any_of = " or ".join("%s in tags" % quote(t) for t in tags)
        if op in ("!=", "not in"):
            return "not (%s)" % any_of
        return "(%s)" % any_of if len(tags) > 1 else any_of

    def field(self, node):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            kind = node.func.id
            args = node.args
            if kind == "Tags" and not args:
                return "tags"
            if (kind not in ("Config", "SummaryMetric", "Summary", "Metric") or len(args) != 1
                    or node.keywords or not isinstance(args[0], ast.Constant)
                    or not isinstance(args[0].value, str)):
                self.refuse("%s is not Config('key'), SummaryMetric('key'), Metric('Attribute') "
                            "or Tags()" % ast.unparse(node))
            name = args[0].value
            if kind == "Config":
                return "config." + _config_key(name)
            if kind in ("SummaryMetric", "Summary"):
                return "summary." + name
            return self.run_field(name)
        if isinstance(node, ast.Name):
            return self.run_field(node.id)
        self.refuse("the left side of a comparison must be a field: %s" % ast.unparse(node))

    def run_field(self, name):
        field = run_field(name)
        if field is None:
            self.refuse("the run attribute %r has no column here (columns: %s, config.<key>, "
                        "summary.<key>)" % (name, ", ".join(RUN_FIELDS)))
        return field

    def value(self, node):
        if isinstance(node, ast.Constant):
            if isinstance(node.value, (str, int, float, bool)) or node.value is None:
                return node.value
        elif isinstance(node, (ast.List, ast.Tuple)):
            out = [self.value(e) for e in node.elts]
            if any(isinstance(v, list) for v in out):
                self.refuse("a list inside a list: %s" % ast.unparse(node))
            return out
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = self.value(node.operand)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return -v if isinstance(node.op, ast.USub) else v
        elif isinstance(node, ast.BinOp):  # W&B evaluates arithmetic such as 1e-3 * 5
            left, right = self.value(node.left), self.value(node.right)
            ops = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
                   ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b,
                   ast.Pow: lambda a, b: a ** b}
            fn = ops.get(type(node.op))
            if fn and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                          for v in (left, right)):
                try:
                    return fn(left, right)
                except (ArithmeticError, ValueError):
                    pass
        elif isinstance(node, ast.Name):  # W&B reads a bare word as text: State == finished
            if node.id in ("NaN", "nan", "inf", "Infinity"):
                return float("nan") if node.id.lower() == "nan" else float("inf")
            return node.id
        self.refuse("%s is not a value (text, number, true/false, None or a list)"
                    % ast.unparse(node))


def run_field(name):
    """Our run field for a W&B attribute name or one of ours (any case); None when there is none."""
    if name in WANDB_RUN_FIELDS:
        return WANDB_RUN_FIELDS[name]
    lower = name.lower()
    if lower in RUN_FIELDS:
        return lower
    aliases = {"created_at": "created", "runtime_secs": "runtime", "job": "job_type",
               "hostname": "host", "createdtimestamp": "created", "jobtype": "job_type"}
    return aliases.get(lower)


def _config_key(name):
    """A W&B config path without its ``.value`` envelope (``lr.value`` -> ``lr``,
    ``a.value.b`` -> ``a.b``)."""
    parts = name.split(".")
    if len(parts) > 1 and parts[1] == "value":
        del parts[1]
    return ".".join(parts)


def column_id(name, what):
    """The runs table's column id for ``name``: one of ours, W&B's ``Config``/``SummaryMetric``/
    ``Metric`` objects, or a W&B string (``"config.lr"``, ``"config:lr.value"``,
    ``"summary:acc"``, ``"run:state"``, ``"CreatedTimestamp"``). ``what`` names the argument in
    errors. A bare name that is no run field is refused (say ``config.<key>`` or
    ``summary.<key>``)."""
    kind = getattr(type(name), "_trackline_metric", None)
    if kind is not None:
        name = getattr(name, "name")
        if kind == "config":
            return "config." + _config_key(name)
        if kind == "summary":
            return "summary." + name
        field = run_field(name)
        if field is None:
            raise UsageError("%s: the run attribute %r has no column here (columns: %s)"
                             % (what, name, ", ".join(RUN_FIELDS)))
        return field
    if not isinstance(name, str) or not name.strip():
        raise UsageError("%s: %r is not a column name" % (what, name))
    name = name.strip()
    section, sep, rest = name.partition(":")
    if sep and section in ("config", "summary", "run", "tags") and rest:
        if section == "config":
            return "config." + _config_key(rest)
        if section == "summary":
            return "summary." + rest
        if section == "tags":
            return "tags"
        name = rest
    if name.startswith("config.") and len(name) > 7:
        return "config." + _config_key(name[7:])
    if name.startswith("summary_metrics.") and len(name) > 16:
        return "summary." + name[16:]
    if name.startswith("summary.") and len(name) > 8:
        return name
    if name.startswith("run.") and len(name) > 4:
        name = name[4:]
    field = run_field(name)
    if field is None:
        raise UsageError("%s: %r is not a column (name a config key as 'config.%s' or a summary "
                         "metric as 'summary.%s'; run fields: %s)"
                         % (what, name, name, name, ", ".join(RUN_FIELDS)))
    return field


def group_id(name, what):
    """A group-by column id. As in W&B's line plots, a bare name that is no run attribute is a
    config key (``"lr"`` -> ``config.lr``)."""
    if isinstance(name, str):
        plain = name.strip()
        if (plain and ":" not in plain and run_field(plain) is None
                and plain not in WANDB_RUN_FIELDS
                and not plain.startswith(("config.", "summary.", "summary_metrics.", "run."))):
            return "config." + _config_key(plain)
    return column_id(name, what)


def column_text(column):
    """A column id as the filter language writes it (backticks when it needs them)."""
    if _IDENT.match(column):
        return column
    if "`" in column:
        raise UsageError("the column %r cannot be written in a filter (it contains a backtick)"
                         % (column,))
    return "`%s`" % column


def quote(text):
    """``text`` as a double-quoted string of the filter language."""
    return '"%s"' % (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
                     .replace("\t", "\\t"))


def literal(value):
    """A Python value as a literal of the filter language."""
    if isinstance(value, list):
        return "[%s]" % ", ".join(literal(v) for v in value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "inf" if value > 0 else "-1e999"
        return repr(value)
    return quote(str(value))


def _lower(value):
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, list):
        return [v.lower() if isinstance(v, str) else v for v in value]
    return value


def _unix_secs(value, translator):
    """``created`` is unix seconds here; W&B compares it with a date: ISO text becomes seconds."""
    if isinstance(value, list):
        return [_unix_secs(v, translator) for v in value]
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            translator.refuse("%r is not a date (created is compared with unix seconds or an ISO "
                              "date)" % (value,))
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return when.timestamp()
    return value
