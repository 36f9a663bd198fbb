"""``wandb.integration.sklearn``: Trackline's ``trackline.integration.sklearn``."""

from trackline.integration.sklearn import *  # noqa: F401,F403
from trackline.integration.sklearn import __all__  # noqa: F401
