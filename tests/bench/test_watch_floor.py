"""The floors the bench reads vgrad.watch against: the same numbers as torch's, once per record."""

import math

import pytest

torch = pytest.importorskip("torch")

from vgrad.bench.measures.watch_floor import FusedFloor, TorchFloor  # noqa: E402


def trained_step(model, optimizer):
    optimizer.zero_grad()
    model(torch.rand(4, 5)).square().sum().backward()
    optimizer.step()


@pytest.fixture
def model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3))


def test_fused_kernels_read_the_squares_torch_reads(model):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    trained_step(model, optimizer)
    fused, plain = FusedFloor(torch, model, 1), TorchFloor(torch, model, 1)
    norms = [n.item() for n in plain.read_gradients()]
    assert [math.sqrt(s) for s in fused.read_gradients()] == pytest.approx(norms, rel=1e-6)
    before = [p.detach().clone() for p in model.parameters()]
    copy = fused.copy_parameters()
    assert all(torch.equal(torch.from_numpy(c), b.reshape(-1)) for c, b in zip(copy, before))
    trained_step(model, optimizer)
    moved = [(p.detach() - b).norm().item() for p, b in zip(model.parameters(), before)]
    assert min(moved) > 0
    assert [math.sqrt(s) for s in fused.read_change(copy)] == pytest.approx(moved, rel=1e-5)


@pytest.mark.parametrize("floor", [TorchFloor, FusedFloor])
def test_a_floor_reads_every_nth_step_and_keeps_its_time(model, floor):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    reader = floor(torch, model, 3, optimizer)
    for _ in range(7):
        trained_step(model, optimizer)
    assert len(reader.spent) == 3 and all(s > 0 for s in reader.spent)   # steps 0, 3 and 6
    logged = floor(torch, model, 2)
    for step in range(5):
        logged.log(step)
    assert len(logged.spent) == 3
