"""Speed of the continuum schemes (run: ``python benchmarks/bench_continuum.py [--quick]``).

1. Cell updates per second (one update advances both species in one cell by one time step) of
   the compiled ``fv1`` and ``fv2`` time loops on 2,000 to 32,000 cells, against a baseline
   measured in the same run: the same ``fv1`` step written with vectorised numpy, one Python
   iteration per step. Targets on one core: 200 million/s (fv1), 50 million/s (fv2).
2. Wall time each scheme needs to reach a W1 error (summed over both species) of 1e-5 against
   the exact pre-contact solution of the case ``separated_bumps`` at T = 0.2: the resolution is
   doubled until the error is below the target; the time of that run is reported, and its ratio
   to fv1's time.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from compare.metrics import wasserstein
from compare.metrics.measures import Continuous, Histogram
from compare.runs.cases import load_case
from solvers.continuum.exact import SeparatedSolution
from solvers.continuum.fv import solve_fv
from solvers.continuum.lagrangian import solve_lagrangian
from solvers.initial import cell_averages

TARGET_W1 = 1e-5
TARGETS = {"fv1": 200e6, "fv2": 50e6}


def _numpy_fv1(u: np.ndarray, w: np.ndarray, dx: float, t_end: float, cfl: float) -> int:
    """Baseline: the fv1 scheme of ``solvers.continuum.fv`` with numpy array operations per step."""
    dM = dx * (u.sum() - w.sum())
    t, steps = 0.0, 0
    fu = np.zeros(u.size + 1)
    fw = np.zeros(u.size + 1)
    while t < t_end:
        v = 2.0 * dx * np.cumsum(u - w)[:-1] - dM
        dt = cfl * min(dx / max(np.abs(v).max(), 1e-300), 1.0 / (2.0 * max(u.max(), w.max())))
        dt = min(dt, t_end - t)
        vp, vm = np.maximum(v, 0.0), np.minimum(v, 0.0)
        fu[1:-1] = vp * u[:-1] + vm * u[1:]
        fw[1:-1] = -vm * w[:-1] - vp * w[1:]
        u -= dt / dx * np.diff(fu)
        w -= dt / dx * np.diff(fw)
        t = t_end if dt == t_end - t else t + dt
        steps += 1
    return steps


def _initial(cells: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    case = load_case("overlap")
    edges = np.linspace(-1.0, 1.0, cells + 1)
    return cell_averages(case.rho0, edges), cell_averages(case.eta0, edges), edges, 2.0 / cells


def bench_throughput(cell_counts: list[int], T: float) -> None:
    print("1. cell updates per second (both species), case overlap, cfl 0.45")
    print(f"{'cells':>7} {'scheme':>8} {'steps':>7} {'wall s':>8} {'M updates/s':>12} {'/numpy':>7} {'/target':>8}")
    solve_fv(*_initial(64)[:2], 2.0 / 64, np.array([0.0, 1e-3]), scheme="fv1")
    solve_fv(*_initial(64)[:2], 2.0 / 64, np.array([0.0, 1e-3]), scheme="fv2")
    for cells in cell_counts:
        u, w, _, dx = _initial(cells)
        start = time.perf_counter()
        steps = _numpy_fv1(u.copy(), w.copy(), dx, T, 0.45)
        baseline = steps * cells / (time.perf_counter() - start)
        print(f"{cells:>7} {'numpy':>8} {steps:>7} {steps * cells / baseline:>8.3f} {baseline / 1e6:>12.1f} {1.0:>7.1f} {'':>8}")
        for scheme in ("fv1", "fv2"):
            best = 0.0
            for _ in range(3):
                start = time.perf_counter()
                _, _, steps = solve_fv(u, w, dx, np.array([0.0, T]), scheme=scheme)
                wall = time.perf_counter() - start
                best = max(best, steps * cells / wall)
            print(
                f"{cells:>7} {scheme:>8} {steps:>7} {steps * cells / best:>8.3f} {best / 1e6:>12.1f} "
                f"{best / baseline:>7.1f} {best / TARGETS[scheme]:>8.2f}"
            )


def bench_time_to_accuracy(max_cells: int) -> None:
    case = load_case("separated_bumps")
    T = case.T
    exact = SeparatedSolution(case.rho0, case.eta0)
    reference = (Continuous.from_density(exact.rho(T)), Continuous.from_density(exact.eta(T)))
    a, b = case.rho0.support[0], case.eta0.support[1]
    print(f"\n2. wall time to W1 error < {TARGET_W1:g} against the exact solution (separated_bumps, T = {T:g})")
    print(f"{'scheme':>10} {'cells':>7} {'W1 error':>10} {'wall s':>8} {'fv1 / this':>11}")
    times = {}
    for scheme in ("fv1", "fv2", "lagrangian"):
        error, wall = np.inf, np.nan
        for cells in 100 * 2 ** np.arange(int(np.log2(max_cells / 100)) + 1):
            cells = int(cells)
            start = time.perf_counter()
            if scheme == "lagrangian":
                s, X, sigma, Y, _ = solve_lagrangian(case.rho0, case.eta0, cells, np.array([0.0, T]))
                wall = time.perf_counter() - start
                measures = (Histogram(X[-1], np.diff(s)), Histogram(Y[-1], np.diff(sigma)))
            else:
                edges = np.linspace(a, b, cells + 1)
                rho0, eta0 = cell_averages(case.rho0, edges), cell_averages(case.eta0, edges)
                rho, eta, _ = solve_fv(rho0, eta0, (b - a) / cells, np.array([0.0, T]), scheme=scheme)
                wall = time.perf_counter() - start
                measures = (
                    Histogram.from_averages(edges, rho[-1]),
                    Histogram.from_averages(edges, eta[-1]),
                )
            error = wasserstein(measures[0], reference[0]) + wasserstein(measures[1], reference[1])
            if error < TARGET_W1:
                break
        times[scheme] = wall if error < TARGET_W1 else np.nan
        ratio = times["fv1"] / times[scheme]
        print(f"{scheme:>10} {cells:>7} {error:>10.2e} {wall:>8.3f} {ratio:>11.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke test of the script)")
    args = parser.parse_args()
    if args.quick:
        bench_throughput([2000], T=0.05)
        bench_time_to_accuracy(max_cells=3200)
    else:
        bench_throughput([2000, 8000, 32000], T=0.5)
        bench_time_to_accuracy(max_cells=409600)


if __name__ == "__main__":
    main()
