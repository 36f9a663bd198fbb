"""``wandb.sdk.wandb_run``: the run class (Trackline's)."""

from trackline import Run

__all__ = ["Run"]
