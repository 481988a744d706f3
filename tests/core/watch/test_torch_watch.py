"""vgrad.watch on a PyTorch module: layers, the norms it records, its cadence and its refusals."""

import json
import math

import pytest

import vgrad
from vgrad.core.errors import InputError
from vgrad.core.record.reader import read_run

torch = pytest.importorskip("torch")


def small_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 12), torch.nn.ReLU(), torch.nn.LayerNorm(12),
                               torch.nn.Linear(12, 4, bias=False)).double()


def backward(model):
    model.zero_grad()
    loss = model(torch.randn(5, 8, dtype=torch.float64)).square().mean()
    loss.backward()
    return loss


def test_layers_are_the_modules_owning_parameters_in_registration_order(tmp_path):
    with vgrad.watch(small_model(), tmp_path / "run.jsonl", name="mlp") as watcher:
        pass
    assert watcher.recorder.layers == ("0", "2", "3")
    assert read_run(tmp_path / "run.jsonl").specs[0].name == "mlp"


def test_each_layer_records_its_bias_and_weight_gradient_norms(tmp_path):
    model = small_model()
    with vgrad.watch(model, tmp_path / "run.jsonl") as watcher:
        loss = backward(model)
        watcher.log(7, loss=loss)
    step = read_run(tmp_path / "run.jsonl").steps[0]
    first, norm, head = model[0], model[2], model[3]
    assert step.step == 7 and step.cost == pytest.approx(loss.item(), rel=1e-12)
    assert step.speed[:2] == pytest.approx([first.bias.grad.norm().item(), norm.bias.grad.norm().item()], rel=1e-12)
    assert step.speed[2] is None   # no bias: null speed
    assert step.weight_grad == pytest.approx([p.weight.grad.norm().item() for p in (first, norm, head)], rel=1e-12)
    assert step.neurons[0] == pytest.approx(first.bias.grad[:6].tolist(), rel=1e-12) and step.neurons[2] == ()


def test_only_every_nth_step_is_recorded(tmp_path):
    model = small_model()
    with vgrad.watch(model, tmp_path / "run.jsonl", every=3) as watcher:
        for step in range(7):
            backward(model)
            watcher.log(step)
    assert [s.step for s in read_run(tmp_path / "run.jsonl").steps] == [0, 3, 6]


def test_log_before_any_backward_records_nulls(tmp_path):
    with vgrad.watch(small_model(), tmp_path / "run.jsonl") as watcher:
        watcher.log(0)
    step = read_run(tmp_path / "run.jsonl").steps[0]
    assert step.speed == (None, None, None) and step.weight_grad == (None, None, None)


def test_a_model_without_parameters_is_refused_clearly(tmp_path):
    with pytest.raises(InputError, match="ReLU has no parameters"):
        vgrad.watch(torch.nn.ReLU(), tmp_path / "run.jsonl")
    with pytest.raises(InputError, match="every=0"):
        vgrad.watch(small_model(), tmp_path / "run.jsonl", every=0)
    assert not (tmp_path / "run.jsonl").exists()


def test_non_finite_gradients_mark_the_run_diverged(tmp_path):
    model = small_model()
    with vgrad.watch(model, tmp_path / "run.jsonl") as watcher:
        backward(model)
        model[0].bias.grad[0] = math.inf
        watcher.log(0)
    rows = [json.loads(line) for line in (tmp_path / "run.jsonl").read_text().splitlines()]
    assert [row["kind"] for row in rows if row["type"] == "event"] == ["diverged"]


def test_layers_of_mixed_precision_are_each_read_in_their_dtype(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(3, 4).double(), torch.nn.Linear(4, 2).half())
    for layer in model:
        for p in layer.parameters():
            p.grad = torch.ones_like(p)
    with vgrad.watch(model, tmp_path / "run.jsonl") as watcher:
        watcher.log(0)
    step = read_run(tmp_path / "run.jsonl").steps[0]
    assert step.speed == pytest.approx([2.0, math.sqrt(2)])
    assert step.weight_grad == pytest.approx([math.sqrt(12), 2.0 * math.sqrt(2)])


def test_gradients_accumulated_over_two_backward_passes_are_recorded_as_accumulated(tmp_path):
    model = small_model()
    with vgrad.watch(model, tmp_path / "run.jsonl") as watcher:
        backward(model)
        first = [p.grad.clone() for p in (model[0].bias, model[0].weight)]
        model(torch.randn(5, 8, dtype=torch.float64)).square().mean().backward()   # no zero_grad: .grad adds up
        assert not torch.equal(first[0], model[0].bias.grad)
        watcher.log(0)
    step = read_run(tmp_path / "run.jsonl").steps[0]
    assert step.speed[0] == pytest.approx(model[0].bias.grad.norm().item(), rel=1e-12)
    assert step.weight_grad[0] == pytest.approx(model[0].weight.grad.norm().item(), rel=1e-12)
    assert step.neurons[0] == pytest.approx(model[0].bias.grad[:6].tolist(), rel=1e-12)


