"""Which layers vgrad.watch records on real architectures, their bias-like parameters, and the
lens the run opens on."""

import json

import pytest

import vgrad
from vgrad.core.record.reader import read_run
from vgrad.core.watch.layers import default_lens, find_layers, is_bias_like

torch = pytest.importorskip("torch")
nn = torch.nn


class Block(nn.Module):
    """A LLaMA-style block: RMSNorm, bias-free projections."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.norm = nn.RMSNorm(width)
        self.up = nn.Linear(width, 2 * width, bias=False)
        self.down = nn.Linear(2 * width, width, bias=False)

    def forward(self, x):
        return x + self.down(torch.nn.functional.silu(self.up(self.norm(x))))


def header(path):
    return json.loads(path.read_text().splitlines()[0])["nets"][0]


def record_once(model, x, path):
    with vgrad.watch(model, path) as watcher:
        model(x)[0].square().mean().backward() if isinstance(model, nn.LSTM) else model(x).square().mean().backward()
        watcher.log(0)
    return read_run(path).steps[0]


@pytest.mark.parametrize("name, bias", [("bias", True), ("bias_ih_l0", True), ("bias_hh_l1_reverse", True),
                                        ("in_proj_bias", True), ("bias_k", True), ("weight", False),
                                        ("in_proj_weight", False), ("biases", False), ("unbiased", False)])
def test_a_parameter_is_bias_like_by_its_own_name(name, bias):
    assert is_bias_like(name) is bias


def test_a_bias_free_llama_style_stack_opens_on_the_weight_lens_with_every_weight_norm(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(Block(8), Block(8), nn.Linear(8, 3, bias=False))
    step = record_once(model, torch.randn(4, 8), tmp_path / "run.jsonl")
    assert header(tmp_path / "run.jsonl")["lens"] == "weight"
    assert step.speed == (None,) * 7
    expected = [layer.module.weight.grad.norm().item() for layer in find_layers(model)]
    assert step.weight_grad == pytest.approx(expected, rel=1e-6)


def test_an_lstms_two_bias_vectors_per_layer_are_its_bias_gradient(tmp_path):
    torch.manual_seed(0)
    lstm = nn.LSTM(5, 7, num_layers=2)
    step = record_once(lstm, torch.randn(3, 2, 5), tmp_path / "run.jsonl")
    biases = [p.grad for n, p in lstm.named_parameters() if n.startswith("bias")]
    weights = [p.grad for n, p in lstm.named_parameters() if n.startswith("weight")]
    assert len(biases) == 4
    assert step.speed == pytest.approx([torch.cat([b.reshape(-1) for b in biases]).norm().item()], rel=1e-6)
    assert step.weight_grad == pytest.approx([torch.cat([w.reshape(-1) for w in weights]).norm().item()], rel=1e-6)
    assert step.neurons[0] == pytest.approx(lstm.bias_ih_l0.grad[:6].tolist(), rel=1e-6)
    assert header(tmp_path / "run.jsonl")["lens"] == "bias"


def test_a_cnn_with_batch_norm_records_each_convolution_and_norm(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    step = record_once(model, torch.randn(5, 1, 8, 8), tmp_path / "run.jsonl")
    assert read_run(tmp_path / "run.jsonl").specs[0].layers == ("0", "1", "4")
    assert step.speed == pytest.approx([model[i].bias.grad.norm().item() for i in (0, 1, 4)], rel=1e-6)
    assert header(tmp_path / "run.jsonl")["lens"] == "bias"


def test_a_transformer_encoder_layer_counts_attentions_in_proj_bias(tmp_path):
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0)
    step = record_once(layer, torch.randn(3, 2, 8), tmp_path / "run.jsonl")
    names = read_run(tmp_path / "run.jsonl").specs[0].layers
    assert names == ("self_attn", "self_attn.out_proj", "linear1", "linear2", "norm1", "norm2")
    assert step.speed[0] == pytest.approx(layer.self_attn.in_proj_bias.grad.norm().item(), rel=1e-6)
    assert step.weight_grad[0] == pytest.approx(layer.self_attn.in_proj_weight.grad.norm().item(), rel=1e-6)
    assert None not in step.speed


def test_the_weight_lens_is_the_default_when_more_than_half_the_layers_have_no_bias():
    with_bias, without = nn.Linear(2, 2), nn.Linear(2, 2, bias=False)
    assert default_lens(find_layers(nn.Sequential(with_bias, without))) == "bias"     # half: the book's lens
    assert default_lens(find_layers(nn.Sequential(nn.Linear(2, 2), without, nn.Linear(2, 2, bias=False)))) == "weight"
