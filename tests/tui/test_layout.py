"""Where the panels go (tui/layout.py), and what a new user sees at the four sizes the issue
names: 60x20, 80x24, 120x40, 200x50."""

import time

import pytest

from vgrad.core.spec import parse_net
from vgrad.tui.layout import choose_layout, rows_needed
from vgrad.tui.widgets import HelpScreen, LayerRow, NetPanel, NeuronBars, PlotScreen

BOOK = tuple(parse_net(f"784-{'30-' * k}10") for k in (2, 3, 4))
FOUR = (parse_net("784-30-30-30-30-10"),) * 4


def test_four_nets_take_a_2x2_grid_when_the_terminal_is_tall_enough():
    layout = choose_layout(FOUR, 200, 50)
    assert (layout.columns, layout.wide, layout.spark_rows, layout.header) == (2, True, 4, True)
    assert choose_layout(FOUR, 160, 40).columns == 4     # not tall enough: 4-row sparklines side by side


@pytest.mark.parametrize("width, height", [(60, 20), (80, 24), (120, 40), (200, 50)])
def test_the_book_nets_fit_every_size_without_scrolling(width, height):
    layout = choose_layout(BOOK, width, height)
    chrome = 2 + layout.header
    assert rows_needed(BOOK, layout.columns, layout.wide, layout.spark_rows) <= height - chrome


def test_at_60x20_the_header_gives_way_to_the_panels():
    assert not choose_layout(BOOK, 60, 20).header and choose_layout(BOOK, 80, 24).header


def test_the_2x2_grid_at_200x50_uses_the_rows(replay_app, drive):
    app = replay_app("remedies4.jsonl")

    async def scenario(pilot):
        nets = app.query_one("#nets")
        assert nets.has_class("-grid") and nets.has_class("-wide") and nets.has_class("-spark-4")
        panels = list(app.query(NetPanel))
        assert panels[0].region.y == panels[1].region.y < panels[2].region.y
        assert panels[3].region.bottom > 40                # the lower half of the screen is used
    drive(app, scenario, size=(200, 50))


def test_60x20_has_no_clipped_border_no_scrollbar_and_a_whole_footer(replay_app, drive):
    app = replay_app("book3.jsonl")

    async def scenario(pilot):
        nets = app.query_one("#nets")
        assert nets.max_scroll_y == 0 and not nets.show_vertical_scrollbar
        assert all(panel.region.bottom <= nets.region.bottom for panel in app.query(NetPanel))
        footer = app.screen.query_one("Footer")
        assert footer.region.bottom == 20 and footer.region.width == 60
    drive(app, scenario, size=(60, 20))


def test_the_help_overlay_scrolls_at_60x20(replay_app, drive):
    app = replay_app("book3.jsonl")

    async def scenario(pilot):
        await pilot.press("question_mark")
        box = app.screen.query_one("#help-box")
        assert isinstance(app.screen, HelpScreen) and box.max_scroll_y > 0
        await pilot.press("end")
        assert box.scroll_y == box.max_scroll_y
    drive(app, scenario, size=(60, 20))


def test_titles_carry_the_whole_spec_and_the_border_the_live_headline(replay_app, drive):
    app = replay_app("remedies4.jsonl")

    async def scenario(pilot):
        await pilot.pause()
        panels = list(app.query(NetPanel))
        assert [panel.border_title for panel in panels] == [
            "784-30-30-30-30-10", "784-30-30-30-30-10:relu:he", "784-30-30-30-30-10:residual",
            "784-30-30-30-30-10:tanh:xavier"]
        assert panels[0].border_subtitle == "h1:h4 = 1:81"
    drive(app, scenario)


