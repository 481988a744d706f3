"""vgrad.integrations.lightning: the callback records the gradients each optimizer step uses.

Lightning is imported by the `pl` fixture, not at collection: importing it takes seconds, which
`pytest -m "not slow"` must not pay."""

import math

import pytest

from vgrad.core.record.reader import read_run

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.slow   # importing Lightning and starting a Trainer take seconds
BATCH = 4


@pytest.fixture(scope="module")
def pl():
    return pytest.importorskip("lightning.pytorch")


@pytest.fixture(scope="module")
def VgradCallback(pl):
    from vgrad.integrations.lightning import VgradCallback

    return VgradCallback


def batches(count):
    generator = torch.Generator().manual_seed(1)
    return [(torch.randn(BATCH, 3, generator=generator, dtype=torch.float64),
             torch.randn(BATCH, 2, generator=generator, dtype=torch.float64)) for _ in range(count)]


def network():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2)).double()


@pytest.fixture(scope="module")
def Tiny(pl):
    class Tiny(pl.LightningModule):
        """A two-layer net on fixed batches; `poisoned` batches give an infinite loss."""

        def __init__(self, poisoned=()):
            super().__init__()
            self.net = network()
            self.poisoned = set(poisoned)

        def training_step(self, batch, index):
            x, y = batch
            loss = (self.net(x) - y).square().mean()
            return loss * math.inf if index in self.poisoned else loss

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    return Tiny


@pytest.fixture
def fit(pl):
    def fit(module, data, callback, **options):
        trainer = pl.Trainer(max_epochs=1, callbacks=[callback], logger=False, enable_checkpointing=False,
                             enable_progress_bar=False, enable_model_summary=False, accelerator="cpu", devices=1,
                             **options)
        trainer.fit(module, torch.utils.data.DataLoader(data, batch_size=None))
        return trainer

    return fit


def by_hand(data, group=1):
    """Each optimizer step's bias and weight gradient norms, layer after layer, from a plain loop over
    steps of `group` batches taken together."""
    net = network()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    norms = []
    for start in range(0, len(data), group):
        x = torch.cat([x for x, _ in data[start:start + group]])
        y = torch.cat([y for _, y in data[start:start + group]])
        optimizer.zero_grad()
        (net(x) - y).square().mean().backward()
        norms.append([norm for layer in (net[0], net[2]) for norm in (layer.bias.grad.norm().item(),
                                                                       layer.weight.grad.norm().item())])
        optimizer.step()
    return norms


def recorded(path):
    run = read_run(path)
    return run, [(step.step, [norm for pair in zip(step.speed, step.weight_grad) for norm in pair])
                 for step in run.steps]


def test_a_three_step_fit_records_each_step_s_gradients(tmp_path, Tiny, VgradCallback, fit):
    data = batches(3)
    fit(Tiny(), data, VgradCallback(tmp_path / "run.jsonl", name="tiny"))
    run, steps = recorded(tmp_path / "run.jsonl")
    assert run.specs[0].name == "tiny" and run.specs[0].layers == ("net.0", "net.2")
    assert [step for step, _ in steps] == [0, 1, 2]
    for (_, got), expected in zip(steps, by_hand(data)):
        assert got == pytest.approx(expected, rel=1e-9)
    assert run.end.status == "complete"


def test_accumulated_batches_record_once_per_optimizer_step(tmp_path, Tiny, VgradCallback, fit):
    data = batches(6)
    fit(Tiny(), data, VgradCallback(tmp_path / "run.jsonl"), accumulate_grad_batches=2)
    _, steps = recorded(tmp_path / "run.jsonl")
    assert [step for step, _ in steps] == [0, 1, 2]
    for (_, got), expected in zip(steps, by_hand(data, group=2)):   # the mean over both batches
        assert got == pytest.approx(expected, rel=1e-9)


def test_every_keeps_every_nth_step(tmp_path, Tiny, VgradCallback, fit):
    fit(Tiny(), batches(5), VgradCallback(tmp_path / "run.jsonl", every=2))
    _, steps = recorded(tmp_path / "run.jsonl")
    assert [step for step, _ in steps] == [0, 2, 4]


def test_under_amp_the_gradients_are_unscaled_and_a_skipped_step_is_not_recorded(tmp_path, Tiny, VgradCallback, fit):
    from lightning.pytorch.plugins.precision import MixedPrecision

    data = batches(3)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10)
    precision = MixedPrecision("16-mixed", "cpu", scaler=scaler)
    fit(Tiny(poisoned={1}), data, VgradCallback(tmp_path / "run.jsonl"), plugins=[precision])
    _, steps = recorded(tmp_path / "run.jsonl")
    assert [step for step, _ in steps] == [0, 2]    # step 1's gradients were inf: the scaler skipped it
    first = by_hand(data[:1])[0]
    assert steps[0][1] == pytest.approx(first, rel=1e-2)   # float16 forward; not 2**10 times larger
    assert all(math.isfinite(norm) for _, norms in steps for norm in norms)


def test_a_fit_that_fails_ends_the_file_stopped_with_the_error(tmp_path, Tiny, VgradCallback, fit):
    class Failing(Tiny):
        def training_step(self, batch, index):
            if index == 1:
                raise RuntimeError("boom")
            return super().training_step(batch, index)

    with pytest.raises(RuntimeError, match="boom"):
        fit(Failing(), batches(3), VgradCallback(tmp_path / "run.jsonl"))
    run, steps = recorded(tmp_path / "run.jsonl")
    assert [step for step, _ in steps] == [0]
    assert run.end.status == "stopped"
    assert any("boom" in (event.message or "") for event in run.events)


def test_watch_options_are_checked_when_the_fit_starts(tmp_path, Tiny, VgradCallback, fit):
    (tmp_path / "run.jsonl").write_text("mine\n")
    with pytest.raises(ValueError, match="exists"):
        fit(Tiny(), batches(1), VgradCallback(tmp_path / "run.jsonl"))
    assert (tmp_path / "run.jsonl").read_text() == "mine\n"


def test_each_record_carries_its_steps_loss_the_mean_over_accumulated_batches(tmp_path, Tiny, VgradCallback, fit):
    data = batches(4)
    fit(Tiny(), data, VgradCallback(tmp_path / "run.jsonl"), accumulate_grad_batches=2)
    net = network()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    expected = []
    for start in (0, 2):
        optimizer.zero_grad()
        losses = [(net(x) - y).square().mean() for x, y in data[start:start + 2]]
        expected.append(sum(loss.item() for loss in losses) / 2)
        (sum(losses) / 2).backward()
        optimizer.step()
    assert [step.cost for step in read_run(tmp_path / "run.jsonl").steps] == pytest.approx(expected, rel=1e-6)
