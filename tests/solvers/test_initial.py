"""Densities of the cases: exact CDFs and quantiles, validation, atomisation, cell averages."""

from __future__ import annotations

import itertools
from decimal import Decimal, localcontext
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compare.metrics import wasserstein
from compare.metrics.measures import Continuous, Empirical
from solvers.errors import DensityError
from solvers.initial import Bump, Density, atomise, atomise_grid, cell_averages, density_from_spec, invert_increasing, root_tolerance

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
    assert d.quantile(0.0) == d.support[0] and d.quantile(1.0) == d.support[1]
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
    ({"kind": "delta"}, "missing key 'at' for kind 'delta'"),
    ({"kind": "delta", "at": float("inf")}, "rho0.at is not finite"),
    ({"kind": "sum", "parts": [{"kind": "delta", "weight": 1}]}, "rho0.parts[0]: missing key 'at'"),
    ({"kind": "singular", "a": 0, "b": 1, "center": 0.5, "alpha": 1.0}, "alpha = 1 is outside (0, 1)"),
    ({"kind": "singular", "a": 0, "b": 1, "center": 0.5, "alpha": 0.0}, "alpha = 0 is outside (0, 1)"),
    ({"kind": "singular", "a": 0, "b": 1, "center": 0.5, "alpha": -0.5}, "alpha = -0.5 is outside (0, 1)"),
    ({"kind": "singular", "a": 0, "b": 1, "center": 1.5, "alpha": 0.5}, "center = 1.5 is outside [a, b] = [0, 1]"),
    ({"kind": "singular", "a": 0, "b": 1, "center": -0.1, "alpha": 0.5}, "center = -0.1 is outside [a, b]"),
    ({"kind": "singular", "a": 1, "b": 1, "center": 1, "alpha": 0.5}, "singular needs a < b"),
    ({"kind": "singular", "a": 0, "b": 1, "center": 0.5}, "missing key 'alpha'"),
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


@pytest.mark.parametrize(
    ("N", "placement", "fragment"), [(0, "right", "positive integer"), (2.5, "right", "positive integer"), (3, "left", "unknown placement")]
)
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
    exact = np.array(
        [
            gauss_integral(
                density.pdf, np.unique(np.concatenate(([a, b], density.breakpoints[(density.breakpoints > a) & (density.breakpoints < b)])))
            ).sum()
            for a, b in itertools.pairwise(edges)
        ]
    )
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


# ---------------------------------------------------------------------------------------------
# Quantiles against a high-precision reference
# ---------------------------------------------------------------------------------------------


def decimal_bump_cdf(x: Decimal, center: float, radius: float) -> Decimal:
    """``I_t(4, 4)`` of the bump in 100-digit decimal arithmetic."""
    with localcontext() as context:
        context.prec = 100
        t = min(max((x - Decimal(center) + Decimal(radius)) / (2 * Decimal(radius)), Decimal(0)), Decimal(1))
        return t**4 * (35 - 84 * t + 70 * t**2 - 20 * t**3)


def decimal_bisection(F: Any, s: float, lo: float, hi: float) -> float:
    """``inf{x : F(x) >= s}`` by 200 bisection steps in decimal arithmetic, rounded to float."""
    a, b, target = Decimal(lo), Decimal(hi), Decimal(s)
    with localcontext() as context:
        context.prec = 100
        for _ in range(200):
            mid = (a + b) / 2
            a, b = (a, mid) if F(mid) >= target else (mid, b)
    return float(b)


TAIL_LEVELS = np.concatenate(
    (np.linspace(0.0, 1.0, 101), np.logspace(-15, -2, 14), 1.0 - np.logspace(-15, -2, 14), 1.0 - np.arange(5) / 10**5)
)
TWO_BUMPS = {
    "kind": "sum",
    "parts": [
        {"kind": "bump", "center": -0.2, "radius": 0.5, "weight": 2.0},
        {"kind": "bump", "center": 0.4, "radius": 0.3, "weight": 1.0},
    ],
}


