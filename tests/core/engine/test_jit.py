"""numba's cache directory: one per version of the kernel sources, always writable."""

import os
import time

from vgrad.core.engine import jit


def test_the_cache_directory_is_named_for_the_kernel_sources_and_writable(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    folder = jit.cache_dir()
    assert folder == tmp_path / jit.source_hash() and folder.is_dir()


def test_an_unwritable_base_falls_through_to_the_next(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", "/proc/no-such-place")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert jit.cache_dir() == tmp_path / "vgrad" / "numba" / jit.source_hash()


def _aged(folder, marked: bool, holding: str = "notes.txt"):
    folder.mkdir()
    (folder / (jit.MARKER if marked else holding)).write_text("mine")
    long_ago = time.time() - jit.STALE_SECONDS - 60
    os.utime(folder, (long_ago, long_ago))
    return folder


def test_caches_vgrad_made_for_other_versions_and_unused_for_30_days_are_removed(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    old = _aged(tmp_path / "0123456789abcdef", marked=True)
    recent = tmp_path / "fedcba9876543210"
    recent.mkdir()
    (recent / jit.MARKER).write_text("")
    jit.cache_dir()
    assert not old.exists() and recent.exists()


def test_folders_vgrad_did_not_make_are_never_removed(tmp_path, monkeypatch):
    """$NUMBA_CACHE_DIR may be shared: another project's cache or a folder of notes stays, however old."""
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    other = _aged(tmp_path / "0123456789abcdef", marked=False)
    marked_elsewhere = _aged(tmp_path.parent / f"{tmp_path.name}-elsewhere", marked=True)
    (tmp_path / "link").symlink_to(marked_elsewhere)
    jit.cache_dir()
    assert (other / "notes.txt").read_text() == "mine" and (marked_elsewhere / jit.MARKER).exists()


def test_the_folder_vgrad_creates_is_marked(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert (jit.cache_dir() / jit.MARKER).is_file()
