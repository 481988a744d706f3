"""The book's figures from a recording, drawn with matplotlib: speed of learning per hidden
layer on one log y axis shared by every net, each titled by its spec, state, epochs and
headline h1:hk = 1:N, its legend above the axis; and the first min(6, width) neurons' ∂C/∂b
bars at the last measurement, each net's on its own y range (their sizes differ by decades).
Values below ZERO_FLOOR (underflow) are left out and counted in a note under the axis."""

from __future__ import annotations

import math
from pathlib import Path

from vgrad.core.errors import InputError, did_you_mean
from vgrad.core.guard import expand
from vgrad.core.record.reader import Recording
from vgrad.core.status import EndStatus, NetState
from vgrad.core.text import literal_for_mathtext
from vgrad.core.view.lens import BIAS, LENSES, SYMBOLS, WEIGHT, lens_values
from vgrad.core.view.summary import ZERO_FLOOR, epoch_progress, headline_text
from vgrad.tui.headless import measured_when

FORMATS = (".png", ".svg", ".pdf")
QUANTITIES = {BIAS: "speed of learning ‖∂C/∂b_l‖", WEIGHT: "weight lens ‖∂C/∂W_l‖"}
LEGEND_PAD = 30   # points between a speed axis and its title: room for the legend above the axis


def check_figure_path(path: Path) -> Path:
    if path.suffix.lower() not in FORMATS:
        raise InputError(f"-o {path}: choose a .png, .svg or .pdf file name")
    path = expand(path, "-o")
    if not path.parent.exists():
        raise InputError(f"-o {path}: folder {path.parent} does not exist")
    return path


def _drawn(value: float | None) -> float:
    """Log axes cannot show 0, nan, inf, underflow (< ZERO_FLOOR) or no value: leave a gap there."""
    return value if value is not None and math.isfinite(value) and value >= ZERO_FLOOR else math.nan


def check_lens(lens: str) -> str:
    if lens not in LENSES:
        raise InputError(f"--lens {lens!r}: choose {' or '.join(LENSES)}" + did_you_mean(lens, LENSES))
    return lens


def isolated(values: list[float]) -> list[int]:
    """Indices of drawn values with no drawn neighbour: a line cannot show them, a marker does."""
    def drawn(i: int) -> bool:
        return 0 <= i < len(values) and math.isfinite(values[i])
    return [i for i in range(len(values)) if drawn(i) and not drawn(i - 1) and not drawn(i + 1)]


def net_state(recording: Recording, net: int) -> str:
    """The net's last event (done, diverged, error), or how the run was cut short: "interrupted"
    when its end line says so, else "stopped"."""
    kinds = [event.kind for event in recording.events if event.net == net]
    status = None if recording.end is None else recording.end.status
    return str(kinds[-1]) if kinds else NetState.DONE if status == EndStatus.COMPLETE else NetState.cut_short(status)


def underflow_note(steps: list, lens: str) -> str:
    """How many measurements had a layer under ZERO_FLOOR (σ'(z) underflowed), left out of the plot."""
    hidden = [step for step in steps if step.is_finite and any(v is not None and 0 <= v < ZERO_FLOOR
                                                               for v in lens_values(step, lens))]
    if not hidden:
        return ""
    return (f"{SYMBOLS[lens]} ≈ 0 (< {ZERO_FLOOR:g}, saturated) in\n"
            f"{len(hidden)} of {len(steps)} measurements: not drawn")


