"""Cost of the pseudo-inverse scheme on initial data outside Theorem 5.1 (run:
``taskset -c 1 python benchmarks/bench_outside.py [--quick]``).

For every case with point masses or singular densities and n = 200, 400, 800 intervals per species
(``--quick``: 200, 400), the RK4 steps and the wall time (best of 3) of ``solve_lagrangian`` up to the
case's T, and both as ratios to the bounded case ``overlap`` (two indicators, T = 2) at the same n,
measured in the same run. A point mass or a singularity separated from the other species costs no
more steps than bounded data (the spreading intervals do not bound the step: one step for
``point_mass_separated``); a point mass inside the other species' support costs far more (the other
species' nodes cross the nodes of the spreading fan, and rho is compressed into it, in resolved
steps: 3553, 9841, 27249 steps for n = 200, 400, 800, a factor 2.8 per doubling, against 110, 217,
433 for ``overlap``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from compare.runs.cases import load_case
from solvers.continuum.lagrangian import solve_lagrangian

CASES = ("point_mass_separated", "point_masses_coincide", "point_mass_inside", "singular_separated", "singular_overlap")
BASELINE = "overlap"


def _run(name: str, n: int) -> tuple[int, float]:
    case = load_case(name)
    t_out = np.array([0.0, case.T])
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        *_, steps = solve_lagrangian(case.rho0, case.eta0, n, t_out)
        best = min(best, time.perf_counter() - start)
    return steps, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n = 200, 400 only")
    levels = (200, 400) if parser.parse_args().quick else (200, 400, 800)
    for name in (BASELINE, *CASES):
        _run(name, 8)  # compile outside the timings
    print(f"{'case':24} {'n':>5} {'steps':>7} {'wall s':>8} {'steps/base':>11} {'time/base':>10}")
    for n in levels:
        base_steps, base_time = _run(BASELINE, n)
        print(f"{BASELINE:24} {n:5d} {base_steps:7d} {base_time:8.4f} {1.0:11.2f} {1.0:10.2f}")
        for name in CASES:
            steps, wall = _run(name, n)
            print(f"{name:24} {n:5d} {steps:7d} {wall:8.4f} {steps / base_steps:11.2f} {wall / base_time:10.2f}")


if __name__ == "__main__":
    main()