@pytest.mark.parametrize("spec", [SPECS["bump"], TWO_BUMPS])
def test_quantile_matches_a_high_precision_bisection(spec: dict[str, Any]) -> None:
    """Newton on the exact CDF (and on 1 - F for s > 1/2) is exact to round-off, in both tails too:
    the former bisection on F missed by up to 1.4e-6 at s = 1 - 1e-15."""
    parts = spec["parts"] if spec["kind"] == "sum" else [{**spec, "weight": 1.0}]
    total = sum(Decimal(p["weight"]) for p in parts)

    def F(x: Decimal) -> Decimal:
        return sum(Decimal(p["weight"]) * decimal_bump_cdf(x, p["center"], p["radius"]) for p in parts) / total

    d = density_from_spec(spec)
    reference = np.array([decimal_bisection(F, s, *d.support) for s in TAIL_LEVELS])
    np.testing.assert_allclose(d.quantile(TAIL_LEVELS), reference, rtol=0, atol=4.5e-16)


@pytest.mark.parametrize("values", [[3.0, 0.0], [1.0, 3.0, 0.0], [0.5, 2.0, 1.0, 0.0]])
def test_piecewise_linear_quantile_is_stable_where_the_density_vanishes(values: list[float]) -> None:
    """Where the pdf falls to 0 at the right end, 1 - s is the mass right of the point: the root taken
    from that end has no cancellation (the root from the left end missed by 4e-9 at s = 1 - 1e-15)."""
    nodes = np.linspace(0.0, 1.3, len(values))
    d = density_from_spec({"kind": "piecewise_linear", "nodes": nodes.tolist(), "values": values})
    slope = Decimal(d.slopes[-1])  # the pdf is -slope * w at distance w < h from the right end

    def F(x: Decimal) -> Decimal:
        w = Decimal(nodes[-1]) - x
        return 1 - (-slope) * w * w / 2

    s = 1.0 - np.logspace(-15, -3, 13)
    reference = np.array([decimal_bisection(F, level, nodes[-2], nodes[-1]) for level in s])
    np.testing.assert_allclose(d.quantile(s), reference, rtol=0, atol=1e-15)


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "piecewise_linear", "nodes": [0, 1.28515625], "values": [1, 2]},
        {"kind": "piecewise_linear", "nodes": [-1, 0.3, 1.7], "values": [0, 2, 1]},
        {"kind": "piecewise_linear", "nodes": [-1, 0.3, 1.7, 2.0], "values": [0, 2, 0, 0]},
        {"kind": "uniform", "a": -1.0, "b": 0.3},
        TWO_BUMPS,
    ],
)
def test_atomisation_ends_exactly_at_the_support_end(spec: dict[str, Any]) -> None:
    d = density_from_spec(spec)
    for N in (1, 7, 1000):
        assert atomise(d, N)[-1] == d.support[1]
    assert d.quantile(0.0) == d.support[0] and d.quantile(1.0) == d.support[1]


def test_quantile_of_the_cdf_is_the_identity(density: Density) -> None:
    """Q(F(x)) = x where the pdf is not small (there F(x) pins x down to round-off)."""
    lo, hi = density.support
    x = np.linspace(lo, hi, 2001)
    x = x[np.minimum(density.pdf(x), density.pdf(x - 1e-9)) >= 0.1 * density.max_density]  # not at a gap's right end
    np.testing.assert_allclose(density.quantile(density.cdf(x)), x, rtol=0, atol=2e-14 * (hi - lo))


def test_quantile_at_a_gap_of_a_sum() -> None:
    """Uniform mass 1/4 on [-2, -1], bump mass 3/4 on [1, 2]: Q(1/4) = -1 (left end of the gap),
    just above 1/4 the bump's left tail."""
    d = density_from_spec(
        {
            "kind": "sum",
            "parts": [
                {"kind": "uniform", "a": -2.0, "b": -1.0, "weight": 1.0},
                {"kind": "bump", "center": 1.5, "radius": 0.5, "weight": 3.0},
            ],
        }
    )
    assert d.quantile(0.25) == -1.0
    # one ulp above 1/4: exactly 1 + t with 3/4 35 t^4 = ulp, t = 3.8e-5; F near there is 1/4 + 3/4 I_t(4, 4)
    # rounded to an ulp of 1/4, which pins x down only to within about 1e-5
    s = np.nextafter(0.25, 1.0)
    expected = 1.0 + float((Decimal(s - 0.25) * 4 / 3 / 35) ** Decimal("0.25"))
    assert d.quantile(s) == pytest.approx(expected, abs=1e-5)
    assert np.all(np.diff(d.quantile(np.linspace(0.2, 0.3, 1001))) >= 0.0)


