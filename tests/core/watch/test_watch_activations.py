"""vgrad.watch(activations=True): per activation module, the fraction of saturated units
(sigmoid σ'(z) < 0.01, tanh |a| > 0.97) and of dead ones (ReLU family: ≤ 0 for every example),
counted only in the forwards of recorded steps."""

import json

import pytest

import vgrad
from vgrad.core.errors import InputError
from vgrad.core.record.reader import read_run

torch = pytest.importorskip("torch")
nn = torch.nn


def fixed(layer, weight, bias):
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(weight, dtype=torch.float64))
        layer.bias.copy_(torch.as_tensor(bias, dtype=torch.float64))
    return layer


def test_saturated_and_dead_fractions_are_counted_per_activation_module(tmp_path):
    # z = x·w + b per unit with x ∈ {1, 2}: unit 0 at z = 10 or 20 (saturated), unit 1 at z = 0.1 or 0.2
    first = fixed(nn.Linear(1, 2).double(), [[10.0], [0.1]], [0.0, 0.0])
    # relu inputs: unit 0 always negative (dead), unit 1 positive for x = 2 only, unit 2 always positive
    second = fixed(nn.Linear(2, 3).double(), [[-1.0, 0.0], [0.0, 0.0], [1.0, 0.0]], [-1.0, 0.0, 1.0])
    model = nn.Sequential(first, nn.Sigmoid(), second, nn.ReLU(), nn.Linear(3, 1).double(), nn.Tanh())
    x = torch.tensor([[1.0], [2.0]], dtype=torch.float64)
    with torch.no_grad():
        second.weight[1, 0] = 0.0
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    with vgrad.watch(model, tmp_path / "run.jsonl", optimizer=optimizer, activations=True):
        model(x).sum().backward()
        optimizer.step()
    net = json.loads((tmp_path / "run.jsonl").read_text().splitlines()[0])["nets"][0]
    assert net["activations"] == ["1", "3", "5"] and net["activation_kinds"] == ["sigmoid", "relu", "tanh"]
    step = read_run(tmp_path / "run.jsonl").steps[0]
    tanh_out = model(x).detach()
    assert step.saturated[0] == pytest.approx(0.5)           # unit 0 on both examples: 2 of 4 values
    assert step.dead[1] == pytest.approx(2 / 3)               # units 0 and 1 (zero pre-activation) of 3
    assert step.saturated[2] == pytest.approx((tanh_out.abs() > 0.97).double().mean().item())
    assert step.dead[0] is None and step.saturated[1] is None and step.dead[2] is None


def test_a_unit_alive_in_one_micro_batch_is_not_dead_under_accumulation(tmp_path):
    layer = fixed(nn.Linear(1, 1).double(), [[1.0]], [0.0])
    model = nn.Sequential(layer, nn.ReLU())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    with vgrad.watch(model, tmp_path / "run.jsonl", optimizer=optimizer, activations=True):
        model(torch.tensor([[-1.0]], dtype=torch.float64)).sum().backward()
        model(torch.tensor([[1.0]], dtype=torch.float64)).sum().backward()
        optimizer.step()
        model(torch.tensor([[-1.0]], dtype=torch.float64)).sum().backward()
        optimizer.step()
    assert [s.dead for s in read_run(tmp_path / "run.jsonl").steps] == [(0.0,), (1.0,)]


def test_a_shared_relu_counts_each_call_as_its_own_units(tmp_path):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.relu = nn.Linear(2, 4).double(), nn.Linear(4, 3).double(), nn.ReLU()
            fixed(self.a, [[1.0, 0.0]] * 4, [-10.0, -10.0, 1.0, 1.0])    # 2 of 4 dead
            fixed(self.b, [[0.0] * 4] * 3, [1.0, 1.0, 1.0])              # none dead

        def forward(self, x):
            return self.relu(self.b(self.relu(self.a(x))))    # one ReLU after both layers

    net = Net()
    with vgrad.watch(net, tmp_path / "run.jsonl", activations=True) as watcher:
        net(torch.ones(3, 2, dtype=torch.float64)).sum().backward()
        net(torch.ones(3, 2, dtype=torch.float64)).sum().backward()    # a second forward: the same units
        watcher.log(0)
    assert read_run(tmp_path / "run.jsonl").steps[0].dead == (pytest.approx(2 / 7),)   # 2 of 4, then 0 of 3


def test_forward_hooks_exist_only_for_the_forwards_of_recorded_steps(tmp_path):
    model = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with vgrad.watch(model, tmp_path / "run.jsonl", optimizer=optimizer, every=3, activations=True):
        hooked = []
        for _ in range(6):
            hooked.append(bool(model[1]._forward_hooks))
            model(torch.ones(1, 2)).sum().backward()
            optimizer.step()
    assert hooked == [True, False, False, True, False, False]
    assert not model[1]._forward_hooks
    assert [s.saturated is not None for s in read_run(tmp_path / "run.jsonl").steps] == [True, True]


def test_activations_without_activation_modules_are_refused_clearly(tmp_path):
    with pytest.raises(InputError, match="no activation module vgrad knows"):
        vgrad.watch(nn.Linear(2, 2), tmp_path / "run.jsonl", activations=True)
    with pytest.raises(InputError, match="activations='yes'"):
        vgrad.watch(nn.Linear(2, 2), tmp_path / "run.jsonl", activations="yes")


