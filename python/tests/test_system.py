"""System metrics: system.jsonl rows with the documented keys, interval setting, off switches,
GPU readings through a stand-in nvidia-smi."""

import json
import os
import re
import stat
import sys

import pytest

from conftest import REPO_DIR, only_run_dir, run_script

from trackline import _system

SCRIPT = """
    import os, sys, time
    import trackline
    settings = eval(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] else None
    want = int(sys.argv[2]) if len(sys.argv) > 2 else 3  # rows to wait for (0: just run 1 s)
    run = trackline.init(project="p", settings=settings)
    import threading
    print("THREADS", sorted(t.name for t in threading.enumerate()))
    path = os.path.join(run.dir, "system.jsonl")

    def rows():
        try:
            with open(path, "rb") as f:
                return f.read().count(b"\\n")
        except OSError:
            return 0

    t = time.time()
    x = 0
    # keep a core busy until enough rows are there (a loaded machine may starve the sampler)
    while (rows() < want if want else time.time() - t < 1.0) and time.time() - t < 60:
        for _ in range(20000):
            x += 1
        trackline.log({"x": x})
    trackline.finish()
"""

BASE_KEYS = {
    "_timestamp", "_runtime", "system/cpu_percent", "system/memory_percent", "system/proc_rss_mb",
    "system/disk_read_mb", "system/disk_write_mb", "system/net_sent_mb", "system/net_recv_mb",
}
GPU_FIELDS = ("utilization", "memory_percent", "temperature_c", "power_w")
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _rows(tmp_path):
    path = os.path.join(only_run_dir(tmp_path / "root"), "system.jsonl")
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        data = f.read()
    assert data.endswith(b"\n")
    return [json.loads(line) for line in data.decode().splitlines()]


@linux_only
def test_rows_have_the_documented_keys(tmp_path):
    proc = run_script(tmp_path, SCRIPT, TRACKLINE_SYSTEM_INTERVAL="0.2")
    assert proc.returncode == 0, proc.stderr
    assert "trackline-system" in proc.stdout
    rows = _rows(tmp_path)
    assert rows is not None and len(rows) >= 3, rows
    for row in rows:
        assert BASE_KEYS <= set(row), sorted(BASE_KEYS - set(row))
        assert all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in row.values())
        assert all(k in BASE_KEYS or re.fullmatch(r"system/gpu\.\d+\.(%s)" % "|".join(GPU_FIELDS), k)
                   for k in row), row
        assert 0 <= row["system/cpu_percent"] <= 100
        assert 0 < row["system/memory_percent"] <= 100
        assert 1 < row["system/proc_rss_mb"] < 10000
        assert min(row["system/disk_read_mb"], row["system/net_sent_mb"]) >= 0
    runtimes = [r["_runtime"] for r in rows]
    assert runtimes == sorted(runtimes) and runtimes[0] > 0.15  # one interval after the start
    assert max(r["system/cpu_percent"] for r in rows) > 20  # the busy loop shows
    # about every 0.2 s, not faster
    assert all(b - a > 0.1 for a, b in zip(runtimes, runtimes[1:]))
    # documented in the format
    with open(os.path.join(REPO_DIR, "docs", "format.md"), encoding="utf-8") as f:
        doc = f.read()
    section = doc[doc.index("## `system.jsonl`"):]
    for key in BASE_KEYS | {"system/gpu.<i>." + f for f in GPU_FIELDS}:
        assert "`%s`" % key in section or key.startswith("_"), key


@pytest.mark.parametrize("how", ["env", "settings", "wandb_settings"])
def test_off_switch(tmp_path, how):
    args, env = ["", "0"], {"TRACKLINE_SYSTEM_INTERVAL": "0.1"}
    if how == "env":
        env["TRACKLINE_DISABLE_SYSTEM"] = "1"
    elif how == "settings":
        args = ['{"_disable_stats": True}', "0"]
    else:
        args = ['trackline.Settings(x_disable_stats=True)' if _has_settings() else
                '{"x_disable_stats": True}', "0"]
    proc = run_script(tmp_path, SCRIPT, args, **env)
    assert proc.returncode == 0, proc.stderr
    assert _rows(tmp_path) is None  # not even created
    assert "trackline-system" not in proc.stdout and "trackline-flusher" in proc.stdout


def _has_settings():
    import trackline

    return hasattr(trackline, "Settings")


