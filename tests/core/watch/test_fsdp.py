"""vgrad.watch under FSDP2 (fully_shard): every rank watches, each sums the squares of its shards,
one all-reduce per record, rank 0 writes; the norms equal the unsharded model's (two gloo
processes on CPU, spawned)."""

import socket

import pytest

from vgrad.core.record.reader import read_run

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.slow


def make_model():
    torch.manual_seed(0)
    # widths 5 and 3: shards of unequal size (3 + 2, 2 + 1 rows)
    return torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))


def batch(rank: int):
    return torch.arange(8, dtype=torch.float32).reshape(2, 4) * (rank + 1) / 10


def _rank(rank: int, port: int, path: str) -> None:
    import torch.distributed as dist
    from torch.distributed.fsdp import fully_shard

    import vgrad

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    model = make_model()
    for layer in (model[0], model[2]):
        fully_shard(layer)
    fully_shard(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    with vgrad.watch(model, path, optimizer=optimizer) as watcher:   # every rank; only rank 0 opens the file
        assert (watcher.recorder is None) == (rank != 0)
        for _ in range(2):
            optimizer.zero_grad()
            model(batch(rank)).square().mean().backward()
            optimizer.step()
    dist.destroy_process_group()


def test_fsdp2_per_layer_norms_and_update_ratios_equal_the_unsharded_models(tmp_path):
    import torch.multiprocessing as mp

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = tmp_path / "fsdp.jsonl"
    mp.start_processes(_rank, args=(port, str(path)), nprocs=2, join=True, start_method="spawn")
    model = make_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    expected = []
    for _ in range(2):   # the unsharded model on both ranks' batches: FSDP averages the gradients
        optimizer.zero_grad()
        sum(model(batch(rank)).square().mean() / 2 for rank in range(2)).backward()
        layers = (model[0], model[2])
        before = [torch.cat([p.detach().reshape(-1).clone() for p in layer.parameters()]) for layer in layers]
        grads = ([layer.bias.grad.norm().item() for layer in layers],
                 [layer.weight.grad.norm().item() for layer in layers])
        optimizer.step()
        after = [torch.cat([p.detach().reshape(-1) for p in layer.parameters()]) for layer in layers]
        expected.append((*grads, [(a - b).norm().item() / b.norm().item() for a, b in zip(after, before)]))
    steps = read_run(path).steps
    assert [s.step for s in steps] == [0, 1]
    for step, (speed, weight, ratio) in zip(steps, expected):
        assert step.speed == pytest.approx(speed, rel=1e-5)
        assert step.weight_grad == pytest.approx(weight, rel=1e-5)
        assert step.update_ratio == pytest.approx(ratio, rel=1e-5)
