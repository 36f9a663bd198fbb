"""Pixels without numpy or PIL: arrays, tensors and nested lists to 8-bit samples, PNG encoding,
and the size of an image file read from its header.

Arrays and tensors are recognised by duck typing (``shape``/``dtype``/``tobytes``; torch's
``detach``/``cpu``), so nothing here imports numpy, torch or PIL."""

import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (8 bits per sample)


def array_pixels(a, normalize=True):
    """(width, height, channels, bytes) of a numpy-like array, W&B's conversion to uint8.

    ``H×W``, ``H×W×C`` (C in 1..4) or ``C×H×W`` (torch's layout). uint8 is taken as is; other
    numbers as W&B's clients before 0.20 did: negative data is rescaled to 0..1, data within
    0..1 is multiplied by 255, then everything is clipped to 0..255 (``normalize=False``: only
    clipped). Booleans become 0/255."""
    if a.ndim == 3 and a.shape[0] in (1, 3, 4) and a.shape[2] not in (1, 2, 3, 4):
        a = a.transpose(1, 2, 0)  # C×H×W (torch layout) -> H×W×C
    while a.ndim > 3 and a.shape[0] == 1:
        a = a[0]
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or a.ndim == 3 and a.shape[2] not in (2, 3, 4):
        raise ValueError("Image() needs an H×W or H×W×C (C in 1..4) array, got shape %s"
                         % (tuple(a.shape),))
    kind = a.dtype.kind
    if kind == "b":
        a = a.astype("uint8") * 255
    elif str(a.dtype) != "uint8":
        if kind not in "iuf":
            raise TypeError("Image() cannot convert an array of %s" % a.dtype)
        a = a.astype("float64")
        low = float(a.min()) if a.size else 0.0
        if normalize and low < 0:
            span = float(a.max()) - low
            a = (a - low) / (span or 1.0)
        if normalize and a.size and float(a.max()) <= 1.0:
            a = a * 255
        a = a.clip(0, 255).astype("uint8")
    height, width = int(a.shape[0]), int(a.shape[1])
    channels = 1 if a.ndim == 2 else int(a.shape[2])
    return width, height, channels, a.tobytes()


def list_pixels(rows, normalize=True):
    """(width, height, channels, bytes) of a nested list, by the same rules as arrays
    (lists of ints are taken as 0..255 values)."""
    rows = [list(r) for r in rows]
    height = len(rows)
    width = len(rows[0]) if rows else 0
    if not height or not width:
        raise ValueError("Image() got an empty nested list")
    first = rows[0][0]
    channels = len(first) if isinstance(first, (list, tuple)) else 1
    flat = []
    for r in rows:
        if len(r) != width:
            raise ValueError("Image(): rows of different lengths")
        for px in r:
            if channels == 1:
                if isinstance(px, (list, tuple)):
                    raise ValueError("Image(): mixed pixel shapes")
                flat.append(px)
            else:
                if not isinstance(px, (list, tuple)) or len(px) != channels:
                    raise ValueError("Image(): every pixel needs %d channels" % channels)
                flat.extend(px)
    if channels not in (1, 2, 3, 4):
        raise ValueError("Image(): pixels need 1 to 4 channels, not %d" % channels)
    values = [float(v) for v in flat]
    if normalize and not all(type(v) is int for v in flat):  # floats (and bools): W&B's rules
        low = min(values)
        if low < 0:
            span = max(values) - low or 1.0
            values = [(v - low) / span for v in values]
        if max(values) <= 1.0:
            values = [v * 255 for v in values]
    data = bytes(0 if v != v else int(min(255.0, max(0.0, v))) for v in values)
    return width, height, channels, data


def to_pixels(data, normalize=True):
    """(width, height, channels, bytes) of an array, a tensor or a nested list."""
    if hasattr(data, "detach") and hasattr(data, "cpu"):  # a torch tensor
        data = data.detach().cpu().numpy()
    elif hasattr(data, "numpy") and not hasattr(data, "tobytes"):  # TensorFlow eager tensors
        data = data.numpy()
    if hasattr(data, "shape") and hasattr(data, "dtype") and hasattr(data, "tobytes"):
        return array_pixels(data, normalize)
    if isinstance(data, (list, tuple)):
        return list_pixels(data, normalize)
    raise TypeError("expected an array, a tensor or a nested list, not %s" % type(data).__name__)


def encode_png(width, height, channels, pixels, level=6):
    """A PNG file of 8-bit samples: ``pixels`` is ``height`` rows of ``width*channels`` bytes."""
    stride = width * channels
    if len(pixels) != stride * height:
        raise ValueError("encode_png: %d bytes for %dx%dx%d" % (len(pixels), width, height, channels))
    view = memoryview(pixels)
    compress = zlib.compressobj(level)
    parts = []
    zero = b"\x00"
    for i in range(0, stride * height, stride):
        parts.append(compress.compress(zero))
        parts.append(compress.compress(view[i:i + stride]))
    parts.append(compress.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPES[channels], 0, 0, 0)
    return b"".join((
        PNG_SIGNATURE,
        _chunk(b"IHDR", ihdr),
        _chunk(b"IDAT", b"".join(parts)),
        _chunk(b"IEND", b""),
    ))


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def image_size(data):
    """(width, height) from a PNG, GIF, JPEG, BMP or WebP header, else (None, None)."""
    if data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return struct.unpack("<HH", data[6:10])
    if data[:2] == b"BM" and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return width, abs(height)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        kind = data[12:16]
        if kind == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return width & 0x3FFF, height & 0x3FFF
        if kind == b"VP8L":
            b = data[21:25]
            return 1 + (b[0] | (b[1] & 0x3F) << 8), 1 + (b[1] >> 6 | b[2] << 2 | (b[3] & 0x0F) << 10)
        if kind == b"VP8X":
            return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
    if data[:2] == b"\xff\xd8":
        return _jpeg_size(data)
    return None, None


def _jpeg_size(data):
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            i += 1 if marker == 0xFF else 2
            continue
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + length
    return None, None
