"""vgrad.watch(optimizer=...): records at the optimizer's real step — once per step under
gradient accumulation, unscaled and never a skipped step under AMP — with the update ratio."""

import copy
import math

import pytest

import vgrad
from vgrad.core.errors import InputError
from vgrad.core.record.reader import read_run

torch = pytest.importorskip("torch")
nn = torch.nn


def mlp(dtype=torch.float64):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3)).to(dtype)


def data(count=8, dtype=torch.float64):
    generator = torch.Generator().manual_seed(1)
    return torch.randn(count, 6, generator=generator, dtype=dtype), torch.randn(count, 3, generator=generator,
                                                                                  dtype=dtype)


def norms(model):
    return ([model[0].bias.grad.norm().item(), model[2].bias.grad.norm().item()],
            [model[0].weight.grad.norm().item(), model[2].weight.grad.norm().item()])


def test_accumulation_over_four_micro_batches_records_the_one_big_batchs_gradient_once(tmp_path):
    x, y = data(8)
    big = mlp()
    nn.functional.mse_loss(big(x), y).backward()
    expected = norms(big)
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with vgrad.watch(model, tmp_path / "run.jsonl", optimizer=optimizer):
        for part in range(4):
            (nn.functional.mse_loss(model(x[2 * part:2 * part + 2]), y[2 * part:2 * part + 2]) / 4).backward()
        optimizer.step()
    steps = read_run(tmp_path / "run.jsonl").steps
    assert [s.step for s in steps] == [0]
    assert steps[0].speed == pytest.approx(expected[0], rel=1e-5)
    assert steps[0].weight_grad == pytest.approx(expected[1], rel=1e-5)


def test_every_nth_optimizer_step_is_recorded_without_any_log(tmp_path):
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = data()
    with vgrad.watch(model, tmp_path / "run.jsonl", optimizer=optimizer, every=2):
        for _ in range(5):
            optimizer.zero_grad()
            nn.functional.mse_loss(model(x), y).backward()
            optimizer.step()
    assert [s.step for s in read_run(tmp_path / "run.jsonl").steps] == [0, 2, 4]


def test_log_after_the_step_gives_its_loss_to_that_steps_record(tmp_path):
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = data()
    losses = []
    with vgrad.watch(model, tmp_path / "run.jsonl", optimizer=optimizer) as watcher:
        for step in range(3):
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
            if step != 1:
                watcher.log(step, loss=loss, accuracy=0.5)
            losses.append(loss.item())
    steps = read_run(tmp_path / "run.jsonl").steps
    assert steps[0].cost == pytest.approx(losses[0]) and steps[0].accuracy == 0.5
    assert steps[1].cost is None and steps[1].accuracy is None    # nobody logged: written without them
    assert steps[2].cost == pytest.approx(losses[2])


def scaled_step(model, optimizer, scaler, x, y, poison=False):
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(x), y)
    scaler.scale(loss).backward()
    if poison:
        model[0].weight.grad[0, 0] = math.inf
    scaler.step(optimizer)
    scaler.update()


@pytest.mark.parametrize("fused", [False, True])
def test_under_grad_scaler_the_record_holds_unscaled_gradients_and_skipped_steps_write_nothing(tmp_path, fused):
    x, y = data(dtype=torch.float32)
    reference = mlp(torch.float32)
    nn.functional.mse_loss(reference(x), y).backward()
    expected = norms(reference)
    model = mlp(torch.float32)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=fused)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 10)
    with vgrad.watch(model, tmp_path / "run.jsonl", optimizer=optimizer):
        scaled_step(model, optimizer, scaler, x, y)
        before = [p.clone() for p in model.parameters()]
        scaled_step(model, optimizer, scaler, x, y, poison=True)        # skipped by the scaler
        assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
        scaled_step(model, optimizer, scaler, x, y)
    steps = read_run(tmp_path / "run.jsonl").steps
    assert [s.step for s in steps] == [0, 1]
    assert steps[0].speed == pytest.approx(expected[0], rel=1e-5)
    assert steps[0].weight_grad == pytest.approx(expected[1], rel=1e-5)
    assert steps[0].neurons[0] == pytest.approx(reference[0].bias.grad[:5].tolist(), rel=1e-5)


def manual_ratios(model, optimizer, x, y):
    optimizer.zero_grad()
    nn.functional.mse_loss(model(x), y).backward()
    before = [[p.detach().clone() for p in layer.parameters()] for layer in (model[0], model[2])]
    optimizer.step()
    after = [list(layer.parameters()) for layer in (model[0], model[2])]
    return [math.sqrt(sum(((a - b) ** 2).sum().item() for a, b in zip(olds, news))) /
            math.sqrt(sum((a ** 2).sum().item() for a in olds)) for olds, news in zip(before, after)]


