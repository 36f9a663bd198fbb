"""``wandb.sdk``: the paths integrations import from (``wandb.sdk.lib``, ``wandb.sdk.wandb_run``)."""

from . import lib, wandb_run  # noqa: F401
