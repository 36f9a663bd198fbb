"""``wandb.integration.sb3``: Trackline's ``trackline.integration.sb3``."""

from trackline.integration.sb3 import *  # noqa: F401,F403
from trackline.integration.sb3 import __all__  # noqa: F401
