"""Parameter sweeps on dask.distributed: validation studies of several cases from precomputed runs.

A sweep specification is a TOML file (see ``SPEC_KEYS``)::

    cases = ["overlap", "separated"]      # case names or TOML paths (relative to the spec file)
    N = [100, 200, 400]                   # particles per species, at least two distinct values >= 2
    schemes = ["fv1", "fv2", "lagrangian"]
    cells = [500, 1000, 2000]             # continuum resolutions
    T = 0.5                               # optional: overrides every case's final time
    nt = 20                               # optional (40): output intervals on [0, T]
    placement = "right"                   # optional: atomisation, "right" or "mid"
    reference = "auto"                    # optional: "auto", "exact" or "fv2" (see compare.study)
    reference_cells = 4000                # optional: cells of the fv2 reference (default max(cells))
    cfl = 0.45                            # optional: CFL number of the continuum runs

It expands into jobs, each a pure function of its parameters that writes one NetCDF file
``DIR/runs/<kind>-<case>-<hash>.nc`` atomically (``compare.io.write_dataset``): ``particles`` (case,
N: the study's particle run to the final state), ``continuum`` (case, scheme, cells; plus the runs
of the fv2 reference when the case has no exact reference) and ``trajectory`` (the small run of the
trajectory figure). The attribute ``sweep_job`` of a run file holds the job's canonical JSON (kind,
case name, SHA-256 of the case file's text, parameters); a job is complete iff its file opens and
that attribute equals the job's, so a stopped sweep resumes where it stopped and a file with the
right name but other parameters is recomputed.

The study of every case is assembled from the run files (``compare.study.assemble_study``) with the
distances of every continuum run to the reference (``continuum_err``), written with its figures and
summary to ``DIR/<case>/`` (``compare.validate.write_results``); the summary over cases (``sup_err``,
``order``, ``continuum_sup_err``, ``continuum_order``, ... with a ``case`` dimension) is combined
with xarray into ``DIR/study.nc`` and tabulated in ``DIR/summary.md``. Everything but the
attributes ``created_utc`` and ``wall_time_s`` (and the wall times inside ``config``) is a
deterministic function of the specification.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import time
import tomllib
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import xarray as xr

from compare.cases import Case, load_case, parse_case
from compare.continuum_run import SCHEMES, check_cells_for_support, check_scheme, run_continuum
from compare.io import provenance_attrs, read_dataset, write_dataset
from compare.particle_run import run_particles
from compare.study import (
    REF_METRICS,
    REFERENCE_KINDS,
    Reference,
    assemble_study,
    build_reference,
    check_Ns,
    continuum_errors,
    exact_solution,
    fit_power,
    particle_errors,
    reference_from_runs,
    reference_runs,
    simulate_to_final,
)
from compare.times import output_times
from compare.validate import TRAJECTORY_N, TRAJECTORY_NT, table, write_results
from solvers.errors import CaseError, InputError, SchemeError, suggest

__all__ = ["SPEC_KEYS", "Job", "SweepSpec", "combine", "expand_jobs", "is_complete", "load_spec", "run_job", "run_sweep"]

SPEC_KEYS = ("cases", "N", "schemes", "cells", "T", "nt", "placement", "reference", "reference_cells", "cfl")
REQUIRED_KEYS = ("cases", "N", "schemes", "cells")
PLACEMENTS = ("right", "mid")
UNIT = {"units": "1"}
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
    if not isinstance(value, list) or not value or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
        raise InputError(f"{label}: {key} must be a non-empty array of integers, got {value!r}; write e.g. {key} = {example}")
    return tuple(value)


def _str_list(value: Any, key: str, label: str, example: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or any(not isinstance(v, str) or not v for v in value):
        raise InputError(f"{label}: {key} must be a non-empty array of strings, got {value!r}; write e.g. {key} = {example}")
    return tuple(value)


def _number(value: Any, key: str, label: str, example: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise InputError(f"{label}: {key} must be a positive finite number, got {value!r}; write e.g. {key} = {example}")
    return float(value)


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
        if case.rho0 is None or case.eta0 is None:
            raise CaseError(f"{label}: case {case.name} gives explicit particles; a sweep needs cases with [rho0] and [eta0] densities")
        if not case.unit_equal_masses:
            raise CaseError(
                f"{label}: case {case.name} is not N particles of mass 1/N per species; a sweep needs unit masses and equal atomisation"
            )
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
    nt = spec.get("nt", 40)
    if isinstance(nt, bool) or not isinstance(nt, int) or nt < 1:
        raise InputError(f"{label}: nt must be a positive integer, got {nt!r}; write e.g. nt = 20")
    cfl = _number(spec["cfl"], "cfl", label, "0.45") if "cfl" in spec else 0.45
    reference_cells = spec.get("reference_cells")
    if reference_cells is not None and (isinstance(reference_cells, bool) or not isinstance(reference_cells, int) or reference_cells < 8):
        raise InputError(f"{label}: reference_cells must be an integer >= 8, got {reference_cells!r}; write e.g. reference_cells = 4000")
    result = SweepSpec(
        cases=cases,
        N=Ns,
        schemes=tuple(dict.fromkeys(schemes)),
        cells=cells,
        T=T,
        nt=nt,
        placement=_choice(spec.get("placement", "right"), "placement", label, PLACEMENTS),
        reference=_choice(spec.get("reference", "auto"), "reference", label, REFERENCE_KINDS),
        reference_cells=reference_cells,
        cfl=cfl,
    )
    for scheme in result.schemes:
        for n in result.cells:
            check_scheme(scheme, n, cfl)
    for case in cases:
        for n in (*cells, result.ref_cells // 2):
            check_cells_for_support(case, n)
        exact_solution(case, result.T_of(case), result.reference)  # raises if "exact" is impossible
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


@dataclass(frozen=True)
class Job:
    """One run of a sweep: ``kind`` (particles, continuum, trajectory), the case (name and TOML
    text) and the run's parameters (JSON-serialisable)."""

    kind: str
    case_name: str
    case_source: str = field(repr=False)
    params: tuple[tuple[str, Any], ...]

    @property
    def key(self) -> str:
        """Canonical JSON of everything the run depends on; stored as the file's ``sweep_job``."""
        digest = hashlib.sha256(self.case_source.encode("utf-8")).hexdigest()
        return json.dumps({"kind": self.kind, "case": self.case_name, "case_sha256": digest, **dict(self.params)}, sort_keys=True)

    @property
    def filename(self) -> str:
        return f"{self.kind}-{self.case_name}-{hashlib.sha256(self.key.encode('utf-8')).hexdigest()[:16]}.nc"


