"""watch(): W&B's gradient and parameter histograms (64 bins, ``gradients/<name>`` and
``parameters/<name>``, ``graph_<i>`` prefixes), counted as W&B counts them -- gradients per
backward pass of each parameter, parameters per forward call of the model -- and unwatch().

torch itself cannot be installed here (its wheels are gigabytes), so most tests run against
:class:`FakeTorch`, a small stand-in that follows torch's hook API: ``Module.register_forward_hook``
(called as ``hook(module, inputs, output)`` after each forward call), ``Tensor.register_hook``
(called with the gradient on each backward pass), handles with ``remove()``, and the few tensor
operations watch() uses, with torch's ``histc`` binning and float32 ``linspace``. A test with the
real torch runs where it is installed."""

import math
import struct
import sys
import types

import pytest

import trackline
from trackline import _watch
from conftest import only_run_dir, read_history, run_script


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


# -- a stand-in for torch -------------------------------------------------------------------------
class _Handle:
    def __init__(self, hooks, fn):
        self._hooks, self._fn = hooks, fn

    def remove(self):
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)


class FakeTensor:
    """A flat float tensor (torch's tensor API as far as watch() uses it)."""

    is_cuda = False
    is_sparse = False

    def __init__(self, values, requires_grad=False, dtype="float32"):
        self.values = [float(v) if dtype != "bool" else bool(v) for v in values]
        self.requires_grad = requires_grad
        self.dtype = dtype
        self._hooks = []

    @property
    def data(self):
        return FakeTensor(self.values, dtype=self.dtype)

    def detach(self):
        return FakeTensor(self.values, dtype=self.dtype)

    def cpu(self):
        return self

    def reshape(self, *shape):
        assert shape == (-1,)
        return self

    def float(self):
        return FakeTensor([f32(v) for v in self.values])

    def numel(self):
        return len(self.values)

    def min(self):
        return FakeTensor([min(self.values)], dtype=self.dtype)

    def max(self):
        return FakeTensor([max(self.values)], dtype=self.dtype)

    def item(self):
        assert len(self.values) == 1
        return self.values[0]

    def any(self):
        return FakeTensor([any(self.values)], dtype="bool")

    def all(self):
        return FakeTensor([all(self.values)], dtype="bool")

    def tolist(self):
        return list(self.values)

    def __bool__(self):
        if len(self.values) != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.values[0])

    def __getitem__(self, mask):
        return FakeTensor([v for v, keep in zip(self.values, mask.values) if keep], dtype=self.dtype)

    def histc(self, bins=100, min=0, max=0):  # noqa: A002 - torch's names
        """torch.histc: equal-width bins over [min, max]; values outside are ignored, the maximum
        falls in the last bin."""
        counts = [0.0] * bins
        for v in self.values:
            if min <= v <= max:
                i = int((v - min) * bins / (max - min))
                counts[i if i < bins else bins - 1] += 1.0
        return FakeTensor(counts)

    def register_hook(self, fn):
        self._hooks.append(fn)
        return _Handle(self._hooks, fn)

    def receive_gradient(self, grad):
        """What autograd does for a leaf on a backward pass: run its hooks on the gradient."""
        grad = FakeTensor(grad)
        for fn in list(self._hooks):
            replaced = fn(grad)
            if replaced is not None:
                grad = replaced
        return grad


class FakeModule:
    def __init__(self, **parameters):
        self._parameters = dict(parameters)
        self._forward_hooks = []

    def named_parameters(self):
        return iter(list(self._parameters.items()))

    def register_forward_hook(self, fn):
        self._forward_hooks.append(fn)
        return _Handle(self._forward_hooks, fn)

    def __call__(self, x):
        out = x
        for fn in list(self._forward_hooks):
            fn(self, (x,), out)
        return out

    def backward(self, **grads):
        for name, grad in grads.items():
            self._parameters[name].receive_gradient(grad)


def fake_torch():
    torch = types.ModuleType("torch")
    torch.float32, torch.float64 = "float32", "float64"
    torch.nn = types.SimpleNamespace(Module=FakeModule)
    torch.isfinite = lambda t: FakeTensor([math.isfinite(v) for v in t.values], dtype="bool")
    torch.Tensor = lambda values: FakeTensor([f32(v) for v in values])

    def linspace(start, end, steps):
        """torch's CPU linspace: from both ends towards the middle, in float32."""
        step = (end - start) / (steps - 1)
        half = steps // 2
        return FakeTensor([f32(start + step * i if i < half else end - step * (steps - i - 1))
                           for i in range(steps)])

    torch.linspace = linspace
    return torch


