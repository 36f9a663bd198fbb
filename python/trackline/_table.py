"""``trackline.Table`` (W&B's ``wandb.Table``) and how a logged table is written.

A logged table becomes ``media/table/<key>_<step>_<sha256[:20]>.table.json``, written as W&B writes
it (``{"columns":[...],"data":[[...],...]}``: compact, UTF-8, ``NaN``/``Infinity`` literals), and the
history row holds ``{"_type": "table-file", "path", "sha256", "size", "ncols", "nrows",
"log_mode"}``. A table with ``log_mode="INCREMENTAL"`` writes only the rows added since its last
log, as ``incremental-table-file`` with ``increment_num`` and ``previous_increments_paths``.
Media in cells (images, audio, ...) are written through the run's :class:`MediaWriter` and the
cell holds their whole reference object (a Trackline extension: W&B's run file holds the class
name and keeps the media in an artifact). Layout in docs/format.md, "Tables"."""

import datetime
import enum
import json
import numbers
import os
import re
import sys
from collections.abc import Mapping

from ._errors import Error, warn
from ._media_base import Media

LOG_MODES = ("IMMUTABLE", "MUTABLE", "INCREMENTAL")

#: Kind of a column whose type is not known yet.
_UNKNOWN = None
#: Kind of a column that accepts anything (``allow_mixed_types=True``).
_ANY = "any"
#: Kind of a non-optional column that has seen only None so far (W&B's NoneType).
_NONE = "none"


class _TableIndex(int):
    """A row index of a table (W&B's ``_TableIndex``): ``get_row()`` gives the row as a dict."""

    _table = None

    def get_row(self):
        table = self._table
        if table is None:
            return {}
        return dict(zip(table.columns, table.data[self]))


