"""vgrad.watch leaves the user's process as it found it, and follows (or reports) a model that
changes after watch(): replaced, added or removed layers, a dtype cast, a fork."""

import os
import subprocess
import sys

import pytest

import vgrad
from vgrad.core.record.reader import read_run

torch = pytest.importorskip("torch")
nn = torch.nn


def mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), nn.Sigmoid(), nn.Linear(3, 2))


def train_step(model, optimizer, dtype=torch.float32):
    optimizer.zero_grad()
    model(torch.ones(2, 4, dtype=dtype)).square().mean().backward()
    optimizer.step()


@pytest.mark.slow
def test_watching_and_logging_change_no_global_state_and_load_no_numba():
    """In a fresh interpreter: numba is never imported, torch's and numpy's settings stay as they were."""
    script = """
import sys, tempfile, numpy, torch, vgrad
def state():
    return (torch.get_num_threads(), torch.get_num_interop_threads(), torch.get_default_dtype(),
            torch.is_grad_enabled(), torch.are_deterministic_algorithms_enabled(), numpy.geterr(),
            numpy.get_printoptions()['precision'], torch.backends.mkldnn.enabled)
before = state()
model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
with tempfile.TemporaryDirectory() as folder:
    with vgrad.watch(model, folder + '/run.jsonl', optimizer=optimizer, activations=True) as watcher:
        model(torch.ones(2, 4)).sum().backward(); optimizer.step(); watcher.log(0, loss=torch.tensor(1.0))
    with vgrad.watch(model, folder + '/log.jsonl') as watcher:
        model(torch.ones(2, 4)).sum().backward(); watcher.log(0)
assert state() == before, (state(), before)
assert 'numba' not in sys.modules, 'numba imported'
print('ok')
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "ok", done.stderr[-2000:]


@pytest.mark.parametrize("with_optimizer", [False, True])
def test_a_layer_replaced_after_watch_is_read_from_its_new_parameters(tmp_path, with_optimizer):
    """Not the old layer's stale gradient, recorded forever."""
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with vgrad.watch(model, tmp_path / "run.jsonl", optimizer=optimizer if with_optimizer else None) as watcher:
        train_step(model, optimizer)
        watcher.log(0)
        model[2] = nn.Linear(3, 2)
        with torch.no_grad():
            model[2].weight.mul_(100)
        optimizer.add_param_group({"params": model[2].parameters()})
        train_step(model, optimizer)
        watcher.log(1)
    steps = read_run(tmp_path / "run.jsonl").steps
    assert len(steps) == 2
    assert steps[1].weight_grad[1] == pytest.approx(model[2].weight.grad.norm().item(), rel=1e-6)


def test_log_looks_for_model_changes_when_a_gradient_is_missing_and_at_least_once_a_second(tmp_path, monkeypatch):
    """The walk over the model is a tenth of a record: log's lean path makes it when a gradient it
    reads is missing (a replaced layer's old parameters get none) and every LOOK_AGAIN_S."""
    from vgrad.core.watch import torch_watch

    walks = []
    walk = torch_watch._signature
    monkeypatch.setattr(torch_watch, "_signature", lambda model: walks.append(1) or walk(model))
    monkeypatch.setattr(torch_watch, "LOOK_AGAIN_S", 1e9)
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with vgrad.watch(model, tmp_path / "run.jsonl") as watcher:
        walks.clear()
        for step in range(3):
            train_step(model, optimizer)
            watcher.log(step)
        assert walks == []
        model[2] = nn.Linear(3, 2)
        optimizer.add_param_group({"params": model[2].parameters()})
        train_step(model, optimizer)   # zero_grad: the old layer's gradients are None now
        watcher.log(3)
        assert len(walks) == 1
        replaced = model[2].weight.grad.norm().item()
        monkeypatch.setattr(torch_watch, "LOOK_AGAIN_S", 0.0)
        train_step(model, optimizer)
        watcher.log(4)
        assert len(walks) == 2
    steps = read_run(tmp_path / "run.jsonl").steps
    assert steps[3].weight_grad[1] == pytest.approx(replaced, rel=1e-6)   # the new layer, read at once
    assert steps[4].weight_grad[1] == pytest.approx(model[2].weight.grad.norm().item(), rel=1e-6)


def test_layers_added_or_removed_after_watch_are_warned_about_once(tmp_path):
    model = mlp()
    with vgrad.watch(model, tmp_path / "run.jsonl") as watcher:
        model.append(nn.Linear(2, 2))
        del model[0]
        with pytest.warns(RuntimeWarning) as caught:
            watcher.log(0)
            watcher.log(1)
    messages = sorted(str(w.message) for w in caught)
    assert len(messages) == 2
    assert "layers added after watch() are not recorded" in messages[0]
    assert "layers removed after watch() are recorded as null (0)" in messages[1]
    assert read_run(tmp_path / "run.jsonl").steps[0].weight_grad[0] is None


def test_a_model_cast_after_watch_is_read_in_its_new_dtype(tmp_path):
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with vgrad.watch(model, tmp_path / "run.jsonl", optimizer=optimizer):
        model.double()
        train_step(model, optimizer, torch.float64)
    step = read_run(tmp_path / "run.jsonl").steps[0]
    assert model[0].weight.dtype == torch.float64
    assert step.weight_grad[0] == pytest.approx(model[0].weight.grad.norm().item(), rel=1e-12)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_process_forked_after_watch_records_nothing_and_exits_cleanly(tmp_path):
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    watcher = vgrad.watch(model, tmp_path / "run.jsonl", optimizer=optimizer)
    child = os.fork()
    if child == 0:   # the child steps, logs and closes: the watcher does nothing there
        try:
            train_step(model, optimizer)
            watcher.log(0, loss=1.0)
            watcher.close()
        finally:
            os._exit(0)
    _, status = os.waitpid(child, 0)
    train_step(model, optimizer)
    watcher.close()
    assert os.waitstatus_to_exitcode(status) == 0
    assert [s.step for s in read_run(tmp_path / "run.jsonl").steps] == [0]


def test_a_module_used_twice_per_step_is_one_layer_with_the_summed_gradient(tmp_path):
    torch.manual_seed(0)
    shared = nn.Linear(3, 3)
    model = nn.Sequential(shared, nn.Tanh(), shared)      # registered twice, called twice
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with vgrad.watch(model, tmp_path / "run.jsonl", optimizer=optimizer, activations=True):
        model(torch.ones(2, 3)).sum().backward()
        optimizer.step()
    recording = read_run(tmp_path / "run.jsonl")
    assert recording.specs[0].layers == ("0",)
    assert recording.steps[0].weight_grad == pytest.approx([shared.weight.grad.norm().item()], rel=1e-6)