def test_invert_increasing_brackets_and_flat_stretches() -> None:
    """f(x) = x^3 on [-1, 0], flat 0 on [0, 1], x - 1 on [1, 2]: a target at the flat level gives the
    stretch's left end, others the exact root; targets outside the table give its ends."""
    grid = np.linspace(-1.0, 2.0, 31)

    def f(x: np.ndarray) -> np.ndarray:
        return np.where(x < 0.0, x**3, np.maximum(x - 1.0, 0.0))

    def df(x: np.ndarray) -> np.ndarray:
        return np.where(x < 0.0, 3.0 * x**2, np.where(x >= 1.0, 1.0, 0.0))

    target = np.array([[-2.0, -0.125, 0.0], [1e-300, 0.5, 5.0]])
    x = invert_increasing(f, df, grid, f(grid), target, root_tolerance(grid))
    assert x.shape == target.shape
    np.testing.assert_allclose(x, [[-1.0, -0.5, 0.0], [1.0, 1.5, 2.0]], rtol=0, atol=1e-15)


# ---------------------------------------------------------------------------------------------
# Initial data outside Theorem 5.1: point masses and densities in L^1 only
# ---------------------------------------------------------------------------------------------

ATOMIC = {
    "kind": "sum",
    "parts": [
        {"kind": "uniform", "a": -1.0, "b": 1.0, "weight": 2.0},
        {"kind": "delta", "at": 0.25, "weight": 1.0},
        {"kind": "delta", "at": 1.5, "weight": 1.0},
    ],
}


