"""Benchmark of the general-mass block engine (``solvers.particles.general``) against the rank engine.

Case: x_i = i/N, y_j = 1/2 + j/N (half-overlapping species, as in ``bench_particles.py``), run to
T = 2 and to the final state (``run_to_final``), no event log unless said. For each N and run, in the
same process and on the same positions:

- baseline: the rank engine (fast path) with equal masses 1/N;
- general engine, random masses m_i, n_j uniform in [1/2, 3/2], each species normalised to unit mass
  (seed 0): events/s and their ratio to the baseline's events/s (targets at N = 2000, T = 2:
  >= 2 M events/s and ratio >= 0.2); with the event log kept (in memory), its CPU time against the
  run without;
- general engine, equal masses 1/N forced (``fast_path=False``): CPU time against the baseline's
  (target <= 3) and the largest position difference to it at the end of the run (both are exact up
  to round-off).

Every timing is the best CPU time of ``--repeat`` runs; other jobs on the machine may slow the runs
down (the load average is printed). Usage:
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

T_RUN = 2.0
TARGET_RATE = 2e6
TARGET_RATIO = 0.2
TARGET_FORCED = 3.0


def overlapping_case(N: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.arange(1, N + 1) / N
    return x, x + 0.5


def random_masses(N: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    m, n = rng.uniform(0.5, 1.5, N), rng.uniform(0.5, 1.5, N)
    return m / m.sum(), n / n.sum()


def best_cpu(repeat: int, final: bool, **kwargs: object) -> tuple[float, ParticleRun]:
    """Best CPU seconds of ``repeat`` runs of ``simulate(**kwargs)`` to T_RUN (or to the last event),
    and the run."""
    best = np.inf
    for _ in range(repeat):
        start = time.process_time()
        run = simulate(t_out=[0.0 if final else T_RUN], run_to_final=final, **kwargs)  # type: ignore[arg-type]
        best = min(best, time.process_time() - start)
    return best, run


def measure(N: int, final: bool, repeat: int) -> list[dict[str, object]]:
    """The rows of one N and run length (module docstring): engine, events, CPU seconds, events/s,
    ratio, what the ratio is of, and the target if there is one."""
    x, y = overlapping_case(N)
    m, n = random_masses(N, np.random.default_rng(0))
    cpu_rank, rank = best_cpu(repeat, final, x0=x, y0=y, record_events=False)
    cpu_random, random = best_cpu(repeat, final, x0=x, y0=y, m=m, n=n, record_events=False)
    cpu_logged, _ = best_cpu(repeat, final, x0=x, y0=y, m=m, n=n, record_events=True)
    cpu_forced, forced = best_cpu(repeat, final, x0=x, y0=y, record_events=False, fast_path=False)
    t_end = [rank.t_last_event if final else T_RUN]  # both equal-mass runs compared at the same time
    end_rank = simulate(x, y, t_end, record_events=False)
    end_forced = simulate(x, y, t_end, record_events=False, fast_path=False)
    diff = max(np.max(np.abs(end_rank.x - end_forced.x)), np.max(np.abs(end_rank.y - end_forced.y)))

    rate_rank = rank.n_events / cpu_rank
    rate_random = random.n_events / cpu_random
    ratio_rate = rate_random / rate_rank
    ratio_forced = cpu_forced / cpu_rank
    goal_rate = ""
    if N == 2000 and not final:
        met = rate_random >= TARGET_RATE and ratio_rate >= TARGET_RATIO
        goal_rate = f">= {TARGET_RATE / 1e6:g} M/s and >= {TARGET_RATIO:g}: {'met' if met else 'MISSED'}"
    goal_forced = f"<= {TARGET_FORCED:g}: {'met' if ratio_forced <= TARGET_FORCED else 'MISSED'}; max |dx| {diff:.1e}"
    run = "final" if final else f"T = {T_RUN:g}"
    return [
        {
            "N": N,
            "run": run,
            "engine": "rank, equal masses (baseline)",
            "events": rank.n_events,
            "cpu": cpu_rank,
            "ratio": 1.0,
            "of": "",
            "goal": "",
        },
        {
            "N": N,
            "run": run,
            "engine": "general, random masses",
            "events": random.n_events,
            "cpu": cpu_random,
            "ratio": ratio_rate,
            "of": "events/s",
            "goal": goal_rate,
        },
        {
            "N": N,
            "run": run,
            "engine": "general, random masses, log kept",
            "events": random.n_events,
            "cpu": cpu_logged,
            "ratio": cpu_logged / cpu_random,
            "of": "cpu, to no log",
            "goal": "",
        },
        {
            "N": N,
            "run": run,
            "engine": "general, equal masses forced",
            "events": forced.n_events,
            "cpu": cpu_forced,
            "ratio": ratio_forced,
            "of": "cpu",
            "goal": goal_forced,
        },
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (best CPU time is kept)")
    args = parser.parse_args()
    sizes = [500, 1000, 2000] if args.quick else [500, 1000, 2000, 4000, 8000]

    simulate([0.0, 1.0], [0.5, 2.0], [0.0], m=[0.3, 0.7], n=[0.6, 0.4], run_to_final=True)  # compile/load
    simulate([0.0, 1.0], [0.5, 2.0], [0.0], run_to_final=True)
    print(f"load average at start: {os.getloadavg()}")
    header = f"{'N':>6} {'run':>7}  {'engine':<34} {'events':>10} {'cpu s':>8} {'Mev/s':>7} {'ratio':>6}  {'ratio of':<14} target"
    print(header)
    print("-" * len(header))
    for N in sizes:
        for final in (False, True):
            for row in measure(N, final, args.repeat):
                rate = row["events"] / row["cpu"] / 1e6  # type: ignore[operator]
                print(
                    f"{row['N']:>6} {row['run']:>7}  {row['engine']:<34} {row['events']:>10} {row['cpu']:>8.3f} "
                    f"{rate:>7.2f} {row['ratio']:>6.2f}  {row['of']:<14} {row['goal']}"
                )
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