class Table(Media):
    """A table to log (W&B's ``wandb.Table``).

    ``Table(columns=None, data=None, rows=None, dataframe=None, dtype=None, optional=True,
    allow_mixed_types=False, log_mode="IMMUTABLE")``: ``data`` is a list of rows, a 2-D numpy
    array or a pandas DataFrame; ``dataframe`` a DataFrame (its columns replace ``columns``);
    ``rows`` the legacy name of ``data``. Columns are strings or integers; they default to W&B's
    ``["Input", "Output", "Expected"]`` -- or, where the rows are not three wide, ``"0"``,
    ``"1"``, ... (W&B refuses such rows).

    Each column gets a type from ``dtype`` (a type, an example value, or a list of them, one per
    column) or from its first value: number, string, boolean, list, dict, timestamp or a media
    class. A row whose value does not fit raises TypeError, as in W&B, unless
    ``allow_mixed_types``; None (and a float NaN) fits where the column is ``optional``.

    ``log_mode``: ``"IMMUTABLE"`` (logging again after a change logs the first version, with a
    warning), ``"MUTABLE"`` (each log after a change writes the table again), ``"INCREMENTAL"``
    (each log writes only the rows added since the previous one)."""

    #: W&B's row cap of the file it writes into a run; W&B's own viewer reads the table from its
    #: artifact instead, which holds up to MAX_ARTIFACT_ROWS.
    MAX_ROWS = 10000
    #: Most rows written into a table file (W&B's cap for the copy its viewer reads).
    MAX_ARTIFACT_ROWS = 200000

    def __init__(self, columns=None, data=None, rows=None, dataframe=None, dtype=None,
                 optional=True, allow_mixed_types=False, log_mode="IMMUTABLE"):
        if log_mode not in LOG_MODES:
            raise ValueError("Invalid log_mode: %r. Must be one of %s" % (log_mode, list(LOG_MODES)))
        self.log_mode = log_mode
        self._logged = None  # (writer, ref) of the last log
        self._warned_immutable = False
        self._increment_num = None
        self._last_logged_idx = None
        self._previous_increments_paths = None
        self._increment_writer = None
        if dataframe is None and _is_dataframe(data):
            dataframe, data = data, None
        if dataframe is not None:
            columns = list(dataframe.columns)
            data = _dataframe_rows(dataframe)
        elif data is None:
            data = rows
        if data is not None and not isinstance(data, list):
            if hasattr(data, "tolist") and hasattr(data, "shape"):
                data = data.tolist()
            else:
                data = list(data)
        data = data or []
        if columns is None:
            width = len(data[0]) if data else 3
            columns = (["Input", "Output", "Expected"] if width == 3
                       else [str(i) for i in range(width)])
        if hasattr(columns, "tolist") and not isinstance(columns, list):
            columns = columns.tolist()
        columns = list(columns)
        for column in columns:
            if type(column) not in (str, int):
                raise TypeError("Table columns must be strings or ints, not %s"
                                % type(column).__name__)
        self.columns = columns
        self.data = []
        if allow_mixed_types:
            dtype = _ANY_DTYPE
        self._kinds = [_kind_from_dtype(d) for d in self._per_column(dtype)]
        self._optional = [bool(o) for o in self._per_column(optional)]
        if len(self._kinds) != len(columns) or len(self._optional) != len(columns):
            raise ValueError("Table: dtype and optional need one entry per column")
        for row in data:
            self._append(list(row))

    def _per_column(self, value):
        return list(value) if isinstance(value, list) else [value] * len(self.columns)

    # -- rows and columns ----------------------------------------------------------------------
    def add_data(self, *data):
        """Append a row (one value per column); raises TypeError where a value does not fit its
        column's type."""
        self._before_mutation()
        self._append(list(data))
        self._after_append()

    def add_row(self, *row):
        """Deprecated in W&B: use :meth:`add_data`."""
        self.add_data(*row)

    def _append(self, row):
        if len(row) != len(self.columns):
            raise ValueError("This table expects %d columns: %s, found %d"
                             % (len(self.columns), self.columns, len(row)))
        kinds = list(self._kinds)
        problems = []
        for i, value in enumerate(row):
            kind = _assign(kinds[i], self._optional[i], value)
            if kind is False:
                problems.append("column %r is %s, got %s %s"
                                % (self.columns[i], _kind_name(kinds[i]), _kind_name(_kind_of(value)),
                                   _short(value)))
            else:
                kinds[i] = kind
        if problems:
            raise TypeError("Data row contained incompatible types:\n" + "\n".join(problems))
        self._kinds = kinds
        self.data.append(row)

    def add_column(self, name, data, optional=False):
        """Append a column ``name`` (a new string) with one value per row; its values must be of
        one type (None only where ``optional``)."""
        if self.log_mode == "INCREMENTAL":
            raise Error("Operation 'add_column' is not supported for tables with "
                        "log_mode='INCREMENTAL'. Use a different log mode like 'MUTABLE' or "
                        "'IMMUTABLE'.")
        if not isinstance(name, str) or name in self.columns:
            raise ValueError("Table.add_column: the name must be a new string, not %r" % (name,))
        if hasattr(data, "tolist") and hasattr(data, "shape"):
            data = list(data)
        if not isinstance(data, (list, tuple)):
            raise TypeError("Table.add_column takes a list or a numpy array, not %s"
                            % type(data).__name__)
        first = not self.columns
        if not first and len(data) != len(self.data):
            raise ValueError("Expected length %d, found %d" % (len(self.data), len(data)))
        kind = _UNKNOWN
        for value in data:
            kind = _assign(kind, bool(optional), value)
            if kind is False:
                raise TypeError("Table.add_column(%r): its values are not of one type (%s)"
                                % (name, _short(value)))
        self._before_mutation()
        if first:
            self.data = [[] for _ in data]
        for row, value in zip(self.data, data):
            row.append(value)
        self.columns.append(name)
        self._kinds.append(kind)
        self._optional.append(bool(optional))

    def add_computed_columns(self, fn):
        """Add the columns ``fn(index, row_dict) -> {name: value}`` computes for every row."""
        new_columns = {}
        for ndx, row in self.iterrows():
            computed = fn(ndx, dict(zip(self.columns, row)))
            if not isinstance(computed, dict):
                raise TypeError("add_computed_columns: fn must return a dict")
            for key, value in computed.items():
                new_columns.setdefault(key, []).append(value)
        for name, values in new_columns.items():
            self.add_column(name, values)

    def cast(self, col_name, dtype, optional=False):
        """Give column ``col_name`` the type ``dtype`` (a type or an example value); raises
        TypeError when an existing value does not fit."""
        if col_name not in self.columns:
            raise ValueError("Table.cast: no column %r" % (col_name,))
        i = self.columns.index(col_name)
        kind = _kind_from_dtype(dtype)
        for row in self.data:
            assigned = _assign(kind, bool(optional), row[i])
            if assigned is False:
                raise TypeError("Existing data %s, of type %s cannot be cast to %s"
                                % (_short(row[i]), _kind_name(_kind_of(row[i])), _kind_name(kind)))
            kind = assigned
        self._before_mutation()
        self._kinds[i] = kind
        self._optional[i] = bool(optional)
        return _kind_name(kind)

    def get_column(self, name, convert_to=None):
        """The values of column ``name``; ``convert_to="numpy"`` gives a numpy array."""
        if name not in self.columns:
            raise ValueError("Table.get_column: no column %r" % (name,))
        if convert_to not in (None, "numpy"):
            raise ValueError("Table.get_column(convert_to=%r): use None or 'numpy'" % (convert_to,))
        i = self.columns.index(name)
        column = [row[i] for row in self.data]
        if convert_to == "numpy":
            import numpy

            return numpy.array(column)
        return column

    def get_index(self):
        """The row indexes, for linking rows from other tables."""
        return [self.index_ref(i) for i in range(len(self.data))]

    def index_ref(self, index):
        if not 0 <= index < len(self.data):
            raise IndexError("Table.index_ref: no row %d" % index)
        ref = _TableIndex(index)
        ref._table = self
        return ref

    def iterrows(self):
        """Yield ``(index, row)`` for every row."""
        for i in range(len(self.data)):
            yield self.index_ref(i), self.data[i]

    def get_dataframe(self):
        """The table as a pandas DataFrame."""
        import pandas

        return pandas.DataFrame.from_records(self.data, columns=self.columns)

    def __eq__(self, other):
        return (isinstance(other, Table) and self.columns == other.columns
                and self.data == other.data)

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = Media.__hash__

    def __repr__(self):
        return "<trackline.Table %d columns × %d rows>" % (len(self.columns), len(self.data))

    # -- logging -------------------------------------------------------------------------------
    def _before_mutation(self):
        if self.log_mode == "MUTABLE":
            self._logged = None
        elif self.log_mode == "IMMUTABLE" and self._logged is not None and not self._warned_immutable:
            self._warned_immutable = True
            _warn_user("You are mutating a Table with log_mode='IMMUTABLE' that has been logged "
                       "already. Subsequent log() calls will have no effect. Set log_mode='MUTABLE' "
                       "to enable re-logging after mutations")

    def _after_append(self):
        """INCREMENTAL: a row added after a log starts the next increment."""
        if self.log_mode != "INCREMENTAL" or self._logged is None:
            return
        self._previous_increments_paths.append(self._logged[1]["path"])
        self._logged = None
        self._increment_num += 1
        if self._increment_num == 100:
            _warn_user("You have exceeded 100 increments for this table. Only the latest 100 "
                       "increments will be visualized in the run workspace.")

    def _trackline_ref(self, writer, key, step):
        """Write the table file through ``writer`` (a MediaWriter); return its reference."""
        logged = self._logged
        if logged is not None and logged[0] is writer:
            # Unchanged since it was logged (or IMMUTABLE): W&B refers to the same file, with the
            # table's current shape.
            return dict(logged[1], ncols=len(self.columns), nrows=len(self.data))
        cap = type(self).MAX_ARTIFACT_ROWS
        if self.log_mode == "INCREMENTAL":
            if self._increment_writer is None:
                self._increment_writer = writer
                self._increment_num = 0
                self._previous_increments_paths = []
                self._continue_resumed(writer, key)
            elif self._increment_writer is not writer:
                raise Error("An incremental Table can only be logged to one Run.")
            start = 0 if self._last_logged_idx is None else self._last_logged_idx + 1
            rows = self.data[start:start + cap]
            pending = len(self.data) - start
        else:
            rows = self.data[:cap]
            pending = len(self.data)
        if pending > cap:
            _warn_user("Truncating wandb.Table object to %d rows." % cap)
        cells = _CellWriter(writer, key, step)
        body = {"columns": self.columns, "data": rows}
        data = json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=cells)
        data = _wandb_floats(data).encode("utf-8")
        ref = {"_type": "table-file"}
        ref.update(writer.write_file("table", key, step, data, ".table.json"))
        ref.update(ncols=len(self.columns), nrows=len(self.data), log_mode=self.log_mode)
        if self.log_mode == "INCREMENTAL":
            ref["_type"] = "incremental-table-file"
            ref["increment_num"] = self._increment_num
            ref["previous_increments_paths"] = list(self._previous_increments_paths)
            self._last_logged_idx = len(self.data) - 1
        self._logged = (writer, ref)
        return dict(ref)

    def _continue_resumed(self, writer, key):
        """In a resumed run whose summary holds an incremental table under ``key``, continue its
        increments (W&B's ``_load_incremental_table_state_from_resumed_run``)."""
        summary = getattr(writer, "resumed_summary", None)
        last = summary.get(key) if summary is not None else None
        if not isinstance(last, Mapping) or last.get("_type") != "incremental-table-file":
            return
        previous = [p for p in last.get("previous_increments_paths") or () if isinstance(p, str)]
        if isinstance(last.get("path"), str):
            previous.append(last["path"])
        number = last.get("increment_num")
        self._previous_increments_paths = previous
        self._increment_num = (number if type(number) is int else len(previous) - 1) + 1


