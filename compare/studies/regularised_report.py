"""The Remark 5.1 study run in this process and what it shows: table, ``summary.md``, figure, files.

``remark51(case, out=DIR, Ns=...)`` runs the jobs of ``compare.studies.regularised`` in this process,
assembles the study and writes ``DIR/study.nc``, ``DIR/regularised.png`` and ``DIR/summary.md``
(each atomically); it returns the study and the text table that ``python -m compare regularised``
prints.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from compare.plots import regularised_figure, save_png
from compare.runs.cases import Case, load_case
from compare.runs.io import prepare_directory, write_dataset, write_text
from compare.studies.jobs import study_spec
from compare.studies.orders import order_note, round_off_level
from compare.studies.regularised import (
    FLOOR_ORDER,
    INTEGRATOR_SHARE,
    SCHEDULES,
    TARGET_N,
    RegularisedSpec,
    assemble_regularised,
    regularised_jobs,
)
from compare.studies.validate import describe_run

__all__ = ["DEFAULT_REGULARISED_NS", "needed_text", "regularised_table", "remark51", "summary_markdown"]

DEFAULT_REGULARISED_NS = (100, 200, 400, 800)
Progress = Callable[[str], None]


def _method_label(method: str) -> str:
    return "exact" if method == "exact" else f"{method}: {SCHEDULES[method]}"


def _order_text(study: xr.Dataset, method: str, metric: str) -> str:
    note = order_note(study["sup_err"].sel(variant=method, metric=metric).values, round_off_level(study))
    if note is not None:
        return note
    return (
        f"{float(study['order'].sel(variant=method, metric=metric)):.3f}±{float(study['order_se'].sel(variant=method, metric=metric)):.3f}"
    )


def needed_text(study: xr.Dataset, method: str) -> str:
    """``"21,000 (15,000 to 30,000)"``, ``"not reached (W1 order 0.010 <= 0.05: ...)"`` or ``"n/a"``."""
    value = float(study["N_needed"].sel(variant=method))
    low, high = float(study["N_needed_low"].sel(variant=method)), float(study["N_needed_high"].sel(variant=method))
    if math.isinf(value):
        order = float(study["order"].sel(variant=method, metric="w1"))
        return f"not reached (W1 order {order:.3f} <= {FLOOR_ORDER}: no decrease over these N)"
    if not math.isfinite(value):
        return "n/a"
    if method == "exact":
        return f"{TARGET_N} (the target)"
    spread = f" ({_count(low)} to {_count(high)})" if math.isfinite(low) and math.isfinite(high) else ""
    return f"{_count(value)}{spread}"


def _count(value: float) -> str:
    """A particle number: ``1,080`` below a million, ``2.5e+06`` above."""
    return f"{value:,.0f}" if value < 1e6 else f"{value:.2g}"


def regularised_table(study: xr.Dataset) -> str:
    """The text table: per method, delta at the smallest and largest N, sup W1 per N, the orders, and
    the N needed to reach the exact engine's W1 error at ``TARGET_N``."""
    Ns = [int(N) for N in study["N"].values]
    head = f"{'method':<8} {'delta':>17} " + " ".join(f"{'W1 N=' + str(N):>11}" for N in Ns)
    head += f" {'order W1':>13} {'order W2':>13}  N for exact's W1 at N={TARGET_N}"
    lines = [head]
    for method in study["variant"].values:
        delta = study["delta"].sel(variant=method).values
        span = "0" if method == "exact" else f"{delta[0]:.3g} to {delta[-1]:.3g}"
        errors = " ".join(f"{e:11.3e}" for e in study["sup_err"].sel(variant=method, metric="w1").values)
        orders = f"{_order_text(study, method, 'w1'):>13} {_order_text(study, method, 'w2'):>13}"
        lines.append(f"{method:<8} {span:>17} {errors} {orders}  {needed_text(study, method)}")
    return "\n".join(lines)