@pytest.fixture
def torch(monkeypatch):
    fake = fake_torch()
    monkeypatch.setitem(sys.modules, "torch", fake)
    monkeypatch.setattr(_watch, "_global_watch_idx", 0)
    return fake


def model(weight=(0.0, 1.0, 2.0, 3.0), bias=(0.5,), frozen=(7.0,)):
    return FakeModule(weight=FakeTensor(weight, requires_grad=True),
                      bias=FakeTensor(bias, requires_grad=True),
                      frozen=FakeTensor(frozen, requires_grad=False))


def media_keys(row):
    return sorted(k for k in row if k.startswith(("gradients/", "parameters/")))


# -- counting and naming --------------------------------------------------------------------------
def test_gradients_every_log_freq_backward_passes(tmp_path, torch):
    run = trackline.init(project="p")
    net = model()
    trackline.watch(net, log_freq=2)
    for step in range(4):
        net(0)
        net.backward(weight=[0.0, 0.1 * (step + 1), 0.2, 0.3], bias=[1.0])
        trackline.log({"loss": step})
    trackline.finish()
    rows = read_history(run.dir)
    assert [media_keys(r) for r in rows] == [[], ["gradients/bias", "gradients/weight"], [],
                                             ["gradients/bias", "gradients/weight"]]
    assert [r["loss"] for r in rows] == [0, 1, 2, 3]
    hist = rows[3]["gradients/weight"]
    assert hist["_type"] == "histogram" and len(hist["values"]) == 64 and len(hist["bins"]) == 65
    assert rows[1]["gradients/bias"] == {"_type": "histogram", "values": [1.0], "bins": [1.0, 1.0]}


def test_parameters_every_log_freq_forward_calls_and_all(tmp_path, torch):
    run = trackline.init(project="p")
    net = model()
    trackline.watch(net, log="all", log_freq=3)
    for step in range(3):
        net(0)
        net(0)  # two forward calls per backward pass: parameters are counted apart
        net.backward(weight=[1.0, 2.0, 3.0, 4.0], bias=[0.5])
        trackline.log({"loss": step})
    trackline.finish()
    rows = read_history(run.dir)
    params = ["parameters/bias", "parameters/frozen", "parameters/weight"]
    assert [media_keys(r) for r in rows] == [
        [], params, sorted(params + ["gradients/bias", "gradients/weight"])]


def test_log_none_installs_nothing_and_bad_options_raise(tmp_path, torch):
    run = trackline.init(project="p")
    net = model()
    trackline.watch(net, log=None, log_freq=1)
    net(0)
    net.backward(weight=[1, 2, 3, 4])
    trackline.log({"loss": 1})
    with pytest.raises(ValueError):
        trackline.watch(net, log="norms")
    trackline.finish()
    assert [media_keys(r) for r in read_history(run.dir)] == [[]]
    assert net._forward_hooks == [] and net._parameters["weight"]._hooks == []


def test_model_prefixes_follow_w_and_b_numbering(tmp_path, torch):
    run = trackline.init(project="p")
    first, second, third = model(), model(), model()
    trackline.watch([first, second], log_freq=1)
    trackline.watch(third, log_freq=1, idx=5)
    for net in (first, second, third):
        net.backward(bias=[1.0])
    trackline.log({"loss": 0})
    trackline.finish()
    (row,) = read_history(run.dir)
    assert media_keys(row) == ["gradients/bias", "gradients/graph_1bias", "gradients/graph_5bias"]


def test_unwatch_one_model_or_all(tmp_path, torch):
    run = trackline.init(project="p")
    kept, dropped = model(), model()
    trackline.watch([kept, dropped], log="all", log_freq=1)
    trackline.unwatch(dropped)
    for net in (kept, dropped):
        net(0)
        net.backward(bias=[1.0])
    trackline.log({"loss": 0})
    trackline.unwatch()
    kept(0)
    kept.backward(bias=[1.0])
    trackline.log({"loss": 1})
    trackline.finish()
    rows = read_history(run.dir)
    assert media_keys(rows[0]) == ["gradients/bias", "parameters/bias", "parameters/frozen",
                                   "parameters/weight"]
    assert media_keys(rows[1]) == []


