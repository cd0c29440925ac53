"""Continuum run Dataset: schema, invariants, NetCDF round trip, command line, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from compare.cli import main
from compare.metrics import measure_energy, wasserstein
from compare.metrics.measures import Histogram
from compare.runs.continuum_run import SCHEMES, run_continuum, summary_line
from compare.runs.io import read_dataset, write_dataset
from solvers.errors import CaseError, SchemeError


@pytest.fixture(scope="module", params=SCHEMES)
def overlap_run(request: pytest.FixtureRequest) -> xr.Dataset:
    return run_continuum("overlap", cells=300, scheme=request.param, T=1.0, nt=10)


def test_schema(overlap_run: xr.Dataset) -> None:
    ds = overlap_run
    assert ds.rho.dims == ("t", "x") and ds.eta.dims == ("t", "x")
    for name in ("energy", "dissipation", "mass_rho", "mass_eta"):
        assert ds[name].dims == ("t",)
    assert ds.sizes["t"] == 11 and ds.sizes["x"] == 300 and ds.sizes["x_edge"] == 301
    np.testing.assert_allclose(ds.t, np.linspace(0.0, 1.0, 11), rtol=0, atol=1e-15)
    assert ds.t.values[-1] == 1.0
    np.testing.assert_allclose(ds.x, 0.5 * (ds.x_edge.values[1:] + ds.x_edge.values[:-1]), rtol=1e-15)
    assert (ds.x_edge.values[0], ds.x_edge.values[-1]) == (-1.0, 1.0)
    if ds.attrs["scheme"] == "lagrangian":
        assert ds.X.dims == ("t", "s_rho") and ds.Y.dims == ("t", "s_eta")
        assert ds.s_rho.values[-1] == 1.0 and ds.s_eta.values[0] == 0.0
    else:
        assert "X" not in ds
    for name, var in ds.variables.items():
        assert var.attrs.get("units") == "1" and var.attrs.get("long_name"), name
    config = json.loads(ds.attrs["config"])
    assert config == {"case": "overlap", "scheme": ds.attrs["scheme"], "cells": 300, "T": 1.0, "nt": 10, "cfl": 0.45}
    assert ds.attrs["steps"] > 0 and "[rho0]" in ds.attrs["case_source"]
    assert "numpy_version" in ds.attrs and "created_utc" in ds.attrs


def test_invariants(overlap_run: xr.Dataset) -> None:
    ds = overlap_run
    np.testing.assert_allclose(ds.mass_rho, 1.0, rtol=0, atol=1e-13)
    np.testing.assert_allclose(ds.mass_eta, 1.0, rtol=0, atol=1e-13)
    assert float(ds.rho.min()) >= 0.0 and float(ds.eta.min()) >= 0.0
    top = max(float(ds.rho[0].max()), float(ds.eta[0].max()))
    assert max(float(ds.rho.max()), float(ds.eta.max())) <= top * (1.0 + 1e-12)
    assert np.all(np.diff(ds.energy.values) < 0.0)
    # the exact initial energy of the two indicators: integral (F_rho - F_eta)^2 = 4/27
    assert float(ds.energy[0]) == pytest.approx(4.0 / 27.0, rel=1e-12)


def test_netcdf_round_trip(overlap_run: xr.Dataset, tmp_path: Path) -> None:
    path = write_dataset(overlap_run, tmp_path / "pde.nc")
    back = read_dataset(path)
    xr.testing.assert_identical(back, overlap_run)


def test_stationary_case_is_exactly_stationary() -> None:
    for scheme in SCHEMES:
        ds = run_continuum("stationary", cells=200, scheme=scheme, T=1.0, nt=4)
        np.testing.assert_array_equal(ds.rho.values, np.broadcast_to(ds.rho.values[0], ds.rho.shape))
        np.testing.assert_array_equal(ds.eta.values, ds.rho.values)
        assert np.all(ds.energy.values == 0.0) and np.all(ds.dissipation.values == 0.0)


def test_summary_line() -> None:
    ds = run_continuum("separated", cells=100, scheme="fv1", T=0.1, nt=2)
    line = summary_line(ds, wall_time=0.5, out="pde.nc")
    assert line.startswith(f"separated fv1 cells=100: {ds.attrs['steps']} steps to T=0.1 in 0.50 s, mass drift ")
    assert line.endswith("-> pde.nc") and "\n" not in line


def test_cli_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pde.nc"
    code = main(["continuum", "separated_bumps", "--cells", "200", "--scheme", "lagrangian", "--T", "0.1", "--nt", "4", "--out", str(out)])
    assert code == 0
    assert capsys.readouterr().out.startswith("separated_bumps lagrangian cells=200:")
    ds = read_dataset(out)
    assert ds.attrs["scheme"] == "lagrangian" and ds.sizes["t"] == 5 and "X" in ds


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"scheme": "weno"}, SchemeError, "unknown scheme 'weno'; pass one of fv1, fv2, lagrangian"),
        ({"cells": 3}, SchemeError, "cells = 3 is too few"),
        ({"scheme": "lagrangian", "cells": 2}, SchemeError, "too few for the lagrangian scheme"),
        ({"cfl": 0.7}, SchemeError, "cfl = 0.7"),
    ],
)
def test_bad_parameters(kwargs: dict, error: type[Exception], fragment: str) -> None:
    with pytest.raises(error, match=fragment) as info:
        run_continuum("overlap", **kwargs)
    assert "\n" not in str(info.value)


def test_particle_case_is_rejected() -> None:
    with pytest.raises(CaseError, match="gives particles, not densities"):
        run_continuum("cluster")


def test_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pde.nc"
    assert main(["continuum", "overlap", "--cells", "2", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cells = 2 is too few") and err.count("\n") == 1
    assert not out.exists()
    with pytest.raises(SystemExit) as info:
        main(["continuum", "overlap", "--scheme", "fv9"])
    assert info.value.code == 2


@pytest.fixture(scope="module")
def mass_ratio_runs() -> dict[tuple[str, int], xr.Dataset]:
    return {(scheme, cells): run_continuum("mass_ratio", cells=cells, scheme=scheme, nt=2) for scheme in SCHEMES for cells in (200, 400)}


def test_unequal_masses_are_run_with_the_case_masses(mass_ratio_runs: dict[tuple[str, int], xr.Dataset]) -> None:
    """M_rho = 1.2, M_eta = 0.8 stay exact; the grid is the initial hull widened by |dM| T = 0.4 per side;
    the energy of the fv state is the energy (4) of its cell averages with unequal masses."""
    for (scheme, _cells), ds in mass_ratio_runs.items():
        np.testing.assert_allclose(ds.mass_rho.values, 1.2, rtol=1e-14)
        np.testing.assert_allclose(ds.mass_eta.values, 0.8, rtol=1e-14)
        edges = ds.x_edge.values
        assert (edges[0], edges[-1]) == pytest.approx((-1.0 - 0.4, 1.0 + 0.4), abs=1e-15)
        assert np.all(np.diff(ds.energy.values) < 0) and ds.energy.values[-1] < 0
        if scheme != "lagrangian":
            measures = [Histogram.from_averages(edges, ds[sp].values[-1]) for sp in ("rho", "eta")]
            assert ds.energy.values[-1] == pytest.approx(measure_energy(*measures), rel=1e-12)


def test_unequal_masses_fv2_and_lagrangian_agree_after_contact(mass_ratio_runs: dict[tuple[str, int], xr.Dataset]) -> None:
    """The supports overlap from t = 0; at T = 1 fv2 and the pseudo-inverse scheme approach each other in
    W1 at least linearly in the resolution (measured about second order)."""
    gaps = []
    for cells in (200, 400):
        fv2, lag = mass_ratio_runs[("fv2", cells)], mass_ratio_runs[("lagrangian", cells)]
        edges = fv2.x_edge.values
        gaps.append(
            max(
                wasserstein(Histogram.from_averages(edges, fv2[sp].values[-1]), Histogram.from_averages(edges, lag[sp].values[-1]))
                for sp in ("rho", "eta")
            )
        )
    assert gaps[0] < 1e-4 and gaps[1] < 0.5 * gaps[0]
