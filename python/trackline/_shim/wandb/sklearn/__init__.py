"""``wandb.sklearn``: W&B's short name of ``wandb.integration.sklearn``."""

from trackline.integration.sklearn import *  # noqa: F401,F403
from trackline.integration.sklearn import __all__  # noqa: F401
