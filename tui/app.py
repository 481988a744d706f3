"""The dashboard: one panel per net showing s_l for every hidden layer as the nets train.

The app never trains. It polls `board.snapshot()` on a timer (15 Hz by default, at most
MAX_POLL_HZ), redraws only when the board's version moved, and turns keys into calls on a
Controls (a live Runner or a Replayer). `make_live_app`, `make_replay_app` and
watch_command's `make_watch_app` build every dashboard, the CLI's and the tests' alike.
"""

from __future__ import annotations

import asyncio
import signal
import time
from typing import TYPE_CHECKING

from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.geometry import Size
from textual.reactive import var
from textual.widgets import Footer, Header, Static

from vgrad.core.record.reader import Recording
from vgrad.core.run.board import Board, BoardView
from vgrad.core.run.controls import Controls, ReplayControls
from vgrad.core.run.replay import open_replay
from vgrad.core.status import ExitCode, NetState
from vgrad.core.view.lens import BIAS, LENSES, WEIGHT, default_lens, lenses_in, next_lens
from vgrad.tui.layout import SPARK_ROWS, choose_layout
from vgrad.tui.widgets import HelpScreen, NetPanel, PlotScreen, ScaleLegend, shared_scale
from vgrad.tui.widgets.about import about_text
from vgrad.tui.widgets.net_panel import MAX_SPARK_ROWS

if TYPE_CHECKING:  # a replay never loads the engine
    from vgrad.core.run.session import Session

MAX_POLL_HZ = 20.0
QUIT_JOIN_SECONDS = 0.5
REPLAY_ACTIONS = ("faster", "slower", "jump_start", "jump_end")
TRAINING_ACTIONS = ("restart",)               # only a run this process trains starts again
WATCH_WORDS = {"toggle_pause": "pause the display (the writers go on); end: back to live",
               "plot": "the figure: each layer against steps, log axis",
               "live": "back to the live display after a pause",
               "quit": "quit and print each file's summary", "interrupt": "quit with status 130"}
REPLAY_WORDS = {"toggle_pause": "pause or resume the playback", "step": "while paused: one more record",
                "quit": "quit and print the run's summary", "interrupt": "quit with status 130"}
DEFAULT_SMOOTH = 20                           # records the s key averages over unless --smooth says
UI_CPU_SHARE = 0.06           # while nets just run, redraws keep the UI thread near 6% of a core
CPU_DECAY = 0.8               # the UI's measured CPU share follows the last ~5 polls
MIN_SIZE = Size(40, 12)       # below this a notice replaces the panels
SIGNAL_CODES = {signal.SIGINT: ExitCode.INTERRUPTED, signal.SIGTERM: ExitCode.INTERRUPTED,
                **({signal.SIGHUP: ExitCode.HANGUP} if hasattr(signal, "SIGHUP") else {})}
SPEED_KEYS = Binding.Group("speed", compact=True)
JUMP_KEYS = Binding.Group("start/end")