def _job(kind: str, case: Case, **params: Any) -> Job:
    return Job(kind, case.name, case.source, tuple(sorted(params.items())))


def _case_jobs(spec: SweepSpec, case: Case) -> dict[str, Any]:
    """The jobs of one case by role: ``particles`` (per N), ``continuum`` (per (scheme, cells)),
    ``reference`` (label -> job, empty for an exact reference) and ``trajectory``."""
    T = spec.T_of(case)
    common = {"T": T, "nt": spec.nt}
    continuum = {
        (scheme, n): _job("continuum", case, scheme=scheme, cells=n, cfl=spec.cfl, **common) for scheme in spec.schemes for n in spec.cells
    }
    reference = {}
    if exact_solution(case, T, spec.reference) is None:
        reference = {
            label: _job("continuum", case, scheme=scheme, cells=n, cfl=spec.cfl, **common)
            for label, scheme, n in reference_runs(spec.ref_cells)
        }
    return {
        "particles": {N: _job("particles", case, N=N, placement=spec.placement, **common) for N in spec.N},
        "continuum": continuum,
        "reference": reference,
        "trajectory": _job("trajectory", case, N=TRAJECTORY_N, T=T, nt=TRAJECTORY_NT, placement=spec.placement),
    }


def expand_jobs(spec: SweepSpec) -> list[Job]:
    """Every distinct job of the sweep in a fixed order: by case, particle runs (largest N first,
    the longest jobs start first), continuum runs, reference runs, trajectory."""
    jobs: dict[str, Job] = {}
    for case in spec.cases:
        roles = _case_jobs(spec, case)
        for job in [
            *reversed(roles["particles"].values()),
            *roles["continuum"].values(),
            *roles["reference"].values(),
            roles["trajectory"],
        ]:
            jobs.setdefault(job.key, job)
    return list(jobs.values())


