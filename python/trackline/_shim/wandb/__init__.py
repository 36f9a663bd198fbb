"""``wandb``, played by Trackline: the opt-in shim that ``trackline run -- …``, ``python -m
trackline run -- …`` and ``trackline.as_wandb()`` put first on the import path, so that third-party
code which imports ``wandb`` or checks for an installed ``wandb`` distribution (Lightning,
accelerate, transformers, Ultralytics) records into Trackline.

Every public name is Trackline's, looked up when used (``wandb.run`` is always the active run);
the submodules integrations import by path (``wandb.sdk.lib``, ``wandb.wandb_run``,
``wandb.errors``, ``wandb.util``) are small modules beside this one.
"""

import trackline as _trackline

from . import errors, sdk, util, wandb_run  # noqa: F401  (imported by path by integrations)

#: The W&B release whose API this shim answers for, marked as Trackline's (PEP 440 local version);
#: the same string as the ``wandb-…dist-info`` beside this package.
__version__ = "0.31.0+trackline"

#: Which tracker is behind this ``wandb`` (for people and tests).
TRACKLINE = True


def __getattr__(name):
    return getattr(_trackline, name)


def __dir__():
    return sorted(set(globals()) | set(dir(_trackline)))
