"""Parameter sweeps on dask.distributed: validation studies of several cases from precomputed runs.

A sweep specification is a TOML file (see ``SPEC_KEYS``)::

    cases = ["overlap", "separated"]      # case names or TOML paths (relative to the spec file)
    N = [100, 200, 400]                   # particles per species, at least two distinct values >= 2
    schemes = ["fv1", "fv2", "lagrangian"]
    cells = [500, 1000, 2000]             # continuum resolutions
    T = 0.5                               # optional: overrides every case's final time
    nt = 20                               # optional (40): output intervals on [0, T]
    refine = 8                            # optional (8): fine times per output interval (suprema in time)
    placement = "right"                   # optional: atomisation, "right" or "mid"
    reference = "auto"                    # optional: "auto", "exact", "fv2" or "lagrangian" (compare.studies.reference)
    reference_cells = 4000                # optional: cells of the fv2 reference (default max(cells))
    cfl = 0.45                            # optional: CFL number of the continuum runs

Every case is one study (``compare.studies.jobs.StudySpec``, with the spec's continuum runs as its
resolution study) and expands into the jobs of ``compare.studies.jobs``, each a pure function of its
parameters that a dask worker runs into one NetCDF file ``DIR/runs/<kind>-<case>-<hash>.nc``, written
atomically (``compare.runs.io.write_dataset``). The attribute ``job`` of a run file holds the job's
canonical JSON (kind, case name, SHA-256 of the case file's text, parameters); a job is complete iff
its file opens and that attribute equals the job's, so a stopped sweep resumes where it stopped and a
file with the right name but other parameters is recomputed.

The study of every case is assembled from the run files by the same ``compare.studies.assembly.assemble``
that ``validate`` calls on the same jobs run in its own process, and written with its figures and
summary to ``DIR/<case>/`` (``compare.studies.report.write_results``); the summary over cases (``sup_err``,
``order``, ``continuum_sup_err``, ``continuum_order``, ... with a ``case`` dimension) is combined
with xarray into ``DIR/study.nc`` and tabulated in ``DIR/summary.md``. Everything but the
attributes ``created_utc`` and ``wall_time_s`` (and the wall times inside ``config``) is a
deterministic function of the specification.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import sys
import tomllib
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import xarray as xr

from compare.defaults import REFINE
from compare.runs.cases import Case, load_case
from compare.runs.continuum_run import SCHEMES, check_scheme
from compare.runs.io import prepare_directory, provenance_attrs, read_dataset, write_dataset, write_text
from compare.studies.assembly import REFERENCE_LIMIT, assemble, plan
from compare.studies.jobs import PLACEMENTS, Job, StudySpec, check_Ns, study_spec
from compare.studies.orders import order_note, round_off_level
from compare.studies.reference import REF_METRICS, REFERENCE_KINDS, exact_solution
from compare.studies.report import table, write_results
from solvers.checks import check_integer, check_number, is_integer
from solvers.continuum.grid import check_cells_for_support
from solvers.errors import CaseError, InputError, SchemeError, suggest

__all__ = ["SPEC_KEYS", "Job", "SweepSpec", "combine", "expand_jobs", "is_complete", "load_spec", "run_job", "run_sweep"]

PAPER = (
    "M. Di Francesco, A. Esposito, M. Schmidtchen, Many-particle limit for a system of interaction equations driven by Newtonian potentials"
)
SPEC_KEYS = ("cases", "N", "schemes", "cells", "T", "nt", "refine", "placement", "reference", "reference_cells", "cfl")
REQUIRED_KEYS = ("cases", "N", "schemes", "cells")
SUMMARY_VARS = (
    "sup_err",
    "order",
    "order_se",
    "t_final",
    "n_events",
    "lemma51_holds",
    "prop52_holds",
    "reference_error",
    "continuum_sup_err",
    "continuum_order",
)


@dataclass(frozen=True, eq=False)
class SweepSpec:
    """A validated sweep specification (module docstring); ``cases`` are loaded ``Case`` objects."""

    cases: tuple[Case, ...]
    N: tuple[int, ...]
    schemes: tuple[str, ...]
    cells: tuple[int, ...]
    T: float | None = None
    nt: int = 40
    refine: int = REFINE
    placement: str = "right"
    reference: str = "auto"
    reference_cells: int | None = None
    cfl: float = 0.45
    source: str = field(default="", repr=False)

    @property
    def ref_cells(self) -> int:
        """Cells of the fv2 reference: ``reference_cells``, default the finest continuum resolution."""
        return self.reference_cells if self.reference_cells is not None else max(self.cells)

    def T_of(self, case: Case) -> float:
        """The final time of ``case`` in this sweep."""
        return case.T if self.T is None else self.T


def _int_list(value: Any, key: str, label: str, example: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not value or not all(is_integer(v) for v in value):
        raise InputError(f"{label}: {key} must be a non-empty array of integers, got {value!r}; write e.g. {key} = {example}")
    return tuple(int(v) for v in value)


def _str_list(value: Any, key: str, label: str, example: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or any(not isinstance(v, str) or not v for v in value):
        raise InputError(f"{label}: {key} must be a non-empty array of strings, got {value!r}; write e.g. {key} = {example}")
    return tuple(value)


def _number(value: Any, key: str, label: str, example: str) -> float:
    return check_number(value, f"{label}: {key}", InputError, f"write e.g. {key} = {example}", positive=True)


def _choice(value: Any, key: str, label: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InputError(f"{label}: unknown {key} {value!r}; {suggest(str(value), allowed)}")
    return str(value)


def _load_cases(names: tuple[str, ...], base: Path, label: str) -> tuple[Case, ...]:
    cases = []
    for name in names:
        looks_like_path = name.endswith(".toml") or "/" in name or "\\" in name
        cases.append(load_case(base / name if looks_like_path and not Path(name).is_absolute() else name))
    seen: set[str] = set()
    for case in cases:
        if case.name in seen:
            raise CaseError(f"{label}: case name {case.name!r} appears twice; give every case file a distinct name")
        seen.add(case.name)
    return tuple(cases)


def parse_spec(spec: dict[str, Any], base: Path, label: str = "sweep spec") -> SweepSpec:
    """Validate a parsed TOML table (keys ``SPEC_KEYS``; case paths relative to ``base``)."""
    for key in spec:
        if key not in SPEC_KEYS:
            raise InputError(f"{label}: unknown key {key!r}; {suggest(key, SPEC_KEYS)}")
    for key in REQUIRED_KEYS:
        if key not in spec:
            raise InputError(f"{label}: missing key {key!r}; add it (required: {', '.join(REQUIRED_KEYS)})")
    cases = _load_cases(_str_list(spec["cases"], "cases", label, '["overlap"]'), base, label)
    try:
        Ns = tuple(check_Ns(_int_list(spec["N"], "N", label, "[100, 200, 400]")))
    except InputError as exc:
        raise InputError(f"{label}: {exc}") from None
    schemes = _str_list(spec["schemes"], "schemes", label, '["fv2"]')
    for scheme in schemes:
        if scheme not in SCHEMES:
            raise SchemeError(f"{label}: unknown scheme {scheme!r}; {suggest(scheme, SCHEMES)}")
    cells = tuple(sorted(set(_int_list(spec["cells"], "cells", label, "[500, 1000]"))))
    T = _number(spec["T"], "T", label, "1.0") if "T" in spec else None
    nt = check_integer(spec.get("nt", 40), f"{label}: nt", InputError, "write e.g. nt = 20")
    cfl = _number(spec["cfl"], "cfl", label, "0.45") if "cfl" in spec else 0.45
    reference_cells = spec.get("reference_cells")
    if reference_cells is not None:
        reference_cells = check_integer(
            reference_cells, f"{label}: reference_cells", InputError, "write e.g. reference_cells = 4000", minimum=8
        )
    result = SweepSpec(
        cases=cases,
        N=Ns,
        schemes=tuple(dict.fromkeys(schemes)),
        cells=cells,
        T=T,
        nt=nt,
        refine=check_integer(spec.get("refine", REFINE), f"{label}: refine", InputError, f"write e.g. refine = {REFINE}", minimum=4),
        placement=_choice(spec.get("placement", "right"), "placement", label, PLACEMENTS),
        reference=_choice(spec.get("reference", "auto"), "reference", label, REFERENCE_KINDS),
        reference_cells=reference_cells,
        cfl=cfl,
    )
    for scheme in result.schemes:
        for n in result.cells:
            check_scheme(scheme, n, cfl)
    try:  # a case outside the paper's setting, or "exact" where it is impossible
        for study in study_specs(result):
            exact_solution(study.case, study.T, study.reference)
    except InputError as exc:
        raise type(exc)(f"{label}: {exc}") from None
    for case in cases:
        for n in (*cells, result.ref_cells // 2):
            check_cells_for_support(case.rho0, case.eta0, n, case.name)
    return result


def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a sweep specification file; ``InputError`` (one line) for a missing or
    unreadable file, invalid TOML, unknown keys (with the closest valid key), wrong types or values."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"sweep spec {path} does not exist; pass the path of a TOML sweep specification")
    try:
        source = path.read_text(encoding="utf-8")
        spec = tomllib.loads(source)
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read sweep spec {path}: {exc}; check the path and its permissions") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"sweep spec {path} is not valid TOML: {' '.join(str(exc).split())}; fix the syntax") from None
    parsed = parse_spec(spec, path.resolve().parent, f"sweep spec {path.name}")
    return replace(parsed, source=source)


def study_specs(spec: SweepSpec) -> list[StudySpec]:
    """The study of every case of the sweep, with the sweep's continuum runs as its resolution study."""
    return [
        study_spec(
            case,
            Ns=spec.N,
            T=spec.T_of(case),
            nt=spec.nt,
            refine=spec.refine,
            cells=spec.ref_cells,
            placement=spec.placement,
            reference=spec.reference,
            cfl=spec.cfl,
            schemes=spec.schemes,
            scheme_cells=spec.cells,
        )
        for case in spec.cases
    ]


