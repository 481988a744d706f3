"""vgrad.integrations.transformers: the callback records the gradients each optimizer step uses.

transformers is imported by fixtures, not at collection: importing its Trainer takes seconds."""

import math

import pytest

from vgrad.core.record.reader import read_run

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.slow   # importing the Trainer and starting it take seconds
EXAMPLES = 4


@pytest.fixture(scope="module")
def transformers():
    pytest.importorskip("accelerate")
    return pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def VgradCallback(transformers):
    from vgrad.integrations.transformers import VgradCallback

    return VgradCallback


class Examples(torch.utils.data.Dataset):
    def __init__(self):
        generator = torch.Generator().manual_seed(1)
        self.x = torch.randn(EXAMPLES, 3, generator=generator, dtype=torch.float64)
        self.y = torch.randn(EXAMPLES, 2, generator=generator, dtype=torch.float64)

    def __len__(self):
        return EXAMPLES

    def __getitem__(self, index):
        return {"x": self.x[index], "labels": self.y[index]}


class Tiny(torch.nn.Module):
    """A two-layer regression net; the forward passes in `poisoned` give an infinite loss."""

    def __init__(self, poisoned=()):
        super().__init__()
        torch.manual_seed(0)
        self.net = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2)).double()
        self.poisoned = set(poisoned)
        self.calls = 0

    def forward(self, x, labels):
        loss = (self.net(x) - labels).square().mean()
        self.calls += 1
        return {"loss": loss * math.inf if self.calls - 1 in self.poisoned else loss}


def train(transformers, tmp_path, model, *callbacks, batch=EXAMPLES, scaler=None, **options):
    """Three steps (SGD unless `optim` says), each over all four examples (whatever order the
    sampler draws them in).
    `scaler`: the GradScaler accelerate makes for fp16 on a GPU, handed to it here on the CPU
    (where it makes none), so that the loss is scaled and the scaler's step may be skipped."""
    options = {"optim": "sgd", "learning_rate": 0.1, "lr_scheduler_type": "constant", "weight_decay": 0.0,
               "logging_strategy": "no"} | options
    if options["optim"] is None:   # the Trainer's default optimizer
        del options["optim"]
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path / "out"), max_steps=3, per_device_train_batch_size=batch, use_cpu=True,
        report_to="none", save_strategy="no", disable_tqdm=True, **options)
    trainer = transformers.Trainer(model=model, args=args, train_dataset=Examples(), callbacks=list(callbacks))
    if scaler is not None:
        trainer.accelerator.scaler = scaler   # before train() prepares the optimizer with it
    trainer.train()


def by_hand(steps=3, clip=None):
    """Each step's bias and weight gradient norms, layer after layer, from a plain full-batch loop."""
    data, net = Examples(), Tiny().net
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    norms = []
    for _ in range(steps):
        optimizer.zero_grad()
        (net(data.x) - data.y).square().mean().backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
        norms.append([n for layer in (net[0], net[2]) for n in (layer.bias.grad.norm().item(),
                                                              layer.weight.grad.norm().item())])
        optimizer.step()
    return norms


def recorded(path):
    run = read_run(path)
    return run, [(step.step, [n for pair in zip(step.speed, step.weight_grad) for n in pair]) for step in run.steps]


def test_a_three_step_run_records_each_step_s_gradients(transformers, VgradCallback, tmp_path):
    train(transformers, tmp_path, Tiny(), VgradCallback(tmp_path / "run.jsonl", name="tiny"), max_grad_norm=0.0)
    run, steps = recorded(tmp_path / "run.jsonl")
    assert run.specs[0].name == "tiny" and run.specs[0].layers == ("net.0", "net.2")
    assert [step for step, _ in steps] == [0, 1, 2]
    for (_, got), expected in zip(steps, by_hand()):
        assert got == pytest.approx(expected, rel=1e-9)
    assert run.end.status == "complete"


def test_the_recorded_gradients_are_the_clipped_ones_the_step_used(transformers, VgradCallback, tmp_path):
    train(transformers, tmp_path, Tiny(), VgradCallback(tmp_path / "run.jsonl"), max_grad_norm=0.05)
    _, steps = recorded(tmp_path / "run.jsonl")
    for (_, got), expected in zip(steps, by_hand(clip=0.05)):
        assert got == pytest.approx(expected, rel=1e-9)
    assert math.hypot(*steps[0][1]) == pytest.approx(0.05)   # every layer scaled by one factor


