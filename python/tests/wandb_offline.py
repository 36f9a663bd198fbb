"""Runs a script with the real wandb in offline mode and reads back what it recorded, so tests can
compare trackline's files with W&B's: history rows, config and the run's ``files/`` folder.

wandb 0.31 has no Python reader of its ``run-<id>.wandb`` log, so :func:`records` reads the
framing itself (LevelDB's log format: a 7-byte ``:W&B`` header, 32 KiB blocks, records split into
FULL/FIRST/MIDDLE/LAST fragments behind a 7-byte header) and decodes each record with wandb's own
protobuf classes. Tests using this call ``pytest.importorskip("wandb")`` first."""

import glob
import json
import os
import struct
import subprocess
import sys
import textwrap

_BLOCK = 32768
_HEADER = 7


def records(path):
    """The protobuf ``Record`` objects of a ``.wandb`` file, in order."""
    from wandb.proto import wandb_internal_pb2

    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b":W&B", "not a wandb log: %r" % data[:7]
    pos, pending = _HEADER, b""
    while pos + _HEADER <= len(data):
        left = _BLOCK - pos % _BLOCK
        if left < _HEADER:
            pos += left
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos:pos + _HEADER])
        if kind == 0:
            pos += left
            continue
        chunk = data[pos + _HEADER:pos + _HEADER + length]
        pos += _HEADER + length
        if kind in (1, 2):
            pending = chunk
        else:
            pending += chunk
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            yield record


def _nested_set(target, keys, value):
    for key in keys[:-1]:
        target = target.setdefault(key, {})
    target[keys[-1]] = value


def _merge(target, update):
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def _unflatten(items):
    out = {}
    for item in items:
        keys = list(item.nested_key) or [item.key]
        _nested_set(out, keys, json.loads(item.value_json))
    return out


class WandbRun:
    """What one offline wandb run recorded: ``history`` (rows as dicts, a media value's fields
    gathered back into one object), ``config`` (nested), ``summary`` (its summary records
    folded: top-level keys, a media value's fields gathered) and ``files_dir``."""

    def __init__(self, run_dir):
        self.files_dir = os.path.join(run_dir, "files")
        (log,) = glob.glob(os.path.join(run_dir, "run-*.wandb"))
        self.history, self.config, self.summary = [], {}, {}
        for record in records(log):
            kind = record.WhichOneof("record_type")
            if kind == "history":
                self.history.append(_regroup(record.history.item))
            elif kind == "config":
                _merge(self.config, _unflatten(record.config.update))
            elif kind == "summary":
                self.summary.update(_regroup(record.summary.update))
                for item in record.summary.remove:
                    self.summary.pop(item.key or "/".join(item.nested_key), None)

    def file(self, rel):
        with open(os.path.join(self.files_dir, *rel.split("/")), "rb") as f:
            return f.read()


def _regroup(items):
    """A history row: wandb sends a media object's fields as ``<key>/<field>`` items."""
    row = {}
    for item in items:
        key = item.key or "/".join(item.nested_key)
        row[key] = json.loads(item.value_json)
    grouped = {}
    for key, value in row.items():
        head, _, field = key.rpartition("/")
        if head and f"{head}/_type" in row:
            grouped.setdefault(head, {})[field] = value
        else:
            grouped[key] = value
    return grouped


def run_wandb(tmp_path, code):
    """Run ``code`` (which may use ``wandb`` and ``np``) in a subprocess inside
    ``wandb.init(mode="offline")``/``finish()`` and return the :class:`WandbRun`."""
    root = tmp_path / "wandb_root"
    root.mkdir()
    script = root / "script.py"
    script.write_text("import wandb\nrun = wandb.init(mode='offline', project='p', dir=%r)\n%s\n"
                      "run.finish()\n" % (str(root), textwrap.dedent(code)))
    env = dict(os.environ, WANDB_SILENT="true", WANDB_MODE="offline")
    done = subprocess.run([sys.executable, str(script)], cwd=str(root), env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    (run_dir,) = glob.glob(str(root / "wandb" / "offline-run-*"))
    return WandbRun(run_dir)


#: History, config and summary keys each tracker keeps for itself.
OWN = ("_step", "_timestamp", "_runtime", "_wandb")


def rows_per_key(rows):
    """How many rows hold each key (the trackers' own keys left out)."""
    counts = {}
    for row in rows:
        for key in row:
            if not key.startswith(OWN):
                counts[key] = counts.get(key, 0) + 1
    return counts


def own_keys_left_out(mapping):
    """The keys of a config or summary, sorted, the trackers' own left out."""
    return sorted(k for k in mapping if not k.startswith(OWN))
