"""The `vgrad-tui` command line (typer): run (the default), replay, watch, plot, reproduce, chain, bench.

Every bad input becomes one line on stderr and exit code 2, before any work starts.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from vgrad.core import __version__
from vgrad.core.config import DTYPES, MODES, Config
from vgrad.core.errors import InputError, did_you_mean
from vgrad.core.lab.presets import DEFAULT_PRESET, PRESETS
from vgrad.core.lab.presets import preset as preset_of
from vgrad.core.spec import ACTIVATIONS, COSTS, INITS
from vgrad.core.status import EndStatus, ExitCode, NetState
from vgrad.core.text import printable
from vgrad.core.view.series import HEATMAP_DEPTH
from vgrad.tui import console
from vgrad.tui.cli_help import HelpCommand, HelpGroup, choices, examples
from vgrad.tui.console import SafeConsole, fail, print_json, stderr_console
from vgrad.tui.outputs import claim_outputs, data_files, refuse_existing_outputs
from vgrad.tui.signals import signals_as_interrupt

HELP = "\n\n".join([
    "Watch the vanishing gradient problem happen (Nielsen, NNDL chapter 5).",
    examples(
        "vgrad-tui                                   the book's three nets, live dashboard",
        "vgrad-tui --no-ui --record run.jsonl        headless, with a recording",
        "vgrad-tui --net 784-30-30-30-30-10 --net 784-30-30-30-30-10:relu:he",
        "vgrad-tui --preset remedies                 sigmoid vs relu+he, residual, tanh+xavier",
        "vgrad-tui --mode sgd --epochs 5 --no-ui     mini-batch SGD with test accuracy",
        "vgrad-tui replay run.jsonl                  play a recording back",
        "vgrad-tui watch mine.jsonl book.jsonl       follow files vgrad.watch writes, live",
        "vgrad-tui reproduce --seeds 20              the book's numbers next to ours",
        "vgrad-tui bench --quick                     the engine against numpy, the book and PyTorch",
        "vgrad-tui plot run.jsonl -o speed.png       the book's figure from a recording",
        "vgrad-tui chain                             the single-neuron chain explorer"),
    "Bare options (as above) go to `run`, the default command: its options are listed below. "
    "`vgrad-tui COMMAND --help` shows any command's options, with examples.",
])

app = typer.Typer(
    name="vgrad-tui",
    cls=HelpGroup,
    help=HELP,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
SUBCOMMANDS = ("run", "replay", "watch", "reproduce", "bench", "plot", "chain")
TOP_LEVEL_OPTIONS = ("-h", "--help", "-V", "--version")  # the only options that do not go to run


def _show_version(asked: bool) -> None:
    if asked:
        typer.echo(f"vgrad-tui {__version__}")
        raise typer.Exit()


@app.callback()
def _top_level(
    version: bool = typer.Option(False, "--version", "-V", is_eager=True, callback=_show_version,
                                 help="Print vgrad's version and exit."),
) -> None:
    pass


RUN_EXAMPLES = examples(
    "vgrad-tui run --net 784-30-30-10 --net 784-30-30-30-30-10 --no-ui",
    "vgrad-tui --preset exploding --no-ui         bare options go to run",
    "vgrad-tui --net auto-30-30-30-10:relu:he --data digits",
    "vgrad-tui --mode sgd --epochs 5 --record run.jsonl --csv run.csv",
    "vgrad-tui --epochs 0 --no-ui                 s_l at initialisation only")


@app.command("run", cls=HelpCommand, epilog=RUN_EXAMPLES)
def run_command(
    net: list[str] | None = typer.Option(
        None, "--net", "-n", metavar="SPEC",
        help="Net spec: widths, then options, e.g. 784-30-30-10 or auto-30-30-10:relu:he (repeat for up to 4 "
             "nets; `auto` takes the input width from the data)."),
    preset: str | None = typer.Option(None, "--preset", metavar=choices(PRESETS),
                                      help=f"A set of nets (default {DEFAULT_PRESET})."),
    mode: str = typer.Option("speed", "--mode", metavar=choices(MODES),
                             help="speed: full-batch GD on the 1000 probe images (the book's figure); "
                                  "sgd: mini-batch SGD with test accuracy."),
    epochs: int | None = typer.Option(None, "--epochs", metavar="N",
                                      help="Epochs (default 500 in speed mode, 30 in sgd mode; 0: s_l at init)."),
    eta: float | None = typer.Option(None, "--eta", metavar="FLOAT",
                                     help="Learning rate η (default 0.1; --preset exploding: 0.01)."),
    lmbda: float = typer.Option(5.0, "--lmbda", metavar="FLOAT", help="L2 regularisation λ."),
    batch_size: int = typer.Option(10, "--batch-size", metavar="N", help="Mini-batch size (sgd mode)."),
    seed: int = typer.Option(0, "--seed", metavar="N", help="Seed for every net's initial weights."),
    data: str = typer.Option("mnist", "--data", metavar=choices(("mnist", "digits", "PATH")),
                             help="The built-in MNIST subset, 8x8 digits, or full MNIST from a path "
                                  "(IDX folder, mnist.npz, mnist.pkl.gz)."),
    activation: str | None = typer.Option(None, "--activation", metavar=choices(ACTIVATIONS),
                                          help="Hidden activation for every net whose spec names none."),
    init: str | None = typer.Option(None, "--init", metavar=choices(INITS),
                                    help="Initialisation for every net whose spec names none."),
    residual: bool = typer.Option(False, "--residual",
                                  help="Skip connections a^l = f(z^l) + a^{l-1} wherever a hidden layer is as "
                                       "wide as the one before (a net with none is refused)."),
    cost: str | None = typer.Option(None, "--cost", metavar=choices(COSTS), help="Cost (default cross_entropy)."),
    clip: float = typer.Option(0.0, "--clip", metavar="FLOAT", help="Clip gradients to this global norm (0: off)."),
    explode_w: float | None = typer.Option(None, "--explode-w", metavar="FLOAT",
                                           help="Hidden-to-hidden weight of the explode init (default 100)."),
    dtype: str = typer.Option("float64", "--dtype", metavar=choices(DTYPES), help="Precision of the training."),
    no_ui: bool = typer.Option(False, "--no-ui", help="Headless: progress bars, then a table."),
    record: Path | None = typer.Option(None, "--record", metavar="FILE.jsonl",
                                       help="Write every step to this JSONL run file."),
    csv: Path | None = typer.Option(None, "--csv", metavar="FILE.csv", help="Write every step to this CSV file."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing --record or --csv file."),
) -> None:
    """Train 1-4 nets and show how fast each hidden layer learns (the default command)."""
    from vgrad.core.data import load_dataset
    from vgrad.core.spec import parse_nets
    from vgrad.core.train.footprint import check_memory

    signals = signals_as_interrupt()   # from the first moment: a signal during the start-up ends it whole
    outputs: list = []
    try:
        if net and preset:
            raise InputError("give --net or --preset, not both")
        chosen = None if net else preset_of(preset or DEFAULT_PRESET)
        given = {"eta": eta, "epochs": epochs, "explode_w": explode_w}
        settings = {**(chosen.settings if chosen else {}), **{k: v for k, v in given.items() if v is not None}}
        config = Config(mode=mode, lmbda=lmbda, batch_size=batch_size, seed=seed, dtype=dtype, clip=clip,
                        **settings).checked()  # type: ignore[arg-type]
        texts = tuple(net) if net else chosen.nets if chosen else ()
        specs = parse_nets(texts, activation=activation, init=init, residual=residual or None, cost=cost)
        refuse_existing_outputs(((record, "--record"), (csv, "--csv")), force)
        dataset = load_dataset(data)
        specs = tuple(spec.with_input(dataset.n_inputs, dataset.n_classes) for spec in specs)
        if config.mode == "sgd" and config.batch_size > len(dataset.train_x):
            raise InputError(f"--batch-size {config.batch_size} is larger than the {len(dataset.train_x)} "
                             f"training images of {dataset.name}")
        check_memory(specs, config, len(dataset.probe_x))
        claim_outputs(((record, "--record"), (csv, "--csv")), force, data_files(data), into=outputs)
        if signals.caught:   # caught, and its KeyboardInterrupt swallowed on the way
            raise KeyboardInterrupt
    except InputError as error:
        signals.restore()
        fail(str(error))
    except KeyboardInterrupt:
        raise typer.Exit(_interrupted_before_start(signals, outputs)) from None
    no_ui = console.headless_unless_terminal(no_ui)
    raise typer.Exit(_run(specs, dataset, config, signals, no_ui=no_ui, record=outputs[0], csv=outputs[1]))


def _interrupted_before_start(signals, outputs: list) -> int:
    """A signal before the run opened: every file it claimed goes (one it made is removed), and the
    exit code says which signal."""
    for output in outputs:
        if output is not None:
            output.abandon()
    stderr_console().print("vgrad-tui: interrupted before the first step: nothing was measured", markup=False)
    signals.restore()
    return signals.code


def _run(specs, dataset, config, signals, *, no_ui: bool, record, csv) -> int:
    """Train and show: headless, the kernels compile first behind a spinner; in the dashboard
    they compile on the runner's thread while the panels say so, and q or Ctrl+C end the run
    at once (nothing is measured before the first step, and leaving with os._exit mid-compile
    is safe: numba writes each cache file whole, then renames it). The recording's header is
    written before the kernels compile, and every signal, however early and however many,
    ends it with its end line and the summary."""
    err = stderr_console()
    try:   # importing the engine takes a moment: a signal then ends the start-up, not a half-open run
        from vgrad.core.run.session import open_session
        from vgrad.core.train.warmup import compile_kernels

        session = open_session(specs, dataset, config, run_file=record, csv=csv, compile_first=not no_ui)
    except KeyboardInterrupt:
        return _interrupted_before_start(signals, [record, csv])
    code = ExitCode.OK
    try:
        if no_ui:
            from vgrad.tui.headless import follow_progress, phase

            with phase(err, LOADING_KERNELS) as say:
                if not kernels_cached(config.dtype):
                    say(COMPILING_KERNELS)
                compile_kernels(config.dtype, modes=(config.mode,), batchnorm=any(spec.batchnorm for spec in specs))
            if signals.caught:  # a signal whose KeyboardInterrupt something swallowed still ends the run
                raise KeyboardInterrupt
            session.runner.start()
            follow_progress(session.board, session.runner, err)
        else:
            from vgrad.tui.app import make_live_app, run_dashboard  # headless runs never load textual

            code = ExitCode(run_dashboard(make_live_app(session)))
            signals.install()  # the app's own handlers are gone: a late signal must not kill the finish
    except KeyboardInterrupt:
        code = signals.code
    except Exception:
        if not signals.caught:
            raise
        code = signals.code  # Ctrl+C inside numba's compiler surfaces as numba's own error
    finally:
        signals.caught = True  # from here on, signals are ignored until the end line is written
        interrupted = code in (ExitCode.INTERRUPTED, ExitCode.HANGUP)
        status = EndStatus.INTERRUPTED if interrupted else _final_status(session.board.snapshot())
        session.finish(status)
    _quietly(_print_summary, session.board.snapshot(), config.mode)
    if code == ExitCode.OK and any(net.state is NetState.ERROR for net in session.board.snapshot().nets):
        code = ExitCode.FAILED
    for sink in session.sinks:
        if getattr(sink, "failure", None):
            _quietly(err.print, f"error: {sink.path} is incomplete: {sink.failure}", markup=False, soft_wrap=True)
            code = code or ExitCode.FAILED
    if interrupted:
        _quietly(err.print, interrupted_line([sink.path for sink in (record, csv) if sink is not None]),
                 markup=False, soft_wrap=True)
    signals.restore()
    return code


LOADING_KERNELS = "loading the numba kernels…"
COMPILING_KERNELS = "compiling numba kernels (first run only; later runs load the cache)…"


def kernels_cached(dtype: str) -> bool:
    """Whether numba's cache holds the largest kernel (backprop) for `dtype`: then the start-up loads
    the kernels rather than compiling them, and is not called a compile."""
    from vgrad.core.engine import kernels
    from vgrad.core.engine.jit import is_cached
    from vgrad.core.train.warmup import backward_arguments, tiny_trainer

    try:
        return is_cached(kernels._backprop, backward_arguments(tiny_trainer(dtype)))
    except Exception:   # numba's cache index is private API: when in doubt, call it a compile
        return False


def interrupted_line(kept: list) -> str:
    """What an interrupted run leaves: the files its measurements are in, or only the summary above."""
    if kept:
        return f"interrupted: what was measured is kept in {' and '.join(str(path) for path in kept)}"
    return "interrupted: only the summary above is kept (--record FILE.jsonl keeps every step)"


def _final_status(view) -> EndStatus:
    """COMPLETE when every net ended by itself (done, diverged or failed), else STOPPED (q)."""
    return EndStatus.COMPLETE if view.complete else EndStatus.STOPPED


def _quietly(show, *args, **kwargs) -> None:
    """Show something on a terminal that may be gone (SSH dropped: EIO); the recording is closed."""
    try:
        show(*args, **kwargs)
    except OSError:
        pass


def _print_summary(view, mode: str) -> None:
    from vgrad.tui.headless import summary_tables

    console.plain_console().print(*summary_tables(view, mode))   # names from files: text, never markup
    for notice in view.notices:
        stderr_console().print(f"warning: {notice}")


@app.command("replay", cls=HelpCommand, epilog=examples(
    "vgrad-tui replay run.jsonl          play it back; q prints its summary",
    "vgrad-tui replay run.jsonl --no-ui  the summary table only"))
def replay_command(
    path: Path = typer.Argument(..., metavar="RUN.jsonl", help="A JSONL file written with --record."),
    no_ui: bool = typer.Option(False, "--no-ui", help="Print the final table instead of playing."),
    smooth: int = typer.Option(0, "--smooth", metavar="N", min=0,
                               help="Open with a moving average over N records (s toggles it)."),
) -> None:
    """Play a recorded run back in the dashboard (+/- speed, home/end jump), then print its summary."""
    from vgrad.core.record.reader import read_run
    from vgrad.core.record.tail import still_growing
    from vgrad.core.run.layers import shown_recording
    from vgrad.core.run.replay import open_replay

    try:
        recording = shown_recording(read_run(path))   # a 10,000-layer model: 64 rows, at once
    except InputError as error:
        fail(str(error))
    if recording.bad_line is None and still_growing(path, recording.end is not None,  # a bad line is told as such
                                                    locked=recording.started.locked):
        shown = printable(path)    # a notice on the dashboard too: shown, never obeyed
        recording.warning = (f"{shown} is still being written: replaying its {len(recording.steps)} steps so far; "
                             f"follow it live with `vgrad-tui watch {shown}`")
    code = ExitCode.OK   # the warning becomes the board's notice: shown in the dashboard, printed once at the end
    if console.headless_unless_terminal(no_ui):
        replayer = open_replay(recording)
    else:
        from vgrad.tui.app import make_replay_app, run_dashboard

        app = make_replay_app(recording, name=printable(path.name), smooth=smooth)
        code = run_dashboard(app)
        replayer = app.controls
    replayer.jump_end()  # the summary is the whole recording's, wherever playback stopped
    _print_summary(replayer.board.snapshot(), recording.config.mode)
    raise typer.Exit(code)


@app.command("watch", cls=HelpCommand, epilog=examples(
    "vgrad-tui watch mine.jsonl                   your model, live, as vgrad.watch writes it",
    "vgrad-tui watch mine.jsonl book.jsonl --layers 0,1,mid,-2,-1"))
def watch_command(
    paths: list[Path] = typer.Argument(
        ..., metavar="RUN.jsonl",
        help="1 to 4 run files other processes are writing (vgrad.watch, vgrad.Recorder, --record); "
             "a file not there yet is waited for."),
    layers: str | None = typer.Option(
        None, "--layers", metavar="LIST",
        help="A deep model's layers to show: indices from 0 (negative from the end), mid, or all; "
             "default all (a heatmap over 16 layers). The first and the last are always shown."),
    no_ui: bool = typer.Option(
        False, "--no-ui", help="Print each new record as one line until every writer has ended (Ctrl+C: exit 130)."),
    smooth: int = typer.Option(0, "--smooth", metavar="N", min=0,
                               help="Open with a moving average over N records (s toggles it)."),
) -> None:
    """Follow run files as they are written: your model next to the book's nets, live."""
    from vgrad.core.run.board import Board
    from vgrad.core.run.follow_runner import FollowRunner, plan

    try:
        specs, files = plan(paths, layers)
        runner = FollowRunner(files, Board(specs, 0), layers=layers)
        no_ui = console.headless_unless_terminal(no_ui)
        if no_ui:
            failed = next((file.follower.failure for file in files if file.follower.failure), None)
            if failed:
                raise InputError(failed)
    except InputError as error:
        fail(str(error))
    signals = signals_as_interrupt()
    names = ", ".join(printable(path.name) for path in paths)
    try:
        if no_ui:
            from vgrad.tui.watch_command import follow_lines

            out, err = SafeConsole(), stderr_console()
            code = follow_lines(runner, lambda line: out.out(line, highlight=False),
                                note=lambda text: err.print(text, markup=False, highlight=False))
        else:
            from vgrad.tui.watch_command import run_watch

            code = run_watch(runner.board, runner, title=f"vgrad — watching {names}", smooth=smooth,
                             summary=lambda view: _print_summary(view, "sgd" if any(
                                 net.latest is not None and net.latest.accuracy is not None for net in view.nets)
                                 else "speed"))
        if code == ExitCode.INTERRUPTED and signals.caught:
            code = signals.code             # 129 after SIGHUP (the terminal went away)
    finally:
        signals.restore()
    raise typer.Exit(code)


