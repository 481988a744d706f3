"""Full MNIST from the user's disk: an IDX folder, keras `mnist.npz`, or the book's `mnist.pkl.gz`.

Nothing is downloaded. Every bad input raises `InputError` with a one-line reason naming the file.
"""

from __future__ import annotations

import gzip
import io
import math
import pickle
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from vgrad.core.data.dataset import PIXEL_DTYPE, Dataset, make_dataset, reason, scale_uint8
from vgrad.core.errors import InputError
from vgrad.core.guard import check_fits, gunzip, read_regular

IDX_IMAGES_MAGIC = 0x00000803
IDX_LABELS_MAGIC = 0x00000801
IDX_FILES = {
    "train_x": "train-images-idx3-ubyte",
    "train_y": "train-labels-idx1-ubyte",
    "test_x": "t10k-images-idx3-ubyte",
    "test_y": "t10k-labels-idx1-ubyte",
}
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
PICKLE_SUFFIXES = (".pkl", ".pkl.gz", ".pickle", ".pickle.gz")
MAX_DATA_BYTES = 2**31  # 2 GiB, raw or decompressed: full MNIST is 55 MB of IDX, 220 MB of pickle
UNKNOWN_FORMAT = "unknown format (expected an IDX folder, mnist.npz or mnist.pkl.gz)"




def load_folder(folder: Path, name: str) -> Dataset:
    """A folder of the four IDX files; failing that, a lone mnist.npz or mnist.pkl.gz inside."""
    found = {key: _find_idx(folder, base) for key, base in IDX_FILES.items()}
    if not any(found.values()):
        for single in ("mnist.npz", "mnist.pkl.gz", "mnist.pkl"):
            if (folder / single).is_file():
                return load_file(folder / single, name)
        raise InputError(
            f"data folder {folder}: no MNIST files (expected the four IDX files such as "
            f"{IDX_FILES['train_x']}[.gz], or mnist.npz, or mnist.pkl.gz)"
        )
    paths = {key: path for key, path in found.items() if path is not None}
    for key in IDX_FILES:
        if key not in paths:
            raise InputError(f"data folder {folder}: missing {IDX_FILES[key]}[.gz]")
    train_x = _read_idx_images(paths["train_x"])
    train_y = _read_idx_labels(paths["train_y"])
    test_x = _read_idx_images(paths["test_x"])
    test_y = _read_idx_labels(paths["test_y"])
    for images, labels, ipath, lpath in (
        (train_x, train_y, paths["train_x"], paths["train_y"]),
        (test_x, test_y, paths["test_x"], paths["test_y"]),
    ):
        if images.shape[0] != labels.shape[0]:
            raise InputError(
                f"data file {lpath}: {labels.shape[0]} labels "
                f"but {ipath.name} holds {images.shape[0]} images"
            )
    if test_x.shape[1:] != train_x.shape[1:]:
        raise InputError(
            f"data file {found['test_x']}: images are {_hw(test_x)}, "
            f"but the training images are {_hw(train_x)}"
        )
    return make_dataset(name, scale_uint8(_flat(train_x)), train_y, scale_uint8(_flat(test_x)), test_y)


def _idx_names(base: str) -> tuple[str, ...]:
    """Accepted spellings of one IDX file: dashed or dotted, raw or .gz."""
    dotted = base.replace("-idx", ".idx")
    return (base, base + ".gz", dotted, dotted + ".gz")


def _find_idx(folder: Path, base: str) -> Path | None:
    """The first existing spelling of `base` in `folder`, or None."""
    for candidate in _idx_names(base):
        if (folder / candidate).is_file():
            return folder / candidate
    return None


def _read_bytes(path: Path, limit: int = MAX_DATA_BYTES) -> bytes:
    """A regular file's bytes, gunzipped (to at most `limit` bytes) if it starts with the gzip magic."""
    raw = read_regular(path, "data file", MAX_DATA_BYTES)
    return gunzip(raw, limit, f"data file {path}") if raw[:2] == GZIP_MAGIC else raw


def _read_idx(path: Path, magic: int, n_dims: int, what: str, decoded_bytes: int) -> tuple[bytes, tuple[int, ...]]:
    """An IDX file's bytes and dimensions; the body is decompressed only up to the size the
    header promises, after checking that the decoded arrays fit in memory."""
    raw = read_regular(path, "data file", MAX_DATA_BYTES)
    header_len = 4 + 4 * n_dims
    zipped = raw[:2] == GZIP_MAGIC
    try:
        head = zlib.decompressobj(wbits=31).decompress(raw, header_len) if zipped else raw[:header_len]
    except zlib.error as exc:
        raise InputError(f"data file {path}: corrupt gzip ({reason(exc)})") from exc
    dims = _idx_header(path, head, magic, n_dims, what)
    body = math.prod(dims)
    check_fits(body * (1 + decoded_bytes), f"data file {path} ({' x '.join(map(str, dims))} {what})")
    return (gunzip(raw, header_len + body, f"data file {path}") if zipped else raw), dims


