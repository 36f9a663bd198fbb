"""``wandb.sdk.lib.config_util``: the error transformers catches around ``config.update``."""

from trackline import ConfigError

__all__ = ["ConfigError"]
