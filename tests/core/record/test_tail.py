"""Following run files as another process writes them: partial lines, truncation, replacement,
a late file, a silent writer, a file that is not a run, and a writer thread feeding the board."""

import json
import os
import threading
import time

import pytest

import vgrad
from vgrad.core.errors import InputError
from vgrad.core.guard import claim_output, writer_holds
from vgrad.core.record import tail
from vgrad.core.record.step import StepRecord
from vgrad.core.record.tail import Failed, Follower, Started, still_growing
from vgrad.core.run.board import Board
from vgrad.core.run.follow_runner import WRITER_GONE, FollowRunner, parse_layers, plan, select

LAYERS = ["conv", "block.0", "block.1", "head"]


def header(layers=LAYERS, name="net") -> bytes:
    nets = [{"id": 0, "name": name, "layers": layers}]
    return (json.dumps({"type": "run", "format": 2, "vgrad": "x", "source": "test", "nets": nets}) + "\n").encode()


def step_line(step, layers=4, value=0.5) -> bytes:
    return (json.dumps({"type": "step", "net": 0, "step": step, "speed": [value] * layers,
                        "neurons": [[]] * layers, "cost": 1.0, "accuracy": None}) + "\n").encode()


def steps(items):
    return [item.step for item in items if isinstance(item, StepRecord)]


def append(path, data: bytes):
    with open(path, "ab") as file:
        file.write(data)


def test_a_half_written_line_is_held_until_its_newline(tmp_path):
    path = tmp_path / "run.jsonl"
    line = step_line(0)
    path.write_bytes(header() + line[:20])
    follower = Follower(path)
    items = follower.poll()
    assert isinstance(items[0], Started) and steps(items) == []
    append(path, line[20:-1])
    assert follower.poll() == []
    append(path, b"\n" + step_line(1))
    assert steps(follower.poll()) == [0, 1]


def test_a_file_that_does_not_exist_yet_is_waited_for(tmp_path):
    path = tmp_path / "late.jsonl"
    follower = Follower(path)
    assert follower.poll() == [] and not follower.exists
    path.write_bytes(header()[:10])
    assert follower.poll() == []               # the header is not complete yet
    append(path, header()[10:] + step_line(0))
    items = follower.poll()
    assert isinstance(items[0], Started) and steps(items) == [0]


@pytest.mark.parametrize("how", ["truncate", "replace", "rewrite"])
def test_a_truncated_or_replaced_file_is_a_new_run(tmp_path, how):
    path = tmp_path / "run.jsonl"
    path.write_bytes(header() + step_line(0) + step_line(1))
    follower = Follower(path)
    assert steps(follower.poll()) == [0, 1]
    new = header(name="second") + step_line(0, value=0.25) + step_line(1) + step_line(2)
    if how == "truncate":
        path.write_bytes(b"")
        assert follower.poll() == []
        path.write_bytes(new)
    elif how == "replace":
        (tmp_path / "new.jsonl").write_bytes(new)
        (tmp_path / "new.jsonl").replace(path)
    else:                                       # rewritten in place, longer than before
        path.write_bytes(new)
    items = follower.poll()
    assert isinstance(items[0], Started) and items[0].again and items[0].specs[0].name == "second"
    assert steps(items) == [0, 1, 2]


