"""The `vgrad-tui` command line (typer): run (the default), replay, reproduce, bench.

Every bad input becomes one line on stderr and exit code 2, before any work starts.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import typer
from rich.console import Console

from vgrad.core.errors import InputError
from vgrad.core.lab.presets import DEFAULT_PRESET, PRESETS, preset_nets
from vgrad.core.run.config import DTYPES, Config
from vgrad.tui.exit_codes import BAD_INPUT, CLOSED_PIPE, HANGUP, INTERRUPTED

EXAMPLES = """

\b
Examples:
  vgrad-tui                                   the book's three nets, live dashboard
  vgrad-tui --no-ui --record run.jsonl        headless, with a recording
  vgrad-tui --net 784-30-30-30-30-10 --net 784-30-30-30-30-10:relu:he
  vgrad-tui --preset remedies                 sigmoid vs relu+he, residual, tanh+xavier
  vgrad-tui --mode sgd --epochs 5 --no-ui     mini-batch SGD with test accuracy
  vgrad-tui replay run.jsonl                  play a recording back
  vgrad-tui reproduce --seeds 20              the book's numbers next to ours
  vgrad-tui bench --quick                     the engine against numpy, the book and PyTorch
  vgrad-tui plot run.jsonl -o speed.png       the book's figure from a recording
  vgrad-tui chain                             the single-neuron chain explorer

