"""``trackline.Image`` (W&B's ``wandb.Image``) with its mask and bounding-box overlays, and how a
logged image, or a list of them, is written.

One image: ``media/images/<key>_<step>_<sha256[:20]>.png`` and the ref ``{"_type": "image-file",
"path", "sha256", "size", "format", "width", "height", "caption"?, "grouping"?, "masks"?,
"boxes"?, "class_labels"?}``. A mask layer is a grey PNG of class ids,
``media/images/mask/<key>_<step>_<h>.mask.png`` (ref ``{"_type": "mask", ...}``); a box layer the
JSON W&B writes, ``media/metadata/boxes2D/<key>_<step>_<h>.boxes2D.json`` (ref ``{"_type":
"boxes2D", ...}``). ``class_labels`` (class id → name over all layers) is Trackline's addition, so
the dashboard can name classes without opening each layer's file. A list of images under one key
is W&B's single ``images/separated`` object (at most 108 images, as W&B)."""

import io
import numbers
import os
import re

from ._errors import warn
from ._media_base import Media, compact_json
from ._media_pixels import encode_png, image_size, to_pixels
from ._values import to_json

_MODE_CHANNELS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}
_DATA_FORMATS = ("png", "jpg", "jpeg", "bmp")
_IMAGE_EXTENSIONS = {"png", "jpg", "jpeg", "gif", "bmp", "webp", "svg", "tif", "tiff"}


class Image(Media):
    """An image to log: ``Image(data_or_path, mode=None, caption=None, grouping=None,
    classes=None, boxes=None, masks=None, file_type=None, normalize=True)``.

    ``data_or_path`` is a numpy array (``H×W``, ``H×W×C`` with C in 1..4, or ``C×H×W``), a torch
    tensor, a nested list of rows (of numbers or of channel lists), a PIL image, a matplotlib
    figure (or ``pyplot``, or an Axes), another Image (its pixels, not its overlays), or the path
    of an image file (copied as is). uint8 data is taken as is; other numbers are scaled as
    earlier W&B clients did (negative data rescaled to 0..1, data within 0..1 times 255,
    then clipped to 0..255; ``normalize=False``: only clipped). ``file_type`` is ``png``
    (default, encoded without PIL), ``jpg``/``jpeg`` or ``bmp`` (need Pillow).

    ``masks={"pred": {"mask_data": 2-D ints 0..255, "class_labels": {1: "cat"}}}`` (or
    ``{"path": "mask.png"}``) and ``boxes={"gt": {"box_data": [{"position": {"minX", "maxX",
    "minY", "maxY"} or {"middle": [x, y], "width", "height"}, "domain": "pixel"?, "class_id",
    "box_caption"?, "scores"?}], "class_labels": {...}}}`` are W&B's overlay formats;
    ``classes`` a list of ``{"id", "name"}``. The image is encoded when the object is made."""

    _trackline_bind_once = True

    MAX_ITEMS = 108

    def __init__(self, data_or_path, mode=None, caption=None, grouping=None, classes=None,
                 boxes=None, masks=None, file_type=None, normalize=True):
        self.caption = None if caption is None else str(caption)
        self.mode = mode
        self.grouping = grouping
        self._data, self.format, self.width, self.height = _encode_image(
            data_or_path, mode, normalize, file_type)
        self._masks = _layers(masks, ImageMask, "masks")
        self._boxes = _layers(boxes, BoundingBoxes2D, "boxes")
        labels, named = {}, {}  # W&B's default names (class_<id>) yield to given ones
        for layer in list(self._boxes.values()) + list(self._masks.values()):
            (named if layer.labels_given else labels).update(layer.class_labels)
        for cls in _class_list(classes):
            named[str(cls["id"])] = str(cls["name"])
        labels.update(named)
        self.class_labels = labels

    def __repr__(self):
        return "<trackline.Image %s %sx%s>" % (self.format, self.width, self.height)

    @property
    def image(self):
        """The picture as a PIL image (W&B's ``Image.image``); needs Pillow."""
        try:
            from PIL import Image as PILImage
        except ImportError:
            raise ImportError("Image.image needs Pillow: pip install pillow") from None
        return PILImage.open(io.BytesIO(self._data))

    def _trackline_ref(self, writer, key, step):
        ref = {"_type": "image-file"}
        ref.update(writer.write_file("images", key, step, self._data, "." + self.format))
        ref.update({"format": self.format, "width": self.width, "height": self.height})
        if self.caption is not None:
            ref["caption"] = self.caption
        if self.grouping:
            ref["grouping"] = self.grouping
        if self._boxes:
            ref["boxes"] = {k: b._trackline_ref(writer, key, step) for k, b in self._boxes.items()}
        if self._masks:
            ref["masks"] = {k: m._trackline_ref(writer, key, step) for k, m in self._masks.items()}
        if self.class_labels:
            ref["class_labels"] = dict(self.class_labels)
        return ref

    @classmethod
    def _trackline_seq_ref(cls, writer, key, step, images):
        """W&B's ``images/separated``: one object for the list (``Image.seq_to_json``)."""
        if len(images) > cls.MAX_ITEMS:
            warn("only %d of the %d images logged under %r are kept (W&B's limit)"
                 % (cls.MAX_ITEMS, len(images), key), 4)
            images = images[:cls.MAX_ITEMS]
        refs = [image._trackline_ref(writer, key, step) for image in images]
        first = images[0]
        if any((i.width, i.height) != (first.width, first.height) for i in images):
            warn("the images logged under %r differ in size; they are shown at the first's" % key, 4)
        meta = {"_type": "images/separated", "width": first.width, "height": first.height,
                "format": first.format, "count": len(images),
                "filenames": [ref["path"] for ref in refs]}
        if first.caption is not None:  # W&B: captions only when the first image has one
            meta["captions"] = [i.caption for i in images]
        for field, name in (("masks", "all_masks"), ("boxes", "all_boxes")):
            if any(field in ref for ref in refs):
                meta[name] = [ref.get(field) for ref in refs]
        labels = {}
        for image in images:
            labels.update(image.class_labels)
        if labels:
            meta["class_labels"] = labels
        return meta


