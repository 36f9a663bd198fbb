"""Cost of logging images through the client against Pillow's own PNG encoding of the same arrays.

    python3 python/bench/bench_media.py [--images N] [--repeat N] [--json]

Logs ``--images`` (default 1,000) numpy uint8 images of 256×256×3 one per step
(``log({"img": trackline.Image(array)})``, then ``finish()``), and separately encodes the same
arrays with Pillow (``PIL.Image.fromarray(a).save(buffer, "PNG")``, what W&B does for each
image). Goal: client cost per image ≈ 1× Pillow's encode. Prints figures, asserts nothing.

Two kinds of pixels, each a cycle of 16 distinct arrays: ``noise`` (uniform random bytes: PNG
cannot compress them, the deflate time dominates) and ``smooth`` (a gradient with a little
noise, where the row filters matter). Each measurement runs in a fresh subprocess, the client
and Pillow interleaved; medians over ``--repeat`` runs (default 3). All is measured twice: on an
idle machine, and with one core kept busy by ``python3 -c "while 1: pass"`` (started and
stopped here).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)

KINDS = ("noise", "smooth")
SIZE = 256


def arrays(kind, count=16):
    """``count`` distinct (256, 256, 3) uint8 arrays of the given kind, the same every run."""
    import numpy as np

    rng = np.random.default_rng(12)
    if kind == "noise":
        return [rng.integers(0, 256, size=(SIZE, SIZE, 3), dtype=np.uint8) for _ in range(count)]
    y, x = np.mgrid[0:SIZE, 0:SIZE]
    out = []
    for i in range(count):
        base = np.stack([x + i, y, (x + y) // 2 + 3 * i], axis=2)
        noise = rng.integers(-6, 7, size=base.shape)
        out.append((base + noise).clip(0, 255).astype(np.uint8))
    return out


# -- the child ----------------------------------------------------------------------------------------
def child(mode, kind, images):
    """Run one measurement; print its figures as one JSON line."""
    data = arrays(kind)
    if mode == "pil":
        import io

        from PIL import Image

        start = time.perf_counter()
        total = 0
        for i in range(images):
            buf = io.BytesIO()
            Image.fromarray(data[i % len(data)]).save(buf, format="PNG")
            total += len(buf.getvalue())
        elapsed = time.perf_counter() - start
        print(json.dumps({"per_image_us": elapsed / images * 1e6, "bytes": total}))
        return
    sys.path.insert(0, PYTHON_DIR)
    import trackline

    run = trackline.init(project="bench-media")
    start = time.perf_counter()
    for i in range(images):
        trackline.log({"img": trackline.Image(data[i % len(data)])})
    loop = time.perf_counter() - start
    trackline.finish()
    elapsed = time.perf_counter() - start
    media = os.path.join(run.dir, "media", "images")
    files = os.listdir(media)
    total = sum(os.path.getsize(os.path.join(media, f)) for f in files)
    print(json.dumps({"per_image_us": elapsed / images * 1e6, "loop_us": loop / images * 1e6,
                      "files": len(files), "bytes": total}))


def spawn(mode, kind, images):
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, TRACKLINE_DIR=os.path.join(tmp, "root"))
        for name in ("TRACKLINE_URL", "TRACKLINE_MODE", "WANDB_MODE"):
            env.pop(name, None)
        out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", mode, kind,
                              str(images)], env=env, cwd=tmp, capture_output=True, text=True,
                             timeout=1800)
        if out.returncode != 0:
            raise RuntimeError("%s %s failed: %s" % (mode, kind, out.stderr[-2000:]))
        return json.loads(out.stdout.strip().splitlines()[-1])


def measure(images, repeat):
    """{kind: {"client": [...], "pil": [...]}} of per-image microseconds (and sizes)."""
    results = {}
    for kind in KINDS:
        runs = {"client": [], "pil": []}
        for _ in range(repeat):
            runs["client"].append(spawn("client", kind, images))
            runs["pil"].append(spawn("pil", kind, images))
        results[kind] = runs
    return results


def summary(results, images):
    out = {}
    for kind, runs in results.items():
        client = statistics.median(r["per_image_us"] for r in runs["client"])
        pil = statistics.median(r["per_image_us"] for r in runs["pil"])
        files = runs["client"][0]["files"]
        out[kind] = {"client_us": round(client), "pil_us": round(pil),
                     "ratio": round(client / pil, 2),
                     "client_best_ratio": round(min(r["per_image_us"] for r in runs["client"])
                                                / min(r["per_image_us"] for r in runs["pil"]), 2),
                     "client_kb_per_image": round(runs["client"][0]["bytes"] / files / 1024, 1),
                     "pil_kb_per_image": round(runs["pil"][0]["bytes"] / images / 1024, 1),
                     "files": files}
    return out


def report(label, figures, images):
    print("%s: %d images of %dx%dx3 uint8, one per step (goal: client ≈ 1x Pillow's encode)"
          % (label, images, SIZE, SIZE))
    for kind, f in figures.items():
        print("  %-6s client %6d us/image (%5.1f KB), Pillow encode %6d us/image (%5.1f KB): "
              "%.2fx (best runs %.2fx), %d files"
              % (kind, f["client_us"], f["client_kb_per_image"], f["pil_us"],
                 f["pil_kb_per_image"], f["ratio"], f["client_best_ratio"], f["files"]))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()
    figures = {"load_before": os.getloadavg()[0]}
    figures["idle"] = summary(measure(args.images, args.repeat), args.images)
    report("idle (load average %.1f before)" % figures["load_before"], figures["idle"], args.images)
    busy = subprocess.Popen([sys.executable, "-c", "while 1: pass"])
    try:
        time.sleep(1.0)
        figures["busy"] = summary(measure(args.images, args.repeat), args.images)
    finally:
        busy.kill()
        busy.wait()
    report("one core busy", figures["busy"], args.images)
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
