"""Benchmark of the exact event-driven particle engine against scipy's solve_ivp.

Case: x_i = i/N, y_j = 1/2 + j/N (half-overlapping species), about 3 N^2 / 8 events to the final
state x_i = y_i.

1. Engine to the final state at N = 1000 ... 16000: events, wall and CPU seconds, events per CPU
   second and its ratio to the rate at N = 1000 measured in this run (the baseline: a rate that
   holds up at large N gives ratios near 1), peak traced memory of the call (tracemalloc,
   record_events=False). Then N = 100000: the first PREFIX_100K events (about a quarter of its
   3.75e9; the rate is that of the whole run to within a few per cent), or the whole run with --full.
2. The event log's cost at N = 16000 (to the final state, 9.6e7 events): CPU seconds of the run
   streaming the log to a callback that drops it (``on_events``) and keeping it in the result
   (``record_events=True``, 2.4 GB), each as a ratio to the run without a log (all three in this
   process, in that order). For the kept log also: the system part of its CPU seconds (page faults:
   the kernel writes the log once, into fresh memory), its size and the process's peak resident
   memory after it (about the log plus the baseline: the log is never copied).
3. solve_ivp (RK45, right-hand side of (6) with vectorised numpy sign sums) up to T = 1, when about
   95 % of all events have happened, at N = 100 (rtol 1e-9) and N = 400 (rtol 1e-6): wall time, max
   position error against the engine, and the speed ratio solve_ivp / engine measured in this run.

Usage: python benchmarks/bench_particles.py [--quick] [--full]
    --quick: N <= 4000 (no N = 100000, the log's cost at N = 4000) and only N = 100 for solve_ivp
    --full: N = 100000 to the final state (about 6 minutes) instead of its first PREFIX_100K events
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from solvers.particles.engine import ParticleRun, run_rank, simulate
from solvers.particles.events import EventLog

T_IVP = 1.0
PREFIX_100K = 1_000_000_000


def overlapping_case(N: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.arange(1, N + 1) / N
    return x, x + 0.5


def rhs(N: int):
    """Right-hand side of (6) for equal masses: sign sums over all pairs, vectorised."""

    def f(t: float, z: np.ndarray) -> np.ndarray:
        x, y = z[:N], z[N:]
        vx = np.sign(x[:, None] - x[None, :]).sum(1) - np.sign(x[:, None] - y[None, :]).sum(1)
        vy = np.sign(y[:, None] - y[None, :]).sum(1) - np.sign(y[:, None] - x[None, :]).sum(1)
        return np.concatenate([vx, vy]) / N

    return f


class Stop(Exception):
    """Raised by the progress callback to end a run after a prefix of its events."""


def bench_engine(N: int, baseline: float | None, prefix: int | None = None) -> float:
    """One engine run to the final state (or its first ``prefix`` events, whole kernel calls of
    2^22); prints its line and returns its events per CPU second."""
    x, y = overlapping_case(N)
    done = [0, 0.0]

    def progress(events: int, t: float) -> None:
        done[:] = [events, t]
        if prefix is not None and events >= prefix:
            raise Stop

    wall0, cpu0 = time.perf_counter(), time.process_time()
    try:
        result = run_rank(x, y, np.array([0.0]), EventLog("none"), True, progress)
        events, t_last = result.n_cross + result.n_stick, result.t_last_event
    except Stop:
        events, t_last = done
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    rate = events / cpu
    if prefix is None:
        tracemalloc.start()
        simulate(x, y, [0.0], run_to_final=True, record_events=False)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        memory = f"{peak / 2**20:>9.2f} {peak / N:>9.1f}"
    else:
        memory = f"{'(prefix)':>9} {'':>9}"
    print(
        f"{N:>6d} {events:>11d} {events / (3 * N * N / 8):>8.4f} {t_last:>8.3f} {wall:>8.3f} {cpu:>8.3f} "
        f"{rate / 1e6:>10.2f} {rate / (baseline or rate):>8.2f} {memory}",
        flush=True,
    )
    return rate


def bench_log(N: int) -> None:
    """CPU seconds to the final state without a log, streaming it and keeping it; ratios to none; the
    keep run's system CPU seconds, the log's MiB and the process's peak resident MiB after it."""
    x, y = overlapping_case(N)
    seconds, system = {}, {}
    for mode in ("none", "stream", "keep"):
        before = resource.getrusage(resource.RUSAGE_SELF)
        if mode == "stream":
            run = simulate(x, y, [0.0], run_to_final=True, on_events=lambda chunk: None)
        else:
            run = simulate(x, y, [0.0], run_to_final=True, record_events=mode == "keep")
        after = resource.getrusage(resource.RUSAGE_SELF)
        system[mode] = after.ru_stime - before.ru_stime
        seconds[mode] = after.ru_utime - before.ru_utime + system[mode]
        log_bytes = sum(a.nbytes for a in (run.event_t, run.event_kind, run.event_i, run.event_j))
        del run
    print(
        f"{N:>6d} {seconds['none']:>8.2f} {seconds['stream']:>9.2f} {seconds['keep']:>8.2f} "
        f"{seconds['stream'] / seconds['none']:>13.3f} {seconds['keep'] / seconds['none']:>11.3f} "
        f"{system['keep']:>10.2f} {log_bytes / 2**20:>9.0f} {after.ru_maxrss / 2**10:>9.0f}"
    )


