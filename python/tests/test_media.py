"""Media values in log(): Image (PNG encoding checked by a strict decoder), Histogram, Table, and
their reference objects in history.jsonl."""

import hashlib
import json
import os
import re
import struct
import sys
import zlib

import pytest

import trackline
from trackline._media import encode_png, image_size
from conftest import read_history, read_json


# -- a strict PNG reader (8-bit, non-interlaced): checks every chunk's CRC and every filter --------------
def decode_png(data):
    """Return (width, height, channels, rows of bytes); fails on anything malformed."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "bad signature"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, "bad CRC in %r" % kind
        chunks.append((kind, body))
        pos += 12 + length
    assert pos == len(data) and chunks[0][0] == b"IHDR" and chunks[-1] == (b"IEND", b"")
    width, height, depth, color, comp, flt, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, comp, flt, interlace) == (8, 0, 0, 0)
    channels = {0: 1, 4: 2, 2: 3, 6: 4}[color]
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = width * channels
    assert len(raw) == height * (stride + 1)
    rows, prev = [], bytearray(stride)
    for y in range(height):
        ftype, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b, c = prev[i], prev[i - channels] if i >= channels else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            else:
                assert ftype == 0, ftype
        rows.append(bytes(line))
        prev = line
    return width, height, channels, rows


def logged(run, key):
    trackline.finish()
    return [r[key] for r in read_history(run.dir) if key in r]


def media_file(run, ref):
    assert not os.path.isabs(ref["path"]) and ".." not in ref["path"]
    with open(os.path.join(run.dir, *ref["path"].split("/")), "rb") as f:
        return f.read()


# -- images without numpy ---------------------------------------------------------------------------------
def test_encode_png_round_trips():
    pixels = bytes(range(256)) * 3  # 16x16 RGB
    w, h, c, rows = decode_png(encode_png(16, 16, 3, pixels))
    assert (w, h, c) == (16, 16, 3) and b"".join(rows) == pixels
    assert image_size(encode_png(5, 7, 1, bytes(35))) == (5, 7)
    with pytest.raises(ValueError):
        encode_png(2, 2, 3, b"short")


def test_image_from_nested_lists_is_logged_as_a_png_file(tmp_path):
    run = trackline.init(project="p")
    grey = [[0, 128, 255], [10, 20, 30]]
    rgb = [[[1.0, 0.0, 0.0], [0.0, 0.5, 1.0]]]  # floats in 0..1 are scaled by 255
    trackline.log({"grey": trackline.Image(grey, caption="two rows"), "n": 1})
    trackline.log({"samples": {"rgb": trackline.Image(rgb)}})
    ref = logged(run, "grey")[0]
    assert ref == {"_type": "image-file", "path": ref["path"], "width": 3, "height": 2,
                   "format": "png", "caption": "two rows", "size": len(media_file(run, ref)),
                   "sha256": hashlib.sha256(media_file(run, ref)).hexdigest()}
    assert re.fullmatch(r"media/images/grey_0_[0-9a-f]{20}\.png", ref["path"])
    w, h, c, rows = decode_png(media_file(run, ref))
    assert (w, h, c) == (3, 2, 1) and rows == [bytes([0, 128, 255]), bytes([10, 20, 30])]
    rgb_ref = [r["samples/rgb"] for r in read_history(run.dir) if "samples/rgb" in r][0]
    # A nested dict's media file is named after its innermost key, as W&B names it; the history
    # key is the flattened one.
    assert re.fullmatch(r"media/images/rgb_1_[0-9a-f]{20}\.png", rgb_ref["path"])
    assert decode_png(media_file(run, rgb_ref))[3] == [bytes([255, 0, 0, 0, 127, 255])]
    digest = hashlib.sha256(media_file(run, ref)).hexdigest()[:20]
    assert ref["path"].endswith(digest + ".png")
    assert read_json(os.path.join(run.dir, "summary.json"))["grey"] == ref


def test_image_from_a_file_path_is_copied(tmp_path):
    png = encode_png(4, 3, 4, bytes(48))
    (tmp_path / "pic.png").write_bytes(png)
    gif = b"GIF89a" + struct.pack("<HH", 9, 8) + b"\x00" * 20
    (tmp_path / "anim.gif").write_bytes(gif)
    run = trackline.init(project="p")
    trackline.log({"pic": trackline.Image(str(tmp_path / "pic.png")),
                   "gif": trackline.Image(tmp_path / "anim.gif")})
    trackline.finish()
    row = read_history(run.dir)[0]
    assert (row["pic"]["width"], row["pic"]["height"], row["pic"]["format"]) == (4, 3, "png")
    assert media_file(run, row["pic"]) == png
    assert (row["gif"]["width"], row["gif"]["height"]) == (9, 8)
    assert row["gif"]["path"].endswith(".gif") and media_file(run, row["gif"]) == gif


def test_image_normalize_false_and_figures(tmp_path):
    assert decode_png(trackline.Image([[0.5, 300.0, -2.0]], normalize=False)._data)[3] == [
        bytes([0, 255, 0])]
    assert decode_png(trackline.Image([[0.5, 1.0]])._data)[3] == [bytes([127, 255])]

    class Figure:  # what matplotlib's Figure offers: savefig(file, format=...)
        def savefig(self, f, format=None):
            assert format == "png"
            f.write(encode_png(3, 2, 3, bytes(18)))

    image = trackline.Image(Figure())
    assert (image.width, image.height, image.format) == (3, 2, "png")


def test_list_of_images_becomes_one_separated_object(tmp_path):
    run = trackline.init(project="p")
    images = [trackline.Image([[i * 50]], caption=str(i)) for i in range(3)]
    trackline.log({"examples": images})
    meta = logged(run, "examples")[0]
    assert {k: meta[k] for k in ("_type", "width", "height", "format", "count", "captions")} == {
        "_type": "images/separated", "width": 1, "height": 1, "format": "png", "count": 3,
        "captions": ["0", "1", "2"]}
    assert "all_masks" not in meta and "all_boxes" not in meta
    assert len(set(meta["filenames"])) == 3
    assert all(re.fullmatch(r"media/images/examples_0_[0-9a-f]{20}\.png", p) for p in meta["filenames"])
    assert [decode_png(media_file(run, {"path": p}))[3] for p in meta["filenames"]] == [
        [b"\x00"], [b"2"], [b"d"]]


def test_bad_image_data_raises(tmp_path):
    with pytest.raises(ValueError):
        trackline.Image([[1, 2], [3]])
    with pytest.raises(TypeError):
        trackline.Image(3.5)


def test_media_leave_the_numbers_beside_them_intact(tmp_path):
    run = trackline.init(project="p")
    trackline.log({"loss": 0.5, "img": trackline.Image([[0]]), "acc": {"top1": 1}})
    trackline.log({"loss": 0.25})
    assert logged(run, "loss") == [0.5, 0.25]
    assert read_history(run.dir)[0]["acc/top1"] == 1


# -- images from numpy and PIL ------------------------------------------------------------------------------
def test_image_from_numpy_arrays(tmp_path):
    np = pytest.importorskip("numpy")
    run = trackline.init(project="p")
    rgb = np.arange(2 * 5 * 3, dtype=np.uint8).reshape(2, 5, 3)
    floats = np.array([[0.0, 0.5], [1.0, 0.25]])
    chw = np.zeros((3, 4, 6), dtype=np.uint8)
    chw[0] = 200
    negative = np.array([[-1.0, 1.0]])
    rgba = np.full((3, 2, 4), 7, dtype=np.uint8)
    trackline.log({"rgb": trackline.Image(rgb), "floats": trackline.Image(floats),
                   "chw": trackline.Image(chw), "neg": trackline.Image(negative),
                   "rgba": trackline.Image(rgba), "mask": trackline.Image(np.eye(2, dtype=bool))})
    trackline.finish()
    row = read_history(run.dir)[0]
    w, h, c, rows = decode_png(media_file(run, row["rgb"]))
    assert (w, h, c, row["rgb"]["width"], row["rgb"]["height"]) == (5, 2, 3, 5, 2)
    assert b"".join(rows) == rgb.tobytes()
    assert decode_png(media_file(run, row["floats"]))[3] == [bytes([0, 127]), bytes([255, 63])]
    w, h, c, rows = decode_png(media_file(run, row["chw"]))
    assert (w, h, c) == (6, 4, 3) and rows[0][:3] == bytes([200, 0, 0])
    assert decode_png(media_file(run, row["neg"]))[3] == [bytes([0, 255])]
    assert decode_png(media_file(run, row["rgba"]))[2] == 4
    assert decode_png(media_file(run, row["mask"]))[3] == [bytes([255, 0]), bytes([0, 255])]


def test_image_from_pil(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    pil = Image.new("RGB", (7, 3), (10, 20, 30))
    run = trackline.init(project="p")
    trackline.log({"pil": trackline.Image(pil, caption="pil")})
    ref = logged(run, "pil")[0]
    assert (ref["width"], ref["height"], ref["caption"]) == (7, 3, "pil")
    w, h, c, rows = decode_png(media_file(run, ref))
    assert (w, h) == (7, 3) and rows[0][:3] == bytes([10, 20, 30])


# -- histograms ------------------------------------------------------------------------------------------
def test_histogram_is_inline(tmp_path):
    run = trackline.init(project="p")
    trackline.log({"h": trackline.Histogram([1, 2, 2, 3, 3, 3, float("nan")], num_bins=3),
                   "flat": trackline.Histogram([[5, 5], [5]], num_bins=2)})
    trackline.log({"np": trackline.Histogram(np_histogram=([1, 4], [0.0, 0.5, 1.0]))})
    trackline.finish()
    rows = read_history(run.dir)
    assert rows[0]["h"] == {"_type": "histogram", "bins": [1.0, 1 + 2 / 3, 1 + 4 / 3, 3.0],
                            "values": [1, 2, 3]}
    assert rows[0]["flat"] == {"_type": "histogram", "bins": [4.5, 5.0, 5.5], "values": [0, 3]}
    assert rows[1]["np"] == {"_type": "histogram", "bins": [0.0, 0.5, 1.0], "values": [1, 4]}
    assert not os.path.exists(os.path.join(run.dir, "media"))
    with pytest.raises(ValueError):
        trackline.Histogram(np_histogram=([1, 2], [0.0, 1.0]))
    with pytest.raises(ValueError):
        trackline.Histogram([1, 2], num_bins=513)


def test_histogram_matches_numpy(tmp_path):
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(0)
    for data in (rng.normal(size=1000), rng.integers(-3, 3, size=77), np.array([0.1] * 5)):
        for bins in (1, 7, 64):
            counts, edges = np.histogram(data, bins=bins)
            h = trackline.Histogram(data.tolist(), num_bins=bins)  # the pure-Python path
            assert h.histogram == counts.tolist()
            assert np.allclose(h.bins, edges)
            h = trackline.Histogram(data, num_bins=bins)  # the numpy path
            assert h.histogram == counts.tolist()


def test_media_in_disabled_mode_write_nothing(tmp_path):
    trackline.init(project="p", mode="disabled")
    trackline.log({"img": trackline.Image([[1]]), "t": trackline.Table(data=[[1, 2, 3]])})
    trackline.finish()
    assert not (tmp_path / "root").exists()


# -- W&B's file names -----------------------------------------------------------------------------------
def test_media_file_names_follow_wandb():
    from trackline._media import media_file_name

    assert media_file_name("img", 3, "ab", ".png") == "img_3_ab.png"
    assert media_file_name("a/b/c", 0, "ab", ".png") == "a/b/c_0_ab.png"  # subdirectories
    assert media_file_name("/lead", 0, "ab", ".png") == "lead_0_ab.png"
    assert media_file_name("../x/./y", 1, "h", ".png") == "__/x/_/y_1_h.png"
    assert media_file_name(".hidden//k", 1, "h", ".png") == "_hidden/k_1_h.png"
    assert media_file_name("sp ace é", 2, "h", ".wav") == "sp ace é_2_h.wav"
    assert len(media_file_name("k" * 400, 1, "h", ".png").encode()) < 200


def _walk_refs(value):
    """Every object with a ``path`` in a logged value (refs, nested layers, list items)."""
    if isinstance(value, dict):
        if "path" in value:
            yield value
        for v in value.values():
            yield from _walk_refs(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk_refs(v)


def _check_refs(run, row):
    """Every file ref in ``row`` carries the sha256 and size of the file it names."""
    count = 0
    for ref in _walk_refs(row):
        data = media_file(run, ref)
        assert ref["sha256"] == hashlib.sha256(data).hexdigest() and ref["size"] == len(data)
        assert ref["sha256"][:20] in ref["path"]
        count += 1
    return count


# -- masks and boxes, without numpy ---------------------------------------------------------------------
BOXES = {"box_data": [
    {"position": {"minX": 0.1, "maxX": 0.5, "minY": 0.2, "maxY": 0.6}, "class_id": 1,
     "box_caption": "cat", "scores": {"acc": 0.9}},
    {"position": {"middle": [2, 1], "width": 2, "height": 1}, "domain": "pixel", "class_id": 3}],
    "class_labels": {1: "cat", 3: "dog"}}


def test_image_with_masks_and_boxes_is_written_as_wandb_does(tmp_path):
    run = trackline.init(project="p")
    mask = [[0, 1, 1, 0], [2, 2, 0, 0], [0, 0, 0, 1]]
    image = trackline.Image([[10, 20, 30, 40]] * 3, caption="scene",
                            masks={"pred": {"mask_data": mask, "class_labels": {1: "cat", 2: "sky"}},
                                   "auto": {"mask_data": mask}},
                            boxes={"gt": BOXES}, classes=[{"id": 7, "name": "tree"}])
    trackline.log({"seg/img": image})
    ref = logged(run, "seg/img")[0]
    assert re.fullmatch(r"media/images/seg/img_0_[0-9a-f]{20}\.png", ref["path"])
    pred, auto, gt = ref["masks"]["pred"], ref["masks"]["auto"], ref["boxes"]["gt"]
    assert pred["_type"] == auto["_type"] == "mask" and gt["_type"] == "boxes2D"
    assert re.fullmatch(r"media/images/mask/seg/img_0_[0-9a-f]{20}\.mask\.png", pred["path"])
    assert re.fullmatch(r"media/metadata/boxes2D/seg/img_0_[0-9a-f]{20}\.boxes2D\.json", gt["path"])
    assert pred["path"] == auto["path"]  # same pixels, same file
    w, h, c, rows = decode_png(media_file(run, pred))
    assert (w, h, c) == (4, 3, 1) and [list(r) for r in rows] == mask
    assert json.loads(media_file(run, gt)) == json.loads(json.dumps(BOXES))
    assert b" " not in media_file(run, gt).replace(b"cat", b"").replace(b"dog", b"")  # compact
    # W&B keeps class names in the layers' files and its run config; the ref names them too.
    assert ref["class_labels"] == {"0": "class_0", "1": "cat", "2": "sky", "3": "dog",
                                   "7": "tree"}
    assert _check_refs(run, ref) == 4


def test_boxes_and_masks_are_checked_as_wandb_checks_them(tmp_path):
    with pytest.raises(TypeError, match="position"):
        trackline.Image([[0]], boxes={"b": {"box_data": [{"position": {"minX": 1}}]}})
    with pytest.raises(TypeError, match="class_id"):
        trackline.Image([[0]], boxes={"b": {"box_data": [
            {"position": {"middle": [0, 0], "width": 1, "height": 1}, "class_id": "x"}]}})
    with pytest.raises(TypeError, match="between 0 and 255"):
        trackline.Image([[0]], masks={"m": {"mask_data": [[300]]}})
    with pytest.raises(TypeError, match="mask_data"):
        trackline.Image([[0]], masks={"m": {"class_labels": {}}})
    with pytest.raises(ValueError, match="dictionary"):
        trackline.Image([[0]], masks=[1])
    boxes = trackline.BoundingBoxes2D({"box_data": [
        {"position": {"middle": [0, 0], "width": 1, "height": 1}, "class_id": 4}]}, "p")
    assert boxes.class_labels == {"4": "class_4"}  # W&B's default names


def test_list_of_images_with_overlays_is_one_separated_object(tmp_path):
    run = trackline.init(project="p")
    images = [trackline.Image([[1, 2]], masks={"m": {"mask_data": [[0, 1]]}}),
              trackline.Image([[3, 4]], boxes={"b": BOXES}),
              trackline.Image([[5, 6]])]
    trackline.log({"batch": images})
    meta = logged(run, "batch")[0]
    assert meta["_type"] == "images/separated" and meta["count"] == 3
    assert "captions" not in meta  # W&B: only when the first image has one
    assert meta["all_masks"][0]["m"]["_type"] == "mask" and meta["all_masks"][1:] == [None, None]
    assert meta["all_boxes"][0] is None and meta["all_boxes"][1]["b"]["_type"] == "boxes2D"
    assert meta["class_labels"] == {"0": "class_0", "1": "cat", "3": "dog"}
    assert _check_refs(run, meta) == 2  # the layers; filenames are bare paths
    for path in meta["filenames"]:
        data = media_file(run, {"path": path})
        assert hashlib.sha256(data).hexdigest()[:20] in path


def test_more_than_108_images_keep_the_first_108(tmp_path):
    run = trackline.init(project="p")
    with pytest.warns(trackline.TracklineWarning, match="108"):
        trackline.log({"many": [trackline.Image([[i % 256]]) for i in range(110)]})
    assert logged(run, "many")[0]["count"] == 108


# -- audio ------------------------------------------------------------------------------------------------
def test_audio_from_samples_is_a_16_bit_wav(tmp_path):
    import io
    import wave

    run = trackline.init(project="p")
    trackline.log({"tone": trackline.Audio([0.0, 0.5, -0.5, 1.0, -2.0], sample_rate=8000,
                                           caption="tone")})
    ref = logged(run, "tone")[0]
    assert ref["_type"] == "audio-file" and ref["caption"] == "tone"
    assert re.fullmatch(r"media/audio/tone_0_[0-9a-f]{20}\.wav", ref["path"])
    assert ref["sample_rate"] == 8000 and ref["duration"] == pytest.approx(5 / 8000)
    with wave.open(io.BytesIO(media_file(run, ref))) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
        samples = struct.unpack("<5h", w.readframes(5))
    assert samples == (0, 16384, -16384, 32767, -32767)
    _check_refs(run, ref)
    with pytest.raises(ValueError, match="sample_rate"):
        trackline.Audio([0.1, 0.2])


def test_audio_paths_and_lists(tmp_path):
    import wave

    path = tmp_path / "in.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(bytes(16000 * 4))
    run = trackline.init(project="p")
    trackline.log({"clips": [trackline.Audio(str(path), caption="one second"),
                             trackline.Audio([[0, 100], [200, -300]], sample_rate=4)]})
    meta = logged(run, "clips")[0]
    assert meta["_type"] == "audio" and meta["count"] == 2
    assert meta["sampleRates"] == [16000, 4] and meta["durations"] == [1.0, 0.5]
    assert meta["captions"] == ["one second", ""]
    first, second = meta["audio"]
    assert media_file(run, first) == path.read_bytes()
    assert struct.unpack("<4h", media_file(run, second)[-8:]) == (0, 100, 200, -300)


def test_audio_from_numpy(tmp_path):
    np = pytest.importorskip("numpy")
    import io
    import wave

    run = trackline.init(project="p")
    trackline.log({"f": trackline.Audio(np.array([0.25, -1.0]), sample_rate=100),
                   "i": trackline.Audio(np.array([[1, -2], [3, -4]], dtype=np.int16), 100)})
    trackline.finish()
    row = read_history(run.dir)[0]
    with wave.open(io.BytesIO(media_file(run, row["f"]))) as w:
        assert struct.unpack("<2h", w.readframes(2)) == (8192, -32767)
    with wave.open(io.BytesIO(media_file(run, row["i"]))) as w:
        assert w.getnchannels() == 2 and struct.unpack("<4h", w.readframes(2)) == (1, -2, 3, -4)


# -- video ------------------------------------------------------------------------------------------------
def test_video_from_a_file_and_from_bytes(tmp_path):
    import io

    gif = b"GIF89a" + struct.pack("<HH", 3, 2) + b"\x00" * 10 + b";"
    (tmp_path / "clip.gif").write_bytes(gif)
    run = trackline.init(project="p")
    trackline.log({"v": trackline.Video(str(tmp_path / "clip.gif"), caption="c"),
                   "b": trackline.Video(io.BytesIO(gif), format="gif"),
                   "l": [trackline.Video(gif, format="gif"), trackline.Video(gif, format="gif")]})
    trackline.finish()
    row = read_history(run.dir)[0]
    assert row["v"]["_type"] == "video-file" and row["v"]["caption"] == "c"
    assert re.fullmatch(r"media/videos/v_0_[0-9a-f]{20}\.gif", row["v"]["path"])
    assert media_file(run, row["v"]) == media_file(run, row["b"]) == gif
    assert row["l"]["_type"] == "videos" and row["l"]["count"] == 2
    assert row["l"]["captions"] is False  # W&B's value when the first has no caption
    with pytest.raises(ValueError, match="format"):
        trackline.Video(io.BytesIO(gif))
    with pytest.raises(ValueError, match="gif, mp4, webm, ogg"):
        trackline.Video(str(tmp_path / "clip.avi"))


def test_video_frames_become_a_gif(tmp_path):
    np = pytest.importorskip("numpy")
    PILImage = pytest.importorskip("PIL.Image")
    import io

    rng = np.random.default_rng(1)
    frames = rng.integers(0, 256, size=(4, 3, 20, 30), dtype=np.uint8)
    frames[1] = 0
    run = trackline.init(project="p")
    trackline.log({"clip": trackline.Video(frames, fps=10)})
    ref = logged(run, "clip")[0]
    assert ref["path"].endswith(".gif") and (ref["width"], ref["height"]) == (30, 20)
    with PILImage.open(io.BytesIO(media_file(run, ref))) as gif:
        assert gif.n_frames == 4 and gif.size == (30, 20) and gif.info["duration"] == 100
        gif.seek(1)
        assert not gif.convert("RGB").tobytes().strip(b"\x00")
        gif.seek(2)
        decoded = np.asarray(gif.convert("RGB")).astype(int)
    assert np.abs(decoded - frames[2].transpose(1, 2, 0)).max() <= 26  # a 6x7x6 colour cube
    batch = trackline.Video(rng.integers(0, 256, size=(3, 2, 1, 4, 5), dtype=np.uint8))
    assert (batch.width, batch.height) == (20, 4)  # 3 videos padded to 4, in one row (W&B)


def test_video_frames_to_mp4_name_the_encoder_to_install(tmp_path):
    np = pytest.importorskip("numpy")
    try:
        import moviepy  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("moviepy is installed")
    with pytest.raises(ImportError, match="pip install moviepy"):
        trackline.Video(np.zeros((2, 3, 4, 4), dtype=np.uint8), format="mp4")


def test_lzw_round_trips_through_a_gif_decoder():
    from trackline._media_av import lzw_encode

    def lzw_decode(data, min_code):  # a plain GIF LZW decoder
        clear, end = 1 << min_code, (1 << min_code) + 1
        bits = int.from_bytes(data, "little")
        pos, width, out, table, prev = 0, min_code + 1, bytearray(), None, None
        while True:
            code = (bits >> pos) & ((1 << width) - 1)
            pos += width
            if code == clear:
                table = [bytes([i]) for i in range(clear)] + [b"", b""]
                width, prev = min_code + 1, None
                continue
            if code == end:
                return bytes(out)
            entry = table[code] if code < len(table) else prev + prev[:1]
            if prev is not None and len(table) < 4096:
                table.append(prev + entry[:1])
            out += entry
            prev = entry
            if len(table) == (1 << width) and width < 12:
                width += 1

    import random

    rnd = random.Random(3)
    for size, colours, min_code in ((1, 2, 2), (300, 4, 2), (20000, 200, 8), (9000, 2, 2)):
        data = bytes(rnd.randrange(colours) for _ in range(size))
        assert lzw_decode(lzw_encode(data, min_code), min_code) == data


# -- HTML, plotly, matplotlib, 3-D ---------------------------------------------------------------------
def test_html_strings_and_files(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<html><body>x</body></html>")
    run = trackline.init(project="p")
    trackline.log({"h": trackline.Html("<h1>Hi</h1>"), "f": trackline.Html(str(page), inject=False),
                   "i": trackline.Html(str(page)), "l": [trackline.Html("<p>a</p>")] * 2})
    trackline.finish()
    row = read_history(run.dir)[0]
    assert row["h"]["_type"] == "html-file"
    assert re.fullmatch(r"media/html/h_0_[0-9a-f]{20}\.html", row["h"]["path"])
    assert media_file(run, row["h"]).startswith(b'<base target="_blank">')
    assert b"wandb.ai" not in media_file(run, row["h"])  # nothing loaded from elsewhere
    assert media_file(run, row["f"]) == page.read_bytes()
    assert media_file(run, row["i"]).startswith(b'<html><head><base target="_blank">')
    assert row["l"]["_type"] == "html" and row["l"]["count"] == 2
    _check_refs(run, row)


class FakePlotlyFigure:
    """What log() sees of a plotly figure: a class from plotly.* with to_plotly_json()."""

    def to_plotly_json(self):
        return {"data": [{"type": "scatter", "x": [1, 2], "y": [3.5, float("nan")]}],
                "layout": {"title": {"text": "é"}}}


FakePlotlyFigure.__module__ = "plotly.graph_objs._figure"
FakePlotlyFigure.__name__ = FakePlotlyFigure.__qualname__ = "Figure"


def test_plotly_figures_become_plotly_json(tmp_path):
    run = trackline.init(project="p")
    trackline.log({"direct": FakePlotlyFigure(), "wrapped": trackline.Plotly(FakePlotlyFigure()),
                   "dict": trackline.Plotly({"data": [], "layout": {}})})
    trackline.finish()
    row = read_history(run.dir)[0]
    assert row["direct"]["_type"] == row["wrapped"]["_type"] == "plotly-file"
    assert row["direct"]["path"].replace("direct", "wrapped") == row["wrapped"]["path"]
    assert re.fullmatch(r"media/plotly/direct_0_[0-9a-f]{20}\.plotly\.json", row["direct"]["path"])
    assert media_file(run, row["direct"]) == (
        '{"data":[{"type":"scatter","x":[1,2],"y":[3.5,NaN]}],"layout":{"title":{"text":"é"}}}'
    ).encode("utf-8")
    with pytest.raises(ValueError, match="plotly"):
        trackline.Plotly(42)
    import datetime

    dated = trackline.Plotly({"data": [{"x": [datetime.datetime(2024, 1, 2, 3, 4)], "y": {1}}]})
    assert dated._json == b'{"data":[{"x":["2024-01-02T03:04:00"],"y":[1]}]}'  # W&B's isoformat


def test_matplotlib_figures_are_media_never_a_repr(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([1, 2, 3])
    fig_img, ax_img = plt.subplots(figsize=(2, 2))
    ax_img.imshow([[0, 1], [1, 0]])
    run = trackline.init(project="p")
    trackline.log({"line": fig, "picture": fig_img, "axes": ax_img, "img": trackline.Image(fig)})
    trackline.finish()
    row = read_history(run.dir)[0]
    try:
        import plotly.tools  # noqa: F401
    except ImportError:
        assert row["line"]["_type"] == "image-file"  # no converter: a PNG
    else:
        assert row["line"]["_type"] in ("plotly-file", "image-file")
    assert row["picture"]["_type"] == row["axes"]["_type"] == row["img"]["_type"] == "image-file"
    assert decode_png(media_file(run, row["img"]))[:2] == (200, 200)
    with open(os.path.join(run.dir, "history.jsonl")) as f:
        text = f.read()
    assert "Figure(" not in text and "<" not in text and str(tmp_path) not in text
    _check_refs(run, row)


def test_matplotlib_without_a_plotly_converter_becomes_a_png(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from trackline import _media_docs

    monkeypatch.setattr(_media_docs, "_mpl_to_plotly", lambda figure: None)
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([1, 2])
    run = trackline.init(project="p")
    trackline.log({"fig": fig, "pyplot": plt, "wrapped": trackline.Plotly(fig)})
    trackline.finish()
    row = read_history(run.dir)[0]
    assert {row[k]["_type"] for k in ("fig", "pyplot", "wrapped")} == {"image-file"}
    assert re.fullmatch(r"media/images/fig_0_[0-9a-f]{20}\.png", row["fig"]["path"])


def test_object3d_point_clouds_and_files(tmp_path):
    (tmp_path / "m.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    run = trackline.init(project="p")
    cloud = [[0.0, 0.5, 1], [2, 3, 4]]
    trackline.log({"cloud": trackline.Object3D(cloud, caption="pts"),
                   "mesh": trackline.Object3D(str(tmp_path / "m.obj")),
                   "scene": trackline.Object3D({"type": "lidar/beta", "points": [[0, 0, 0]]}),
                   "many": [trackline.Object3D(cloud), trackline.Object3D(str(tmp_path / "m.obj"))]})
    trackline.finish()
    row = read_history(run.dir)[0]
    assert row["cloud"]["_type"] == "object3D-file" and row["cloud"]["caption"] == "pts"
    assert re.fullmatch(r"media/object3D/cloud_0_[0-9a-f]{20}\.pts\.json", row["cloud"]["path"])
    assert media_file(run, row["cloud"]) == b"[[0.0,0.5,1],[2,3,4]]"
    assert media_file(run, row["mesh"]) == (tmp_path / "m.obj").read_bytes()
    assert row["mesh"]["path"].endswith(".obj")
    assert json.loads(media_file(run, row["scene"])) == {
        "type": "lidar/beta", "vectors": [], "points": [[0, 0, 0]], "boxes": []}
    many = row["many"]
    assert many["_type"] == "object3D" and many["count"] == 2
    assert many["filenames"] == [o["path"][len("media/object3D/"):] for o in many["objects"]]
    _check_refs(run, row)
    scene = trackline.Object3D.from_point_cloud(
        points=[{"position": [0, 0, 0], "category": 1}],
        boxes=[{"corners": [[0, 0, 0]] * 8, "label": "car", "color": [255, 0, 0]}])
    assert json.loads(scene._data)["boxes"][0]["label"] == "car"
    with pytest.raises(ValueError, match="supported types"):
        trackline.Object3D(str(tmp_path / "m.xyz"))
    with pytest.raises(ValueError, match="shape"):
        trackline.Object3D([[1, 2]])


def test_object3d_from_numpy(tmp_path):
    np = pytest.importorskip("numpy")
    run = trackline.init(project="p")
    trackline.log({"c": trackline.Object3D(np.array([[0, 0, 0, 255, 0, 0]], dtype=np.float32))})
    assert media_file(run, logged(run, "c")[0]) == b"[[0.0,0.0,0.0,255.0,0.0,0.0]]"
    with pytest.raises(ValueError):
        trackline.Object3D(np.zeros((3, 5)))


# -- histograms as W&B writes them ----------------------------------------------------------------------
def test_histogram_defaults_and_order(tmp_path):
    h = trackline.Histogram(list(range(100)))
    assert len(h.histogram) == 64 and list(h.to_json()) == ["_type", "values", "bins"]


# -- anything else --------------------------------------------------------------------------------------
def test_unknown_objects_are_skipped_with_a_warning_naming_key_and_type(tmp_path):
    class Model:
        pass

    run = trackline.init(project="p")
    with pytest.warns(trackline.TracklineWarning) as record:
        trackline.log({"model": Model(), "loss": 1.5, "nested": {"obj": [1, Model()]}})
    messages = sorted(str(w.message) for w in record)
    assert len(messages) == 2 and all("\n" not in m for m in messages)
    assert re.search(r"'model': a test_media\.\S*Model is neither", messages[0])
    assert re.search(r"'nested/obj': a list holding a test_media\.\S*Model", messages[1])
    assert {os.path.basename(w.filename) for w in record} == {"test_media.py"}  # the caller's line
    row = read_history(run.dir)[0] if trackline.finish() is None else None
    assert "model" not in row and "nested/obj" not in row and row["loss"] == 1.5
    import datetime
    import pathlib

    run = trackline.init(project="q")
    trackline.log({"when": datetime.date(2024, 1, 2), "where": pathlib.PurePosixPath("a/b")})
    trackline.finish()
    row = read_history(run.dir)[0]
    assert row["when"] == "2024-01-02" and row["where"] == "a/b"


def test_a_dataframe_becomes_a_table(tmp_path):
    pd = pytest.importorskip("pandas")
    run = trackline.init(project="p")
    trackline.log({"df": pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})})
    ref = logged(run, "df")[0]
    assert ref["_type"] == "table-file" and ref["path"].startswith("media/table")
    content = json.loads(media_file(run, ref))
    assert content["columns"] == ["a", "b"] and content["data"] == [[1, "x"], [2, "y"]]


def test_png_bytes_are_pillows(tmp_path):
    """encode_png writes what Pillow writes (so names match W&B's), by numpy and in pure Python."""
    np = pytest.importorskip("numpy")
    PILImage = pytest.importorskip("PIL.Image")
    import io

    rng = np.random.default_rng(5)
    y, x = np.mgrid[0:40, 0:50]
    smooth = np.stack([x * 5, y * 6, (x + y) * 2], axis=2).astype(np.uint8)
    cases = [rng.integers(0, 256, size=(30, 20, 3), dtype=np.uint8), smooth,
             (smooth + rng.integers(0, 9, size=smooth.shape)).astype(np.uint8),
             rng.integers(0, 4, size=(9, 7), dtype=np.uint8), np.zeros((3, 3, 4), np.uint8),
             rng.integers(0, 256, size=(6, 5, 2), dtype=np.uint8), np.array([[9]], np.uint8),
             rng.integers(0, 256, size=(300, 100, 3), dtype=np.uint8)]  # > 64 KiB: 2 IDAT chunks
    for a in cases:
        height, width = a.shape[:2]
        channels = 1 if a.ndim == 2 else a.shape[2]
        buf = io.BytesIO()
        PILImage.fromarray(a).save(buf, format="PNG")
        rows = a.reshape(height, width * channels)
        assert encode_png(width, height, channels, a.tobytes(), rows) == buf.getvalue()
        if a.size < 10000:
            assert encode_png(width, height, channels, a.tobytes()) == buf.getvalue()
        assert trackline.Image(a)._data == buf.getvalue()


def test_a_media_object_logged_again_refers_to_its_first_file(tmp_path):
    """As in W&B, which binds a logged media object to the run once; a list is written anew."""
    run = trackline.init(project="p")
    image = trackline.Image([[1, 2]])
    trackline.log({"img": image, "h": trackline.Html("<p>x</p>")})
    trackline.log({"img": image, "again": image, "list": [image, image]})
    trackline.finish()
    first, second = read_history(run.dir)
    assert re.fullmatch(r"media/images/img_0_[0-9a-f]{20}\.png", first["img"]["path"])
    assert second["img"] == second["again"] == first["img"]
    assert all(p.startswith("media/images/list_1_") for p in second["list"]["filenames"])


def test_torch_tensors_by_duck_typing(tmp_path):
    """A tensor (detach/cpu/numpy, channels first, as W&B takes it) without torch installed."""
    np = pytest.importorskip("numpy")

    class Tensor:
        def __init__(self, array):
            self.array = array

        def detach(self):
            return self

        def cpu(self):
            return self

        def numpy(self):
            return self.array

    chw = np.zeros((3, 2, 4), dtype=np.uint8)
    chw[2] = 255
    image = trackline.Image(Tensor(chw))
    assert (image.width, image.height) == (4, 2)
    assert decode_png(image._data)[3][0] == bytes([0, 0, 255] * 4)
    mask = trackline.Image(chw[0], masks={"m": {"mask_data": Tensor(np.ones((2, 4), np.int64))}})
    assert mask.class_labels == {"1": "class_1"}
    audio = trackline.Audio(Tensor(np.array([0.5], dtype=np.float32)), sample_rate=10)
    assert audio.duration == 0.1


def test_image_mode_and_file_type_as_wandb(tmp_path):
    np = pytest.importorskip("numpy")
    PILImage = pytest.importorskip("PIL.Image")
    import io

    rgb = np.full((2, 3, 3), (200, 100, 0), dtype=np.uint8)
    grey = trackline.Image(rgb, mode="L")  # W&B converts through PIL
    with PILImage.open(io.BytesIO(grey._data)) as im:
        assert im.mode == "L" and im.size == (3, 2)
    run = trackline.init(project="p")
    trackline.log({"j": trackline.Image(rgb, file_type="jpg")})
    ref = logged(run, "j")[0]
    assert ref["format"] == "jpg" and re.fullmatch(r"media/images/j_0_[0-9a-f]{20}\.jpg", ref["path"])
    with PILImage.open(io.BytesIO(media_file(run, ref))) as im:
        assert im.format == "JPEG" and im.size == (3, 2)
    with pytest.raises(ValueError, match="file_type"):
        trackline.Image(rgb, file_type="tiff")


def test_the_media_benchmark_runs(tmp_path):
    """bench/bench_media.py keeps working (its figures are printed by the script, not checked)."""
    pytest.importorskip("numpy")
    pytest.importorskip("PIL")
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                    "bench"))
    import bench_media

    client = bench_media.spawn("client", "smooth", 3)
    assert client["files"] == 3 and client["per_image_us"] > 0
    pil = bench_media.spawn("pil", "smooth", 3)
    assert pil["bytes"] == client["bytes"]  # the same PNG bytes as Pillow's


def test_media_set_in_the_summary_is_written_like_w_and_b_not_stored_as_text(tmp_path):
    run = trackline.init(project="p")
    run.summary["best"] = trackline.Image([[0, 255], [255, 0]], caption="best")
    run.summary.update({"dist": trackline.Histogram([1, 2, 3])})
    trackline.finish()
    summary = read_json(os.path.join(run.dir, "summary.json"))
    best = summary["best"]
    # W&B names a summary value's files with the "summary" namespace in place of the step.
    assert re.fullmatch(r"media/images/best_summary_[0-9a-f]{20}\.png", best["path"]), best
    assert best["_type"] == "image-file" and best["caption"] == "best"
    with open(os.path.join(run.dir, best["path"]), "rb") as f:
        assert decode_png(f.read())[:2] == (2, 2)
    assert summary["dist"]["_type"] == "histogram"
