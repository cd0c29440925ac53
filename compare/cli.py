"""Command line: ``python -m compare SUBCOMMAND ...`` (the console script ``particle-limit`` is the
same command); without arguments, the validation study of the default case
(``python -m compare validate overlap --out results``).

Subcommands: ``particles``, ``continuum`` (one run, written to NetCDF), ``validate`` (a convergence
study), ``regularised`` (the Remark 5.1 study), ``sweep`` (studies on dask), ``plot`` and ``animate`` (look at any file written by them),
``cases`` (the shipped cases). Every option's default is shown in ``--help``; options are never
abbreviated (``--n`` is not ``--nt``).

``--out`` is handled the same way by every command: a file for ``particles``, ``continuum`` (.nc),
``plot`` (.png) and ``animate`` (.gif, .mp4), a directory for ``validate``, ``sweep`` and ``plot`` of
a study; missing directories are created (after the run, so a failed run leaves nothing), a wrong
suffix is refused. A run prints its wall time as stored in the file (``wall_time_s``). The first run
on a machine prints ``compiling kernels (first run only)`` when numba compiles. Bad input ends with
``error: <one line>`` and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

from compare.defaults import DEFAULT_CASE, DEFAULT_CELLS, DEFAULT_NS, REFINE, TRAJECTORY_N
from compare.text import plural
from solvers.errors import InputError

DIRECTORY_SUFFIXES = (".nc", ".png", ".gif", ".mp4", ".md", ".txt", ".toml")
"""Suffixes that name a file, refused for a directory ``--out``."""


# ---------------------------------------------------------------------------------------- shared


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


def _positive_ints(text: str) -> list[int]:
    try:
        return [_positive_int(part) for part in text.split(",") if part.strip()]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {text!r}") from None


def _times(text: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated times, got {text!r}") from None
    if not values or any(not 0 <= v < float("inf") for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated times >= 0, got {text!r}")
    return values


def _writable_ancestor(path: Path) -> None:
    """``InputError`` unless the nearest existing ancestor of ``path`` is a writable directory (so
    the missing directories can be created once the work is done)."""
    ancestor = path.absolute()
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(f"cannot create {path}: {ancestor} is a file; choose another path for --out")
    if not os.access(ancestor, os.W_OK):
        raise InputError(f"cannot write under {ancestor}: permission denied; choose a writable path for --out")


def out_file(text: str, suffixes: tuple[str, ...], what: str) -> Path:
    """The ``--out`` file of a command: its suffix one of ``suffixes`` (``what`` says the format),
    not a directory, and creatable; its directory is created by ``make_parent`` after the work."""
    path = Path(text)
    if path.is_dir():
        raise InputError(f"output path {path} is a directory; pass a file name such as {path / ('run' + suffixes[0])}")
    if path.suffix.lower() not in suffixes:
        raise InputError(f"--out {text}: {what}; pass a file name ending in {' or '.join(suffixes)}")
    _writable_ancestor(path.parent)
    return path


def make_parent(path: Path) -> Path:
    """Create the directory of the output file ``path`` (with its parents) if it is missing."""
    from compare.runs.io import prepare_directory

    prepare_directory(path.parent)
    return path


def out_directory(text: str) -> Path:
    """The ``--out`` directory of a command: not a file name, creatable (created by the command)."""
    path = Path(text)
    if path.suffix.lower() in DIRECTORY_SUFFIXES and not path.is_dir():
        raise InputError(f"--out {text}: this command writes a directory of files; pass a directory name without {path.suffix}")
    if path.exists() and not path.is_dir():
        raise InputError(f"output {path} exists and is not a directory; pass a directory path with --out")
    _writable_ancestor(path)
    return path


@contextmanager
def compile_notice(stream: Any = None) -> Iterator[None]:
    """Print ``compiling kernels (first run only)`` once to ``stream`` (default stderr) when numba
    compiles a kernel in the block, i.e. when its disk cache has no entry for it yet."""
    from numba.core import event

    class Notice(event.Listener):
        shown = False

        def on_start(self, ev: event.Event) -> None:
            if not self.shown:
                self.shown = True
                print("compiling kernels (first run only; later runs load them from numba's cache)", file=stream or sys.stderr, flush=True)

        def on_end(self, ev: event.Event) -> None:
            pass

    with event.install_listener("numba:compile", Notice()):
        yield


def _command(args: argparse.Namespace) -> str:
    """The command line that reproduces this run, for the files that record it."""
    return " ".join([args.prog, *args.argv])


# ---------------------------------------------------------------------------------------- particles


class ProgressLine:
    """``progress(events_done, t_now)`` of a particle run as one line on stderr, rewritten in place:
    silent for the first ``after`` seconds (short runs print nothing), then at most every
    ``every`` seconds; ``close`` erases it. Only for a terminal: a redirected stderr gets nothing."""

    def __init__(self, T: float, *, stream: Any = None, after: float = 2.0, every: float = 0.5) -> None:
        import time

        self.clock = time.perf_counter
        self.T = T
        self.stream = stream or sys.stderr
        self.start = self.clock()
        self.after = after
        self.every = every
        self.shown_at: float | None = None

    def __call__(self, events_done: int, t_now: float) -> None:
        now = self.clock() - self.start
        if now < self.after or (self.shown_at is not None and now - self.shown_at < self.every):
            return
        self.shown_at = now
        where = f"t = {t_now:.4g} of T = {self.T:g}" if t_now <= self.T else f"t = {t_now:.4g} (past T = {self.T:g}, to the final state)"
        print(f"\r{events_done:,} events, {where}, {now:.0f} s ", end="", file=self.stream, flush=True)

    def close(self) -> None:
        if self.shown_at is not None:
            print("\r\033[K", end="", file=self.stream, flush=True)


def progress_line(args: argparse.Namespace, T: float) -> ProgressLine | None:
    """A ``ProgressLine`` unless ``--quiet`` or stderr is not a terminal."""
    return None if args.quiet or not sys.stderr.isatty() else ProgressLine(T)


def _cmd_particles(args: argparse.Namespace) -> int:
    from compare.runs.cases import load_case, particle_counts
    from compare.runs.resources import check_particle_run_fits

    out = out_file(args.out, (".nc",), "a particle run is written as NetCDF-4")
    case = load_case(args.case)
    N_x, N_y = particle_counts(case, args.N if case.particles is None else None)
    if args.delta is None and args.tol is not None:
        raise InputError("--tol sets the regularised integrator's tolerance, and the exact engine has none; drop --tol or add --delta")
    if args.delta is not None and args.events == "all":
        raise InputError("the regularised kernel (--delta) moves particles smoothly and has no events; drop --events all")
    events = args.events == "all"
    check_particle_run_fits(N_x, N_y, args.nt, events=events, equal_masses=case.unit_equal_masses, out=out)
    try:
        with compile_notice():
            if args.delta is None:
                attrs, line = _exact_particles(args, case, out, events)
            else:
                attrs, line = _regularised_particles(args, case, out)
    except MemoryError:
        raise InputError(f"out of memory in a run of {N_x} + {N_y} particles with {args.nt + 1} output times; lower --nt or --N") from None
    print(line(attrs, wall_time=attrs["wall_time_s"], out=out))
    return 0


def _exact_particles(args: argparse.Namespace, case: Any, out: Path, events: bool) -> tuple[dict[str, Any], Callable[..., str]]:
    """Run and write an exact particle run without importing xarray; its attributes and summary line."""
    from compare.runs.particle_run import summary_line, write_particle_run

    progress = progress_line(args, case.T if args.T is None else args.T)
    try:
        parts = write_particle_run(out, case, events=events, N=args.N, T=args.T, nt=args.nt, placement=args.placement, progress=progress)
    finally:
        if progress is not None:
            progress.close()
    return parts.attrs, summary_line


def _regularised_particles(args: argparse.Namespace, case: Any, out: Path) -> tuple[dict[str, Any], Callable[..., str]]:
    from compare.runs.io import write_dataset
    from compare.runs.regularised_run import run_regularised, summary_line

    tol = 1e-7 if args.tol is None else args.tol
    ds = run_regularised(case, delta=args.delta, N=args.N, T=args.T, nt=args.nt, placement=args.placement, tol=tol)
    write_dataset(ds, make_parent(out))
    return ds.attrs, summary_line


def _add_particles(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("particles", help="exact event-driven particle run of a case")
    p.add_argument("case", help="case name (see 'cases') or path to a TOML case file")
    p.add_argument("--N", type=_positive_int, default=None, help="particles per species (default: the case's N)")
    p.add_argument("--T", type=_positive_float, default=None, help="final time (default: the case's T)")
    p.add_argument("--nt", type=_positive_int, default=40, help="number of equal output intervals on [0, T]")
    p.add_argument(
        "--placement",
        choices=("right", "mid"),
        default=None,
        help="atomisation of the densities: right ends of the equal-mass cells (paper's (65)) or cell midpoints "
        "(default: right; refused for explicit particles and grid atomisation)",
    )
    p.add_argument(
        "--events",
        choices=("all", "none"),
        default="none",
        help="the event log: 'all' streams every crossing, stick and merge to the file in chunks (memory O(N)); "
        "'none' keeps only the samples and the event counts",
    )
    p.add_argument("--quiet", action="store_true", help="no progress line on stderr (shown only on a terminal, after 2 s)")
    p.add_argument(
        "--delta",
        type=_positive_float,
        default=None,
        help="run the regularised kernel of Remark 5.1 instead, |x| smoothed on [-delta, delta] (default: the exact kernel)",
    )
    p.add_argument(
        "--tol", type=_positive_float, default=None, help="with --delta: the integrator's target for the position error (default: 1e-7)"
    )
    p.add_argument("--out", default="particles.nc", help="output NetCDF file (its directory is created if missing)")
    p.set_defaults(func=_cmd_particles)


# ---------------------------------------------------------------------------------------- continuum


def _cmd_continuum(args: argparse.Namespace) -> int:
    from compare.runs.continuum_run import run_continuum, summary_line
    from compare.runs.io import write_dataset

    out = out_file(args.out, (".nc",), "a continuum run is written as NetCDF-4")
    with compile_notice():
        ds = run_continuum(args.case, cells=args.cells, scheme=args.scheme, T=args.T, nt=args.nt, cfl=args.cfl)
    write_dataset(ds, make_parent(out))
    print(summary_line(ds, wall_time=ds.attrs["wall_time_s"], out=out))
    return 0


def _add_continuum(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("continuum", help="finite-volume or pseudo-inverse run of a case")
    c.add_argument("case", help="case name (see 'cases') or path to a TOML case file")
    c.add_argument("--cells", type=_positive_int, default=2000, help="grid cells (or s-intervals for lagrangian)")
    c.add_argument("--scheme", choices=("fv1", "fv2", "lagrangian"), default="fv2", help="continuum scheme")
    c.add_argument("--T", type=_positive_float, default=None, help="final time (default: the case's T)")
    c.add_argument("--nt", type=_positive_int, default=40, help="number of equal output intervals on [0, T]")
    c.add_argument("--cfl", type=_positive_float, default=0.45, help="CFL number: in (0, 0.5] for fv1/fv2, in (0, 1] for lagrangian")
    c.add_argument("--out", default="continuum.nc", help="output NetCDF file (its directory is created if missing)")
    c.set_defaults(func=_cmd_continuum)


# ---------------------------------------------------------------------------------------- validate


def _study_command(args: argparse.Namespace, study: Callable[..., tuple[Any, str]], files: str, **params: Any) -> int:
    """Run a study function (``validate``, ``remark51``) with the options every study command has,
    its progress lines on stderr, and print its table and where its ``files`` are."""

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    out_directory(args.out)
    common = {"Ns": args.N, "cells": args.cells, "T": args.T, "nt": args.nt, "placement": args.placement, "reference": args.reference}
    with compile_notice():
        _, text = study(args.case, out=args.out, command=_command(args), progress=progress, **common, **params)
    print(text)
    print(f"results in {args.out}/ ({files})")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from compare.studies.validate import validate

    return _study_command(
        args, validate, "study.nc, summary.md, figures", N_show=args.N_show, trajectory_N=args.trajectory_N, refine=args.refine
    )


def _add_validate(sub: argparse._SubParsersAction) -> None:
    v = sub.add_parser("validate", help="convergence study of a case: NetCDF, figures, summary.md, table")
    v.add_argument("case", nargs="?", default=DEFAULT_CASE, help="case name or TOML path")
    v.add_argument("--N", type=_positive_ints, default=list(DEFAULT_NS), help="particle numbers, comma-separated")
    v.add_argument(
        "--cells", type=_positive_int, default=DEFAULT_CELLS, help="cells of the fv2 reference (s-intervals of a lagrangian one)"
    )
    v.add_argument("--T", type=_positive_float, default=None, help="final time (default: the case's T)")
    v.add_argument("--nt", type=_positive_int, default=40, help="number of equal output intervals on [0, T]")
    v.add_argument("--placement", choices=("right", "mid"), default="right", help="atomisation of the initial data")
    v.add_argument(
        "--reference",
        choices=("auto", "exact", "fv2", "lagrangian"),
        default="auto",
        help="exact (disjoint supports, before contact), fv2, lagrangian (the pseudo-inverse scheme: point masses, unbounded densities), or auto: exact where it exists, else lagrangian for point masses and unbounded densities, else fv2",
    )
    v.add_argument("--N-show", type=_positive_int, default=None, help="the N of the profile figure, one of --N (default: the smallest)")
    v.add_argument(
        "--trajectory-N", type=_positive_int, default=TRAJECTORY_N, help="particles per species of the trajectory figure's own run"
    )
    v.add_argument(
        "--refine",
        type=_positive_int,
        default=REFINE,
        help=f"fine times per output interval, where the suprema over time are refined (a power of two >= 4; default {REFINE})",
    )
    v.add_argument("--out", default="results", help="output directory (created if missing)")
    v.set_defaults(func=_cmd_validate)


# ---------------------------------------------------------------------------------------- regularised


def _cmd_regularised(args: argparse.Namespace) -> int:
    from compare.studies.regularised_report import remark51

    params = {"schedules": args.schedules, "c": args.c, "fixed": args.fixed_delta, "tol": args.tol}
    return _study_command(args, remark51, "study.nc, summary.md, regularised.png", **params)


def _schedules(text: str) -> list[str]:
    from compare.studies.regularised import SCHEDULES

    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in SCHEDULES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"expected comma-separated schedules from {', '.join(SCHEDULES)}, got {text!r}")
    return names


def _add_regularised(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser(
        "regularised", help="Remark 5.1: the regularised-kernel particles for several delta schedules against the exact engine"
    )
    r.add_argument("case", nargs="?", default=DEFAULT_CASE, help="case name or TOML path")
    r.add_argument("--N", type=_positive_ints, default=[100, 200, 400, 800], help="particle numbers, comma-separated")
    r.add_argument("--cells", type=_positive_int, default=4000, help="cells of the fv2 reference (s-intervals of a lagrangian one)")
    r.add_argument("--T", type=_positive_float, default=None, help="final time (default: the case's T)")
    r.add_argument("--nt", type=_positive_int, default=40, help="number of equal output intervals on [0, T]")
    r.add_argument(
        "--placement",
        choices=("right", "mid"),
        default="mid",
        help="atomisation of the initial data (midpoints: half the atomisation error)",
    )
    r.add_argument(
        "--reference", choices=("auto", "exact", "fv2", "lagrangian"), default="auto", help="the continuum reference (as for validate)"
    )
    r.add_argument(
        "--schedules",
        type=_schedules,
        default=["log", "sqrt", "c/N", "fixed"],
        help="delta schedules: log (3T/log N, Remark 5.1's borderline), sqrt (N^-1/2), c/N, fixed",
    )
    r.add_argument("--c", type=_positive_float, default=1.0, help="the constant of the c/N schedule")
    r.add_argument("--fixed-delta", type=_positive_float, default=0.05, help="the width of the fixed schedule")
    r.add_argument("--tol", type=_positive_float, default=1e-7, help="the integrator's target for the position error")
    r.add_argument("--out", default="regularised", help="output directory (created if missing)")
    r.set_defaults(func=_cmd_regularised)


# ---------------------------------------------------------------------------------------- sweep


def _cmd_sweep(args: argparse.Namespace) -> int:
    from compare.studies.sweep import run_sweep

    out = out_directory(args.out)
    try:
        study = run_sweep(args.spec, out, workers=args.workers, scheduler=args.scheduler, command=_command(args))
    except KeyboardInterrupt:
        print(f"error: interrupted; completed runs are kept in {args.out}/runs, rerun the same command to resume", file=sys.stderr)
        return 130
    print(f"results in {args.out}/ (study.nc and summary.md over {plural(study.sizes['case'], 'case')}, one directory per case)")
    return 0


def _add_sweep(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("sweep", help="run a sweep specification (TOML) on dask.distributed; resumes where it stopped")
    s.add_argument("spec", help="sweep specification file (see compare.studies.sweep)")
    s.add_argument(
        "--out", default="sweep", help="output directory (runs/, study.nc, summary.md, one directory per case; created if missing)"
    )
    where = s.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int, default=2, help="worker processes of the local cluster")
    where.add_argument(
        "--scheduler", default=None, help="address of a running dask scheduler, e.g. tcp://host:8786 (default: a local cluster)"
    )
    s.set_defaults(func=_cmd_sweep)


# ---------------------------------------------------------------------------------------- plot


def _pair(args: argparse.Namespace, kind: str, ds: Any) -> Any:
    """The run against ``--against`` (``compare.look.against``), or None without it."""
    from compare.look import against, read_kind

    if args.against is None:
        return None
    if kind != "particles":
        raise InputError(f"--against overlays a particle run on a continuum run, but {args.file} is a {kind} file; pass a particle run")
    _, pde = read_kind(args.against, ("continuum",))
    return against(ds, pde, args.file, args.against)


def _cmd_plot(args: argparse.Namespace) -> int:
    from compare.look import read_kind
    from compare.plots import make_figures, save_png, sweep_figure
    from compare.run_plots import continuum_run_figure, particle_run_figure

    kind, ds = read_kind(args.file)
    pair = _pair(args, kind, ds)
    if kind in ("study", "sweep") and args.times is not None:
        raise InputError(f"--times chooses the profiles of a run, but {args.file} is a {kind} file; drop --times")
    if kind == "study":
        outdir = out_directory(args.out or str(Path(args.file).with_suffix("")) + "_figures")
        written, skipped = make_figures(ds, None, outdir)
        for name, reason in skipped.items():
            print(f"{name}: not drawn, {reason}", file=sys.stderr)
        print(f"{plural(len(written), 'figure')} of {args.file} in {outdir}/: {', '.join(path.name for path in written.values())}")
        return 0
    out = out_file(args.out or str(Path(args.file).with_suffix(".png")), (".png",), "figures are written as PNG")
    if kind == "sweep":
        fig = sweep_figure(ds)
    elif kind == "particles":
        fig = particle_run_figure(ds, args.times, pair)
    else:
        fig = continuum_run_figure(ds, args.times)
    save_png(fig, make_parent(out))
    print(f"{kind} file {args.file} drawn -> {out}")
    return 0


def _add_plot(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plot", help="draw a particle run, continuum run or study file (PNG)")
    p.add_argument("file", help="a .nc file written by particles, continuum, validate or sweep")
    p.add_argument("--against", default=None, help="a continuum run to overlay on a particle run, with their W1 distance over time")
    p.add_argument(
        "--times",
        type=_times,
        default=None,
        help="comma-separated times of the density profiles, each shown at its nearest output time (default: 4 spread over [0, T])",
    )
    p.add_argument(
        "--out",
        default=None,
        help="PNG file for a run or a sweep summary, directory for a study (default: FILE with .png, or FILE_figures/ for a study)",
    )
    p.set_defaults(func=_cmd_plot)


# ---------------------------------------------------------------------------------------- animate


def _cmd_animate(args: argparse.Namespace) -> int:
    from compare.animate import animate, check_movie_path
    from compare.look import read_kind

    kind, ds = read_kind(args.file, ("particles", "continuum"))
    pair = _pair(args, kind, ds)
    out = check_movie_path(out_file(args.out, (".gif", ".mp4"), "an animation is a GIF (or MP4 with ffmpeg)"))
    if kind == "continuum" and args.style != "ticks":
        raise InputError(f"--style draws particles, but {args.file} is a continuum run; drop --style")
    animate(ds, make_parent(out), pair=pair, style=args.style, fps=args.fps)
    frames = ds.sizes["t"] if pair is None else pair.t.size
    print(f"{kind} file {args.file} animated, {frames} frames at {args.fps:g} per second -> {out}")
    return 0


def _add_animate(sub: argparse._SubParsersAction) -> None:
    a = sub.add_parser("animate", help="animate a particle run (over a continuum run) or a continuum run: GIF, or MP4 with ffmpeg")
    a.add_argument("file", help="a particle or continuum run (.nc)")
    a.add_argument("--against", default=None, help="a continuum run drawn under the particles (frames at the common output times)")
    a.add_argument(
        "--style", choices=("ticks", "histogram"), default="ticks", help="the particles as ticks (with their histogram) or a histogram"
    )
    a.add_argument("--fps", type=_positive_float, default=10.0, help="frames per second (one frame per output time)")
    a.add_argument("--out", required=True, help="movie file: .gif (Pillow) or .mp4 (needs ffmpeg); its directory is created if missing")
    a.set_defaults(func=_cmd_animate)


# ---------------------------------------------------------------------------------------- cases


def _cmd_cases(args: argparse.Namespace) -> int:
    import textwrap

    from compare.runs.cases import list_cases, load_case

    for name in list_cases():
        case = load_case(name)
        if case.particles is not None:
            counts = f"{case.N} explicit particles" + ("" if case.N_eta is None else f" (and {case.N_eta} of eta)")
        else:
            counts = f"N = {case.N}" + ("" if case.N_eta in (None, case.N) else f", N_eta = {case.N_eta}")
        print(f"{name}  (T = {case.T:g}, {counts})")
        print(textwrap.fill(" ".join(case.description.split()), width=100, initial_indent="    ", subsequent_indent="    "))
    return 0


def _add_cases(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("cases", help="list the shipped cases with their final time T and description")
    c.set_defaults(func=_cmd_cases)


# ---------------------------------------------------------------------------------------- parser


class _Help(argparse.HelpFormatter):
    """Every option's default in its help, unless there is none (None) or the help says it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or action.default in (None, argparse.SUPPRESS, False) or action.nargs == 0:
            return text
        default = ",".join(map(str, action.default)) if isinstance(action.default, list) else "%(default)s"
        return f"{text} (default: {default})"


class _Parser(argparse.ArgumentParser):
    """Option errors as one line ``error: ...`` with exit status 2, like every other bad input; no
    abbreviated options; defaults in the help."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", _Help)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message}; see '{self.prog} --help'\n")


class _Version(argparse.Action):
    """``--version``: the installed version, looked up only when asked (no heavy import otherwise)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> NoReturn:
        from compare.runs.io import package_version

        print(f"particle-limit {package_version('particle-limit')}")
        parser.exit(0)


def build_parser(prog: str = "python -m compare") -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog,
        description="Particle system (6) versus continuum system (5): runs, errors, convergence studies, and figures of them.",
    )
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_particles(sub)
    _add_continuum(sub)
    _add_validate(sub)
    _add_regularised(sub)
    _add_sweep(sub)
    _add_plot(sub)
    _add_animate(sub)
    _add_cases(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    prog = "particle-limit" if argv is None and Path(sys.argv[0]).name == "particle-limit" else "python -m compare"
    parser = build_parser(prog)
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["validate"])
    args.argv = argv
    args.prog = prog
    try:
        return args.func(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; no output was written", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of stdout went away (``... | head``): nothing left to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