async def until(pilot, condition, seconds: float = 30.0) -> None:
    """Poll until condition() holds; the deadline only keeps a broken build from hanging."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)


def test_the_headline_follows_each_record_and_home_clears_the_bars(replay_app, drive):
    app = replay_app("book3.jsonl")

    async def scenario(pilot):
        deep = list(app.query(NetPanel))[2]
        await until(pilot, lambda: deep.border_subtitle != "")    # the first poll drew the end
        at_end = deep.border_subtitle
        await pilot.press("home")
        await until(pilot, lambda: deep.border_subtitle != at_end)  # the redraw follows at the next poll
        assert deep.border_subtitle != at_end
        assert "nan" not in "".join(part for line in deep.query_one(NeuronBars).lines for part, _ in line)
    drive(app, scenario)


@pytest.mark.parametrize("width, height", [(120, 40), (200, 50), (100, 30), (80, 24)])
def test_the_sparklines_grow_until_no_layer_could_take_another_row(width, height):
    """At 120x40 the book's nets once left six blank rows under the tallest panel: the sparklines
    stopped at 4 rows. Now they grow while the tallest panel fits."""
    from vgrad.tui.layout import FOOTER_ROWS, HEADER_ROWS, LEGEND_ROWS

    layout = choose_layout(BOOK, width, height)
    room = height - LEGEND_ROWS - FOOTER_ROWS - (HEADER_ROWS if layout.header else 0)
    used = rows_needed(BOOK, layout.columns, layout.wide, layout.spark_rows, width=width)
    taller = rows_needed(BOOK, layout.columns, layout.wide, layout.spark_rows + 1, width=width)
    assert used <= room and (taller > room or layout.spark_rows >= 6)   # 6 rows: tall enough to read


def test_each_layer_is_named_on_the_bottom_row_of_its_sparkline(replay_app, drive):
    app = replay_app("book3.jsonl")

    async def scenario(pilot):
        row = app.query(LayerRow).first()
        lines = row.render().plain.split("\n")
        assert len(lines) == row.size.height > 1 and lines[-1].startswith("h1 ")
        assert not lines[0].strip().startswith("h1")
    drive(app, scenario, size=(120, 40))


def test_the_plot_view_keeps_its_legend_off_the_data(replay_app, drive):
    app = replay_app("book3.jsonl")

    async def scenario(pilot):
        await pilot.press("p")
        assert isinstance(app.screen, PlotScreen)
        def caption_texts():
            return [str(caption.render()) for caption in app.screen.query(".plot-caption")]
        await until(pilot, lambda: "done" in caption_texts()[2])        # the charts follow the app's next poll
        captions = caption_texts()
        assert captions[2].startswith("784-30-30-30-30-10") and "━h4" in captions[2]
        assert "h1:h4 = 1:" in captions[2]
        await pilot.pause()
        chart = str(app.screen.query_one("#plot-2").render())
        assert "⢕⢕ h1" not in chart and "h1" not in chart   # plotext's own legend sat on the lines
    drive(app, scenario, size=(60, 20))


def test_a_stall_note_gets_its_rows_so_nothing_scrolls():
    """sgd: a net at chance explains itself under its status; the layout makes room for it."""
    sgd = (parse_net("784-30-10"), parse_net("784-30-30-30-30-10"))
    note = "10.0% after 3 epochs is chance: " + "the reason, in words, " * 8
    plain, noted = choose_layout(sgd, 100, 30), choose_layout(sgd, 100, 30, notes=("", note))
    assert noted.spark_rows < plain.spark_rows


def test_the_sgd_replay_at_100x30_has_room_for_its_note(replay_app, drive):
    app = replay_app("sgd2.jsonl")

    async def scenario(pilot):
        await pilot.pause()
        nets = app.query_one("#nets")
        assert list(app.query(NetPanel))[1].status.note and nets.max_scroll_y == 0
    drive(app, scenario, size=(100, 30))


def test_a_panel_that_does_not_fit_is_announced_and_down_reaches_it(replay_app, drive):
    """At 45×14 the third net's panel sat below the screen with no word of it."""
    app = replay_app("book3.jsonl")

    async def scenario(pilot):
        await pilot.pause()
        await pilot.pause()
        assert app.legend.mode.startswith("↓ 1 more net")
        await pilot.press("down", "down")
        await pilot.pause()
        assert app.query_one("#nets").scroll_y > 0 and "more net" not in app.legend.mode
    drive(app, scenario, size=(45, 14))
