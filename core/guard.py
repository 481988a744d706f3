"""Guards against hostile files: inputs are regular files read within a size bound, outputs
are claimed (never truncated unasked, locked against a second writer), gzip stops at the size
the caller expects, and memory wanted is compared with what the machine has.

Every refusal is an InputError naming the file (exit code 2 in the CLI).
"""

from __future__ import annotations

import fcntl
import os
import stat
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO, TextIO

from vgrad.core.errors import InputError

GIB = 2**30


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _why(error: OSError) -> str:
    return error.strerror or str(error)


def open_regular(path: str | Path, what: str, limit: int | None = None) -> BinaryIO:
    """A regular file opened for reading in binary (never a FIFO, device or folder: those hang or
    never end), refused if larger than `limit` bytes."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(f"{what} {path}: no such file") from None
    except OSError as error:
        raise InputError(f"{what} {path}: cannot read ({_why(error)})") from error
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or (limit is not None and info.st_size > limit):
        os.close(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{what} {path}: is {_kind(info.st_mode)}, not a regular file")
        raise InputError(f"{what} {path}: {info.st_size} bytes, more than the {limit} bytes allowed")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def read_regular(path: str | Path, what: str, limit: int | None = None) -> bytes:
    """The bytes of a regular file (see open_regular), at most `limit` of them."""
    with open_regular(path, what, limit) as file:
        try:
            data = file.read() if limit is None else file.read(limit + 1)
        except OSError as error:
            raise InputError(f"{what} {path}: cannot read ({_why(error)})") from error
    if limit is not None and len(data) > limit:
        raise InputError(f"{what} {path}: more than the {limit} bytes allowed")
    return data


def gunzip(data: bytes, limit: int, what: str) -> bytes:
    """Decompress every gzip member of `data`, stopping (InputError) past `limit` bytes of output:
    a bomb is refused after `limit` bytes, not after filling memory."""
    out = bytearray()
    rest = data
    while rest[:2] == b"\x1f\x8b":
        inflater = zlib.decompressobj(wbits=31)
        try:
            out += inflater.decompress(rest, limit + 1 - len(out))
        except zlib.error as error:
            raise InputError(f"{what}: corrupt gzip ({error})") from None
        if len(out) > limit or inflater.unconsumed_tail:
            raise InputError(f"{what}: decompresses to more than the {limit} bytes expected")
        if not inflater.eof:
            raise InputError(f"{what}: corrupt gzip (the stream is cut short)")
        rest = inflater.unused_data
    return bytes(out)


def available_memory() -> int | None:
    """Bytes the machine can still give without swapping (MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


def check_fits(needed: int, what: str) -> None:
    """Refuse to allocate `needed` bytes when the machine has less available."""
    available = available_memory()
    if available is not None and needed > available:
        raise InputError(f"{what} needs about {needed / GIB:.1f} GiB; this machine has "
                         f"{available / GIB:.1f} GiB available")


def expand(path: str | Path, what: str) -> Path:
    """`path` with a leading ~ or ~user expanded; an unknown user is a one-line refusal."""
    try:
        return Path(path).expanduser()
    except RuntimeError:
        raise InputError(f"{what} {path}: no such user's home folder") from None


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


class Output:
    """An output file claimed before any work starts: created (or, with force, an existing regular
    file opened for overwriting), and locked so that a second vgrad writing it is refused."""

    def __init__(self, path: Path, fd: int, created: bool):
        self.path, self.created = path, created
        self.fd: int | None = fd  # None once handed over (or abandoned)

    def _hand_over(self) -> int:
        fd, self.fd = self.fd, None
        if fd is None:
            raise ValueError(f"{self.path}: already handed over")
        return fd

    def text(self) -> TextIO:
        """The claimed file as text, for line-by-line writers (closing it releases the lock)."""
        return os.fdopen(self._hand_over(), "w", newline="", encoding="utf-8")

    def descriptor(self) -> int:
        """The claimed file's descriptor, handed to a writer that closes it (closing releases the lock)."""
        return self._hand_over()

    def binary(self) -> BinaryIO:
        return os.fdopen(self._hand_over(), "wb")

    def abandon(self) -> None:
        """It is not to be written after all: close it, and remove it if this claim made it."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        if self.created:
            self.path.unlink(missing_ok=True)


LOCKED = "another vgrad writer has it open (--record, vgrad.Recorder or vgrad.watch, in this or another process)"


def claim_output(path: str | Path, what: str, *, force: bool = False,
                 inputs: Sequence[str | Path | None] = (), claimed: Sequence[Output] = (),
                 force_word: str = "--force") -> Output:
    """Claim `path` for writing, or raise InputError: it must not be an input or another output,
    a folder, FIFO, device or dangling link; an existing file needs `force` (`force_word` names
    it in the refusal). Every vgrad writer takes the same lock (flock on its own open of the
    file), so a second writer of one file, in this process or another, is refused before
    anything is truncated."""
    path = expand(path, what)
    for other in (*inputs, *(output.path for output in claimed)):
        if other is not None and _same(path, Path(other)):
            raise InputError(f"{what} {path}: is also {'an input' if other in inputs else 'another output'} "
                             "of this command")
    try:
        info = path.lstat()
    except FileNotFoundError:
        info = None
    except OSError as error:
        raise InputError(f"{what} {path}: cannot write ({_why(error)})") from error
    if info is not None and stat.S_ISLNK(info.st_mode):
        if not path.exists():
            raise InputError(f"{what} {path}: is a link to nothing ({os.readlink(path)}); "
                             "remove it or choose another name")
        info = path.stat()
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise InputError(f"{what} {path}: is {_kind(info.st_mode)}, not a regular file")
    if info is not None and not force:
        raise InputError(f"{what} {path}: exists; choose a new name or pass {force_word} to overwrite it")
    flags = os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if info is None:
        flags |= os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o666)
    except FileExistsError:
        raise InputError(f"{what} {path}: was just created by another process") from None
    except OSError as error:
        raise InputError(f"{what} {path}: cannot write ({_why(error)})") from error
    output = Output(path, fd, created=info is None)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped for a FIFO or device since lstat
            raise InputError(f"{what} {path}: is {_kind(os.fstat(fd).st_mode)}, not a regular file")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            output.created = False   # made by this claim, but the writer that locked it first owns it now
            raise InputError(f"{what} {path}: {LOCKED}") from None
        os.ftruncate(fd, 0)
        os.set_blocking(fd, True)
    except BaseException:
        output.abandon()  # a file this claim made is removed, an existing one kept
        raise
    return output


LOCAL_FILESYSTEMS = frozenset({"ext2", "ext3", "ext4", "xfs", "btrfs", "zfs", "f2fs", "bcachefs", "tmpfs",
                               "ramfs", "overlay", "vfat", "exfat", "ntfs", "ntfs3", "jfs", "reiserfs"})


def writer_holds(path: str | Path) -> bool | None:
    """Whether a vgrad writer still holds `path` (claim_output's lock), as the kernel lists the
    locks in /proc/locks; None where that cannot be known: not Linux, or a filesystem that may
    be shared with another host (a writer there holds a lock this kernel does not list)."""
    try:
        info = os.stat(path)
        device = f"{os.major(info.st_dev)}:{os.minor(info.st_dev)}"
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as mounts:
            kinds = {fields[2]: fields[fields.index("-") + 1] for line in mounts
                     if "-" in (fields := line.split())[6:]}
        if kinds.get(device) not in LOCAL_FILESYSTEMS:
            return None
        with open("/proc/locks", encoding="ascii", errors="replace") as locks:
            listed = locks.read().split("\n")
    except (OSError, ValueError, IndexError):
        return None
    mine = f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"
    return any(fields[1] == "FLOCK" and fields[5] == mine for fields in map(str.split, listed) if len(fields) > 5)
