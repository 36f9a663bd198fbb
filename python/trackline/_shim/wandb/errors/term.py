"""``wandb.errors.term``: the terminal helpers (Trackline's)."""

from trackline.errors.term import *  # noqa: F401,F403