def engine_seconds(N: int, T: float) -> tuple[float, ParticleRun]:
    """Best wall time of 20 engine runs to time T, and the run."""
    x, y = overlapping_case(N)
    best = np.inf
    for _ in range(20):
        start = time.perf_counter()
        run = simulate(x, y, [T], record_events=False)
        best = min(best, time.perf_counter() - start)
    return best, run


def bench_ivp(N: int, rtol: float) -> None:
    x, y = overlapping_case(N)
    t_engine, run = engine_seconds(N, T_IVP)
    n_events_by_T = np.count_nonzero(simulate(x, y, [T_IVP]).event_t <= T_IVP)
    start = time.perf_counter()
    sol = solve_ivp(rhs(N), (0.0, T_IVP), np.concatenate([x, y]), method="RK45", rtol=rtol, atol=1e-3 * rtol)
    t_ivp = time.perf_counter() - start
    error = max(np.abs(sol.y[:N, -1] - run.x[0]).max(), np.abs(sol.y[N:, -1] - run.y[0]).max())
    print(
        f"{N:>6d} {rtol:>8.0e} {n_events_by_T:>9d} {sol.nfev:>9d} {t_ivp:>9.3f} {error:>10.2e} "
        f"{t_engine * 1e3:>10.3f} {t_ivp / t_engine:>12.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--full", action="store_true", help="N = 100000 to the final state")
    args = parser.parse_args()
    sizes = [1000, 2000, 4000] if args.quick else [1000, 2000, 4000, 8000, 16000]
    ivp_cases = [(100, 1e-9)] if args.quick else [(100, 1e-9), (400, 1e-6)]

    simulate([0.0, 1.0], [0.5, 2.0], [0.0], run_to_final=True)  # load the compiled kernel
    print(f"load average at start: {os.getloadavg()}")
    print("engine, x_i = i/N, y_j = 1/2 + j/N, run to the final state, record_events=False")
    print(
        f"{'N':>6} {'events':>11} {'/(3N²/8)':>8} {'t_final':>8} {'wall s':>8} {'cpu s':>8} {'Mevents/s':>10} "
        f"{'/N=1000':>8} {'peak MiB':>9} {'B/part.':>9}"
    )
    baseline = None
    for N in sizes:
        rate = bench_engine(N, baseline)
        baseline = baseline or rate
    if not args.quick:
        bench_engine(100_000, baseline, None if args.full else PREFIX_100K)
    N_log = 4000 if args.quick else 16000
    print(f"\nevent log at N = {N_log}, same case to the final state: CPU seconds and ratios to the run without a log;")
    print("keep: system CPU seconds (page faults), the log's size and the process's peak resident memory after it")
    print(
        f"{'N':>6} {'none s':>8} {'stream s':>9} {'keep s':>8} {'stream/none':>13} {'keep/none':>11} "
        f"{'keep sys s':>10} {'log MiB':>9} {'peak MiB':>9}"
    )
    bench_log(N_log)
    print(f"\nsolve_ivp RK45 vs engine on [0, T = {T_IVP}] (engine: best of 20, no event log)")
    print(f"{'N':>6} {'rtol':>8} {'events':>9} {'nfev':>9} {'ivp s':>9} {'max err':>10} {'engine ms':>10} {'ivp/engine':>12}")
    for N, rtol in ivp_cases:
        bench_ivp(N, rtol)
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
