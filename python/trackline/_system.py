"""System metrics: a daemon thread appends one JSON line to ``<run>/system.jsonl`` per interval.

Every ``interval`` seconds (default :data:`SYSTEM_INTERVAL`, ``$TRACKLINE_SYSTEM_INTERVAL``) the
:class:`SystemMonitor` thread samples the machine and appends a row (docs/format.md)::

    {"_timestamp": 1764430010.2, "_runtime": 10.0, "system/cpu_percent": 12.5,
     "system/memory_percent": 41.2, "system/proc_rss_mb": 210.4, "system/disk_read_mb": 0.0,
     "system/disk_write_mb": 1.2, "system/net_sent_mb": 0.3, "system/net_recv_mb": 0.4,
     "system/gpu.0.utilization": 97, "system/gpu.0.memory_percent": 81.3,
     "system/gpu.0.temperature_c": 71, "system/gpu.0.power_w": 245.1}

Sources, first that works: ``psutil`` if importable, else Linux ``/proc`` (``/proc/stat``,
``/proc/meminfo``, ``/proc/self/status``, ``/proc/diskstats``, ``/proc/net/dev``), else
``resource`` for the RSS. GPUs: ``pynvml`` (nvidia-ml-py) if importable, else ``nvidia-smi`` when it
is on PATH. A metric that cannot be read on this machine is left out of the row, never faked.

- ``cpu_percent``: whole machine, over the last interval (100 = every core busy).
- ``memory_percent``: whole machine, ``(total - available) / total``.
- ``proc_rss_mb``: resident memory of this process (MiB).
- ``disk_*_mb``, ``net_*_mb``: MiB read/written on physical disks and sent/received on network
  interfaces other than loopback, by the whole machine, since the run started.
- GPUs: utilisation %, memory used %, temperature °C, power W, per GPU index.

The thread does all reading and formatting itself and writes each row with one ``write`` to a
descriptor opened with ``O_APPEND``; the cost to the training loop is one wake-up per interval.
"""

import json
import os
import sys
import threading
import time

from ._files import AppendFile

#: Default seconds between two samples.
SYSTEM_INTERVAL = 10.0

_MB = 1024.0 * 1024.0
_O_BINARY = getattr(os, "O_BINARY", 0)


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("ascii", "replace")
    except OSError:
        return None


# -- Linux /proc readers (each returns None when unavailable) ------------------------------------
def _proc_cpu_times():
    """(busy, total) jiffies of the whole machine from /proc/stat."""
    text = _read("/proc/stat")
    if not text or not text.startswith("cpu "):
        return None
    fields = [int(x) for x in text.split("\n", 1)[0].split()[1:]]
    # user nice system idle iowait irq softirq steal guest guest_nice; guest is counted in user.
    total = sum(fields[:8])
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return total - idle, total


def _proc_memory_percent():
    text = _read("/proc/meminfo")
    if not text:
        return None
    info = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts:
            info[key] = int(parts[0])
    total = info.get("MemTotal")
    available = info.get("MemAvailable")
    if available is None and total is not None:  # kernels before 3.14
        available = info.get("MemFree", 0) + info.get("Buffers", 0) + info.get("Cached", 0)
    if not total:
        return None
    return 100.0 * (total - available) / total


def _proc_rss_mb():
    text = _read("/proc/self/status")
    if text:
        for line in text.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    try:
        import resource

        # ru_maxrss is the peak, in KiB on Linux and bytes on macOS: the best there is without psutil.
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / (_MB if sys.platform == "darwin" else 1024.0)
    except (ImportError, OSError, AttributeError):
        return None


_VIRTUAL_DISK_PREFIXES = ("loop", "ram", "zram", "dm-", "md", "sr", "fd", "nbd")


def _whole_disks():
    try:
        names = os.listdir("/sys/block")
    except OSError:
        return None
    return frozenset(n for n in names if not n.startswith(_VIRTUAL_DISK_PREFIXES))


def _proc_disk_bytes(disks):
    """(read, written) bytes of the physical disks from /proc/diskstats (sectors of 512 bytes)."""
    text = _read("/proc/diskstats")
    if text is None or disks is None:
        return None
    read = written = 0
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 10 and parts[2] in disks:
            read += int(parts[5]) * 512
            written += int(parts[9]) * 512
    return read, written


