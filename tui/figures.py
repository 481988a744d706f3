"""The book's figures from a recording, drawn with matplotlib: speed of learning per hidden
layer on a log y axis for each net, and the six-neuron ∂C/∂b bars at the last measurement."""

from __future__ import annotations

import math
from pathlib import Path

from vgrad.core.errors import InputError
from vgrad.core.guard import expand
from vgrad.core.record.reader import Recording
from vgrad.core.run.lens import BIAS, LENSES, SYMBOLS, lens_values

FORMATS = (".png", ".svg", ".pdf")


def check_figure_path(path: Path) -> Path:
    if path.suffix.lower() not in FORMATS:
        raise InputError(f"-o {path}: choose a .png, .svg or .pdf file name")
    path = expand(path, "-o")
    if not path.parent.exists():
        raise InputError(f"-o {path}: folder {path.parent} does not exist")
    return path


def _positive(value: float) -> float:
    """Log axes cannot show 0, nan or inf: leave a gap there."""
    return value if math.isfinite(value) and value > 0 else math.nan


def check_lens(lens: str) -> str:
    if lens not in LENSES:
        raise InputError(f"--lens {lens!r}: choose {' or '.join(LENSES)}")
    return lens


def plot_recording(recording: Recording, out, dpi: int = 110, lens: str = BIAS, fmt: str | None = None):
    """The figure of `recording` through `lens`: s_l (bias, the book's) or ‖∂C/∂W^l‖ (weight)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n_nets = len(recording.specs)
    sgd = recording.config.mode == "sgd"
    fig, axes = plt.subplots(2, n_nets, figsize=(4.6 * n_nets, 7.0), squeeze=False,
                             gridspec_kw={"height_ratios": [3, 2]})
    for index, spec in enumerate(recording.specs):
        steps = recording.steps_of(index)
        speed_axis, neuron_axis = axes[0][index], axes[1][index]
        x = [step.step if sgd else step.epoch for step in steps]
        for layer in range(spec.hidden):
            values = [_positive(lens_values(step, lens)[layer]) for step in steps]
            shown = sum(math.isfinite(v) for v in values)
            speed_axis.plot(x, values, label=f"hidden layer {layer + 1}", marker="o" if shown < 30 else None,
                            markersize=3)
        speed_axis.set_yscale("log")
        if not sgd:
            speed_axis.set_xlim(0, max(recording.config.n_epochs - 1, 1))
        dead = next((step for step in steps if step.is_finite and 0.0 in lens_values(step, lens)), None)
        if dead is not None:
            speed_axis.text(0.5, 0.5, f"{SYMBOLS[lens]} = 0 from epoch {dead.epoch}:\nσ'(z) underflowed (saturated)",
                            transform=speed_axis.transAxes, ha="center", fontsize=9, color="dimgray")
        speed_axis.set_title(spec.label, fontsize=10)
        speed_axis.set_xlabel("mini-batch step" if sgd else "epoch")
        speed_axis.grid(True, which="major", alpha=0.3)
        if index == 0:
            speed_axis.set_ylabel("speed of learning s_l" if lens == BIAS else f"weight lens {SYMBOLS[lens]}")
        speed_axis.legend(fontsize=8)
        finite = [step for step in steps if step.is_finite]
        _neuron_bars(neuron_axis, spec.hidden, finite[-1] if finite else None)
    mode = "mini-batch SGD" if sgd else "full-batch gradient descent"
    seen = "" if lens == BIAS else f" through the weight lens {SYMBOLS[lens]}"
    fig.suptitle(f"Speed of learning{seen}, {mode} on {recording.data_name}", fontsize=12)
    fig.tight_layout()
    fig.savefig(out, dpi=dpi, format=fmt)  # out: a path, or a claimed file and its format
    plt.close(fig)
    return out


def _neuron_bars(axis, hidden: int, step) -> None:
    """Grouped bars: the first six neurons' signed mean ∂C/∂b, one group per hidden layer."""
    axis.axhline(0, color="grey", linewidth=0.8)
    axis.set_xlim(-0.5, hidden - 0.5)
    axis.set_xticks(list(range(hidden)), [f"h{layer + 1}" for layer in range(hidden)])
    if step is None:
        axis.set_title("no finite measurement", fontsize=9)
        return
    for layer, values in enumerate(step.neurons):
        width = 0.8 / max(len(values), 1)
        for j, value in enumerate(values):
            axis.bar(layer - 0.4 + width * (j + 0.5), value, width=width,
                     color="tab:orange" if value < 0 else "tab:blue")  # as the dashboard's bars
    shown = len(step.neurons[0]) if step.neurons else 0
    axis.set_title(f"first {shown} neurons' ∂C/∂b at epoch {step.epoch} (orange < 0)", fontsize=9)
    axis.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
