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
point at the active run between ``init()`` and ``finish()``. ``Api()`` reads runs back.
"""

__version__ = "0.1.0"


from ._compat import AlertLevel, Settings, login, require, setup
from ._config import Config, init_config as _init_config
from ._errors import (
    CommError, ConfigError, Error, TracklineWarning, UsageError, termerror, termlog, termwarn,
    warn as _warn,
)
from ._names import DEFAULT_PROJECT as _DEFAULT_PROJECT, resolve_root as _resolve_root
from ._summary import Summary
from ._wandb_run import Run
from ._writer import FLUSH_INTERVAL, HEARTBEAT_INTERVAL
from . import _env, _hooks
from ._extras import setting as _setting

__all__ = [
    "init", "log", "finish", "save", "run", "config", "summary", "define_metric", "watch",
    "unwatch", "alert", "login", "Run", "Config", "Summary", "Metric", "Image", "Histogram",
    "Table", "Api", "Settings", "AlertLevel", "Error", "UsageError", "ConfigError", "CommError",
    "TracklineWarning", "termlog", "termwarn", "termerror", "require", "setup", "FLUSH_INTERVAL",
    "HEARTBEAT_INTERVAL", "__version__",
    "Audio", "Video", "Html", "Plotly", "Object3D", "ImageMask", "BoundingBoxes2D",
    "Artifact", "log_artifact", "use_artifact", "log_model", "use_model", "link_artifact",
    "link_model", "sweep", "agent",
]

CLIENT = "trackline-python " + __version__

# Imported on first use (PEP 562), so that `import trackline` stays light for scripts without them.
_LAZY = {"as_wandb": "_as_wandb", "tensorboard": "tensorboard", "sweep": "_sweeps",
         "agent": "_sweeps", "Image": "_media", "Histogram": "_media", "Table": "_media", "Api": "_public",
         "Metric": "_metrics", "Report": "_reports", "reports": "reports", "plot": "plot", "errors": "errors",
         "plot_table": "plot", "visualize": "plot", "Artifact": "_artifacts"}
_LAZY.update({"Audio": "_media_av", "Video": "_media_av", "Html": "_media_docs",
              "Plotly": "_media_docs", "Object3D": "_media_docs", "ImageMask": "_media_image",
              "BoundingBoxes2D": "_media_image"})


# Modules W&B names at the top level (``wandb.lightgbm.wandb_callback``), imported on first use.
_LAZY_MODULES = {"lightgbm": "integration.lightgbm", "xgboost": "integration.xgboost",
                 "sklearn": "integration.sklearn", "keras": "integration.keras"}


def __getattr__(name):
    if name in _LAZY_MODULES:
        import importlib

        value = globals()[name] = importlib.import_module("." + _LAZY_MODULES[name], __name__)
        return value
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError("module 'trackline' has no attribute %r" % (name,))
    import importlib

    imported = importlib.import_module("." + module, __name__)
    value = imported if module == name else getattr(imported, name)  # `reports` is a module
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | set(_LAZY_MODULES))

# W&B arguments of init() that mean nothing for this tracker: accepted silently.
_SILENT_KWARGS = frozenset(("anonymous", "force", "magic"))

# init(mode=...) values, W&B's old names included.
_MODES = {"offline": "offline", "dryrun": "offline", "online": "online", "run": "online",
          "disabled": "disabled"}


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


def _log_preinit(data=None, step=None, commit=None, sync=None):
    """``trackline.log`` before ``init()``: raises Error. After init() it is the run's ``log``."""
    raise Error("call trackline.init() before trackline.log()")


run = None
config = _PreInit("config")
summary = _PreInit("summary")
log = _log_preinit


def init(
    project=None, name=None, config=None, group=None, tags=None, notes=None, job_type=None,
    dir=None, id=None, resume=None, mode=None, reinit=None, settings=None,
    config_exclude_keys=None, config_include_keys=None, allow_val_change=None, entity=None,
    save_code=None, **kwargs
):
    """Start a run and make it the active one; returns the Run (a context manager too).

    - ``config``: a dict, an argparse.Namespace, absl flags or any object with ``__dict__``;
      ``config-defaults.yaml`` in the current directory is read first, a sweep's parameters
      ($TRACKLINE_SWEEP_PARAMS, $WANDB_SWEEP_PARAM_PATH) win and are locked;
      ``config_include_keys``/``config_exclude_keys`` filter ``config``; ``allow_val_change=True``
      lets the script change config values later.
    - ``mode``: ``"offline"`` (local files), ``"online"`` (stream to the daemon at $TRACKLINE_URL
      as well), ``"disabled"`` (nothing is recorded; every call still works). Without it,
      $TRACKLINE_MODE, else $WANDB_MODE, else online if $TRACKLINE_URL is set, else offline. A
      ``disabled`` environment value wins over the argument (a switch to turn tracking off).
    - An active run is finished first (``reinit="return_previous"`` returns it instead).
    - ``id`` of an existing run resumes it (``resume="never"`` refuses, ``"must"`` requires it).
    - ``save_code=True`` copies the main script to ``files/code/``.
    - ``sync_tensorboard=True`` logs what TensorBoard writers write (``trackline.tensorboard``).
    - ``entity`` is accepted and ignored; other W&B arguments are accepted with a warning.
    - An argument left out is taken from the environment as W&B does: $WANDB_PROJECT,
      $WANDB_NAME, $WANDB_NOTES, $WANDB_TAGS (comma-separated), $WANDB_RUN_GROUP,
      $WANDB_JOB_TYPE, $WANDB_RUN_ID, $WANDB_RESUME, each with a ``TRACKLINE_*`` twin that wins."""
    from_env = _env.run_defaults()
    project = project if project is not None else from_env.get("project")
    name = name if name is not None else from_env.get("name")
    notes = notes if notes is not None else from_env.get("notes")
    tags = tags if tags is not None else from_env.get("tags")
    group = group if group is not None else from_env.get("group")
    job_type = job_type if job_type is not None else from_env.get("job_type")
    id = id if id is not None else from_env.get("id")
    resume = resume if resume is not None else from_env.get("resume")
    sync_tensorboard = kwargs.pop("sync_tensorboard", None)
    unsupported = sorted(k for k in kwargs if k not in _SILENT_KWARGS)
    if unsupported:
        _warn("init() ignores unsupported argument(s): %s" % ", ".join(unsupported))
    mode = _resolve_mode(mode, settings)
    if run is not None and reinit == "return_previous":
        return run
    data, locked = _init_config(config, config_include_keys, config_exclude_keys)
    if run is not None:
        run.finish()
    if mode == "disabled":
        from ._disabled import DisabledRun

        new = DisabledRun(
            project=project, name=name, config=data, group=group, tags=tags, notes=notes,
            job_type=job_type, run_id=id, allow_val_change=bool(allow_val_change),
            locked_keys=locked, on_finish=_deactivate,
        )
        _set_active(new)
        return new
    _hooks.install(_active_run)
    new = Run(
        root=_resolve_root(dir),
        project=project or _DEFAULT_PROJECT,
        name=name,
        config=data,
        group=group,
        tags=tags,
        notes=notes,
        job_type=job_type,
        run_id=id,
        resume=resume,
        client=CLIENT,
        on_finish=_deactivate,
        settings=settings,
        mode=mode,
        allow_val_change=bool(allow_val_change),
        locked_keys=locked,
        save_code=bool(save_code or _setting(settings, "save_code")),
    )
    _set_active(new)
    if sync_tensorboard or _setting(settings, "sync_tensorboard"):
        from . import tensorboard

        tensorboard.patch()
    return new