def _particle_dataset(case: Case, N: int, T: float, nt: int, placement: str) -> xr.Dataset:
    t = output_times(T, nt)
    start = time.perf_counter()
    run = simulate_to_final(case, N, t, placement)
    wall = time.perf_counter() - start
    return xr.Dataset(
        data_vars={
            "x": (("t", "i"), run.x, {**UNIT, "long_name": "position of x_i"}),
            "y": (("t", "j"), run.y, {**UNIT, "long_name": "position of y_j"}),
            "vx": (("t", "i"), run.vx, {**UNIT, "long_name": "velocity (right derivative) of x_i"}),
            "vy": (("t", "j"), run.vy, {**UNIT, "long_name": "velocity (right derivative) of y_j"}),
        },
        coords={"t": ("t", t, {**UNIT, "long_name": "time"})},
        attrs={
            "title": f"particle run of case {case.name} to its final state",
            "case": case.name,
            "N": N,
            "T": T,
            "nt": nt,
            "placement": placement,
            "t_final": run.t_last_event,
            "n_events": run.n_events,
            "wall_time_s": wall,
            **provenance_attrs(),
        },
    )


def run_job(job: Job, runs_dir: str) -> str:
    """Run ``job`` and write its file ``runs_dir/job.filename`` atomically; return the file name.
    A pure function of the job (it parses the case from the job's own TOML text)."""
    case = parse_case(tomllib.loads(job.case_source), job.case_name, job.case_source, f"case {job.case_name}")
    p = dict(job.params)
    if job.kind == "particles":
        ds = _particle_dataset(case, p["N"], p["T"], p["nt"], p["placement"])
    elif job.kind == "continuum":
        ds = run_continuum(case, cells=p["cells"], scheme=p["scheme"], T=p["T"], nt=p["nt"], cfl=p["cfl"])
    else:
        ds = run_particles(case, N=p["N"], T=p["T"], nt=p["nt"], placement=p["placement"])
    ds.attrs["sweep_job"] = job.key
    write_dataset(ds, Path(runs_dir) / job.filename)
    return job.filename


def is_complete(job: Job, runs_dir: Path) -> bool:
    """True iff the job's file exists, opens as NetCDF and records exactly this job."""
    path = runs_dir / job.filename
    if not path.is_file():
        return False
    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            return ds.attrs.get("sweep_job") == job.key
    except Exception:
        return False


def _remove_stale_temporaries(runs_dir: Path) -> None:
    """Temporary files of writes that a killed process could not clean up."""
    for tmp in runs_dir.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)


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


def _open_run(runs_dir: Path, job: Job) -> xr.Dataset:
    return read_dataset(runs_dir / job.filename)


def _case_study(spec: SweepSpec, case: Case, runs_dir: Path) -> tuple[xr.Dataset, xr.Dataset]:
    """The study of one case assembled from its run files, and its trajectory run."""
    roles = _case_jobs(spec, case)
    T = spec.T_of(case)
    t = output_times(T, spec.nt)
    reference: Reference
    if roles["reference"]:
        reference = reference_from_runs({label: _open_run(runs_dir, job) for label, job in roles["reference"].items()}, spec.ref_cells)
    else:
        reference = build_reference(case, T, spec.nt, spec.ref_cells, spec.reference)
    runs, wall = [], 0.0
    for _N, job in roles["particles"].items():
        ds = _open_run(runs_dir, job)
        a = ds.attrs
        runs.append(
            particle_errors(
                ds["x"].values,
                ds["vx"].values,
                ds["y"].values,
                ds["vy"].values,
                float(a["t_final"]),
                int(a["n_events"]),
                float(a["wall_time_s"]),
                reference,
            )
        )
        wall += float(a["wall_time_s"])
    study = assemble_study(case, list(spec.N), t, spec.placement, reference, runs, spec.N[0], spec.ref_cells)
    err = np.empty((len(spec.schemes), len(spec.cells), len(REF_METRICS), t.size))
    for (scheme, n), job in roles["continuum"].items():
        ds = _open_run(runs_dir, job)
        err[spec.schemes.index(scheme), spec.cells.index(n)] = continuum_errors(ds, reference)
        wall += float(ds.attrs["wall_time_s"])
    sup = err.max(axis=3)
    cells = np.asarray(spec.cells)
    order = np.array([[-fit_power(cells, sup[s, :, m])[0] for m in range(len(REF_METRICS))] for s in range(len(spec.schemes))])
    study = study.assign_coords(
        scheme=("scheme", list(spec.schemes), {"long_name": "continuum scheme"}),
        cells=("cells", cells, {**UNIT, "long_name": "continuum resolution (cells or mass intervals)"}),
    ).assign(
        continuum_err=(
            ("scheme", "cells", "ref_metric", "t"),
            err,
            {**UNIT, "long_name": "distance of the continuum run to the study's reference, max over species"},
        ),
        continuum_sup_err=(("scheme", "cells", "ref_metric"), sup, {**UNIT, "long_name": "supremum over time of continuum_err"}),
        continuum_order=(
            ("scheme", "ref_metric"),
            order,
            {**UNIT, "long_name": "observed order q of continuum_sup_err ~ C cells^-q (zero errors left out)"},
        ),
    )
    study.attrs["wall_time_s"] = wall
    return study, _open_run(runs_dir, roles["trajectory"])