@app.command("reproduce", cls=HelpCommand, epilog=examples(
    "vgrad-tui reproduce                              20 seeds, the book's s_l at init",
    "vgrad-tui reproduce --seeds 200 --json > reproduce.json",
    "vgrad-tui reproduce --accuracy --data ~/mnist    the book's accuracy table, full MNIST"))
def reproduce_command(
    seeds: int = typer.Option(20, "--seeds", metavar="N", help="Seeds 0..N-1 per net."),
    epochs: int | None = typer.Option(None, "--epochs", metavar="N",
                                      help="Full-batch epochs for the ordering check (default 500; 0 skips it); "
                                           "with --accuracy, SGD epochs (default 30)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document to stdout."),
    data: str | None = typer.Option(None, "--data", metavar=choices(("mnist", "PATH")),
                                    help="Probe images: mnist (the book's first 1000, default) or a path; "
                                         "with --accuracy, full MNIST from your disk."),
    dtype: str | None = typer.Option(None, "--dtype", metavar=choices(DTYPES),
                                     help="Precision of the long runs: float64 (default) or float32 (about 2x "
                                          "faster); --accuracy defaults to float32."),
    accuracy: bool = typer.Option(False, "--accuracy",
                                  help="The book's accuracy table: 784-30-10 … 784-30-30-30-30-10, 30 epochs of SGD "
                                       "on full MNIST (needs --data)."),
) -> None:
    """The book's s_l at init next to our median [p5, p95] over seeds, with PASS/FAIL;
    with --accuracy, the book's validation accuracies next to ours, per epoch."""
    from vgrad.core.config import MAX_EPOCHS
    from vgrad.core.data import load_dataset
    from vgrad.core.lab.reproduce import MAX_SEEDS, check_data, reproduce
    from vgrad.core.train.threads import limit_blas_threads
    from vgrad.core.train.warmup import compile_kernels

    if accuracy:
        from vgrad.tui.tables.accuracy import accuracy_command
        raise typer.Exit(accuracy_command(data, epochs, dtype or "float32", as_json))
    data, epochs, dtype = data or "mnist", 500 if epochs is None else epochs, dtype or "float64"
    if not 1 <= seeds <= MAX_SEEDS:
        fail(f"--seeds {seeds}: give 1 to {MAX_SEEDS:,}")
    if not 0 <= epochs <= MAX_EPOCHS:
        fail(f"--epochs {epochs}: give 0 to {MAX_EPOCHS:,}")
    if dtype not in DTYPES:
        fail(f"--dtype {dtype!r}: choose {' or '.join(DTYPES)}" + did_you_mean(dtype, DTYPES))
    try:
        dataset = check_data(load_dataset(data))
    except InputError as error:
        fail(str(error))
    from vgrad.tui.headless import counted, phase

    err = stderr_console()
    with phase(err, "compiling numba kernels…"):
        for precision in sorted({"float64", dtype}):  # init speeds are always float64
            compile_kernels(precision, modes=("speed",))
    limit_blas_threads()
    signals = signals_as_interrupt()   # SIGTERM and SIGHUP too: the runs not started are dropped
    try:
        with counted(err, f"{seeds} seeds × 3 nets, {epochs} epochs…", seeds * 3) as progress:
            results = reproduce(dataset, seeds=seeds, epochs=epochs, dtype=dtype, progress=progress)
    except KeyboardInterrupt:
        err.print("vgrad-tui: reproduce interrupted: nothing to compare until every seed has run", markup=False)
        raise typer.Exit(signals.code) from None
    if as_json:
        print_json({"seeds": seeds, "epochs": epochs, "data": dataset.name,
                     "passed": all(r.passed for r in results), "nets": [r.as_dict() for r in results]})
    else:
        from vgrad.tui.tables.reproduce import reproduce_tables
        SafeConsole().print(*reproduce_tables(results))
    raise typer.Exit(ExitCode.OK if all(r.passed for r in results) else ExitCode.FAILED)


