"""Run ids, default run names, the root directory, and validation of names (docs/format.md).

Run ids are 8 lowercase base-36 characters, like W&B's. Default run names follow W&B's
``adjective-noun-N`` style, where N is the run's number within its project folder.
"""

import os

from . import _env

DEFAULT_PROJECT = "uncategorized"

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_RUN_ID_CHARS = frozenset(_ALPHABET + _ALPHABET[10:].upper() + "_-")

_ADJECTIVES = (
    "amber", "bold", "brisk", "calm", "clever", "cosmic", "crimson", "dainty", "dashing", "deft",
    "eager", "fancy", "fiery", "gentle", "glowing", "golden", "hardy", "hazy", "icy", "jolly",
    "kind", "lively", "lucky", "misty", "noble", "polar", "proud", "quiet", "rosy", "rustic",
    "silent", "smooth", "snowy", "solar", "stellar", "sunny", "swift", "twilight", "vivid", "wild",
)
_NOUNS = (
    "aurora", "bird", "breeze", "brook", "cloud", "comet", "dawn", "dew", "dream", "dust",
    "field", "firefly", "flower", "forest", "frost", "galaxy", "glade", "grass", "haze", "hill",
    "lake", "leaf", "meadow", "moon", "morning", "mountain", "night", "ocean", "pine", "planet",
    "rain", "river", "sea", "shadow", "sky", "snow", "star", "sun", "thunder", "wave",
)


def new_run_id():
    """A fresh random run id: 8 lowercase base-36 characters."""
    n = int.from_bytes(os.urandom(8), "big")
    chars = []
    for _ in range(8):
        n, r = divmod(n, 36)
        chars.append(_ALPHABET[r])
    return "".join(chars)


def default_name(project_dir):
    """A W&B-style display name, ``adjective-noun-N``: N counts the run folders in ``project_dir``,
    the new run's own folder (already created) included."""
    try:
        count = sum(1 for e in os.scandir(project_dir) if e.is_dir() and not e.name.startswith("."))
    except OSError:
        count = 0
    r = int.from_bytes(os.urandom(4), "big")
    return "%s-%s-%d" % (_ADJECTIVES[r % len(_ADJECTIVES)], _NOUNS[(r >> 16) % len(_NOUNS)], max(count, 1))


def check_project(project):
    """Raise ValueError unless ``project`` is a valid project folder name."""
    if (
        not isinstance(project, str)
        or not project
        or len(project) > 128
        or project.startswith(".")
        or any(c in project for c in "/\\\0")
    ):
        raise ValueError(
            "invalid project name %r: use 1 to 128 characters, no '/', '\\' or NUL, "
            "not starting with '.'" % (project,)
        )


def check_run_id(run_id):
    """Raise ValueError unless ``run_id`` matches ``[A-Za-z0-9_-]{1,64}``."""
    if (
        not isinstance(run_id, str)
        or not 1 <= len(run_id) <= 64
        or not _RUN_ID_CHARS.issuperset(run_id)
    ):
        raise ValueError("invalid run id %r: use 1 to 64 of A-Z a-z 0-9 _ -" % (run_id,))


def resolve_root(dir=None):
    """The absolute root directory: ``<dir>/trackline``, else ``$TRACKLINE_DIR``, else
    ``$WANDB_DIR/trackline``, else ``./trackline``."""
    if dir is None and not _env.get(_env.DIR):
        dir = _env.get(_env.WANDB_DIR)
    if dir is not None:
        root = os.path.join(os.fspath(dir), "trackline")
    else:
        root = _env.get(_env.DIR) or "trackline"
    return os.path.abspath(root)
