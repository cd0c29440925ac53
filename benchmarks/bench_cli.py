"""Benchmark of the command line against the engine alone, measured in the same run.

1. ``python -m compare particles overlap --N 12000 --T 100 --nt 1`` (the final state, about 54 M
   events) as a whole process (interpreter start, imports, numba's cache, initial data, engine,
   energies, the NetCDF write), with ``--events none`` (the default) and ``--events all`` (the log
   streamed to the file): wall time, peak resident memory and file size, against the engine alone
   (``simulate`` on the same initial particles in this process, kernels already compiled). Targets:
   the default command within 1.5 times the engine alone; memory O(N) with either option.
2. The default job ``python -m compare`` (the validation study of ``overlap``) as a whole process,
   against its target of 60 s.

Usage: python benchmarks/bench_cli.py [--quick]   (--quick: N = 4000 and no default job)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from compare.runs.cases import initial_state, load_case  # noqa: E402
from solvers.particles.engine import simulate  # noqa: E402

CHILD = """\
import resource, sys, time
from compare.cli import main
start = time.perf_counter()
code = main(sys.argv[1:])
print(f"RESULT {code} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")
"""


def engine_alone(N: int, T: float) -> tuple[float, int]:
    """Best wall time of 2 of ``simulate`` on ``overlap``'s initial particles (compiled), and its events."""
    x0, y0, m, n = initial_state(load_case("overlap"), N)
    simulate(x0[:10], y0[:10], [0.0, T], record_events=False)  # compile or load the kernels
    best, events = float("inf"), 0
    for _ in range(2):
        start = time.perf_counter()
        run = simulate(x0, y0, [0.0, T], m=m, n=n, record_events=False)
        best, events = min(best, time.perf_counter() - start), run.n_events
    return best, events


def whole_process(args: list[str], cwd: Path) -> tuple[float, float]:
    """Wall time (s) and peak resident memory (MiB) of ``python -m compare ARGS`` in a new process."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, *args], cwd=cwd, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    _, code, rss = line.split()
    if code != "0":
        raise SystemExit(f"command failed: {args}\n{done.stderr}")
    return wall, int(rss) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    N, T = (4000, 100.0) if quick else (12000, 100.0)
    engine, events = engine_alone(N, T)
    print(
        f"engine alone, overlap N = {N} to T = {T:g}: {events / 1e6:.1f} M events in {engine:.2f} s ({events / engine / 1e6:.2f} M events/s)"
    )
    print(f"{'command':<52} {'wall s':>8} {'/ engine':>9} {'peak MiB':>9} {'file MB':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        for events_option in ("none", "all"):
            out = cwd / f"run-{events_option}.nc"
            args = f"particles overlap --N {N} --T {T:g} --nt 1 --events {events_option} --quiet --out {out}".split()
            wall, rss = whole_process(args, cwd)
            size = out.stat().st_size / 1e6
            target = "  (target <= 1.5)" if events_option == "none" else ""
            print(f"{'particles --events ' + events_option:<52} {wall:8.2f} {wall / engine:9.2f} {rss:9.0f} {size:8.1f}{target}")
        if not quick:
            wall, rss = whole_process(["validate", "--out", str(cwd / "results")], cwd)  # = python -m compare
            print(f"{'default job (python -m compare)':<52} {wall:8.2f} {'':>9} {rss:9.0f} {'':>8}  (target < 60 s)")


if __name__ == "__main__":
    main()
