"""Benchmark of the continuous-time replay (solvers.particles.continuous_time) against the engine run
it replays and against numpy evaluation at every event time.

Case: rho0 = U[-0.3, 0.3], eta0 = U[-1, 1], midpoint placement, T = 2 (the sup-sum peak case).

1. For each N: events up to T, CPU seconds of the engine with its event log (the baseline), of the
   replay without functionals (peaks, Lemmas 5.1/5.2, energy), with r log(1 + r) only, with the
   default functionals (r^m for m = 1.5, 2, 4, 8, 64, and r log(1 + r)) and with the all-convex-G
   certificate as well; ratio replay / engine and nanoseconds per particle and event time.
2. At small N, the same node values (sup rho~ + sup eta~ at every event time) by sampling the engine
   at all event times and numpy (``reconstruction.sup_norm``): CPU seconds and memory of the output,
   against the replay (which needs O(N) memory).

Usage: python benchmarks/bench_continuous_time.py [--quick]   (--quick: N <= 800)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from solvers.initial import atomise, density_from_spec
from solvers.particles.continuous_time import DEFAULT_FUNCTIONALS, RLOG1P, ContinuousTimeReplay
from solvers.particles.engine import simulate
from solvers.particles.reconstruction import sup_norm

T = 2.0


def initial(N: int) -> tuple[np.ndarray, np.ndarray]:
    inner = density_from_spec({"kind": "uniform", "a": -0.3, "b": 0.3})
    outer = density_from_spec({"kind": "uniform", "a": -1.0, "b": 1.0})
    return atomise(inner, N, "mid"), atomise(outer, N, "mid")


def replay_seconds(run, functionals: tuple[float | str, ...], certificate: bool) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    start = time.process_time()
    replay = ContinuousTimeReplay(run.x[0], run.y[0], run.vx[0], run.vy[0], T, functionals=functionals, certificate=certificate)
    replay.feed(run.event_t, run.event_kind, run.event_i, run.event_j)
    obs = replay.result()
    return time.process_time() - start, obs.sup_sum_peak


def bench(N: int) -> None:
    x0, y0 = initial(N)
    start = time.process_time()
    run = simulate(x0, y0, [0.0, T], record_events=True)
    engine = time.process_time() - start
    nodes = np.unique(run.event_t).size + 1
    cells = [
        replay_seconds(run, g, c) for g, c in (((), False), ((RLOG1P,), False), (DEFAULT_FUNCTIONALS, False), (DEFAULT_FUNCTIONALS, True))
    ]
    times = " ".join(f"{s:>9.3f} {s / engine:>7.1f}" for s, _ in cells)
    per = " ".join(f"{s / (nodes * 2 * N) * 1e9:>6.1f}" for s, _ in cells)
    print(f"{N:>6d} {run.n_events:>9d} {engine:>9.3f} {times} {per}")


def bench_numpy(N: int) -> None:
    x0, y0 = initial(N)
    run = simulate(x0, y0, [0.0, T], record_events=True)
    t = np.unique(np.concatenate([[0.0, T], run.event_t]))
    start = time.process_time()
    sampled = simulate(x0, y0, t)
    total = sup_norm(sampled.x) + sup_norm(sampled.y)
    peak_numpy = total.max() / total[0] - 1
    seconds = time.process_time() - start
    memory = sum(a.nbytes for a in (sampled.x, sampled.y, sampled.vx, sampled.vy)) / 2**20
    replay, peak = replay_seconds(run, (), False)
    print(f"{N:>6d} {t.size:>9d} {seconds:>9.3f} {memory:>9.1f} {replay:>9.3f} {seconds / replay:>9.1f} {abs(peak - peak_numpy):>10.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N <= 800 only")
    args = parser.parse_args()
    sizes = [200, 400, 800] if args.quick else [200, 400, 800, 1600]
    bench(50)  # load the compiled kernels
    print(f"load average at start: {os.getloadavg()}")
    print(f"replay vs engine (CPU s; ratio = replay / engine), T = {T}; then ns per particle and event time of each replay")
    print(
        f"{'N':>6} {'events':>9} {'engine':>9} {'none':>9} {'ratio':>7} {'rlog1p':>9} {'ratio':>7} {'default':>9} {'ratio':>7} "
        f"{'+certif':>9} {'ratio':>7} {'ns':>6} {'ns':>6} {'ns':>6} {'ns':>6}"
    )
    for N in sizes:
        bench(N)
    print("\nsup rho~ + sup eta~ at every event time: engine sampled at all event times + numpy, against the replay")
    print(f"{'N':>6} {'times':>9} {'numpy s':>9} {'out MiB':>9} {'replay s':>9} {'speed-up':>9} {'|peak diff|':>10}")
    for N in (100, 200):
        bench_numpy(N)
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
