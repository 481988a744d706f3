"""Hostile files: outputs never destroy data or hang, inputs are bounded and regular."""

import gzip
import os
import threading

import pytest

from vgrad.core.errors import InputError
from vgrad.core.guard import claim_output, gunzip, read_regular


def test_an_output_is_created_empty_and_refused_if_it_exists(tmp_path):
    target = tmp_path / "run.jsonl"
    output = claim_output(target, "--record")
    assert target.exists() and output.created
    output.abandon()
    assert not target.exists(), "a claim abandoned before writing leaves nothing behind"
    target.write_text("an old recording")
    with pytest.raises(InputError, match="--record .*exists; .*--force"):
        claim_output(target, "--record")
    assert target.read_text() == "an old recording"


def test_force_overwrites_an_existing_file_and_abandoning_keeps_it(tmp_path):
    target = tmp_path / "run.jsonl"
    target.write_text("old")
    output = claim_output(target, "--record", force=True)
    with output.text() as file:
        file.write("new")
    assert target.read_text() == "new"
    claim_output(target, "--record", force=True).abandon()
    assert target.exists()


def test_a_second_writer_of_one_file_is_refused(tmp_path):
    target = tmp_path / "run.jsonl"
    first = claim_output(target, "--record")
    with pytest.raises(InputError, match="another vgrad writer has it open"):
        claim_output(target, "--record", force=True)
    with first.text() as file:
        file.write("x")
    assert target.read_text() == "x"


def test_an_output_that_is_an_input_or_another_output_is_refused(tmp_path):
    data = tmp_path / "mnist.npz"
    data.write_bytes(b"data")
    with pytest.raises(InputError, match="is also an input"):
        claim_output(tmp_path / "." / "mnist.npz", "--csv", force=True, inputs=(data,))
    first = claim_output(tmp_path / "run.out", "--record")
    with pytest.raises(InputError, match="is also another output"):
        claim_output(tmp_path / "run.out", "--csv", force=True, claimed=(first,))
    assert data.read_bytes() == b"data"


@pytest.mark.parametrize("make, kind", [
    (lambda p: os.mkfifo(p), "a FIFO"),
    (lambda p: p.mkdir(), "a folder"),
    (lambda p: p.symlink_to("/dev/null"), "a device"),
    (lambda p: p.symlink_to(p.parent / "nowhere"), "a link to nothing"),
])
def test_special_files_are_refused_as_outputs_even_with_force(tmp_path, make, kind):
    target = tmp_path / "out.jsonl"
    make(target)
    with pytest.raises(InputError, match=kind):
        claim_output(target, "-o", force=True)
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("name, reason", [
    ("x" * 300 + ".png", "too long"),
    ("no/such/folder/x.png", "No such file"),
])
def test_unwritable_names_are_one_line_reasons(tmp_path, name, reason):
    with pytest.raises(InputError, match=reason):
        claim_output(tmp_path / name, "-o")


@pytest.mark.parametrize("make, kind", [
    (lambda p: os.mkfifo(p), "a FIFO"),
    (lambda p: p.symlink_to("/dev/zero"), "a device"),
    (lambda p: p.mkdir(), "a folder"),
])
def test_inputs_must_be_regular_files_so_nothing_hangs_or_never_ends(tmp_path, make, kind):
    source = tmp_path / "mnist.pkl.gz"
    make(source)
    result = []
    reader = threading.Thread(target=lambda: result.append(_refusal(source)), daemon=True)
    reader.start()
    reader.join(10)
    assert result and kind in result[0]


def _refusal(path):
    try:
        read_regular(path, "data file")
    except InputError as error:
        return str(error)
    return "read"


def test_an_input_larger_than_its_limit_is_refused(tmp_path):
    source = tmp_path / "run.jsonl"
    source.write_bytes(b"x" * 100)
    assert read_regular(source, "run file", limit=100) == b"x" * 100
    with pytest.raises(InputError, match="more than the 99 bytes"):
        read_regular(source, "run file", limit=99)


def test_gunzip_stops_past_the_expected_size():
    bomb = gzip.compress(bytes(10_000_000))  # 10 MB of zeros in about 10 KB
    assert len(bomb) < 20_000
    with pytest.raises(InputError, match="more than the 1000 bytes expected"):
        gunzip(bomb, 1000, "data file x")
    two_members = gzip.compress(b"ab") + gzip.compress(b"cd")
    assert gunzip(two_members, 4, "x") == b"abcd"
    with pytest.raises(InputError, match="cut short"):
        gunzip(two_members[:-9], 4, "x")


def test_a_file_this_claim_made_but_another_writer_locked_first_is_left_to_that_writer(tmp_path, monkeypatch):
    """Two writers start at once: this one creates the file, the other opens and locks it first.
    This claim is refused, and must not remove the file the other one is now writing."""
    import fcntl
    import os

    target = tmp_path / "run.jsonl"
    real_flock, other = fcntl.flock, []

    def the_other_writer_wins(fd, operation):
        other.append(os.open(target, os.O_WRONLY))
        real_flock(other[0], fcntl.LOCK_EX | fcntl.LOCK_NB)
        return real_flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", the_other_writer_wins)
    with pytest.raises(InputError, match="another vgrad writer has it open"):
        claim_output(target, "--record")
    assert target.exists()
    os.close(other[0])
