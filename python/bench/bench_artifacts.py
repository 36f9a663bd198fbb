"""Cost of ``log_artifact`` against a plain copy of the same files, and what dedup saves.

    python3 python/bench/bench_artifacts.py [--big-mb N] [--small N] [--repeat N] [--json]

Prints figures, asserts nothing. Two workloads, each logged by the client in a fresh subprocess
(``Artifact`` + ``add_file``/``add_dir`` + ``run.log_artifact``, then ``wait()`` + ``finish()``) and,
interleaved with it, copied plainly (``shutil.copyfile``/``copytree``, which use the kernel's copy)
onto the same file system, and copied and then ``fsync``ed (what the store must do as well before
a version names the bytes):

- ``big``: one file of ``--big-mb`` MiB (default 1024) of random bytes (a checkpoint);
- ``small``: ``--small`` files (default 10,000) of 4 KiB in 100 folders (a dataset).

Figures per workload: the medians over ``--repeat`` runs (default 3) of the client's time and the
copy's, their ratio (goal ≤ 1.2x a plain copy), the client process's peak RSS (goal ≤ 100 MB),
and the client's two times: until ``log_artifact`` returns (what the training loop waits for: the
files' snapshot; the goal is read against it) and until ``wait()`` returns (hashed, durable and
named by a version, which the artifact worker does in the background),
and the dedup check: a second run logging the same content adds how many bytes to the blob store
(goal: none) and takes how long. The source files are in the page cache for both (written just
before). Measured twice: on an idle machine, and with one core kept busy by
``python3 -c "while 1: pass"`` (started and stopped here).
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)
SMALL_FILE = 4096
SMALL_FOLDERS = 100


def make_sources(top, big_mb, small):
    """Writes the two workloads' files under ``top``; returns their paths."""
    big = os.path.join(top, "model.ckpt")
    chunk = 1 << 20
    with open(big, "wb") as out:
        for _ in range(big_mb):
            out.write(os.urandom(chunk))
    dataset = os.path.join(top, "dataset")
    for i in range(small):
        folder = os.path.join(dataset, "part%03d" % (i % SMALL_FOLDERS))
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "item%05d.bin" % i), "wb") as out:
            out.write(os.urandom(SMALL_FILE))
    return {"big": big, "small": dataset}


def tree_bytes(path):
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            total += os.lstat(os.path.join(folder, name)).st_size
    return total


