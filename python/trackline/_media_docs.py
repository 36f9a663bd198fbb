"""Media shown by a viewer of its own: ``Html``, ``Plotly`` (and matplotlib figures), ``Object3D``
(W&B's ``wandb.Html``, ``wandb.Plotly``, ``wandb.Object3D``), written as W&B writes them.

- ``html-file``: ``media/html/<key>_<step>_<h>.html``; a list is ``{"_type": "html", "count",
  "html": [refs]}``.
- ``plotly-file``: ``media/plotly/<key>_<step>_<h>.plotly.json``, the figure's
  ``to_plotly_json()``. A matplotlib figure becomes plotly JSON through plotly's own converter
  (``plotly.tools.mpl_to_plotly``) as in W&B; where that is missing or fails, or the figure holds
  images, it becomes a PNG ``image-file`` instead -- never its repr.
- ``object3D-file``: ``media/object3D/<key>_<step>_<h>.<obj|gltf|glb|babylon|stl|pts.json>``;
  point clouds (N×3 xyz, N×4 xyz+category, N×6 xyz+rgb) as ``pts.json``; a list is
  ``{"_type": "object3D", "filenames": [names within media/object3D], "count", "objects":
  [refs]}``."""

import os
import warnings

from ._media_base import Media, compact_json
from ._values import to_json


# -- HTML ----------------------------------------------------------------------------------------------
#: What ``inject=True`` adds in the head: links open in a new tab, and a plain page style. W&B
#: links its own stylesheet from its servers here; a local tracker's pages load nothing remote.
_INJECTED_HEAD = ('<base target="_blank"><style>body{margin:0;font-family:-apple-system,'
                  'system-ui,sans-serif;line-height:1.4}</style>')


class Html(Media):
    """HTML to log: ``Html(data, inject=True, data_is_not_path=False)``.

    ``data`` is the path of a ``.html`` file, a string of HTML, or a file-like object.
    ``inject`` adds ``<base target="_blank">`` and a plain style to the head. The dashboard shows
    it in a sandboxed frame that cannot reach the page or the API."""

    _trackline_bind_once = True

    def __init__(self, data, inject=True, data_is_not_path=False):
        is_path = (isinstance(data, str) or hasattr(data, "__fspath__")) and not data_is_not_path \
            and os.path.isfile(data) and os.path.splitext(os.fspath(data))[1] == ".html"
        if is_path:
            with open(data, encoding="utf-8") as f:
                self.html = f.read()
        elif isinstance(data, str):
            self.html = data
        elif hasattr(data, "read"):
            if hasattr(data, "seek"):
                data.seek(0)
            text = data.read()
            self.html = text.decode("utf-8") if isinstance(text, bytes) else text
        else:
            raise ValueError("data must be a string or an io object")
        if inject:
            self.html = _inject_head(self.html)

    def _trackline_ref(self, writer, key, step):
        ref = {"_type": "html-file"}
        ref.update(writer.write_file("html", key, step, self.html.encode("utf-8"), ".html"))
        return ref

    @classmethod
    def _trackline_seq_ref(cls, writer, key, step, items):
        return {"_type": "html", "count": len(items),
                "html": [h._trackline_ref(writer, key, step) for h in items]}


def _inject_head(html):
    """W&B's ``Html.inject_head``, with a local style in place of its remote stylesheet."""
    if "<head>" in html:
        before, after = html.split("<head>", 1)
        parts = [before + "<head>", after]
    elif "<html>" in html:
        before, after = html.split("<html>", 1)
        parts = [before + "<html><head>", "</head>" + after]
    else:
        parts = ["", html]
    parts.insert(1, _INJECTED_HEAD)
    return "".join(parts).strip()


# -- plotly and matplotlib -----------------------------------------------------------------------------
class Plotly(Media):
    """A plotly figure to log: ``Plotly(figure)``; a matplotlib figure is converted to plotly
    (or, where plotly cannot convert it, logged as a PNG image)."""

    _trackline_bind_once = True

    def __init__(self, val):
        self._image = None
        self._json = None
        if _is_matplotlib(val):
            converted = _mpl_to_plotly(val)
            if converted is None:
                from ._media_image import Image

                self._image = Image(val)
                return
            val = converted
        if hasattr(val, "to_plotly_json"):
            data = val.to_plotly_json()
        elif isinstance(val, dict) and "data" in val:
            data = val
        else:
            raise ValueError("Logged plots must be plotly figures, or matplotlib plots "
                             "convertible to plotly via mpl_to_plotly")
        self._json = compact_json(data)

    def _trackline_ref(self, writer, key, step):
        if self._image is not None:
            return self._image._trackline_ref(writer, key, step)
        ref = {"_type": "plotly-file"}
        ref.update(writer.write_file("plotly", key, step, self._json, ".plotly.json"))
        return ref


def plot_media(value):
    """What a matplotlib object (a Figure, ``pyplot``, an Axes) logged directly becomes: a
    :class:`Plotly` where plotly converts it (as W&B's ``Plotly.make_plot_media``), else a PNG
    :class:`Image`."""
    from ._media_image import Image, matplotlib_figure

    figure = matplotlib_figure(value)
    if figure is None:
        raise TypeError("cannot log a %s as a figure" % type(value).__name__)
    if any(len(getattr(ax, "images", ())) for ax in getattr(figure, "axes", ())):
        return Image(figure)
    return Plotly(figure)


def _is_matplotlib(value):
    module = type(value).__module__ or ""
    return module.startswith("matplotlib.") or getattr(value, "__name__", None) == "matplotlib.pyplot"