def expand_jobs(spec: SweepSpec) -> list[Job]:
    """Every distinct job of the sweep in a fixed order: by case, the longest first
    (``compare.studies.jobs.StudyJobs.all``)."""
    jobs: dict[str, Job] = {}
    for study in study_specs(spec):
        for job in plan(study).all():
            jobs.setdefault(job.key, job)
    return list(jobs.values())


def run_job(job: Job, runs_dir: str) -> str:
    """Run ``job`` and write its file ``runs_dir/job.filename`` atomically; return the file name."""
    write_dataset(job.run(), Path(runs_dir) / job.filename)
    return job.filename


def is_complete(job: Job, runs_dir: Path) -> bool:
    """True iff the job's file exists, opens as NetCDF and records exactly this job."""
    path = runs_dir / job.filename
    if not path.is_file():
        return False
    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            return ds.attrs.get("job") == job.key
    except Exception:
        return False


def _alone(fd: int) -> bool:
    """Try to take the exclusive lock of the runs directory: True iff no other sweep holds it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _remove_stale_temporaries(runs_dir: Path, fd: int) -> None:
    """Delete the temporaries of killed writers (``compare.runs.io.atomic_path`` names them
    ``.<file>.<pid>.<random>.tmp``), but only while no other sweep of this host holds ``runs_dir``:
    a concurrent sweep's temporaries are files being written."""
    if _alone(fd):
        for tmp in runs_dir.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
    fcntl.flock(fd, fcntl.LOCK_SH)


