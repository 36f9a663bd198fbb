"""Speed of the Python client's hot path: ``log()`` against ``json.dumps`` + a buffered write.

    python3 python/bench/bench_log.py [--repeat N] [--remote] [--json]

Prints figures, asserts nothing. Every measurement runs in a fresh subprocess, with trackline's
defaults (system metrics and console capture ON), interleaved with its baseline so that load on
the machine hits both alike; the median over ``--repeat`` runs (default 5) is reported.

Workloads:

- ``seed``: the blog post's pattern: 20,000 x ``log({"Train Loss": x})``, plus
  ``log({"Valid Loss": y})`` and a ``print()`` every 1,000 calls (20,020 calls, 20,020 rows).
- ``wide``: 5,000 x ``log(<50 scalars>)``.

Baseline: the same loop writing ``json.dumps`` of the same dict with ``_step`` and ``_timestamp``
added to a buffered file (``open(..., "w")``), closed at the end.

Figures, per workload:

- ``amortised``: (loop + finish()) / calls, and its ratio to the baseline's (loop + close) / calls
  (goal <= 1.5x): ratio of the medians, and ratio of the best runs (robust to a busy machine).
- ``p99``: 99th percentile of one call, timed one by one in a separate run (goal <= 50 us).
- ``lost``: rows expected minus lines in history.jsonl (must be 0).
- ``mem``: growth of the process's peak RSS from just before ``init()`` to after ``finish()``
  (goal <= 10 MB).

Plus ``import trackline`` in a fresh process (goal <= 50 ms), median of 9. With ``--remote`` (and
the daemon binary at $TRACKLINE_BIN or target/debug/trackline) the ``seed`` workload runs once
more streaming to a daemon on 127.0.0.1, and the daemon's copy is checked line by line.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)
REPO_DIR = os.path.dirname(PYTHON_DIR)

WORKLOADS = {"seed": 20020, "wide": 5000}  # calls (= rows) per workload


# -- the workloads (run in the child) ------------------------------------------------------------
def seed_calls():
    """Yield the dict of each call of the seed pattern (and whether to print after it)."""
    for i in range(20000):
        yield {"Train Loss": 1.0 / (i + 1)}, False
        if (i + 1) % 1000 == 0:
            yield {"Valid Loss": 0.5 + 1.0 / (i + 1)}, True


WIDE_KEYS = ["metric_%02d" % k for k in range(50)]


def wide_calls():
    for i in range(5000):
        yield {key: (i + k) * 0.001 for k, key in enumerate(WIDE_KEYS)}, False


def _calls(workload):
    # Materialised up front: building the dicts is not part of the measured cost.
    return list(seed_calls() if workload == "seed" else wide_calls())


def _rss_kb(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _reset_peak_rss():
    """Make VmHWM (peak RSS) start from the current RSS (Linux >= 4.0), so that the peak measured
    afterwards is the run's, not that of building the workload."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def child(workload, mode, timed, out_path, root):
    calls = _calls(workload)
    now = time.perf_counter
    ns = time.perf_counter_ns
    per_call = [] if timed else None
    result = {"workload": workload, "mode": mode, "calls": len(calls)}
    if mode == "baseline":
        dumps = json.dumps
        wall = time.time
        _reset_peak_rss()
        rss0 = _rss_kb("VmRSS")
        f = open(os.path.join(root, "baseline.jsonl"), "w")
        t0 = now()
        for step, (data, say) in enumerate(calls):
            if timed:
                a = ns()
            row = dict(data)
            row["_step"] = step
            row["_timestamp"] = wall()
            f.write(dumps(row) + "\n")
            if timed:
                per_call.append(ns() - a)
            if say:
                print("epoch %d valid loss %.4f" % (step // 1000, data["Valid Loss"]))
        t1 = now()
        f.close()
        t2 = now()
        path = os.path.join(root, "baseline.jsonl")
    else:
        import trackline

        _reset_peak_rss()
        rss0 = _rss_kb("VmRSS")
        run = trackline.init(project="bench", config={"workload": workload})
        log = trackline.log
        t0 = now()
        for data, say in calls:
            if timed:
                a = ns()
                log(data)
                per_call.append(ns() - a)
            else:
                log(data)
            if say:
                print("epoch valid loss %.4f" % data["Valid Loss"])
        t1 = now()
        trackline.finish()
        t2 = now()
        path = os.path.join(run.dir, "history.jsonl")
        result["run_dir"] = run.dir
    result["mem_growth_mb"] = (_rss_kb("VmHWM") - rss0) / 1024.0  # before reading anything back
    result["loop_s"] = t1 - t0
    result["finish_s"] = t2 - t1
    lines = 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            lines += block.count(b"\n")
    result["lines"] = lines
    if timed:
        per_call.sort()
        result["p50_us"] = per_call[len(per_call) // 2] / 1000.0
        result["p99_us"] = per_call[int(len(per_call) * 0.99)] / 1000.0
        result["max_us"] = per_call[-1] / 1000.0
    with open(out_path, "w") as f:
        json.dump(result, f)


# -- the parent ----------------------------------------------------------------------------------
def spawn(workload, mode, timed=False, env_extra=None):
    root = tempfile.mkdtemp(prefix="trackline-bench-")
    out = os.path.join(root, "result.json")
    env = dict(os.environ)
    env["PYTHONPATH"] = PYTHON_DIR + os.pathsep + env.get("PYTHONPATH", "")
    env["TRACKLINE_DIR"] = os.path.join(root, "runs")
    for name in ("TRACKLINE_URL", "TRACKLINE_API_KEY", "TRACKLINE_MODE", "TRACKLINE_CONSOLE",
                 "TRACKLINE_DISABLE_SYSTEM", "TRACKLINE_SYSTEM_INTERVAL",
                 "TRACKLINE_FLUSH_INTERVAL"):
        env.pop(name, None)  # defaults, unless the caller says otherwise
    env.update(env_extra or {})
    try:
        proc = subprocess.run(
            [sys.executable, os.path.abspath(__file__), "--child", workload, mode,
             "1" if timed else "0", out, root],
            env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            timeout=600,
        )
        if proc.returncode != 0:
            raise RuntimeError("child %s/%s failed:\n%s" % (workload, mode, proc.stderr))
        with open(out) as f:
            result = json.load(f)
        result["stderr"] = proc.stderr
        if result.get("run_dir") and env_extra and env_extra.get("TRACKLINE_URL"):
            result["local_history"] = _read(os.path.join(result["run_dir"], "history.jsonl"))
        return result
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def import_time(repeat=9):
    code = ("import time; t = time.perf_counter(); import trackline; "
            "print(time.perf_counter() - t)")
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR + os.pathsep + os.environ.get("PYTHONPATH", ""))
    times = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                             check=True)
        times.append(float(out.stdout) * 1000)
    # where the time goes, from -X importtime (cumulative microseconds, top entries)
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import trackline"], env=env,
                         capture_output=True, text=True, check=True)
    top = []
    for line in out.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m and len(m.group(3)) <= 3:  # top-level imports and their direct children
            top.append((int(m.group(2)) / 1000.0, m.group(4).strip()))
    top.sort(reverse=True)
    return statistics.median(times), min(times), top[:6]