def test_accumulated_batches_record_once_per_optimizer_step(transformers, VgradCallback, tmp_path):
    train(transformers, tmp_path, Tiny(), VgradCallback(tmp_path / "run.jsonl"), batch=2,
          gradient_accumulation_steps=2, max_grad_norm=0.0)
    _, steps = recorded(tmp_path / "run.jsonl")
    assert [step for step, _ in steps] == [0, 1, 2]
    for (_, got), expected in zip(steps, by_hand()):   # the mean over both micro-batches
        assert got == pytest.approx(expected, rel=1e-9)


def test_under_a_grad_scaler_the_gradients_are_unscaled_and_a_skipped_step_is_not_recorded(
        transformers, VgradCallback, tmp_path):
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10)
    train(transformers, tmp_path, Tiny(poisoned={1}), VgradCallback(tmp_path / "run.jsonl"), scaler=scaler,
          max_grad_norm=0.0)
    _, steps = recorded(tmp_path / "run.jsonl")
    assert [step for step, _ in steps] == [0, 2]   # step 1's gradients were inf: the scaler skipped it
    assert steps[0][1] == pytest.approx(by_hand(steps=1)[0], rel=1e-9)   # not 2**10 times larger
    assert all(math.isfinite(n) for _, norms in steps for n in norms)


def test_with_the_default_adamw_the_gradients_recorded_after_the_step_are_those_before_it(
        transformers, VgradCallback, tmp_path):
    class Before(transformers.TrainerCallback):
        seen = []

        def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
            self.seen.append([n for layer in (model.net[0], model.net[2])
                              for n in (layer.bias.grad.norm().item(), layer.weight.grad.norm().item())])

    train(transformers, tmp_path, Tiny(), Before(), VgradCallback(tmp_path / "run.jsonl"), optim=None,
          weight_decay=0.1)
    steps = recorded(tmp_path / "run.jsonl")[1]
    assert len(steps) == len(Before.seen) == 3
    for (_, got), before in zip(steps, Before.seen):   # equal but for the norm's summation order
        assert got == pytest.approx(before, rel=1e-12)


def test_each_steps_update_ratio_is_recorded_with_the_trainers_own_optimizer(transformers, VgradCallback, tmp_path):
    train(transformers, tmp_path, Tiny(), VgradCallback(tmp_path / "run.jsonl"), max_grad_norm=0.0)
    data, net = Examples(), Tiny().net
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    expected = []
    for _ in range(3):
        optimizer.zero_grad()
        (net(data.x) - data.y).square().mean().backward()
        before = [[p.detach().clone() for p in layer.parameters()] for layer in (net[0], net[2])]
        optimizer.step()
        expected.append([math.sqrt(sum(((a - b) ** 2).sum().item() for a, b in zip(olds, layer.parameters()))) /
                         math.sqrt(sum((a ** 2).sum().item() for a in olds))
                         for olds, layer in zip(before, (net[0], net[2]))])
    steps = read_run(tmp_path / "run.jsonl").steps
    assert [s.step for s in steps] == [0, 1, 2]
    for step, ratios in zip(steps, expected):
        assert step.update_ratio == pytest.approx(ratios, rel=1e-9)


def test_the_loss_the_trainer_logs_joins_the_record_of_its_step(transformers, VgradCallback, tmp_path):
    train(transformers, tmp_path, Tiny(), VgradCallback(tmp_path / "run.jsonl"), logging_strategy="steps",
          logging_steps=2, max_grad_norm=0.0)
    run = read_run(tmp_path / "run.jsonl")
    data, net = Examples(), Tiny().net
    first = (net(data.x) - data.y).square().mean().item()   # the loss before any step: logged at step 1
    costs = [step.cost for step in run.steps]
    assert costs[0] is None and costs[2] is None and costs[1] == pytest.approx((first + costs_after_one()) / 2)


def costs_after_one():
    """The loss of the second step (after one SGD step), by hand."""
    data, net = Examples(), Tiny().net
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    (net(data.x) - data.y).square().mean().backward()
    optimizer.step()
    return (net(data.x) - data.y).square().mean().item()
