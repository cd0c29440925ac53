"""numba's cache=True keys a cached function on its own file only; ``drop_stale_cache`` must make
a cached caller pick up a change in a jitted callee of another module (a silent wrong answer
otherwise)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

CALLEE = """
import numba

@numba.njit(cache=True)
def value():
    return {value}
"""

CALLER = """
import sys

import numba

from solvers._numba_cache import drop_stale_cache
from pkg import callee

@numba.njit(cache=True)
def twice():
    return 2 * callee.value()

{drop}
"""


def _run(root: Path) -> int:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(REPO)])}
    out = subprocess.run(
        [sys.executable, "-c", "from pkg import caller; print(caller.twice())"],
        env=env, capture_output=True, text=True, check=True,
    )
    return int(out.stdout)


def _package(root: Path, drop: bool) -> Path:
    pkg = root / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "callee.py").write_text(CALLEE.format(value=1))
    (pkg / "caller.py").write_text(
        CALLER.format(drop="drop_stale_cache(sys.modules[__name__], (callee,))" if drop else "")
    )
    return pkg


def test_a_changed_callee_in_another_module_is_recompiled(tmp_path: Path) -> None:
    pkg = _package(tmp_path, drop=True)
    assert _run(tmp_path) == 2
    assert _run(tmp_path) == 2  # from the cache
    (pkg / "callee.py").write_text(CALLEE.format(value=5))
    assert _run(tmp_path) == 10


def test_without_it_numba_serves_the_stale_callee(tmp_path: Path) -> None:
    """The hazard itself (numba PR #8396 is not merged), so that the test above is not trivial."""
    pkg = _package(tmp_path, drop=False)
    assert _run(tmp_path) == 2
    (pkg / "callee.py").write_text(CALLEE.format(value=5))
    if _run(tmp_path) == 10:
        pytest.skip("this numba invalidates its cache across modules; drop_stale_cache is then redundant")
