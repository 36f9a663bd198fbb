"""``run.watch(model, criterion=None, log="gradients", log_freq=1000, idx=None, log_graph=False)``:
histograms of a torch model's gradients and parameters, as W&B's ``wandb.watch`` logs them.

Hooks only (no polling; nothing when torch is absent), counted as W&B counts them
(wandb/integration/torch/wandb_torch.py):

- ``log="gradients"`` (the default) or ``"all"``: a hook on every parameter that requires a
  gradient, with its own counter of backward passes; every ``log_freq``-th gradient of that
  parameter adds ``gradients/<prefix><name>``.
- ``log="parameters"`` or ``"all"``: a forward hook on the model counts forward calls; every
  ``log_freq``-th adds ``parameters/<prefix><name>`` for every parameter.

Each value is W&B's histogram (``{"_type": "histogram", "values", "bins"}``) of the tensor's finite
values: 64 bins from its minimum to its maximum (torch's ``histc`` and ``linspace``), or one bin
holding the count when all values are equal; a tensor with no finite value is skipped. It goes
into the run's next row with ``log(..., commit=False)``. ``<prefix>`` is empty for the first model
watched in the process and ``graph_<i>`` for the i-th after it (``idx`` sets ``i``), W&B's names.
``log_graph`` (W&B's model graph) is not recorded: watch() says so once.
"""

import sys

from ._errors import warn

_LOG_OPTIONS = ("gradients", "parameters", "all", None)

#: Models watched so far in this process: W&B numbers them across runs, for their name prefix.
_global_watch_idx = 0

#: Bins of every histogram (W&B's ``TorchHistory._num_bins``).
NUM_BINS = 64

_warned_graph = False

#: Whether torch.histc runs on CUDA tensors here (None until a CUDA tensor is seen).
_cuda_histc = None


def watch(run, models, criterion=None, log="gradients", log_freq=1000, idx=None, log_graph=False):
    """Install the hooks; returns the list of hook handles (empty when nothing is watched)."""
    global _global_watch_idx, _warned_graph
    if log not in _LOG_OPTIONS:
        raise ValueError("log must be one of 'gradients', 'parameters', 'all', or None")
    try:
        log_freq = int(log_freq)
    except (TypeError, ValueError):
        raise ValueError("watch(log_freq=%r): needs an integer" % (log_freq,)) from None
    torch = sys.modules.get("torch")
    if torch is None:
        try:
            import torch
        except ImportError:
            warn("watch() needs PyTorch, which is not installed: nothing is watched", 4)
            return []
    models = tuple(models) if isinstance(models, (list, tuple)) else (models,)
    module_type = getattr(getattr(torch, "nn", None), "Module", None)
    for model in models:
        if module_type is None or not isinstance(model, module_type):
            warn("watch() takes torch.nn.Module objects, not %s: nothing is watched"
                 % type(model).__name__, 4)
            return []
    if log_graph and not _warned_graph:
        _warned_graph = True
        warn("watch(log_graph=True): trackline does not record the model graph", 4)
    handles = []
    prefix = ""
    if idx is None:
        idx = _global_watch_idx
    for local_idx, model in enumerate(models):
        global_idx = idx + local_idx
        _global_watch_idx += 1
        if global_idx > 0:
            prefix = "graph_%d" % global_idx
        mine = []
        if log in ("parameters", "all"):
            mine.append(model.register_forward_hook(_parameters_hook(run, torch, prefix, log_freq)))
        if log in ("gradients", "all"):
            for name, parameter in model.named_parameters():
                if parameter.requires_grad:
                    hook = _gradient_hook(run, torch, "gradients/" + prefix + name, log_freq)
                    mine.append(parameter.register_hook(hook))
        try:
            model._trackline_watch_handles = getattr(model, "_trackline_watch_handles", []) + mine
        except AttributeError:
            pass
        handles.extend(mine)
    return handles


def _counter(log_freq):
    """W&B's ``log_track_update``: true on every ``log_freq``-th call (every call below 1)."""
    count = [0]

    def due():
        count[0] += 1
        if count[0] < log_freq:
            return False
        count[0] = 0
        return True

    return due


def _parameters_hook(run, torch, prefix, log_freq):
    due = _counter(log_freq)

    def hook(module, inputs, output):
        if not due():
            return
        for name, parameter in module.named_parameters():
            _log_histogram(run, torch, parameter.data.cpu(), "parameters/" + prefix + name)

    return hook


def _gradient_hook(run, torch, key, log_freq):
    due = _counter(log_freq)

    def hook(grad):
        if due():
            _log_histogram(run, torch, grad.data, key)
        return None  # the gradient is left unchanged

    return hook


def _log_histogram(run, torch, tensor, key):
    histogram = tensor_histogram(torch, tensor)
    if histogram is None:
        return
    from ._media import Histogram

    run.log({key: Histogram(np_histogram=histogram)}, commit=False)


def tensor_histogram(torch, tensor, num_bins=NUM_BINS):
    """``(values, bins)`` of a tensor's finite values as W&B's ``log_tensor_stats`` makes them, or
    None when it has none. A sparse tensor's implicit zeros are counted in the bin holding 0."""
    tensor = tensor.detach()
    sparse_zeros = 0
    if getattr(tensor, "is_sparse", False):
        tensor = tensor.cpu().coalesce()
        values = tensor._values()
        sparse_zeros = tensor.numel() - values.numel()
        tensor = values
    flat = tensor.reshape(-1)
    if flat.is_cuda:
        global _cuda_histc
        if _cuda_histc is None:  # asked once, as W&B does
            try:
                flat.histc(bins=num_bins)
            except RuntimeError:
                _cuda_histc = False
            else:
                _cuda_histc = True
        if not _cuda_histc:
            flat = flat.cpu()
    if flat.dtype not in (torch.float32, torch.float64):
        flat = flat.float()
    if flat.numel() == 0:
        return None
    finite = torch.isfinite(flat)
    if not finite.any().item():
        return None
    if not finite.all().item():
        flat = flat[finite]
    tmin = flat.min().item()
    tmax = flat.max().item()
    if sparse_zeros:
        tmin = min(tmin, 0)
        tmax = max(tmax, 0)
    if tmin == tmax:
        counts = [float(flat.numel())]
        bins = torch.Tensor([tmin, tmax]).tolist()
    else:
        counts = flat.histc(bins=num_bins, min=tmin, max=tmax).cpu().tolist()
        bins = torch.linspace(tmin, tmax, steps=num_bins + 1).tolist()
    if sparse_zeros:
        last = len(bins) - 2
        for i in range(last + 1):
            if bins[i] <= 0 < bins[i + 1] or (i == last and bins[i + 1] == 0):
                counts[i] += sparse_zeros
                break
        else:
            counts[0] += sparse_zeros
    return counts, bins


def remove(handles):
    for handle in handles:
        try:
            handle.remove()
        except Exception:
            pass


def unwatch(handles, models):
    """Remove the hooks of ``models`` (a model or a list); returns the handles left."""
    models = tuple(models) if isinstance(models, (list, tuple)) else (models,)
    removed = []
    for model in models:
        mine = getattr(model, "_trackline_watch_handles", None)
        if mine is None:
            warn("%s model has not been watched" % type(model).__name__, 4)
            continue
        removed.extend(mine)
        try:
            del model._trackline_watch_handles
        except AttributeError:
            pass
    remove(removed)
    gone = {id(h) for h in removed}
    return tuple(h for h in handles if id(h) not in gone)
