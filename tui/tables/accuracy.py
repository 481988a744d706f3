"""`vgrad-tui reproduce --accuracy --data PATH`: the book's accuracy table, with a progress bar per net."""

from __future__ import annotations

import threading

from vgrad.core.config import DTYPES
from vgrad.core.errors import InputError, did_you_mean
from vgrad.core.lab.book import ACCURACY_EXPERIMENT
from vgrad.core.status import ExitCode

WHERE_TO_GET_MNIST = (
    "--accuracy needs full MNIST (60,000 training images) on your disk and vgrad downloads nothing: "
    "put the four IDX files (train-images-idx3-ubyte.gz … from https://ossci-datasets.s3.amazonaws.com/mnist/, "
    "a mirror of yann.lecun.com/exdb/mnist) or keras' mnist.npz in a folder and pass --data PATH")


def accuracy_command(data: str | None, epochs: int | None, dtype: str, as_json: bool) -> int:
    """Check every input, then train the four nets; the exit status (0, or 130 after Ctrl+C)."""
    from vgrad.tui.console import SafeConsole, fail, print_json, stderr_console

    epochs = ACCURACY_EXPERIMENT["epochs"] if epochs is None else epochs
    if data is None:
        fail(WHERE_TO_GET_MNIST)
    if dtype not in DTYPES:
        fail(f"--dtype {dtype!r}: choose {' or '.join(DTYPES)}" + did_you_mean(dtype, DTYPES))
    from vgrad.core.data import load_dataset
    from vgrad.core.lab.accuracy import MNIST_TRAIN, accuracy_config, validation_split
    try:
        accuracy_config(epochs, dtype)
        if epochs < 1:
            raise InputError(f"--epochs {epochs}: the accuracy table needs at least 1")
        dataset = load_dataset(data)
        split = validation_split(dataset)
    except InputError as error:
        fail(str(error))
    err = stderr_console()
    n_train, n_validation = len(split.train_x), len(split.test_x)
    if len(dataset.train_x) != MNIST_TRAIN:
        err.print(f"note: {dataset.name} has {len(dataset.train_x):,} training images, not full MNIST's "
                  f"{MNIST_TRAIN:,}: the book's figures are not comparable", markup=False, highlight=False,
                  soft_wrap=True)
    from vgrad.core.train.warmup import compile_kernels
    from vgrad.tui.headless import phase
    with phase(err, "compiling numba kernels…"):
        compile_kernels(dtype, modes=("sgd",))
    runs, stop = _train(dataset, epochs, dtype, err)
    if as_json:
        print_json({"data": dataset.name, "train_images": n_train, "validation_images": n_validation,
                     "epochs": epochs, "dtype": dtype, "complete": not stop.is_set(),
                     "nets": [run.as_dict() for run in runs]})
    else:
        from vgrad.tui.tables.reproduce import accuracy_table as table_of
        SafeConsole().print(table_of(runs, dataset.name, n_train, n_validation))
    if stop.is_set():
        err.print("interrupted: the epochs measured are shown")
        return ExitCode.INTERRUPTED
    return 1 if any(run.error for run in runs) else 0


def _train(dataset, epochs: int, dtype: str, err):
    """The four nets with a progress bar each (epochs done, latest accuracy); Ctrl+C sets stop."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from vgrad.core.lab.accuracy import accuracy_table
    from vgrad.core.lab.book import BOOK_ACCURACIES

    stop = threading.Event()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("epochs"),
               TextColumn("{task.fields[accuracy]}"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=False) as progress:
        tasks = [progress.add_task(spec, total=epochs, accuracy=f"book {book:.2f} %")
                 for spec, book in BOOK_ACCURACIES]

        def report(net: int, epoch: int, accuracy: float) -> None:
            spec, book = BOOK_ACCURACIES[net]
            progress.update(tasks[net], completed=epoch, accuracy=f"{accuracy:.2f} % (book {book:.2f})")
            if not err.is_terminal:  # piped, rich prints only the last frame: a line per epoch meanwhile
                err.print(f"{spec}: epoch {epoch}/{epochs}, {accuracy:.2f} % (book {book:.2f})",
                          markup=False, highlight=False, soft_wrap=True)
        runs = accuracy_table(dataset, epochs, dtype, report, stop)
    return runs, stop