def _idx_header(path: Path, data: bytes, magic: int, n_dims: int, what: str) -> tuple[int, ...]:
    """Check the magic number and return the header's dimensions (big-endian int32s)."""
    header_len = 4 + 4 * n_dims
    if len(data) < header_len:
        raise InputError(
            f"data file {path}: truncated (IDX header needs {header_len} bytes, found {len(data)})"
        )
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise InputError(
            f"data file {path}: not an IDX {what} file "
            f"(magic 0x{found:08x}, expected 0x{magic:08x})"
        )
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">i4", count=n_dims, offset=4))
    if any(d < 0 for d in dims):
        raise InputError(f"data file {path}: negative size in IDX header {dims}")
    return dims


def _idx_body(path: Path, data: bytes, offset: int, expected: int, what: str) -> np.ndarray:
    """The uint8 payload after the header, checked against the length the header promises."""
    found = len(data) - offset
    if found < expected:
        raise InputError(
            f"data file {path}: truncated (expected {expected} bytes of {what}, found {found})"
        )
    if found > expected:
        raise InputError(
            f"data file {path}: {found - expected} extra bytes after {expected} bytes of {what}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=offset)


def _read_idx_images(path: Path) -> np.ndarray:
    """An IDX3 images file -> (n, rows, cols) uint8."""
    data, (n, rows, cols) = _read_idx(path, IDX_IMAGES_MAGIC, 3, "images", PIXEL_DTYPE().itemsize)
    if n == 0 or rows == 0 or cols == 0:
        raise InputError(f"data file {path}: no images (header says {n} x {rows} x {cols})")
    return _idx_body(path, data, 16, n * rows * cols, "pixels").reshape(n, rows, cols)


def _read_idx_labels(path: Path) -> np.ndarray:
    """An IDX1 labels file -> (n,) int64 labels in 0..9."""
    data, (n,) = _read_idx(path, IDX_LABELS_MAGIC, 1, "labels", np.dtype(np.int64).itemsize)
    labels = _idx_body(path, data, 8, n, "labels").astype(np.int64)
    _check_labels(path, labels, "labels")
    return labels


def load_file(path: Path, name: str) -> Dataset:
    """One file, recognised by content (zip, gzip, IDX, pickle) and then by name."""
    head = read_regular(path, "data file", MAX_DATA_BYTES)[:4]  # a FIFO or device is refused here
    lower = path.name.lower()
    is_idx_name = any(lower in _idx_names(base) for base in IDX_FILES.values())
    if head == ZIP_MAGIC:
        return _load_npz(path, name)
    if lower.endswith(".npz"):
        raise InputError(f"data file {path}: not an .npz archive (no zip header)")
    if head[:2] == GZIP_MAGIC:
        head = _gunzip_head(path)
    if is_idx_name or head[:3] == b"\x00\x00\x08":
        return load_folder(path.parent, name)
    if lower.endswith(PICKLE_SUFFIXES) or head[:1] == b"\x80":
        return _load_pkl(path, name)
    raise InputError(f"data file {path}: {UNKNOWN_FORMAT}")


def _gunzip_head(path: Path) -> bytes:
    """The first 4 bytes of a gzip file's content."""
    try:
        with gzip.open(path, "rb") as f:
            return f.read(4)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"data file {path}: corrupt gzip ({reason(exc)})") from exc


def _load_npz(path: Path, name: str) -> Dataset:
    """keras `mnist.npz`: x_train (n, 28, 28) uint8, y_train (n,), x_test, y_test."""
    _check_npz_headers(path)
    try:
        npz = np.load(path, allow_pickle=False)
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error) as exc:
        raise InputError(f"data file {path}: not a readable .npz ({reason(exc)})") from exc
    with npz:
        missing = [k for k in NPZ_KEYS if k not in npz.files]
        if missing:
            raise InputError(f"data file {path}: missing key {missing[0]!r}")
        try:
            arrays = {k: npz[k] for k in NPZ_KEYS}
        except (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error) as exc:
            raise InputError(f"data file {path}: corrupt .npz ({reason(exc)})") from exc
    a = arrays
    train_x, train_y = _images_labels(path, a["x_train"], a["y_train"], "x_train", "y_train")
    test_x, test_y = _images_labels(path, a["x_test"], a["y_test"], "x_test", "y_test")
    _check_same_width(path, train_x, test_x, "x_train", "x_test")
    return make_dataset(name, train_x, train_y, test_x, test_y)


def _check_npz_headers(path: Path) -> None:
    """Each array's header against the bytes its member holds and the memory available, before
    numpy allocates what the header claims (10¹² images would be a MemoryError)."""
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.file_size > MAX_DATA_BYTES:
                    raise InputError(f"data file {path}: {info.filename} holds {info.file_size} bytes, "
                                     f"more than the {MAX_DATA_BYTES} allowed")
                with archive.open(info) as member:
                    read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                                   (2, 0): np.lib.format.read_array_header_2_0}.get(np.lib.format.read_magic(member))
                    if read_header is None:
                        raise ValueError(f"{info.filename}: unsupported .npy version")
                    shape, _, dtype = read_header(member)
                claimed = math.prod(shape) * dtype.itemsize
                if claimed > info.file_size:
                    raise InputError(f"data file {path}: {info.filename} claims shape {shape} of {dtype} "
                                     f"({claimed} bytes) but holds {info.file_size} bytes")
                check_fits(claimed, f"data file {path} ({info.filename}, shape {shape})")
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"data file {path}: not a readable .npz ({reason(exc)})") from exc


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """An unpickler that builds numpy arrays and nothing else (a pickle can run any code)."""

    ALLOWED = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} (only numpy arrays)")
        return super().find_class(module, name)


