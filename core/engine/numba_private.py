"""Every name the engine takes from numba or llvmlite that is not their public API, each with a
fallback to numba's stock behaviour when a release renames or removes it.

numba's internals move between releases (0.68 renamed `_UserProvidedCacheLocator` and
`_CacheImpl`). Here each one is looked up by name, never imported, and what the engine does
without it is said beside it: an engine that degrades instead of breaking. HOOKS lists them all,
so that a test can remove each one and still run.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from typing import Any

from llvmlite import ir

# (module, attribute path) of every private name used, and what happens without it.
HOOKS: dict[str, tuple[str, str]] = {
    # a dispatcher's cache in vgrad's folder; without it: numba's stock cache (NUMBA_CACHE_DIR or __pycache__)
    "cache": ("numba.core.caching", "FunctionCache"),
    "cache_impl": ("numba.core.caching", "CompileResultCacheImpl"),
    "cache_locator": ("numba.core.caching", "UserProvidedCacheLocator|_UserProvidedCacheLocator"),
    # data files named for their key; without one of these: numba's numbered data files
    "cache_file": ("numba.core.caching", "IndexDataCacheFile"),
    "save_data": ("numba.core.caching", "IndexDataCacheFile._save_data"),
    "save_index": ("numba.core.caching", "IndexDataCacheFile._save_index"),
    "load_index": ("numba.core.caching", "IndexDataCacheFile._load_index"),
    "index_key": ("numba.core.caching", "Cache._index_key"),
    # the cache off for a dispatcher; without it: the cache's own disable()
    "null_cache": ("numba.core.caching", "NullCache"),
    # numba's dispatcher class, to find the engine's kernels; without it: anything with py_func and _cache
    "dispatcher": ("numba.core.dispatcher", "Dispatcher"),
    # numba's BLAS gemm; without it: blas.py's loops
    "blas": ("numba.np.linalg", "_BLAS"),
    # the host's features as numba compiles for them; without it: llvmlite's (public) host features
    "host_features": ("numba.core.codegen", "get_host_cpu_features"),
    # an LLVM function declared once per module; without it: the same three lines here
    "get_or_insert_function": ("numba.core.cgutils", "get_or_insert_function"),
}


def hook(name: str) -> Any:
    """The object HOOKS[name] names, or None when this numba has no such thing."""
    module_name, path = HOOKS[name]
    try:
        value: Any = importlib.import_module(module_name)
    except ImportError:
        return None
    for alternative in path.split("|"):
        found = value
        for part in alternative.split("."):
            found = getattr(found, part, None)
            if found is None:
                break
        if found is not None:
            return found
    return None


# --- LLVM and the host -------------------------------------------------------------------------

def get_or_insert_function(module: ir.Module, fnty: ir.FunctionType, name: str) -> ir.Function:
    """The function `name` declared in `module` (declared now if it is not yet)."""
    numba_own = hook("get_or_insert_function")
    if numba_own is not None:
        return numba_own(module, fnty, name)
    found = module.globals.get(name)
    return found if found is not None else ir.Function(module, fnty, name)


def host_cpu_features() -> str:
    """The host's features as numba compiles for them ("+avx2,-avx512f,…")."""
    numba_own = hook("host_features")
    if numba_own is not None:
        return str(numba_own())
    import llvmlite.binding as llvm

    try:
        return str(llvm.get_host_cpu_features().flatten())
    except RuntimeError:
        return ""


def blas_gemm(numba_type) -> Any:
    """numba's xxgemm for a float type (the BLAS np.dot uses in compiled code), or None."""
    blas = hook("blas")
    if blas is None:
        return None
    try:
        return blas().numba_xxgemm(numba_type)
    except Exception:  # a changed signature: the loops instead
        return None


# --- the cache of each kernel ------------------------------------------------------------------

def _keyed_cache_file() -> type | None:
    """IndexDataCacheFile whose data files are named for their entry's key, or None when numba's
    class lacks what it builds on.

    numba numbers the data files 1, 2, … in the order entries are added; two processes adding
    different entries at once (float32 and float64, or two SIMD paths) both wrote file 1, and
    the index could then give one of them the other's code, for good. Named for the key, a
    data file holds only its own entry. It is written whole before the index names it; an
    entry lost to a simultaneous index write is compiled again on a later run.
    """
    base = hook("cache_file")
    if base is None or None in (hook("save_data"), hook("save_index"), hook("load_index")):
        return None

    class KeyedCacheFile(base):  # type: ignore[misc, valid-type]
        def __init__(self, cache_path, filename_base, source_stamp):
            super().__init__(cache_path=cache_path, filename_base=filename_base, source_stamp=source_stamp)
            self._vgrad_base = filename_base

        def save(self, key, data) -> None:
            name = f"{self._vgrad_base}.{hashlib.sha256(repr(key).encode()).hexdigest()[:16]}.nbc"
            self._save_data(name, data)
            overloads = self._load_index()
            if overloads.get(key) != name:
                overloads[key] = name
                self._save_index(overloads)

    return KeyedCacheFile


