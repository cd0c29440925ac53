"""Benchmark of the regularised particle system (Remark 5.1) against the exact engine and the O(N^2) sum.

Case `overlap` (x0: quantiles of U[-1, 0.5], y0: of U[-0.5, 1], masses 1/N), T = 2, 41 output times.

1. ``simulate_regularised`` (Dormand-Prince 5(4), tol = 1e-7, including its reintegration certificate:
   two runs) at N = 1000 and 10000 with delta = 3 T / log N and delta = N^-1/2: wall seconds per unit
   simulated time, steps, the error estimate, and the ratio to the exact engine
   (``solvers.particles.engine.simulate``, no event log) on the same case, measured in this run.
2. One velocity evaluation (``regularised_velocity``: merge sort + O(N) double-double sweep) against
   the plain O(N^2) numpy sum at N = 1000, 4000, 10000 (best of several), as a ratio.

Usage: python benchmarks/bench_regularised.py [--quick]   (--quick: N = 1000 only for part 1)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from compare.runs.cases import initial_state, load_case
from solvers.particles.engine import simulate
from solvers.particles.regularised import regularised_velocity, simulate_regularised

T = 2.0


def best_of(repeats: int, call) -> float:
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def plain_velocity(x: np.ndarray, y: np.ndarray, m: np.ndarray, n: np.ndarray, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """The O(N^2) numpy sum (the tests' pairwise formula)."""
    vx = (m * np.clip((x[:, None] - x[None, :]) / delta, -1, 1)).sum(1) - (n * np.clip((x[:, None] - y[None, :]) / delta, -1, 1)).sum(1)
    vy = (n * np.clip((y[:, None] - y[None, :]) / delta, -1, 1)).sum(1) - (m * np.clip((y[:, None] - x[None, :]) / delta, -1, 1)).sum(1)
    return vx, vy


def bench_integrator(N: int) -> None:
    x0, y0, m, n = initial_state(load_case("overlap"), N)
    t = np.linspace(0.0, T, 41)
    engine_s = best_of(3, lambda: simulate(x0, y0, t, m=m, n=n, record_events=False))
    for label, delta in (("3T/log N", 3 * T / np.log(N)), ("N^-1/2", N**-0.5)):
        start = time.perf_counter()
        run = simulate_regularised(x0, y0, t, delta, m=m, n=n)
        wall = time.perf_counter() - start
        print(
            f"{N:>6d} {label:>9} {delta:>8.4f} {run.steps:>7d} {run.rejected:>6d} {run.runs:>4d} {run.error_estimate:>9.2e} "
            f"{wall / T:>10.3f} {engine_s / T * 1e3:>10.2f} {wall / engine_s:>9.1f}"
        )
        sys.stdout.flush()


def bench_velocity(N: int) -> None:
    x0, y0, m, n = initial_state(load_case("overlap"), N)
    delta = N**-0.5
    repeats = 20 if N <= 4000 else 5
    fast = best_of(repeats, lambda: regularised_velocity(x0, y0, m, n, delta))
    plain = best_of(max(2, repeats // 4), lambda: plain_velocity(x0, y0, m, n, delta))
    vx, vy = regularised_velocity(x0, y0, m, n, delta)
    wx, wy = plain_velocity(x0, y0, m, n, delta)
    diff = max(np.abs(vx - wx).max(), np.abs(vy - wy).max())
    print(f"{N:>6d} {fast * 1e3:>10.3f} {plain * 1e3:>10.2f} {plain / fast:>8.0f} {diff:>10.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 1000 only for the integrator")
    args = parser.parse_args()
    sizes = [1000] if args.quick else [1000, 10000]

    simulate_regularised([0.0, 1.0], [0.5, 2.0], [0.0, 1.0], 0.1)  # load the compiled kernels
    simulate([0.0, 1.0], [0.5, 2.0], [0.0], run_to_final=True)
    print(f"load average at start: {os.getloadavg()}")
    print(f"simulate_regularised (tol 1e-7, two runs) vs exact engine, case overlap, T = {T}, 41 output times")
    print(
        f"{'N':>6} {'delta':>9} {'value':>8} {'steps':>7} {'rej.':>6} {'runs':>4} {'err.est.':>9} {'s / unit t':>10} {'eng ms/t':>10} {'reg/eng':>9}"
    )
    for N in sizes:
        bench_integrator(N)
    print("\nvelocity evaluation, delta = N^-1/2: O(N) sweep (after a sort) vs O(N^2) numpy sum")
    print(f"{'N':>6} {'sweep ms':>10} {'numpy ms':>10} {'ratio':>8} {'max diff':>10}")
    for N in (1000, 4000, 10000):
        bench_velocity(N)
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
