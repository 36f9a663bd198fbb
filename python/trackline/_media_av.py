"""``Audio`` and ``Video`` (W&B's ``wandb.Audio``, ``wandb.Video``) and how they are written.

- ``audio-file``: ``media/audio/<key>_<step>_<h>.wav`` (or the copied file's extension). Arrays
  and lists of samples become 16-bit PCM WAV through the standard library's ``wave`` (W&B needs
  soundfile). Trackline adds ``sample_rate`` and ``duration`` to the ref where known. A list is
  ``{"_type": "audio", "count", "audio": [refs], "sampleRates", "durations", "captions"?}``.
- ``video-file``: ``media/videos/<key>_<step>_<h>.<gif|mp4|webm|ogg>``, with ``width``/``height``
  when made from frames. Frames (time, channel, height, width), or (batch, time, channel, height,
  width) tiled in a grid as W&B does, become a GIF written here in pure Python (LZW); mp4, webm
  and ogg from frames need moviepy, as in W&B. A list is ``{"_type": "videos", "count",
  "videos": [refs], "captions"}``."""

import io
import os
import struct
import sys
import wave

from ._errors import warn
from ._media_base import Media


# -- audio ---------------------------------------------------------------------------------------------
class Audio(Media):
    """A sound to log: ``Audio(data_or_path, sample_rate=None, caption=None)``.

    ``data_or_path`` is the path of an audio file (copied as is), or samples: a 1-D array or
    list (mono) or a 2-D (frames × channels) one; floats in -1..1, or int16 values (other
    integer arrays are scaled to 16 bits). ``sample_rate`` is required for samples."""

    _trackline_bind_once = True

    def __init__(self, data_or_path, sample_rate=None, caption=None):
        self.caption = None if caption is None else str(caption)
        self.sample_rate = sample_rate
        self.duration = None
        self._source = self._data = None
        if isinstance(data_or_path, str) or hasattr(data_or_path, "__fspath__"):
            path = os.fspath(data_or_path)
            if not os.path.isfile(path):
                raise ValueError("Audio: no such file: %s" % path)
            self._source = path
            self._ext = os.path.splitext(path)[1] or ".bin"
            if self._ext.lower() == ".wav":  # reading a WAV header costs nothing
                try:
                    with wave.open(path, "rb") as w:
                        rate, frames = w.getframerate(), w.getnframes()
                    self.duration = frames / float(rate)
                except (wave.Error, EOFError, OSError, ZeroDivisionError):
                    return
                self.sample_rate = self.sample_rate or rate
            return
        if sample_rate is None:
            raise ValueError('Argument "sample_rate" is required when instantiating Audio with '
                             "raw data.")
        frames, channels = _pcm16(data_or_path)
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(channels)
            w.setsampwidth(2)
            w.setframerate(int(sample_rate))
            w.writeframes(frames)
        self._data, self._ext = buf.getvalue(), ".wav"
        self.duration = len(frames) // (2 * channels) / float(sample_rate)

    def _trackline_ref(self, writer, key, step):
        ref = {"_type": "audio-file"}
        if self._source is not None:
            ref.update(writer.copy_file("audio", key, step, self._source, self._ext))
        else:
            ref.update(writer.write_file("audio", key, step, self._data, self._ext))
        if self.caption is not None:
            ref["caption"] = self.caption
        if self.sample_rate is not None:
            ref["sample_rate"] = self.sample_rate
        if self.duration is not None:
            ref["duration"] = self.duration
        return ref

    @classmethod
    def _trackline_seq_ref(cls, writer, key, step, items):
        meta = {"_type": "audio", "count": len(items),
                "audio": [a._trackline_ref(writer, key, step) for a in items],
                "sampleRates": [a.sample_rate for a in items],
                "durations": [a.duration for a in items]}
        if any(a.caption is not None for a in items):
            meta["captions"] = ["" if a.caption is None else a.caption for a in items]
        return meta


def _pcm16(data):
    """(little-endian 16-bit PCM bytes, channels) of samples: an array, a tensor or lists."""
    if hasattr(data, "detach") and hasattr(data, "cpu"):
        data = data.detach().cpu().numpy()
    np = sys.modules.get("numpy")
    if np is not None and isinstance(data, np.ndarray):
        a = data
        if a.ndim not in (1, 2):
            raise ValueError("Audio data must be 1-D (mono) or 2-D (frames × channels)")
        channels = 1 if a.ndim == 1 else int(a.shape[1])
        if a.dtype.kind == "f":
            a = (np.clip(np.nan_to_num(a), -1.0, 1.0) * 32767.0).round()
        elif a.dtype.kind in "iu" and a.dtype.itemsize > 2:
            a = a.astype("int64") >> (8 * a.dtype.itemsize - 16)
        elif a.dtype.kind == "u" and a.dtype.itemsize == 1:
            a = (a.astype("int16") - 128) << 8
        elif a.dtype.kind not in "iu":
            raise TypeError("Audio data of %s cannot be converted" % a.dtype)
        return a.astype("<i2").tobytes(), channels
    samples = data.tolist() if hasattr(data, "tolist") else list(data)
    if samples and isinstance(samples[0], (list, tuple)):
        channels = len(samples[0])
        if any(len(s) != channels for s in samples):
            raise ValueError("Audio data: every frame needs %d channels" % channels)
        flat = [v for frame in samples for v in frame]
    else:
        channels, flat = 1, samples
    floats = any(isinstance(v, float) for v in flat)
    out = []
    for v in flat:
        if floats:
            v = 0.0 if v != v else min(1.0, max(-1.0, float(v)))
            v = int(round(v * 32767.0))
        out.append(min(32767, max(-32768, int(v))))
    return struct.pack("<%dh" % len(out), *out), channels


