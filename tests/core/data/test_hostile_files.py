"""Hostile data files: refused in bounded time and memory, with one line naming the file; any
IDX dimensions or npz shape (fuzzed) is loaded or refused, never another exception."""

import gzip
import io
import os
import struct
import threading
import zipfile

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vgrad.core.data import load_dataset
from vgrad.core.errors import InputError


def refusal(source) -> str:
    """The InputError load_dataset raises, within 20 s (a FIFO must not hang it)."""
    found = []

    def load():
        try:
            load_dataset(str(source))
            found.append("loaded")
        except InputError as error:
            found.append(str(error))

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(20)
    assert found, f"loading {source} hung"
    return found[0]


def test_a_fifo_as_data_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "mnist.npz"
    os.mkfifo(fifo)
    assert "is a FIFO, not a regular file" in refusal(fifo)


def test_a_link_to_a_device_named_like_a_pickle_is_refused(tmp_path):
    (tmp_path / "mnist.pkl.gz").symlink_to("/dev/zero")
    assert "is a device, not a regular file" in refusal(tmp_path / "mnist.pkl.gz")


def idx_images(n: int, rows: int, cols: int, body: bytes) -> bytes:
    return struct.pack(">iiii", 0x803, n, rows, cols) + body


def idx_folder(folder, train_images: bytes) -> None:
    """The four IDX files, the training images as given, the rest 10 and 1 valid entries."""
    (folder / "train-images-idx3-ubyte.gz").write_bytes(train_images)
    (folder / "train-labels-idx1-ubyte").write_bytes(struct.pack(">ii", 0x801, 10) + bytes(10))
    (folder / "t10k-images-idx3-ubyte").write_bytes(idx_images(1, 28, 28, bytes(784)))
    (folder / "t10k-labels-idx1-ubyte").write_bytes(struct.pack(">ii", 0x801, 1) + bytes(1))


def test_a_gzip_bomb_stops_at_the_size_its_header_promises(tmp_path):
    """10 images of 28 x 28 promised, 100 MB of zeros inside a 100 KB gzip."""
    idx_folder(tmp_path, gzip.compress(idx_images(10, 28, 28, bytes(100_000_000)), compresslevel=1))
    reason = refusal(tmp_path / "train-images-idx3-ubyte.gz")
    assert f"decompresses to more than the {16 + 10 * 28 * 28} bytes expected" in reason


def test_an_idx_header_claiming_more_than_memory_is_refused_before_reading(tmp_path):
    idx_folder(tmp_path, gzip.compress(idx_images(2**31 - 1, 2**15, 2**15, b"")))
    assert "GiB available" in refusal(tmp_path / "train-images-idx3-ubyte.gz")


def npy(shape, dtype, body: bytes) -> bytes:
    """A .npy member whose header says `shape` and whose data is `body`, whatever its size."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": np.dtype(dtype).str, "fortran_order": False,
                                                  "shape": shape})
    return buffer.getvalue() + body


def test_an_npz_header_claiming_10_to_the_12_images_is_refused(tmp_path):
    path = tmp_path / "mnist.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x_train.npy", npy((10**12, 28, 28), np.uint8, bytes(784)))
        archive.writestr("y_train.npy", npy((1,), np.int64, bytes(8)))
        archive.writestr("x_test.npy", npy((1, 28, 28), np.uint8, bytes(784)))
        archive.writestr("y_test.npy", npy((1,), np.int64, bytes(8)))
    assert "x_train.npy claims shape (1000000000000, 28, 28)" in refusal(path)


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
DIM = st.integers(-2**31, 2**31 - 1)


def loads_or_refuses(source) -> None:
    try:
        load_dataset(str(source))
    except InputError as error:
        assert "\n" not in str(error)


@SETTINGS
@given(magic=st.sampled_from([0x803, 0x801, 0x0]), dims=st.tuples(DIM, DIM, DIM),
       body=st.binary(max_size=64), zipped=st.booleans())
def test_any_idx_images_header_is_loaded_or_refused(tmp_path_factory, magic, dims, body, zipped):
    folder = tmp_path_factory.mktemp("idx")
    raw = struct.pack(">iiii", magic, *dims) + body
    idx_folder(folder, gzip.compress(raw) if zipped else raw)
    loads_or_refuses(folder)


@SETTINGS
@given(shape=st.lists(st.integers(0, 2**40), min_size=0, max_size=4).map(tuple),
       dtype=st.sampled_from([np.uint8, np.float64, np.int64]), body=st.binary(max_size=64))
def test_any_npz_array_header_is_loaded_or_refused(tmp_path_factory, shape, dtype, body):
    path = tmp_path_factory.mktemp("npz") / "mnist.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x_train.npy", npy(shape, dtype, body))
        archive.writestr("y_train.npy", npy((1,), np.int64, bytes(8)))
        archive.writestr("x_test.npy", npy((1, 28, 28), np.uint8, bytes(784)))
        archive.writestr("y_test.npy", npy((1,), np.int64, bytes(8)))
    loads_or_refuses(path)