def test_a_point_mass_alone() -> None:
    d = density_from_spec({"kind": "delta", "at": -0.3})
    assert d.support == (-0.3, -0.3)
    np.testing.assert_array_equal(d.atoms, [[-0.3, 1.0]])
    np.testing.assert_array_equal(d.components, [[-0.3, -0.3]])
    np.testing.assert_array_equal(d.cdf([-0.31, -0.3, 0.0]), [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(d.cdf_left([-0.3, -0.29]), [0.0, 1.0])
    np.testing.assert_array_equal(d.quantile(np.linspace(0.0, 1.0, 7)), np.full(7, -0.3))
    # no density: inf at the point, 0 elsewhere, and the absolutely continuous part is 0
    assert d.pdf(-0.3) == np.inf and d.pdf(0.0) == 0.0 and d.continuous_pdf(-0.3) == 0.0
    assert d.max_density == np.inf
    np.testing.assert_array_equal(atomise(d, 5), np.full(5, -0.3))
    np.testing.assert_array_equal(atomise_grid(d, 8, mass=2.0), ([-0.3], [2.0]))
    assert density_from_spec(d.spec).spec == d.spec


def test_quantile_of_a_sum_with_point_masses_is_flat_on_their_levels() -> None:
    """uniform [-1, 1] (weight 1/2) with point masses 1/4 at 0.25 and at 1.5: F jumps from 5/16 to 9/16
    at 0.25 and from 3/4 to 1 at 1.5 (a gap [1, 1.5] before it); Q(s) = 0.25 exactly for
    5/16 < s <= 9/16, 1.5 for s > 3/4, and the left-continuous inverse elsewhere, checked by bisection
    on the exact CDF (levels at the ends of the jumps included)."""
    d = density_from_spec(ATOMIC)
    np.testing.assert_array_equal(d.atoms, [[0.25, 0.25], [1.5, 0.25]])
    np.testing.assert_array_equal(d.components, [[-1.0, 1.0], [1.5, 1.5]])
    assert d.cdf_left(0.25) == 0.3125 and d.cdf(0.25) == 0.5625 and d.cdf_left(1.5) == 0.75 and d.cdf(1.5) == 1.0
    assert d.max_density == np.inf and d.pdf(0.25) == np.inf and d.pdf(0.0) == 0.25 and d.continuous_pdf(0.25) == 0.25
    jumps = [0.3125, np.nextafter(0.3125, 1.0), 0.5625, np.nextafter(0.5625, 1.0), 0.75, np.nextafter(0.75, 1.0)]
    s = np.concatenate((np.linspace(0.0, 1.0, 401), jumps))
    q = d.quantile(s)
    np.testing.assert_array_equal(q[(s > 0.3125) & (s <= 0.5625)], 0.25)
    np.testing.assert_array_equal(q[s > 0.75], 1.5)
    assert d.quantile(0.75) == 1.0  # the left end of the gap before the second point mass

    def F(x: Decimal) -> Decimal:
        u = min(max((x + 1) / 2, Decimal(0)), Decimal(1))
        return u / 2 + (Decimal(1) / 4 if x >= Decimal("0.25") else 0) + (Decimal(1) / 4 if x >= Decimal("1.5") else 0)

    reference = np.array([decimal_bisection(F, level, -1.0, 1.5) for level in s])
    reference[s == 0.0] = -1.0  # Q(0) = min supp by convention (the bisection gives inf{F >= 0} = -inf)
    np.testing.assert_allclose(q, reference, rtol=0, atol=4.5e-16)


def test_atomisation_puts_a_cluster_on_a_point_mass() -> None:
    """Right ends (65): x_i = Q(i/N) sits on the point mass at 0.25 exactly for the i with
    5/16 <= i/N <= 9/16 and at 1.5 for 3/4 < i/N; the grid atomisation keeps a point mass at the left end."""
    d = density_from_spec(ATOMIC)
    N = 64
    x = atomise(d, N)
    i = np.arange(1, N + 1)
    # F(0.25-) = 5/16 = 20/64 is reached at 0.25 too (no gap before it): x_20 sits on the point mass
    np.testing.assert_array_equal(np.flatnonzero(x == 0.25), np.flatnonzero((i / N >= 0.3125) & (i / N <= 0.5625)))
    np.testing.assert_array_equal(np.flatnonzero(x == 1.5), np.flatnonzero(i / N > 0.75))
    left_atom = density_from_spec(
        {"kind": "sum", "parts": [{"kind": "delta", "at": 0.0, "weight": 1.0}, {"kind": "uniform", "a": 0, "b": 1, "weight": 3.0}]}
    )
    positions, masses = atomise_grid(left_atom, 4)
    np.testing.assert_allclose(masses, [0.25 + 0.1875, 0.1875, 0.1875, 0.1875], rtol=0, atol=1e-16)
    np.testing.assert_array_equal(positions, [0.125, 0.375, 0.625, 0.875])


def test_finite_volumes_refuse_point_masses_with_one_line() -> None:
    with pytest.raises(DensityError) as info:
        cell_averages(density_from_spec(ATOMIC), np.linspace(-1.0, 2.0, 31))
    message = str(info.value)
    assert "\n" not in message and "point mass at x = 0.25" in message and "lagrangian" in message and "fv1, fv2" in message


def mpmath_singular_cdf(x: Any, a: float, b: float, center: float, alpha: float) -> Any:
    """``F(x)`` of the singular density in 40-digit arithmetic from the antiderivative of
    ``|t - center|^(-alpha)``, written plainly: ``(A - (c - x)^beta) / (A + B)`` left of the centre,
    ``(A + (x - c)^beta) / (A + B)`` right of it (``A = (c - a)^beta``, ``B = (b - c)^beta``)."""
    import mpmath

    with mpmath.workdps(40):
        a_, b_, c_ = (mpmath.mpf(v) for v in (a, b, center))
        x_ = min(max(mpmath.mpf(x), a_), b_)
        beta = 1 - mpmath.mpf(alpha)
        A, B = (c_ - a_) ** beta, (b_ - c_) ** beta
        return (A - (c_ - x_) ** beta) / (A + B) if x_ <= c_ else (A + (x_ - c_) ** beta) / (A + B)


def mpmath_bisection(F: Any, s: float, lo: float, hi: float) -> float:
    """``inf{x : F(x) >= s}`` by 120 bisection steps in 40-digit arithmetic, rounded to float."""
    import mpmath

    with mpmath.workdps(40):
        a, b, target = mpmath.mpf(lo), mpmath.mpf(hi), mpmath.mpf(s)
        for _ in range(120):
            mid = (a + b) / 2
            a, b = (a, mid) if F(mid) >= target else (mid, b)
        return float(b)


SINGULAR = [
    {"kind": "singular", "a": -1.0, "b": 2.0, "center": 0.3, "alpha": 0.5},
    {"kind": "singular", "a": 0.5, "b": 1.5, "center": 0.5, "alpha": 0.9},
    {"kind": "singular", "a": -3.0, "b": -1.0, "center": -1.0, "alpha": 0.2},
]


@pytest.mark.parametrize("spec", SINGULAR, ids=["inside", "left-end", "right-end"])
def test_singular_cdf_and_quantile_match_high_precision_references(spec: dict[str, Any]) -> None:
    """The float CDF against its 40-digit evaluation (relative accuracy in both tails: the forms with
    ``expm1``/``log1p``), and the closed-form quantile against 40-digit bisection on that reference, in
    both tails and around the centre (where the quantile is flat)."""
    d = density_from_spec(spec)
    a, b, c, alpha = (spec[k] for k in ("a", "b", "center", "alpha"))
    x = np.concatenate((np.linspace(a, b, 13), a + np.logspace(-12, -2, 4), c + np.array([-1e-6, 1e-6, 1e-3])))
    x = np.clip(x, a, b)
    reference = np.array([float(mpmath_singular_cdf(xk, a, b, c, alpha)) for xk in x])
    np.testing.assert_allclose(d.cdf(x), reference, rtol=1e-14, atol=1e-300)
    tail = b - np.logspace(-12, -2, 4)
    tail_reference = np.array([float(1 - mpmath_singular_cdf(xk, a, b, c, alpha)) for xk in tail])
    np.testing.assert_allclose(d._sf(tail), tail_reference, rtol=1e-14, atol=1e-300)
    s_c = float(mpmath_singular_cdf(c, a, b, c, alpha))
    levels = np.concatenate(
        (np.linspace(0.0, 1.0, 9)[1:-1], [1e-14, 1e-6, 1.0 - 1e-14, 1.0 - 1e-6], np.clip(s_c + np.array([-1e-3, 1e-3]), 1e-3, 1 - 1e-3))
    )
    q_reference = np.array([mpmath_bisection(lambda z: mpmath_singular_cdf(z, a, b, c, alpha), level, a, b) for level in levels])
    np.testing.assert_allclose(d.quantile(levels), q_reference, rtol=0, atol=4.5e-16 * max(abs(a), abs(b)))


def test_singular_density_integrates_to_its_cdf_and_is_unbounded_only_at_the_centre() -> None:
    """The float pdf agrees with ``|x - c|^(-alpha) / Z`` (Z by 30-digit quadrature), and 30-digit
    quadrature of that pdf (tanh-sinh copes with the integrable singularity at a piece's end) gives
    the CDF differences."""
    import mpmath

    spec = SINGULAR[0]
    d = density_from_spec(spec)
    a, b, c, alpha = (spec[k] for k in ("a", "b", "center", "alpha"))
    assert d.pdf(c) == np.inf and d.max_density == np.inf
    np.testing.assert_array_equal(d.unbounded_points, [c])
    np.testing.assert_array_equal(d.breakpoints, [a, c, b])
    with mpmath.workdps(30):
        power = lambda t: abs(t - mpmath.mpf(c)) ** (-mpmath.mpf(alpha))  # noqa: E731
        Z = mpmath.quad(power, [a, c, b])
        x = np.concatenate((np.linspace(a, b, 31)[:-1], c + np.array([-1e-9, 1e-9])))
        x = x[x != c]
        np.testing.assert_allclose(d.pdf(x), [float(power(mpmath.mpf(xk)) / Z) for xk in x], rtol=1e-14)
        for lo, hi in ((-1.0, -0.2), (-0.2, 0.3), (0.3, 0.31), (0.31, 2.0)):
            assert float(mpmath.quad(power, [lo, hi]) / Z) == pytest.approx(float(d.cdf(hi) - d.cdf(lo)), rel=1e-13)
    assert d.cdf(d.support[0]) == 0.0 and d.cdf(d.support[1]) == 1.0


def test_singular_density_is_in_l1_but_not_in_lm_for_m_at_least_one_over_alpha() -> None:
    """Exact cell averages of |x|^(-1/2) on [-1, 1]: the discrete ||.||_m^m = sum dx avg^m stay bounded for
    m = 1.5 < 1/alpha = 2 (they converge) and grow without bound for m = 2 (like log(1/dx)) and m = 3."""
    d = density_from_spec({"kind": "singular", "a": -1.0, "b": 1.0, "center": 0.0, "alpha": 0.5})
    norms = {m: [] for m in (1.5, 2.0, 3.0)}
    for cells in (2**8, 2**12, 2**16):
        edges = np.linspace(-1.0, 1.0, cells + 1)
        averages = cell_averages(d, edges)
        assert np.sum(averages * np.diff(edges)) == pytest.approx(1.0, abs=1e-13)
        for m in norms:
            norms[m].append(float(np.sum(np.diff(edges) * averages**m)))
    exact_l15 = 2.0 * 0.25**1.5 / (1.0 - 0.75)  # int_{-1}^{1} (|x|^(-1/2)/4)^1.5 dx = 1
    increments = np.diff(norms[1.5])
    assert np.all(increments > 0) and norms[1.5][-1] < exact_l15 and increments[1] < 0.6 * increments[0]
    assert exact_l15 - norms[1.5][-1] < 0.03
    growth = np.diff(norms[2.0])
    assert np.all(growth > 0.1) and growth[1] == pytest.approx(growth[0], rel=0.05)  # log(1/dx): equal steps
    # m = 3: sum dx avg^3 ~ dx^(1 - 3/2), a factor 16^(1/2) = 4 per 16-fold refinement
    assert norms[3.0][2] / norms[3.0][1] == pytest.approx(4.0, rel=0.02) and norms[3.0][1] / norms[3.0][0] == pytest.approx(4.0, rel=0.02)


def test_quantile_of_a_sum_with_a_singular_part() -> None:
    """Newton with infinite derivative at the centre: a uniform plus a singular part; the quantile is the
    left-continuous inverse and agrees with bisection on the exact CDF (decimal, 100 digits) to round-off."""
    spec = {
        "kind": "sum",
        "parts": [
            {"kind": "uniform", "a": -1.0, "b": 1.0, "weight": 1.0},
            {"kind": "singular", "a": 0.0, "b": 1.0, "center": 0.4, "alpha": 0.7, "weight": 1.0},
        ],
    }
    d = density_from_spec(spec)
    assert d.max_density == np.inf and d.pdf(0.4) == np.inf
    part = spec["parts"][1]
    singular = density_from_spec({k: v for k, v in part.items() if k != "weight"})
    center, beta = Decimal(part["center"]), Decimal(1.0 - part["alpha"])  # the float parameters, exactly
    A, B = (center - Decimal(part["a"])) ** beta, (Decimal(part["b"]) - center) ** beta

    def F(x: Decimal) -> Decimal:
        with localcontext() as context:
            context.prec = 60
            u = min(max((x + 1) / 2, Decimal(0)), Decimal(1))
            y = min(max(x, Decimal(0)), Decimal(1)) - center
            g = (A - (-y) ** beta) if y < 0 else (A + y**beta)
            return (u + g / (A + B)) / 2

    s = np.concatenate((np.linspace(0.0, 1.0, 21), [0.5 + singular.s_center / 2 + e for e in (-1e-9, 0.0, 1e-9)]))
    reference = np.array([decimal_bisection(F, level, -1.0, 1.0) for level in s])
    np.testing.assert_allclose(d.quantile(s), reference, rtol=0, atol=4.5e-16)
