"""``run.watch(model, log="gradients", log_freq=1000)``: L2 norms of a torch model's gradients and
parameters, added to the next logged row.

Hooks (no polling, nothing when torch is absent):

- ``log="gradients"`` (W&B's default) or ``"all"``: a hook on every trainable parameter's gradient
  counts backward passes; on every ``log_freq``-th it adds ``gradients/<name>.norm`` (and, with
  ``"all"``, ``parameters/<name>.norm``) to the run's pending row with ``log(..., commit=False)``,
  so they land in the row the script logs next (W&B adds histograms at the same moment).
- ``log="parameters"``: a forward hook on the model counts forward passes; every ``log_freq``-th
  adds ``parameters/<name>.norm`` for every parameter.

Several models get their index as a name prefix (``gradients/1.fc.weight.norm``). Without torch,
or for something that is not a ``torch.nn.Module``, watch() warns once and does nothing.
"""

import sys

from ._errors import warn

_LOG_OPTIONS = ("gradients", "parameters", "all", None)


def watch(run, models, log="gradients", log_freq=1000, idx=None):
    """Install the hooks; returns the list of hook handles (empty when nothing is watched)."""
    if log not in _LOG_OPTIONS:
        raise ValueError("watch(log=%r): use 'gradients', 'parameters', 'all' or None" % (log,))
    try:
        log_freq = max(1, int(log_freq))
    except (TypeError, ValueError):
        raise ValueError("watch(log_freq=%r): needs a positive integer" % (log_freq,)) from None
    torch = sys.modules.get("torch")
    if torch is None:
        try:
            import torch
        except ImportError:
            warn("watch() needs PyTorch, which is not installed: nothing is watched", 4)
            return []
    models = list(models) if isinstance(models, (list, tuple)) else [models]
    module_type = getattr(getattr(torch, "nn", None), "Module", None)
    for model in models:
        if module_type is None or not isinstance(model, module_type):
            warn("watch() takes torch.nn.Module objects, not %s: nothing is watched"
                 % type(model).__name__, 4)
            return []
    handles = []
    if log is None:
        return handles
    for i, model in enumerate(models):
        prefix = "" if len(models) == 1 else "%d." % (i if idx is None else idx + i)
        params = [(prefix + name, p) for name, p in model.named_parameters()]
        if log in ("gradients", "all"):
            for name, p in params:
                if getattr(p, "requires_grad", True):
                    handles.append(p.register_hook(_grad_hook(run, name, p, log_freq, log == "all")))
        else:
            handles.append(model.register_forward_hook(_forward_hook(run, params, log_freq)))
    return handles


def _norm(tensor):
    return float(tensor.detach().norm(2).item())


def _grad_hook(run, name, param, log_freq, with_param):
    count = [0]
    grad_key = "gradients/%s.norm" % name
    param_key = "parameters/%s.norm" % name

    def hook(grad):
        count[0] += 1
        if count[0] % log_freq == 0:
            row = {grad_key: _norm(grad)}
            if with_param:
                row[param_key] = _norm(param)
            run.log(row, commit=False)
        return None  # the gradient is left unchanged

    return hook


def _forward_hook(run, params, log_freq):
    count = [0]
    keys = [("parameters/%s.norm" % name, p) for name, p in params]

    def hook(module, inputs, output):
        count[0] += 1
        if count[0] % log_freq == 0:
            run.log({key: _norm(p) for key, p in keys}, commit=False)

    return hook


def remove(handles):
    for handle in handles:
        try:
            handle.remove()
        except Exception:
            pass