def _class_list(classes):
    if classes is None:
        return []
    items = getattr(classes, "_class_set", classes)  # a wandb.Classes-like object, or a list
    out = []
    for item in items:
        if not isinstance(item, dict) or "id" not in item or "name" not in item:
            raise TypeError("Image(classes=...) takes a list of {'id': ..., 'name': ...} dicts")
        out.append(item)
    return out


def _layers(layers, kind, argument):
    """``{name: kind}`` from W&B's ``masks=``/``boxes=`` argument."""
    if not layers:
        return {}
    if not isinstance(layers, dict):
        raise ValueError('Image "%s" argument must be a dictionary' % argument)
    out = {}
    for name, layer in layers.items():
        if isinstance(layer, kind):
            out[str(name)] = layer
        elif isinstance(layer, dict):
            out[str(name)] = kind(layer, str(name))
        else:
            raise TypeError("Image(%s=...): layer %r is a %s, not a dict" % (argument, name,
                                                                             type(layer).__name__))
    return out


# -- encoding ------------------------------------------------------------------------------------------
def _encode_image(data, mode, normalize=True, file_type=None):
    """Return (bytes, format, width, height)."""
    if isinstance(data, Image):
        return data._data, data.format, data.width, data.height
    if isinstance(data, (str, bytes)) or hasattr(data, "__fspath__"):
        return _image_file(os.fsdecode(os.fspath(data)))
    fmt = (file_type or "png").lower()
    if fmt not in _DATA_FORMATS:
        raise ValueError("Image(file_type=%r): use one of %s" % (file_type, ", ".join(_DATA_FORMATS)))
    if hasattr(data, "save") and hasattr(data, "size") and hasattr(data, "mode"):
        return _pil_image(data, mode, fmt)
    figure = matplotlib_figure(data)
    if figure is not None:
        buf = io.BytesIO()
        figure.savefig(buf, format="png")
        png = buf.getvalue()
        try:  # Pillow comes with matplotlib (>= 3.3); W&B re-saves the figure's PNG through it
            pil = _pil_module()
        except ImportError:
            width, height = image_size(png)
            return png, "png", width, height
        with pil.open(io.BytesIO(png)) as image:
            image.load()
            return _pil_image(image, mode, fmt)
    try:
        width, height, channels, pixels, rows = to_pixels(data, normalize)
    except TypeError as exc:
        raise TypeError("Image() takes an array, a tensor, a PIL image, a matplotlib figure, a "
                        "nested list or a file path, not %s" % type(data).__name__) from exc
    if fmt != "png" or mode is not None and _MODE_CHANNELS.get(mode) != channels:
        pil = _pil_module().frombytes({1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[channels],
                                      (width, height), pixels)
        return _pil_image(pil, mode, fmt)
    return encode_png(width, height, channels, pixels, rows), "png", width, height


def matplotlib_figure(value):
    """The matplotlib Figure behind ``value`` (a Figure, ``pyplot``, an Axes or other artist),
    else None. matplotlib is not imported: it is recognised by its module name."""
    module = type(value).__module__ or ""
    if getattr(value, "__name__", None) == "matplotlib.pyplot":
        return value.gcf()
    if not module.startswith("matplotlib."):
        if callable(getattr(value, "savefig", None)) and not isinstance(value, type):
            return value  # a Figure-like object (savefig(file, format=...))
        return None
    if callable(getattr(value, "savefig", None)):
        return value
    figure = getattr(value, "figure", None)
    if figure is not None and callable(getattr(figure, "savefig", None)):
        return figure
    return None


def _pil_module():
    try:
        from PIL import Image as pil
    except ImportError:
        raise ImportError("Image(file_type='jpg'/'bmp') and Image(mode=...) converting the "
                          "pixels need Pillow: pip install pillow") from None
    return pil


def _pil_image(image, mode, fmt="png"):
    if mode is not None and image.mode != mode:
        image = image.convert(mode)
    if fmt in ("jpg", "jpeg") and image.mode not in ("L", "RGB", "CMYK"):
        image = image.convert("RGB")
    elif image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
        image = image.convert("RGBA" if "A" in image.mode else "RGB")
    buf = io.BytesIO()
    image.save(buf, format={"jpg": "JPEG", "jpeg": "JPEG"}.get(fmt, fmt.upper()), transparency=None)
    width, height = image.size
    return buf.getvalue(), fmt, int(width), int(height)


def _image_file(path):
    with open(path, "rb") as f:
        data = f.read()
    ext = os.path.splitext(path)[1].lstrip(".")  # W&B keeps the extension as written
    if not re.fullmatch(r"[A-Za-z0-9]{1,8}", ext or "-"):
        ext = "bin"
    if ext.lower() not in _IMAGE_EXTENSIONS:
        warn("Image(%r): not a known image file type; copied as is" % path, 5)
    width, height = image_size(data)
    return data, ext, width, height


# -- overlays ------------------------------------------------------------------------------------------
class ImageMask(Media):
    """A segmentation mask over an image (W&B's ``wandb.data_types.ImageMask(val, key)``):
    ``val`` holds ``mask_data`` (2-D class ids 0..255: an array, a tensor or nested lists) and
    optional ``class_labels`` (default ``class_<id>`` for every id present), or the ``path`` of a
    mask PNG."""

    def __init__(self, val, key):
        self.key = key
        if "path" in val:
            with open(os.fspath(val["path"]), "rb") as f:
                self._png = f.read()
            self.class_labels = _labels(val.get("class_labels") or {})
            self.labels_given = True
            return
        if "mask_data" not in val:
            raise TypeError('Missing key "mask_data": an image mask requires mask data: a 2D '
                            "array of class ids")
        width, height, pixels, rows = _mask_pixels(val["mask_data"])
        self.labels_given = "class_labels" in val
        if "class_labels" in val:
            self.class_labels = _labels(val["class_labels"])
        else:
            self.class_labels = {str(c): "class_%d" % c for c in sorted(set(pixels))}
        self._png = encode_png(width, height, 1, pixels, rows)

    def _trackline_ref(self, writer, key, step):
        ref = {"_type": "mask"}
        ref.update(writer.write_file("images/mask", key, step, self._png, ".mask.png"))
        return ref


def _mask_pixels(data):
    if hasattr(data, "detach") and hasattr(data, "cpu"):
        data = data.detach().cpu().numpy()
    shape = getattr(data, "shape", None)
    if shape is not None:
        if len(shape) != 2:
            raise TypeError("mask_data must be a 2D array")
        if data.size and (int(data.min()) < 0 or int(data.max()) > 255):
            raise TypeError("Mask data must be integers between 0 and 255")
        a = data.astype("uint8")
        return int(shape[1]), int(shape[0]), a.tobytes(), a
    rows = [list(r) for r in data]
    if not rows or not isinstance(rows[0], list) or any(len(r) != len(rows[0]) for r in rows):
        raise TypeError("mask_data must be a 2D array")
    flat = [int(v) for r in rows for v in r]
    if any(v < 0 or v > 255 for v in flat):
        raise TypeError("Mask data must be integers between 0 and 255")
    return len(rows[0]), len(rows), bytes(flat), None


def _labels(class_labels):
    out = {}
    for k, v in dict(class_labels).items():
        if isinstance(k, bool) or not isinstance(k, (numbers.Number, str)) or not isinstance(v, str):
            raise TypeError("Class labels must be a dictionary of numbers to strings")
        out[str(int(k)) if isinstance(k, numbers.Number) else k] = v
    return out


class BoundingBoxes2D(Media):
    """2-D boxes over an image (W&B's ``wandb.data_types.BoundingBoxes2D(val, key)``): ``val``
    holds ``box_data`` and optional ``class_labels``; written as W&B writes it (the dict as
    given, as JSON)."""

    def __init__(self, val, key):
        self.key = key
        val = dict(val)
        boxes = to_json(val.get("box_data"))
        val["box_data"] = boxes
        _validate_boxes(val)
        self.labels_given = "class_labels" in val
        if "class_labels" in val:
            self.class_labels = _labels(val["class_labels"])
        else:
            ids = sorted({int(b["class_id"]) for b in boxes if "class_id" in b})
            self.class_labels = {str(c): "class_%d" % c for c in ids}
        self._json = compact_json(val)

    def _trackline_ref(self, writer, key, step):
        ref = {"_type": "boxes2D"}
        ref.update(writer.write_file("metadata/boxes2D", key, step, self._json, ".boxes2D.json"))
        return ref


def _is_number(value):
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def _validate_boxes(val):
    """W&B's ``BoundingBoxes2D.validate``: the same checks, the same messages."""
    if "class_labels" in val:
        _labels(val["class_labels"])
    boxes = val["box_data"]
    if not isinstance(boxes, list):
        raise TypeError("Boxes must be a list")
    for box in boxes:
        position = box.get("position") if isinstance(box, dict) else None
        valid = isinstance(position, dict) and (
            isinstance(position.get("middle"), list) and len(position["middle"]) == 2
            and _is_number(position.get("width")) and _is_number(position.get("height"))
            or all(_is_number(position.get(k)) for k in ("minX", "maxX", "minY", "maxY")))
        if not valid:
            raise TypeError("Each box must contain a position with: middle, width, and height "
                            "or minX, maxX, minY, maxY.")
        if "scores" in box:
            if not isinstance(box["scores"], dict):
                raise TypeError("Box scores must be a dictionary")
            for k, v in box["scores"].items():
                if not isinstance(k, str):
                    raise TypeError("A score key must be a string")
                if not _is_number(v):
                    raise TypeError("A score value must be a number")
        if "class_id" in box and (isinstance(box["class_id"], bool)
                                  or not isinstance(box["class_id"], int)):
            raise TypeError("A box's class_id must be an integer")
        if "box_caption" in box and not isinstance(box["box_caption"], str):
            raise TypeError("A box's caption must be a string")
