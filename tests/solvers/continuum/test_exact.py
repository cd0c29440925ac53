"""Exact separated solution: the closed forms of MATH.md section 1, checked by computation."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from compare.metrics.measures import Continuous
from solvers.continuum.exact import SeparatedSolution
from solvers.errors import DensityError, InputError
from solvers.initial import density_from_spec
from tests.solvers.test_initial import decimal_bisection, decimal_bump_cdf

BUMPS = (
    {"kind": "bump", "center": -1.0, "radius": 0.5},
    {"kind": "bump", "center": 1.0, "radius": 0.5},
)
TWO_BUMPS_AROUND = (
    {
        "kind": "sum",
        "parts": [
            {"kind": "uniform", "a": -2.0, "b": -1.0, "weight": 1.0},
            {"kind": "bump", "center": 1.5, "radius": 0.5, "weight": 3.0},
        ],
    },
    {"kind": "piecewise_linear", "nodes": [-0.5, 0.0, 0.5], "values": [0.0, 1.0, 0.0]},
)


def _solution(specs: tuple[dict, dict]) -> SeparatedSolution:
    return SeparatedSolution(density_from_spec(specs[0]), density_from_spec(specs[1]))


def test_rho_left_of_eta_closed_form_and_contact_time() -> None:
    sol = _solution(BUMPS)
    assert sol.contact_time == pytest.approx(0.25, rel=1e-15)
    s = np.linspace(0.0, 1.0, 101)
    t = 0.2
    np.testing.assert_allclose(sol.rho(t).quantile(s), sol.rho0.quantile(s) + 2.0 * s * t, rtol=0, atol=1e-15)
    np.testing.assert_allclose(sol.eta(t).quantile(s), sol.eta0.quantile(s) - 2.0 * (1.0 - s) * t, rtol=0, atol=1e-15)
    rho_t = sol.rho(sol.contact_time)
    eta_t = sol.eta(sol.contact_time)
    assert rho_t.support[1] == pytest.approx(eta_t.support[0], abs=1e-15)


@pytest.mark.parametrize("specs", [BUMPS, TWO_BUMPS_AROUND])
@pytest.mark.parametrize("t", [0.0, 0.07, 0.12])
def test_cdf_quantile_and_density_are_consistent(specs: tuple[dict, dict], t: float) -> None:
    sol = _solution(specs)
    for marginal in (sol.rho(t), sol.eta(t)):
        s = np.linspace(0.0, 1.0, 201)[1:-1]
        np.testing.assert_allclose(marginal.cdf(marginal.quantile(s)), s, rtol=0, atol=1e-12)
        a, b = marginal.support
        assert marginal.cdf(np.array([a - 1.0, b]))[[0, 1]].tolist() == [0.0, 1.0]
        x = np.linspace(a, b, 4001)
        h = 1e-6
        derivative = (marginal.cdf(x + h) - marginal.cdf(x - h)) / (2 * h)
        away = np.min(np.abs(x[:, None] - marginal.breakpoints[None, :]), axis=1) > 1e-4
        np.testing.assert_allclose(derivative[away], marginal.pdf(x[away]), rtol=0, atol=1e-6)
        measure = Continuous.from_density(marginal)
        assert measure.mass == pytest.approx(1.0, abs=1e-14)


def test_density_along_characteristics() -> None:
    """rho(X(s,t), t) = rho0(X0(s)) / (1 + 2 t rho0(X0(s)))."""
    sol = _solution(BUMPS)
    s = np.linspace(0.05, 0.95, 19)
    t = 0.2
    d0 = sol.rho0.pdf(sol.rho0.quantile(s))
    np.testing.assert_allclose(sol.rho(t).pdf(sol.rho(t).quantile(s)), d0 / (1.0 + 2.0 * t * d0), rtol=1e-12)


def test_quantiles_solve_the_pseudo_inverse_equations() -> None:
    """d/dt X(s,t) = 2 s - 2 F_eta(X(s,t)) and d/dt Y = 2 s - 2 F_rho(Y), by central differences in t."""
    sol = _solution(TWO_BUMPS_AROUND)
    s = np.linspace(0.01, 0.99, 99)
    t, h = 0.1, 1e-4
    for mine, other in ((sol.rho, sol.eta), (sol.eta, sol.rho)):
        dXdt = (mine(t + h).quantile(s) - mine(t - h).quantile(s)) / (2 * h)
        velocity = 2.0 * s - 2.0 * other(t).cdf(mine(t).quantile(s))
        np.testing.assert_allclose(dXdt, velocity, rtol=0, atol=1e-9)


def test_contact_time_with_eta_inside_a_gap_of_rho() -> None:
    """rho = 1/4 on [-2, -1] and 3/4 bump on [1, 2], eta the tent on [-0.5, 0.5] in the gap.
    rho's left block moves right at 2 (1/4) - 0 at its right end; eta's left end moves at 2 (0 - 1/4);
    the gap 0.5 closes at relative speed 1 -> t = 0.5. The right gap: eta's right end at speed
    2 (1 - 1/4) = 1.5, rho's right block's left end at 2 (1/4 - 1) = -1.5, gap 0.5 -> t = 1/6."""
    sol = _solution(TWO_BUMPS_AROUND)
    assert sol.contact_time == pytest.approx(1.0 / 6.0, rel=1e-14)
    rho_t = sol.rho(sol.contact_time)
    assert rho_t.moved_components[1, 0] == pytest.approx(sol.eta(sol.contact_time).support[1], abs=1e-14)
    # the gap of rho keeps no mass: the CDF is flat across it
    gap = np.linspace(rho_t.moved_components[0, 1], rho_t.moved_components[1, 0], 7)
    np.testing.assert_allclose(rho_t.cdf(gap), 0.25, rtol=0, atol=1e-15)


def test_validation() -> None:
    with pytest.raises(DensityError, match="overlap"):
        _solution(({"kind": "uniform", "a": 0.0, "b": 1.0}, {"kind": "uniform", "a": 0.5, "b": 2.0}))
    sol = _solution(BUMPS)
    with pytest.raises(InputError, match="contact time"):
        sol.rho(0.3)
    with pytest.raises(InputError, match="outside"):
        sol.eta(-0.1)


@pytest.mark.parametrize("specs", [BUMPS, TWO_BUMPS_AROUND])
def test_unequal_masses_solve_the_pseudo_inverse_equations(specs: tuple[dict, dict]) -> None:
    """Species 1.3 rho0 and 0.6 eta0: levels in [0, M], d/dt X(s,t) = (2 s - M_rho) - (2 F_eta(X) - M_eta)
    and symmetrically, the masses are M_rho, M_eta, and cdf and quantile are inverse."""
    M = {"rho": 1.3, "eta": 0.6}
    sol = SeparatedSolution(density_from_spec(specs[0]), density_from_spec(specs[1]), M["rho"], M["eta"])
    t, h = 0.5 * sol.contact_time, 1e-4
    for name, other in (("rho", "eta"), ("eta", "rho")):
        mine, theirs = getattr(sol, name), getattr(sol, other)
        s = np.linspace(0.01, 0.99, 99) * M[name]
        dXdt = (mine(t + h).quantile(s) - mine(t - h).quantile(s)) / (2 * h)
        velocity = (2.0 * s - M[name]) - (2.0 * theirs(t).cdf(mine(t).quantile(s)) - M[other])
        np.testing.assert_allclose(dXdt, velocity, rtol=0, atol=1e-9)
        np.testing.assert_allclose(mine(t).cdf(mine(t).quantile(s)), s, rtol=0, atol=1e-12)
        assert Continuous.from_density(mine(t)).mass == pytest.approx(M[name], rel=1e-14)


def test_unequal_masses_contact_time() -> None:
    """Bumps at -1 and 1 of radius 1/2 with masses 1.3 and 0.6: rho's right end moves at
    (2 M_rho - M_rho) - (0 - M_eta) = 1.9, eta's left end at -M_eta - M_rho = -1.9; gap 1 -> t = 1/3.8."""
    sol = SeparatedSolution(density_from_spec(BUMPS[0]), density_from_spec(BUMPS[1]), 1.3, 0.6)
    assert sol.contact_time == pytest.approx(1.0 / 3.8, rel=1e-14)
    assert sol.rho(sol.contact_time).support[1] == pytest.approx(sol.eta(sol.contact_time).support[0], abs=1e-14)
    # the left end of rho moves outwards at M_rho - M_eta: the support grows
    assert sol.rho(0.2).support[0] == pytest.approx(-1.5 - 0.7 * 0.2, abs=1e-14)
    with pytest.raises(InputError, match="positive finite mass"):
        SeparatedSolution(sol.rho0, sol.eta0, 0.0, 1.0)


