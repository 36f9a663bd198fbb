"""W&B's "log (almost) anything" script run twice, under the real ``wandb`` (0.31, offline) and
under trackline (``import trackline as wandb``), and the two runs compared file by file: the same
relative paths under ``media/`` with the same bytes (names hold a content hash), the same
``_type``s and reference fields, the same mask pixels and box JSON.

Needs the test-only extras of requirements-media.txt (wandb, numpy, pillow, matplotlib, plotly);
skipped without them."""

import glob
import json
import os
import re
import struct
import subprocess
import sys

import pytest

from conftest import read_history, subprocess_env

pytest.importorskip("wandb")
pytest.importorskip("numpy")
pytest.importorskip("PIL")
pytest.importorskip("matplotlib")
pytest.importorskip("plotly")

#: The script: ``python3 script.py <wandb|trackline> <dir with inputs>``.
SCRIPT = r'''
import io, os, sys
import numpy as np
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import plotly.graph_objects as go
from PIL import Image as PILImage

if sys.argv[1] == "wandb":
    import wandb
    run = wandb.init(project="anything", mode="offline", dir=sys.argv[3])
else:
    import trackline as wandb
    run = wandb.init(project="anything")
inputs = sys.argv[2]

rgb = np.arange(6 * 8 * 3, dtype=np.uint8).reshape(6, 8, 3)
grey = (np.arange(6 * 8, dtype=np.uint8).reshape(6, 8) * 5)
mask = np.zeros((6, 8), dtype=np.uint8)
mask[2:5, 1:4] = 1
mask[0, :] = 2
labels = {0: "background", 1: "cat", 2: "sky"}
boxes = {"predictions": {"box_data": [
    {"position": {"minX": 0.1, "maxX": 0.5, "minY": 0.2, "maxY": 0.6}, "class_id": 1,
     "box_caption": "cat (0.9)", "scores": {"acc": 0.9, "loss": 0.1}},
    {"position": {"middle": [4, 3], "width": 2, "height": 3}, "domain": "pixel", "class_id": 2,
     "box_caption": "sky"}], "class_labels": labels}}
fig, ax = plt.subplots(figsize=(3, 2))
ax.plot([1, 2, 3], [1, 4, 9], label="squares")
fig_img, ax_img = plt.subplots(figsize=(2, 2))
ax_img.imshow(grey)
points = np.array([[0.0, 0.0, 0.0], [1.0, 0.5, 2.0], [0.25, 1.0, 1.5]])
colored = np.array([[0.0, 0.0, 0.0, 255, 0, 0], [1.0, 1.0, 1.0, 0, 255, 0]])
plot = go.Figure(data=[go.Scatter(x=[1, 2, 3], y=[3, 1, 2], mode="lines+markers")])
plot.update_layout(title="a plotly figure")

for step in range(2):
    run.log({
        "image": wandb.Image(rgb, caption="rgb %d" % step),
        "overlays": wandb.Image(rgb, caption="segmented",
                                masks={"pred": {"mask_data": mask, "class_labels": labels}},
                                boxes=boxes),
        "batch": [wandb.Image(rgb, caption="first"), wandb.Image(grey)],
        "batch_masks": [wandb.Image(rgb, masks={"gt": {"mask_data": mask}}), wandb.Image(grey)],
        "nested/deep/image": wandb.Image(grey),
        "pil": wandb.Image(PILImage.fromarray(rgb)),
        "from_path": wandb.Image(os.path.join(inputs, "picture.png")),
        "hist": wandb.Histogram([1, 2, 2, 3, 3, 3, 4.5]),
        "hist_bins": wandb.Histogram(np.linspace(0, 1, 50), num_bins=8),
        "hist_np": wandb.Histogram(np_histogram=np.histogram([1, 2, 3, 4], bins=3)),
        "html": wandb.Html("<h1>Hello</h1>", inject=False),
        "html_path": wandb.Html(os.path.join(inputs, "page.html"), inject=False),
        "html_list": [wandb.Html("<p>a</p>", inject=False), wandb.Html("<p>b</p>", inject=False)],
        "points": wandb.Object3D(points),
        "points_rgb": wandb.Object3D(colored, caption="colored"),
        "mesh": wandb.Object3D(os.path.join(inputs, "cube.obj")),
        "clouds": [wandb.Object3D(points), wandb.Object3D(colored)],
        "video": wandb.Video(os.path.join(inputs, "clip.gif")),
        "video_bytes": wandb.Video(io.BytesIO(open(os.path.join(inputs, "clip.gif"), "rb").read()),
                                   format="gif", caption="bytes"),
        "videos": [wandb.Video(os.path.join(inputs, "clip.gif"), caption="file"),
                   wandb.Video(io.BytesIO(b"GIF89a;"), format="gif", caption="bytes")],
        "sound": wandb.Audio(os.path.join(inputs, "tone.wav"), caption="tone"),
        "jpeg": wandb.Image(rgb, file_type="jpg", caption="jpeg"),
        "grey_mode": wandb.Image(rgb, mode="L"),
        "plotly": plot,
        "plotly_obj": wandb.Plotly(plot),
        "matplotlib": fig,
        "matplotlib_image": fig_img,
        "loss": 1.0 / (step + 1),
    })
run.finish()
'''


