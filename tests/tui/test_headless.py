"""The headless table: s_l first and last per hidden layer, and the first/last ratio through both lenses."""

import io

from rich.console import Console

from vgrad.core.run.lens import WEIGHT, first_to_last
from vgrad.tui.headless import format_speed, summary_tables


def rendered(board) -> str:
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(*summary_tables(board.snapshot(), "speed"))
    return console.export_text()


def test_the_table_gives_both_first_to_last_ratios(replay_app):
    board = replay_app("lenses2.jsonl").board
    net = board.snapshot().nets[0]
    text = rendered(board)
    first, last = first_to_last(net.history[0], WEIGHT), first_to_last(net.latest, WEIGHT)
    row = next(line for line in text.splitlines() if "‖∂C/∂W‖ h1/h4" in line)
    assert format_speed(first) in row and format_speed(last) in row
    assert "s_1/s_4" in text


def test_a_recording_without_the_weight_lens_shows_a_dash(book3_board):
    board = book3_board
    row = next(line for line in rendered(board).splitlines() if "‖∂C/∂W‖ h1/h4" in line)
    assert row.count("—") == 2
