"""``wandb.integration.xgboost``: Trackline's ``trackline.integration.xgboost``."""

from trackline.integration.xgboost import *  # noqa: F401,F403
from trackline.integration.xgboost import __all__  # noqa: F401