def measure(workload, repeat, env_extra=None):
    base, ours, base_t, ours_t = [], [], [], []
    for _ in range(repeat):  # interleaved: load on the machine hits both alike
        base.append(spawn(workload, "baseline"))
        ours.append(spawn(workload, "trackline", env_extra=env_extra))
    for _ in range(max(1, repeat // 2)):
        base_t.append(spawn(workload, "baseline", timed=True))
        ours_t.append(spawn(workload, "trackline", timed=True, env_extra=env_extra))
    calls = ours[0]["calls"]

    def per_call_us(results):
        return statistics.median((r["loop_s"] + r["finish_s"]) / r["calls"] * 1e6 for r in results)

    def best_us(results):
        return min((r["loop_s"] + r["finish_s"]) / r["calls"] * 1e6 for r in results)

    b, o = per_call_us(base), per_call_us(ours)
    return {
        "best_ratio": best_us(ours) / best_us(base),
        "workload": workload,
        "calls": calls,
        "baseline_us": b,
        "trackline_us": o,
        "ratio": o / b,
        "loop_us": statistics.median(r["loop_s"] / r["calls"] * 1e6 for r in ours),
        "finish_ms": statistics.median(r["finish_s"] * 1000 for r in ours),
        "p99_us": statistics.median(r["p99_us"] for r in ours_t),
        "p50_us": statistics.median(r["p50_us"] for r in ours_t),
        "baseline_p99_us": statistics.median(r["p99_us"] for r in base_t),
        "lost": max(calls - r["lines"] for r in ours + ours_t),
        "mem_mb": statistics.median(r["mem_growth_mb"] for r in ours),
        "baseline_mem_mb": statistics.median(r["mem_growth_mb"] for r in base),
        "stderr": [r["stderr"] for r in ours if r["stderr"].strip()],
        "results": ours,
    }


def remote_run(repeat):
    """The seed workload streaming to a real daemon; checks the daemon's copy."""
    binary = os.environ.get("TRACKLINE_BIN") or os.path.join(REPO_DIR, "target", "debug",
                                                             "trackline")
    if not os.access(binary, os.X_OK):
        return None, "daemon binary %s not found" % binary
    served = tempfile.mkdtemp(prefix="trackline-bench-daemon-")
    os.makedirs(os.path.join(served, ".trackline"))
    with open(os.path.join(served, ".trackline", "api_key"), "w") as f:
        f.write("tl_bench")
    proc = subprocess.Popen([binary, "serve", "--dir", served, "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = re.search(r"at (http://[^/\s]+)/", proc.stdout.readline()).group(1)
        env = {"TRACKLINE_URL": url, "TRACKLINE_API_KEY": "tl_bench"}
        figures = measure("seed", repeat, env_extra=env)
        exact = 0
        for r in figures["results"]:
            run_dir = r["run_dir"]
            project, run_id = run_dir.split(os.sep)[-2:]
            remote = _read(os.path.join(served, project, run_id, "history.jsonl"))
            exact += remote == r["local_history"]
        figures["remote_exact"] = "%d/%d" % (exact, len(figures["results"]))
        return figures, None
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(served, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--remote", action="store_true", help="also stream to a real daemon")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    print("python %s on %s, %d CPUs, load average %s" % (
        sys.version.split()[0], sys.platform, os.cpu_count() or 0,
        " ".join("%.1f" % x for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"))
    imp_median, imp_min, top = import_time()
    print("import trackline: %.1f ms median, %.1f ms min (goal <= 50 ms); cumulative: %s" % (
        imp_median, imp_min, ", ".join("%s %.1f ms" % (name, ms) for ms, name in top)))
    rows = [measure(w, args.repeat) for w in WORKLOADS]
    if args.remote:
        remote, why = remote_run(args.repeat)
        if remote is None:
            print("remote: skipped (%s)" % why)
        else:
            remote["workload"] = "seed, remote"
            rows.append(remote)
    header = ("workload", "calls", "baseline us/call", "trackline us/call", "ratio (<=1.5)",
              "best-of ratio", "loop us/call", "finish ms", "p50 us", "p99 us (<=50)", "lost (0)",
              "mem MB (<=10)")
    table = [header]
    for r in rows:
        table.append((
            r["workload"], str(r["calls"]), "%.2f" % r["baseline_us"], "%.2f" % r["trackline_us"],
            "%.2fx" % r["ratio"], "%.2fx" % r["best_ratio"], "%.2f" % r["loop_us"],
            "%.1f" % r["finish_ms"], "%.1f" % r["p50_us"],
            "%.1f" % r["p99_us"], str(r["lost"]), "%.1f" % r["mem_mb"],
        ))
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for k, row in enumerate(table):
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths)))
        if k == 0:
            print("  ".join("-" * w for w in widths))
    for r in rows:
        if "remote_exact" in r:
            print("remote: daemon's history.jsonl byte-identical to the local one in %s runs"
                  % r["remote_exact"])
        for err in r["stderr"][:1]:
            print("stderr of a %s run: %s" % (r["workload"], err.strip()[:300]))
    print("(baseline p99: %s us; baseline peak RSS growth: %s MB)" % (
        ", ".join("%.1f" % r["baseline_p99_us"] for r in rows),
        ", ".join("%.1f" % r["baseline_mem_mb"] for r in rows)))
    if args.json:
        for r in rows:
            r.pop("results", None)
        print(json.dumps({"import_ms": imp_median, "workloads": rows}, indent=2))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        workload, mode, timed, out_path, root = sys.argv[2:7]
        child(workload, mode, timed == "1", out_path, root)
    else:
        main()
