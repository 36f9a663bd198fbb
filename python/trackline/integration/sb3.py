"""Stable-Baselines3: ``WandbCallback(verbose, model_save_path, model_save_freq,
gradient_save_freq, log)`` (a ``stable_baselines3`` ``BaseCallback``) records what W&B's does:
the algorithm's name and its attributes in the run's config (without replacing keys the script
set), the policy's gradients and parameters as histograms through ``watch`` when
``gradient_save_freq`` is set, and the model saved as ``<model_save_path>/model.zip`` every
``model_save_freq`` steps and at the end of training, kept in the run's files (``save``).

Where W&B stores ``str(value)`` of an attribute that is no number or string (an environment, a
policy class, a schedule, a space), this stores what the value is, never its printed form:
numbers and booleans as they are, lists and dicts of them as JSON, a class or function by its
qualified name, an array-like by its type, shape and dtype, anything else by its type's
qualified name."""

__all__ = ["WandbCallback"]

import logging
import os
import warnings

import trackline
from stable_baselines3.common.callbacks import BaseCallback

from ._shared import active_run

logger = logging.getLogger(__name__)

_LOG_CHOICES = ("gradients", "parameters", "all", None)


class WandbCallback(BaseCallback):
    """The Stable-Baselines3 callback (see the module's doc)."""

    def __init__(self, verbose=0, model_save_path=None, model_save_freq=0,
                 gradient_save_freq=0, log="all"):
        super().__init__(verbose)
        active_run("WandbCallback()")
        self.model_save_freq = model_save_freq
        self.model_save_path = model_save_path
        self.gradient_save_freq = gradient_save_freq
        if log not in _LOG_CHOICES:
            warnings.warn("`log` must be one of `None`, 'gradients', 'parameters', or 'all', "
                          "falling back to 'all'", stacklevel=2)
            log = "all"
        self.log = log
        if self.model_save_path is not None:
            os.makedirs(self.model_save_path, exist_ok=True)
            self.path = os.path.join(self.model_save_path, "model.zip")
        elif self.model_save_freq != 0:
            raise AssertionError("to use the `model_save_freq` you have to set the "
                                 "`model_save_path` parameter")

    def _init_callback(self):
        config = trackline.config
        found = {"algo": type(self.model).__name__}
        for key, value in self.model.__dict__.items():
            if key not in config and key not in found:
                found[key] = config_value(value)
        if self.gradient_save_freq > 0:
            trackline.watch(self.model.policy, log_freq=self.gradient_save_freq, log=self.log)
        config.setdefaults(found)

    def _on_step(self):
        if (self.model_save_freq > 0 and self.model_save_path is not None
                and self.n_calls % self.model_save_freq == 0):
            self.save_model()
        return True

    def _on_training_end(self):
        if self.model_save_path is not None:
            self.save_model()

    def save_model(self):
        self.model.save(self.path)
        trackline.save(self.path, base_path=self.model_save_path)
        if self.verbose > 1:
            logger.info("Saving model checkpoint to %s", self.path)


def config_value(value, depth=0):
    """A JSON value saying what ``value`` is (see the module's doc)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    kind = type(value)
    if kind.__module__ == "torch" and kind.__name__ == "device":
        return str(value)  # "cpu", "cuda:0": the device's own name
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) in ((), [], (1,)):
        try:
            return config_value(item(), depth + 1)
        except (TypeError, ValueError, RuntimeError):
            pass
    if depth < 4 and isinstance(value, (list, tuple)):
        return [config_value(v, depth + 1) for v in value]
    if depth < 4 and isinstance(value, dict):
        return {str(k): config_value(v, depth + 1) for k, v in value.items()}
    if isinstance(value, type) or callable(value) and hasattr(value, "__qualname__"):
        return _qualified(value)
    shape = getattr(value, "shape", None)
    if shape is not None and hasattr(value, "dtype"):
        try:
            return {"type": _qualified(type(value)), "shape": [int(n) for n in shape],
                    "dtype": str(value.dtype)}
        except (TypeError, ValueError):
            pass
    return _qualified(type(value))


def _qualified(obj):
    module = getattr(obj, "__module__", None)
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) \
        or type(obj).__qualname__
    return "%s.%s" % (module, name) if module else name
