"""Every benchmark figure in one table, each with its baseline measured in the same run.

Usage: ``python benchmarks/run_all.py [--quick]``. Columns: figure, value, baseline, ratio
(value / baseline, or baseline / value for times, so that > 1 is better), target (the absolute
targets of ``bench_continuum.TARGETS``; none is set for the engine).

1. Particle engine against solve_ivp (RK45 on the sign-sum right-hand side of (6)) on [0, 1],
   x_i = i/N, y_j = 1/2 + j/N (``bench_particles``).
2. Finite volumes: fv1 cell updates per second against the same scheme in vectorised numpy, and
   fv2 against fv1 (``bench_continuum``), case overlap.
3. A sweep (``compare.studies.sweep``) on a local cluster of 2 worker processes against 1 (wall time of the
   runs, cluster start-up included, combination excluded).
4. The command line: ``particles overlap --N 12000 --T 100 --nt 1`` (the final state) as a whole process
   against the engine alone (``bench_cli``; N = 4000 with --quick).
5. The general-mass engine with random masses to T = 2 at N = 2000, events/s against the rank engine's
   with equal masses on the same positions (``bench_general``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp

ROOT = Path(__file__).resolve().parent
sys.path[:0] = [str(ROOT.parent), str(ROOT)]  # run from a checkout without installing

import bench_cli  # noqa: E402
import bench_continuum  # noqa: E402
import bench_general  # noqa: E402
import bench_particles  # noqa: E402

from compare.studies.sweep import execute, expand_jobs, load_spec  # noqa: E402
from solvers.continuum.fv import solve_fv  # noqa: E402

SWEEP_SPEC = """\
cases = ["overlap", "bumps_overlap"]
N = {N}
schemes = ["fv1", "fv2", "lagrangian"]
cells = {cells}
T = 1.0
nt = 10
"""

Row = tuple[str, float, float, float, str]


def engine_vs_ivp(N: int, rtol: float) -> Row:
    x, y = bench_particles.overlapping_case(N)
    engine, _ = bench_particles.engine_seconds(N, bench_particles.T_IVP)
    start = time.perf_counter()
    solve_ivp(bench_particles.rhs(N), (0.0, bench_particles.T_IVP), np.concatenate([x, y]), method="RK45", rtol=rtol, atol=1e-3 * rtol)
    ivp = time.perf_counter() - start
    return (f"particles N={N}: engine s (baseline solve_ivp rtol {rtol:g})", engine, ivp, ivp / engine, "none set")


def fv_throughput(cells: int, T: float) -> list[Row]:
    u, w, _, dx = bench_continuum._initial(cells)
    start = time.perf_counter()
    steps = bench_continuum._numpy_fv1(u.copy(), w.copy(), dx, T, 0.45)
    numpy_rate = steps * cells / (time.perf_counter() - start)
    rates = {}
    for scheme in ("fv1", "fv2"):
        solve_fv(*bench_continuum._initial(64)[:2], 2.0 / 64, np.array([0.0, 1e-3]), scheme=scheme)  # compile
        best = 0.0
        for _ in range(3):
            start = time.perf_counter()
            _, _, steps = solve_fv(u, w, dx, np.array([0.0, T]), scheme=scheme)
            best = max(best, steps * cells / (time.perf_counter() - start))
        rates[scheme] = best
    return [
        (
            f"fv1 {cells} cells: M cell updates/s (baseline numpy fv1)",
            rates["fv1"] / 1e6,
            numpy_rate / 1e6,
            rates["fv1"] / numpy_rate,
            f"value >= {bench_continuum.TARGETS['fv1'] / 1e6:g}",
        ),
        (
            f"fv2 {cells} cells: M cell updates/s (baseline fv1)",
            rates["fv2"] / 1e6,
            rates["fv1"] / 1e6,
            rates["fv2"] / rates["fv1"],
            f"value >= {bench_continuum.TARGETS['fv2'] / 1e6:g}",
        ),
    ]


def sweep_seconds(spec_text: str, workers: int) -> float:
    """Wall time of all the runs of a sweep on a new local cluster of ``workers`` processes."""
    from distributed import Client, LocalCluster

    with tempfile.TemporaryDirectory() as tmp:
        spec_path = Path(tmp) / "spec.toml"
        spec_path.write_text(spec_text)
        jobs = expand_jobs(load_spec(spec_path))
        runs = Path(tmp) / "runs"
        runs.mkdir()
        start = time.perf_counter()
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            with Client(cluster, set_as_default=False) as client:
                execute(jobs, len(jobs), runs, client, stream=None)
        return time.perf_counter() - start


def sweep_workers(quick: bool) -> Row:
    spec = SWEEP_SPEC.format(N=[100, 200, 400] if quick else [200, 400, 800, 1600], cells=[400, 800] if quick else [1000, 2000, 4000])
    one, two = sweep_seconds(spec, 1), sweep_seconds(spec, 2)
    return ("sweep: s on 2 workers (baseline 1 worker)", two, one, one / two, "ratio -> 2 (ideal, 2 idle cores)")


def command_line(quick: bool) -> Row:
    N = 4000 if quick else 12000
    engine, _ = bench_cli.engine_alone(N, 100.0)
    with tempfile.TemporaryDirectory() as tmp:
        args = f"particles overlap --N {N} --T 100 --nt 1 --quiet --out {Path(tmp) / 'run.nc'}".split()
        wall, _ = bench_cli.whole_process(args, Path(tmp))
    return (f"particles N={N} to the final state: s, whole process (baseline engine alone)", wall, engine, engine / wall, "ratio >= 1/1.5")


def general_engine() -> Row:
    rank, random = bench_general.measure(2000, False, 3)[:2]
    rate, rank_rate = random["events"] / random["cpu"], rank["events"] / rank["cpu"]
    return (
        "general engine N=2000 T=2, random masses: M events/s (baseline rank engine)",
        rate / 1e6,
        rank_rate / 1e6,
        rate / rank_rate,
        "value >= 2, ratio >= 0.2",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    rows = [engine_vs_ivp(100, 1e-9)]
    if not args.quick:
        rows.append(engine_vs_ivp(400, 1e-6))
    for cells in [2000] if args.quick else [2000, 32000]:
        rows += fv_throughput(cells, 0.05 if args.quick else 0.5)
    rows.append(sweep_workers(args.quick))
    rows.append(command_line(args.quick))
    rows.append(general_engine())
    width = max(len(row[0]) for row in rows)
    print(f"{'figure':<{width}} {'value':>10} {'baseline':>10} {'ratio':>8}  target")
    for figure, value, baseline, ratio, target in rows:
        print(f"{figure:<{width}} {value:>10.4g} {baseline:>10.4g} {ratio:>8.2f}  {target}")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