class VgradApp(App[None]):
    """Panels of s_l per hidden layer for 1-4 nets, fed by a Board, steered through Controls."""

    CSS_PATH = "vgrad.tcss"
    DEFAULT_CSS = """
    #too-small {
        color: $warning;
        text-style: bold;
    }
    """
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("space", "toggle_pause", "pause", tooltip="pause or resume every net"),
        Binding("n", "step", "step", tooltip="while paused: one more step of every net"),
        Binding("r", "restart", "restart", tooltip="restart every net from the same seed"),
        Binding("p", "plot", "plot", tooltip="the book's figure: s_l against epochs, log axis"),
        Binding("question_mark", "help", "help", key_display="?", tooltip="this help"),
        Binding("q", "quit", "quit", tooltip="stop the nets and quit"),
        Binding("ctrl+c", "interrupt", "interrupt", show=False, priority=True,
                tooltip="stop the nets and quit with status 130"),
        Binding("plus,equals_sign", "faster", "faster", key_display="+", group=SPEED_KEYS,
                tooltip="replay: twice as fast"),
        Binding("minus", "slower", "slower", key_display="-", group=SPEED_KEYS,
                tooltip="replay: half as fast"),
        Binding("home", "jump_start", "start", group=JUMP_KEYS, tooltip="replay: back to the start"),
        Binding("end", "jump_end", "end", group=JUMP_KEYS, tooltip="replay: the whole run at once"),
        Binding("end", "live", "live", tooltip="watch: back to the live display after a pause"),
        # the view toggles last: where the footer is narrower than every key (60 columns), it cuts
        # off these, and every key stays listed in the help screen (?)
        Binding("l", "toggle_log", "log/lin", tooltip="sparklines on a log or a linear scale"),
        Binding("w", "toggle_lens", "lens",
                tooltip="next lens the file has: s_l = ‖∂C/∂b‖, ‖∂C/∂W‖ (sees batch norm), update ratio "
                        "‖Δθ‖/‖θ‖, saturated/dead units"),
        Binding("m", "toggle_map", "map", tooltip="a layer × time heatmap, or a sparkline row per layer"),
        Binding("f", "toggle_fold", "fold", tooltip="fold repeated blocks (layers.0 …) into one row each, or unfold"),
        Binding("s", "toggle_smooth", "smooth", tooltip="a moving average over N records (--smooth N), or raw"),
        Binding("o", "toggle_output", "output", show=False,
                tooltip="a watched model's headline: with or without its output layer (the last)"),
        Binding("down", "scroll_nets(1)", "scroll", key_display="↓", show=False,
                tooltip="scroll down to panels that do not fit (the legend counts them)"),
        Binding("up", "scroll_nets(-1)", "scroll", key_display="↑", show=False, tooltip="scroll back up"),
    ]

    view: var[BoardView] = var(BoardView(0, ()), init=False)
    log_scale: var[bool] = var(True, init=False)
    paused: var[bool] = var(False, init=False)
    lens: var[str] = var(BIAS, init=False)
    watching = False      # the files are someone else's (vgrad-tui watch): no training keys

    def __init__(self, board: Board, controls: Controls, *, title: str, subtitle: str = "",
                 poll_hz: float = 15.0, start_controls: bool = True, batch_size: int | None = None,
                 smooth: int = 0) -> None:
        super().__init__()
        self.smooth_records = smooth or DEFAULT_SMOOTH
        self.smoothed = smooth if smooth > 1 else 0
        self.fold = False
        self.include_output = False
        self.frozen = False          # watch: the display paused while the writers go on
        self._lens_chosen = False
        self.board = board
        self.controls = controls
        self.poll_hz = min(poll_hz, MAX_POLL_HZ)
        self.start_controls = start_controls
        self.replay = isinstance(controls, ReplayControls)
        self.title = title
        self.sub_title = subtitle
        self.set_reactive(VgradApp.view, board.snapshot())
        self.set_reactive(VgradApp.paused, self.view.paused)
        self.panels = [NetPanel(net.spec, batch_size=batch_size, id=f"net-{net.index}") for net in self.view.nets]
        self._clock = (time.perf_counter(), time.thread_time())
        self.cpu_share = 0.0
        self.legend = ScaleLegend()
        self._notes: tuple[str, ...] = ()      # the panels' status notes the layout was made for
        for panel in self.panels:
            panel.look(lens=self.lens, fold=self.fold, smoothed=self.smoothed)

    def compose(self) -> ComposeResult:
        yield Header()
        yield self.legend
        with Container(id="nets"):
            yield from self.panels
        yield Static(id="too-small")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._arrange(self.size)
        self._draw(self.view)
        self._show_mode()
        if self.start_controls:
            self.call_after_refresh(self.controls.start)
        self.set_interval(1.0 / self.poll_hz, self.poll)
        for signum, code in SIGNAL_CODES.items():  # as Ctrl+C: stop, keep the records, exit 130 (129)
            try:
                asyncio.get_running_loop().add_signal_handler(signum, self.interrupt, code)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
                pass

    def on_unmount(self) -> None:
        for signum in SIGNAL_CODES:
            try:
                asyncio.get_running_loop().remove_signal_handler(signum)
            except (NotImplementedError, RuntimeError, ValueError):
                pass

    # the board, polled
    def poll(self, force: bool = False) -> None:
        """Take the board's newest view; redraw only if its version moved. While nets just run,
        a redraw waits until the UI thread's CPU share is under UI_CPU_SHARE: a frame
        re-renders most of the screen and every core it takes is a core training loses.
        Anything else (a key, a step, a net done) shows at the next poll, or at once if forced."""
        self._measure_cpu()
        if self.frozen:
            return
        view = self.board.snapshot()
        self.paused = view.paused
        if view.version != self.view.version and (force or self.may_redraw(self.view, view)):
            self.view = view

    def may_redraw(self, shown: BoardView, view: BoardView) -> bool:
        """Whether to draw `view` over `shown` now: at once if a state changed; while nets just
        run, only while the UI thread's CPU share is under UI_CPU_SHARE."""
        states = [net.state for net in view.nets]
        just_running = NetState.RUNNING in states and states == [net.state for net in shown.nets]
        return not just_running or self.cpu_share <= UI_CPU_SHARE

    def _measure_cpu(self) -> None:
        """Follow the share of a core this (the UI) thread used since the last polls."""
        wall, cpu = time.perf_counter(), time.thread_time()
        last_wall, last_cpu = self._clock
        self._clock = (wall, cpu)
        if wall > last_wall:
            share = (cpu - last_cpu) / (wall - last_wall)
            self.cpu_share = CPU_DECAY * self.cpu_share + (1 - CPU_DECAY) * share

    def watch_view(self, old: BoardView, view: BoardView) -> None:
        if len(view.notices) != len(old.notices):
            self._arrange(self.size)
        self._draw(view)

    def watch_log_scale(self) -> None:
        self._draw(self.view)

    def watch_paused(self) -> None:
        self._show_mode()

    def watch_lens(self, lens: str) -> None:
        """Every number, the scale and the headline follow the lens; the panels name it."""
        self.legend.symbol = LENSES[lens].symbol
        self.legend.scale = None  # the grow-only scale starts again from the new lens's values
        self._look()

    def _look(self) -> None:
        """Tell every panel how to look (lens, folding, smoothing) and draw again."""
        for panel in self.panels:
            panel.look(lens=self.lens, fold=self.fold, smoothed=self.smoothed, include_output=self.include_output)
        self.legend.smoothed = self.smoothed
        self._draw(self.view)
        self._arrange(self.size)

    def _choose_lens(self, view: BoardView) -> None:
        """Open on the lens the files say (format 3) or need: the weight lens when every net's
        first record has no bias gradient. Chosen once, when every net has records
        (until then, and after, a panel whose net never measured the lens shows its own)."""
        nets = view.nets            # a file still awaited counts: its model may have biases
        if self._lens_chosen or not nets or not all(net.history for net in nets):
            return
        self._lens_chosen = True
        lenses = {default_lens(net.spec, net.history[:1]) for net in nets}
        chosen = WEIGHT if lenses == {WEIGHT} else BIAS
        if chosen != self.lens:
            self.set_reactive(VgradApp.lens, chosen)
            self.legend.symbol = LENSES[chosen].symbol
            for panel in self.panels:
                panel.look(lens=chosen, fold=self.fold, smoothed=self.smoothed, include_output=self.include_output)

    def _draw(self, view: BoardView) -> None:
        self._choose_lens(view)
        scale = shared_scale(view.nets, log=self.log_scale, previous=self.legend.scale, lens=self.lens)
        for panel, net in zip(self.panels, view.nets):
            panel.show(net, scale)
        own = any(panel.shown != self.lens for panel in self.panels)   # a net that never measured this lens
        self.legend.symbol = LENSES[self.lens].symbol + (" (or the lens a panel names)" if own else "")
        notes = tuple(panel.status.below for panel in self.panels)   # a reason (silent, error) or note takes rows
        if notes != self._notes:   # a note (sgd: why a net stalls) takes rows: lay out again
            self._notes = notes
            self._arrange(self.size)
        self.legend.scale = scale
        self.legend.notices = view.notices

    def action_scroll_nets(self, direction: int) -> None:
        nets = self.query_one("#nets")
        nets.scroll_to(y=nets.scroll_y + direction * max(1, nets.size.height // 2), animate=False)
        self.call_after_refresh(self._show_mode)

    def panels_below(self) -> int:
        """How many panels end below the part of #nets on screen (a short terminal stacks them)."""
        nets = self.query_one("#nets")
        seen = nets.scroll_offset.y + nets.scrollable_content_region.height
        return sum(1 for panel in self.panels if panel.virtual_region_with_margin.bottom > seen)

    def _show_mode(self) -> None:
        below = self.panels_below()
        words = [f"↓ {below} more net{'s' if below > 1 else ''}"] if below else []
        if self.replay:
            words.append(f"replay ×{self.controls.tempo:g}")
        if self.frozen:
            words.append("❚❚ display paused, the writers go on (end: live)")
        elif self.paused:
            words.append("❚❚ paused (n: one step)")
        self.legend.mode = " · ".join(words)

    # layout
    def on_resize(self, event: events.Resize) -> None:
        self._arrange(event.size)

    def _arrange(self, size: Size) -> None:
        """Apply choose_layout: columns, wide panels, sparkline height, and the header only if it fits."""
        too_small = size.width < MIN_SIZE.width or size.height < MIN_SIZE.height
        self.screen.set_class(too_small, "-too-small")
        if too_small:
            self.query_one("#too-small", Static).update(
                f"terminal too small: {size.width}x{size.height}\n"
                f"vgrad needs at least {MIN_SIZE.width}x{MIN_SIZE.height}\n(q quits)")
        specs = tuple(panel.spec for panel in self.panels)
        count = len(specs)
        heat = tuple(panel.spec.hidden if panel.heatmap_mode else 0 for panel in self.panels)
        layout = choose_layout(specs, size.width, size.height, len(self.view.notices), self._notes, heat)
        for panel in self.panels:
            panel.heatmap.lines = layout.heat_rows
        self.screen.set_class(not layout.header, "-no-header")
        nets = self.query_one("#nets")
        wanted = {"-stacked": layout.columns == 1 and count > 1, "-grid": layout.columns == 2 and count == 4,
                  "-wide": layout.wide, "-no-neurons": layout.spark_rows == 0,
                  **{f"-spark-{rows}": layout.spark_rows == rows for rows in SPARK_ROWS[:-1]}}
        for name, on in wanted.items():   # a class set on #nets restyles every row under it: only changes
            if nets.has_class(name) != on:
                nets.set_class(on, name)
        self.call_after_refresh(self._show_mode)   # a panel that does not fit: the legend says ↓

    # keys
    def offers(self, action: str) -> bool:
        """Whether `action` does something here: the replay keys in a replay, the training keys on
        a live run, no step or restart for files someone else writes, `live` only in watch."""
        if action == "live":         # watch's end key: the live end of the files
            return self.watching
        if action in REPLAY_ACTIONS:
            return self.replay
        if action in TRAINING_ACTIONS:
            return not self.replay and not self.watching
        if action == "step":
            return not self.watching
        if action == "toggle_fold":
            return any(panel.foldable for panel in self.panels)
        if action == "toggle_output":
            return any(panel.spec.hidden_layers != panel.spec.layer_names for panel in self.panels)
        return True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.offers(action):
            return False
        if action == "toggle_log":   # the plot view is always log: no key to offer there
            return not isinstance(self.screen, PlotScreen)
        return True

    def key_list(self) -> list[tuple[str, str]]:
        """(key, description) of every binding that works here, in the words of this screen."""
        words = {"watch": WATCH_WORDS, "replay": REPLAY_WORDS}.get(self.kind, {})
        return [(binding.key_display or binding.key, words.get(binding.action, binding.tooltip or binding.description))
                for binding in self.BINDINGS if self.offers(binding.action)]

    def action_toggle_pause(self) -> None:
        if self.watching:      # someone else's writer: pause the display only
            self.frozen = not self.frozen
            self._show_mode()
            self.poll(force=True)
            return
        self.controls.toggle_pause()
        self.poll(force=True)

    def action_live(self) -> None:
        self.frozen = False
        self._show_mode()
        self.poll(force=True)

    def action_step(self) -> None:
        if not self.controls.paused:
            self.notify("n takes one step while paused: press space first", timeout=3)
            return
        self.controls.step()

    def action_restart(self) -> None:
        """Restart on a worker thread: a Runner joins its threads before starting again."""
        self.run_worker(self.controls.restart, thread=True, group="controls", name="restart")

    def action_toggle_log(self) -> None:
        self.log_scale = not self.log_scale

    def action_toggle_lens(self) -> None:
        """The next lens any net's records have values for."""
        available = lenses_in(record for net in self.view.nets for record in net.history)
        self._lens_chosen = True
        self.lens = next_lens(self.lens, available)

    def action_toggle_map(self) -> None:
        heat = not all(panel.heatmap_mode for panel in self.panels)
        if not heat and any(panel.too_deep_for_rows for panel in self.panels):
            self.notify(f"more than {MAX_SPARK_ROWS} rows: the heatmap shows them all"
                        + (" (f folds blocks)" if not self.fold and any(p.foldable for p in self.panels) else ""),
                        timeout=4)
            return
        for panel in self.panels:
            panel.look(lens=self.lens, fold=self.fold, smoothed=self.smoothed, heatmap=heat,
                       include_output=self.include_output)
        self._look()

    def action_toggle_fold(self) -> None:
        self.fold = not self.fold
        self._look()

    def action_toggle_smooth(self) -> None:
        self.smoothed = 0 if self.smoothed else self.smooth_records
        self._look()

    def action_toggle_output(self) -> None:
        self.include_output = not self.include_output
        self._look()

    def action_plot(self) -> None:
        if isinstance(self.screen, PlotScreen):
            self.screen.dismiss()
        else:
            self.push_screen(PlotScreen(lambda: self.view, self.may_redraw,
                                        lambda: (self.lens, self.smoothed, self.include_output)))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.key_list(), about=about_text(self.kind)))

    @property
    def kind(self) -> str:
        """"watch", "replay" or "live": what the help screen describes."""
        return "watch" if self.watching else "replay" if self.replay else "live"

    async def action_quit(self) -> None:
        self.controls.stop()
        self.controls.join(QUIT_JOIN_SECONDS)
        self.exit()

    def action_interrupt(self) -> None:
        self.interrupt()

    def interrupt(self, code: int = ExitCode.INTERRUPTED) -> None:
        """Ctrl+C, SIGINT or SIGTERM (SIGHUP: 129): stop the nets (records are flushed as written)
        and exit with 130."""
        self.controls.stop()
        self.controls.join(QUIT_JOIN_SECONDS)
        self.exit(return_code=code)

    def action_faster(self) -> None:
        self.controls.faster()
        self._show_mode()

    def action_slower(self) -> None:
        self.controls.slower()
        self._show_mode()

    def action_jump_start(self) -> None:
        self.controls.jump_start()
        self.poll(force=True)

    def action_jump_end(self) -> None:
        self.controls.jump_end()
        self.poll(force=True)


def make_live_app(session: Session, *, poll_hz: float = 15.0) -> VgradApp:
    """The dashboard on a live run: its runner starts once the first frame is painted (so
    training and the app's start-up do not compete), compiling the kernels first if the
    session was opened so."""
    return VgradApp(session.board, session.runner, title="vgrad",
                    subtitle=f"{session.config.mode} mode on {session.data_name}", poll_hz=poll_hz,
                    batch_size=session.config.batch_size)


def make_replay_app(recording: Recording, *, name: str, autoplay: bool = True, smooth: int = 0) -> VgradApp:
    """The dashboard playing `recording` (called `name`, its file's name) back; with autoplay
    False nothing plays until asked (tests: no thread, no timer that could change the view)."""
    replayer = open_replay(recording)
    return VgradApp(replayer.board, replayer, title="vgrad", subtitle=name, start_controls=autoplay,
                    batch_size=recording.config.batch_size, smooth=smooth)


def run_dashboard(app: VgradApp) -> int:
    """Run the dashboard until the user quits; return its exit status (130 after Ctrl+C or
    SIGTERM). The controls are stopped however it ends."""
    try:
        app.run()
    finally:
        app.controls.stop()
    return app.return_code or ExitCode.OK
