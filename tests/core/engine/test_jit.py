"""numba's cache directory: one per version of the kernel sources, this user's own and writable; a broken
cache costs a recompile and one line on stderr, never the run; importing the engine leaves numba.config alone."""

import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import numba
import pytest
from numba import njit
from numba.core.caching import IndexDataCacheFile, NullCache
from numba.core.dispatcher import Dispatcher

from vgrad.core.engine import jit, numba_private


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
    jit.prune_stale_caches(jit.cache_dir())
    assert not old.exists() and recent.exists()


def test_folders_vgrad_did_not_make_are_never_removed(tmp_path, monkeypatch):
    """$NUMBA_CACHE_DIR may be shared: another project's cache or a folder of notes stays, however old."""
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    other = _aged(tmp_path / "0123456789abcdef", marked=False)
    marked_elsewhere = _aged(tmp_path.parent / f"{tmp_path.name}-elsewhere", marked=True)
    (tmp_path / "link").symlink_to(marked_elsewhere)
    jit.prune_stale_caches(jit.cache_dir())
    assert (other / "notes.txt").read_text() == "mine" and (marked_elsewhere / jit.MARKER).exists()


def test_the_folder_vgrad_creates_is_marked(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert (jit.cache_dir() / jit.MARKER).is_file()


def _stderr_lines(capsys) -> list[str]:
    return capsys.readouterr().err.splitlines()


def test_a_base_on_a_full_disk_is_skipped_with_one_line_naming_it_and_the_folder_used(tmp_path, monkeypatch, capsys):
    full, roomy = tmp_path / "full", tmp_path / "roomy"
    real_usage = jit.shutil.disk_usage
    monkeypatch.setattr(jit.shutil, "disk_usage", lambda path: real_usage(path)._replace(
        free=0 if full in Path(path).parents else real_usage(path).free))
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(full))
    monkeypatch.setenv("XDG_CACHE_HOME", str(roomy))
    used = jit.cache_dir()
    assert used == roomy / "vgrad" / "numba" / jit.source_hash()
    [line] = _stderr_lines(capsys)
    assert line.startswith("vgrad: ") and str(full / jit.source_hash()) in line and str(used) in line


def _corrupt_cache(folder: Path, marked: bool) -> IndexDataCacheFile:
    """A numba cache index in `folder` cut short, as a full disk or a crash can leave it."""
    folder.mkdir()
    if marked:
        (folder / jit.MARKER).write_text("")
    (folder / "notes.txt").write_text("mine")
    index = pickle.dumps(numba.__version__) + pickle.dumps((0, {"key": "kernel-1.py311.1.nbc"}))
    (folder / "kernel-1.py311.nbi").write_bytes(index[:-5])
    return IndexDataCacheFile(cache_path=str(folder), filename_base="kernel-1.py311", source_stamp=0)


def test_a_corrupt_file_in_vgrads_cache_is_removed_and_the_compile_retried(tmp_path, monkeypatch, capsys):
    cache = _corrupt_cache(tmp_path / "cache", marked=True)
    assert jit.survive_cache_failure(lambda: cache.load("key") or "compiled", tmp_path / "cache") == "compiled"
    assert not (tmp_path / "cache" / "kernel-1.py311.nbi").exists()
    assert (tmp_path / "cache" / "notes.txt").read_text() == "mine"
    [line] = _stderr_lines(capsys)
    assert "removed 1 corrupt file" in line and "UnpicklingError" in line


def test_a_cache_failing_in_a_folder_vgrad_did_not_make_is_left_alone_and_compiling_goes_on_without_it(
        tmp_path, monkeypatch, capsys):
    cache = _corrupt_cache(tmp_path / "shared", marked=False)
    disabled = []
    monkeypatch.setattr(jit, "_disable_cache", lambda: disabled.append(True))
    calls = iter([lambda: cache.load("key"), lambda: "compiled"])
    assert jit.survive_cache_failure(lambda: next(calls)(), tmp_path / "shared") == "compiled"
    assert disabled and (tmp_path / "shared" / "kernel-1.py311.nbi").exists()
    [line] = _stderr_lines(capsys)
    assert "unusable" in line and "without it" in line


def test_errors_that_are_not_the_caches_pass_through_untouched(tmp_path, monkeypatch):
    monkeypatch.setattr(jit, "_disable_cache", lambda: pytest.fail("a bug is not a cache failure"))
    with pytest.raises(ZeroDivisionError):
        jit.survive_cache_failure(lambda: 1 / 0)


def engine_dispatchers() -> list[Dispatcher]:
    """Every engine kernel, its modules imported first."""
    from vgrad.core.engine import batchnorm, kernels  # noqa: F401  (they import the others)

    return list(jit.engine_dispatchers().values())


def test_disabling_the_cache_stops_every_engine_kernel_using_it(monkeypatch):
    dispatchers = engine_dispatchers()
    for dispatcher in dispatchers:  # restored afterwards: the rest of the suite keeps its cache
        monkeypatch.setattr(dispatcher, "_cache", dispatcher._cache)
    jit._disable_cache()
    assert dispatchers and all(isinstance(d._cache, NullCache) for d in dispatchers)


