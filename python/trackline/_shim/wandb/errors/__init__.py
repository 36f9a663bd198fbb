"""``wandb.errors``: Trackline's exception classes under W&B's names (the same classes)."""

from trackline.errors import *  # noqa: F401,F403
from trackline.errors import __all__  # noqa: F401

from . import term  # noqa: F401