def summary_markdown(study: xr.Dataset, figure: Path, command: str) -> str:
    """``summary.md``: the command, the parameters, the table, the reference and the integrator's share."""
    a = study.attrs
    share = study["integrator_share"].values
    worst = float(np.max(share))
    schedules = ", ".join(f"`{_method_label(m)}`" for m in study["variant"].values[1:])
    exact_target = float(study["order_constant"].sel(variant="exact", metric="w1")) * TARGET_N ** -float(
        study["order"].sel(variant="exact", metric="w1")
    )
    lines = [
        f"# Remark 5.1: the regularised kernel against the exact particle system, case `{a['case']}`",
        "",
        f"Command: `{command}`",
        "",
        f"Every N: the exact engine and the regularised particles ({schedules}) from the same initial particles "
        f"(placement `{a['placement']}`), against the `{a['reference']}` reference (its estimated W1 error "
        f"{a['reference_error_w1']:.1e}), on [0, {a['T']:g}] at {a['output_times']} output times. Errors: the largest over "
        "the output times and both species of the W1 and W2 distances of the empirical measures to the reference.",
        "",
        "```",
        regularised_table(study),
        "```",
        "",
        f"The last column is the N at which each method's fitted W1 law `C N^-p` reaches the exact engine's fitted W1 error at "
        f"N = {TARGET_N} ({exact_target:.3e}), with the one-standard-error range of the inverse prediction of both fits; "
        f"an order at most {FLOOR_ORDER} means no decrease over these N (the bias of a width that does not shrink fast enough), "
        "so no N is extrapolated.",
        "",
        f"Integrator: tolerance {a['tol']:.0e} on the positions; its largest estimated position error is "
        f"{float(np.max(study['integrator_error'].values)):.1e}, at most {worst:.1e} of the W1 error it measures "
        f"({'below' if worst < INTEGRATOR_SHARE else 'ABOVE'} the {INTEGRATOR_SHARE:.0%} budget: a position error e moves W1 by at most e).",
        "",
        f"![errors and widths]({figure.name})",
        "",
        f"Wall time of the runs: {a['wall_time_s']:.1f} s.",
    ]
    return "\n".join(lines) + "\n"


def remark51(
    case: Case | str | Path,
    *,
    out: str | Path,
    Ns: Sequence[int] = DEFAULT_REGULARISED_NS,
    cells: int = 4000,
    T: float | None = None,
    nt: int = 40,
    placement: str = "mid",
    reference: str = "auto",
    schedules: Sequence[str] = tuple(SCHEDULES),
    c: float = 1.0,
    fixed: float = 0.05,
    tol: float = 1e-7,
    command: str = "python -m compare regularised",
    progress: Progress = lambda line: None,
) -> tuple[xr.Dataset, str]:
    """Run the Remark 5.1 study of a case in this process and write its files to ``out``.

    Args:
        case: a ``Case``, a case name or a TOML path (N particles of mass 1/N per species).
        out: the output directory (created if missing).
        Ns, cells, T, nt, placement, reference: as for ``compare.studies.validate.validate``; the placement
            defaults to midpoints, whose atomisation error is half that of the paper's (65), so that the
            regularisation's own error shows at smaller N.
        schedules: the delta schedules (``compare.studies.regularised.SCHEDULES``).
        c: the constant of ``c/N``; fixed: the ``fixed`` width; tol: the integrator's tolerance.
        command: the command line recorded in ``summary.md``.
        progress: receives one line per run.

    Returns:
        The study Dataset and the text table.
    """
    case = case if isinstance(case, Case) else load_case(case)
    out = Path(out)
    prepare_directory(out, check_only=True)
    base = study_spec(case, Ns=Ns, T=T, nt=nt, cells=cells, placement=placement, reference=reference)
    spec = RegularisedSpec(base, tuple(schedules), float(c), float(fixed), float(tol))
    runs: dict[str, xr.Dataset] = {}
    for job in regularised_jobs(spec).all():
        runs[job.key] = ds = job.run()
        progress(describe_run(job, ds))
    study = assemble_regularised(spec, lambda job: runs[job.key])
    prepare_directory(out)
    write_dataset(study, out / "study.nc")
    figure = save_png(regularised_figure(study), out / "regularised.png")
    write_text(out / "summary.md", summary_markdown(study, figure, command))
    progress(f"study.nc, regularised.png and summary.md written to {out}")
    return study, regularised_table(study)
