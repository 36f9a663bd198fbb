"""``wandb.keras``: W&B's short name of ``wandb.integration.keras``."""

from trackline.integration.keras import *  # noqa: F401,F403
from trackline.integration.keras import __all__  # noqa: F401