def _mpl_to_plotly(value):
    """plotly's conversion of a matplotlib figure, or None where plotly is missing, the figure
    holds images or the converter fails (it does for many figures of recent matplotlib)."""
    from ._media_image import matplotlib_figure

    figure = matplotlib_figure(value)
    if figure is None or any(len(getattr(ax, "images", ())) for ax in figure.axes):
        return None
    try:
        import plotly.tools
        from matplotlib.spines import Spine
    except ImportError:
        return None
    if not hasattr(Spine, "is_frame_like"):  # removed from matplotlib; plotly's converter uses it
        Spine.is_frame_like = _spine_is_frame_like
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return plotly.tools.mpl_to_plotly(figure)
    except Exception:
        return None


def _spine_is_frame_like(self):
    """matplotlib's former ``Spine.is_frame_like`` (W&B restores it the same way)."""
    position = self._position or ("outward", 0.0)
    if isinstance(position, str):
        position = {"center": ("axes", 0.5), "zero": ("data", 0)}.get(position, position)
    if len(position) != 2:
        raise ValueError("position should be 2-tuple")
    position_type, amount = position
    return bool(position_type == "outward" and amount == 0)


# -- 3-D objects ---------------------------------------------------------------------------------------
class Object3D(Media):
    """A 3-D object to log: ``Object3D(data_or_path, caption=None, file_type=None)``.

    ``data_or_path`` is the path of an ``obj``/``gltf``/``glb``/``babylon``/``stl``/``pts.json``
    file, a file object (with ``file_type``), a point cloud (an N×3, N×4 or N×6 array or nested
    list: xyz, xyz + category 1..14, xyz + rgb), or a ``{"type": "lidar/beta", "points",
    "boxes", "vectors"}`` scene."""

    _trackline_bind_once = True

    SUPPORTED_TYPES = ("obj", "gltf", "glb", "babylon", "stl", "pts.json")

    def __init__(self, data_or_path, caption=None, **kwargs):
        self.caption = None if caption is None else str(caption)
        self._source = None
        if hasattr(data_or_path, "name") and hasattr(data_or_path, "read"):
            data_or_path = data_or_path.name  # an open file: W&B reads it by name
        if hasattr(data_or_path, "read"):
            if hasattr(data_or_path, "seek"):
                data_or_path.seek(0)
            content = data_or_path.read()
            ext = kwargs.pop("file_type", None)
            if ext is None:
                raise ValueError("Must pass file type keyword argument when using io objects.")
            if ext not in self.SUPPORTED_TYPES:
                raise ValueError("Object 3D only supports numpy arrays or files of the type: "
                                 + ", ".join(self.SUPPORTED_TYPES))
            self._data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
            self._ext = "." + ext
        elif isinstance(data_or_path, str) or hasattr(data_or_path, "__fspath__"):
            path = os.fspath(data_or_path)
            ext = next((t for t in self.SUPPORTED_TYPES if path.endswith(t)), None)
            if ext is None:
                raise ValueError("File '%s' is not compatible with Object3D: supported types are: %s"
                                 % (path, ", ".join(self.SUPPORTED_TYPES)))
            if not os.path.isfile(path):
                raise ValueError("Object3D: no such file: %s" % path)
            self._source, self._ext, self._data = path, "." + ext, None
        elif isinstance(data_or_path, dict) and "type" in data_or_path:
            if data_or_path["type"] != "lidar/beta":
                raise ValueError("Type not supported, only 'lidar/beta' is currently supported")
            scene = {"type": "lidar/beta"}
            for field in ("vectors", "points", "boxes"):
                scene[field] = to_json(data_or_path.get(field, []))
            self._data, self._ext = compact_json(scene), ".pts.json"
        else:
            points = to_json(data_or_path.tolist() if hasattr(data_or_path, "tolist") else data_or_path)
            if not isinstance(points, list) or not all(
                    isinstance(p, list) and len(p) == len(points[0]) for p in points) \
                    or not points or len(points[0]) not in (3, 4, 6):
                raise ValueError("The shape of the point cloud must be N×3 [[x y z], ...], N×4 "
                                 "[[x y z c], ...] (c a category 1..14) or N×6 [[x y z r g b], ...]")
            self._data, self._ext = compact_json(points), ".pts.json"

    @classmethod
    def from_file(cls, data_or_path, file_type=None):
        return cls(data_or_path, file_type=file_type)

    @classmethod
    def from_numpy(cls, data):
        return cls(data)

    @classmethod
    def from_point_cloud(cls, points, boxes, vectors=None, point_cloud_type="lidar/beta"):
        """A ``lidar/beta`` scene: points (``{"position", "category"|"color"}``), 3-D boxes
        (``{"corners", "label", "color", "score"?}``) and optional vectors, as in W&B."""
        return cls({"type": point_cloud_type, "points": points, "boxes": boxes,
                    "vectors": vectors or []})

    def _trackline_ref(self, writer, key, step):
        ref = {"_type": "object3D-file"}
        if self._source is not None:
            ref.update(writer.copy_file("object3D", key, step, self._source, self._ext))
        else:
            ref.update(writer.write_file("object3D", key, step, self._data, self._ext))
        if self.caption is not None:
            ref["caption"] = self.caption
        return ref

    @classmethod
    def _trackline_seq_ref(cls, writer, key, step, items):
        refs = [o._trackline_ref(writer, key, step) for o in items]
        prefix = "media/object3D/"
        return {"_type": "object3D", "filenames": [r["path"][len(prefix):] for r in refs],
                "count": len(refs), "objects": refs}