def test_cdf_matches_a_high_precision_solution() -> None:
    """rho left of eta (BUMPS), t = 0.2: F(x, t) = F0(y) with y + 2 t F0(y) = x, solved in 100-digit
    decimal arithmetic; the Newton inversion agrees to round-off, tails included."""
    sol = _solution(BUMPS)
    t = 0.2
    marginal = sol.rho(t)
    center, radius = BUMPS[0]["center"], BUMPS[0]["radius"]
    a, b = marginal.support
    x = np.concatenate((np.linspace(a, b, 61), a + np.logspace(-12, -2, 6), b - np.logspace(-12, -2, 6)))

    def characteristic(y: Decimal) -> Decimal:
        return y + 2 * Decimal(t) * decimal_bump_cdf(y, center, radius)

    y = [decimal_bisection(characteristic, xk, *sol.rho0.support) for xk in x]
    reference = np.array([float(decimal_bump_cdf(Decimal(yk), center, radius)) for yk in y])
    np.testing.assert_allclose(marginal.cdf(x), reference, rtol=0, atol=1e-15)
    s = np.linspace(0.0, 1.0, 1001)
    np.testing.assert_allclose(marginal.cdf(marginal.quantile(s)), s, rtol=0, atol=1e-15)


@pytest.mark.parametrize("specs", [BUMPS, TWO_BUMPS_AROUND], ids=["bumps", "gapped"])
def test_energy_and_dissipation_against_quadrature_of_the_marginals(specs: tuple[dict, dict]) -> None:
    """``SeparatedSolution.energy(t) = E(0) - D t`` and the closed-form D agree with adaptive quadrature
    of ``integral (F_rho - F_eta)^2`` and of ``integral rho v^2`` on the marginals at time t."""
    from compare.metrics import measure_energy

    sol = _solution(specs)
    for t in np.linspace(0.0, min(sol.contact_time, 0.3), 4):
        rho, eta = sol.rho(t), sol.eta(t)
        assert sol.energy(t) == pytest.approx(measure_energy(Continuous.from_density(rho), Continuous.from_density(eta)), rel=1e-13)
        dissipation = 0.0
        for marginal, other in ((rho, eta), (eta, rho)):
            s = np.linspace(0.0, 1.0, 200_001)[1:-1]
            x = marginal.quantile(s)
            v = 2.0 * s - 2.0 * np.asarray(other.cdf(x))
            dissipation += float(np.mean(v**2))
        assert sol.dissipation == pytest.approx(dissipation, rel=1e-5)