def table_from_dataframe(dataframe):
    """The Table W&B makes of a pandas DataFrame logged directly."""
    return Table(dataframe=dataframe)


# -- cell values -------------------------------------------------------------------------------------
class _CellWriter:
    """``json.dumps``'s ``default`` for table cells: what json cannot write itself becomes JSON as
    W&B's table file holds it, one level at a time (json calls back for what is nested); media
    are written through the writer and their reference objects inlined."""

    def __init__(self, writer, key, step):
        self._writer = writer
        self._key = key
        self._step = step
        self._warned = False

    def __call__(self, value):
        kind = type(value)
        if hasattr(kind, "_trackline_ref"):
            return self._writer.reference(self._key, self._step, value)
        if isinstance(value, Mapping):
            return {(k if type(k) is str else str(k)): v for k, v in value.items()}
        if isinstance(value, (set, frozenset)):
            return list(value)
        if isinstance(value, enum.Enum):
            return value.name
        if isinstance(value, (datetime.date, datetime.time)):
            return value.isoformat()
        if isinstance(value, bytes):
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                return self._skip(value)
        if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
            value = value.detach().cpu().numpy()
        tolist = getattr(value, "tolist", None)
        if callable(tolist):  # numpy arrays and scalars
            converted = tolist()
            return self._skip(value) if type(converted) is kind else converted
        if callable(value):
            return "%s.%s" % (getattr(value, "__module__", ""), getattr(value, "__qualname__", ""))
        return self._skip(value)

    def _skip(self, value):
        if not self._warned:
            self._warned = True
            _warn_user("table %r: a cell holds a %s, which has no JSON form; it is logged as null"
                       % (self._key, type(value).__name__))
        return None


