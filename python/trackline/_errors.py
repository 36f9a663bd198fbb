"""Error and warning types of the trackline client, and the helper that emits user-facing warnings.

Every warning trackline emits goes through :func:`warn`: a one-line message prefixed with
``trackline:`` in the :class:`TracklineWarning` category (a ``UserWarning``), so scripts can filter it
with the ordinary ``warnings`` machinery.
"""

import warnings


class Error(RuntimeError):
    """Misuse of the trackline API, e.g. ``trackline.log()`` before ``trackline.init()``."""


class TracklineWarning(UserWarning):
    """Category of every warning trackline emits."""


def warn(message, stacklevel=2):
    """Emit ``message`` as a TracklineWarning attributed to the caller ``stacklevel`` frames up."""
    warnings.warn("trackline: " + message, TracklineWarning, stacklevel=stacklevel + 1)