@pytest.mark.parametrize("make", [lambda p: torch.optim.SGD(p, lr=0.1),
                                  lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
                                  lambda p: torch.optim.AdamW(p, lr=1e-2, weight_decay=0.1)],
                         ids=["sgd", "momentum", "adamw"])
def test_the_update_ratio_is_each_layers_step_over_its_weights(tmp_path, make):
    x, y = data()
    reference = mlp()
    reference_optimizer = make(reference.parameters())
    expected = [manual_ratios(reference, reference_optimizer, x, y) for _ in range(3)]
    model = mlp()
    optimizer = make(model.parameters())
    with vgrad.watch(model, tmp_path / "run.jsonl", optimizer=optimizer):
        for _ in range(3):
            optimizer.zero_grad()
            nn.functional.mse_loss(model(x), y).backward()
            optimizer.step()
    steps = read_run(tmp_path / "run.jsonl").steps
    for step, ratios in zip(steps, expected):
        assert step.update_ratio == pytest.approx(ratios, rel=1e-9)


def test_a_layer_the_optimizer_does_not_update_has_no_update_ratio(tmp_path):
    model = mlp()
    optimizer = torch.optim.SGD(model[2].parameters(), lr=0.1)
    x, y = data()
    with vgrad.watch(model, tmp_path / "run.jsonl", optimizer=optimizer):
        nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()
    ratio = read_run(tmp_path / "run.jsonl").steps[0].update_ratio
    assert ratio[0] is None and ratio[1] > 0


def test_an_optimizer_that_is_not_torchs_or_trains_another_model_is_refused_clearly(tmp_path):
    model = mlp()
    with pytest.raises(InputError, match="must be a torch.optim.Optimizer, not dict"):
        vgrad.watch(model, tmp_path / "run.jsonl", optimizer={"lr": 0.1})
    with pytest.raises(InputError, match=r"parameter of shape \(4,\) that is not in Sequential"):
        vgrad.watch(model, tmp_path / "run.jsonl", optimizer=torch.optim.SGD([nn.Parameter(torch.ones(4))], lr=1))
    assert not (tmp_path / "run.jsonl").exists()


def test_close_removes_the_hooks(tmp_path):
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = data()
    with vgrad.watch(model, tmp_path / "run.jsonl", optimizer=optimizer):
        pass
    nn.functional.mse_loss(model(x), y).backward()
    optimizer.step()
    assert len(read_run(tmp_path / "run.jsonl").steps) == 0


def test_a_failure_inside_the_watchers_hooks_warns_once_and_the_training_goes_on(tmp_path, monkeypatch):
    from vgrad.core.watch import torch_watch

    def broken(self, scalars):
        raise MemoryError("no room for θ's copy")

    monkeypatch.setattr(torch_watch._Measure, "finish", broken)
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = data()
    before = model[0].weight.detach().clone()
    with pytest.warns(RuntimeWarning, match=r"stopped recording at step 1 \(MemoryError: no room"):
        with vgrad.watch(model, tmp_path / "run.jsonl", optimizer=optimizer):
            for _ in range(2):
                optimizer.zero_grad()
                nn.functional.mse_loss(model(x), y).backward()
                optimizer.step()
    assert not torch.equal(before, model[0].weight)          # both steps were taken
    assert len(read_run(tmp_path / "run.jsonl").steps) == 0


def test_gradients_clipped_before_the_step_are_recorded_clipped(tmp_path):
    """What the step uses: scaler.unscale_, clip_grad_norm_, scaler.step."""
    model = mlp(torch.float32)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 8)
    x, y = data(dtype=torch.float32)
    with vgrad.watch(model, tmp_path / "run.jsonl", optimizer=optimizer):
        scaler.scale(nn.functional.mse_loss(model(x), y)).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1e-3)
        scaler.step(optimizer)
        scaler.update()
    step = read_run(tmp_path / "run.jsonl").steps[0]
    assert math.hypot(*step.speed, *step.weight_grad) == pytest.approx(1e-3, rel=1e-4)


def closure_for(model, optimizer, x, y):
    def closure():
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        return loss
    return closure


def saturated_share(model, x):
    return (model[1](model[0](x)).abs() > 0.97).double().mean().item()


