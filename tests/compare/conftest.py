"""Small runs shared by the tests of the command line and the figures (computed once per session)."""

from __future__ import annotations

import pytest
import xarray as xr

from compare.studies.validate import run_study


@pytest.fixture(scope="session")
def small_study() -> xr.Dataset:
    """The study of ``overlap`` with N = 10, 20, 40 on [0, 0.5] against fv2 with 100 cells."""
    return run_study("overlap", Ns=[10, 20, 40], T=0.5, nt=4, cells=100)