def _load_pkl(path: Path, name: str) -> Dataset:
    """The book's `mnist.pkl.gz`: (train, validation, test), each (x (n, 784) float, y (n,)).

    Train = the 50000 training rows, test = the 10000 test rows; validation is ignored.
    """
    data = _read_bytes(path)
    try:
        obj = _NumpyOnlyUnpickler(io.BytesIO(data), encoding="latin1").load()
    except Exception as exc:  # unpickling bad bytes can raise almost any exception type
        raise InputError(f"data file {path}: not a readable pickle ({reason(exc)})") from exc
    layout = "expected (training, validation, test), each (images, labels)"
    if not (isinstance(obj, (tuple, list)) and len(obj) == 3):
        raise InputError(f"data file {path}: wrong structure ({layout})")
    for part, label in zip(obj, ("training", "validation", "test")):
        if not (isinstance(part, (tuple, list)) and len(part) == 2):
            raise InputError(f"data file {path}: wrong structure in {label} part ({layout})")
    (tx, ty), _, (sx, sy) = obj
    train_x, train_y = _images_labels(path, tx, ty, "training images", "training labels")
    test_x, test_y = _images_labels(path, sx, sy, "test images", "test labels")
    _check_same_width(path, train_x, test_x, "training images", "test images")
    return make_dataset(name, train_x, train_y, test_x, test_y)



# ---------------------------------------------------------------- shared checks


def _images_labels(
    path: Path, x: object, y: object, x_name: str, y_name: str
) -> tuple[np.ndarray, np.ndarray]:
    """Validate one (images, labels) pair: ((n, n_inputs) float64 in [0, 1], (n,) int64)."""
    if not isinstance(x, np.ndarray) or x.ndim not in (2, 3) or x.shape[0] == 0 or x.size == 0:
        shape = getattr(x, "shape", type(x).__name__)
        raise InputError(
            f"data file {path}: {x_name} has shape {shape} (expected (n, 28, 28) or (n, 784))"
        )
    if not isinstance(y, np.ndarray) or y.ndim != 1 or y.shape[0] != x.shape[0]:
        shape = getattr(y, "shape", type(y).__name__)
        raise InputError(f"data file {path}: {y_name} has shape {shape} (expected ({x.shape[0]},))")
    if not (np.issubdtype(y.dtype, np.integer) or _is_integral_float(y)):
        raise InputError(f"data file {path}: {y_name} are {y.dtype}, not integers")
    labels = y.astype(np.int64)
    _check_labels(path, labels, y_name)
    return _scale_pixels(path, _flat(x), x_name), labels


def _is_integral_float(y: np.ndarray) -> bool:
    """True for float labels that are whole numbers."""
    if not np.issubdtype(y.dtype, np.floating):
        return False
    return bool(np.all(np.isfinite(y)) and np.all(y == np.round(y)))


def _check_labels(path: Path, labels: np.ndarray, what: str) -> None:
    """Labels must be digits 0..9."""
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise InputError(
            f"data file {path}: {what} outside 0..9 (found {labels.min()}..{labels.max()})"
        )


def _check_same_width(path: Path, train_x: np.ndarray, test_x: np.ndarray, a: str, b: str) -> None:
    """Train and test images must have the same number of pixels."""
    if train_x.shape[1] != test_x.shape[1]:
        raise InputError(
            f"data file {path}: {a} have {train_x.shape[1]} pixels but {b} have {test_x.shape[1]}"
        )


def _scale_pixels(path: Path, x: np.ndarray, what: str) -> np.ndarray:
    """uint8 pixels -> x/256; floats must already lie in [0, 1]."""
    if x.dtype == np.uint8:
        return scale_uint8(x)
    if np.issubdtype(x.dtype, np.integer):
        if x.min() < 0 or x.max() > 255:
            raise InputError(f"data file {path}: {what} outside 0..255")
        return scale_uint8(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise InputError(f"data file {path}: {what} are {x.dtype}, not pixels")
    out = np.ascontiguousarray(x, dtype=PIXEL_DTYPE)
    if not np.all(np.isfinite(out)) or out.min() < 0.0 or out.max() > 1.0:
        raise InputError(f"data file {path}: {what} must be finite and in [0, 1]")
    return out

def _flat(x: np.ndarray) -> np.ndarray:
    """(n, rows, cols) -> (n, rows*cols); (n, d) unchanged."""
    return x.reshape(x.shape[0], -1)


def _hw(x: np.ndarray) -> str:
    """'28x28' for an (n, 28, 28) stack."""
    return "x".join(str(d) for d in x.shape[1:])