@app.command("bench", cls=HelpCommand, epilog=examples(
    "vgrad-tui bench                   every target, PASS/FAIL (a few minutes)",
    "vgrad-tui bench --quick --check   short timings; exit 1 if a target FAILs",
    "vgrad-tui bench --json > bench.json"))
def bench_command(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document to stdout."),
    quick: bool = typer.Option(False, "--quick",
                               help="Short timings and a 25-epoch experiment, extrapolated; the cold compiles (one per "
                                    "SIMD path, each in its own process) still take minutes."),
    check: bool = typer.Option(False, "--check", help="Exit 1 when a target FAILs (skipped ones do not count)."),
) -> None:
    """The engine against batched numpy, the book's algorithm and PyTorch, in one run, with PASS/FAIL.

    Gradients are checked against the numpy reference before anything is timed; exit
    code 1 if one is wrong (no speed is reported). Otherwise 0 once measured, targets met
    or not, unless --check: then 1 when a target FAILs.
    """
    from vgrad.bench.gate import WrongResult
    from vgrad.bench.run import run_bench
    from vgrad.bench.targets import failed
    from vgrad.core.data import load_dataset

    try:
        dataset = load_dataset("mnist")
    except InputError as error:
        fail(str(error))
    from vgrad.tui.headless import phase

    err = stderr_console()
    try:
        with phase(err, "starting…") as say:
            result = run_bench(dataset, quick=quick, progress=say)
    except WrongResult as error:
        err.print(f"vgrad-tui: error: wrong result, no speed reported: {error}", markup=False)
        raise typer.Exit(ExitCode.FAILED) from None
    if as_json:
        print_json(result)
    else:
        from vgrad.tui.tables.bench import bench_tables
        out = SafeConsole()
        out.print(*bench_tables(result, width=out.width))
    missed = failed(result)
    if check and missed:
        err.print(f"vgrad-tui: bench --check: {len(missed)} target(s) FAIL: {'; '.join(missed)}", markup=False)
        raise typer.Exit(ExitCode.FAILED)