def _warn_user(message):
    """Warn, attributed to the first frame outside trackline (and json): the script's line."""
    here = os.path.dirname(os.path.abspath(__file__)) + os.sep
    json_dir = os.path.dirname(os.path.abspath(json.__file__)) + os.sep
    frame, level = sys._getframe(1), 1
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if not (path.startswith(here) or path.startswith(json_dir)):
            break
        frame, level = frame.f_back, level + 1
    warn(message, level + 1)


# -- column types ------------------------------------------------------------------------------------
_ANY_DTYPE = object()


#: Kinds of the plain cell types (a float NaN is None, checked apart).
_PLAIN_KINDS = {str: "string", int: "number", float: "number", bool: "boolean", type(None): None}


def _kind_of(value):
    """W&B's type of a cell value, by name (None for None and a float NaN)."""
    kind = _PLAIN_KINDS.get(value.__class__, False)
    if kind is not False:
        return None if kind == "number" and value != value else kind
    if isinstance(value, bool) or type(value).__name__ in ("bool_", "bool"):
        return "boolean"
    if isinstance(value, str):
        return "string"
    if isinstance(value, numbers.Number):
        return "number"
    if hasattr(type(value), "_trackline_ref"):
        return type(value).__name__
    if isinstance(value, Mapping):
        return "dict"
    if isinstance(value, (list, tuple)) or (hasattr(value, "shape") and hasattr(value, "tolist")):
        return "list"
    if isinstance(value, (datetime.date, datetime.time)):
        return "timestamp"
    return "object:%s" % type(value).__name__