def test_an_evaluation_under_no_grad_is_not_counted(tmp_path):
    model = nn.Sequential(fixed(nn.Linear(1, 1).double(), [[1.0]], [0.0]), nn.ReLU())
    with vgrad.watch(model, tmp_path / "run.jsonl", activations=True) as watcher:
        model(torch.tensor([[1.0]], dtype=torch.float64)).sum().backward()     # alive
        with torch.no_grad():
            model(torch.tensor([[-1.0]] * 3, dtype=torch.float64))            # another batch's shape: not counted
        watcher.log(0)
    assert read_run(tmp_path / "run.jsonl").steps[0].dead == (0.0,)


class Looped(nn.Module):
    """One sigmoid called 70 times per forward: more calls than the counts kept one by one."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.layer = nn.Linear(8, 8)
        self.act = nn.Sigmoid()

    def forward(self, x, outputs=None):
        for _ in range(70):
            x = self.act(16 * self.layer(x))
            if outputs is not None:
                outputs.append(x.detach())
        return x


@pytest.mark.parametrize("exact_count", [1 << 24, 0])
def test_saturated_counts_are_exact_as_float_sums_as_counts_and_over_many_calls(tmp_path, monkeypatch, exact_count):
    """A float32 sum of 0s and 1s up to EXACT_COUNT of them, count_nonzero beyond; more than 64
    calls kept as one float64 sum: each way, the fraction of the values themselves."""
    from vgrad.core.watch import activations

    monkeypatch.setattr(activations, "EXACT_COUNT", exact_count)
    model = Looped()
    x = torch.randn(16, 8, generator=torch.Generator().manual_seed(1))
    with vgrad.watch(model, tmp_path / "run.jsonl", activations=True) as watcher:
        model(x).sum().backward()
        watcher.log(0)
    outputs = []
    with torch.no_grad():
        model(x, outputs)
    values = torch.cat([a.reshape(-1) for a in outputs])
    expected = (values * (1 - values) < 0.01).double().mean().item()
    assert 0.05 < expected < 0.95
    assert read_run(tmp_path / "run.jsonl").steps[0].saturated[0] == pytest.approx(expected, rel=1e-12)


def test_an_empty_batch_is_counted_as_nothing_and_breaks_no_forward(tmp_path):
    """A forward of no examples (a conditional branch, a last empty shard) adds no units."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), nn.Sigmoid())
    with vgrad.watch(model, tmp_path / "run.jsonl", activations=True) as watcher:
        model(torch.ones(0, 3)).sum().backward()
        model(torch.ones(5, 3)).sum().backward()
        watcher.log(0)
    step = read_run(tmp_path / "run.jsonl").steps[0]
    with torch.no_grad():
        hidden = torch.relu(model[0](torch.ones(5, 3)))
        out = torch.sigmoid(model[2](hidden))
    assert step.dead[0] == pytest.approx((hidden.amax(dim=0) <= 0).double().mean().item())
    assert step.saturated[1] == pytest.approx((out * (1 - out) < 0.01).double().mean().item())


class NewGELUActivation(nn.Module):
    """As transformers names its own (transformers.activations): not a torch.nn class."""

    def forward(self, x):
        return nn.functional.gelu(x, approximate="tanh")


class GELUMLP(nn.Module):
    """A block whose name says GELU but which holds modules: not an activation module."""

    def __init__(self):
        super().__init__()
        self.fc, self.act = nn.Linear(4, 4), NewGELUActivation()

    def forward(self, x):
        return self.act(self.fc(x))


def test_activation_modules_of_other_libraries_are_found_by_class_name_containers_are_not():
    from vgrad.core.watch.layers import find_activations

    model = nn.Sequential(GELUMLP(), nn.Hardswish(), nn.Linear(4, 4), nn.LogSigmoid())
    found = [(a.name, a.kind) for a in find_activations(model)]
    assert found == [("0.act", "gelu"), ("1", "silu")]   # LogSigmoid's outputs are no sigmoid's


@pytest.mark.parametrize(("shape", "before", "units"), [
    ((4, 8), nn.Linear(2, 8), 8),                     # (B, C): features
    ((4, 5, 8), nn.Linear(2, 8), 8),                  # (B, T, C): a sequence's features, over B·T
    ((4, 8, 5), nn.Conv1d(2, 8, 1), 8),               # (B, C, L) after a convolution: channels
    ((4, 8, 3, 3), nn.BatchNorm2d(8), 8),             # (B, C, H, W): channels, over B·H·W
    ((4, 3, 3, 8), nn.Linear(2, 8), 8),               # channels last (ConvNeXt's Linear on (B, H, W, C))
    ((4, 8, 3, 3), None, 8),                          # nothing before it: an image's channels
])
def test_a_dead_unit_is_a_feature_or_channel_off_for_every_example_and_position(tmp_path, shape, before, units):
    relu = nn.ReLU()
    model = nn.Sequential(*([before] if before is not None else []), relu)
    unit = 1 if len(shape) == 4 and not isinstance(before, nn.Linear) or isinstance(before, nn.Conv1d) else -1
    a = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    dead = torch.zeros(shape[unit], dtype=torch.bool)
    dead[:3] = True   # three units below 0 everywhere; the rest positive somewhere
    a.movedim(unit, -1)[..., dead] = -1.0
    a.movedim(unit, -1).reshape(-1, shape[unit])[0, ~dead] = 1.0
    from vgrad.core.watch.activations import Activations
    from vgrad.core.watch.layers import find_activations

    counting = Activations(torch, model, find_activations(model))
    counting.arm()
    with torch.enable_grad():
        relu(a.requires_grad_())
    parts, plan = counting.parts()
    assert plan == [(0, units, False, 1)] and parts[0].item() == 3
