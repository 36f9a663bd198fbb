"""The Keras the callbacks subclass: ``tensorflow.keras`` as W&B imports it, else Keras 3 on
another backend; and the active run, or W&B's error when there is none."""

import trackline

try:
    from tensorflow.keras import callbacks  # noqa: F401
except ImportError:  # Keras 3 with the JAX or PyTorch backend
    from keras import callbacks  # noqa: F401


def active_run(message):
    """The active run; ``trackline.Error(message)`` (W&B's words) when there is none."""
    if trackline.run is None:
        raise trackline.Error(message)
    return trackline.run


def to_float(value):
    """A scalar tensor, variable or number as a Python float."""
    if hasattr(value, "numpy"):
        value = value.numpy()
    return float(value.item() if hasattr(value, "item") else value)