def combine(
    spec: SweepSpec, out: Path, command: str = "python -m compare sweep", progress: Callable[[str], None] = lambda line: None
) -> xr.Dataset:
    """Assemble every case's study from ``out/runs``, write ``out/<case>/`` (study.nc, figures,
    summary.md), ``out/study.nc`` (the summary over cases) and ``out/summary.md``; return the latter
    Dataset."""
    runs_dir = out / "runs"
    parts, texts = [], []
    for case in spec.cases:
        study, trajectory = _case_study(spec, case, runs_dir)
        case_dir = out / case.name
        case_dir.mkdir(exist_ok=True)
        write_results(study, trajectory, case_dir, command, progress)
        parts.append(study[list(SUMMARY_VARS)].drop_attrs())
        texts.append(_case_markdown(case.name, study))
    combined = xr.concat(parts, dim="case", coords="minimal", compat="identical", join="exact")
    combined = combined.assign_coords(case=("case", [c.name for c in spec.cases], {"long_name": "case"}))
    combined.attrs = {
        "title": "sweep of validation studies",
        "Conventions": "CF-1.10",
        "config": json.dumps(_config(spec), sort_keys=True),
        "sweep_spec": spec.source,
        **provenance_attrs(),
    }
    write_dataset(combined, out / "study.nc")
    _write_text(out / "summary.md", f"# Sweep\n\nReproduce: `{command}`\n\n" + "\n".join(texts))
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


def _case_markdown(name: str, study: xr.Dataset) -> str:
    """Per case: the validation table and the continuum errors (sup W1 over time) with their orders."""
    w1 = list(REF_METRICS).index("w1")
    cells = study["cells"].values
    head = "| scheme | " + " | ".join(f"cells={n}" for n in cells) + " | order |"
    rows = [head, "|---|" + "---:|" * (len(cells) + 1)]
    for s, scheme in enumerate(study["scheme"].values):
        values = " | ".join(f"{v:.3e}" for v in study["continuum_sup_err"].values[s, :, w1])
        rows.append(f"| {scheme} | {values} | {study['continuum_order'].values[s, w1]:.2f} |")
    return (
        f"## {name}\n\nReference: {study.attrs['reference']}. Particles (see [{name}/summary.md]({name}/summary.md)):\n\n"
        f"```\n{table(study)}\n```\n\nContinuum runs, sup over time of W1 to the reference:\n\n" + "\n".join(rows) + "\n"
    )


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _prepare_output(out: Path) -> Path:
    if out.exists() and not out.is_dir():
        raise InputError(f"output {out} exists and is not a directory; pass a directory path with --out")
    try:
        (out / "runs").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the output directory {out}: {exc.strerror}; pass a writable --out") from None
    if not os.access(out / "runs", os.W_OK) or not os.access(out, os.W_OK):
        raise InputError(f"output directory {out} is not writable; pass a writable --out")
    return out / "runs"


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
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(f"workers must be a positive integer, got {workers!r}; pass e.g. --workers 2")
    out = Path(out)
    runs_dir = _prepare_output(out)
    _remove_stale_temporaries(runs_dir)
    jobs = expand_jobs(spec)
    say: Callable[[str], None] = (lambda line: print(line, file=stream, flush=True)) if stream is not None else (lambda line: None)
    todo = [job for job in jobs if not is_complete(job, runs_dir)]
    say(f"sweep: {len(spec.cases)} cases, {len(jobs)} runs in {runs_dir}, {len(jobs) - len(todo)} already complete")
    if todo:
        try:
            with ExitStack() as stack:
                execute(todo, len(jobs), runs_dir, client if client is not None else _client(workers, scheduler, stack), stream)
        finally:
            _remove_stale_temporaries(runs_dir)
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