def test_interval_from_settings_wins_and_default_is_ten_seconds(tmp_path):
    proc = run_script(tmp_path, SCRIPT, ['{"system_interval": 0.25}', "3"],
                      TRACKLINE_SYSTEM_INTERVAL="100")
    assert proc.returncode == 0, proc.stderr
    runtimes = [r["_runtime"] for r in _rows(tmp_path)]
    assert len(runtimes) >= 3
    assert all(b - a >= 0.24 for a, b in zip(runtimes, runtimes[1:]))
    assert _system.SYSTEM_INTERVAL == 10.0


def test_nvidia_smi_readings(tmp_path):
    """Without pynvml, GPUs are read with nvidia-smi from PATH (here a stand-in script)."""
    fake = tmp_path / "bin" / "nvidia-smi"
    fake.parent.mkdir()
    fake.write_text(
        "#!/bin/sh\n"
        "echo \"$@\" >> %s\n"
        "echo '0, 97, 8000, 16000, 71, 245.10'\n"
        "echo '1, 3, [N/A], 16000, 40, [Not Supported]'\n" % (tmp_path / "args.txt")
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    blocker = tmp_path / "nopynvml"
    blocker.mkdir()
    (blocker / "pynvml.py").write_text("raise ImportError('no NVML here')\n")
    path = os.pathsep.join([str(fake.parent), os.environ.get("PATH", "")])
    proc = run_script(tmp_path, SCRIPT, TRACKLINE_SYSTEM_INTERVAL="0.2", PATH=path,
                      PYTHONPATH=os.pathsep.join([str(blocker), os.environ.get("PYTHONPATH", ""),
                                                  os.path.dirname(os.path.dirname(_system.__file__))]))
    assert proc.returncode == 0, proc.stderr
    rows = _rows(tmp_path)
    assert rows, proc.stderr
    row = rows[-1]
    assert row["system/gpu.0.utilization"] == 97
    assert row["system/gpu.0.memory_percent"] == 50
    assert row["system/gpu.0.temperature_c"] == 71
    assert row["system/gpu.0.power_w"] == 245.1
    assert row["system/gpu.1.utilization"] == 3 and row["system/gpu.1.temperature_c"] == 40
    assert "system/gpu.1.memory_percent" not in row and "system/gpu.1.power_w" not in row
    args = (tmp_path / "args.txt").read_text().splitlines()[0]
    assert "--query-gpu=" in args and "--format=csv,noheader,nounits" in args


def test_pynvml_readings(tmp_path):
    """With pynvml importable (here a stand-in module), it is used rather than nvidia-smi."""
    mod = tmp_path / "fakenvml"
    mod.mkdir()
    (mod / "pynvml.py").write_text(
        "class _U: gpu = 55\n"
        "class _M: used = 3 * 2**30; total = 12 * 2**30\n"
        "def nvmlInit(): pass\n"
        "def nvmlShutdown(): pass\n"
        "def nvmlDeviceGetCount(): return 1\n"
        "def nvmlDeviceGetHandleByIndex(i): return i\n"
        "def nvmlDeviceGetUtilizationRates(h): return _U()\n"
        "def nvmlDeviceGetMemoryInfo(h): return _M()\n"
        "def nvmlDeviceGetTemperature(h, sensor): return 66\n"
        "def nvmlDeviceGetPowerUsage(h): raise RuntimeError('not supported')\n"
    )
    proc = run_script(tmp_path, SCRIPT, TRACKLINE_SYSTEM_INTERVAL="0.2", PATH="/usr/bin:/bin",
                      PYTHONPATH=os.pathsep.join([str(mod),
                                                  os.path.dirname(os.path.dirname(_system.__file__))]))
    assert proc.returncode == 0, proc.stderr
    row = _rows(tmp_path)[-1]
    assert row["system/gpu.0.utilization"] == 55
    assert row["system/gpu.0.memory_percent"] == 25
    assert row["system/gpu.0.temperature_c"] == 66
    assert "system/gpu.0.power_w" not in row  # unreadable: left out, not faked


def test_parse_nvidia_smi_ignores_garbage():
    row = {}
    _system.parse_nvidia_smi("garbage\n\n2, 10, 1, 4, 30, 50.5\n", row)
    assert row == {"system/gpu.2.utilization": 10, "system/gpu.2.memory_percent": 25,
                   "system/gpu.2.temperature_c": 30, "system/gpu.2.power_w": 50.5}