KeyedCacheFile = _keyed_cache_file()


def _cache_class(folder: str) -> type | None:
    """numba's FunctionCache, but in `folder` and through KeyedCacheFile; None without the hooks."""
    cache, impl, locator = hook("cache"), hook("cache_impl"), hook("cache_locator")
    if cache is None or impl is None or locator is None:
        return None
    keyed = KeyedCacheFile if None not in (hook("cache_file"), hook("save_data"), hook("save_index"),
                                           hook("load_index")) else None

    class Locator(locator):  # type: ignore[misc, valid-type]
        def __init__(self, py_func, py_file):
            self._py_file = py_file
            self._lineno = py_func.__code__.co_firstlineno
            self._cache_path = os.path.join(folder, self.get_suitable_cache_subpath(py_file))

        @classmethod
        def from_function(cls, py_func, py_file):
            return cls(py_func, py_file) if os.path.exists(py_file) else None

        def get_cache_path(self):
            return self._cache_path

    class Impl(impl):  # type: ignore[misc, valid-type]
        _locator_classes = [Locator]

    class VgradCache(cache):  # type: ignore[misc, valid-type]
        _impl_class = Impl

        def __init__(self, py_func):
            super().__init__(py_func)
            if keyed is not None:
                self._cache_file = keyed(self._cache_path, self._impl.filename_base,
                                                  self._impl.locator.get_source_stamp())

    return VgradCache


_CACHE_CLASSES: dict[str, type | None] = {}


def cache_in(dispatcher: Any, folder: str) -> Any:
    """`dispatcher` (compiled without numba's cache) with a cache in `folder`, leaving
    numba.config alone; without the hooks, numba's stock cache (dispatcher.enable_caching())."""
    if folder not in _CACHE_CLASSES:
        _CACHE_CLASSES[folder] = _cache_class(folder)
    cache_class = _CACHE_CLASSES[folder]
    try:
        if cache_class is not None:
            dispatcher._cache = cache_class(dispatcher.py_func)
            return dispatcher
    except Exception:  # numba's classes changed underneath: its stock cache instead
        pass
    dispatcher.enable_caching()
    return dispatcher


def has_cache(dispatcher: Any) -> bool:
    """Whether `dispatcher` loads from and saves to a cache on disk."""
    cache, own = hook("cache"), getattr(dispatcher, "_cache", None)
    if cache is not None:
        return isinstance(own, cache)
    return getattr(own, "cache_path", None) is not None  # numba's NullCache has none


def cache_folder(dispatcher: Any) -> str | None:
    """The folder `dispatcher`'s cache files are in, or None without a cache."""
    return getattr(dispatcher._cache, "cache_path", None) if has_cache(dispatcher) else None


def disable_cache(dispatcher: Any) -> None:
    """Stop `dispatcher` loading from or saving to its cache."""
    null = hook("null_cache")
    if null is not None:
        dispatcher._cache = null()
    else:
        dispatcher._cache.disable()


def is_cached(dispatcher: Any, args: tuple) -> bool:
    """Whether `dispatcher`'s cache holds its code for `args` on this target; False when that
    cannot be told."""
    if not has_cache(dispatcher) or None in (hook("index_key"), hook("load_index")):
        return False
    try:
        cache = dispatcher._cache
        signature = tuple(dispatcher.typeof_pyval(arg) for arg in args)
        key = cache._index_key(signature, dispatcher.targetctx.codegen())
        return key in cache._cache_file._load_index()
    except Exception:  # a renamed attribute or an unreadable index: not known to be cached
        return False


def raised_by_cache(exc: BaseException) -> bool:
    """Whether `exc` came out of numba's cache code (loading or saving a cached kernel): a frame of
    its traceback runs in the module that defines numba's cache classes."""
    cache = hook("cache")
    module = cache.__module__ if cache is not None else HOOKS["cache"][0]
    traceback = exc.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_globals.get("__name__") == module:
            return True
        traceback = traceback.tb_next
    return False


def is_dispatcher(value: Any) -> bool:
    """Whether `value` is a numba-compiled function (a dispatcher)."""
    dispatcher = hook("dispatcher")
    if dispatcher is not None:
        return isinstance(value, dispatcher)
    return hasattr(value, "py_func") and hasattr(value, "_cache") and callable(value)