# -- the histograms -------------------------------------------------------------------------------
def test_histogram_bins_as_torch_histc_and_linspace(torch):
    values, bins = _watch.tensor_histogram(torch, FakeTensor([0.0, 1.0, 2.0, 3.0]))
    assert len(values) == 64 and sum(values) == 4.0
    assert [i for i, n in enumerate(values) if n] == [0, 21, 42, 63]
    assert bins[0] == 0.0 and bins[-1] == 3.0 and bins[32] == 1.5 and bins[1] == f32(3 / 64)
    assert all(a < b for a, b in zip(bins, bins[1:]))


def test_histogram_leaves_out_non_finite_values(torch):
    values, bins = _watch.tensor_histogram(torch, FakeTensor([1.0, float("nan"), 5.0, float("inf")]))
    assert sum(values) == 2.0 and (bins[0], bins[-1]) == (1.0, 5.0)
    assert _watch.tensor_histogram(torch, FakeTensor([float("nan"), float("-inf")])) is None
    assert _watch.tensor_histogram(torch, FakeTensor([])) is None
    assert _watch.tensor_histogram(torch, FakeTensor([0.1, 0.1, 0.1])) == ([3.0], [f32(0.1), f32(0.1)])


class FakeCudaTensor(FakeTensor):
    """A CUDA tensor on a build where histc does not run on CUDA."""

    is_cuda = True

    def cpu(self):
        return FakeTensor(self.values, dtype=self.dtype)

    def reshape(self, *shape):
        return self

    def detach(self):
        return FakeCudaTensor(self.values, dtype=self.dtype)

    def histc(self, *args, **kwargs):
        raise RuntimeError("histc not implemented for CUDA here")


def test_cuda_tensors_fall_back_to_the_cpu_when_histc_cannot_run_there(torch, monkeypatch):
    monkeypatch.setattr(_watch, "_cuda_histc", None)
    values = [0.5, 1.0, 4.0]
    assert _watch.tensor_histogram(torch, FakeCudaTensor(values)) == _watch.tensor_histogram(
        torch, FakeTensor(values))
    assert _watch._cuda_histc is False


def test_a_tensor_of_no_finite_value_logs_nothing(tmp_path, torch):
    run = trackline.init(project="p")
    net = model()
    trackline.watch(net, log_freq=1)
    net.backward(weight=[float("nan")] * 4, bias=[2.0])
    trackline.log({"loss": 0})
    trackline.finish()
    assert media_keys(read_history(run.dir)[0]) == ["gradients/bias"]


# -- without torch, and with the real one ---------------------------------------------------------
def test_watch_without_torch_warns_and_does_nothing(tmp_path):
    proc = run_script(tmp_path, """
        import sys
        sys.modules["torch"] = None  # torch cannot be imported, installed or not
        import trackline as wandb
        wandb.init(project="p")
        wandb.watch(object(), log="all", log_freq=10)
        wandb.watch(object())
        wandb.log({"loss": 1.0})
        wandb.unwatch()
        wandb.finish()
    """)
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "watch() needs PyTorch" in line]
    assert len(warnings) == 2 and "script.py" in proc.stderr  # pointed at the caller
    rows = read_history(only_run_dir(tmp_path / "root"))
    assert [sorted(k for k in r if not k.startswith("_")) for r in rows] == [["loss"]]


def test_watch_something_else_than_a_module_warns(tmp_path, torch):
    trackline.init(project="p")
    with pytest.warns(UserWarning, match="torch.nn.Module"):
        trackline.watch(object())


