"""Benchmark of the general-mass block engine (``solvers.particles.general``), events per second.

Case: x_i = i/N, y_j = 1/2 + j/N (half-overlapping species, as in ``bench_particles.py``), run to the
end of all events (``run_to_final``, no event log).

1. Random masses: m_i, n_j uniform in [1/2, 3/2], each species normalised to unit mass (seed 0).
2. Equal masses 1/N: the general engine forced with ``fast_path=False`` against the rank engine (fast
   path) on the same configuration, in the same run; the ratio of CPU times and the agreement of
   the final positions (both engines are exact up to round-off).

Every timing is the best CPU time of ``--repeat`` runs. Usage:
python benchmarks/bench_general.py [--quick] [--repeat R]   (--quick: N <= 2000)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from solvers.particles.engine import ParticleRun, simulate


def overlapping_case(N: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.arange(1, N + 1) / N
    return x, x + 0.5


def random_masses(N: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    m, n = rng.uniform(0.5, 1.5, N), rng.uniform(0.5, 1.5, N)
    return m / m.sum(), n / n.sum()


def best_cpu(repeat: int, **kwargs: object) -> tuple[float, ParticleRun]:
    """Best CPU seconds of ``repeat`` runs of ``simulate(**kwargs)`` to the last event, and the run."""
    best = np.inf
    for _ in range(repeat):
        start = time.process_time()
        run = simulate(**kwargs, t_out=[0.0], run_to_final=True, record_events=False)  # type: ignore[arg-type]
        best = min(best, time.process_time() - start)
    return best, run


def bench_random(N: int, repeat: int) -> None:
    x, y = overlapping_case(N)
    m, n = random_masses(N, np.random.default_rng(0))
    cpu, run = best_cpu(repeat, x0=x, y0=y, m=m, n=n)
    print(
        f"{N:>6d} {run.n_events:>10d} {run.n_cross:>10d} {run.n_stick:>8d} {run.n_merge:>7d} "
        f"{run.t_last_event:>10.3g} {cpu:>8.3f} {run.n_events / cpu / 1e6:>10.2f}"
    )


def bench_equal(N: int, repeat: int) -> None:
    x, y = overlapping_case(N)
    cpu_fast, fast = best_cpu(repeat, x0=x, y0=y)
    cpu_general, general = best_cpu(repeat, x0=x, y0=y, fast_path=False)
    end_fast = simulate(x, y, [fast.t_last_event], record_events=False)
    end_general = simulate(x, y, [fast.t_last_event], record_events=False, fast_path=False)
    diff = max(np.max(np.abs(end_fast.x - end_general.x)), np.max(np.abs(end_fast.y - end_general.y)))
    print(
        f"{N:>6d} {fast.n_events:>10d} {general.n_events:>10d} {cpu_fast:>9.4f} {cpu_general:>9.4f} "
        f"{fast.n_events / cpu_fast / 1e6:>10.2f} {general.n_events / cpu_general / 1e6:>10.2f} "
        f"{cpu_general / cpu_fast:>8.2f} {diff:>9.1e}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (best CPU time is kept)")
    args = parser.parse_args()
    sizes = [500, 1000, 2000] if args.quick else [500, 1000, 2000, 4000, 8000]

    simulate([0.0, 1.0], [0.5, 2.0], [0.0], m=[0.3, 0.7], n=[0.6, 0.4], run_to_final=True)  # compile/load
    simulate([0.0, 1.0], [0.5, 2.0], [0.0], run_to_final=True)
    print(f"load average at start: {os.getloadavg()}")
    print("1. general engine, random masses in [1/2, 3/2] (normalised), x_i = i/N, y_j = 1/2 + j/N, to the last event")
    print(f"{'N':>6} {'events':>10} {'crossings':>10} {'sticks':>8} {'merges':>7} {'t_last':>10} {'cpu s':>8} {'Mevents/s':>10}")
    for N in sizes:
        bench_random(N, args.repeat)
    print("\n2. equal masses 1/N: rank engine (fast path) vs general engine (fast_path=False), same configuration")
    print(
        f"{'N':>6} {'ev rank':>10} {'ev gen':>10} {'cpu rank':>9} {'cpu gen':>9} {'Mev/s rank':>10} {'Mev/s gen':>10} {'gen/rank':>8} {'max |dx|':>9}"
    )
    for N in sizes:
        bench_equal(N, args.repeat)
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