def _proc_net_bytes():
    """(sent, received) bytes of every interface but loopback, from /proc/net/dev."""
    text = _read("/proc/net/dev")
    if text is None:
        return None
    sent = recv = 0
    for line in text.splitlines()[2:]:
        name, _, rest = line.partition(":")
        parts = rest.split()
        if name.strip() == "lo" or len(parts) < 9:
            continue
        recv += int(parts[0])
        sent += int(parts[8])
    return sent, recv


# -- GPUs --------------------------------------------------------------------------------------
class _Nvml:
    """GPU readings through pynvml (nvidia-ml-py)."""

    def __init__(self, pynvml):
        pynvml.nvmlInit()
        self._nv = pynvml
        self._handles = [
            pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())
        ]

    def sample(self, row):
        nv = self._nv
        for i, h in enumerate(self._handles):
            p = "system/gpu.%d." % i
            for key, read in (
                ("utilization", lambda: float(nv.nvmlDeviceGetUtilizationRates(h).gpu)),
                ("memory_percent", lambda: _mem_percent(nv.nvmlDeviceGetMemoryInfo(h))),
                ("temperature_c", lambda: float(nv.nvmlDeviceGetTemperature(h, 0))),
                ("power_w", lambda: nv.nvmlDeviceGetPowerUsage(h) / 1000.0),
            ):
                try:
                    row[p + key] = read()
                except Exception:  # NVMLError_NotSupported and friends: leave the key out
                    pass

    def close(self):
        try:
            self._nv.nvmlShutdown()
        except Exception:
            pass


def _mem_percent(info):
    return 100.0 * info.used / info.total if info.total else None


class _NvidiaSmi:
    """GPU readings by running ``nvidia-smi --query-gpu=... --format=csv,noheader,nounits``."""

    QUERY = "index,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw"

    def __init__(self, path):
        self._argv = [path, "--query-gpu=" + self.QUERY, "--format=csv,noheader,nounits"]
        self._failures = 0

    def sample(self, row):
        import subprocess

        if self._failures >= 3:
            return
        try:
            out = subprocess.run(
                self._argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, timeout=5,
            )
        except (OSError, subprocess.SubprocessError):
            self._failures += 1
            return
        if out.returncode != 0:
            self._failures += 1
            return
        self._failures = 0
        parse_nvidia_smi(out.stdout.decode("utf-8", "replace"), row)

    def close(self):
        pass


def parse_nvidia_smi(text, row):
    """Add the readings of ``nvidia-smi --query-gpu=<QUERY> --format=csv,noheader,nounits``."""
    for line in text.splitlines():
        cells = [c.strip() for c in line.split(",")]
        if len(cells) != 6:
            continue
        index, util, used, total, temp, power = (_number(c) for c in cells)
        if index is None:
            continue
        p = "system/gpu.%d." % int(index)
        if util is not None:
            row[p + "utilization"] = util
        if used is not None and total:
            row[p + "memory_percent"] = 100.0 * used / total
        if temp is not None:
            row[p + "temperature_c"] = temp
        if power is not None:
            row[p + "power_w"] = power


def _number(cell):
    try:
        value = float(cell)  # "[N/A]", "[Not Supported]" -> None
    except ValueError:
        return None
    return value if value == value else None


def _open_gpus():
    try:
        import pynvml
    except Exception:
        pynvml = None
    if pynvml is not None:
        try:
            return _Nvml(pynvml)
        except Exception:
            pass
    import shutil

    path = shutil.which("nvidia-smi")
    return _NvidiaSmi(path) if path else None


