"""An exploded net says what happened: its peak h1:hk, then saturation (or the headline now)."""

import pytest

from vgrad.core.record.step import StepRecord
from vgrad.core.view.explosion import EXPLODED, explosion_note


def record(epoch, speed):
    return StepRecord(net=0, epoch=epoch, step=epoch, speed=speed, neurons=tuple((s,) for s in speed), cost=1.0)


def test_a_peak_then_underflow_reads_exploded_then_saturated():
    history = [record(0, (1.0, 0.04, 0.002, 7e-5)), record(1, (2.0, 0.05, 0.002, 5e-5)),
               record(2, (1e-3, 1e-3, 1e-3, 1e-3)), record(3, (0.0, 0.0, 0.0, 0.0)), record(4, (0.0, 0.0, 1e-14, 0.0))]
    assert explosion_note(history) == ("exploded: h1:h4 = 4.0e4:1 at epoch 1 (the most); then saturated: every "
                                       "s_l ≈ 0 from epoch 3 on (σ'(z) underflows, nothing passes back)")


def test_a_net_still_exploding_gives_its_headline_now():
    history = [record(0, (1.0, 0.01)), record(1, (0.5, 0.01))]
    assert explosion_note(history) == "exploded: h1:h2 = 100:1 at epoch 0 (the most); now h1:h2 = 50:1"


@pytest.mark.parametrize("speeds", [
    [(0.003, 0.3), (0.001, 0.2)],                     # vanishing, the book's case
    [(0.2, 0.2 / (EXPLODED * 0.99))],                 # faster first layer, but under EXPLODED
    [(0.0, 0.0), (0.0, 0.0)],                         # ≈0 from the start: nothing seen to explode
    [(0.5,)],                                         # one hidden layer: no headline
])
def test_no_note_for_a_net_that_never_exploded(speeds):
    assert explosion_note([record(epoch, speed) for epoch, speed in enumerate(speeds)]) == ""


@pytest.mark.slow  # a real run: compiles the kernels on a cold cache
def test_the_exploding_preset_explodes_for_many_epochs_then_saturates(mnist):
    from vgrad.core.config import Config
    from vgrad.core.lab.presets import PRESETS
    from vgrad.core.spec import parse_net
    from vgrad.core.train.experiment import run_experiment

    chosen = PRESETS["exploding"]
    spec = parse_net(chosen.nets[-1].replace("auto", "784"))
    history = list(run_experiment(spec, mnist, Config(**chosen.settings)))
    exploding = [r for r in history if r.speed[-1] > 0 and r.speed[0] / r.speed[-1] >= EXPLODED]
    assert len(exploding) >= 30 and explosion_note(history).startswith("exploded: h1:h4 = ")


def test_a_diverged_net_keeps_its_peak_and_no_empty_headline():
    history = [record(0, (1.0, 0.01)), record(1, (float("inf"), 0.01))]
    assert explosion_note(history) == "exploded: h1:h2 = 100:1 at epoch 0 (the most)"
