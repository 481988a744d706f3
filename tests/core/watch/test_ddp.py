"""vgrad.watch under PyTorch DDP: on rank 0, after backward, it records the gradient averaged
over both ranks' batches (two gloo processes on CPU, spawned: a fork of the test process,
whose other threads may hold locks, can hang)."""

import pytest

from vgrad.core.record.reader import read_run

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.slow


def _rank(rank: int, port: int, path: str) -> None:
    import torch.distributed as dist

    import vgrad

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Sigmoid(), torch.nn.Linear(3, 2)).double()
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    watcher = vgrad.watch(ddp.module, path) if rank == 0 else None
    x = torch.arange(8, dtype=torch.float64).reshape(2, 4) * (rank + 1) / 10
    ddp(x).square().mean().backward()
    if watcher:
        watcher.log(0)
        watcher.close()
    dist.destroy_process_group()


def test_rank_0_records_the_gradient_averaged_over_both_ranks(tmp_path):
    import socket

    import torch.multiprocessing as mp

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = tmp_path / "ddp.jsonl"
    mp.start_processes(_rank, args=(port, str(path)), nprocs=2, join=True, start_method="spawn")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Sigmoid(), torch.nn.Linear(3, 2)).double()
    grads = []
    for rank in range(2):
        model.zero_grad()
        x = torch.arange(8, dtype=torch.float64).reshape(2, 4) * (rank + 1) / 10
        model(x).square().mean().backward()
        grads.append([model[0].bias.grad.clone(), model[2].bias.grad.clone()])
    expected = [((a + b) / 2).norm().item() for a, b in zip(*grads)]
    recording = read_run(path)
    assert recording.specs[0].layers == ("0", "2")
    assert recording.steps[0].speed == pytest.approx(expected, rel=1e-12)
