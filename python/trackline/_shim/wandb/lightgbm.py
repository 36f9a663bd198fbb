"""``wandb.lightgbm``: W&B's short name of ``wandb.integration.lightgbm``."""

from trackline.integration.lightgbm import *  # noqa: F401,F403
from trackline.integration.lightgbm import __all__  # noqa: F401
