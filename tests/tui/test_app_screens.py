"""The help and plot screens: snapshots, and opening/closing them with keys."""

import pytest

from vgrad.tui.widgets import HelpScreen, PlotScreen, SpeedPlot

VIEW_KEYS = {"l", "w", "m", "s", "p", "?", "q", "ctrl+c", "↓", "↑"}
REPLAY_KEYS = VIEW_KEYS | {"space", "n", "+", "-", "home", "end"}      # no restart: the run is recorded
LIVE_KEYS = VIEW_KEYS | {"space", "n", "r"}


def test_help_screen(snap_compare, replay_app):
    """`?` lists every key, replay keys included, and says what s_l is."""
    assert snap_compare(replay_app("book3.jsonl"), press=["question_mark"], terminal_size=(120, 40))


def test_plot_view(snap_compare, replay_app):
    """`p`: the book's figure, log10 s_l against epochs, one chart per net."""
    assert snap_compare(replay_app("book3.jsonl"), press=["p"], terminal_size=(120, 40))


def test_help_opens_and_closes(replay_app, drive):
    app = replay_app("book3.jsonl")

    async def scenario(pilot):
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert {key for key, _ in app.screen.keys} == REPLAY_KEYS
        assert "recorded run played back" in app.screen.about
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
    drive(app, scenario)


def test_help_leaves_out_replay_keys_when_live(dashboard, fake, drive):
    app = dashboard(fake)

    async def scenario(pilot):
        await pilot.press("question_mark")
        assert {key for key, _ in app.screen.keys} == LIVE_KEYS
        assert "probe images" in app.screen.about
    drive(app, scenario)


@pytest.mark.slow  # about 2 s: the full suite runs it
def test_plot_toggles_and_draws_every_net(replay_app, drive):
    app = replay_app("book3.jsonl")

    async def scenario(pilot):
        await pilot.press("p")
        assert isinstance(app.screen, PlotScreen)
        assert len(app.screen.query(SpeedPlot)) == 3
        await pilot.press("p")
        assert not isinstance(app.screen, PlotScreen)
        await pilot.press("p", "escape")
        assert not isinstance(app.screen, PlotScreen)
    drive(app, scenario)


BLOCKS = set("▁▂▃▄▅▆▇█")


@pytest.mark.parametrize("size", [(80, 24), pytest.param((60, 20), marks=pytest.mark.slow)])
def test_the_help_box_shows_nothing_but_its_own_text(replay_app, drive, size):
    """After `p`, escape, `?`: no block glyph inside the box (its scrollbar's thumb once ended in
    ▁▂, read as the sparklines showing through)."""
    app = replay_app("book3.jsonl")

    async def scenario(pilot):
        await pilot.press("p", "escape", "question_mark")
        await pilot.pause()
        box = app.screen.query_one("#help-box")
        lines = [strip.text for strip in app.screen._compositor.render_strips()]
        inside = [line[box.region.x:box.region.right] for line in lines[box.region.y:box.region.bottom]]
        assert box.max_scroll_y > 0                       # the box scrolls at this size
        assert not BLOCKS & set("".join(inside))
    drive(app, scenario, size=size)


def test_help_screen_at_80x24(snap_compare, replay_app):
    """`?` at 80×24: the box over the panels, its scrollbar plain cells."""
    assert snap_compare(replay_app("book3.jsonl"), press=["question_mark"], terminal_size=(80, 24))
