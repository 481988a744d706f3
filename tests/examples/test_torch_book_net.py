"""examples/torch_book_net.py: vgrad.watch on the book's net in PyTorch reads the engine's s_l."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from vgrad.core.config import Config
from vgrad.core.record.reader import read_run
from vgrad.core.spec import parse_net
from vgrad.core.train.trainer import Trainer

torch = pytest.importorskip("torch")
EXAMPLE = Path(__file__).parents[2] / "examples" / "torch_book_net.py"


def example():
    spec = importlib.util.spec_from_file_location("torch_book_net", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_watch_reads_the_engines_s_l_on_the_same_weights_and_probe_images(tmp_path, mnist):
    book = example()
    spec = parse_net("784-30-30-30-30-10")
    trainer = Trainer(spec, mnist, Config(epochs=1, seed=3))
    engine = trainer.measure(0).speed                       # s_l at initialisation, on the 1000 probe images
    layout = trainer.layout
    params = [(layout.weight(trainer.params, layer), layout.bias(trainer.params, layer))
              for layer in range(layout.n_layers)]
    model = book.book_net(params=params)
    x = torch.from_numpy(mnist.probe_x).double()
    y = torch.from_numpy(mnist.probe_y)
    with book.vgrad.watch(model, tmp_path / "run.jsonl") as watcher:
        book.book_cost(model, x, y).backward()
        watcher.log(0)
    watched = read_run(tmp_path / "run.jsonl").steps[0].speed
    assert len(watched) == 5                               # four hidden layers and the output
    np.testing.assert_allclose(watched[:4], engine, rtol=1e-5)


def test_the_example_trains_and_writes_a_run_that_replays(tmp_path, monkeypatch):
    book = example()
    monkeypatch.setattr(book, "load_dataset", lambda name: _tiny())
    book.train(str(tmp_path / "run.jsonl"), epochs=1, every=2)
    recording = read_run(tmp_path / "run.jsonl")
    assert recording.end.status == "complete" and [s.step for s in recording.steps] == [0, 2]
    assert recording.steps[0].accuracy is not None and len(recording.specs[0].layers) == 5


def _tiny():
    from vgrad.core.data.dataset import Dataset

    rng = np.random.default_rng(0)
    x = rng.random((30, 784), dtype=np.float32)
    y = rng.integers(0, 10, 30)
    return Dataset("tiny", x, y, x[:5], y[:5], x[:10], y[:10])
