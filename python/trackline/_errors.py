"""Error and warning types of the trackline client, and the helper that emits user-facing warnings.

Every warning trackline emits goes through :func:`warn`: a one-line message prefixed with
``trackline:`` in the :class:`TracklineWarning` category (a ``UserWarning``), so scripts can filter it
with the ordinary ``warnings`` machinery.
"""

import sys
import warnings


class Error(RuntimeError):
    """Misuse of the trackline API, e.g. ``trackline.log()`` before ``trackline.init()``."""


class UsageError(Error):
    """A call with arguments that cannot work together (W&B's ``wandb.errors.UsageError``)."""


class ConfigError(Error):
    """Changing an existing config value without ``allow_val_change=True`` (as in W&B)."""


class CommError(Error):
    """The public API could not find or read what was asked (W&B's ``wandb.errors.CommError``)."""


class TracklineWarning(UserWarning):
    """Category of every warning trackline emits."""


def warn(message, stacklevel=2):
    """Emit ``message`` as a TracklineWarning attributed to the caller ``stacklevel`` frames up."""
    warnings.warn("trackline: " + message, TracklineWarning, stacklevel=stacklevel + 1)


def termlog(string="", newline=True, repeat=True, prefix=True):
    """Print ``trackline: <string>`` to stderr (W&B's ``wandb.termlog``); nothing when
    $TRACKLINE_SILENT or $WANDB_SILENT is true."""
    from . import _env

    if _env.truthy(_env.SILENT, _env.WANDB_SILENT):
        return
    sys.stderr.write(("trackline: " if prefix else "") + str(string) + ("\n" if newline else ""))
    sys.stderr.flush()


def termwarn(string, **kwargs):
    """Print ``trackline: WARNING <string>`` to stderr."""
    termlog("WARNING " + str(string), **kwargs)


def termerror(string, **kwargs):
    """Print ``trackline: ERROR <string>`` to stderr."""
    termlog("ERROR " + str(string), **kwargs)
