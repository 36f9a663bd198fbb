"""``wandb.util``: the helpers third-party code calls on it."""

from trackline._names import new_run_id


def generate_id(length=8):
    """A fresh random id of lowercase letters and digits (W&B's run ids), ``length`` long."""
    out = ""
    while len(out) < length:
        out += new_run_id()
    return out[:length]
