"""The particle run Dataset: schema, metadata, consistency with the engine and the case."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from compare.metrics import measure_energy
from compare.metrics.measures import Empirical
from compare.runs.cases import initial_particles, initial_state, load_case
from compare.runs.io import provenance_attrs, read_dataset, write_dataset
from compare.runs.particle_run import SOLVER_GENERAL, SOLVER_RANK, run_particles, summary_line
from solvers.errors import CaseError, InputError


@pytest.fixture(scope="module")
def overlap() -> xr.Dataset:
    return run_particles("overlap", N=30, T=1.0, nt=10)


def test_schema_and_metadata(overlap: xr.Dataset) -> None:
    ds = overlap
    assert dict(ds.sizes) == {"t": 11, "i": 30, "j": 30, "event": ds.attrs["n_events"]}
    np.testing.assert_array_equal(ds.t.values, np.arange(11) * 1.0 / 10)
    np.testing.assert_array_equal(ds.i.values, np.arange(1, 31))
    for name, dims in {
        "x": ("t", "i"),
        "y": ("t", "j"),
        "vx": ("t", "i"),
        "vy": ("t", "j"),
        "m": ("i",),
        "n": ("j",),
        "energy": ("t",),
        "dissipation": ("t",),
        "event_t": ("event",),
        "event_kind": ("event",),
        "event_i": ("event",),
        "event_j": ("event",),
    }.items():
        assert ds[name].dims == dims
    for name in list(ds.variables):
        assert ds[name].attrs["units"] and ds[name].attrs["long_name"], name
    assert ds.event_kind.dtype == np.int8
    assert ds.event_kind.attrs["flag_meanings"] == "cross stick merge"
    np.testing.assert_array_equal(ds.event_kind.attrs["flag_values"], [0, 1, 2])
    a = ds.attrs
    assert (a["case"], a["N"], a["N_x"], a["N_y"], a["T"], a["nt"], a["placement"]) == ("overlap", 30, 30, 30, 1.0, 10, "right")
    assert a["solver"] == SOLVER_RANK and a["n_merge"] == 0
    assert a["case_source"] == load_case("overlap").source
    assert json.loads(a["config"]) == {"case": "overlap", "N": 30, "T": 1.0, "nt": 10, "placement": "right"}
    assert set(provenance_attrs()) <= set(a) and a["solver"] and a["wall_time_s"] >= 0
    assert all(isinstance(v, (str, int, float)) for v in a.values())


def test_event_log_is_consistent(overlap: xr.Dataset) -> None:
    ds = overlap
    kind = ds.event_kind.values
    assert ds.attrs["n_cross"] == np.count_nonzero(kind == 0)
    assert ds.attrs["n_stick"] == np.count_nonzero(kind == 1)
    assert ds.attrs["n_events"] == ds.attrs["n_cross"] + ds.attrs["n_stick"] > 0
    t = ds.event_t.values
    assert np.all(np.diff(t) >= 0) and t[0] > 0 and t[-1] <= 1.0
    for idx in (ds.event_i.values, ds.event_j.values):
        assert idx.min() >= 1 and idx.max() <= 30
    # Theorem 4.1: x_i meeting y_j sticks iff i == j
    np.testing.assert_array_equal(kind == 1, ds.event_i.values == ds.event_j.values)


def test_initial_state_energy_and_center_of_mass(overlap: xr.Dataset) -> None:
    ds = overlap
    x0, y0 = initial_particles(load_case("overlap"), 30)
    np.testing.assert_array_equal(ds.x.values[0], x0)
    np.testing.assert_array_equal(ds.y.values[0], y0)
    expected = measure_energy(Empirical(ds.x.values[0]), Empirical(ds.y.values[0]))
    assert ds.energy.values[0] == pytest.approx(expected, rel=1e-12)
    assert np.all(np.diff(ds.energy.values) <= 1e-15)
    # sum m x' + sum n y' = 0 (antisymmetric interaction): the joint center of mass is conserved
    center = (ds.m * ds.x).sum("i") + (ds.n * ds.y).sum("j")
    np.testing.assert_allclose(center.values, center.values[0], rtol=0, atol=1e-14)


def test_dissipation_is_minus_the_energy_slope() -> None:
    """Before the first event (separated supports, contact at t* = 0.25) every trajectory is a
    straight line and E is linear in t: E(t) = E(0) - t D(0) with D constant."""
    ds = run_particles("separated", N=30, T=0.2, nt=4)
    assert ds.attrs["n_events"] == 0
    np.testing.assert_allclose(ds.dissipation.values, ds.dissipation.values[0], rtol=1e-14)
    np.testing.assert_allclose(ds.energy.values, ds.energy.values[0] - ds.t.values * ds.dissipation.values[0], rtol=1e-13)


def test_stationary_case_does_not_move() -> None:
    ds = run_particles("stationary", N=25, nt=4)
    np.testing.assert_array_equal(ds.x.values, np.broadcast_to(ds.x.values[0], ds.x.shape))
    np.testing.assert_array_equal(ds.x.values, ds.y.values)
    assert ds.attrs["n_cross"] == 0 and ds.attrs["T"] == 1.0
    np.testing.assert_array_equal(ds.energy.values, 0.0)


def test_cluster_case_follows_theorem_4_3() -> None:
    ds = run_particles("cluster", nt=8)
    assert ds.attrs["placement"] == "explicit" and ds.attrs["N"] == 6
    np.testing.assert_array_equal(ds.x.values[:, 2], 0.0)
    np.testing.assert_array_equal(ds.y.values[:, 2], 0.0)
    assert np.all(ds.x.values[1:, 3:5] > 0) and ds.y.values[1, 1] < 0


def test_mid_placement_and_overrides() -> None:
    ds = run_particles(load_case("separated"), N=12, T=0.1, nt=2, placement="mid")
    assert ds.attrs["placement"] == "mid" and ds.attrs["T"] == 0.1
    x0, _ = initial_particles(load_case("separated"), 12, "mid")
    np.testing.assert_array_equal(ds.x.values[0], x0)
    # before contact (t* = 0.25) the midpoint particles x_i' = (2i - 1)/N = 2 s_i ride the exact X(s,t) = X0(s) + 2 s t
    s = (np.arange(1, 13) - 0.5) / 12
    np.testing.assert_allclose(ds.x.values[-1], x0 + 2 * s * 0.1, rtol=0, atol=1e-14)


def test_round_trip_through_netcdf(tmp_path: Path, overlap: xr.Dataset) -> None:
    back = read_dataset(write_dataset(overlap, tmp_path / "run.nc"))
    xr.testing.assert_identical(back, overlap)


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"T": -1.0}, InputError, "T must be"),
        ({"T": float("nan")}, InputError, "T must be"),
        ({"nt": 0}, InputError, "nt must be"),
        ({"placement": "left"}, InputError, "unknown placement"),
        ({"N": 0}, InputError, "positive integer"),
    ],
)
def test_bad_parameters(kwargs: dict[str, object], error: type[Exception], fragment: str) -> None:
    with pytest.raises(error, match=fragment):
        run_particles("overlap", **kwargs)  # type: ignore[arg-type]


def test_explicit_particle_case_rejects_an_N_override() -> None:
    with pytest.raises(CaseError, match="explicit particles"):
        run_particles("cluster", N=10)


def test_summary_line(overlap: xr.Dataset) -> None:
    line = summary_line(overlap.attrs, wall_time=0.0512, out="run.nc")
    a = overlap.attrs
    assert line == (f"overlap N=30: {a['n_events']} events ({a['n_cross']} crossings, {a['n_stick']} sticks) to T=1 in 0.05 s -> run.nc")
    assert re.fullmatch(r"overlap N=30: \d+ events \(\d+ crossings, \d+ sticks\) to T=1 in 0\.05 s -> run\.nc", line)


REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def mass_ratio() -> xr.Dataset:
    return run_particles("mass_ratio", N=30, T=1.0, nt=10)


def test_unequal_masses_run_the_general_engine(mass_ratio: xr.Dataset) -> None:
    ds = mass_ratio
    a = ds.attrs
    assert dict(ds.sizes) == {"t": 11, "i": 30, "j": 20, "event": a["n_events"]}
    np.testing.assert_array_equal(ds.j.values, np.arange(1, 21))
    assert (a["N"], a["N_x"], a["N_y"], a["solver"]) == (30, 30, 20, SOLVER_GENERAL)
    assert json.loads(a["config"])["N_y"] == 20
    x0, y0, m, n = initial_state(load_case("mass_ratio"), 30)
    np.testing.assert_array_equal(ds.x.values[0], x0)
    np.testing.assert_array_equal(ds.n.values, n)
    assert ds.m.sum() == pytest.approx(1.2, rel=1e-15) and ds.n.sum() == pytest.approx(0.8, rel=1e-15)
    kind = ds.event_kind.values
    assert [a["n_cross"], a["n_stick"], a["n_merge"]] == [np.count_nonzero(kind == k) for k in (0, 1, 2)]
    assert a["n_events"] == a["n_cross"] + a["n_stick"] + a["n_merge"] > 0
    assert ds.event_i.values.max() <= 30 and ds.event_j.values.max() <= 20


def test_unequal_mass_energy_is_the_measure_energy(mass_ratio: xr.Dataset) -> None:
    """E[Z] with the masses equals the energy (4) of the weighted empirical measures; it is
    non-increasing, and the joint centre of mass sum m x + sum n y is conserved."""
    ds = mass_ratio
    m, n = ds.m.values, ds.n.values
    expected = [measure_energy(Empirical(xk, m), Empirical(yk, n)) for xk, yk in zip(ds.x.values, ds.y.values)]
    np.testing.assert_allclose(ds.energy.values, expected, rtol=1e-12, atol=1e-15)
    assert ds.energy.values[-1] < 0 < ds.energy.values[0]  # unequal masses: E need not be >= 0
    assert np.all(np.diff(ds.energy.values) <= 1e-15)
    center = (ds.m * ds.x).sum("i") + (ds.n * ds.y).sum("j")
    np.testing.assert_allclose(center.values, center.values[0], rtol=0, atol=1e-14)


def test_grid_atomisation_carries_the_cell_masses() -> None:
    ds = run_particles("grid_bumps", N=40, T=0.5, nt=2)
    case = load_case("grid_bumps")
    x0, y0, m, n = initial_state(case, 40)
    assert ds.attrs["placement"] == "grid" and ds.attrs["solver"] == SOLVER_GENERAL
    np.testing.assert_array_equal(ds.x.values[0], x0)
    np.testing.assert_array_equal(ds.m.values, m)
    assert np.ptp(m) > 0 and m.sum() == pytest.approx(1.0, rel=1e-14)
    expected = measure_energy(Empirical(ds.x.values[-1], m), Empirical(ds.y.values[-1], n))
    assert ds.energy.values[-1] == pytest.approx(expected, rel=1e-12)


def test_mass_ratio_command_line_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "mass_ratio.nc"
    result = subprocess.run(
        [sys.executable, "-m", "compare", *"particles mass_ratio --N 30 --T 0.5 --nt 5 --events all --out".split(), str(out)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    pattern = rf"mass_ratio N=30/20: \d+ events \(\d+ crossings, \d+ sticks, \d+ merges\) to T=0.5 in \d+\.\d\d s -> {re.escape(str(out))}"
    assert re.fullmatch(pattern, result.stdout.strip())
    ds = read_dataset(out)
    assert ds.sizes["i"] == 30 and ds.sizes["j"] == 20 and ds.attrs["solver"] == SOLVER_GENERAL
    xr.testing.assert_identical(ds.drop_attrs(), run_particles("mass_ratio", N=30, T=0.5, nt=5).drop_attrs())
