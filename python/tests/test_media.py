"""Media values in log(): Image (PNG encoding checked by a strict decoder), Histogram, Table, and
their reference objects in history.jsonl."""

import hashlib
import json
import os
import re
import struct
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
    assert re.fullmatch(r"media/images/samples/rgb_1_[0-9a-f]{20}\.png", rgb_ref["path"])
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
    with pytest.raises(ValueError):
        trackline.Image([[0, 1]], mode="RGB")


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
