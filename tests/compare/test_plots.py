"""Figures: every PNG is written and readable, and the event markers sit where the particles meet."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
import xarray as xr

from compare.plots import _event_kinds, _event_positions, _profile_times, make_figures
from compare.runs.particle_run import run_particles
from compare.studies.validate import run_study


@pytest.fixture(scope="module")
def study() -> xr.Dataset:
    return run_study("overlap", Ns=[10, 20], T=1.0, nt=4, cells=100)


@pytest.fixture(scope="module")
def run() -> xr.Dataset:
    return run_particles("overlap", N=8, T=1.0, nt=200)


def test_make_figures_writes_readable_pngs(study: xr.Dataset, run: xr.Dataset, tmp_path: Path) -> None:
    figures = make_figures(study, run, tmp_path / "figs")
    assert set(figures) == {"profiles", "trajectories", "convergence", "energy", "lm_norms", "mixing", "final_time"}
    for path in figures.values():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        image = matplotlib.image.imread(path)
        assert image.shape[0] > 200 and image.shape[1] > 300
        assert np.ptp(image[..., :3]) > 0.5  # not a blank canvas


def test_event_markers_are_the_meeting_points(run: xr.Dataset) -> None:
    # between output times both paths are straight, so the x-path and the y-path give the same point
    # wherever no other event of the pair falls between the bracketing output times
    event_t = run["event_t"].values
    assert event_t.size > 0
    from_x = _event_positions(run, event_t)
    swapped = run.rename({"x": "x_tmp", "y": "x", "event_i": "i_tmp", "event_j": "event_i"}).rename({"x_tmp": "y", "i_tmp": "event_j"})
    from_y = _event_positions(swapped, event_t)
    np.testing.assert_allclose(from_x, from_y, atol=2e-3)
    assert np.median(np.abs(from_x - from_y)) < 1e-12


def test_event_kinds_decode_flags_and_strings(run: xr.Dataset) -> None:
    kinds = _event_kinds(run)
    assert set(kinds) <= {"cross", "stick"}
    np.testing.assert_array_equal(kinds == "stick", run["event_kind"].values == 1)
    as_strings = run.assign(event_kind=("event", kinds))
    np.testing.assert_array_equal(_event_kinds(as_strings), kinds)


def test_profile_times_include_both_ends() -> None:
    t = np.linspace(0.0, 2.0, 41)
    k = _profile_times(t, 4)
    assert k[0] == 0 and k[-1] == 40 and k.size == 4
    assert _profile_times(t[:3], 4).tolist() == [0, 1, 2]
