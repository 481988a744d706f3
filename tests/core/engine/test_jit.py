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


def test_caches_of_other_versions_unused_for_30_days_are_removed(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    old, recent = tmp_path / "0123456789abcdef", tmp_path / "fedcba9876543210"
    old.mkdir()
    recent.mkdir()
    long_ago = time.time() - jit.STALE_SECONDS - 60
    os.utime(old, (long_ago, long_ago))
    jit.cache_dir()
    assert not old.exists() and recent.exists()