@pytest.mark.parametrize("scale", [1e-25, 1.0, 1e25])
def test_float32_norms_on_the_cpu_read_right_from_vanishing_to_exploding(tmp_path, scale):
    """float32 squares underflow for a vanishing gradient and overflow for an exploding one: those
    norms are computed again in float64, and read right."""
    model = torch.nn.Sequential(torch.nn.Linear(300, 40), torch.nn.Linear(40, 3))
    for parameter in model.parameters():
        parameter.grad = torch.full_like(parameter, scale)
    with vgrad.watch(model, tmp_path / "run.jsonl") as watcher:
        watcher.log(0)
    step = read_run(tmp_path / "run.jsonl").steps[0]
    expected_speed = [math.sqrt(layer.bias.numel()) * scale for layer in model]
    expected_weight = [math.sqrt(layer.weight.numel()) * scale for layer in model]
    assert step.speed == pytest.approx(expected_speed, rel=1e-6)
    assert step.weight_grad == pytest.approx(expected_weight, rel=1e-6)
    assert step.neurons[1] == pytest.approx([scale] * 3, rel=1e-6)


@pytest.mark.parametrize("scale", [1e-200, 1e-160, 1.0, 1e200])
def test_float64_norms_read_right_where_their_squares_under_or_overflow(tmp_path, scale):
    """float64 squares underflow below 1e-154 and overflow above 1e154 (torch's own norm reads 0 or
    inf there): those norms are computed again as m·‖t/m‖."""
    model = torch.nn.Sequential(torch.nn.Linear(300, 40), torch.nn.Linear(40, 3)).double()
    for parameter in model.parameters():
        parameter.grad = torch.full_like(parameter, scale)
    model[0].weight.grad[0, 0] = 0.0
    with vgrad.watch(model, tmp_path / "run.jsonl") as watcher:
        watcher.log(0)
    step = read_run(tmp_path / "run.jsonl").steps[0]
    assert step.speed == pytest.approx([math.sqrt(layer.bias.numel()) * scale for layer in model], rel=1e-12)
    assert step.weight_grad[0] == pytest.approx(math.sqrt(300 * 40 - 1) * scale, rel=1e-12)


@pytest.mark.parametrize("tiny", [0.0, 1e-30])
def test_a_float32_norm_of_zero_is_zero_only_when_every_entry_is(tmp_path, tiny):
    """A gradient of zeros but one entry too small to square in float32: its norm is that entry,
    not the 0 float32 gives; a gradient of zeros (an update that vanished) is 0."""
    model = torch.nn.Sequential(torch.nn.Linear(300, 40), torch.nn.Linear(40, 3))
    for parameter in model.parameters():
        parameter.grad = torch.zeros_like(parameter)
    model[0].weight.grad[7, 11] = tiny
    with vgrad.watch(model, tmp_path / "run.jsonl") as watcher:
        watcher.log(0)
    step = read_run(tmp_path / "run.jsonl").steps[0]
    assert step.weight_grad[0] == pytest.approx(tiny, rel=1e-6, abs=0)
    assert step.weight_grad[1] == 0.0


@pytest.mark.filterwarnings(r"ignore:Using backward\(\) with create_graph")
def test_gradients_that_need_grad_themselves_are_read_too(tmp_path):
    """backward(create_graph=True) leaves gradients that need grad themselves: read without a graph."""
    model = torch.nn.Linear(4, 2)
    loss = model(torch.ones(3, 4)).square().mean()
    loss.backward(create_graph=True)
    assert model.bias.grad.requires_grad
    with vgrad.watch(model, tmp_path / "run.jsonl") as watcher:
        watcher.log(0, loss=loss)
    step = read_run(tmp_path / "run.jsonl").steps[0]
    assert step.speed == pytest.approx([model.bias.grad.norm().item()], rel=1e-6)
    assert step.cost == pytest.approx(loss.item())


def test_cpu_gradients_of_any_size_read_as_torchs_norms(tmp_path):
    """Lengths of every kind, in float32."""
    model = torch.nn.Sequential(torch.nn.Linear(37, 1), torch.nn.Linear(1, 65), torch.nn.Linear(65, 7))
    backward_once = model(torch.randn(3, 37)).square().mean()
    backward_once.backward()
    with vgrad.watch(model, tmp_path / "run.jsonl") as watcher:
        watcher.log(0)
    step = read_run(tmp_path / "run.jsonl").steps[0]
    assert step.speed == pytest.approx([layer.bias.grad.norm().item() for layer in model], rel=1e-6)
    assert step.weight_grad == pytest.approx([layer.weight.grad.norm().item() for layer in model], rel=1e-6)
    assert step.neurons[1] == pytest.approx(model[1].bias.grad[:6].tolist(), rel=1e-7)


