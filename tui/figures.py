"""The book's figures from a recording, drawn with matplotlib: speed of learning per hidden
layer on one log y axis shared by every net, each titled by its spec, state, epochs and
headline h1:hk = 1:N, its legend above the axis; and the first min(6, width) neurons' ∂C/∂b
bars at the last measurement, each net's on its own y range (their sizes differ by decades).
Values below ZERO_FLOOR (underflow) are left out and counted in a note under the axis."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

from vgrad.core.errors import InputError, did_you_mean
from vgrad.core.guard import expand
from vgrad.core.record.reader import Recording
from vgrad.core.status import EndStatus, NetState
from vgrad.core.text import literal_for_mathtext
from vgrad.core.view.lens import BIAS, HEALTHY_UPDATE, LENSES, SYMBOLS, WEIGHT, lens_values, shown_lens
from vgrad.core.view.series import HEATMAP_DEPTH, Series, panel_series
from vgrad.core.view.summary import ZERO_FLOOR, epoch_progress, smoothed_headline
from vgrad.tui.headless import measured_when

FORMATS = (".png", ".svg", ".pdf")
QUANTITIES = {BIAS: "speed of learning ‖∂C/∂b_l‖", WEIGHT: "weight lens ‖∂C/∂W_l‖"}
LEGEND_PAD = 16   # points between a speed axis's legend and its title
LEGEND_ROW = 11   # points a legend row takes (fontsize 8)
LEGEND_COLUMNS = 4
OWN_COLOURS = 10  # up to this many lines get matplotlib's own colours; more, one colour per depth
BAR_LABELS = 12   # the neuron bars name at most this many layers under their groups


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
                                                               for v in lens_values(step, lens) or ())]
    if not hidden:
        return ""
    return (f"{SYMBOLS[lens]} ≈ 0 (< {ZERO_FLOOR:g}, saturated) in\n"
            f"{len(hidden)} of {len(steps)} measurements: not drawn")


def draw_figure(recording: Recording, lens: str = BIAS, share_y: bool = True, smooth: int = 0,
                heatmap: bool | None = None, fold: bool = False):
    """The matplotlib Figure of `recording` through `lens`: s_l (bias, the book's) or ‖∂C/∂W^l‖
    (weight), the update ratio or a saturated fraction; one y axis for every net's lines unless not
    share_y (a heatmap's rows are each net's own layers); each net's bars on their own y range,
    left out when no net recorded any. `heatmap` None: a heatmap when a net has more than
    HEATMAP_DEPTH rows, as the dashboard opens."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    n_nets = len(recording.specs)
    watched = "source" in recording.header         # vgrad.watch / vgrad.Recorder: the user's own steps
    sgd = recording.config.mode == "sgd" or watched
    per_net = [recording.steps_of(index) for index in range(n_nets)]
    lenses = [shown_lens(spec, steps, lens) for spec, steps in zip(recording.specs, per_net)]   # bias-free: ‖∂C/∂W‖
    series = [panel_series(steps, spec, shown, fold=fold, smoothed=smooth)
              for spec, steps, shown in zip(recording.specs, per_net, lenses)]
    if heatmap is None:
        heatmap = any(data.rows > HEATMAP_DEPTH for data in series)
    bars = any(any(step.neurons) for step in recording.steps)
    fig, axes = plt.subplots(2 if bars else 1, n_nets, figsize=(4.6 * n_nets, 7.8 if bars else 5.2), squeeze=False,
                             gridspec_kw={"height_ratios": [3, 2] if bars else [1]})
    if share_y and not heatmap:   # the speeds share one axis so heights compare; each net's bars keep their own range
        for axis in axes[0][1:]:
            axis.sharey(axes[0][0])
    for index, (spec, steps, shown, data) in enumerate(zip(recording.specs, per_net, lenses, series)):
        speed_axis = axes[0][index]
        x = [step.step if sgd else step.epoch for step in steps]
        if heatmap:
            _heatmap(fig, speed_axis, data, x, shown)
        else:
            _lines(speed_axis, data, x, shown)
        if not sgd:
            speed_axis.set_xlim(0, max(recording.config.n_epochs, 1))
        state = net_state(recording, index)
        last = steps[-1] if steps else None
        details = " · ".join(part for part in (state, epoch_progress(state, last, recording.config.n_epochs),
                                               smoothed_headline(steps, spec, shown, smooth)) if part)
        legend_rows = 0 if heatmap else -(-min(data.rows, HEATMAP_DEPTH) // LEGEND_COLUMNS)
        speed_axis.set_title(f"{literal_for_mathtext(spec.label)}\n{literal_for_mathtext(details)}", fontsize=9,
                             pad=LEGEND_PAD + LEGEND_ROW * legend_rows)
        note = underflow_note(steps, lens)
        speed_axis.set_xlabel(("mini-batch step" if sgd else "epoch") + (f"\n{note}" if note else ""),
                              fontsize=9 if note else None)
        speed_axis.grid(True, which="major", alpha=0.3)
        if (index == 0 or not share_y) and not heatmap:
            speed_axis.set_ylabel(QUANTITIES.get(shown, LENSES[shown].title))
        if not heatmap:   # above the axes, between them and the title: a legend inside would sit on some net's lines
            speed_axis.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0, 1.01, 1, 0.1), mode="expand",
                              ncol=min(data.rows, LEGEND_COLUMNS), frameon=False, borderaxespad=0, handlelength=1.5)
        if bars:
            finite = [step for step in steps if step.is_finite]
            _neuron_bars(axes[1][index], spec.hidden, finite[-1] if finite else None,
                         panel_series((), spec, BIAS).names, watched)
            axes[1][index].yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.3g}"))
    mode = "mini-batch SGD" if sgd else "full-batch gradient descent"
    seen = "" if lens == BIAS else f" through the {lens} lens {LENSES[lens].title}"
    seen += f", moving average over {smooth} records" if smooth > 1 else ""
    where = f"watched with {recording.header['source']}" if watched else f"{mode} on {recording.data_name}"
    fig.suptitle(f"Speed of learning{seen}, {literal_for_mathtext(where)}", fontsize=12)
    fig.tight_layout()
    return fig