@contextmanager
def _runs_directory_lock(runs_dir: Path) -> Iterator[None]:
    """Hold a shared ``flock`` on ``runs_dir`` for the sweep's lifetime; remove stale temporaries
    before and after when it is the only sweep holding it."""
    fd = os.open(runs_dir, os.O_RDONLY)
    try:
        _remove_stale_temporaries(runs_dir, fd)
        try:
            yield
        finally:
            _remove_stale_temporaries(runs_dir, fd)
    finally:
        os.close(fd)  # releases the lock


def _bar(done: int, running: int, total: int, width: int = 30) -> str:
    filled = width * done // max(total, 1)
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} done, {running} running"


def execute(todo: Sequence[Job], total: int, runs_dir: Path, client: Any, stream: TextIO | None = sys.stderr) -> None:
    """Submit the jobs ``todo`` to the dask ``client`` and wait for them, with a progress bar on
    ``stream`` (jobs done / running / ``total``, the jobs already complete counted as done). On any
    error or interrupt the outstanding jobs are cancelled and the exception is re-raised; completed
    runs stay."""
    from distributed import as_completed

    done = total - len(todo)
    end = "\r" if stream is not None and stream.isatty() else "\n"

    def show() -> None:
        if stream is not None:
            assigned = sum(len(keys) for keys in client.processing().values())
            running = min(assigned, sum(client.nthreads().values()))
            print(_bar(done, running, total), end=end, file=stream, flush=True)

    futures = [client.submit(run_job, job, str(runs_dir), key=job.filename[:-3], pure=False) for job in todo]
    show()
    try:
        for future in as_completed(futures, loop=client.loop):
            future.result()
            done += 1
            show()
    except BaseException:
        client.cancel(futures)
        raise
    finally:
        if stream is not None and end == "\r":
            print(file=stream)


