"""Every environment variable the client reads, and how each one is resolved: the only module that
reads ``os.environ``.

Each name is a constant here, so ``grep`` finds every use of a variable, and each ``TRACKLINE_*``
name that has a W&B twin names it beside it (the ``TRACKLINE_*`` one wins when both are set). The
getters return plain values or None; what a bad value means (a warning, a default) is decided here
too, so a variable behaves the same wherever it is read.
"""

import os

#: Root directory of run folders (default ``./trackline``).
DIR = "TRACKLINE_DIR"
#: ``offline`` | ``online`` | ``disabled``; W&B's twin is ``WANDB_MODE``.
MODE = "TRACKLINE_MODE"
WANDB_MODE = "WANDB_MODE"
#: Address of a remote daemon (``http://host:port``); set, a run streams to it.
URL = "TRACKLINE_URL"
#: The remote daemon's write token.
API_KEY = "TRACKLINE_API_KEY"
#: Seconds between two flushes of buffered history lines.
FLUSH_INTERVAL = "TRACKLINE_FLUSH_INTERVAL"
#: Seconds between two system-metrics samples.
SYSTEM_INTERVAL = "TRACKLINE_SYSTEM_INTERVAL"
#: Truthy: no system metrics.
DISABLE_SYSTEM = "TRACKLINE_DISABLE_SYSTEM"
#: ``off``/``0``/``false``/``no``: no console capture.
CONSOLE = "TRACKLINE_CONSOLE"
#: Seconds ``finish()`` waits for the last uploads to a remote daemon.
UPLOAD_TIMEOUT = "TRACKLINE_UPLOAD_TIMEOUT"
#: A JSON object of sweep parameters for this run.
SWEEP_PARAMS = "TRACKLINE_SWEEP_PARAMS"
#: W&B's sweep agent: a JSON or YAML file of this run's sweep parameters.
WANDB_SWEEP_PARAM_PATH = "WANDB_SWEEP_PARAM_PATH"
#: The folder artifacts are downloaded under (default ``./artifacts``); W&B's twin is
#: ``WANDB_ARTIFACT_DIR``.
ARTIFACT_DIR = "TRACKLINE_ARTIFACT_DIR"
WANDB_ARTIFACT_DIR = "WANDB_ARTIFACT_DIR"
#: W&B's console setting (``off``, ``wrap``, ``redirect``, ``auto``); ``off`` turns capture off.
WANDB_CONSOLE = "WANDB_CONSOLE"
#: W&B's run folder parent: runs go to ``$WANDB_DIR/trackline`` when $TRACKLINE_DIR is unset.
WANDB_DIR = "WANDB_DIR"
#: W&B's old switch: truthy means ``mode="disabled"``.
WANDB_DISABLED = "WANDB_DISABLED"
#: Truthy: ``termlog`` and the client's own notices print nothing; W&B's twin is ``WANDB_SILENT``.
SILENT = "TRACKLINE_SILENT"
WANDB_SILENT = "WANDB_SILENT"
#: The sweep this run belongs to (set by a sweep agent); W&B's twin is ``WANDB_SWEEP_ID``.
SWEEP_ID = "TRACKLINE_SWEEP_ID"
WANDB_SWEEP_ID = "WANDB_SWEEP_ID"
#: ``init()`` arguments a launcher or a scheduler sets for the script, each a default the
#: argument overrides: ``init()`` keyword → (Trackline variable, W&B variable).
RUN_DEFAULTS = {
    "project": ("TRACKLINE_PROJECT", "WANDB_PROJECT"),
    "name": ("TRACKLINE_NAME", "WANDB_NAME"),
    "notes": ("TRACKLINE_NOTES", "WANDB_NOTES"),
    "tags": ("TRACKLINE_TAGS", "WANDB_TAGS"),
    "group": ("TRACKLINE_RUN_GROUP", "WANDB_RUN_GROUP"),
    "job_type": ("TRACKLINE_JOB_TYPE", "WANDB_JOB_TYPE"),
    "id": ("TRACKLINE_RUN_ID", "WANDB_RUN_ID"),
    "resume": ("TRACKLINE_RESUME", "WANDB_RESUME"),
}
#: Proxy settings honoured by urllib: when one is set, uploads go through urllib, not a raw socket.
PROXIES = ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY")


def get(name):
    """The value of ``name``, or None when it is unset or empty."""
    return os.environ.get(name) or None


def first(*names):
    """``(name, value)`` of the first of ``names`` that is set and not empty, else ``(names[0], None)``."""
    for name in names:
        value = os.environ.get(name)
        if value:
            return name, value
    return names[0], None


def mode():
    """``(name, value)`` of the mode variable in force: $TRACKLINE_MODE, else $WANDB_MODE."""
    return first(MODE, WANDB_MODE)


def artifact_dir():
    """The folder ``Artifact.download()`` writes ``<name>:v<N>/`` under: $TRACKLINE_ARTIFACT_DIR,
    else $WANDB_ARTIFACT_DIR, else None (``./artifacts``)."""
    return first(ARTIFACT_DIR, WANDB_ARTIFACT_DIR)[1]


def truthy(*names):
    """True when the first of ``names`` that is set holds a true value (``1``, ``true``, ``yes``,
    ``on``)."""
    value = first(*names)[1]
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def run_defaults():
    """The ``init()`` arguments the environment sets (see :data:`RUN_DEFAULTS`), parsed: tags as a
    list (comma-separated), resume as W&B reads ``WANDB_RESUME`` (``true``/``1`` mean True)."""
    out = {}
    for arg, names in RUN_DEFAULTS.items():
        value = first(*names)[1]
        if value is None:
            continue
        if arg == "tags":
            value = [tag.strip() for tag in value.split(",") if tag.strip()]
        elif arg == "resume":
            lowered = value.strip().lower()
            value = True if lowered in ("1", "true", "yes") else lowered
        out[arg] = value
    return out


def console():
    """The console setting: $TRACKLINE_CONSOLE, else ``off`` when $WANDB_CONSOLE is ``off``."""
    value = get(CONSOLE)
    if value is None and (get(WANDB_CONSOLE) or "").strip().lower() == "off":
        return "off"
    return value


def any_proxy():
    """True when a proxy is configured for urllib (see :data:`PROXIES`)."""
    return any(get(name) for name in PROXIES)


def child_environment(**overrides):
    """A copy of this process's environment with ``overrides``, for a child process."""
    return dict(os.environ, **overrides)


#: Set (to ``1``) where ``import wandb`` is Trackline (``_as_wandb.py``), inherited by children.
AS_WANDB = "TRACKLINE_AS_WANDB"


def export(name, value):
    """Set ``name`` for this process and the processes it starts (``as_wandb()``'s path)."""
    os.environ[name] = value
