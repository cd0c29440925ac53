"""Finite-volume schemes: exact invariants on fixed and random data, output times, validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers.continuum.energy import fv_energy_and_dissipation
from solvers.continuum.fv import solve_fv
from solvers.errors import SchemeError
from solvers.initial import cell_averages, density_from_spec

SCHEMES = ("fv1", "fv2")


def _grid(a: float, b: float, K: int) -> tuple[np.ndarray, float]:
    return np.linspace(a, b, K + 1), (b - a) / K


@pytest.mark.parametrize("scheme", SCHEMES)
def test_equal_densities_stay_stationary_to_round_off(scheme: str) -> None:
    tent = density_from_spec({"kind": "piecewise_linear", "nodes": [-1.0, 0.0, 1.0], "values": [0.0, 1.0, 0.0]})
    edges, dx = _grid(-1.0, 1.0, 400)
    rho0 = cell_averages(tent, edges)
    rho, eta, steps = solve_fv(rho0, rho0.copy(), dx, np.linspace(0.0, 3.0, 7), scheme=scheme)
    assert steps >= 6
    np.testing.assert_array_equal(rho, np.broadcast_to(rho0, rho.shape))
    np.testing.assert_array_equal(eta, rho)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_output_rows_are_the_requested_times(scheme: str) -> None:
    """Splitting [0, T] into more output times changes the answer only through the shortened steps."""
    bump_l = density_from_spec({"kind": "bump", "center": -0.5, "radius": 0.4})
    bump_r = density_from_spec({"kind": "bump", "center": 0.5, "radius": 0.4})
    edges, dx = _grid(-1.0, 1.0, 200)
    u, w = cell_averages(bump_l, edges), cell_averages(bump_r, edges)
    one, _, _ = solve_fv(u, w, dx, np.array([0.0, 0.3]), scheme=scheme)
    many, _, _ = solve_fv(u, w, dx, np.linspace(0.0, 0.3, 31), scheme=scheme)
    np.testing.assert_array_equal(many[0], u)
    assert np.abs(one[-1] - many[-1]).max() < 1e-2 * u.max()


@st.composite
def _random_data(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, float, str, float]:
    """Random non-negative cell averages of equal unit mass on [0, 1], padded by empty cells."""
    K = draw(st.integers(8, 60))
    pad = draw(st.integers(0, 5))
    values = st.lists(st.sampled_from([0.0, 0.0, 0.3, 1.0, 2.5, 7.0]), min_size=K, max_size=K)
    u = np.array(draw(values))
    w = np.array(draw(values))
    if u.sum() == 0.0 or w.sum() == 0.0:
        u[K // 3] += 1.0
        w[2 * K // 3] += 1.0
    dx = 1.0 / K
    u, w = u / (u.sum() * dx), w / (w.sum() * dx)
    u = np.concatenate((np.zeros(pad), u, np.zeros(pad)))
    w = np.concatenate((np.zeros(pad), w, np.zeros(pad)))
    return u, w, dx, draw(st.sampled_from(SCHEMES)), draw(st.sampled_from([0.1, 0.45, 0.5]))


@settings(max_examples=60, deadline=None)
@given(_random_data())
def test_invariants_on_random_data(data: tuple[np.ndarray, np.ndarray, float, str, float]) -> None:
    """Mass conserved, densities non-negative, max(rho, eta) never above its initial value, energy
    non-increasing, nothing leaves the hull of the initial joint support."""
    u, w, dx, scheme, cfl = data
    K = u.size
    x_edge = np.arange(K + 1) * dx
    rho, eta, _ = solve_fv(u, w, dx, np.linspace(0.0, 0.5, 11), scheme=scheme, cfl=cfl)
    mass_r, mass_e = rho.sum(axis=1) * dx, eta.sum(axis=1) * dx
    np.testing.assert_allclose(mass_r, mass_r[0], rtol=0, atol=1e-13)
    np.testing.assert_allclose(mass_e, mass_e[0], rtol=0, atol=1e-13)
    assert rho.min() >= 0.0 and eta.min() >= 0.0
    top = max(u.max(), w.max())
    assert max(rho.max(), eta.max()) <= top * (1.0 + 1e-12)
    energy, dissipation = fv_energy_and_dissipation(rho, eta, x_edge)
    # round-off of E = int d^2: d is a sum of K cell masses (error <= K eps |d|_max per point)
    d = np.cumsum((rho - eta) * dx, axis=1)
    roundoff = 4.0 * K * np.finfo(float).eps * np.abs(d).max() * (x_edge[-1] - x_edge[0])
    assert np.all(np.diff(energy) <= 1e-13 * energy[0] + roundoff)
    assert np.all(dissipation >= 0.0)
    occupied = np.flatnonzero((u + w) > 0)
    outside = np.r_[0 : occupied[0], occupied[-1] + 1 : K]
    assert np.abs(rho[:, outside]).max(initial=0.0) <= 1e-12 * top
    assert np.abs(eta[:, outside]).max(initial=0.0) <= 1e-12 * top


def test_each_species_alone_may_exceed_its_own_initial_sup() -> None:
    """Along a rho-characteristic d rho/dt = -2 rho (rho - eta): where eta > rho, rho grows. Only
    max(rho, eta) is bounded by its initial value (checked above), not each sup separately."""
    edges, dx = _grid(0.0, 1.0, 200)
    x = 0.5 * (edges[:-1] + edges[1:])
    u = np.ones(200)
    w = np.where(np.abs(x - 0.5) < 0.125, 4.0, 0.0)
    rho, eta, _ = solve_fv(u, w, dx, np.array([0.0, 0.05]), scheme="fv2")
    assert rho[-1].max() > 1.05 * u.max()
    assert max(rho[-1].max(), eta[-1].max()) <= 4.0


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"scheme": "fv3"}, "unknown finite-volume scheme"),
        ({"cfl": 0.6}, "cfl = 0.6"),
        ({"cfl": 0.0}, "cfl = 0.0"),
    ],
)
def test_bad_parameters_raise_one_line_scheme_errors(kwargs: dict, fragment: str) -> None:
    u = np.ones(10)
    with pytest.raises(SchemeError, match=fragment) as info:
        solve_fv(u, u, 0.1, np.array([0.0, 1.0]), **kwargs)
    assert "\n" not in str(info.value)


def test_bad_arrays_raise_scheme_errors() -> None:
    u = np.ones(10)
    with pytest.raises(SchemeError, match="too few"):
        solve_fv(np.ones(3), np.ones(3), 0.1, np.array([0.0, 1.0]))
    with pytest.raises(SchemeError, match="non-negative"):
        solve_fv(-u, u, 0.1, np.array([0.0, 1.0]))
    with pytest.raises(SchemeError, match="shapes"):
        solve_fv(u, np.ones(11), 0.1, np.array([0.0, 1.0]))
    with pytest.raises(SchemeError, match="strictly increasing"):
        solve_fv(u, u, 0.1, np.array([0.0, 1.0, 1.0]))
