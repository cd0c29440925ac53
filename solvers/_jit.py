"""The one decorator for compiled kernels: numba's on-disk cache, keyed on every source it compiles.

``numba.njit(cache=True)`` keys the cache of a function on its own file and bytecode only: a cached
function keeps the compiled code of the jitted functions it calls from *other* modules, so after
those change (an edit, a ``git pull``) it would silently run the old code. ``jit(depends_on=...)``
adds the SHA-256 of the sources of those modules to the function's cache key
(numba's ``Dispatcher._cache._index_key``): after a change in a callee the old entry no longer
matches and numba compiles anew. Nothing is deleted, so processes that import the kernels at the
same time (dask workers) cannot remove each other's cache files. ``jit`` refuses, at import, a numba
whose cache lacks the private method it relies on, rather than run stale code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numba

__all__ = ["jit", "key_on_sources", "sources_digest"]


def sources_digest(modules: Sequence[ModuleType]) -> str:
    """SHA-256 of the source files of ``modules``, in the given order."""
    digest = hashlib.sha256()
    for module in modules:
        digest.update(Path(module.__file__ or "").read_bytes())
    return digest.hexdigest()


def key_on_sources(dispatcher: Any, modules: Sequence[ModuleType]) -> Any:
    """Make the on-disk cache key of a cached numba ``dispatcher`` include ``sources_digest(modules)``.

    Raises ``RuntimeError`` if the dispatcher has no ``_cache._index_key`` (numba changed its
    private caching API): the kernel's cache could then serve stale code."""
    cache = getattr(dispatcher, "_cache", None)
    index_key = getattr(cache, "_index_key", None)
    if index_key is None:
        name = getattr(dispatcher, "__name__", repr(dispatcher))
        raise RuntimeError(
            f"numba {numba.__version__} has no Dispatcher._cache._index_key, so the cache of {name} cannot be "
            "tied to the sources it calls; install a numba with it (0.59 to 0.68 have it) or update solvers/_jit.py"
        )
    digest = sources_digest(modules)

    def keyed(sig: Any, codegen: Any) -> tuple:
        return (*index_key(sig, codegen), digest)

    cache._index_key = keyed
    return dispatcher


def jit(func: Callable | None = None, *, depends_on: Sequence[ModuleType] = ()) -> Any:
    """``numba.njit(cache=True)``, with the cache also keyed on the sources of ``depends_on``: the
    modules (other than the function's own) whose jitted functions it calls, directly or not.

    Use as ``@jit`` or ``@jit(depends_on=(module, ...))``."""

    def wrap(f: Callable) -> Any:
        dispatcher = numba.njit(cache=True)(f)
        return key_on_sources(dispatcher, depends_on) if depends_on else dispatcher

    return wrap(func) if func is not None else wrap