# -- sampling ----------------------------------------------------------------------------------
class Sampler:
    """Reads the metrics; ``sample()`` returns the metric part of a row (a dict)."""

    def __init__(self):
        try:
            import psutil

            self._ps = psutil
            self._proc = psutil.Process()
            psutil.cpu_percent(interval=None)  # starts the interval of the first reading
        except Exception:
            self._ps = None
        self._disks = None if self._ps else _whole_disks()
        self._cpu = None if self._ps else _proc_cpu_times()
        self._disk0 = self._disk_bytes()
        self._net0 = self._net_bytes()
        self._gpus = None  # found at the first sample: short runs never pay for the search
        self._gpus_opened = False

    def _disk_bytes(self):
        if self._ps is not None:
            try:
                c = self._ps.disk_io_counters()
                return (c.read_bytes, c.write_bytes) if c is not None else None
            except Exception:
                return None
        return _proc_disk_bytes(self._disks)

    def _net_bytes(self):
        if self._ps is not None:
            try:
                per_nic = self._ps.net_io_counters(pernic=True)
                nics = [c for name, c in per_nic.items() if name != "lo"]
                return sum(c.bytes_sent for c in nics), sum(c.bytes_recv for c in nics)
            except Exception:
                return None
        return _proc_net_bytes()

    def sample(self):
        row = {}
        ps = self._ps
        if ps is not None:
            try:
                row["system/cpu_percent"] = float(ps.cpu_percent(interval=None))
                row["system/memory_percent"] = float(ps.virtual_memory().percent)
                row["system/proc_rss_mb"] = self._proc.memory_info().rss / _MB
            except Exception:
                pass
        else:
            cpu = _proc_cpu_times()
            if cpu is not None and self._cpu is not None:
                busy = cpu[0] - self._cpu[0]
                total = cpu[1] - self._cpu[1]
                if total > 0:
                    row["system/cpu_percent"] = max(0.0, min(100.0, 100.0 * busy / total))
                    self._cpu = cpu
                # else: not one clock tick since the last reading; measure over a longer span
            elif cpu is not None:
                self._cpu = cpu
            mem = _proc_memory_percent()
            if mem is not None:
                row["system/memory_percent"] = mem
            rss = _proc_rss_mb()
            if rss is not None:
                row["system/proc_rss_mb"] = rss
        disk = self._disk_bytes()
        if disk is not None and self._disk0 is not None:
            row["system/disk_read_mb"] = max(0, disk[0] - self._disk0[0]) / _MB
            row["system/disk_write_mb"] = max(0, disk[1] - self._disk0[1]) / _MB
        net = self._net_bytes()
        if net is not None and self._net0 is not None:
            row["system/net_sent_mb"] = max(0, net[0] - self._net0[0]) / _MB
            row["system/net_recv_mb"] = max(0, net[1] - self._net0[1]) / _MB
        if not self._gpus_opened:
            self._gpus_opened = True
            self._gpus = _open_gpus()
        if self._gpus is not None:
            try:
                self._gpus.sample(row)
            except Exception:
                pass
        for key, value in row.items():
            if type(value) is float:
                row[key] = round(value, 3)
        return row

    def close(self):
        if self._gpus is not None:
            self._gpus.close()


class SystemMonitor:
    """Daemon thread appending a row to ``path`` every ``interval`` seconds until :meth:`stop`.

    ``t0`` is the run's ``created_at`` (for ``_runtime``). The first sample is taken one interval
    after the start (a CPU percentage needs an interval)."""

    def __init__(self, path, t0, interval):
        self._path = path
        self._t0 = t0
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="trackline-system", daemon=True)
        self._thread.start()

    def stop(self, timeout=0.5):
        """Stop the thread; waits ``timeout`` seconds at most (a slow nvidia-smi is abandoned)."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _loop(self):
        try:
            sampler = Sampler()
            out = AppendFile(self._path)
        except Exception as exc:
            _note("system metrics are off: %r" % (exc,))
            return
        try:
            # One interval between the end of a sample and the next (fixed delay): a late sample
            # (busy machine, suspended laptop) is never followed by a burst of close ones.
            while not self._stop.wait(self._interval):
                try:
                    metrics = sampler.sample()
                except Exception as exc:
                    _note("cannot sample system metrics: %r" % (exc,))
                    continue
                if self._stop.is_set():
                    return  # the run finished while sampling: write nothing after it
                t = time.time()
                row = {"_timestamp": round(t, 3), "_runtime": round(t - self._t0, 3)}
                row.update(metrics)
                out.write_lines([json.dumps(row)])
        finally:
            sampler.close()
            out.close()


def _note(message):
    try:
        sys.stderr.write("trackline: %s\n" % message)
    except Exception:
        pass
