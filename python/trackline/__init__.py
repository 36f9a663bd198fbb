"""Trackline: a local-first experiment tracker with the W&B client API.

Scripts written for W&B run unchanged with ``import trackline as wandb``::

    import trackline as wandb

    wandb.init(project="mnist", config={"lr": 0.01})
    for step in range(100):
        wandb.log({"Train Loss": 1.0 / (step + 1)})
    wandb.finish()

A run is a folder ``<root>/<project>/<run_id>/`` holding run.json, config.json, summary.json and
history.jsonl (docs/format.md). ``<root>`` is ``$TRACKLINE_DIR``, else ``./trackline``;
``init(dir=X)`` uses ``X/trackline``. Module attributes ``run``, ``config``, ``summary`` and ``log``
point at the active run between ``init()`` and ``finish()``.
"""

__version__ = "0.1.0"

from ._compat import define_metric, login, unwatch, watch
from ._config import Config
from ._errors import Error, TracklineWarning, warn as _warn
from ._names import DEFAULT_PROJECT as _DEFAULT_PROJECT, resolve_root as _resolve_root
from ._run import Run
from ._summary import Summary
from ._writer import FLUSH_INTERVAL, HEARTBEAT_INTERVAL
from . import _hooks

__all__ = [
    "init", "log", "finish", "save", "run", "config", "summary", "Run", "Config", "Summary",
    "Error", "TracklineWarning", "FLUSH_INTERVAL", "HEARTBEAT_INTERVAL", "login", "watch",
    "unwatch", "define_metric", "__version__",
]

CLIENT = "trackline-python " + __version__

# W&B arguments that are meaningless for a local tracker: accepted silently.
_SILENT_KWARGS = frozenset(("entity", "reinit", "anonymous", "allow_val_change", "force", "mode"))


class _PreInit:
    """Stands for ``trackline.config``/``summary`` while no run is active: any use raises Error."""

    def __init__(self, name):
        object.__setattr__(self, "_name", name)

    def _fail(self, *args, **kwargs):
        raise Error("call trackline.init() before using trackline.%s" % self._name)

    __getattr__ = __setattr__ = __delattr__ = _fail
    __getitem__ = __setitem__ = __delitem__ = __contains__ = __iter__ = __len__ = _fail

    def __bool__(self):
        return False

    def __repr__(self):
        return "<trackline.%s: no active run, call trackline.init()>" % self._name


def _log_preinit(data, step=None, commit=None, sync=None):
    """``trackline.log`` before ``init()``: raises Error. After init() it is the run's ``log``."""
    raise Error("call trackline.init() before trackline.log()")


run = None
config = _PreInit("config")
summary = _PreInit("summary")
log = _log_preinit


def init(
    project=None, name=None, config=None, group=None, tags=None, notes=None, job_type=None,
    dir=None, id=None, **kwargs
):
    """Start a run and make it the active one; returns the Run.

    An active run is finished first (W&B's reinit). Unknown W&B keyword arguments are accepted
    with a warning. ``id`` of an existing run resumes it (``resume="never"`` refuses instead).
    ``config`` may be a dict, an argparse.Namespace or any object with ``__dict__``."""
    resume = kwargs.pop("resume", None)
    unsupported = sorted(k for k in kwargs if k not in _SILENT_KWARGS)
    if kwargs.get("mode") == "disabled":
        unsupported.append("mode='disabled'")
    if unsupported:
        _warn("init() ignores unsupported argument(s): %s" % ", ".join(unsupported))
    if run is not None:
        run.finish()
    _hooks.install(_active_run)
    new = Run(
        root=_resolve_root(dir),
        project=project or _DEFAULT_PROJECT,
        name=name,
        config=config,
        group=group,
        tags=tags,
        notes=notes,
        job_type=job_type,
        run_id=id,
        resume=resume,
        client=CLIENT,
        on_finish=_deactivate,
    )
    _set_active(new)
    return new


def finish(exit_code=None, quiet=None):
    """Finish the active run (no-op without one): ``failed`` if ``exit_code`` is non-zero."""
    if run is not None:
        run.finish(exit_code=exit_code)


def save(glob_str=None, base_path=None, policy=None):
    """``run.save()`` of the active run."""
    if run is None:
        raise Error("call trackline.init() before trackline.save()")
    return run.save(glob_str, base_path, policy)


def _active_run():
    return run


def _set_active(new):
    global run, config, summary, log
    run, config, summary, log = new, new.config, new.summary, new.log


def _deactivate(finished):
    global run, config, summary, log
    if run is finished:
        run, config, summary, log = None, _PreInit("config"), _PreInit("summary"), _log_preinit
