"""The headless summary table: titled by the whole spec with its state, epochs and headline on
lines that never break mid-phrase; s_l, cost and accuracy in the one format of core.run.summary."""

import io
from pathlib import Path

import pytest
from rich.console import Console

from vgrad.core.config import Config
from vgrad.core.record.reader import read_run
from vgrad.core.record.step import StepRecord
from vgrad.core.run.board import Board
from vgrad.core.run.replay import open_replay
from vgrad.core.run.runner import Runner
from vgrad.core.spec import parse_net
from vgrad.core.status import NetState
from vgrad.core.view.lens import WEIGHT
from vgrad.core.view.summary import epoch_progress, headline_text
from vgrad.tui.headless import counted, follow_progress, phase, summary_tables

FIXTURES = Path(__file__).parents[1] / "fixtures"


def replayed(name: str) -> Board:
    """A board holding the whole recording, as `replay --no-ui` fills it."""
    replayer = open_replay(read_run(FIXTURES / name))
    replayer.jump_end()
    return replayer.board


def rendered(view, mode: str, width: int = 80) -> list[str]:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(*summary_tables(view, mode))
    return [line.rstrip() for line in console.export_text().splitlines()]


def test_titles_keep_each_phrase_whole_and_carry_the_headline():
    lines = rendered(replayed("diverged2.jsonl").snapshot(), "speed")
    assert "784-30-30-30-10:leaky_relu:he" in lines
    assert "diverged: non-finite value at epoch 5, step 5 · epoch 5/40 · h1:h3 = —" in lines
    assert "done · epoch 40/40 · h1:h2 = 1:1.7" in lines


def test_speeds_cost_and_accuracy_share_the_dashboards_formats():
    lines = rendered(replayed("sgd2.jsonl").snapshot(), "sgd")
    text = "\n".join(lines)
    assert "done · epoch 3/3 · h1:h4 = 1:163" in lines
    assert "s_l at init" in text and "after 3 epochs" in text           # counted as epoch e/E counts
    row = next(line for line in lines if line.startswith("│ h1 "))
    assert [cell.strip() for cell in row.split("│")[2:4]] == ["0.231", "0.0114"]
    assert any("h1:h4" in line and "1:95" in line and "1:163" in line for line in lines)
    assert any("test accuracy" in line and "10.0%" in line and "88.0%" in line for line in lines)


def test_a_narrow_net_reports_its_layers_without_neurons_of_others():
    spec = parse_net("784-3-3-10")
    board = Board((spec,), 2)
    board.publish(StepRecord(net=0, epoch=0, step=0, speed=(1e-3, 0.1), neurons=((1e-4,) * 3,) * 2, cost=3.0))
    lines = rendered(board.snapshot(), "speed")
    assert "waiting · epoch 0/2 · h1:h2 = 1:100" in lines


def test_the_table_gives_the_first_to_last_ratio_through_both_lenses():
    net = replayed("lenses2.jsonl").snapshot().nets[0]
    lines = rendered(replayed("lenses2.jsonl").snapshot(), "speed", width=120)
    row = next(line for line in lines if "‖∂C/∂W‖ h1:h4" in line)
    weight = [headline_text(record, WEIGHT).partition(" = ")[2] for record in (net.history[0], net.latest)]
    assert all(weight) and [cell.strip() for cell in row.split("│")[2:4]] == weight
    assert any(line.startswith("│ h1:h4 ") for line in lines)


def test_a_lens_no_record_has_gets_no_headline_row():
    """A recording without the weight lens has no ‖∂C/∂W‖ row (it used to read "— —"); a bias-free
    model's table has no s_l row, and a mixed model's compares the layers that have biases."""
    lines = rendered(replayed("book3.jsonl").snapshot(), "speed")
    assert any("h1:h4" in line for line in lines) and not any("‖∂C/∂W‖ h1:h4" in line for line in lines)


def piped(width: int = 80) -> tuple[Console, io.StringIO]:
    """stderr redirected to a file or a pipe: not a terminal."""
    out = io.StringIO()
    return Console(file=out, width=width), out


def test_piped_phases_are_one_plain_line_each():
    console, out = piped()
    with phase(console, "compiling numba kernels…") as say:
        say("timing numpy's dense matmul…")
        say("timing numpy's dense matmul…")
        say("the avx2 kernels, in their own process…")
    assert out.getvalue().splitlines() == ["compiling numba kernels…", "timing numpy's dense matmul…",
                                           "the avx2 kernels, in their own process…"]


