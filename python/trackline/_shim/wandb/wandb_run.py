"""``wandb.wandb_run``: the run class integrations check with ``isinstance`` (Trackline's)."""

from trackline import Run

__all__ = ["Run"]
