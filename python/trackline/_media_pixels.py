"""Pixels without numpy or PIL: arrays, tensors and nested lists to 8-bit samples, PNG encoding,
and the size of an image file read from its header.

Arrays and tensors are recognised by duck typing (``shape``/``dtype``/``tobytes``; torch's
``detach``/``cpu``), so nothing here imports numpy, torch or PIL."""

import struct
import sys
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (8 bits per sample)


def array_pixels(a, normalize=True):
    """(width, height, channels, bytes, rows) of a numpy-like array, W&B's conversion to uint8;
    ``rows`` is the (height, width*channels) uint8 array of the same bytes.

    ``H×W``, ``H×W×C`` (C in 1..4) or ``C×H×W`` (torch's layout). uint8 is taken as is; other
    numbers as earlier W&B clients did: negative data is rescaled to 0..1, data within
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
    rows = a.reshape(height, width * channels) if hasattr(a, "reshape") else None
    return width, height, channels, a.tobytes(), rows


def list_pixels(rows, normalize=True):
    """(width, height, channels, bytes, None) of a nested list, by the same rules as arrays
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
    return width, height, channels, data, None


def to_pixels(data, normalize=True):
    """(width, height, channels, bytes, rows or None) of an array, a tensor or a nested list."""
    if hasattr(data, "detach") and hasattr(data, "cpu"):  # a torch tensor: channels first
        data = data.detach().cpu().numpy()
        if data.ndim == 3:
            data = data.transpose(1, 2, 0)  # as W&B: (C, H, W) -> (H, W, C)
    elif hasattr(data, "numpy") and not hasattr(data, "tobytes"):  # TensorFlow eager tensors
        data = data.numpy()
    if hasattr(data, "shape") and hasattr(data, "dtype") and hasattr(data, "tobytes"):
        return array_pixels(data, normalize)
    if isinstance(data, (list, tuple)):
        return list_pixels(data, normalize)
    raise TypeError("expected an array, a tensor or a nested list, not %s" % type(data).__name__)


def encode_png(width, height, channels, pixels, rows=None):
    """A PNG file of 8-bit samples: ``pixels`` is ``height`` rows of ``width*channels`` bytes.

    Encoded as Pillow encodes it (the encoder W&B saves images with), byte for byte: per row the
    filter (none, up, sub, Paeth, in that order) whose output is nearest to zero, deflate at
    level 6 with the "filtered" strategy and memLevel 9, IDAT chunks of 64 KiB. So an image
    logged here gets W&B's file name. ``rows`` may be the same pixels as a numpy uint8 array of
    shape (height, width*channels): then the filters are computed by numpy."""
    stride = width * channels
    if len(pixels) != stride * height:
        raise ValueError("encode_png: %d bytes for %dx%dx%d" % (len(pixels), width, height, channels))
    if rows is not None and height and stride:
        filtered = _filter_rows_numpy(rows, channels)
    else:
        filtered = _filter_rows(pixels, stride, height, channels)
    compressor = zlib.compressobj(6, zlib.DEFLATED, 15, 9, zlib.Z_FILTERED)
    data = compressor.compress(filtered) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPES[channels], 0, 0, 0)
    idat = [_chunk(b"IDAT", data[i:i + _IDAT_BYTES]) for i in range(0, len(data), _IDAT_BYTES)]
    return b"".join([PNG_SIGNATURE, _chunk(b"IHDR", ihdr)] + idat + [_chunk(b"IEND", b"")])


#: Pillow writes its deflate output in IDAT chunks of this size (ImageFile.MAXBLOCK).
_IDAT_BYTES = 65536


def _distance(row):
    """Pillow's (libpng's) cost of a filtered row: the sum of each byte's distance from zero."""
    return sum(v if v < 128 else 256 - v for v in row)


def _filter_rows(pixels, stride, height, bpp):
    """The filtered rows, each led by its filter type, in pure Python (Pillow's choice)."""
    out = bytearray()
    previous = bytes(stride)
    for y in range(height):
        raw = pixels[y * stride:(y + 1) * stride]
        best, kind, chosen = _distance(raw), 0, raw
        if best > 0:
            up = bytes((raw[i] - previous[i]) & 255 for i in range(stride))
            cost = _distance(up)
            if cost < best:
                best, kind, chosen = cost, 2, up
        if best > 0:
            sub = bytes(raw[:bpp]) + bytes((raw[i] - raw[i - bpp]) & 255 for i in range(bpp, stride))
            cost = _distance(sub)
            if cost < best:
                best, kind, chosen = cost, 1, sub
        if best > 0:
            paeth = bytearray((raw[i] - previous[i]) & 255 for i in range(min(bpp, stride)))
            for i in range(bpp, stride):
                a, b, c = raw[i - bpp], previous[i], previous[i - bpp]
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                paeth.append((raw[i] - (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255)
            cost = _distance(paeth)
            if cost < best:
                best, kind, chosen = cost, 4, paeth
        out.append(kind)
        out += chosen
        previous = raw
    return bytes(out)


def _filter_rows_numpy(rows, bpp):
    """:func:`_filter_rows` for a (height, stride) uint8 numpy array, computed by numpy."""
    np = sys.modules["numpy"]
    height, stride = rows.shape
    rows = np.ascontiguousarray(rows, dtype=np.uint8)
    prev = np.empty_like(rows)  # b: the byte above
    prev[0] = 0
    prev[1:] = rows[:-1]
    left = np.empty_like(rows)  # a: the byte one pixel to the left
    left[:, :bpp] = 0
    left[:, bpp:] = rows[:, :-bpp]
    upleft = np.empty_like(rows)  # c
    upleft[:, :bpp] = 0
    upleft[:, bpp:] = prev[:, :-bpp]
    up = rows - prev  # uint8 arithmetic wraps, as the filters do
    sub = rows - left
    # Paeth: predictor a, b or c, whichever is nearest to a + b - c (ties: a, then b).
    c16 = upleft.astype(np.int16)
    p = prev - c16  # b - c, so pa = |p|
    q = left - c16  # a - c, so pb = |q|
    pc = np.abs(p + q)
    pa = np.abs(p, out=p)
    pb = np.abs(q, out=q)
    # Branch-free choice (masked copies are several times slower on noisy images): with 0/1
    # masks, x + m * (y - x) is y where m is 1, in wrapping uint8 arithmetic.
    pick_b = (pb <= pc).view(np.uint8)
    pick_a = ((pa <= pb) & (pa <= pc)).view(np.uint8)
    predictor = upleft + pick_b * (prev - upleft)
    predictor += pick_a * (left - predictor)
    paeth = rows - predictor
    candidates = ((0, rows), (2, up), (1, sub), (4, paeth))  # Pillow's order; ties keep the first
    best = None
    kinds = np.zeros(height, dtype=np.uint8)
    choice = np.zeros(height, dtype=np.int8)
    for index, (kind, filtered) in enumerate(candidates):
        cost = np.minimum(filtered, 0 - filtered).sum(axis=1, dtype=np.int64)  # min(v, 256 - v)
        if best is None:
            best = cost
            continue
        better = cost < best
        best = np.where(better, cost, best)
        kinds[better] = kind
        choice[better] = index
    out = np.empty((height, stride + 1), dtype=np.uint8)
    out[:, 0] = kinds
    for index, (_, filtered) in enumerate(candidates):
        rows_here = choice == index
        if rows_here.any():
            out[rows_here, 1:] = filtered[rows_here]
    return out.tobytes()


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