def _resolve_mode(mode, settings):
    """"offline", "online", "disabled", or None (the run decides: online iff $TRACKLINE_URL)."""
    env_name, env = _env.mode()
    env = (env or "").strip().lower() or None
    if env is not None and env not in _MODES:
        _warn("ignoring %s=%r: use offline, online or disabled" % (env_name, env), 3)
        env = None
    env = _MODES.get(env)
    if _env.truthy(_env.WANDB_DISABLED):
        env = "disabled"
    if env == "disabled":
        return env
    if mode is None:
        mode = _setting(settings, "mode")
    if mode is None:
        return env
    key = str(mode).strip().lower()
    if key not in _MODES:
        raise UsageError("init(mode=%r): use 'offline', 'online' or 'disabled'" % (mode,))
    return _MODES[key]


def finish(exit_code=None, quiet=None):
    """Finish the active run (no-op without one): ``failed`` if ``exit_code`` is non-zero."""
    if run is not None:
        run.finish(exit_code=exit_code)


#: W&B's old name of ``finish``.
join = finish


def _active(what):
    if run is None:
        raise Error("call trackline.init() before trackline.%s()" % what)
    return run


def save(glob_str=None, base_path=None, policy="live"):
    """``run.save()`` of the active run."""
    return _active("save").save(glob_str, base_path, policy)


def define_metric(name, step_metric=None, step_sync=None, hidden=None, summary=None, goal=None,
                  overwrite=None, **kwargs):
    """``run.define_metric()`` of the active run."""
    return _active("define_metric").define_metric(
        name, step_metric=step_metric, step_sync=step_sync, hidden=hidden, summary=summary,
        goal=goal, overwrite=overwrite, **kwargs
    )


def watch(models, criterion=None, log="gradients", log_freq=1000, idx=None, log_graph=False):
    """``run.watch()`` of the active run."""
    return _active("watch").watch(models, criterion, log, log_freq, idx, log_graph)


def unwatch(models=None):
    """``run.unwatch()`` of the active run (no-op without one)."""
    if run is not None:
        run.unwatch(models)


def alert(title, text, level=None, wait_duration=None):
    """``run.alert()`` of the active run."""
    return _active("alert").alert(title, text, level, wait_duration)


def log_artifact(artifact_or_path, name=None, type=None, aliases=None, tags=None):
    """``run.log_artifact()`` of the active run."""
    return _active("log_artifact").log_artifact(artifact_or_path, name, type, aliases, tags)


def use_artifact(artifact_or_name, type=None, aliases=None, use_as=None):
    """``run.use_artifact()`` of the active run."""
    return _active("use_artifact").use_artifact(artifact_or_name, type, aliases, use_as)


def log_model(path, name=None, aliases=None):
    """``run.log_model()`` of the active run."""
    return _active("log_model").log_model(path, name, aliases)


def use_model(name):
    """``run.use_model()`` of the active run."""
    return _active("use_model").use_model(name)


def link_artifact(artifact, target_path, aliases=None):
    """``run.link_artifact()`` of the active run."""
    return _active("link_artifact").link_artifact(artifact, target_path, aliases)


def link_model(path, registered_model_name, name=None, aliases=None):
    """``run.link_model()`` of the active run."""
    return _active("link_model").link_model(path, registered_model_name, name, aliases)


def mark_preempting():
    """No-op (W&B marks the run as preemptible)."""


def _active_run():
    return run


def _set_active(new):
    global run, config, summary, log
    run, config, summary, log = new, new.config, new.summary, new.log


def _deactivate(finished):
    global run, config, summary, log
    if run is finished:
        run, config, summary, log = None, _PreInit("config"), _PreInit("summary"), _log_preinit