Bare options (as above) go to `run`, the default command: `vgrad-tui run --help` lists
them all (--net, --preset, --mode, --epochs, --no-ui, --record, ...). Run
`vgrad-tui COMMAND --help` for any other command's options.
"""

app = typer.Typer(
    name="vgrad-tui",
    help="Watch the vanishing gradient problem happen (Nielsen, NNDL chapter 5)." + EXAMPLES,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
SUBCOMMANDS = ("run", "replay", "reproduce", "bench", "plot", "chain")


class _Console(Console):
    """rich's Console, at least MIN_WIDTH columns wide, leaving with CLOSED_PIPE instead of 1 when
    stdout's reader went away (`| head`): that is not a failure of the run, whose records are all
    written by then."""

    MIN_WIDTH = 40  # narrower (COLUMNS=1, a 1×1 terminal) and rich's tables cannot be laid out

    def __init__(self, **options) -> None:
        super().__init__(**options)
        if self.width < self.MIN_WIDTH:
            self.width = self.MIN_WIDTH

    def on_broken_pipe(self) -> None:
        self.quiet = True
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(CLOSED_PIPE)


def fail(message: str) -> None:
    """One line on stderr, exit code 2."""
    typer.echo(f"vgrad-tui: error: {message}", err=True)
    raise typer.Exit(BAD_INPUT)


def _stderr() -> _Console:
    return _Console(stderr=True)


def _print_json(document: dict) -> None:
    """One JSON document on stdout, as is (no wrapping or highlighting), through _Console so
    that a closed pipe ends the command as every other output does."""
    _Console().out(json.dumps(document, indent=2), highlight=False)


@app.command("run", epilog="Example: vgrad-tui run --net 784-30-30-10 --net 784-30-30-30-30-10 --no-ui")
def run_command(
    net: list[str] | None = typer.Option(None, "--net", "-n", help="Net spec, e.g. 784-30-30-10 or auto-30-30-10:relu:he (repeat for up to 4 nets)."),
    preset: str | None = typer.Option(None, "--preset", help=f"A set of nets: {', '.join(PRESETS)} (default {DEFAULT_PRESET})."),
    mode: str = typer.Option("speed", "--mode", help="speed: full-batch GD on the 1000 probe images (the book's figure); sgd: mini-batch SGD with test accuracy."),
    epochs: int | None = typer.Option(None, "--epochs", help="Epochs (default 500 in speed mode, 30 in sgd mode)."),
    eta: float = typer.Option(0.1, "--eta", help="Learning rate η."),
    lmbda: float = typer.Option(5.0, "--lmbda", help="L2 regularisation λ."),
    batch_size: int = typer.Option(10, "--batch-size", help="Mini-batch size (sgd mode)."),
    seed: int = typer.Option(0, "--seed", help="Seed for every net's initial weights."),
    data: str = typer.Option("mnist", "--data", help="mnist (built in), digits, or a path to full MNIST (IDX folder, mnist.npz, mnist.pkl.gz)."),
    activation: str | None = typer.Option(None, "--activation", help="Hidden activation for every net: sigmoid, tanh, relu, leaky_relu, elu."),
    init: str | None = typer.Option(None, "--init", help="Initialisation for every net: book, large, xavier, he, explode."),
    residual: bool = typer.Option(False, "--residual", help="Skip connections between equal-width hidden layers."),
    cost: str | None = typer.Option(None, "--cost", help="cross_entropy (default) or quadratic."),
    clip: float = typer.Option(0.0, "--clip", help="Clip gradients to this global norm (0: off)."),
    explode_w: float = typer.Option(100.0, "--explode-w", help="Hidden-to-hidden weight of the explode init."),
    dtype: str = typer.Option("float64", "--dtype", help="float64 or float32."),
    no_ui: bool = typer.Option(False, "--no-ui", help="Headless: progress bars, then a table."),
    record: Path | None = typer.Option(None, "--record", help="Write every step to this JSONL file."),
    csv: Path | None = typer.Option(None, "--csv", help="Write every step to this CSV file."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing --record or --csv file."),
) -> None:
    """Train 1-4 nets and show how fast each hidden layer learns (the default command)."""
    from vgrad.core.data import load_dataset
    from vgrad.core.run.limits import check_memory
    from vgrad.core.run.spec import parse_nets

    try:
        if net and preset:
            raise InputError("give --net or --preset, not both")
        config = Config(mode=mode, epochs=epochs, eta=eta, lmbda=lmbda, batch_size=batch_size, seed=seed,
                        dtype=dtype, clip=clip, explode_w=explode_w).checked()
        texts = tuple(net) if net else preset_nets(preset or DEFAULT_PRESET)
        specs = parse_nets(texts, activation=activation, init=init, residual=residual or None, cost=cost)
        _refuse_existing_outputs(((record, "--record"), (csv, "--csv")), force)
        dataset = load_dataset(data)
        specs = tuple(spec.with_input(dataset.n_inputs, dataset.n_classes) for spec in specs)
        if config.mode == "sgd" and config.batch_size > len(dataset.train_x):
            raise InputError(f"--batch-size {config.batch_size} is larger than the {len(dataset.train_x)} "
                             f"training images of {dataset.name}")
        check_memory(specs, config, len(dataset.probe_x))
        outputs = _claim_outputs(((record, "--record"), (csv, "--csv")), force, _data_files(data))
    except InputError as error:
        fail(str(error))
    no_ui = _headless_unless_terminal(no_ui)
    raise typer.Exit(_run(specs, dataset, config, no_ui=no_ui, record=outputs[0], csv=outputs[1]))


def _refuse_existing_outputs(outputs, force: bool) -> None:
    """An existing output without --force is refused at once, before data is loaded."""
    from vgrad.core.guard import expand

    for path, what in outputs:
        if path is not None and not force and os.path.lexists(expand(path, what)):
            raise InputError(f"{what} {path}: exists; choose a new name or pass --force to overwrite it")


def _claim_outputs(outputs, force: bool, inputs=()) -> list:
    """Claim every output (guard.claim_output), or none: on a refusal the claimed are abandoned."""
    from vgrad.core.guard import claim_output

    claimed = []
    try:
        for path, what in outputs:
            claimed.append(None if path is None else
                           claim_output(path, what, force=force, inputs=inputs,
                                        claimed=[c for c in claimed if c is not None]))
    except InputError:
        for output in claimed:
            if output is not None:
                output.abandon()
        raise
    return claimed


def _data_files(source: str) -> tuple[Path, ...]:
    """The files a --data source may read (none for the built-in names)."""
    from vgrad.core.data import BUILTIN

    path = Path(source).expanduser()
    if source.strip().lower() in BUILTIN or not path.exists():
        return ()
    return (path, *path.iterdir()) if path.is_dir() else (path,)


def _run(specs, dataset, config, *, no_ui: bool, record, csv) -> int:
    """Train, show, record; the exit status. The recording's header is written before the kernels
    compile, and every signal, however early and however many, ends it with its end line."""
    from vgrad.core.run.session import open_session
    from vgrad.core.run.warmup import compile_kernels

    err = _stderr()
    session = open_session(specs, dataset, config, record=record, csv=csv)
    signals = _signals_as_interrupt()
    title = f"vgrad — {config.mode} mode on {dataset.name}"
    code = 0
    try:
        with err.status("compiling numba kernels (first run only; later runs load the cache)…"):
            compile_kernels(config.dtype, modes=(config.mode,))
        if no_ui:
            from vgrad.tui.headless import follow_progress

            session.runner.start()
            follow_progress(session.board, session.runner, err)
        else:
            code = _dashboard()(session.board, session.runner, title=title)
            signals.install()  # the app's own handlers are gone: a late signal must not kill the finish
    except KeyboardInterrupt:
        code = signals.code
    finally:
        signals.caught = True  # from here on, signals are ignored until the end line is written
        status = "interrupted" if code in (INTERRUPTED, HANGUP) else _final_status(session.board.snapshot())
        session.finish(status)
    _quietly(_print_summary, session.board.snapshot(), config.mode)
    if code == 0 and any(net.state == "error" for net in session.board.snapshot().nets):
        code = 1
    for sink in session.sinks:
        if sink.failure:
            _quietly(err.print, f"error: {sink.path} is incomplete: {sink.failure}", markup=False, soft_wrap=True)
            code = code or 1
    if status == "interrupted":
        _quietly(err.print, "interrupted: what was measured is kept" + (f" in {record.path}" if record else ""))
    return code


def _final_status(view) -> str:
    """'complete' when every net ended by itself (done, diverged or failed), else 'stopped' (q)."""
    return "complete" if view.finished and all(net.state != "stopped" for net in view.nets) else "stopped"


def _quietly(show, *args, **kwargs) -> None:
    """Show something on a terminal that may be gone (SSH dropped: EIO); the recording is closed."""
    try:
        show(*args, **kwargs)
    except OSError:
        pass


def _print_summary(view, mode: str) -> None:
    from vgrad.tui.headless import summary_tables

    _Console().print(*summary_tables(view, mode))
    for notice in view.notices:
        _stderr().print(f"warning: {notice}")


def _on_a_terminal() -> bool:
    """stdin and stdout are both a terminal (either may be closed: None)."""
    return all(stream is not None and stream.isatty() for stream in (sys.stdin, sys.stdout))


def _headless_unless_terminal(no_ui: bool) -> bool:
    """--no-ui, or True with a note when stdin or stdout is not a terminal (piped, a script,
    CI): the dashboard would write screen codes into the pipe and wait for keys forever."""
    if no_ui or _on_a_terminal():
        return no_ui
    _stderr().print("not a terminal: running headless, as with --no-ui")
    return True


def _dashboard():
    """The dashboard runner, imported only when needed: headless runs never load textual."""
    from vgrad.tui.app import run_dashboard

    return run_dashboard


class _Signals:
    """SIGINT, SIGTERM and SIGHUP as KeyboardInterrupt, once: a second signal (two Ctrl+C 1 ms
    apart) is ignored, so it cannot cut short the end line and the summary."""

    SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")

    def __init__(self) -> None:
        self.caught = False
        self.code = INTERRUPTED

    def handle(self, signum, frame) -> None:
        if self.caught:
            return
        self.caught = True
        self.code = HANGUP if signum == getattr(signal, "SIGHUP", None) else INTERRUPTED
        raise KeyboardInterrupt

    def install(self) -> None:
        for name in self.SIGNALS:
            try:
                signal.signal(getattr(signal, name), self.handle)
            except (AttributeError, ValueError):  # no such signal here, or not the main thread (tests)
                pass


def _signals_as_interrupt() -> _Signals:
    signals = _Signals()
    signals.install()
    return signals


@app.command("replay", epilog="Example: vgrad-tui replay run.jsonl --no-ui")
def replay_command(
    path: Path = typer.Argument(..., help="A JSONL file written with --record."),
    no_ui: bool = typer.Option(False, "--no-ui", help="Print the final table instead of playing."),
) -> None:
    """Play a recorded run back in the dashboard (+/- speed, home/end jump)."""
    from vgrad.core.record.reader import read_run
    from vgrad.core.run.board import Board

    try:
        recording = read_run(path)
    except InputError as error:
        fail(str(error))
    err = _stderr()
    if recording.warning:
        err.print(f"warning: {recording.warning}")
    from vgrad.core.record.replay import Replayer

    board = Board(recording.specs, recording.config.n_epochs)
    if recording.warning:
        board.notice(recording.warning)
    replayer = Replayer(recording, board)
    if _headless_unless_terminal(no_ui):
        replayer.jump_end()
        _print_summary(board.snapshot(), recording.config.mode)
        return
    raise typer.Exit(_dashboard()(board, replayer, title=f"vgrad — replay of {path.name}"))


@app.command("reproduce", epilog="Example: vgrad-tui reproduce --seeds 20 --json > reproduce.json")
def reproduce_command(
    seeds: int = typer.Option(20, "--seeds", help="Seeds 0..N-1 per net."),
    epochs: int = typer.Option(500, "--epochs", help="Full-batch epochs for the ordering check (0 skips it)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document to stdout."),
    data: str = typer.Option("mnist", "--data", help="Probe images: mnist (the book's first 1000) or a path."),
    dtype: str = typer.Option("float64", "--dtype", help="Precision of the long runs (float32 is about 2x faster)."),
) -> None:
    """The book's s_l at init next to our median [p5, p95] over seeds, with PASS/FAIL."""
    from vgrad.core.data import load_dataset
    from vgrad.core.lab.reproduce import reproduce
    from vgrad.core.run.threads import limit_blas_threads
    from vgrad.core.run.warmup import compile_kernels

    if seeds < 1:
        fail(f"--seeds {seeds}: need at least 1")
    if epochs < 0:
        fail(f"--epochs {epochs}: must be 0 or more")
    if dtype not in DTYPES:
        fail(f"--dtype {dtype!r}: choose {' or '.join(DTYPES)}")
    try:
        dataset = load_dataset(data)
    except InputError as error:
        fail(str(error))
    err = _stderr()
    with err.status("compiling numba kernels…"):
        for precision in sorted({"float64", dtype}):  # init speeds are always float64
            compile_kernels(precision, modes=("speed",))
    limit_blas_threads()
    from rich.progress import Progress
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task(f"{seeds} seeds × 3 nets, {epochs} epochs", total=seeds * 3)
        results = reproduce(dataset, seeds=seeds, epochs=epochs, dtype=dtype,
                            progress=lambda done, total: progress.update(task, completed=done))
    if as_json:
        _print_json({"seeds": seeds, "epochs": epochs, "data": dataset.name,
                     "passed": all(r.passed for r in results), "nets": [r.as_dict() for r in results]})
    else:
        from vgrad.tui.reproduce_table import reproduce_tables
        _Console().print(*reproduce_tables(results))
    raise typer.Exit(0 if all(r.passed for r in results) else 1)