def _kind_from_dtype(dtype):
    if dtype is None:
        return _UNKNOWN
    if dtype is _ANY_DTYPE:
        return _ANY
    if isinstance(dtype, type):
        if issubclass(dtype, bool):
            return "boolean"
        if issubclass(dtype, str):
            return "string"
        if issubclass(dtype, numbers.Number):
            return "number"
        if hasattr(dtype, "_trackline_ref"):
            return dtype.__name__
        if issubclass(dtype, Mapping):
            return "dict"
        if issubclass(dtype, (list, tuple)):
            return "list"
        if issubclass(dtype, (datetime.date, datetime.time)):
            return "timestamp"
        return "object:%s" % dtype.__name__
    return _kind_of(dtype)  # an example value


def _assign(kind, optional, value):
    """The column kind after taking ``value``, or False when it does not fit."""
    if kind == _ANY:
        return kind
    got = _kind_of(value)
    if got is None:
        if optional:
            return kind
        return _NONE if kind in (_UNKNOWN, _NONE) else False
    if kind is _UNKNOWN or kind == got:
        return got
    return False


def _kind_name(kind):
    return {None: "unknown", _NONE: "None"}.get(kind, kind)


def _short(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_dataframe(value):
    kind = type(value)
    module = kind.__module__ or ""
    return kind.__name__ == "DataFrame" and (module == "pandas" or module.startswith("pandas."))


def _dataframe_rows(dataframe):
    columns = [dataframe.iloc[:, i].tolist() for i in range(dataframe.shape[1])]
    return [list(row) for row in zip(*columns)] if columns else [[] for _ in range(len(dataframe))]


#: A JSON string (left alone) or a number in exponent notation as Python writes it.
_EXPONENT_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|(-?)(\d)(?:\.(\d+))?e([-+])(\d+)')


def _wandb_float(match):
    sign, lead, frac, esign, exp = match.groups()
    if lead is None:
        return match.group(0)
    exp = int(exp)
    if esign == "-" and exp <= 5:  # 1.5e-05 -> 0.000015
        return "%s0.%s%s%s" % (sign, "0" * (exp - 1), lead, frac or "")
    return "%s%s%se%s%d" % (sign, lead, "." + frac if frac else "", esign if esign == "-" else "+",
                            exp)


def _wandb_floats(text):
    """Python's JSON text with floats written as W&B 0.31 writes a table (pydantic-core's
    serializer): ``0.000015`` for ``1.5e-05``, ``6.3e-6`` for ``6.3e-06``, ``1e+16`` kept; so
    a logged table has W&B's bytes, and its file W&B's name."""
    if "e" not in text:
        return text
    return _EXPONENT_TOKEN.sub(_wandb_float, text)
