"""No-op stand-ins for W&B calls that have no meaning for a local tracker (yet).

They exist so that scripts written for W&B run unchanged after ``import trackline as wandb``:
``login()`` succeeds silently; ``watch()``, ``unwatch()`` and ``define_metric()`` warn once.
"""

from ._errors import warn

_warned = set()


def _once(what):
    if what not in _warned:
        _warned.add(what)
        warn("%s() is not supported yet and does nothing" % what, 3)


def login(*args, **kwargs):
    """No-op: a local tracker needs no login. Returns True, like a successful ``wandb.login()``."""
    return True


def watch(*args, **kwargs):
    """No-op (W&B logs gradients and parameters of a model here); warns once."""
    _once("watch")


def unwatch(*args, **kwargs):
    """No-op counterpart of :func:`watch`."""


def define_metric(*args, **kwargs):
    """No-op (W&B customises axes and summaries of a metric here); warns once."""
    _once("define_metric")
