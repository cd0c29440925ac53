"""Keep numba's on-disk cache honest across modules.

``numba.njit(cache=True)`` keys the cache of a function on its own source file only: a cached
function keeps the compiled code of the jitted functions it calls from *other* modules, so after
those change (an edit, a ``git pull``) it would silently run the old code. ``drop_stale_cache``
ties a module's cache files to the sources of the modules its kernels call: when any of them
changed since the cache was written, the module's cache files are deleted and numba recompiles.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType


def drop_stale_cache(module: ModuleType, dependencies: Iterable[ModuleType]) -> None:
    """Delete ``module``'s numba cache files unless they were written against the current sources of
    ``module`` and ``dependencies``; best effort (an unwritable cache directory is left alone)."""
    source = Path(module.__file__)
    digest = hashlib.sha256()
    for path in (source, *(Path(dep.__file__) for dep in dependencies)):
        digest.update(path.read_bytes())
    cache_dirs = {
        Path(obj._cache._cache_path)
        for obj in vars(module).values()
        if getattr(getattr(obj, "_cache", None), "_cache_path", None) is not None
    }
    for cache_dir in cache_dirs:
        marker = cache_dir / f"{source.stem}.sources-sha256"
        if marker.is_file() and marker.read_text() == digest.hexdigest():
            continue
        try:
            for stale in (*cache_dir.glob(f"{source.stem}.*.nbi"), *cache_dir.glob(f"{source.stem}.*.nbc")):
                stale.unlink(missing_ok=True)
            cache_dir.mkdir(parents=True, exist_ok=True)
            marker.write_text(digest.hexdigest())
        except OSError:
            continue
