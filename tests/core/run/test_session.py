"""A session opened with compile_first: every kernel the run needs, the batch-norm ones included,
compiles while the nets show COMPILING, never after a net says it is running."""

import threading

from vgrad.core.config import Config
from vgrad.core.run import session as session_module
from vgrad.core.run.session import open_session
from vgrad.core.spec import parse_net
from vgrad.core.status import NetState

SPECS = (parse_net("784-30-30-10"), parse_net("784-30-30-10:batchnorm"))


def test_the_batchnorm_kernels_compile_while_every_net_shows_compiling(mnist, monkeypatch):
    """A slow cold compile, faked by one that waits on an event: while it runs, no net is RUNNING."""
    entered, release = threading.Event(), threading.Event()
    asked: list[dict] = []

    def slow_compile(dtype, **options):
        asked.append({"dtype": dtype, **options})
        entered.set()
        release.wait(60)

    monkeypatch.setattr(session_module, "compile_kernels", slow_compile)
    session = open_session(SPECS, mnist, Config(epochs=1), compile_first=True)
    session.runner.start()
    try:
        assert entered.wait(60)
        assert [net.state for net in session.board.snapshot().nets] == [NetState.COMPILING] * 2
        assert asked == [{"dtype": "float64", "modes": ("speed",), "batchnorm": True}]
    finally:
        release.set()
    assert session.runner.join(60)
    assert [net.state for net in session.board.snapshot().nets] == [NetState.DONE] * 2