def test_processes_adding_entries_at_once_never_get_each_others_code(tmp_path, monkeypatch):
    """Two processes (float64 and float32, or two SIMD paths) read the empty index, each saves
    its entry, and the first one's data file lands last: with numba's stock numbering both
    wrote file 1, and the float32 key got the float64 code; with KeyedCacheFile a key gets
    its own data or nothing (it is compiled again)."""
    def race(cache_class) -> dict:
        folder = tmp_path / cache_class.__name__
        folder.mkdir()
        files = [cache_class(cache_path=str(folder), filename_base="kernel-1.py311", source_stamp=0)
                 for _ in range(3)]
        late = []
        for file in files[:2]:  # each process read the index before the other wrote it
            monkeypatch.setattr(file, "_load_index", dict)
        write_data = files[0]._save_data
        monkeypatch.setattr(files[0], "_save_data", lambda name, data: late.append((name, data)))
        files[0].save(("float64",), "float64 code")
        files[1].save(("float32",), "float32 code")
        write_data(*late[0])
        return {key: files[2].load((key,)) for key in ("float64", "float32")}

    assert race(IndexDataCacheFile)["float32"] == "float64 code"  # the bug, in numba's own class
    loaded = race(numba_private.KeyedCacheFile)
    assert loaded["float64"] in ("float64 code", None) and loaded["float32"] in ("float32 code", None)
    assert loaded["float32"] == "float32 code"  # the index written last keeps its entry


def test_every_engine_kernel_saves_through_the_keyed_cache_file():
    dispatchers = engine_dispatchers()
    assert len(dispatchers) > 20
    assert all(type(d._cache._cache_file) is numba_private.KeyedCacheFile for d in dispatchers)


def _double(x):
    return 2 * x


def test_is_cached_says_whether_the_cache_holds_a_kernels_code_for_these_argument_types(tmp_path):
    double = numba_private.cache_in(njit(_double), str(tmp_path))

    assert not jit.is_cached(double, (1.0,))
    double(1.0)
    assert jit.is_cached(double, (1.0,)) and jit.is_cached(double, (3.5,)) and not jit.is_cached(double, (1,))
    double._cache = NullCache()
    assert not jit.is_cached(double, (1.0,))


def test_a_cache_is_shared_with_other_processes_only_when_on_and_in_the_folder_named_for_the_sources(
        tmp_path, monkeypatch):
    from vgrad.core.engine import kernels

    assert jit.shares_cache(kernels._backprop)
    private = tmp_path / f"{jit.PRIVATE_PREFIX}1234"  # the last resort, a folder of this process's own
    monkeypatch.setattr(jit, "CACHE_FOLDER", private)
    assert not jit.shares_cache(numba_private.cache_in(njit(_double), str(private / "simd-blas")))
    monkeypatch.setattr(kernels._backprop, "_cache", NullCache())
    assert not jit.shares_cache(kernels._backprop)


def _owned_by_someone_else(folder: Path, monkeypatch) -> None:
    """Make `folder` look owned by another user (we may be root here, so chown proves nothing)."""
    real = jit.Path.lstat
    monkeypatch.setattr(jit.Path, "lstat", lambda self: os.stat_result(
        (*real(self)[:4], real(self).st_uid + 1, *real(self)[5:])) if self == folder else real(self))


def test_a_temporary_cache_folder_another_user_owns_is_never_used(tmp_path, monkeypatch, capsys):
    """The fallback under the temporary folder has a predictable name: anyone could make it first
    and plant a pickle there, which numba would load. Then a fresh private folder is used."""
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "/proc/no-such-place/cache")
    monkeypatch.setattr(jit.tempfile, "tempdir", str(tmp_path))
    planted = tmp_path / f"vgrad-numba-{os.getuid()}"
    (planted / jit.source_hash()).mkdir(parents=True)
    _owned_by_someone_else(planted, monkeypatch)
    used = jit.cache_dir()
    assert planted not in used.parents and used.parent == tmp_path and jit.private(used)
    assert "not this user's own" in capsys.readouterr().err


def test_a_cache_folder_others_can_write_to_is_never_used(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "shared"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "mine"))
    (tmp_path / "shared" / jit.source_hash()).mkdir(parents=True)
    (tmp_path / "shared" / jit.source_hash()).chmod(0o777)
    assert jit.cache_dir() == tmp_path / "mine" / "vgrad" / "numba" / jit.source_hash()


def test_no_folder_is_created_under_a_home_that_does_not_exist(tmp_path, monkeypatch):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "gone"))
    monkeypatch.setattr(jit.tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    assert jit.cache_dir().is_relative_to(tmp_path / "tmp") and not (tmp_path / "gone").exists()


def test_nothing_is_unpickled_from_a_cache_folder_another_user_owns(tmp_path, monkeypatch):
    _corrupt_cache(tmp_path / "cache", marked=True)
    _owned_by_someone_else(tmp_path / "cache", monkeypatch)
    monkeypatch.setattr(jit, "_loads", lambda path: pytest.fail(f"unpickled {path}"))
    assert jit._remove_corrupt(tmp_path / "cache") == 0


@pytest.mark.slow
def test_importing_the_engine_and_compiling_a_kernel_leave_numba_config_as_it_was(tmp_path):
    """Watching someone's training must not change their process: numba.config before importing
    the engine and after compiling one of its kernels is the same, and nothing is pruned."""
    stale = tmp_path / "cache" / "0123456789abcdef"
    script = (
        "import numba, json\n"
        "before = {k: repr(getattr(numba.config, k)) for k in dir(numba.config) if k.isupper()}\n"
        "from vgrad.core.engine import kernels\n"
        "import numpy as np\n"
        "kernels.weight_square_sum(np.ones(4), np.zeros((1, 5), dtype=np.int64))\n"
        "after = {k: repr(getattr(numba.config, k)) for k in dir(numba.config) if k.isupper()}\n"
        "print(json.dumps({k: [before[k], after.get(k)] for k in before if before[k] != after.get(k)}))\n")
    _aged(stale.parent, marked=False)
    _aged(stale, marked=True)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {} and stale.exists()
