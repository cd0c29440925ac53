"""Command line: ``python -m compare SUBCOMMAND ...``; without arguments, the validation study of
the default case (``python -m compare validate overlap --out results``).

Each subcommand builds its run from a case, writes the Dataset atomically to NetCDF and prints a
one-line summary. Bad input ends with ``error: <one line>`` and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import NoReturn

from compare.defaults import DEFAULT_CASE, DEFAULT_CELLS, DEFAULT_NS
from solvers.errors import InputError


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text}")
    return value


def _cmd_particles(args: argparse.Namespace) -> int:
    from compare.runs.io import write_dataset
    from compare.runs.particle_run import run_particles, summary_line

    start = time.perf_counter()
    ds = run_particles(args.case, N=args.N, T=args.T, nt=args.nt, placement=args.placement)
    write_dataset(ds, args.out)
    print(summary_line(ds, wall_time=time.perf_counter() - start, out=args.out))
    return 0


def _cmd_continuum(args: argparse.Namespace) -> int:
    from compare.runs.continuum_run import run_continuum, summary_line
    from compare.runs.io import write_dataset

    start = time.perf_counter()
    ds = run_continuum(args.case, cells=args.cells, scheme=args.scheme, T=args.T, nt=args.nt, cfl=args.cfl)
    write_dataset(ds, args.out)
    print(summary_line(ds, wall_time=time.perf_counter() - start, out=args.out))
    return 0


def _positive_ints(text: str) -> list[int]:
    try:
        return [_positive_int(part) for part in text.split(",") if part.strip()]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {text!r}") from None


def _cmd_validate(args: argparse.Namespace) -> int:
    from compare.studies.validate import validate

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    command = " ".join(["python -m compare", *args.argv])
    _, text = validate(
        args.case,
        out=args.out,
        Ns=args.N,
        cells=args.cells,
        T=args.T,
        nt=args.nt,
        placement=args.placement,
        reference=args.reference,
        command=command,
        progress=progress,
    )
    print(text)
    print(f"results in {args.out}/ (study.nc, summary.md, figures)")
    return 0


def _add_validate(sub: argparse._SubParsersAction) -> None:
    v = sub.add_parser("validate", help="convergence study of a case: NetCDF, figures, summary.md, table")
    v.add_argument("case", nargs="?", default=DEFAULT_CASE, help=f"case name or TOML path (default {DEFAULT_CASE})")
    v.add_argument("--N", type=_positive_ints, default=list(DEFAULT_NS), help="particle numbers, e.g. 100,200,400")
    v.add_argument("--cells", type=_positive_int, default=DEFAULT_CELLS, help="cells of the fv2 reference")
    v.add_argument("--T", type=_positive_float, default=None, help="final time (overrides the case)")
    v.add_argument("--nt", type=_positive_int, default=40, help="number of equal output intervals on [0, T]")
    v.add_argument("--placement", choices=("right", "mid"), default="right", help="atomisation of the initial data")
    v.add_argument(
        "--reference",
        choices=("auto", "exact", "fv2"),
        default="auto",
        help="exact solution (disjoint supports, before contact), fv2, or auto: exact where it exists",
    )
    v.add_argument("--out", default="results", help="output directory")
    v.set_defaults(func=_cmd_validate)


def _cmd_sweep(args: argparse.Namespace) -> int:
    from compare.studies.sweep import run_sweep

    command = " ".join(["python -m compare", *args.argv])
    try:
        study = run_sweep(args.spec, args.out, workers=args.workers, scheduler=args.scheduler, command=command)
    except KeyboardInterrupt:
        print(f"error: interrupted; completed runs are kept in {args.out}/runs, rerun the same command to resume", file=sys.stderr)
        return 130
    print(f"results in {args.out}/ (study.nc and summary.md over {study.sizes['case']} cases, one directory per case)")
    return 0


def _add_sweep(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("sweep", help="run a sweep specification (TOML) on dask.distributed; resumes where it stopped")
    s.add_argument("spec", help="sweep specification file (see compare.studies.sweep)")
    s.add_argument("--out", default="sweep", help="output directory (runs/, study.nc, summary.md, one directory per case)")
    where = s.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int, default=2, help="worker processes of the local cluster (default 2)")
    where.add_argument("--scheduler", default=None, help="address of a running dask scheduler, e.g. tcp://host:8786")
    s.set_defaults(func=_cmd_sweep)


class _Parser(argparse.ArgumentParser):
    """Option errors as one line ``error: ...`` with exit status 2, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message}; see '{self.prog} --help'\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m compare",
        description="Particle system (6) versus continuum system (5): runs, errors, convergence studies.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("particles", help="exact event-driven particle run of a case")
    p.add_argument("case", help="case name (see data/cases) or path to a TOML case file")
    p.add_argument("--N", type=_positive_int, default=None, help="particles per species (overrides the case)")
    p.add_argument("--T", type=_positive_float, default=None, help="final time (overrides the case)")
    p.add_argument("--nt", type=_positive_int, default=40, help="number of equal output intervals on [0, T]")
    p.add_argument(
        "--placement",
        choices=("right", "mid"),
        default="right",
        help="atomisation: right ends of the equal-mass cells (paper's (65)) or cell midpoints",
    )
    p.add_argument("--out", default="particles.nc", help="output NetCDF file")
    p.set_defaults(func=_cmd_particles)

    c = sub.add_parser("continuum", help="finite-volume or pseudo-inverse run of a case")
    c.add_argument("case", help="case name (see data/cases) or path to a TOML case file")
    c.add_argument("--cells", type=_positive_int, default=2000, help="grid cells (or s-intervals for lagrangian)")
    c.add_argument("--scheme", choices=("fv1", "fv2", "lagrangian"), default="fv2", help="continuum scheme")
    c.add_argument("--T", type=_positive_float, default=None, help="final time (overrides the case)")
    c.add_argument("--nt", type=_positive_int, default=40, help="number of equal output intervals on [0, T]")
    c.add_argument("--cfl", type=_positive_float, default=0.45, help="CFL number: in (0, 0.5] for fv1/fv2, in (0, 1] for lagrangian")
    c.add_argument("--out", default="continuum.nc", help="output NetCDF file")
    c.set_defaults(func=_cmd_continuum)

    _add_validate(sub)
    _add_sweep(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["validate"])
    args.argv = argv
    try:
        return args.func(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; no output was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