def _inputs(directory):
    """The files the script logs by path: a PNG, an HTML page, an OBJ mesh, a GIF, a WAV."""
    import wave

    from PIL import Image as PILImage

    os.makedirs(directory, exist_ok=True)
    PILImage.new("RGB", (5, 4), (200, 10, 10)).save(os.path.join(directory, "picture.png"))
    with open(os.path.join(directory, "page.html"), "w") as f:
        f.write("<html><body><b>page</b></body></html>")
    with open(os.path.join(directory, "cube.obj"), "w") as f:
        f.write("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    frames = [PILImage.new("RGB", (6, 4), c) for c in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(os.path.join(directory, "clip.gif"), save_all=True, append_images=frames[1:])
    with wave.open(os.path.join(directory, "tone.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(struct.pack("<8h", 0, 1000, 2000, 1000, 0, -1000, -2000, -1000))


# -- reading W&B's offline run (its history lives in the .wandb log of protobuf records) -------------
def _wandb_records(path):
    """The records of a ``.wandb`` file: a LevelDB-style log of 32 KiB blocks after a 7-byte
    header, each record cut into chunks of (crc32c, length, type, bytes)."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b":W&B"
    pos, parts = 7, b""
    while pos + 7 <= len(data):
        left = 32768 - pos % 32768
        if left < 7:
            pos += left
            continue
        _, length, kind = struct.unpack("<IHB", data[pos:pos + 7])
        chunk = data[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind == 1:
            yield chunk
        elif kind == 2:
            parts = chunk
        elif kind == 3:
            parts += chunk
        elif kind == 4:
            yield parts + chunk


def _wandb_history(run_dir):
    from wandb.proto import wandb_internal_pb2

    rows = []
    for data in _wandb_records(glob.glob(os.path.join(run_dir, "*.wandb"))[0]):
        record = wandb_internal_pb2.Record()
        record.ParseFromString(data)
        if record.WhichOneof("record_type") == "history":
            rows.append({(i.key or "/".join(i.nested_key)): json.loads(i.value_json)
                         for i in record.history.item})
    return rows


def _flat(row, prefix=""):
    """A history row with nested objects flattened by ``/`` (as W&B's records hold media refs)."""
    out = {}
    for key, value in row.items():
        if isinstance(value, dict):
            out.update(_flat(value, prefix + key + "/"))
        elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
            out.update(_flat({str(i): v for i, v in enumerate(value)}, prefix + key + "/"))
        else:
            out[prefix + key] = value
    return out


@pytest.fixture(scope="module")
def both_runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("anything")
    inputs = str(tmp / "inputs")
    _inputs(inputs)
    script = tmp / "anything.py"
    script.write_text(SCRIPT)
    env = subprocess_env(tmp / "trackline", WANDB_MODE="offline", WANDB_SILENT="true",
                         WANDB_DIR=str(tmp / "wandb_dir"))
    for which in ("wandb", "trackline"):
        out = subprocess.run([sys.executable, str(script), which, inputs, str(tmp / "wandb_dir")],
                             cwd=str(tmp), env=env, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, (which, out.stdout[-3000:], out.stderr[-3000:])
    (wandb_run,) = glob.glob(str(tmp / "wandb_dir" / "wandb" / "offline-run-*"))
    (trackline_run,) = glob.glob(str(tmp / "trackline" / "anything" / "*"))
    return os.path.join(wandb_run, "files"), _wandb_history(wandb_run), \
        trackline_run, read_history(trackline_run)


def _media_files(root):
    out = {}
    for path in glob.glob(os.path.join(root, "media", "**", "*"), recursive=True):
        if os.path.isfile(path):
            with open(path, "rb") as f:
                out[os.path.relpath(path, root).replace(os.sep, "/")] = f.read()
    return out


def test_the_same_files_under_media(both_runs):
    """Every file byte for byte W&B's, under W&B's name (its name holds its sha256)."""
    wandb_files, _, trackline_dir, _ = both_runs
    theirs, ours = _media_files(wandb_files), _media_files(trackline_dir)
    assert len(theirs) > 30
    assert sorted(ours) == sorted(theirs)
    for path, data in theirs.items():
        assert ours[path] == data, path


def test_the_same_references_in_history(both_runs):
    _, wandb_rows, _, trackline_rows = both_runs
    assert len(wandb_rows) == len(trackline_rows) == 2
    for theirs, ours in zip(wandb_rows, trackline_rows):
        theirs, ours = _flat(theirs), _flat(ours)
        for key, value in theirs.items():
            if key.startswith("_"):
                continue  # _step, _runtime, _timestamp
            assert key in ours, key
            if isinstance(value, float) or key.endswith("/bins"):
                assert ours[key] == pytest.approx(value, rel=1e-12), key
            else:
                assert ours[key] == value, key
        extra = {k.split("/")[-1] for k in ours if k not in theirs}
        # Trackline's additions to W&B's refs: class names for the dashboard, audio facts.
        assert extra <= {"class_labels", "0", "1", "2", "sample_rate", "duration"}, extra
        assert ours["overlays/class_labels/1"] == "cat"


def test_the_same_masks_and_boxes(both_runs):
    from PIL import Image as PILImage

    wandb_files, wandb_rows, trackline_dir, trackline_rows = both_runs
    theirs, ours = wandb_rows[0], trackline_rows[0]
    for side, root, row in (("wandb", wandb_files, theirs), ("trackline", trackline_dir, ours)):
        row = _flat(row)
        assert row["overlays/masks/pred/_type"] == "mask"
        assert row["overlays/boxes/predictions/_type"] == "boxes2D"
    mask_pixels = []
    for root, row in ((wandb_files, _flat(theirs)), (trackline_dir, _flat(ours))):
        with PILImage.open(os.path.join(root, row["overlays/masks/pred/path"])) as im:
            mask_pixels.append((im.mode, im.size, list(im.tobytes())))
    assert mask_pixels[0] == mask_pixels[1]
    assert mask_pixels[1][2].count(1) == 9 and mask_pixels[1][2].count(2) == 8
    boxes = []
    for root, row in ((wandb_files, _flat(theirs)), (trackline_dir, _flat(ours))):
        with open(os.path.join(root, row["overlays/boxes/predictions/path"]), "rb") as f:
            boxes.append(f.read())
    assert boxes[0] == boxes[1]
    assert json.loads(boxes[1])["class_labels"] == {"0": "background", "1": "cat", "2": "sky"}
    assert ours["overlays"]["class_labels"] == {"0": "background", "1": "cat", "2": "sky"}
    separated = ours["batch_masks"]
    assert separated["_type"] == "images/separated" and separated["all_masks"][1] is None
    assert separated["all_masks"][0]["gt"]["_type"] == "mask"


def test_images_decode_to_the_same_pixels(both_runs):
    from PIL import Image as PILImage

    wandb_files, wandb_rows, trackline_dir, trackline_rows = both_runs
    for key in ("image", "nested/deep/image", "pil", "overlays"):
        pixels = []
        for root, row in ((wandb_files, wandb_rows[1]), (trackline_dir, trackline_rows[1])):
            path = _flat(row)[key + "/path"]
            with PILImage.open(os.path.join(root, path)) as im:
                pixels.append((im.mode, im.size, im.tobytes()))
        assert pixels[0] == pixels[1], key


#: The kind the daemon gives each key of the script (trackline_shared::media::MediaKind).
KINDS = {"image": "image", "overlays": "image", "batch": "image", "batch_masks": "image",
         "nested/deep/image": "image", "pil": "image", "from_path": "image",
         "matplotlib_image": "image", "hist": "histogram", "hist_bins": "histogram",
         "hist_np": "histogram", "html": "html", "html_path": "html", "html_list": "html",
         "points": "object3d", "points_rgb": "object3d", "mesh": "object3d", "video": "video",
         "video_bytes": "video", "videos": "video", "jpeg": "image", "grey_mode": "image",
         "sound": "audio", "plotly": "plotly", "plotly_obj": "plotly",
         "matplotlib": "plotly", "clouds": "object3d"}


def test_the_daemon_indexes_and_serves_every_logged_kind(both_runs):
    """The trackline run, read by the real daemon: every key is indexed as its kind, and every
    file a reference names is served with the bytes the client wrote."""
    import time
    import urllib.parse
    import urllib.request

    from conftest import REPO_DIR

    binary = os.environ.get("TRACKLINE_BIN") or os.path.join(REPO_DIR, "target", "debug",
                                                             "trackline")
    if not os.access(binary, os.X_OK):
        pytest.skip("no daemon binary: cargo build -p trackline, or set TRACKLINE_BIN")
    _, _, trackline_dir, rows = both_runs
    root = os.path.dirname(os.path.dirname(trackline_dir))
    run_id = os.path.basename(trackline_dir)
    proc = subprocess.Popen([binary, "serve", "--dir", root, "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
        assert match, line
        base = "%s/api/projects/anything/runs/%s/" % (match.group(1), run_id)

        def get(path):
            with urllib.request.urlopen(base + path, timeout=10) as response:
                return response.read()

        deadline = time.monotonic() + 30
        while True:
            keys = {m["key"]: (m["kind"], m["count"]) for m in json.loads(get("media"))}
            if set(KINDS) <= set(keys) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert {k: keys.get(k) for k in KINDS} == {k: (kind, 2) for k, kind in KINDS.items()}
        served = 0
        for key in KINDS:
            entries = json.loads(get("media/entries?key=" + urllib.parse.quote(key)))
            assert [e["step"] for e in entries] == [0, 1]
            assert [e["value"] for e in entries] == [row[key] for row in rows]
            for value in (e["value"] for e in entries):
                for path in _paths(value):
                    data = get("files/" + urllib.parse.quote(path))
                    with open(os.path.join(trackline_dir, path), "rb") as f:
                        assert data == f.read(), path
                    served += 1
        assert served > 40
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _paths(value):
    """The media files a reference names: ``path`` fields and ``filenames`` lists."""
    if isinstance(value, dict):
        if isinstance(value.get("path"), str):
            yield value["path"]
        if value.get("_type") == "images/separated":
            yield from value["filenames"]
        for v in value.values():
            yield from _paths(v)
    elif isinstance(value, list):
        for v in value:
            yield from _paths(v)