def combine(
    spec: SweepSpec, out: Path, command: str = "python -m compare sweep", progress: Callable[[str], None] = lambda line: None
) -> xr.Dataset:
    """Assemble every case's study from ``out/runs``, write ``out/<case>/`` (study.nc, figures,
    summary.md), ``out/study.nc`` (the summary over cases) and ``out/summary.md``; return the latter
    Dataset."""
    runs_dir = out / "runs"
    read = functools.cache(lambda job: read_dataset(runs_dir / job.filename))
    parts, texts = [], []
    for study_spec_ in study_specs(spec):
        study = assemble(study_spec_, read)
        case_dir = prepare_directory(out / study_spec_.case.name)
        write_results(study, read(plan(study_spec_).trajectory), case_dir, command, progress)
        parts.append(study[list(SUMMARY_VARS)].drop_attrs(deep=False))
        texts.append(_case_markdown(study_spec_.case.name, study))
    combined = xr.concat(parts, dim="case", coords="minimal", compat="identical", join="exact")
    combined = combined.assign_coords(case=("case", [c.name for c in spec.cases], {"long_name": "case"}))
    combined.attrs = {
        "title": "sweep of validation studies",
        "Conventions": "CF-1.10",
        "source": "particle-limit: python -m compare sweep (compare.studies.sweep)",
        "references": PAPER,
        "comment": "the summary over cases of the per-case studies <case>/study.nc beside this file; "
        "continuum_sup_err of the fv2 run at the reference's resolution is the reference's distance to itself (0)",
        "config": json.dumps(_config(spec), sort_keys=True),
        "sweep_spec": spec.source,
        **provenance_attrs(),
    }
    write_dataset(combined, out / "study.nc")
    write_text(out / "summary.md", f"# Sweep\n\nReproduce: `{command}`\n\n" + "\n".join(texts))
    return combined


def _config(spec: SweepSpec) -> dict[str, Any]:
    return {
        "cases": [c.name for c in spec.cases],
        "N": list(spec.N),
        "schemes": list(spec.schemes),
        "cells": list(spec.cells),
        "T": spec.T,
        "nt": spec.nt,
        "placement": spec.placement,
        "reference": spec.reference,
        "reference_cells": spec.ref_cells,
        "cfl": spec.cfl,
    }


def _reference_entry(study: xr.Dataset) -> tuple[str, int] | None:
    """The (scheme, cells) of the continuum run that is the study's reference itself, if any."""
    config = json.loads(study.attrs["config"])
    kind = study.attrs["reference"].split()[0]
    return None if kind == "exact" else (kind, int(config["cells"]))


