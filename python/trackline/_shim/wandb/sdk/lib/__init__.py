"""``wandb.sdk.lib``: ``RunDisabled``, the run of ``mode="disabled"`` that Lightning checks with
``isinstance`` (Trackline's disabled run)."""

from trackline._disabled import DisabledRun as RunDisabled

from . import config_util, telemetry  # noqa: F401

__all__ = ["RunDisabled", "config_util", "telemetry"]