def test_piped_counted_jobs_report_each_tenth_done():
    console, out = piped()
    with counted(console, "20 seeds × 3 nets, 500 epochs…", 60) as progress:
        for done in range(1, 61):
            progress(done, 60)
    lines = out.getvalue().splitlines()
    assert lines[0] == "20 seeds × 3 nets, 500 epochs…"
    assert lines[1:] == [f"{done}/60 done" for done in range(6, 61, 6)]


class Ended:
    """A runner whose workers have all ended."""

    alive = False

    def join(self, timeout=None):
        return True


def test_piped_progress_fits_80_columns_without_the_time_columns():
    """Piped, only the last frame is printed: no cut-off '0:00:… 0:00:00' at its end."""
    console, out = piped(80)
    follow_progress(replayed("book3.jsonl"), Ended(), console)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and all("epoch 60/60" in line and "0:00" not in line for line in lines)
    assert "h1:h4 = 1:58" in lines[2]


def test_the_columns_count_epochs_as_the_header_does():
    """`epoch 60/60` over `at epoch 59` read as two counts: both count epochs trained, and a file
    recorded before speed mode measured after its last step says its last was after 59 of them."""
    lines = rendered(replayed("book3.jsonl").snapshot(), "speed")
    header = next(line for line in lines if "hidden layer" in line)
    assert "done · epoch 60/60 · h1:h2 = 1:1.1" in lines
    assert "s_l at init" in header and "after 59 epochs" in header and "at epoch" not in header


def test_a_single_measurement_gets_a_single_column():
    """--epochs 0 measures once, at init: its table once printed that column twice."""
    spec = parse_net("784-30-30-10")
    board = Board((spec,), 0)
    board.publish(StepRecord(net=0, epoch=0, step=0, speed=(1e-3, 0.1), neurons=((1e-4,) * 6,) * 2, cost=3.0))
    header = next(line for line in rendered(board.snapshot(), "speed") if "hidden layer" in line)
    assert header.count("at init") == 1 and header.count("┃") == 3


def test_a_replayed_run_that_says_interrupted_is_not_called_stopped(tmp_path):
    lines = (FIXTURES / "book3.jsonl").read_text().splitlines()
    path = tmp_path / "run.jsonl"
    path.write_text("\n".join([lines[0], *[line for line in lines if '"type": "step"' in line][:30],
                               '{"type": "end", "status": "interrupted", "elapsed": 1.0}']) + "\n")
    replayer = open_replay(read_run(path))
    replayer.jump_end()
    titles = [line for line in rendered(replayer.board.snapshot(), "speed") if " · epoch " in line]
    assert len(titles) == 3 and all(line.startswith("interrupted: ") for line in titles), titles


@pytest.mark.parametrize("mode", ["speed", "sgd"])
def test_a_run_of_e_epochs_ends_on_a_measurement_after_e_epochs(mnist, mode):
    """The last record of an E-epoch run is at epoch E: the header's `epoch E/E`, counted from it
    while the net still runs, and the table's last column `after E epochs` are one count."""
    epochs = 3
    spec = parse_net("784-30-30-10")
    board = Board((spec,), epochs)
    runner = Runner.for_training((spec,), mnist, Config(mode=mode, epochs=epochs), board)
    runner.start()
    assert runner.join(60)
    net = board.snapshot().nets[0]
    assert net.latest is not None and net.latest.epoch == epochs
    assert epoch_progress(NetState.RUNNING, net.latest, epochs) == f"epoch {epochs}/{epochs}"
    header = next(line for line in rendered(board.snapshot(), mode) if "hidden layer" in line)
    assert "s_l at init" in header and f"after {epochs} epochs" in header


def test_a_mixed_models_headline_compares_its_first_and_last_layers_that_have_the_value(tmp_path):
    import vgrad

    path = tmp_path / "mixed.jsonl"
    with vgrad.Recorder(path, ["embed", "fc1", "norm", "fc2", "head"]) as recorder:   # embed, norm: no bias
        recorder.log(0, speed=[None, 0.01, None, 0.1, 1.0], weight_grad=[1.0, 0.02, 0.5, 0.2, 2.0])
    bias_free = tmp_path / "bias_free.jsonl"
    with vgrad.Recorder(bias_free, ["embed", "fc1", "head"]) as recorder:
        recorder.log(0, speed=[None, None, None], weight_grad=[1.0, 0.5, 2.0])
    replayer = open_replay(read_run(path))
    replayer.jump_end()
    text = "\n".join(rendered(replayer.board.snapshot(), "speed"))
    assert "fc1 → fc2" in text and "1:10" in text and "embed → fc2" in text and "5.0:1" in text
    replayer = open_replay(read_run(bias_free))
    replayer.jump_end()
    lines = rendered(replayer.board.snapshot(), "speed")
    assert sum("embed → fc1" in line for line in lines) == 2   # the title's headline and the ‖∂C/∂W‖ row only
