"""``wandb.integration.lightgbm``: Trackline's ``trackline.integration.lightgbm``."""

from trackline.integration.lightgbm import *  # noqa: F401,F403
from trackline.integration.lightgbm import __all__  # noqa: F401
