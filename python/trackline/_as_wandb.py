"""Trackline as ``wandb`` for third-party code, on request only.

Libraries find W&B by an *installed distribution* (Lightning: ``RequirementCache("wandb>=…")``;
accelerate: ``importlib.metadata.metadata("wandb")``; transformers: ``find_spec("wandb")``), which
``import trackline as wandb`` can never satisfy. The shim folder ``_shim/`` holds a ``wandb``
package that is Trackline and a ``wandb-<v>+trackline.dist-info``; putting that folder on the
import path makes all of those checks, and ``import wandb``, resolve to Trackline:

- ``as_wandb()``: in this process (call it before anything imports ``wandb``) and its children;
- ``trackline run -- CMD`` / ``python -m trackline run -- CMD``: for one command and its children;
- ``python -m trackline shim env``: the ``export PYTHONPATH=…`` line for a shell;
- ``python -m trackline shim install`` (``uninstall``): a permanent switch, a ``.pth`` line in
  site-packages that adds the folder at the *end* of the path, so a real ``wandb`` installed there
  still wins and is never shadowed by it.

Nothing is ever written into a real ``wandb`` installation. Shadowing a real one (the first
three forms) happens only when asked, and is said in one line.
"""

import importlib
import importlib.util
import os
import site
import sys

from . import _env
from ._errors import UsageError, termwarn

#: The folder put on the import path.
SHIM_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_shim")
#: Set in the environment of a process (and its children) where ``wandb`` is Trackline.
ENV_FLAG = _env.AS_WANDB
#: The permanent switch's file in site-packages.
PTH_NAME = "trackline-as-wandb.pth"


def _is_shim_path(path):
    return path is not None and os.path.abspath(path).startswith(SHIM_DIR + os.sep)


def real_wandb(path=None):
    """Where a real (not Trackline's) ``wandb`` package would be imported from, or None.

    ``path`` is the import path to search (default ``sys.path`` without the shim folder)."""
    search = [p for p in (sys.path if path is None else path)
              if os.path.abspath(p or os.curdir) != SHIM_DIR]
    try:
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec("wandb", search)
    except (ImportError, ValueError):
        return None
    if spec is None or _is_shim_path(spec.origin):
        return None
    return spec.origin or (list(spec.submodule_search_locations or []) or [None])[0]


def _shadow_notice(real):
    return ("Trackline stands in for wandb here, as asked: the real wandb at %s is not used "
            "by this process or its children" % os.path.dirname(real))


def env_with_shim(env=None):
    """A copy of ``env`` (default ``os.environ``) whose ``PYTHONPATH`` starts with the shim."""
    env = _env.child_environment() if env is None else dict(env)
    parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != SHIM_DIR]
    env["PYTHONPATH"] = os.pathsep.join([SHIM_DIR] + parts)
    env[ENV_FLAG] = "1"
    return env


def as_wandb():
    """Make ``import wandb`` and the installed-distribution checks resolve to Trackline in this
    process and the processes it starts. Call it before anything imports ``wandb``."""
    loaded = sys.modules.get("wandb")
    if loaded is not None and not getattr(loaded, "TRACKLINE", False):
        raise UsageError(
            "as_wandb(): the real wandb was already imported (from %s); call trackline.as_wandb() "
            "before anything imports wandb" % getattr(loaded, "__file__", "?"))
    real = real_wandb()
    if real is not None:
        termwarn(_shadow_notice(real))
    if SHIM_DIR in sys.path:
        sys.path.remove(SHIM_DIR)
    sys.path.insert(0, SHIM_DIR)
    shimmed = env_with_shim()
    _env.export("PYTHONPATH", shimmed["PYTHONPATH"])
    _env.export(ENV_FLAG, "1")
    importlib.invalidate_caches()
    return importlib.import_module("wandb")


def run_command(argv):
    """``run -- CMD ARGS…``: run CMD with the shim on its path; returns its exit code."""
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise UsageError("usage: trackline run -- COMMAND [ARGS...]  (e.g. python train.py)")
    real = real_wandb()
    if real is not None:
        termwarn(_shadow_notice(real))
    import subprocess

    try:
        return subprocess.call(argv, env=env_with_shim())
    except FileNotFoundError:
        raise UsageError("trackline run: no such command: %s" % argv[0])
    except KeyboardInterrupt:
        return 130


def _site_packages():
    if site.ENABLE_USER_SITE and sys.prefix == sys.base_prefix and not os.access(
            site.getsitepackages()[0], os.W_OK):
        return site.getusersitepackages()
    return site.getsitepackages()[0]


def install(directory=None):
    """The permanent switch: ``<site-packages>/trackline-as-wandb.pth`` naming the shim folder
    (added at the end of ``sys.path``: a real wandb installed before it still wins)."""
    directory = directory or _site_packages()
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, PTH_NAME)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(SHIM_DIR + "\n")
    os.replace(tmp, path)
    return path


def uninstall(directory=None):
    """Remove the permanent switch; returns the path removed, or None when there was none."""
    path = os.path.join(directory or _site_packages(), PTH_NAME)
    try:
        os.remove(path)
    except FileNotFoundError:
        return None
    return path