def test_watch_with_real_torch(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(_watch, "_global_watch_idx", 0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    run = trackline.init(project="p")
    trackline.watch(net, log="all", log_freq=2)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for step in range(4):
        opt.zero_grad()
        loss = net(torch.ones(4, 3)).pow(2).mean()
        loss.backward()
        opt.step()
        trackline.log({"loss": loss.item()})
    trackline.finish()
    rows = read_history(run.dir)
    assert media_keys(rows[0]) == [] and "loss" in rows[1]
    for row in (rows[1], rows[3]):
        for key in ("gradients/0.weight", "parameters/2.bias"):
            assert row[key]["_type"] == "histogram"
        weights = row["parameters/0.weight"]
        assert len(weights["values"]) == 64 and sum(weights["values"]) == 6


# -- the same histograms as W&B's own code -------------------------------------------------------
def w_and_b_torch_history(torch, monkeypatch, logged):
    """W&B's TorchHistory working on the stand-in; what it logs goes into the dict ``logged``."""
    wandb = pytest.importorskip("wandb")
    from wandb.integration.torch import wandb_torch

    monkeypatch.setattr(FakeTensor, "shape", property(lambda self: (len(self.values),)), raising=False)
    monkeypatch.setattr(FakeTensor, "clone", lambda self: FakeTensor(self.values, dtype=self.dtype),
                        raising=False)
    monkeypatch.setattr(FakeTensor, "__invert__",
                        lambda self: FakeTensor([not v for v in self.values], dtype="bool"), raising=False)
    torch.FloatTensor = torch.DoubleTensor = FakeTensor  # float32 and float64 tensors here
    torch.Size = tuple
    torch.autograd = types.SimpleNamespace(Variable=FakeTensor)
    monkeypatch.setattr(wandb_torch, "torch", torch)
    monkeypatch.setattr(wandb, "run", types.SimpleNamespace(
        _log=lambda row, commit: logged.update(row)))
    history = wandb_torch.TorchHistory.__new__(wandb_torch.TorchHistory)
    history._num_bins, history._is_cuda_histc_supported, history._hook_handles = 64, None, {}
    return history


@pytest.mark.parametrize("values, dtype", [
    ([0.0, 1.0, 2.0, 3.0], "float32"),
    ([1.0, float("nan"), 5.0, float("inf"), -2.5], "float32"),
    ([0.1, 0.1, 0.1], "float32"),
    ([0.1 * i for i in range(1000)], "float64"),
    ([-1e-3, 2e-3, 7.5e-4, 0.0], "float64"),
    ([float("nan")] * 3, "float32"),
])
def test_same_histograms_as_w_and_bs_log_tensor_stats(torch, monkeypatch, values, dtype):
    """Runs W&B's TorchHistory.log_tensor_stats on the stand-in and compares what it logs."""
    logged = {}
    history = w_and_b_torch_history(torch, monkeypatch, logged)
    tensor = FakeTensor(values if dtype == "float64" else [f32(v) for v in values], dtype=dtype)
    history.log_tensor_stats(tensor, "gradients/w")
    ours = _watch.tensor_histogram(torch, tensor)
    if ours is None:
        assert logged == {}
    else:
        theirs = logged["gradients/w"]
        assert (theirs.histogram, theirs.bins) == ours


def test_same_counting_and_names_as_w_and_bs_hooks(tmp_path, torch, monkeypatch):
    """The same forward and backward passes through W&B's hooks and through watch(): the same
    keys at the same steps, with the same histograms."""
    logged = {}
    history = w_and_b_torch_history(torch, monkeypatch, logged)
    theirs, ours = model(), model()
    history.add_log_parameters_hook(theirs, log_freq=3)
    history.add_log_gradients_hook(theirs, log_freq=3)
    run = trackline.init(project="p")
    trackline.watch(ours, log="all", log_freq=3)
    passes = ["f", "fb", "b", "ffb", "", "fbb", "f", "bf", "ffff", "b"]
    expected = []
    for step, calls in enumerate(passes):
        logged.clear()
        for net in (theirs, ours):
            for call in calls:
                if call == "f":
                    net(0)
                else:
                    net.backward(weight=[0.1 * step, 0.2, -0.3, 0.05 * step], bias=[step / 7])
        expected.append({k: {"_type": "histogram", "values": v.histogram, "bins": v.bins}
                         for k, v in logged.items()})
        trackline.log({"step": step})
    trackline.finish()
    rows = read_history(run.dir)
    assert [media_keys(r) for r in rows] == [sorted(e) for e in expected]
    assert sum(len(e) for e in expected) > 10
    for row, want in zip(rows, expected):
        assert {k: row[k] for k in want} == want
