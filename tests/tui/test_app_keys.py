"""Every key of the dashboard, driven by a pilot against a fake Controls that records calls."""

import time

import pytest

from vgrad.core.record.step import StepRecord
from vgrad.tui.app import MAX_POLL_HZ, UI_CPU_SHARE
from vgrad.tui.widgets import LayerRow, ScaleLegend, StatusLine


def test_mount_starts_the_controls_after_the_first_frame(dashboard, book3_board, fake, drive):
    async def scenario(pilot):
        await pilot.pause()
        assert fake.calls == ["start"]
    drive(dashboard(fake, start_controls=True), scenario)
    idle = type(fake)(book3_board)
    drive(dashboard(idle), scenario=_nothing)
    assert "start" not in idle.calls


async def _nothing(pilot):
    pass


def test_space_toggles_pause_and_the_legend_says_so(dashboard, fake, drive):
    app = dashboard(fake)

    async def scenario(pilot):
        await pilot.press("space")
        assert fake.calls == ["toggle_pause"]
        assert app.paused
        assert "paused" in app.query_one(ScaleLegend).mode
        await pilot.press("space")
        assert not app.paused
        assert "paused" not in app.query_one(ScaleLegend).mode
    drive(app, scenario)


def test_n_steps_only_while_paused(dashboard, fake, drive):
    app = dashboard(fake)

    async def scenario(pilot):
        await pilot.press("n")
        assert "step" not in fake.calls
        await pilot.press("space", "n", "n")
        assert fake.calls == ["toggle_pause", "step", "step"]
    drive(app, scenario)


def test_r_restarts_on_a_worker_thread(dashboard, fake, drive):
    app = dashboard(fake)

    async def scenario(pilot):
        await pilot.press("r")
        await app.workers.wait_for_complete()
        assert fake.calls == ["restart"]
    drive(app, scenario)


def test_l_toggles_log_and_linear_sparklines(dashboard, fake, drive):
    app = dashboard(fake)

    async def scenario(pilot):
        sparkline = app.query(LayerRow).first()
        assert app.log_scale and sparkline.scale.log
        await pilot.press("l")
        assert not app.log_scale and not sparkline.scale.log
        assert sparkline.scale.lo == 0.0
        await pilot.press("l")
        assert sparkline.scale.log
    drive(app, scenario)


@pytest.mark.parametrize(("key", "code"), [("q", 0), ("ctrl+c", 130)])
def test_q_and_ctrl_c_stop_and_join_the_controls_then_exit(dashboard, fake, drive, key, code):
    """q leaves with 0, ctrl+c with 130 (interrupted); both stop and join the workers first."""
    app = dashboard(fake)

    async def scenario(pilot):
        await pilot.press(key)
        await pilot.pause()
        assert fake.calls == ["stop", "join"]
        assert not app.is_running
    drive(app, scenario)
    assert (app.return_code or 0) == code


def test_a_terminal_too_small_shows_a_notice_instead_of_the_panels(dashboard, fake, drive):
    app = dashboard(fake)

    async def scenario(pilot):
        await pilot.resize_terminal(30, 10)
        await pilot.pause()
        notice = app.query_one("#too-small")
        assert notice.display and not app.query_one("#nets").display
        assert "too small: 30x10" in str(notice.render())
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert app.query_one("#nets").display and not notice.display
    drive(app, scenario)


def test_replay_keys_reach_the_replay_controls(dashboard, fake_replay, drive):
    app = dashboard(fake_replay)

    async def scenario(pilot):
        await pilot.press("plus", "equals_sign", "minus", "home", "end")
        assert fake_replay.calls == ["faster", "faster", "slower", "jump_start", "jump_end"]
        assert "replay ×1" in app.query_one(ScaleLegend).mode
    drive(app, scenario)


def test_replay_keys_do_nothing_live(dashboard, fake, drive):
    app = dashboard(fake)

    async def scenario(pilot):
        await pilot.press("plus", "minus", "home", "end")
        assert fake.calls == []
        assert app.check_action("faster", ()) is False
    drive(app, scenario)


def test_replay_speed_shows_in_the_legend(replay_app, drive):
    app = replay_app("book3.jsonl")

    async def scenario(pilot):
        await pilot.press("plus", "plus")
        assert app.query_one(ScaleLegend).mode == "replay ×4"
        await pilot.press("home")
        assert all(net.latest is None for net in app.view.nets)
        await pilot.press("end")
        assert all(net.state == "done" for net in app.view.nets)
    drive(app, scenario)


def test_the_poll_redraws_when_the_board_moves(dashboard, book3_board, fake, drive):
    app = dashboard(fake, poll_hz=50.0)
    assert app.poll_hz == MAX_POLL_HZ
    last = book3_board.snapshot().nets[0].latest
    record = StepRecord(net=0, epoch=last.epoch + 1, step=last.step + 1, speed=(float("nan"), 0.5),
                        neurons=((float("nan"),) * 6, (0.0,) * 6), cost=float("inf"))

    async def scenario(pilot):
        version = app.view.version
        app.poll()
        assert app.view.version == version
        book3_board.publish(record)
        book3_board.set_state(0, "diverged", "non-finite value at epoch 60, step 60")
        deadline = time.monotonic() + 2.0
        while app.view.version == version and time.monotonic() < deadline:
            await pilot.pause(0.02)
        status = app.query(StatusLine).first()
        assert status.net.latest is record
        await pilot.pause()
        assert "diverged" in str(status.render())
        assert app.query_one("#net-0").has_class("-problem")
    drive(app, scenario)


def test_run_wide_notices_show_under_the_legend(dashboard, book3_board, fake, drive):
    app = dashboard(fake)

    async def scenario(pilot):
        book3_board.notice("writing run.jsonl failed: No space left on device; training goes on")
        app.poll()
        await pilot.pause()
        legend = app.query_one(ScaleLegend)
        assert legend.notices == book3_board.snapshot().notices
        assert legend.size.height == 2
        assert "No space left" in str(legend.render())
    drive(app, scenario)


def test_running_redraws_keep_within_the_cpu_budget(dashboard, book3_board, fake):
    app = dashboard(fake)
    done = book3_board.snapshot()
    for net in range(3):
        book3_board.set_state(net, "running")
    running = book3_board.snapshot()
    app.cpu_share = UI_CPU_SHARE * 2
    assert app.may_redraw(done, running)            # a change of state always shows
    assert not app.may_redraw(running, running)     # nets just running: wait for the budget
    app.cpu_share = UI_CPU_SHARE / 2
    assert app.may_redraw(running, running)