def test_a_file_that_is_not_a_run_fails_once_naming_it(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("shopping list\n")
    follower = Follower(path)
    items = follower.poll()
    assert len(items) == 1 and isinstance(items[0], Failed) and str(path) in items[0].message
    assert follower.poll() == []


def test_a_silent_writer_is_told_apart_from_an_ended_one(tmp_path, hold_as_writer):
    now = [0.0]
    path = tmp_path / "run.jsonl"
    path.write_bytes(header() + step_line(0))
    hold_as_writer(path)
    specs, files = plan([path], clock=lambda: now[0])
    board = Board(specs, 0)
    runner = FollowRunner(files, board, silent_after=5.0)
    runner.poll()
    now[0] = 12.4
    runner.poll()
    net = board.snapshot().nets[0]
    assert net.state == "silent" and net.message == "no new data for 12 s"
    append(path, step_line(1))
    runner.poll()
    assert board.snapshot().nets[0].state == "running" and not runner.all_ended
    append(path, b'{"type": "end", "status": "complete", "elapsed": 1.0}\n')
    runner.poll()
    assert board.snapshot().nets[0].state == "done" and runner.all_ended


def test_one_bad_file_shows_its_error_and_the_others_go_on(tmp_path):
    good, bad, late = tmp_path / "good.jsonl", tmp_path / "bad.jsonl", tmp_path / "late.jsonl"
    good.write_bytes(header() + step_line(0))
    bad.write_text("not json\n")
    specs, files = plan([good, bad, late])
    board = Board(specs, 0)
    runner = FollowRunner(files, board)
    runner.poll()
    nets = board.snapshot().nets
    assert [net.state for net in nets] == ["running", "error", "waiting"]
    assert str(bad) in nets[1].message and f"waiting for {late}" in nets[2].message
    assert nets[0].latest.step == 0 and nets[0].spec.layer_names == tuple(LAYERS)


def test_every_layer_is_shown_unless_a_selection_is_asked_which_keeps_the_first_and_last():
    """A deep model's panel is a heatmap of every layer; --layers picks some."""
    assert select(4, None) == (0, 1, 2, 3)
    assert select(50, None) == tuple(range(50))
    assert select(50, parse_layers("0,1,mid,-2,-1")) == (0, 1, 25, 48, 49)
    assert select(50, parse_layers("3,mid")) == (0, 3, 25, 49)
    assert select(50, parse_layers("all")) == tuple(range(50))
    with pytest.raises(InputError, match="'x'"):
        parse_layers("0,x")


def test_a_deep_models_records_reach_the_board_projected(tmp_path):
    names = [f"layers.{i}" for i in range(12)]
    path = tmp_path / "deep.jsonl"
    with vgrad.Recorder(path, names) as recorder:
        recorder.log(0, speed=[float(i + 1) for i in range(12)])
    specs, files = plan([path], "0,1,mid,-2,-1")
    board = Board(specs, 0)
    FollowRunner(files, board, layers="0,1,mid,-2,-1").poll()
    net = board.snapshot().nets[0]
    assert net.spec.layer_names == ("layers.0", "layers.1", "layers.6", "layers.10", "layers.11")
    assert net.spec.title.endswith("5 of 12 layers") and net.latest.speed == (1.0, 2.0, 7.0, 11.0, 12.0)


def test_more_than_four_panels_are_refused(tmp_path):
    paths = [tmp_path / f"{i}.jsonl" for i in range(5)]
    with pytest.raises(InputError, match="at most 4"):
        plan(paths)


def test_a_growing_file_is_told_from_a_finished_one_by_its_age_where_no_lock_tells(tmp_path):
    path = tmp_path / "run.jsonl"
    path.write_bytes(header())
    assert still_growing(path, has_end=False, locked=False) and not still_growing(path, has_end=True, locked=False)
    assert not still_growing(path, has_end=False, locked=False, now=time.time() + 60)


def test_a_vgrad_writers_file_grows_while_its_writer_holds_the_lock_however_old(tmp_path):
    path = tmp_path / "run.jsonl"
    fd = claim_output(path, "run file").descriptor()   # the lock every vgrad writer takes
    os.write(fd, header())
    an_hour_later = time.time() + 3600
    if writer_holds(path) is None:
        pytest.skip("this kernel does not list the file's locks (not Linux, or a shared filesystem)")
    assert still_growing(path, has_end=False, now=an_hour_later)   # a slow writer, still there
    os.close(fd)
    assert not still_growing(path, has_end=False)                  # just written, but nobody holds it


def wait_until(condition, timeout=30.0):
    """Poll `condition` until it holds; the deadline only guards against a hang."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.01)


def test_a_writer_thread_feeds_the_board_record_by_record(tmp_path):
    path = tmp_path / "live.jsonl"
    specs, files = plan([path])
    board = Board(specs, 0)
    runner = FollowRunner(files, board, poll_seconds=0.01)
    runner.start()
    go, written = threading.Semaphore(0), threading.Semaphore(0)

    def writer():
        with vgrad.Recorder(path, LAYERS) as recorder:
            for step in range(3):
                go.acquire()
                recorder.log(step, speed=[0.1, 0.2, 0.3, 0.4])
                written.release()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for step in range(3):
            go.release()
            written.acquire()
            wait_until(lambda s=step: (board.snapshot().nets[0].latest or StepRecord(0, 0, -1, (), (), 0)).step == s)
        thread.join()
        wait_until(lambda: runner.all_ended)
        assert board.snapshot().nets[0].state == "done"
    finally:
        runner.stop()
        runner.join()


def poll_within(follower, timeout=30.0):
    """follower.poll() on a thread: the deadline only guards against a poll that blocks for ever."""
    result = []
    thread = threading.Thread(target=lambda: result.append(follower.poll()), daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "poll blocked"
    return result[0]


def test_a_fifo_is_refused_at_once_never_opened(tmp_path):
    """open() on a FIFO blocks until a writer comes: a watch on one froze every panel."""
    fifo = tmp_path / "run.jsonl"
    os.mkfifo(fifo)
    items = poll_within(Follower(fifo))
    assert len(items) == 1 and isinstance(items[0], Failed)
    assert items[0].message == f"run file {fifo}: is a FIFO, not a run file"


def test_a_followed_symlink_retargeted_to_a_fifo_fails_without_blocking(tmp_path):
    run, fifo, link = tmp_path / "run.jsonl", tmp_path / "pipe", tmp_path / "link.jsonl"
    run.write_bytes(header() + step_line(0))
    os.mkfifo(fifo)
    link.symlink_to(run)
    follower = Follower(link)
    assert steps(poll_within(follower)) == [0]
    link.unlink()
    link.symlink_to(fifo)
    items = poll_within(follower)
    assert [type(item) for item in items] == [Failed] and "FIFO" in items[0].message
    assert poll_within(follower) == []                      # said once


def test_a_folder_is_named_as_one(tmp_path):
    items = Follower(tmp_path).poll()
    assert [item.message for item in items] == [f"run file {tmp_path}: is a folder, not a run file"]


def test_a_file_rewritten_in_place_with_the_same_header_is_a_new_run(tmp_path):
    """The same model run again into the same file: never a continuation of the old run."""
    path = tmp_path / "run.jsonl"
    path.write_bytes(header() + step_line(0) + step_line(1))
    follower = Follower(path)
    assert steps(follower.poll()) == [0, 1]
    with open(path, "r+b") as file:                   # same inode, same header, longer than before
        file.write(header() + step_line(0, value=0.25) + step_line(1, value=0.25) + step_line(2, value=0.25))
    items = follower.poll()
    assert isinstance(items[0], Started) and items[0].again
    assert steps(items) == [0, 1, 2] and {item.speed[0] for item in items if isinstance(item, StepRecord)} == {0.25}


def test_a_read_error_mid_follow_fails_naming_the_file(tmp_path, monkeypatch):
    path = tmp_path / "run.jsonl"
    path.write_bytes(header() + step_line(0))
    follower = Follower(path)
    assert steps(follower.poll()) == [0]
    append(path, step_line(1))

    def broken(size=-1):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(follower._file, "read", broken)
    items = follower.poll()
    assert [item.message for item in items] == [f"run file {path}: cannot read (Input/output error)"]


def test_a_step_shorter_than_the_layers_is_a_damaged_line_not_an_index_error(tmp_path):
    """Twelve layers shown as 0,1,mid,-2,-1: a record with one neuron list once raised IndexError
    in the poller (the watch dashboard froze without a word)."""
    names = [f"l{i}" for i in range(12)]
    path = tmp_path / "run.jsonl"
    short = json.dumps({"type": "step", "net": 0, "step": 1, "speed": [0.5] * 12, "neurons": [[0.1]],
                        "cost": 1.0}).encode() + b"\n"
    path.write_bytes(header(names) + step_line(0, layers=12) + short)
    specs, files = plan([path])
    board = Board(specs, 0)
    runner = FollowRunner(files, board)
    runner.poll()
    net = board.snapshot().nets[0]
    assert net.state == "error" and net.latest.step == 0
    assert net.message == f"run file {path}: line 3 has 1 neuron lists for a net with 12 layers"


def test_a_fault_while_polling_is_shown_on_every_panel_not_a_silently_dead_poller(tmp_path, monkeypatch):
    path = tmp_path / "run.jsonl"
    path.write_bytes(header() + step_line(0))
    specs, files = plan([path])
    board = Board(specs, 0)
    runner = FollowRunner(files, board)

    def fault():
        raise RuntimeError("injected")

    monkeypatch.setattr(files[0].follower, "poll", fault)
    files[0].pending = []
    runner._tick(0.05)
    net = board.snapshot().nets[0]
    assert net.state == "error" and net.message == "watch stopped reading: RuntimeError: injected"
    assert runner.crash == net.message


def test_a_poll_reads_a_bounded_amount_and_the_next_one_goes_on(tmp_path, monkeypatch):
    """A writer faster than the reader (or a huge backlog) once kept one poll reading for ever."""
    monkeypatch.setattr(tail, "READ_BUDGET", 64)
    monkeypatch.setattr(tail, "POLL_BUDGET", 256)
    path = tmp_path / "run.jsonl"
    path.write_bytes(header() + b"".join(step_line(number) for number in range(20)))
    follower = Follower(path)
    polls = [steps(follower.poll()) for _ in range(40)]
    assert 1 < sum(bool(poll) for poll in polls) and sum(polls, []) == list(range(20))


def test_a_file_cut_short_long_ago_is_silent_since_its_last_change_not_still_written(tmp_path, hold_as_writer):
    """A file with no end line, unchanged for an hour: replay does not call it still being written
    when no writer holds it; watch shows it silent for the hour at its first poll while a writer
    holds it, never running."""
    path = tmp_path / "run.jsonl"
    path.write_bytes(header() + step_line(0))
    an_hour_ago = time.time() - 3600
    os.utime(path, (an_hour_ago, an_hour_ago))
    assert not still_growing(path, has_end=False)
    hold_as_writer(path)
    specs, files = plan([path])
    board = Board(specs, 0)
    runner = FollowRunner(files, board, silent_after=5.0)
    runner.poll()
    net = board.snapshot().nets[0]
    assert net.latest is not None and net.state == "silent"
    assert net.message.startswith("no new data for 3") and int(net.message.split()[4]) >= 3600


def test_a_quiet_file_no_writer_holds_is_ended_as_gone_and_followed_again_if_it_grows(tmp_path):
    """A writer killed with no end line (SIGKILL): once the file is quiet and nobody holds its lock,
    its panel says the writer is gone and the follow ends (watch --no-ui returns); a file that
    grows again is followed again."""
    if writer_holds(tmp_path) is None:
        pytest.skip("this kernel does not list the file's locks (not Linux, or a shared filesystem)")
    path = tmp_path / "run.jsonl"
    path.write_bytes(header() + step_line(0))
    specs, files = plan([path])
    board = Board(specs, 0)
    runner = FollowRunner(files, board, silent_after=0.0)
    runner.poll()   # the header and first record
    runner.poll()   # nothing new: quiet, and nobody holds it
    net = board.snapshot().nets[0]
    assert net.state == "stopped" and net.message == WRITER_GONE and runner.all_ended
    append(path, step_line(1))
    runner.poll()
    net = board.snapshot().nets[0]
    assert net.state == "running" and net.latest.step == 1 and not runner.all_ended
    unlocked = tmp_path / "other.jsonl"   # a file some other program writes: no lock to tell by
    unlocked.write_bytes(header().replace(b'"vgrad": "x", ', b"") + step_line(0))
    specs, files = plan([unlocked])
    runner = FollowRunner(files, Board(specs, 0), silent_after=0.0)
    runner.poll()
    runner.poll()
    assert not runner.all_ended and runner.board.snapshot().nets[0].state == "silent"


def test_an_empty_file_nobody_holds_is_ended_one_a_writer_holds_is_waited_for(tmp_path, hold_as_writer):
    """Every vgrad writer locks its file before writing its header: an empty, quiet file nobody
    holds has no writer coming; one a writer holds (a Recorder whose first record has not come) is
    waited for, and said so, not "waiting for it to appear"."""
    if writer_holds(tmp_path) is None:
        pytest.skip("this kernel does not list the file's locks (not Linux, or a shared filesystem)")
    held, left = tmp_path / "held.jsonl", tmp_path / "left.jsonl"
    held.write_bytes(b"")
    left.write_bytes(b"")
    hold_as_writer(held)
    specs, files = plan([held, left])
    board = Board(specs, 0)
    runner = FollowRunner(files, board, silent_after=0.0)
    assert [net.message for net in board.snapshot().nets] == [f"waiting for the first line of {held}",
                                                             f"waiting for the first line of {left}"]
    runner.poll()
    nets = board.snapshot().nets
    assert nets[0].state == "waiting" and nets[1].state == "stopped"
    assert nets[1].message == "left.jsonl is empty and no writer holds it" and not runner.all_ended