# -- the child ----------------------------------------------------------------------------------------
def child(mode, kind, source, dest):
    """One measurement; prints its figures as one JSON line."""
    if mode in ("copy", "copy_fsync"):
        start = time.perf_counter()
        if kind == "big":
            shutil.copyfile(source, dest)
            copied = [dest]
        else:
            shutil.copytree(source, dest)
            copied = [os.path.join(d, f) for d, _, files in os.walk(dest) for f in files]
        if mode == "copy_fsync":
            # What the store does besides copying: make the bytes durable before naming them.
            for path in copied:
                fd = os.open(path, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        elapsed = time.perf_counter() - start
    else:
        sys.path.insert(0, PYTHON_DIR)
        import trackline

        run = trackline.init(project="bench-artifacts")
        start = time.perf_counter()
        artifact = trackline.Artifact("checkpoint" if kind == "big" else "dataset",
                                      type="model" if kind == "big" else "dataset")
        if kind == "big":
            artifact.add_file(source)
        else:
            artifact.add_dir(source)
        run.log_artifact(artifact)
        elapsed = time.perf_counter() - start
        artifact.wait()
        committed = time.perf_counter() - start
        trackline.finish()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if mode in ("copy", "copy_fsync"):
        committed = elapsed
    print(json.dumps({"seconds": elapsed, "committed": committed, "peak_rss_mb": peak_kb / 1024}))


def spawn(mode, kind, source, root):
    dest = os.path.join(root, "copy-%s-%d" % (kind, time.monotonic_ns()))
    env = dict(os.environ, TRACKLINE_DIR=os.path.join(root, "trackline"))
    for name in ("TRACKLINE_URL", "TRACKLINE_MODE", "WANDB_MODE"):
        env.pop(name, None)
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", mode, kind, source,
                          dest], env=env, cwd=root, capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError("%s %s failed: %s" % (mode, kind, out.stderr[-2000:]))
    if os.path.isdir(dest):
        shutil.rmtree(dest)
    elif os.path.exists(dest):
        os.remove(dest)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(kind, source, repeat, scratch):
    """Figures of one workload: each repeat in a fresh data dir (so nothing is deduplicated),
    then a second log into the last one (everything is)."""
    client, copy, durable = [], [], []
    for _ in range(repeat):
        root = tempfile.mkdtemp(dir=scratch)
        try:
            copy.append(spawn("copy", kind, source, root))
            durable.append(spawn("copy_fsync", kind, source, root))
            client.append(spawn("client", kind, source, root))
            blobs = os.path.join(root, "trackline", ".trackline", "blobs")
            before = tree_bytes(blobs)
            again = spawn("client", kind, source, root)
            added = tree_bytes(blobs) - before
        finally:
            shutil.rmtree(root, ignore_errors=True)
    client_s = statistics.median(r["seconds"] for r in client)
    committed_s = statistics.median(r["committed"] for r in client)
    copy_s = statistics.median(r["seconds"] for r in copy)
    durable_s = statistics.median(r["seconds"] for r in durable)
    return {"client_s": round(client_s, 3), "committed_s": round(committed_s, 3),
            "committed_ratio": round(committed_s / copy_s, 2),
            "committed_durable_ratio": round(committed_s / durable_s, 2),
            "copy_s": round(copy_s, 3),
            "durable_copy_s": round(durable_s, 3),
            "ratio": round(client_s / copy_s, 2),
            "durable_ratio": round(client_s / durable_s, 2),
            "best_ratio": round(min(r["seconds"] for r in client)
                                / min(r["seconds"] for r in copy), 2),
            "peak_rss_mb": round(max(r["peak_rss_mb"] for r in client), 1),
            "store_bytes": before, "dedup_added_bytes": added,
            "dedup_s": round(again["committed"], 3)}


def report(label, figures, sizes):
    print("%s (goals: ≤ 1.2x a plain copy, ≤ 100 MB peak RSS, a second log adds 0 bytes)" % label)
    for kind, f in figures.items():
        print("  %-5s %s: log_artifact returns in %.3f s, plain copy %.3f s: %.2fx (best runs "
              "%.2fx) %s; committed (wait) in %.3f s: %.2fx a plain copy, %.2fx copy + fsync "
              "(%.3f s); peak RSS %.1f MB %s; store %d bytes; same content logged again: +%d "
              "bytes, committed in %.3f s"
              % (kind, sizes[kind], f["client_s"], f["copy_s"], f["ratio"], f["best_ratio"],
                 "met" if f["ratio"] <= 1.2 else "NOT met", f["committed_s"],
                 f["committed_ratio"], f["committed_durable_ratio"], f["durable_copy_s"],
                 f["peak_rss_mb"], "met" if f["peak_rss_mb"] <= 100 else "NOT met",
                 f["store_bytes"], f["dedup_added_bytes"], f["dedup_s"]))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:6])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-mb", type=int, default=1024)
    parser.add_argument("--small", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="tl-bench-artifacts-")
    try:
        sources = make_sources(scratch, args.big_mb, args.small)
        sizes = {"big": "1 file of %d MiB" % args.big_mb,
                 "small": "%d files of %d KiB" % (args.small, SMALL_FILE // 1024)}
        figures = {"load_before": os.getloadavg()[0]}
        figures["idle"] = {kind: measure(kind, sources[kind], args.repeat, scratch)
                           for kind in ("big", "small")}
        report("idle (load average %.1f before)" % figures["load_before"], figures["idle"], sizes)
        busy = subprocess.Popen([sys.executable, "-c", "while 1: pass"])
        try:
            time.sleep(1.0)
            figures["busy"] = {kind: measure(kind, sources[kind], args.repeat, scratch)
                               for kind in ("big", "small")}
        finally:
            busy.kill()
            busy.wait()
        figures["load_after"] = os.getloadavg()[0]
        report("one core busy (load average %.1f after)" % figures["load_after"], figures["busy"],
               sizes)
        if args.json:
            print(json.dumps(figures))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