def _case_markdown(name: str, study: xr.Dataset) -> str:
    """Per case: the validation table and the continuum errors (sup W1 over time) with their orders.

    The reference's own run is marked ``reference`` (its distance to itself is 0) and left out of its
    scheme's order; an order is ``n/a`` with the reason by the rule of ``compare.studies.orders``; a
    row is ``ref.-limited`` when the reference's estimated W1 error exceeds ``REFERENCE_LIMIT`` times
    the row's error at its finest resolution (as ``validate`` flags its metrics)."""
    w1 = list(REF_METRICS).index("w1")
    cells = study["cells"].values
    level = round_off_level(study)
    ref_error = float(study["reference_error"].sel(ref_metric="w1"))
    own = _reference_entry(study)
    head = "| scheme | " + " | ".join(f"cells={n}" for n in cells) + " | order | flag |"
    rows = [head, "|---|" + "---:|" * (len(cells) + 1) + "---|"]
    for s, scheme in enumerate(study["scheme"].values):
        values = study["continuum_sup_err"].values[s, :, w1]
        is_reference = np.array([(str(scheme), int(n)) == own for n in cells])
        texts = ["reference" if ref else f"{v:.3e}" for v, ref in zip(values, is_reference, strict=True)]
        measured = values[~is_reference]
        note = order_note(measured, level, ("resolution", "resolutions")) if measured.size else "n/a (reference only)"
        order = note or f"{study['continuum_order'].values[s, w1]:.2f}"
        limited = measured.size > 0 and ref_error > REFERENCE_LIMIT * measured[-1]
        rows.append(f"| {scheme} | {' | '.join(texts)} | {order} | {'ref.-limited' if limited else ''} |")
    return (
        f"## {name}\n\nReference: {study.attrs['reference']}, its estimated W1 error {ref_error:.2e}. "
        f"Particles (see [{name}/summary.md]({name}/summary.md)):\n\n"
        f"```\n{table(study)}\n```\n\nContinuum runs, sup over time of W1 to the reference "
        f"(`ref.-limited`: the reference's own error exceeds {REFERENCE_LIMIT:g} times the error at the finest "
        "resolution, so the row measures the reference):\n\n" + "\n".join(rows) + "\n"
    )


def run_sweep(
    spec: SweepSpec | str | Path,
    out: str | Path,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    client: Any = None,
    stream: TextIO | None = sys.stderr,
    command: str = "python -m compare sweep",
) -> xr.Dataset:
    """Run a sweep into the directory ``out``: the missing runs on dask.distributed (``client`` if
    given, else a ``Client`` of the scheduler at ``scheduler``, else a ``LocalCluster`` of ``workers``
    single-threaded processes), then ``combine``. Returns the summary Dataset over cases."""
    spec = spec if isinstance(spec, SweepSpec) else load_spec(spec)
    check_integer(workers, "workers", InputError, "pass e.g. --workers 2")
    out = Path(out)
    prepare_directory(out)
    runs_dir = prepare_directory(out / "runs")
    jobs = expand_jobs(spec)
    say: Callable[[str], None] = (lambda line: print(line, file=stream, flush=True)) if stream is not None else (lambda line: None)
    with _runs_directory_lock(runs_dir):
        todo = [job for job in jobs if not is_complete(job, runs_dir)]
        say(f"sweep: {len(spec.cases)} cases, {len(jobs)} runs in {runs_dir}, {len(jobs) - len(todo)} already complete")
        if todo:
            with ExitStack() as stack:
                execute(todo, len(jobs), runs_dir, client if client is not None else _client(workers, scheduler, stack), stream)
    return combine(spec, out, command, say)


def _client(workers: int, scheduler: str | None, stack: ExitStack) -> Any:
    """A client of the scheduler at ``scheduler`` or of a new local cluster; both are closed by ``stack``."""
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            return stack.enter_context(Client(scheduler, timeout="5s", set_as_default=False))
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(
                f"cannot connect to the dask scheduler at {scheduler}: {' '.join(str(exc).split())}; pass a running scheduler's address"
            ) from None
    cluster = stack.enter_context(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None))
    return stack.enter_context(Client(cluster, set_as_default=False))
