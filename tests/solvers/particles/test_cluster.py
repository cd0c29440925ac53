"""The exact cluster solver: the minimiser of the cluster problem of MATH.md section 2."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from solvers.errors import ParticleInputError
from solvers.particles.cluster import cluster_velocities


def objective(hx: np.ndarray, hy: np.ndarray, wx: np.ndarray, ux: np.ndarray, wy: np.ndarray, uy: np.ndarray) -> float:
    """Phi(h) = sum w (h - u)^2 / 2 + sum m n |h_x - h_y|."""
    return float(
        0.5 * np.sum(wx * (hx - ux) ** 2) + 0.5 * np.sum(wy * (hy - uy) ** 2) + np.sum(np.outer(wx, wy) * np.abs(hx[:, None] - hy[None, :]))
    )


def level_set_cost(lam: float, a: int, b: int, wx: np.ndarray, ux: np.ndarray, wy: np.ndarray, uy: np.ndarray) -> float:
    """G_lambda(S) for S = the last a x-particles and the last b y-particles."""
    Kx, Ky = wx.size, wy.size
    in_x, in_y = np.arange(Kx) >= Kx - a, np.arange(Ky) >= Ky - b
    cut = np.sum(np.outer(wx, wy) * (in_x[:, None] != in_y[None, :]))
    return float(np.sum(wx[in_x] * (lam - ux[in_x])) + np.sum(wy[in_y] * (lam - uy[in_y])) + cut)


def exact_velocities(wx: np.ndarray, ux: np.ndarray, wy: np.ndarray, uy: np.ndarray) -> list[Fraction]:
    """The minimiser (hx then hy) in exact rational arithmetic on the given floats: the lower envelope of
    the lines G_lambda(S) = W(S) lambda + I(S) over the (K_x + 1)(K_y + 1) upper sets S."""
    w = [Fraction(float(v)) for v in np.concatenate([wx, wy])]
    u = [Fraction(float(v)) for v in np.concatenate([ux, uy])]
    Kx, Ky = wx.size, wy.size

    def line(a: int, b: int) -> tuple[Fraction, Fraction, int, int]:
        inside = [p >= Kx - a for p in range(Kx)] + [q >= Ky - b for q in range(Ky)]
        cut = sum((w[p] * w[Kx + q] for p in range(Kx) for q in range(Ky) if inside[p] != inside[Kx + q]), Fraction(0))
        return (
            sum((w[p] for p in range(Kx + Ky) if inside[p]), Fraction(0)),
            cut - sum((w[p] * u[p] for p in range(Kx + Ky) if inside[p]), Fraction(0)),
            a,
            b,
        )

    hull: list[tuple[Fraction, Fraction, int, int]] = []
    for s, c, a, b in sorted((line(a, b) for a in range(Kx + 1) for b in range(Ky + 1)), key=lambda t: (-t[0], t[1])):
        if hull and hull[-1][0] == s:
            continue
        while len(hull) >= 2 and (c - hull[-2][1]) / (hull[-2][0] - s) <= (hull[-1][1] - hull[-2][1]) / (hull[-2][0] - hull[-1][0]):
            hull.pop()
        hull.append((s, c, a, b))
    h: list[Fraction] = [Fraction(0)] * (Kx + Ky)
    for (s1, c1, a1, b1), (s2, c2, a2, b2) in itertools.pairwise(hull):
        for p in [*range(Kx - a1, Kx - a2), *range(Kx + Ky - b1, Kx + Ky - b2)]:
            h[p] = (c2 - c1) / (s1 - s2)
    return h


@st.composite
def clusters(draw: st.DrawFn, max_size: int = 5) -> tuple[np.ndarray, ...]:
    """Random positive masses; free velocities increasing by index within each species (as in the
    engine), drawn from a coarse grid half the time so that ties and degenerate cases are frequent."""
    Kx = draw(st.integers(0, max_size))
    Ky = draw(st.integers(0 if Kx else 1, max_size))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    coarse = draw(st.booleans())
    wx, wy = (
        rng.integers(1, 4, Kx) / 4 if coarse else rng.random(Kx) + 0.05,
        rng.integers(1, 4, Ky) / 4 if coarse else rng.random(Ky) + 0.05,
    )
    ux = np.sort(rng.integers(-4, 5, Kx) / 2 if coarse else rng.normal(size=Kx))
    uy = np.sort(rng.integers(-4, 5, Ky) / 2 if coarse else rng.normal(size=Ky))
    return wx, ux, wy, uy


@given(clusters())
@settings(max_examples=150, deadline=None)
def test_level_sets_minimise_the_cut_problem(cluster: tuple[np.ndarray, ...]) -> None:
    """Brute force over all (K_x + 1)(K_y + 1) upper sets: at every lambda between and around the
    returned velocities, {p : h_p > lambda} attains the minimum of G_lambda."""
    wx, ux, wy, uy = cluster
    hx, hy = cluster_velocities(wx, ux, wy, uy)
    assert np.all(np.diff(hx) >= 0) and np.all(np.diff(hy) >= 0)
    levels = np.unique(np.concatenate([hx, hy]))
    probes = np.concatenate([0.5 * (levels[1:] + levels[:-1]), [levels[0] - 1.0, levels[-1] + 1.0]])
    for lam in probes:
        best = min(level_set_cost(lam, a, b, wx, ux, wy, uy) for a in range(wx.size + 1) for b in range(wy.size + 1))
        mine = level_set_cost(lam, int(np.sum(hx > lam)), int(np.sum(hy > lam)), wx, ux, wy, uy)
        assert mine <= best + 1e-12 * (1 + abs(best))


@given(clusters(max_size=4))
@settings(max_examples=40, deadline=None)
def test_agrees_with_a_general_purpose_qp_solver(cluster: tuple[np.ndarray, ...]) -> None:
    """SLSQP on the problem with auxiliary variables s_ij >= |h_x_i - h_y_j| (an independent,
    approximate solver) finds the same minimiser, and never a lower objective value."""
    wx, ux, wy, uy = cluster
    Kx, Ky = wx.size, wy.size
    hx, hy = cluster_velocities(wx, ux, wy, uy)
    i_of, j_of = np.divmod(np.arange(Kx * Ky), max(Ky, 1))
    mn = (wx[i_of] * wy[j_of]) if Kx * Ky else np.empty(0)

    def phi(v: np.ndarray) -> float:
        return float(0.5 * np.sum(wx * (v[:Kx] - ux) ** 2) + 0.5 * np.sum(wy * (v[Kx : Kx + Ky] - uy) ** 2) + mn @ v[Kx + Ky :])

    cons = [
        {"type": "ineq", "fun": lambda v: v[Kx + Ky :] - (v[i_of] - v[Kx + j_of])},
        {"type": "ineq", "fun": lambda v: v[Kx + Ky :] + (v[i_of] - v[Kx + j_of])},
        {"type": "ineq", "fun": lambda v: np.concatenate([np.diff(v[:Kx]), np.diff(v[Kx : Kx + Ky])])},
    ]
    start = np.concatenate([ux, uy, np.abs(ux[i_of] - uy[j_of])])
    result = minimize(
        phi, start, method="SLSQP", constraints=[c for c in cons if c["fun"](start).size], options={"ftol": 1e-14, "maxiter": 1000}
    )
    assert objective(hx, hy, wx, ux, wy, uy) <= result.fun + 1e-12
    np.testing.assert_allclose(np.concatenate([hx, hy]), result.x[: Kx + Ky], atol=1e-5)


def test_single_species_cluster_scatters_with_free_velocities() -> None:
    """Without opposite-species partners there is no coupling: h = u (the cluster scatters)."""
    hx, hy = cluster_velocities([0.2, 0.3, 0.5], [-1.0, 0.5, 2.0], [], [])
    np.testing.assert_allclose(hx, [-1.0, 0.5, 2.0], rtol=0, atol=1e-15)
    assert hy.size == 0


@pytest.mark.parametrize(("m", "n", "u"), [(0.3, 0.1, 0.5), (0.1, 0.3, 0.5), (0.2, 0.2, -0.05), (0.25, 0.5, 0.4)])
def test_pair_crosses_or_moves_with_the_mass_weighted_mean(m: float, n: float, u: float) -> None:
    """x (left) and y coincide with free velocities u_x = u, u_y = -u: if 2 u > m + n they cross
    (x keeps u - n, y gets -u + m), otherwise both move with (m u_x + n u_y)/(m + n)."""
    hx, hy = cluster_velocities([m], [u], [n], [-u])
    if 2 * u > m + n:
        assert hx[0] == pytest.approx(u - n, abs=1e-15) and hy[0] == pytest.approx(-u + m, abs=1e-15)
        assert hx[0] > hy[0]
    else:
        assert hx[0] == hy[0] == pytest.approx((m - n) * u / (m + n), abs=1e-15)


def test_equal_mass_lemma_4_1_cluster() -> None:
    """N = 5, masses 1/5: x_2, x_3 and y_3, y_4 at one point with one y to the left of it and x_1 to
    the left, the rest to the right. Lemma 4.1 / Theorem 4.3: x_2 leaves left with -1/N, x_3 = y_3 stay
    at 0, y_4 leaves right with 1/N. Free velocities from the rank formula."""
    N = 5
    w = np.full(2, 1 / N)
    # x_i: sum_{k != i} sign(i - k)/N minus (y outside: y_1, y_2 left, y_5 right) -> (2 - 1)/N
    ux = np.array([(2 * (i - 1) - (N - 1)) / N - 1 / N for i in (2, 3)])
    uy = np.array([(2 * (j - 1) - (N - 1)) / N - (1 - 2) / N for j in (3, 4)])
    hx, hy = cluster_velocities(w, ux, w, uy)
    np.testing.assert_allclose(hx, [-1 / N, 0.0], atol=1e-15)
    np.testing.assert_allclose(hy, [0.0, 1 / N], atol=1e-15)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (([0.1], [np.nan], [0.2], [0.0]), "ux must be a 1-D array of finite numbers"),
        (([0.1, 0.2], [0.0], [0.2], [0.0]), "masses and free velocities differ in length"),
        (([0.0], [0.0], [0.2], [0.0]), "cluster masses must be positive"),
        (([], [], [], []), "the cluster is empty"),
    ],
)
def test_validation(args: tuple, fragment: str) -> None:
    with pytest.raises(ParticleInputError) as info:
        cluster_velocities(*args)
    assert fragment in str(info.value) and "\n" not in str(info.value)


@st.composite
def near_ties(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Dyadic masses ~ 1e-3 with some ~ 1e-7 (so that sums are exact and exact ties are frequent, and the
    mass ratio is ~ 1e4 as for N ~ 1000 random masses) and free velocities on a grid of 1/8 around 0.5,
    some shifted by 1e-10 .. 1e-12: level sets that separate genuinely but slowly."""
    Kx = draw(st.integers(1, 4))
    Ky = draw(st.integers(0, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    w = rng.integers(1, 4, Kx + Ky) * np.where(rng.random(Kx + Ky) < 0.3, 2.0**-23, 2.0**-10)
    shift = rng.choice([0.0, 0.0, 1e-10, -1e-11, 1e-12], Kx + Ky)
    ux = np.sort(0.5 + rng.integers(-4, 5, Kx) / 8) + shift[:Kx]
    uy = np.sort(0.5 + rng.integers(-4, 5, Ky) / 8) + shift[Kx:]
    return w[:Kx], np.sort(ux), w[Kx:], np.sort(uy)


@given(near_ties())
@settings(max_examples=300, deadline=None)
def test_grouping_agrees_with_exact_arithmetic(cluster: tuple[np.ndarray, ...]) -> None:
    """Particles that move together in exact arithmetic get bit-identical velocities, particles whose
    exact velocities differ (here by >= ~1e-16, down from 1e-10) get different ones in the same order,
    and every velocity is within a few units of round-off of the exact one. The old merge tolerance
    64 eps (M_C + N_C) / w_min (u_scale + M_C + N_C) ~ 1e-11 joined level sets 1e-12 apart."""
    wx, ux, wy, uy = cluster
    h = np.concatenate(cluster_velocities(wx, ux, wy, uy))
    exact = exact_velocities(wx, ux, wy, uy)
    np.testing.assert_allclose(h, [float(v) for v in exact], rtol=0, atol=4 * np.finfo(float).eps)
    for p in range(h.size):
        for q in range(h.size):
            assert (h[p] == h[q]) == (exact[p] == exact[q])
            assert (h[p] < h[q]) == (exact[p] < exact[q])


@pytest.mark.parametrize("gap", [1e-10, 1e-11, 1e-12])
@pytest.mark.parametrize(("m", "n"), [(1e-3, 1e-6), (2e-3, 1e-7)])
def test_slowly_separating_pairs_are_not_merged(gap: float, m: float, n: float) -> None:
    """Two x-particles whose free velocities differ by ``gap`` scatter (h = u), and an x, y pair whose
    crossing margin u_x - u_y - (m + n) is ``gap`` crosses and separates at speed ``gap``; both used
    to come out as one block for a mass ratio m / n >= 1e3."""
    hx, _ = cluster_velocities([n, m], [0.5, 0.5 + gap], [], [])
    np.testing.assert_array_equal(hx, [0.5, 0.5 + gap])
    hx, hy = cluster_velocities([m], [0.5 + gap / 2 + n], [n], [0.5 - gap / 2 - m])
    exact = exact_velocities(np.array([m]), np.array([0.5 + gap / 2 + n]), np.array([n]), np.array([0.5 - gap / 2 - m]))
    assert hx[0] - hy[0] == pytest.approx(float(exact[0] - exact[1]), rel=1e-4) and exact[0] - exact[1] > 0


def free_velocities(m: np.ndarray, n: np.ndarray, xs: range, ys: range) -> tuple[np.ndarray, np.ndarray]:
    """u of the cluster holding x_i, i in xs, and y_j, j in ys (0-based), by direct sums over the
    whole configuration: same-species partners by index, opposite-species ones outside the cluster."""
    ux = [m[:i].sum() - m[i + 1 :].sum() - n[: ys.start].sum() + n[ys.stop :].sum() for i in xs]
    uy = [n[:j].sum() - n[j + 1 :].sum() - m[: xs.start].sum() + m[xs.stop :].sum() for j in ys]
    return np.array(ux), np.array(uy)


def block_velocity(m: np.ndarray, n: np.ndarray, xs: range, ys: range) -> float | None:
    """The common velocity if the cluster comes out as one block, else None."""
    ux, uy = free_velocities(m, n, xs, ys)
    hx, hy = cluster_velocities(m[xs], ux, n[ys], uy)
    h = np.concatenate([hx, hy])
    return float(h[0]) if np.all(h == h[0]) else None


def test_two_blocks_that_approach_slowly_stick() -> None:
    """Rule 2 of ``solvers.particles._general_kernels``: blocks A (left) and B, each one block in its
    own cluster problem, approaching (V_A > V_B), come out as one block when met, provided
    W_B (V_A - V_B) / W < 2 n_first (if A holds an x and B a y) and < 2 m_first (if A holds a y and B
    an x), the masses of the lowest-index y and x of B. Random configurations of up to 6 + 6
    particles with masses spread over three decades, adjacent index ranges for A and B (not two single
    particles), the exact cluster solver for all three problems."""
    rng = np.random.default_rng(1)
    certified = 0
    while certified < 40:
        Nx, Ny = rng.integers(2, 7, 2)
        m, n = rng.random(Nx) ** 6 + 1e-3, rng.random(Ny) ** 6 + 1e-3
        (i0, iB, i1), (j0, jB, j1) = np.sort(rng.integers(0, Nx + 1, 3)), np.sort(rng.integers(0, Ny + 1, 3))
        sizes = (iB - i0 + jB - j0, i1 - iB + j1 - jB)
        if min(sizes) == 0 or sum(sizes) == 2:
            continue
        V_A = block_velocity(m, n, range(i0, iB), range(j0, jB))
        V_B = block_velocity(m, n, range(iB, i1), range(jB, j1))
        if V_A is None or V_B is None or V_A <= V_B:
            continue
        W_A, W_B = m[i0:iB].sum() + n[j0:jB].sum(), m[iB:i1].sum() + n[jB:j1].sum()
        drop = W_B * (V_A - V_B) / (W_A + W_B)
        if (iB > i0 and j1 > jB and drop >= 1.99 * n[jB]) or (jB > j0 and i1 > iB and drop >= 1.99 * m[iB]):
            continue
        certified += 1
        V = block_velocity(m, n, range(i0, i1), range(j0, j1))
        assert V is not None
        assert V == pytest.approx((W_A * V_A + W_B * V_B) / (W_A + W_B), rel=0, abs=1e-14)