def draw_figure(recording: Recording, lens: str = BIAS, share_y: bool = True):
    """The matplotlib Figure of `recording` through `lens`: s_l (bias, the book's) or ‖∂C/∂W^l‖
    (weight); one y axis for every net's speeds (and one for its bars) unless not share_y."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    n_nets = len(recording.specs)
    watched = "source" in recording.header         # vgrad.watch / vgrad.Recorder: the user's own steps
    sgd = recording.config.mode == "sgd" or watched
    fig, axes = plt.subplots(2, n_nets, figsize=(4.6 * n_nets, 7.8), squeeze=False,
                             gridspec_kw={"height_ratios": [3, 2]})
    if share_y:   # the speeds share one axis so heights compare; each net's bars keep their own range
        for axis in axes[0][1:]:
            axis.sharey(axes[0][0])
    for index, spec in enumerate(recording.specs):
        steps = recording.steps_of(index)
        speed_axis, neuron_axis = axes[0][index], axes[1][index]
        x = [step.step if sgd else step.epoch for step in steps]
        for layer in range(spec.hidden):
            values = [_drawn(lens_values(step, lens)[layer]) for step in steps]
            shown = sum(math.isfinite(v) for v in values)
            label = literal_for_mathtext(spec.layer_names[layer])
            (line,) = speed_axis.plot(x, values, label=label,
                                      marker="o" if shown < 30 else None, markersize=3)
            alone = isolated(values)
            if alone:
                speed_axis.plot([x[i] for i in alone], [values[i] for i in alone], linestyle="none",
                                marker="o", markersize=4, color=line.get_color(), clip_on=False)
        speed_axis.set_yscale("log")
        if not sgd:
            speed_axis.set_xlim(0, max(recording.config.n_epochs, 1))
        state = net_state(recording, index)
        last = steps[-1] if steps else None
        details = " · ".join(part for part in (state, epoch_progress(state, last, recording.config.n_epochs),
                                               headline_text(last, lens, spec.layer_names)) if part)
        speed_axis.set_title(f"{literal_for_mathtext(spec.label)}\n{literal_for_mathtext(details)}", fontsize=9,
                             pad=LEGEND_PAD)
        note = underflow_note(steps, lens)
        speed_axis.set_xlabel(("mini-batch step" if sgd else "epoch") + (f"\n{note}" if note else ""),
                              fontsize=9 if note else None)
        speed_axis.grid(True, which="major", alpha=0.3)
        if index == 0 or not share_y:
            speed_axis.set_ylabel(QUANTITIES[lens])
        # above the axes, between them and the title: a legend inside would sit on some net's lines
        speed_axis.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0, 1.01, 1, 0.1), mode="expand",
                          ncol=min(spec.hidden, 4), frameon=False, borderaxespad=0, handlelength=1.5)
        finite = [step for step in steps if step.is_finite]
        _neuron_bars(neuron_axis, spec.hidden, finite[-1] if finite else None)
        neuron_axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.3g}"))
    mode = "mini-batch SGD" if sgd else "full-batch gradient descent"
    seen = "" if lens == BIAS else f" through the weight lens {SYMBOLS[lens]}"
    where = f"watched with {recording.header['source']}" if watched else f"{mode} on {recording.data_name}"
    fig.suptitle(f"Speed of learning{seen}, {literal_for_mathtext(where)}", fontsize=12)
    fig.tight_layout()
    return fig


def plot_recording(recording: Recording, out, dpi: int = 110, lens: str = BIAS,
                   share_y: bool = True, fmt: str | None = None):
    """Draw the figure of `recording` (see draw_figure) into `out`."""
    import matplotlib.pyplot as plt

    fig = draw_figure(recording, lens, share_y)
    fig.savefig(out, dpi=dpi, format=fmt)  # out: a path, or a claimed file and its format
    plt.close(fig)
    return out


def _neuron_bars(axis, hidden: int, step) -> None:
    """Grouped bars: the first min(6, width) neurons' signed mean ∂C/∂b, one group per hidden layer."""
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
    shown = max((len(values) for values in step.neurons), default=0)
    neurons = "neuron 1" if shown == 1 else f"neurons 1–{shown}"
    if all(value == 0 for values in step.neurons for value in values):
        axis.set_title(f"∂C/∂b_j of {neurons} {measured_when(step)}: every one is 0", fontsize=9)
    else:
        axis.set_title(f"∂C/∂b_j of {neurons} {measured_when(step)} (orange < 0)", fontsize=9)
    axis.set_ylabel("∂C/∂b_j")