@pytest.mark.parametrize("keyword", [False, True], ids=["positional", "closure="])
def test_a_step_given_a_closure_records_the_gradients_its_closure_computed(tmp_path, keyword):
    """optimizer.step(closure) runs the backward inside the step (as Lightning does)."""
    x, y = data()
    x = 3 * x                                   # some tanh units saturate
    reference = mlp()
    reference_optimizer = torch.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    expected = []
    for _ in range(3):
        saturated = saturated_share(reference, x)
        ratio = manual_ratios(reference, reference_optimizer, x, y)   # leaves the step's gradients
        expected.append((norms(reference), ratio, saturated))
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    with vgrad.watch(model, tmp_path / "run.jsonl", optimizer=optimizer, activations=True):
        for _ in range(3):
            closure = closure_for(model, optimizer, x, y)
            optimizer.step(closure=closure) if keyword else optimizer.step(closure)
    steps = read_run(tmp_path / "run.jsonl").steps
    assert [s.step for s in steps] == [0, 1, 2]
    for step, ((speed, weight), ratio, saturated) in zip(steps, expected):
        assert step.speed == pytest.approx(speed, rel=1e-9)
        assert step.weight_grad == pytest.approx(weight, rel=1e-9)
        assert step.update_ratio == pytest.approx(ratio, rel=1e-9)
        assert step.saturated == pytest.approx([saturated], rel=1e-9) and saturated > 0


@pytest.mark.parametrize("max_iter", [1, 4])
def test_lbfgs_records_the_gradients_of_its_closures_last_evaluation(tmp_path, max_iter):
    """With max_iter=1 that is the gradient at θ before the step, the one the step used."""
    x, y = data()
    model = mlp()
    optimizer = torch.optim.LBFGS(model.parameters(), lr=0.5, max_iter=max_iter)
    expected = []
    with vgrad.watch(model, tmp_path / "run.jsonl", optimizer=optimizer):
        for _ in range(3):
            before = [[p.detach().clone() for p in layer.parameters()] for layer in (model[0], model[2])]
            if max_iter == 1:   # the gradient at θ before the step, on a twin: the model's own are the last step's
                twin = copy.deepcopy(model)
                nn.functional.mse_loss(twin(x), y).backward()
                at_start = norms(twin)
            optimizer.step(closure_for(model, optimizer, x, y))
            after = [list(layer.parameters()) for layer in (model[0], model[2])]
            ratio = [math.sqrt(sum(((a - b) ** 2).sum().item() for a, b in zip(olds, news))) /
                     math.sqrt(sum((a ** 2).sum().item() for a in olds)) for olds, news in zip(before, after)]
            expected.append((at_start if max_iter == 1 else norms(model), ratio))
    steps = read_run(tmp_path / "run.jsonl").steps
    assert [s.step for s in steps] == [0, 1, 2]
    for step, ((speed, weight), ratio) in zip(steps, expected):
        assert step.speed == pytest.approx(speed, rel=1e-9)
        assert step.weight_grad == pytest.approx(weight, rel=1e-9)
        assert step.update_ratio == pytest.approx(ratio, rel=1e-9)


def test_a_layer_that_starts_at_zero_has_no_update_ratio_and_the_others_theirs(tmp_path):
    """‖θ‖ is read before the step: a float32 layer at zero is not divided by its weights after it."""
    x, y = data(dtype=torch.float32)
    model = mlp(torch.float32)
    with torch.no_grad():
        for p in model[2].parameters():
            p.zero_()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = [p.detach().clone() for p in model[0].parameters()]
    with vgrad.watch(model, tmp_path / "run.jsonl", optimizer=optimizer):
        nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()
    assert any(p.abs().sum() > 0 for p in model[2].parameters())      # it moved away from zero
    moved = math.sqrt(sum(((a - b) ** 2).sum().item() for a, b in zip(before, model[0].parameters())))
    ratio = read_run(tmp_path / "run.jsonl").steps[0].update_ratio
    assert ratio[1] is None
    assert ratio[0] == pytest.approx(moved / math.sqrt(sum((a ** 2).sum().item() for a in before)), rel=1e-5)


def test_number_next_renumbers_the_following_steps_and_every_counts_from_it(tmp_path):
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = data()
    with vgrad.watch(model, tmp_path / "run.jsonl", optimizer=optimizer, every=2) as watcher:
        watcher.number_next(7)             # a resumed trainer
        for _ in range(4):
            optimizer.zero_grad()
            nn.functional.mse_loss(model(x), y).backward()
            optimizer.step()
        with pytest.raises(InputError, match="step"):
            watcher.number_next(-1)
    assert [s.step for s in read_run(tmp_path / "run.jsonl").steps] == [8, 10]