@app.command("plot", cls=HelpCommand, epilog=examples(
    "vgrad-tui plot run.jsonl -o speed.png",
    "vgrad-tui plot run.jsonl -o weights.svg --lens weight --separate-y",
    "vgrad-tui plot deep.jsonl -o deep.png --heatmap --fold --smooth 20"))
def plot_command(
    path: Path = typer.Argument(..., metavar="RUN.jsonl", help="A JSONL file written with --record."),
    out: Path = typer.Option(..., "-o", "--output", metavar="FILE", help="Figure file: .png, .svg or .pdf."),
    lens: str = typer.Option("bias", "--lens", metavar=choices(("bias", "weight", "update", "saturation")),
                             help="bias: s_l = ‖∂C/∂b‖, the book's; weight: ‖∂C/∂W‖ (shows batch norm); "
                                  "update: ‖Δθ‖/‖θ‖; saturation: saturated or dead units."),
    smooth: int = typer.Option(0, "--smooth", metavar="N", min=0,
                               help="A moving average over N records, the raw min–max band faint behind."),
    heatmap: bool | None = typer.Option(None, "--heatmap/--lines",
                                        help="A layer × time heatmap per net, or a line per layer "
                                             f"(default: a heatmap above {HEATMAP_DEPTH} layers)."),
    fold: bool = typer.Option(False, "--fold", help="Repeated blocks (layers.0 …) as one row each."),
    separate_y: bool = typer.Option(False, "--separate-y",
                                    help="Give each net its own y range (default: one shared, so heights compare)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing figure file."),
) -> None:
    """Draw the book's figures from a recording: s_l per hidden layer (log y) and the neuron bars."""
    from vgrad.core.record.reader import read_run
    from vgrad.core.run.layers import shown_recording
    from vgrad.tui.figures import check_figure_path, check_lens, plot_recording

    try:
        check_lens(lens)
        check_figure_path(out)
        refuse_existing_outputs(((out, "-o"),), force)
        recording = shown_recording(read_run(path), None)   # a deep model: its 0,1,mid,-2,-1 layers, as watch
        if not recording.steps:
            raise InputError(f"{printable(path)}: no step recorded, nothing to draw")
    except InputError as error:
        fail(str(error))
    signals = signals_as_interrupt()  # SIGTERM, SIGHUP: the claimed figure is removed, never left empty
    figure = None
    try:
        (figure,) = claim_outputs(((out, "-o"),), force, inputs=(path,))
        if recording.warning:
            stderr_console().print(f"warning: {recording.warning}")
        from vgrad.tui.headless import phase

        with phase(stderr_console(), f"drawing {out}…"), figure.binary() as file:
            plot_recording(recording, file, lens=lens, share_y=not separate_y, fmt=out.suffix.lower().lstrip("."),
                           smooth=smooth, heatmap=heatmap, fold=fold)
    except InputError as error:
        if figure is not None:
            figure.abandon()
        fail(str(error))
    except BaseException:
        if figure is not None:
            figure.abandon()  # a figure half drawn is no figure: a file this command made goes
        if signals.code == ExitCode.HANGUP:
            raise typer.Exit(ExitCode.HANGUP) from None
        raise
    finally:
        signals.restore()
    typer.echo(f"wrote {printable(figure.path)}")