@app.command("bench", epilog="Example: vgrad-tui bench --json > bench.json")
def bench_command(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document to stdout."),
    quick: bool = typer.Option(False, "--quick", help="Short timings and a 25-epoch experiment, extrapolated (about 20 s)."),
) -> None:
    """The engine against batched numpy, the book's algorithm and PyTorch, in one run, with PASS/FAIL.

    Gradients are checked against the numpy reference before anything is timed; exit
    code 1 if one is wrong (no speed is reported), 0 once measured, targets met or not.
    """
    from vgrad.bench.benchmark import WrongResult, run_bench
    from vgrad.core.data import load_dataset

    try:
        dataset = load_dataset("mnist")
    except InputError as error:
        fail(str(error))
    err = _stderr()
    try:
        with err.status("starting…") as status:
            result = run_bench(dataset, quick=quick, progress=lambda text: status.update(text))
    except WrongResult as error:
        err.print(f"vgrad-tui: error: wrong result, no speed reported: {error}", markup=False)
        raise typer.Exit(1)
    if as_json:
        _print_json(result)
    else:
        from vgrad.tui.bench_table import bench_tables
        _Console().print(*bench_tables(result))


@app.command("plot", epilog="Example: vgrad-tui plot run.jsonl -o speed.png")
def plot_command(
    path: Path = typer.Argument(..., help="A JSONL file written with --record."),
    out: Path = typer.Option(..., "-o", "--output", help="Figure file: .png, .svg or .pdf."),
    lens: str = typer.Option("bias", "--lens",
                             help="bias: s_l = ‖∂C/∂b‖, the book's; weight: ‖∂C/∂W‖ (shows batch norm)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing figure file."),
) -> None:
    """Draw the book's figures from a recording: s_l per hidden layer (log y) and the neuron bars."""
    from vgrad.core.record.reader import read_run
    from vgrad.tui.figures import check_figure_path, check_lens, plot_recording

    try:
        check_lens(lens)
        check_figure_path(out)
        _refuse_existing_outputs(((out, "-o"),), force)
        recording = read_run(path)
        (figure,) = _claim_outputs(((out, "-o"),), force, inputs=(path,))
    except InputError as error:
        fail(str(error))
    if recording.warning:
        _stderr().print(f"warning: {recording.warning}")
    try:
        with _stderr().status("drawing…"), figure.binary() as file:
            plot_recording(recording, file, lens=lens, fmt=out.suffix.lower().lstrip("."))
    except BaseException:
        figure.abandon()  # a figure half drawn is no figure: a file this command made goes
        raise
    typer.echo(f"wrote {figure.path}")


@app.command("chain", epilog="Example: vgrad-tui chain --neurons 5")
def chain_command(
    neurons: int = typer.Option(4, "--neurons", help="Neurons in the chain (at least 2)."),
) -> None:
    """The book's single-neuron chain: change w and b and watch each factor w·σ'(z)."""
    from vgrad.tui.chain_app import make_chain_app

    try:
        chain_app = make_chain_app(neurons)
        if not _on_a_terminal():
            raise InputError("chain is interactive and needs a terminal (stdin or stdout is not one)")
    except InputError as error:
        fail(str(error))
    chain_app.run()


def run_cli(argv: list[str] | None = None) -> None:
    """Entry point: bare `vgrad-tui [options]` means `vgrad-tui run [options]`."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and not args[0].startswith("-") and args[0] not in SUBCOMMANDS:
        typer.echo(f"vgrad-tui: error: no command {args[0]!r}; the commands are {', '.join(SUBCOMMANDS)} "
                   "(bare options go to run)", err=True)
        raise SystemExit(2)
    if not args or (args[0] not in SUBCOMMANDS and args[0] not in ("-h", "--help")):
        args.insert(0, "run")
    app(args=args, prog_name="vgrad-tui")
