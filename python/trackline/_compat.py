"""W&B names that need no work for a local tracker, so that W&B scripts run unchanged.

``login()`` succeeds, ``Settings(**kwargs)`` holds whatever it is given (``mode``, ``base_url``,
``console``, ... are read by init(); the rest is accepted and ignored), ``require()`` and
``setup()`` do nothing, and :class:`AlertLevel` names the levels of ``alert()``.
"""

import enum


def login(*args, **kwargs):
    """No-op: a local tracker needs no login. Returns True, like a successful ``wandb.login()``."""
    return True


def require(*args, **kwargs):
    """No-op (W&B enables experimental features here)."""


def setup(*args, **kwargs):
    """No-op (W&B starts its service process here)."""


class Settings:
    """W&B's ``wandb.Settings``: keeps its keyword arguments as attributes; any other attribute
    is None. ``init(settings=...)`` reads ``mode`` (and the remote client ``base_url``/``api_key``,
    system-metrics and console options); the rest is accepted and ignored."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return None

    def update(self, settings=None, **kwargs):
        self.__dict__.update(dict(settings or {}, **kwargs))

    def to_dict(self):
        return dict(self.__dict__)

    def __repr__(self):
        return "Settings(%s)" % ", ".join("%s=%r" % kv for kv in sorted(self.__dict__.items()))


class AlertLevel(str, enum.Enum):
    """Levels of ``alert()`` (W&B's ``wandb.AlertLevel``)."""

    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"