def plot_recording(recording: Recording, out, dpi: int = 110, lens: str = BIAS,
                   share_y: bool = True, fmt: str | None = None, smooth: int = 0, heatmap: bool | None = None,
                   fold: bool = False):
    """Draw the figure of `recording` (see draw_figure) into `out`."""
    import matplotlib.pyplot as plt

    with warnings.catch_warnings():   # matplotlib's own overflow on a 1e308 value: the figure is drawn all the same
        warnings.simplefilter("ignore", RuntimeWarning)
        fig = draw_figure(recording, lens, share_y, smooth, heatmap, fold)
        fig.savefig(out, dpi=dpi, format=fmt)  # out: a path, or a claimed file and its format
    plt.close(fig)
    return out


def _neuron_bars(axis, hidden: int, step, names: tuple[str, ...], watched: bool = False) -> None:
    """Grouped bars: the first min(6, width) neurons' signed mean ∂C/∂b, one group per hidden
    layer, named as the lines are."""
    axis.axhline(0, color="grey", linewidth=0.8)
    axis.set_xlim(-0.5, hidden - 0.5)
    if step is not None and not any(step.neurons):
        axis.set_xticks([])
        axis.set_title("∂C/∂b_j: not recorded", fontsize=9)
        return
    every = -(-hidden // BAR_LABELS)   # a deep model's groups: one name in `every`, first and last kept
    named = sorted({0, hidden - 1, *range(0, hidden, every)})
    axis.set_xticks(named, [literal_for_mathtext(names[i]) for i in named], fontsize=8 if every == 1 else 7,
                    rotation=0 if len(named) <= 6 else 60, ha="center" if len(named) <= 6 else "right")
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
        axis.set_title(f"∂C/∂b_j of {neurons} {measured_when(step, watched)}: every one is 0", fontsize=9)
    else:
        axis.set_title(f"∂C/∂b_j of {neurons} {measured_when(step, watched)} (orange < 0)", fontsize=9)
    axis.set_ylabel("∂C/∂b_j")


def _lines(axis, data: Series, x: list, lens: str) -> None:
    """One line per row of `data` (the panel's names); smoothed, the raw min–max band faint
    behind it; the update ratio's healthy band; a fraction lens on a linear 0–100 % axis."""
    import matplotlib

    fraction = LENSES[lens].fraction
    depth = matplotlib.colormaps["viridis"] if data.rows > OWN_COLOURS else None   # colours never repeat
    for row, label in enumerate(data.names):
        values = [_shown(data.value(t, row), fraction) for t in range(len(x))]
        shown = sum(math.isfinite(v) for v in values)
        colour = None if depth is None else depth(row / max(data.rows - 1, 1))
        named = data.rows <= HEATMAP_DEPTH or row in (0, data.rows - 1)   # a deep model's legend: its ends
        (line,) = axis.plot(x, values, label=literal_for_mathtext(label) if named else "_nolegend_",
                            marker="o" if shown < 30 else None, markersize=3, color=colour)
        if data.low is not None and data.high is not None:
            axis.fill_between(x, [_shown(float(v), fraction) for v in data.low[:, row]],
                              [_shown(float(v), fraction) for v in data.high[:, row]],
                              color=line.get_color(), alpha=0.15, linewidth=0)
        alone = isolated(values)
        if alone:
            axis.plot([x[i] for i in alone], [values[i] for i in alone], linestyle="none",
                      marker="o", markersize=4, color=line.get_color(), clip_on=False)
    band = LENSES[lens].band
    if band is not None:
        axis.axhspan(*band, color="tab:green", alpha=0.08, linewidth=0)
        axis.axhline(HEALTHY_UPDATE, color="tab:green", linewidth=0.8, alpha=0.6)
    if fraction:
        axis.set_ylim(0, 100)
        axis.set_ylabel("% of units")
    else:
        axis.set_yscale("log")


def _shown(value: float | None, fraction: bool) -> float:
    if fraction:
        return 100 * value if value is not None and math.isfinite(value) else math.nan
    return _drawn(value)


def _heatmap(fig, axis, data: Series, x: list, lens: str) -> None:
    """Rows × time, colour on a log scale (linear 0–100 % for a fraction lens) with its colour bar;
    the first row at the top, as on screen."""
    import numpy as np
    from matplotlib.colors import LogNorm, Normalize

    fraction = LENSES[lens].fraction
    values = np.where(data.missing, np.nan, data.values).T
    values = np.where(np.isfinite(values) & ((values >= ZERO_FLOOR) | fraction), values, np.nan)
    if fraction:
        values = 100 * values
    finite = values[np.isfinite(values)]
    norm = Normalize(0, 100) if fraction else LogNorm(float(finite.min()), float(finite.max())) if finite.size else None
    edges = [*x, x[-1] + 1] if x else [0, 1]
    image = axis.pcolormesh(edges, np.arange(data.rows + 1), np.ma.masked_invalid(values), norm=norm,
                            cmap="viridis", shading="flat")
    axis.set_ylim(data.rows, 0)
    ticks = sorted({0, data.rows - 1, *range(0, data.rows, max(1, data.rows // 12))})
    axis.set_yticks([t + 0.5 for t in ticks], [literal_for_mathtext(data.names[t]) for t in ticks], fontsize=7)
    fig.colorbar(image, ax=axis, label="% of units" if fraction else LENSES[lens].title)