@app.command("chain", cls=HelpCommand, epilog=examples(
    "vgrad-tui chain               four neurons; e shows the book's exploding example",
    "vgrad-tui chain --neurons 6"))
def chain_command(
    neurons: int = typer.Option(4, "--neurons", metavar="N", help="Neurons in the chain (2 to 12)."),
) -> None:
    """The book's single-neuron chain: change w and b and watch each factor w·σ'(z)."""
    if not console.on_a_terminal():  # checked before textual and scipy load: the refusal is instant
        fail("chain is interactive and needs a terminal (stdin or stdout is not one)")
    from vgrad.tui.chain.app import make_chain_app

    try:
        chain_app = make_chain_app(neurons)
    except InputError as error:
        fail(str(error))
    chain_app.run()


def run_cli(argv: list[str] | None = None) -> None:
    """Entry point: bare `vgrad-tui [options]` means `vgrad-tui run [options]`."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and not args[0].startswith("-") and args[0] not in SUBCOMMANDS:
        typer.echo(f"vgrad-tui: error: no command {args[0]!r}; the commands are {', '.join(SUBCOMMANDS)} "
                   f"(bare options go to run){did_you_mean(args[0], SUBCOMMANDS)}", err=True)
        raise SystemExit(ExitCode.USAGE)
    if not args or (args[0] not in SUBCOMMANDS and args[0] not in TOP_LEVEL_OPTIONS):
        args.insert(0, "run")
    app(args=args, prog_name="vgrad-tui")