def test_a_gradient_that_is_not_one_dense_block_is_read_too(tmp_path):
    """A strided gradient (here a transposed view) reads as its norm."""
    model = torch.nn.Linear(4, 4)
    model.weight.grad = torch.arange(16.0).reshape(4, 4).t()
    model.bias.grad = torch.ones(4)
    assert not model.weight.grad.is_contiguous()
    with vgrad.watch(model, tmp_path / "run.jsonl") as watcher:
        watcher.log(0)
    step = read_run(tmp_path / "run.jsonl").steps[0]
    assert step.weight_grad == pytest.approx([model.weight.grad.norm().item()], rel=1e-6)
    assert step.speed == pytest.approx([2.0])


def test_a_model_cast_or_resized_after_watch_is_read_as_it_is_now(tmp_path):
    """A model cast to float32 or a parameter replaced by a smaller one is read as it is now."""
    cast = torch.nn.Linear(300, 200, dtype=torch.float64)
    resized = torch.nn.Linear(300, 200)
    changes = ((cast, lambda m: m.float()), (resized, lambda m: setattr(m.weight, "data", torch.randn(2, 300))))
    for model, change in changes:
        with vgrad.watch(model, tmp_path / f"{id(model)}.jsonl") as watcher:
            change(model)
            if model is resized:
                model.bias.data = torch.randn(2)
            model(torch.randn(4, 300)).sum().backward()
            watcher.log(0)
        step = read_run(tmp_path / f"{id(model)}.jsonl").steps[0]
        assert step.speed == pytest.approx([model.bias.grad.norm().item()], rel=1e-6)
        assert step.weight_grad == pytest.approx([model.weight.grad.norm().item()], rel=1e-6)


def test_a_channels_last_convolution_is_read_right_even_when_vanishing(tmp_path):
    """Its weight gradient is dense in another order; its vanishing norm is computed again in float64."""
    conv = torch.nn.Conv2d(3, 8, 3).to(memory_format=torch.channels_last)
    for parameter in conv.parameters():
        parameter.grad = torch.full_like(parameter, 1e-25)
    assert not conv.weight.grad.is_contiguous()
    with vgrad.watch(conv, tmp_path / "run.jsonl") as watcher:
        watcher.log(0)
    step = read_run(tmp_path / "run.jsonl").steps[0]
    assert step.weight_grad == pytest.approx([math.sqrt(8 * 3 * 3 * 3) * 1e-25], rel=1e-6)
    assert step.speed == pytest.approx([math.sqrt(8) * 1e-25], rel=1e-6)


def test_a_sparse_gradient_is_read_by_its_values_and_training_goes_on(tmp_path):
    embedding = torch.nn.Embedding(100, 8, sparse=True)
    embedding(torch.tensor([1, 2, 1])).sum().backward()
    with vgrad.watch(embedding, tmp_path / "run.jsonl") as watcher:
        watcher.log(0)
    step = read_run(tmp_path / "run.jsonl").steps[0]
    assert step.weight_grad == pytest.approx([embedding.weight.grad.to_dense().norm().item()], rel=1e-6)


def test_the_neuron_bars_are_each_biases_first_entries_narrow_or_wide(tmp_path):
    """A narrow bias joins a record whole and a wide one (over WHOLE_HEAD) by its first entries;
    either way, and from a device's transferred list as from a host tensor, the bars are the
    first six entries of each bias gradient, layer after layer."""
    from vgrad.core.watch.layers import find_layers
    from vgrad.core.watch.torch_watch import WHOLE_HEAD, _Plan

    torch.manual_seed(0)
    wide = WHOLE_HEAD + 10
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, wide), torch.nn.Linear(wide, 2))
    model(torch.randn(5, 3)).square().mean().backward()
    with vgrad.watch(model, tmp_path / "run.jsonl") as watcher:
        watcher.log(0)
    step = read_run(tmp_path / "run.jsonl").steps[0]
    expected = [layer.bias.grad[:6].tolist() for layer in model]
    assert [list(bars) for bars in step.neurons] == [pytest.approx(bars, rel=1e-6) for bars in expected]
    plan = _Plan(torch, find_layers(model))
    _, heads = plan.read(torch)
    assert plan.heads_of(heads) == plan.heads_of(heads.tolist()) == pytest.approx(sum(expected, []), rel=1e-6)
