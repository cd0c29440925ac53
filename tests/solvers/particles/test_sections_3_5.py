"""The claims of the paper's Sections 3-5 not covered elsewhere, each computed (issue 13, item 3)."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad
from scipy.optimize import linprog

from compare.metrics import wasserstein
from compare.metrics.measures import Empirical, Histogram
from compare.runs.cases import initial_particles, load_case
from solvers.errors import ParticleInputError
from solvers.initial import atomise, density_from_spec
from solvers.particles.continuous_time import observe
from solvers.particles.energy import discrete_energy, dissipation
from solvers.particles.engine import simulate
from solvers.particles.reconstruction import lm_norm_power, reconstruct
from solvers.particles.subdifferential import functional, prop_4_2_constant, subdifferential
from tests.solvers.particles.test_general import weighted_configuration
from tests.solvers.particles.test_theorems import event_and_mid_times, grid_configuration, random_configuration


def exact_functional(x: list[Fraction], y: list[Fraction], m: list[Fraction], n: list[Fraction]) -> Fraction:
    """F[Z] of (24) straight from its definition, in exact rational arithmetic (inf off the cone is the caller's)."""
    self_x = sum((m[i] * m[k] * abs(x[i] - x[k]) for i in range(len(x)) for k in range(i + 1, len(x))), Fraction(0))
    self_y = sum((n[j] * n[l] * abs(y[j] - y[l]) for j in range(len(y)) for l in range(j + 1, len(y))), Fraction(0))
    cross = sum((m[i] * n[j] * abs(x[i] - y[j]) for i in range(len(x)) for j in range(len(y))), Fraction(0))
    return cross - self_x - self_y


# ---------------------------------------------------------------------------------------------
# Lemma 3.3: F is convex (on the cone; the indicator is what makes it so)
# ---------------------------------------------------------------------------------------------


@given(weighted_configuration(max_N=6), weighted_configuration(max_N=6), st.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None)
def test_lemma_3_3_convexity_on_random_segments_of_the_cone(first: tuple, second: tuple, seed: int) -> None:
    """Exact midpoint convexity (Fractions) and convexity at random alpha (floats) on segments of the cone."""
    x1, y1, m, n = first
    rng = np.random.default_rng(seed)
    x2 = np.sort(rng.integers(-8, 9, x1.size) / 4)
    y2 = np.sort(rng.integers(-8, 9, y1.size) / 4)
    F = [
        exact_functional([Fraction(v) for v in x], [Fraction(v) for v in y], [Fraction(v) for v in m], [Fraction(v) for v in n])
        for x, y in ((x1, y1), (x2, y2), ((x1 + x2) / 2, (y1 + y2) / 2))
    ]
    assert F[2] <= (F[0] + F[1]) / 2
    ends = functional(x1, y1, m, n), functional(x2, y2, m, n)
    assert ends[0] == pytest.approx(float(F[0]), abs=1e-13) and ends[1] == pytest.approx(float(F[1]), abs=1e-13)
    for alpha in rng.random(8):
        mid = functional(alpha * x1 + (1 - alpha) * x2, alpha * y1 + (1 - alpha) * y2, m, n)
        assert mid <= alpha * ends[0] + (1 - alpha) * ends[1] + 1e-13


def test_lemma_3_3_fails_without_the_indicator() -> None:
    """Off the cone the self-repulsion -|x_i - x_k| is concave: the raw energy breaks convexity on a
    segment that swaps two particles, while F (+inf at the swapped end) does not."""
    y = np.array([5.0, 6.0])
    a, b = np.array([0.0, 1.0]), np.array([1.0, 0.0])
    raw = [discrete_energy(a, y), discrete_energy(b, y), discrete_energy((a + b) / 2, y)]
    assert raw[2] > (raw[0] + raw[1]) / 2
    assert functional(b, y) == np.inf and functional((a + b) / 2, y) <= (functional(a, y) + functional(b, y)) / 2


# ---------------------------------------------------------------------------------------------
# Lemma 3.4: the subdifferential is a non-empty polyhedron on the cone and empty off it
# ---------------------------------------------------------------------------------------------


def directional_gap(x: np.ndarray, y: np.ndarray, m: np.ndarray, n: np.ndarray, P: np.ndarray) -> float:
    """min over d in the tangent cone of the ordered cone at Z, |d| <= 1, of F'(Z; d) - <P, d>_w, by
    linear programming: P is in dF(Z) iff it is >= 0 (F is convex and piecewise linear). F'(Z; d) is
    built term by term from the definition (24): a |.| term contributes sign(a) (dd) where a != 0 and
    |dd| where a = 0 (for same-species pairs the tangent cone makes that dd >= 0)."""
    Nx, Ny = x.size, y.size
    n_var = Nx + Ny
    c = -np.concatenate([m, n]) * P
    bounds = [(-1.0, 1.0)] * n_var
    A, rhs = [], []
    extra = []
    for z, w, off in ((x, m, 0), (y, n, Nx)):
        for i, k in itertools.combinations(range(z.size), 2):
            row = np.zeros(n_var)
            row[off + k], row[off + i] = 1.0, -1.0  # d(x_k - x_i), with x_k >= x_i
            if z[k] == z[i]:
                A.append(-row)
                rhs.append(0.0)  # tangent cone: d_k >= d_i
            c -= w[i] * w[k] * row
    for i, j in itertools.product(range(Nx), range(Ny)):
        row = np.zeros(n_var)
        row[i], row[Nx + j] = 1.0, -1.0
        if x[i] != y[j]:
            c += m[i] * n[j] * np.sign(x[i] - y[j]) * row
        else:
            extra.append((m[i] * n[j], row))
    # u_ij >= |d_xi - d_yj| for the coincident pairs, with cost m_i n_j
    c_full = np.concatenate([c, [w for w, _ in extra]])
    A_full = [np.concatenate([a, np.zeros(len(extra))]) for a in A]
    for k, (_, row) in enumerate(extra):
        for sign in (1.0, -1.0):
            e = np.zeros(len(extra))
            e[k] = -1.0
            A_full.append(np.concatenate([sign * row, e]))
            rhs.append(0.0)
    result = linprog(
        c_full,
        A_ub=np.array(A_full).reshape(len(A_full), n_var + len(extra)),
        b_ub=np.array(rhs),
        bounds=bounds + [(0.0, None)] * len(extra),
        method="highs",
    )
    assert result.status == 0
    return float(result.fun)


def cone_samples(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Points of the cone near and far from Z (sorted perturbations, and swaps of coincident order)."""
    out = []
    for scale in (1e-3, 0.1, 1.0, 5.0):
        for _ in range(count):
            out.append((np.sort(x + scale * rng.normal(size=x.size)), np.sort(y + scale * rng.normal(size=y.size))))
    return out


def satisfies_29(x: np.ndarray, y: np.ndarray, m: np.ndarray, n: np.ndarray, P: np.ndarray, samples: list) -> bool:
    """F(Z') - F(Z) >= <P, Z' - Z>_w on the sampled Z' (computed with the energy alone)."""
    F0 = functional(x, y, m, n)
    w = np.concatenate([m, n])
    Z = np.concatenate([x, y])
    return all(functional(xs, ys, m, n) - F0 >= w @ (P * (np.concatenate([xs, ys]) - Z)) - 1e-12 for xs, ys in samples)


@given(weighted_configuration(max_N=5), st.integers(0, 2**32 - 1))
@settings(max_examples=20, deadline=None)
def test_lemma_3_4_subdifferential_is_the_polyhedron(config: tuple, seed: int) -> None:
    """On the cone: the paper's element P0, the vertices s in {-1, 1}^pairs and the ray directions are
    in dF(Z) (linear program on the definition, and (29) on sampled Z'); stepping out of the box (no
    rays) or against a ray (no pairs) leaves it. So dF(Z) is non-empty and exactly the polyhedron.
    (With both, the parameters are not unique: a ray and a segment can trade off.)"""
    x, y, m, n = config
    rng = np.random.default_rng(seed)
    sd = subdifferential(x, y, m, n)
    assert sd is not None
    samples = cone_samples(x, y, rng, 3)
    K = sd.pairs.shape[0]
    vertices = list(itertools.product((-1.0, 1.0), repeat=K))
    members = [sd.center] + [sd.element(s) for s in (vertices if K <= 3 else vertices[:: 2 ** (K - 3)])]
    members += [sd.center + 10.0 * ray for ray in sd.rays]
    for P in members:
        assert directional_gap(x, y, m, n, P) >= -1e-12
        assert satisfies_29(x, y, m, n, P, samples)
    if sd.rays.shape[0] == 0:
        for k in range(K):
            s = np.zeros(K)
            s[k] = 1.05
            assert directional_gap(x, y, m, n, sd.element(s)) < -1e-6
    if K == 0:
        for ray in sd.rays:
            assert directional_gap(x, y, m, n, sd.center - 0.05 * ray) < -1e-6


@given(random_configuration(max_N=8))
@settings(max_examples=30, deadline=None)
def test_lemma_3_4_empty_off_the_cone(config: tuple[np.ndarray, np.ndarray]) -> None:
    """Off the cone F = +inf while F is finite on the cone, so no P satisfies (29): dF(Z) is empty.
    The indicator is not a formality: at an inversion of two x-particles with no y between them, even
    the finite raw energy has no subgradient (it is differentiable there, and its gradient fails (29)
    at the configuration with the two swapped back, which has the same raw energy)."""
    x, y = config
    between = [i for i in range(x.size - 1) if not np.any((y > x[i]) & (y < x[i + 1]))]
    if not between:
        return
    i = between[0]
    x_off = x.copy()
    x_off[i], x_off[i + 1] = x[i + 1], x[i]
    assert subdifferential(x_off, y) is None and functional(x_off, y) == np.inf
    assert np.isfinite(functional(x, y)) and subdifferential(x, y) is not None
    N = x.size
    # weighted gradient of the raw energy (Euclidean gradient / m_k, m_k = 1/N) in the x-block
    P = np.array([(-np.sum(np.sign(x_off[k] - x_off)) + np.sum(np.sign(x_off[k] - y))) / N for k in range(N)])
    assert discrete_energy(x, y) - discrete_energy(x_off, y) == pytest.approx(0.0, abs=1e-12)
    assert np.sum(P * (x - x_off)) / N > 1e-12 * (1 + np.abs(x).max())


@given(st.one_of(grid_configuration(max_N=6, cells=6), weighted_configuration(max_N=6)))
@settings(max_examples=40, deadline=None)
def test_remark_3_6_velocity_is_minus_the_minimal_norm_element(config: tuple) -> None:
    """The engines' right derivative at t = 0 (clusters included, equal and general masses) is
    -d^0F(Z0): -v lies in dF(Z0) and satisfies the variational inequality of the projection of 0."""
    if len(config) == 2:
        (x, y), m, n = config, None, None
    else:
        x, y, m, n = config
    run = simulate(x, y, [0.0], m=m, n=n)
    m, n = run.m, run.n
    P = -np.concatenate([run.vx[0], run.vy[0]])
    sd = subdifferential(run.x[0], run.y[0], m, n)
    assert directional_gap(run.x[0], run.y[0], m, n, P) >= -1e-12
    assert sd.minimal_norm_gap(P) >= -1e-12


# ---------------------------------------------------------------------------------------------
# Proposition 4.2: the subdifferential is bounded along the flow, with an N-independent constant
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("N", [1, 2, 3, 4, 5, 6])
def test_proposition_4_2_constant_is_sharp_over_all_interleavings(N: int) -> None:
    """Brute force over all C(2N, N) interleavings of distinct particles: max ||P||_w^2 = (8 - 2/N^2)/3,
    reached by separated species."""
    best = 0.0
    for x_slots in itertools.combinations(range(2 * N), N):
        x = np.array(x_slots, dtype=float)
        y = np.array([s for s in range(2 * N) if s not in x_slots], dtype=float)
        sd = subdifferential(x, y)
        best = max(best, sd.norm(sd.center))
    assert best == pytest.approx(prop_4_2_constant(N), rel=1e-14)
    sd = subdifferential(np.arange(N, dtype=float), np.arange(N, 2 * N, dtype=float))
    assert sd.sup_norm() == pytest.approx(prop_4_2_constant(N), rel=1e-14)


@given(random_configuration(max_N=15))
@settings(max_examples=25, deadline=None)
def test_proposition_4_2_along_equal_mass_runs(config: tuple[np.ndarray, np.ndarray]) -> None:
    """sup {||P||_w : P in dF(Z(t))} <= sqrt((8 - 2/N^2)/3) < sqrt(8/3) at every event time (where
    dF has a segment per coincident pair) and between events; the velocity norm ||d^0 F|| never
    increases in time (Remark 3.6)."""
    x0, y0 = config
    N = x0.size
    t = event_and_mid_times(x0, y0)
    run = simulate(x0, y0, t)
    for k in range(t.size):
        assert subdifferential(run.x[k], run.y[k]).sup_norm() <= prop_4_2_constant(N) * (1 + 1e-12)
    speed = np.sqrt(dissipation(run.vx, run.vy))
    assert np.all(np.diff(speed) <= 1e-12)


def test_proposition_4_2_fails_at_same_species_coincidences() -> None:
    """Where two particles of one species coincide dF contains the normal cone of the ordered cone, so
    the supremum of Prop. 4.2 is infinite: at t = 0 for an initial cluster (Theorem 4.3), and for all
    t after a same-species collision with unequal masses (Theorem 4.2, case 3). The velocity (the
    minimal-norm element) stays bounded."""
    assert subdifferential(np.array([0.0, 0.0, 1.0]), np.array([-1.0, 0.5, 2.0])).sup_norm() == np.inf
    run = simulate([-1.0, 1.5], [0.0], [0.0, 2.5, 2.75, 10.0], m=[0.5, 0.5], n=[1.0])
    sups = [subdifferential(run.x[k], run.y[k], run.m, run.n).sup_norm() for k in range(4)]
    assert np.isfinite(sups[0]) and np.isfinite(sups[1]) and sups[2] == sups[3] == np.inf
    assert np.all(np.sqrt(dissipation(run.vx, run.vy, run.m, run.n)) <= np.sqrt(8 / 3))


# ---------------------------------------------------------------------------------------------
# Corollary 4.1: only binary collisions
# ---------------------------------------------------------------------------------------------


@given(st.one_of(grid_configuration(max_N=10, cells=8), random_configuration(max_N=40)))
@settings(max_examples=40, deadline=None)
def test_corollary_4_1_every_collision_is_binary(config: tuple[np.ndarray, np.ndarray]) -> None:
    """At every event time t > 0 (initial clusters included), exactly the two particles of each event
    sit at its meeting point; the replay's closest third particle agrees."""
    x0, y0 = config
    final = simulate(x0, y0, [0.0], run_to_final=True)
    events = final.event_t > 0
    if not np.any(events):
        return
    at = simulate(x0, y0, final.event_t[events])
    for k, (i, j) in enumerate(zip(final.event_i[events], final.event_j[events])):
        z = np.concatenate([at.x[k], at.y[k]])
        meet = at.x[k, i - 1]
        assert at.y[k, j - 1] == meet
        assert np.count_nonzero(np.abs(z - meet) <= 1e-12 * (1 + abs(meet))) == 2
    if x0.size >= 2 and np.all(np.diff(x0) > 0) and np.all(np.diff(y0) > 0):
        assert observe(x0, y0, final.t_last_event, functionals=()).min_third_gap > 1e-12


# ---------------------------------------------------------------------------------------------
# Proposition 5.1: the initial reconstruction's G-moments, and the N - 1 cell convention
# ---------------------------------------------------------------------------------------------

DENSITIES = {
    "uniform": {"kind": "uniform", "a": -1.0, "b": 0.5},
    "bump": {"kind": "bump", "center": 0.3, "radius": 0.7},
    "tent": {"kind": "piecewise_linear", "nodes": [-1.0, 0.0, 1.0], "values": [0.0, 1.0, 0.0]},
    "steps": {"kind": "piecewise_constant", "edges": [0.0, 1.0, 1.5, 3.0], "values": [1.0, 4.0, 0.5]},
}


def integral(spec: dict, g, a: float, b: float) -> float:  # type: ignore[no-untyped-def]
    """int_a^b g(rho0(s)) ds by adaptive quadrature, split at the density's breakpoints."""
    density = density_from_spec(spec)
    kinks = np.asarray(spec.get("edges", spec.get("nodes", [])), dtype=float)
    edges = np.unique(np.clip(np.concatenate([[a, b], kinks]), a, b))
    return sum(
        quad(lambda s: g(float(density.pdf(s))), lo, hi, epsabs=0, epsrel=1e-13, limit=200)[0] for lo, hi in itertools.pairwise(edges)
    )


@pytest.mark.parametrize("name", list(DENSITIES))
@pytest.mark.parametrize("placement", ["right", "mid"])
@pytest.mark.parametrize("m", [2.0, 4.0])
def test_proposition_5_1_jensen_in_the_n_minus_1_convention(name: str, placement: str, m: float) -> None:
    """Our cells [x_k, x_{k+1}] hold mass 1/N of rho0 but carry 1/(N - 1), so Jensen gives
    ||rho~_0||_m^m <= (N/(N-1))^m int_{x_1}^{x_N} rho0^m <= (N/(N-1))^m ||rho0||_m^m, bounded in N."""
    spec = DENSITIES[name]
    a, b = density_from_spec(spec).support
    total = integral(spec, lambda r: r**m, a, b)
    for N in (5, 20, 80):
        x = atomise(density_from_spec(spec), N, placement)
        lhs = float(lm_norm_power(x, m))
        inner = integral(spec, lambda r: r**m, x[0], x[-1])
        assert lhs <= (N / (N - 1)) ** m * inner * (1 + 1e-10)
        assert inner <= total * (1 + 1e-12)


@pytest.mark.parametrize("N", [3, 10, 100])
@pytest.mark.parametrize("m", [1.5, 2.0, 8.0])
def test_proposition_5_1_constant_one_fails_by_the_cell_factor_for_uniform_data(N: int, m: float) -> None:
    """Uniform data: rho~_0 = N/((N - 1) L) on N - 1 cells exactly, so ||rho~_0||_m^m = (N/(N-1))^(m-1)
    ||rho0||_m^m: the paper's bound with constant 1 (Jensen with N cells of mass 1/N) fails by exactly
    that factor in the N - 1 convention; with data thin near its left end the factor approaches (N/(N-1))^m."""
    L = 1.5
    x = atomise(density_from_spec(DENSITIES["uniform"]), N, "right")
    ratio = lm_norm_power(x, m) / L ** (1 - m)
    assert ratio == pytest.approx((N / (N - 1)) ** (m - 1), rel=1e-12)
    tail = 1e4  # mass 1/N spread over [-tail, 0], then uniform on [0, 1]
    spec = {"kind": "piecewise_constant", "edges": [-tail, 0.0, 1.0], "values": [1 / (N * tail), (N - 1) / N]}
    x = atomise(density_from_spec(spec), N, "right")
    assert x[0] == pytest.approx(0.0, abs=1e-9)
    ratio = lm_norm_power(x, m) / integral(spec, lambda r: r**m, -tail, 1.0)
    assert (N / (N - 1)) ** (m - 1) < ratio <= (N / (N - 1)) ** m * (1 + 1e-9)


@pytest.mark.parametrize("name", list(DENSITIES))
def test_proposition_5_1_for_r_log_1_plus_r(name: str) -> None:
    """G(r) = r log(1 + r): int G(rho~_0) <= int_{x_1}^{x_N} G(N/(N-1) rho0) <= int G(2 rho0) for all N >= 2."""
    spec = DENSITIES[name]
    a, b = density_from_spec(spec).support
    bound = integral(spec, lambda r: 2 * r * np.log1p(2 * r), a, b)
    for N in (5, 40, 160):
        x = atomise(density_from_spec(spec), N, "mid")
        edges, values = reconstruct(x)
        lhs = float(np.sum(np.diff(edges) * values * np.log1p(values)))
        c = N / (N - 1)
        assert lhs <= integral(spec, lambda r, c=c: c * r * np.log1p(c * r), x[0], x[-1]) * (1 + 1e-10) <= bound


# ---------------------------------------------------------------------------------------------
# Propositions 5.2 and 5.3 for other convex G, exactly in continuous time
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "one_species_rises"), [("overlap", False), ("separated", False), ("bumps_overlap", True), ("separated_bumps", False)]
)
def test_propositions_5_2_and_5_3_in_continuous_time(name: str, one_species_rises: bool) -> None:
    """Every listed m and r log(1 + r) non-increasing at every t (derivative test on every interval),
    the all-convex-G certificate >= 0, max(sup rho~, sup eta~) non-increasing. One species' functional
    alone rises on `bumps_overlap` (the check can fail); on the uniform `overlap` it does not (events
    simultaneous in exact arithmetic are grouped, so engine transients between them do not count)."""
    case = load_case(name)
    x0, y0 = initial_particles(case, 40)
    obs = observe(x0, y0, case.T, certificate=True)
    assert np.all(obs.functional_violation[:, 2] <= 1e-12)
    assert obs.all_convex_margin >= 0 and obs.sup_max_violation[2] <= 0
    assert (np.max(obs.functional_violation[:, :2]) > 1e-3) == one_species_rises


@given(random_configuration(max_N=20))
@settings(max_examples=20, deadline=None)
def test_proposition_5_3_for_a_third_convex_g_by_sampling(config: tuple[np.ndarray, np.ndarray]) -> None:
    """Where the certificate holds, int G(rho~) + int G(eta~) with G(r) = exp(r/s) - 1 - r/s (s fixed)
    is non-increasing on dense samples through every event."""
    x0, y0 = config
    if x0.size < 2 or min(np.diff(x0).min(), np.diff(y0).min()) < 1e-6:
        return
    t = event_and_mid_times(x0, y0)
    obs = observe(x0, y0, float(t[-1]), functionals=(), certificate=True)
    assert obs.all_convex_margin >= 0
    run = simulate(x0, y0, t)
    s = max(reconstruct(x0)[1].max(), reconstruct(y0)[1].max())
    total = sum(
        np.sum(np.diff(p, axis=1) * (np.expm1(v / s) - v / s), axis=1)
        for p, v in ((run.x, reconstruct(run.x)[1]), (run.y, reconstruct(run.y)[1]))
    )
    assert np.all(np.diff(total) <= 1e-12 * total[0])


# ---------------------------------------------------------------------------------------------
# Lemma 5.2 and Lemma 5.1 for W_p
# ---------------------------------------------------------------------------------------------


def test_lemma_5_2_constant_is_independent_of_n() -> None:
    """On `overlap` the W1 Lipschitz constant of t -> rho~^N(t) (exact sup over t) stays in a narrow
    band as N grows, below the velocity bound (2N - 1)/N < 2."""
    case = load_case("overlap")
    constants = []
    for N in (25, 50, 100, 200):
        x0, y0 = initial_particles(case, N)
        obs = observe(x0, y0, case.T, functionals=())
        constants.append(obs.lipschitz_reconstruction.max())
        assert np.all(obs.lipschitz_empirical < 2)
    assert max(constants) < 1.0 and max(constants) / min(constants) < 1.1


@pytest.mark.parametrize(("p", "printed_fails_at_unit_length"), [(2.0, False), (8.0, True)])
def test_lemma_5_1_for_wp_as_printed_fails(p: float, printed_fails_at_unit_length: bool) -> None:
    """The printed W_p bound (b - a)^((p-1)/p) (x_N - x_0)/(2N) scales like length^((2p-1)/p) while W_p
    scales like length: uniform data on a short interval violate it for every p, and for p = 8 already
    on an interval of length 1 (N W_8 = 0.605 L at N = 20, against 0.5 L). The bound with the 1/p power on the W1
    cost, (b - a)^((p-1)/p) ((x_N - x_1)/(2N))^(1/p), holds, and so does the sharper first-order
    (max_k h_k)^((p-1)/p) W1^(1/p) (as W_inf <= max_k h_k)."""
    N = 20
    for L, fails in ((0.05, True), (1.0, printed_fails_at_unit_length), (20.0, False)):
        x = atomise(density_from_spec({"kind": "uniform", "a": 0.0, "b": L}), N, "right")
        emp, rec = Empirical(x), Histogram(x, np.full(N - 1, 1 / (N - 1)))
        wp, w1 = wasserstein(emp, rec, p), wasserstein(emp, rec, 1.0)
        assert (wp > L ** ((p - 1) / p) * L / (2 * N)) == fails
        assert wp <= L ** ((p - 1) / p) * ((x[-1] - x[0]) / (2 * N)) ** (1 / p)
        assert wp <= np.diff(x).max() ** ((p - 1) / p) * w1 ** (1 / p) * (1 + 1e-12)


def test_lemma_5_1_for_w2_along_a_run_is_first_order() -> None:
    """Along `overlap` runs, W2(rho^N, rho~^N) <= (max_k h_k)^(1/2) W1^(1/2) at every sampled time, and
    N sup_t W2 settles (0.866, 0.912, 0.932 at N = 40, 80, 160): the rate is 1, not the 1/p of the printed proof."""
    case = load_case("overlap")
    scaled = []
    for N in (40, 80, 160):
        x0, y0 = initial_particles(case, N)
        run = simulate(x0, y0, np.linspace(0, case.T, 9))
        w2 = []
        for row in np.concatenate([run.x, run.y]):
            emp, rec = Empirical(row), Histogram(row, np.full(N - 1, 1 / (N - 1)))
            w2.append(wasserstein(emp, rec, 2.0))
            assert w2[-1] <= np.sqrt(np.diff(row).max() * wasserstein(emp, rec, 1.0)) * (1 + 1e-12)
        scaled.append(N * max(w2))
    increments = np.diff(scaled)
    assert np.all(increments > 0) and increments[1] < 0.6 * increments[0] and scaled[-1] < 1.0


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: functional([[0.0, 1.0]], [0.0]), "1-D array"),
        (lambda: subdifferential([0.0, np.nan], [0.0]), "x[1] = nan"),
        (lambda: functional([0.0, 1.0], [0.0], m=[1.0, -1.0]), "mass[1] = -1.0"),
        (lambda: subdifferential([0.0, 1.0], [0.0], n=[1.0, 2.0]), "one mass per particle"),
    ],
)
def test_bad_input_is_a_one_line_error(call, fragment: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ParticleInputError) as info:
        call()
    assert fragment in str(info.value) and "\n" not in str(info.value)