# -- video ---------------------------------------------------------------------------------------------
class Video(Media):
    """A video to log: ``Video(data_or_path, caption=None, fps=None, format=None)``.

    ``data_or_path`` is the path of a gif/mp4/webm/ogg file, its bytes (``bytes`` or a BytesIO,
    with ``format``), or frames as an array (time, channel, height, width) or (batch, time,
    channel, height, width), channel 1, 3 or 4. Frames become a GIF (``format`` "gif", the
    default here; ``fps`` default 4); mp4/webm/ogg from frames need ``pip install moviepy``."""

    _trackline_bind_once = True

    EXTS = ("gif", "mp4", "webm", "ogg")

    def __init__(self, data_or_path, caption=None, fps=None, format=None):
        self.caption = None if caption is None else str(caption)
        self.width = self.height = None
        self._source = self._data = None
        if fps and (isinstance(data_or_path, (str, bytes, io.BytesIO))
                    or hasattr(data_or_path, "__fspath__")):
            warn("`fps` argument does not affect the frame rate of the video when providing a "
                 "file path or raw bytes.", 3)
        if isinstance(data_or_path, (bytes, bytearray, io.BytesIO)):
            self.format = _video_format(format, "raw bytes")
            self._data = bytes(data_or_path.getvalue() if isinstance(data_or_path, io.BytesIO)
                               else data_or_path)
        elif isinstance(data_or_path, str) or hasattr(data_or_path, "__fspath__"):
            path = os.fspath(data_or_path)
            ext = os.path.splitext(path)[1][1:].lower()
            if ext not in self.EXTS:
                raise ValueError("Video accepts %s formats" % ", ".join(self.EXTS))
            if not os.path.isfile(path):
                raise ValueError("Video: no such file: %s" % path)
            self.format, self._source = ext, path
        else:
            self.format = _video_format(format or "gif", "frames")
            frames = _video_frames(data_or_path)
            _, self.height, self.width, _ = frames.shape
            if self.format == "gif":
                self._data = encode_gif(frames, fps or 4)
            else:
                self._data = _encode_with_moviepy(frames, fps or 4, self.format)

    def _trackline_ref(self, writer, key, step):
        ref = {"_type": "video-file"}
        ext = "." + self.format
        if self._source is not None:
            ref.update(writer.copy_file("videos", key, step, self._source, ext))
        else:
            ref.update(writer.write_file("videos", key, step, self._data, ext))
        if self.caption is not None:
            ref["caption"] = self.caption
        if self.width is not None:
            ref["width"] = self.width
            ref["height"] = self.height
        return ref

    @classmethod
    def _trackline_seq_ref(cls, writer, key, step, items):
        captions = [v.caption for v in items] if items[0].caption is not None else False
        return {"_type": "videos", "count": len(items),
                "videos": [v._trackline_ref(writer, key, step) for v in items],
                "captions": captions}


def _video_format(fmt, source):
    if fmt is None:
        raise ValueError("Video requires a `format` argument when initializing with %s." % source)
    fmt = str(fmt).lower()
    if fmt not in Video.EXTS:
        raise ValueError("Video accepts %s formats" % ", ".join(Video.EXTS))
    return fmt


def _video_frames(data):
    """(time, height, width, channel) uint8 frames, tiled from a batch as W&B (tensorboardX)."""
    if hasattr(data, "detach") and hasattr(data, "cpu"):
        data = data.detach().cpu().numpy()
    elif hasattr(data, "numpy") and not hasattr(data, "ndim"):
        data = data.numpy()
    np = sys.modules.get("numpy")
    if np is None or not hasattr(data, "ndim"):
        try:
            import numpy as np
        except ImportError:
            raise ValueError("Video from frames takes a numpy array (pip install numpy)") from None
        data = np.asarray(data)
    if data.ndim < 4 or data.ndim > 5:
        raise ValueError("Video must be 4 (time, channels, height, width) or 5 (batch, time, "
                         "channels, height, width) dimensional, not %d" % data.ndim)
    if data.ndim == 4:
        data = data.reshape(1, *data.shape)
    b, t, c, h, w = data.shape
    if c not in (1, 3, 4):
        raise ValueError("Video frames need 1, 3 or 4 channels, not %d" % c)
    if data.dtype != np.uint8:
        data = data.clip(0, 255).astype(np.uint8)
    if b & (b - 1):  # pad the batch to a power of two with black videos
        data = np.concatenate((data, np.zeros((2 ** b.bit_length() - b, t, c, h, w), np.uint8)))
    n_rows = 2 ** ((b.bit_length() - 1) // 2)
    n_cols = data.shape[0] // n_rows
    data = data.reshape(n_rows, n_cols, t, c, h, w).transpose(2, 0, 4, 1, 5, 3)
    return np.ascontiguousarray(data.reshape(t, n_rows * h, n_cols * w, c))


def _encode_with_moviepy(frames, fps, fmt):
    try:
        from moviepy.video.io.ImageSequenceClip import ImageSequenceClip
    except ImportError:
        try:
            from moviepy.editor import ImageSequenceClip
        except ImportError:
            raise ImportError(
                "Video(frames, format=%r) needs a video encoder: pip install moviepy (it brings "
                "ffmpeg through imageio-ffmpeg), or log format='gif', which needs nothing"
                % fmt) from None
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "video." + fmt)
        clip = ImageSequenceClip(list(frames if frames.shape[3] == 3 else frames[..., :3]), fps=fps)
        try:
            clip.write_videofile(path, logger=None)
        except TypeError:  # moviepy 1.x without the logger argument
            clip.write_videofile(path, verbose=False)
        with open(path, "rb") as f:
            return f.read()


