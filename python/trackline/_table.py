"""``trackline.Table`` (W&B's ``wandb.Table``) and how a logged table is written.

A logged table becomes ``media/table/<key>_<step>_<sha256[:20]>.table.json`` and the history row
holds its ``table-file`` reference (docs/format.md, "Media references")."""

import hashlib
import json

from ._media import Histogram, Image, Media, _safe
from ._values import to_json


class Table(Media):
    """A table to log: ``Table(columns=None, data=None, rows=None, dataframe=None)``.

    ``data`` is a list of rows (or a 2-D array); ``dataframe`` a pandas DataFrame. Columns
    default to W&B's ``["Input", "Output", "Expected"]`` for an empty table, else to ``"0"``,
    ``"1"``, ... Cells may hold numbers, strings, lists, dicts or :class:`Image` objects (written
    as image files; the cell holds the image reference)."""

    def __init__(self, columns=None, data=None, rows=None, dataframe=None, dtype=None,
                 optional=True, allow_mixed_types=False):
        if dataframe is not None:
            columns = [str(c) for c in dataframe.columns]
            data = [list(row) for row in dataframe.itertuples(index=False, name=None)]
        elif data is None and rows is not None:
            data = rows
        if data is not None and hasattr(data, "tolist") and not isinstance(data, list):
            data = data.tolist()
        data = [list(row) for row in (data or [])]
        if columns is None:
            width = len(data[0]) if data else 3
            columns = ["Input", "Output", "Expected"] if width == 3 else [str(i) for i in range(width)]
        self.columns = [str(c) for c in columns]
        self.data = []
        for row in data:
            self.add_data(*row)

    def add_data(self, *row):
        """Append a row (one value per column)."""
        if len(row) != len(self.columns):
            raise ValueError("Table.add_data: %d values for %d columns" % (len(row), len(self.columns)))
        self.data.append(list(row))

    add_row = add_data

    def add_column(self, name, data):
        """Append a column ``name`` with one value per existing row."""
        data = list(data)
        if self.data and len(data) != len(self.data):
            raise ValueError("Table.add_column: %d values for %d rows" % (len(data), len(self.data)))
        if not self.data:
            self.data = [[] for _ in data]
        self.columns.append(str(name))
        for row, value in zip(self.data, data):
            row.append(value)

    def get_column(self, name):
        i = self.columns.index(name)
        return [row[i] for row in self.data]

    def __repr__(self):
        return "<trackline.Table %d columns × %d rows>" % (len(self.columns), len(self.data))

    def _trackline_ref(self, writer, key, step):
        """Write the table file through ``writer`` (a MediaWriter); return its reference."""
        data = [[_cell(writer, key, step, cell) for cell in row] for row in self.data]
        body = json.dumps({"columns": self.columns, "data": data}).encode("utf-8")
        digest = hashlib.sha256(body).hexdigest()[:20]
        rel = "media/tables/%s_%d_%s.table.json" % (_safe(key), step, digest)
        writer._write(rel, body + b"\n")
        return {"_type": "table-file", "path": rel, "ncols": len(self.columns), "nrows": len(data)}


def _cell(writer, key, step, cell):
    if isinstance(cell, Image):
        return writer._image(key, step, cell)
    if isinstance(cell, Histogram):
        return cell.to_json()
    return to_json(cell)
