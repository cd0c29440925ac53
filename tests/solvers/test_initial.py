"""Densities of the cases: exact CDFs and quantiles, validation, atomisation, cell averages."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compare.measures import Continuous, Empirical
from compare.metrics import wasserstein
from solvers.errors import DensityError
from solvers.initial import Bump, Density, atomise, cell_averages, density_from_spec

SPECS: dict[str, dict[str, Any]] = {
    "uniform": {"kind": "uniform", "a": -1.0, "b": 0.5},
    "piecewise_constant": {"kind": "piecewise_constant", "edges": [0, 1, 2, 3, 4], "values": [0, 1, 0, 3]},
    "piecewise_linear": {"kind": "piecewise_linear", "nodes": [-1, 0, 0.5, 2], "values": [0.5, 2, 0, 1]},
    "bump": {"kind": "bump", "center": 0.3, "radius": 0.7},
    "sum": {
        "kind": "sum",
        "parts": [
            {"kind": "bump", "center": -1.0, "radius": 0.5, "weight": 2.0},
            {"kind": "uniform", "a": 0.0, "b": 1.0, "weight": 1.0},
            {"kind": "piecewise_linear", "nodes": [0.5, 1.5], "values": [1.0, 0.0], "weight": 0.5},
        ],
    },
}


def gauss_integral(f: Any, breakpoints: np.ndarray, order: int = 8) -> np.ndarray:
    """Gauss-Legendre on every piece between breakpoints: exact for polynomials of degree < 2 order."""
    u, w = np.polynomial.legendre.leggauss(order)
    lo, hi = breakpoints[:-1, None], breakpoints[1:, None]
    with np.errstate(under="ignore"):
        nodes = 0.5 * (lo + hi) + 0.5 * (hi - lo) * u
        return np.sum(0.5 * (hi - lo) * w * f(nodes), axis=1)


@pytest.fixture(params=list(SPECS))
def density(request: pytest.FixtureRequest) -> Density:
    return density_from_spec(SPECS[request.param])


def test_cdf_is_the_exact_integral_of_the_pdf(density: Density) -> None:
    pieces = gauss_integral(density.pdf, density.breakpoints)
    expected = np.diff(density.cdf(density.breakpoints))
    np.testing.assert_allclose(pieces, expected, rtol=1e-13, atol=1e-15)
    assert density.cdf(density.support[0]) == 0.0
    assert density.cdf(density.support[1]) == 1.0
    assert pieces.sum() == pytest.approx(1.0, rel=1e-14)


def test_quantile_inverts_the_cdf(density: Density) -> None:
    s = np.linspace(0.0, 1.0, 1001)
    q = density.quantile(s)
    assert np.all(np.diff(q) >= 0)
    np.testing.assert_allclose(density.cdf(q), s, rtol=0, atol=4e-15)
    assert q[0] == density.support[0] and q[-1] == density.support[1]


def test_quantile_is_the_left_continuous_inverse(density: Density) -> None:
    s = np.linspace(0.001, 0.999, 500)
    q = density.quantile(s)
    below = q - 1e-9 * (1.0 + np.abs(q))
    assert np.all(density.cdf(below) < s)


def test_quantile_jumps_to_the_left_end_of_a_gap() -> None:
    d = density_from_spec(SPECS["piecewise_constant"])  # mass 1/4 on [1, 2], gap [2, 3], mass 3/4 on [3, 4]
    assert d.support == (1.0, 4.0)
    assert d.quantile(0.25) == 2.0
    assert d.quantile(np.nextafter(0.25, 1.0)) == pytest.approx(3.0, abs=1e-14)
    assert d.quantile(0.0) == 1.0


def test_max_density_is_the_supremum(density: Density) -> None:
    lo, hi = density.support
    grid = np.concatenate([np.linspace(lo, hi, 400_001), density.breakpoints - 1e-13, density.breakpoints])
    sampled = density.pdf(grid).max()
    assert density.max_density >= sampled - 1e-12
    assert density.max_density == pytest.approx(sampled, rel=1e-8)


def test_bump_is_c2_with_closed_form_cdf() -> None:
    d = Bump(center=0.5, radius=2.0)
    assert d.max_density == pytest.approx(35.0 / 64.0, rel=1e-15)
    ends = np.array(d.support)
    h = 1e-4
    assert np.all(d.pdf(ends) == 0.0)
    # pdf ~ c (dist to end)^3 near an end: first and second derivatives vanish there
    assert np.all(np.abs(d.pdf(ends + np.array([h, -h]))) < 1e-10)
    assert d.cdf(0.5) == pytest.approx(0.5, abs=1e-16)


def test_mass_is_normalised_and_spec_round_trips(density: Density) -> None:
    rebuilt = density_from_spec(density.spec)
    x = np.linspace(density.support[0] - 1, density.support[1] + 1, 777)
    np.testing.assert_array_equal(rebuilt.cdf(x), density.cdf(x))
    scaled = density_from_spec({"kind": "piecewise_constant", "edges": [0.0, 2.0], "values": [7.0]})
    assert scaled.pdf(1.0) == 0.5


def test_sum_is_the_weighted_mixture() -> None:
    d = density_from_spec(SPECS["sum"])
    parts = [density_from_spec({k: v for k, v in p.items() if k != "weight"}) for p in SPECS["sum"]["parts"]]
    x = np.linspace(-2, 2, 1001)
    expected = (2.0 * parts[0].cdf(x) + parts[1].cdf(x) + 0.5 * parts[2].cdf(x)) / 3.5
    np.testing.assert_allclose(d.cdf(x), expected, rtol=0, atol=1e-15)
    assert d.support == (-1.5, 1.5)


@st.composite
def piecewise_specs(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["piecewise_constant", "piecewise_linear"]))
    k = draw(st.integers(1, 8))
    widths = draw(st.lists(st.floats(0.01, 3.0), min_size=k, max_size=k))
    start = draw(st.floats(-5, 5))
    grid = (start + np.concatenate(([0.0], np.cumsum(widths)))).tolist()
    count = k if kind == "piecewise_constant" else k + 1
    values = draw(st.lists(st.floats(0.0, 10.0), min_size=count, max_size=count).filter(lambda v: sum(v) > 0.1))
    key = "edges" if kind == "piecewise_constant" else "nodes"
    return {"kind": kind, key: grid, "values": values}


@settings(max_examples=60, deadline=None)
@given(piecewise_specs(), st.lists(st.floats(0.0, 1.0), min_size=1, max_size=50))
def test_random_piecewise_quantiles_are_exact(spec: dict[str, Any], levels: list[float]) -> None:
    d = density_from_spec(spec)
    s = np.array(levels)
    q = d.quantile(s)
    np.testing.assert_allclose(d.cdf(q), s, rtol=0, atol=1e-13)
    assert np.all((q >= d.support[0]) & (q <= d.support[1]))
    order = np.argsort(s)
    assert np.all(np.diff(q[order]) >= 0)
    assert gauss_integral(d.pdf, d.breakpoints).sum() == pytest.approx(1.0, rel=1e-13)


BAD_SPECS = [
    ([1, 2], "must be a table"),
    ({"a": 0, "b": 1}, "no 'kind'"),
    ({"kind": "unifrom", "a": 0, "b": 1}, "did you mean 'uniform'"),
    ({"kind": "bump", "centre": 0, "radius": 1}, "did you mean 'center'"),
    ({"kind": "bump", "center": 0}, "missing key 'radius'"),
    ({"kind": "bump", "center": 0, "radius": 0}, "radius must be > 0"),
    ({"kind": "bump", "center": "0", "radius": 1}, "must be a number"),
    ({"kind": "bump", "center": True, "radius": 1}, "must be a number"),
    ({"kind": "uniform", "a": 1, "b": 1}, "a < b"),
    ({"kind": "uniform", "a": float("nan"), "b": 1}, "not finite"),
    ({"kind": "piecewise_constant", "edges": [0, 2, 1], "values": [1, 1]}, "strictly increasing"),
    ({"kind": "piecewise_constant", "edges": [0, 1, 2], "values": [1]}, "pass 2 values"),
    ({"kind": "piecewise_constant", "edges": [0, 1], "values": [-1]}, "must be >= 0"),
    ({"kind": "piecewise_constant", "edges": [0, 1], "values": [0]}, "total mass 0"),
    ({"kind": "piecewise_constant", "edges": [0, 1e300], "values": [1e300]}, "positive finite mass"),
    ({"kind": "piecewise_linear", "nodes": 3, "values": [1]}, "array of numbers"),
    ({"kind": "piecewise_linear", "nodes": [0, 1], "values": [1, float("inf")]}, "not finite"),
    ({"kind": "sum", "parts": []}, "non-empty list"),
    ({"kind": "sum", "parts": [{"kind": "uniform", "a": 0, "b": 1}]}, "no 'weight'"),
    ({"kind": "sum", "parts": [{"kind": "uniform", "a": 0, "b": 1, "weight": -1}]}, "weight must be > 0"),
    ({"kind": "sum", "parts": [{"kind": "uniform", "a": 0, "b": 1, "wieght": 1}]}, "no 'weight'"),
    ({"kind": "sum", "parts": [{"kind": "bump", "center": 0, "radius": -1, "weight": 1}]}, "rho0.parts[0].radius"),
]


@pytest.mark.parametrize(("spec", "fragment"), BAD_SPECS)
def test_bad_specs_raise_one_line_density_errors(spec: Any, fragment: str) -> None:
    with pytest.raises(DensityError) as info:
        density_from_spec(spec, name="rho0")
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message and message.startswith("rho0")


def test_atomisation_of_a_uniform_density_is_exact() -> None:
    d = density_from_spec({"kind": "uniform", "a": -1.0, "b": 1.0})
    N = 8
    right = atomise(d, N)
    mid = atomise(d, N, placement="mid")
    np.testing.assert_allclose(right, -1.0 + 2.0 * np.arange(1, N + 1) / N, rtol=0, atol=1e-15)
    np.testing.assert_allclose(mid, -1.0 + 2.0 * (np.arange(1, N + 1) - 0.5) / N, rtol=0, atol=1e-15)
    assert right.dtype == np.float64 and right[-1] == 1.0


def test_atomisation_cells_have_equal_mass(density: Density) -> None:
    N = 50
    x = atomise(density, N)
    assert x[-1] == density.support[1]
    np.testing.assert_allclose(np.diff(density.cdf(np.concatenate(([density.support[0]], x)))), 1.0 / N, atol=1e-14)
    mid = atomise(density, N, "mid")
    np.testing.assert_allclose(density.cdf(mid), (np.arange(1, N + 1) - 0.5) / N, atol=1e-14)


@pytest.mark.parametrize(("N", "placement", "fragment"), [(0, "right", "positive integer"), (2.5, "right", "positive integer"), (3, "left", "unknown placement")])
def test_atomise_rejects_bad_arguments(N: Any, placement: Any, fragment: str) -> None:
    with pytest.raises(DensityError, match=fragment):
        atomise(density_from_spec(SPECS["bump"]), N, placement)


def test_quantile_rejects_levels_outside_the_unit_interval() -> None:
    with pytest.raises(DensityError, match="quantile levels"):
        density_from_spec(SPECS["bump"]).quantile([0.5, 1.5])


def test_cell_averages_are_exact(density: Density) -> None:
    edges = np.linspace(density.support[0] - 0.3, density.support[1] + 0.2, 37)
    averages = cell_averages(density, edges)
    assert np.sum(averages * np.diff(edges)) == pytest.approx(1.0, abs=1e-15)
    exact = np.array([gauss_integral(density.pdf, np.unique(np.concatenate(([a, b], density.breakpoints[(density.breakpoints > a) & (density.breakpoints < b)])))).sum() for a, b in zip(edges[:-1], edges[1:])])
    # differences of F carry its round-off, a few ulps of 1
    np.testing.assert_allclose(averages * np.diff(edges), exact, rtol=1e-12, atol=1e-15)
    with pytest.raises(DensityError, match="strictly increasing"):
        cell_averages(density, [0.0, 1.0, 1.0])


def test_w1_of_the_atomisations() -> None:
    """Right ends: W1 = mean(atoms) - mean(density) (every atom is right of its cell), which for a
    symmetric density is exactly width/(2N); the midpoints halve it for a uniform density (ratio 2)."""
    uniform = density_from_spec({"kind": "uniform", "a": -1.0, "b": 0.5})
    bump = density_from_spec({"kind": "bump", "center": 0.3, "radius": 0.7})
    for d in (uniform, bump):
        mu = Continuous.from_density(d)
        width = d.support[1] - d.support[0]
        ratios = []
        for N in (10, 100, 400):
            right = wasserstein(Empirical(atomise(d, N, "right")), mu)
            mid = wasserstein(Empirical(atomise(d, N, "mid")), mu)
            assert right == pytest.approx(width / (2 * N), rel=1e-11)
            if d is uniform:
                assert mid == pytest.approx(width / (4 * N), rel=1e-11)
            ratios.append(right / mid)
        assert all(r >= 2.0 - 1e-9 for r in ratios)
        if d is bump:  # the ratio decreases towards 2: 2.65, 2.31, 2.21
            assert ratios == sorted(ratios, reverse=True) and ratios[-1] < 2.25