# -- GIF -----------------------------------------------------------------------------------------------
def encode_gif(frames, fps):
    """An animated GIF (looping) of uint8 frames (time, height, width, channels 1/3/4).

    Each frame gets its own palette: its exact colours when it has at most 256, else a 6×7×6
    colour cube; pixels are then LZW-compressed (GIF's variable-width codes)."""
    t, height, width, channels = frames.shape
    delay = max(1, int(round(100.0 / fps)))  # hundredths of a second
    out = [b"GIF89a", struct.pack("<HHBBB", width, height, 0, 0, 0),
           b"!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"]  # loop forever
    for frame in frames:
        palette, indices = _quantize(frame)
        bits = max(1, (len(palette) - 1).bit_length())
        size = 1 << bits
        table = b"".join(palette) + b"\x00\x00\x00" * (size - len(palette))
        out.append(b"!\xf9\x04" + struct.pack("<BHBB", 0, delay, 0, 0))
        out.append(b"," + struct.pack("<HHHHB", 0, 0, width, height, 0x80 | (bits - 1)))
        out.append(table)
        min_code = max(2, bits)
        data = lzw_encode(indices, min_code)
        out.append(bytes([min_code]))
        for i in range(0, len(data), 255):
            block = data[i:i + 255]
            out.append(bytes([len(block)]) + block)
        out.append(b"\x00")
    out.append(b";")
    return b"".join(out)


def _quantize(frame):
    """(palette: list of 3-byte colours, indices: bytes) of one (height, width, channels) frame."""
    np = sys.modules["numpy"]
    if frame.shape[2] == 1:
        rgb = np.repeat(frame, 3, axis=2)
    else:
        rgb = frame[:, :, :3]
    packed = (rgb[:, :, 0].astype(np.uint32) << 16) | (rgb[:, :, 1].astype(np.uint32) << 8) \
        | rgb[:, :, 2].astype(np.uint32)
    colours, inverse = np.unique(packed.ravel(), return_inverse=True)
    if len(colours) <= 256:
        palette = [struct.pack(">I", int(c))[1:] for c in colours]
        return palette, inverse.astype(np.uint8).tobytes()
    levels = np.array([6, 7, 6])
    steps = (rgb.astype(np.uint16) * (levels - 1) + 127) // 255
    index = (steps[:, :, 0] * 42 + steps[:, :, 1] * 6 + steps[:, :, 2]).astype(np.uint8)
    palette = [bytes((r * 255 // 5, g * 255 // 6, b * 255 // 5))
               for r in range(6) for g in range(7) for b in range(6)]
    return palette, index.tobytes()


def lzw_encode(indices, min_code):
    """GIF's LZW of a sequence of palette indices (bytes), with ``min_code`` bits per index."""
    clear, end = 1 << min_code, (1 << min_code) + 1
    width = min_code + 1
    table = {bytes([i]): i for i in range(clear)}
    next_code = end + 1
    acc = nbits = 0
    out = bytearray()

    def emit(code):
        nonlocal acc, nbits
        acc |= code << nbits
        nbits += width
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8

    emit(clear)
    prefix = b""
    for i in range(len(indices)):
        symbol = indices[i:i + 1]
        grown = prefix + symbol
        if grown in table:
            prefix = grown
            continue
        emit(table[prefix])
        if next_code < 4095:
            table[grown] = next_code
            next_code += 1
            if next_code > (1 << width) and width < 12:
                width += 1
        else:  # the table is full (giflib's limit): start afresh
            emit(clear)
            table = {bytes([j]): j for j in range(clear)}
            next_code = end + 1
            width = min_code + 1
        prefix = symbol
    if prefix:
        emit(table[prefix])
        if next_code >= (1 << width) and width < 12:  # the decoder's table grew by one more
            width += 1
    emit(end)
    if nbits:
        out.append(acc & 0xFF)
    return bytes(out)

