"""The validation job: a convergence study of one case with its jobs run in this process.

``run_study(case, Ns=...)`` returns the study Dataset; ``validate(case, out=DIR, ...)`` also writes
``DIR/study.nc``, the figures and ``DIR/summary.md`` (``compare.studies.report``) and returns the study
with the text table that ``python -m compare validate`` prints. The jobs and their assembly are the
ones a sweep runs on dask (``compare.studies.sweep``), so both give the same study.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import xarray as xr

from compare.defaults import DEFAULT_CASE, DEFAULT_CELLS, DEFAULT_NS
from compare.runs.cases import Case, load_case
from compare.runs.io import prepare_directory
from compare.studies.assembly import assemble, plan
from compare.studies.jobs import REFINE, TRAJECTORY_N, Job, StudySpec, study_spec
from compare.studies.report import table, write_results
from compare.text import plural

__all__ = ["DEFAULT_CASE", "DEFAULT_CELLS", "DEFAULT_NS", "describe_run", "run_in_process", "run_jobs", "run_study", "validate"]

Progress = Callable[[str], None]


def run_jobs(spec: StudySpec, progress: Progress = lambda line: None) -> dict[str, xr.Dataset]:
    """Every job of ``spec`` run in this process, by ``Job.key``, with one progress line per job."""
    runs: dict[str, xr.Dataset] = {}
    for job in plan(spec).all():
        runs[job.key] = ds = job.run()
        progress(describe_run(job, ds))
    return runs


def describe_run(job: Job, ds: xr.Dataset) -> str:
    """One progress line; its time is the run's ``wall_time_s``: the whole run, from its case to its
    Dataset (the number ``summary.md`` adds up)."""
    a = ds.attrs
    run = f"run {a['wall_time_s']:.1f} s"
    if job.kind == "continuum":
        return f"{a['scheme']} cells={a['cells']}: {plural(a['steps'], 'step')} ({run})"
    if job.kind == "regularised":
        return f"regularised N={a['N']} delta={a['delta']:.3g}: {plural(a['steps'], 'step')}, {a['rejected_steps']} rejected ({run})"
    return f"particles N={a['N']}: {plural(a['n_events'], 'event')}, last at t={a['t_last_event']:.4g} ({run})"


def run_in_process(spec: StudySpec, progress: Progress = lambda line: None) -> tuple[xr.Dataset, xr.Dataset]:
    """The study of ``spec`` and its trajectory run, every job run in this process."""
    runs = run_jobs(spec, progress)
    study = assemble(spec, lambda job: runs[job.key])
    return study, runs[plan(spec).trajectory.key]


def run_study(
    case: Case | str | Path,
    *,
    Ns: Sequence[int],
    T: float | None = None,
    nt: int = 40,
    cells: int = DEFAULT_CELLS,
    placement: str = "right",
    reference: str = "auto",
    N_show: int | None = None,
    trajectory_N: int = TRAJECTORY_N,
    refine: int = REFINE,
    progress: Progress = lambda line: None,
) -> xr.Dataset:
    """Convergence study of a case (``compare.studies.assembly``), its jobs run in this process.

    Args:
        case: a ``Case``, a case name or a TOML path.
        Ns: particle numbers per species (at least two distinct values >= 2).
        T: final time (default: the case's); nt: number of output intervals on [0, T].
        cells: resolution of the fv2 reference (also the grid of the stored reference densities).
        placement: atomisation, ``right`` (the paper's (65)) or ``mid``.
        reference: ``auto`` (exact where it exists, else lagrangian for point masses and unbounded
            densities, else fv2), ``exact``, ``fv2`` or ``lagrangian``.
        N_show: the N whose positions are stored for the profile figure (default: the smallest).
        trajectory_N: particles per species of the trajectory figure's run.
        refine: fine times per output interval where the suprema over time are refined (a power of
            two, at least 4; ``compare.studies.assembly``).
        progress: receives one line per job.

    Returns:
        The study Dataset.
    """
    case = case if isinstance(case, Case) else load_case(case)
    spec = study_spec(
        case,
        Ns=Ns,
        T=T,
        nt=nt,
        cells=cells,
        placement=placement,
        reference=reference,
        N_show=N_show,
        trajectory_N=trajectory_N,
        refine=refine,
    )
    return run_in_process(spec, progress)[0]


def validate(
    case: Case | str | Path = DEFAULT_CASE,
    *,
    out: str | Path = "results",
    Ns: Sequence[int] = DEFAULT_NS,
    command: str = "python -m compare",
    progress: Progress = lambda line: None,
    **params: Any,
) -> tuple[xr.Dataset, str]:
    """Run the validation study of a case and write ``out/study.nc``, the figures and ``out/summary.md``.

    Args:
        case, Ns, progress: as for ``run_study`` (``Ns`` defaults to ``DEFAULT_NS``).
        out: the output directory; command: the command line recorded in the files.
        params: the study's other parameters (``T``, ``nt``, ``cells``, ``placement``, ``reference``,
            ``N_show``, ``trajectory_N``, ``refine``), as for ``run_study``.

    Returns:
        The study Dataset and the text table (``compare.studies.report.table``).
    """
    case = case if isinstance(case, Case) else load_case(case)
    out = Path(out)
    prepare_directory(out, check_only=True)
    study, trajectory = run_in_process(study_spec(case, Ns=Ns, **params), progress)
    prepare_directory(out)
    write_results(study, trajectory, out, command, progress)
    return study, table(study)
