"""What a study shows: the text table, ``summary.md``, and the study's files written atomically.

``write_results(study, trajectory, out, command, progress)`` writes ``out/study.nc`` (through
``compare.runs.io.write_dataset``), the figures of ``compare.plots`` and ``out/summary.md``; every
file appears whole or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr

from compare.plots import make_figures
from compare.runs.io import write_dataset, write_text
from compare.studies.assembly import METRICS

__all__ = ["summary_markdown", "table", "write_results"]

Progress = Callable[[str], None]

TABLE_METRICS = (("w1_emp", "sup W1"), ("w2_emp", "sup W2"), ("weak_residual", "weak res."))


def _rates(N: np.ndarray, err: np.ndarray) -> np.ndarray:
    """Observed orders between consecutive N: ``-log(e_{k+1}/e_k) / log(N_{k+1}/N_k)``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.diff(np.log(err)) / np.diff(np.log(N))


def table(study: xr.Dataset) -> str:
    """Plain-text table: N, sup-in-time W1 and W2 errors of the empirical measures (max over species),
    the weak-form residual, each with the order against the previous N; last row the least-squares
    order with its standard error."""
    N = study["N"].values.astype(float)
    columns = [(study["sup_err"].sel(metric=m).values, label, m) for m, label in TABLE_METRICS]
    head = f"{'N':>6}" + "".join(f"  {label:>10} {'rate':>5}" for _, label, _ in columns)
    lines = [head]
    for k, n in enumerate(study["N"].values):
        row = f"{n:>6d}"
        for err, _, _ in columns:
            rate = _rates(N, err)[k - 1] if k else np.nan
            row += f"  {err[k]:>10.3e} {rate:>5.2f}" if k else f"  {err[k]:>10.3e} {'':>5}"
        lines.append(row)
    fit = f"{'order':>6}"
    for _, _, m in columns:
        text = f"{float(study['order'].sel(metric=m)):.3f}±{float(study['order_se'].sel(metric=m)):.3f}"
        fit += f"  {text:>16}"
    lines.append(fit)
    return "\n".join(lines)


def _markdown_table(study: xr.Dataset) -> str:
    N = study["N"].values
    names = list(METRICS)
    lines = ["| N | " + " | ".join(names) + " |", "|---:|" + "---:|" * len(names)]
    for k, n in enumerate(N):
        lines.append(f"| {n} | " + " | ".join(f"{float(study['sup_err'].sel(metric=m)[k]):.3e}" for m in names) + " |")
    orders = [f"{float(study['order'].sel(metric=m)):.3f} ± {float(study['order_se'].sel(metric=m)):.3f}" for m in names]
    lines.append("| order | " + " | ".join(orders) + " |")
    limited = ["ref.-limited" if bool(study["reference_limited"].sel(metric=m)) else "" for m in names]
    if any(limited):
        lines.append("| | " + " | ".join(limited) + " |")
    return "\n".join(lines)


def summary_markdown(study: xr.Dataset, figures: dict[str, Path], command: str) -> str:
    """The ``summary.md`` of a validation run (figures linked relative to it)."""
    a = study.attrs
    config = json.loads(a["config"])
    ref_err = ", ".join(f"{m} {float(v):.2e}" for m, v in zip(study["ref_metric"].values, study["reference_error"].values, strict=True))
    lemma = bool(study["lemma51_holds"].all())
    prop = bool(study["prop52_holds"].all())
    sup_max = float(study["sup_max_increase"].max())
    sup_sum = float(study["sup_sum_increase"].max())
    mixing = study["mixing_w1"].isel(t=-1).values
    lines = [
        f"# Validation of case `{a['case']}`",
        "",
        a["description"],
        "",
        f"Reproduce: `{command}`",
        "",
        f"- T = {a['T']:g}, {a['nt']} output intervals, placement `{a['placement']}`, N = {config['Ns']}.",
        f"- Reference: {a['reference']}; estimated reference error (max over time): {ref_err}.",
        f"- Wall time of the study: {a['wall_time_s']:.1f} s.",
        "",
        "## Sup-in-time errors and observed orders",
        "",
        "Errors of the empirical measures (`*_emp`) and of the piecewise-constant reconstructions "
        "(`*_rec`, N particles bound N - 1 cells of mass 1/(N - 1)), the supremum over the output times "
        "and the two species; `order` is p in error ~ C N^-p, least squares on log-log data, ± its "
        "standard error. `ref.-limited`: the reference's own error exceeds "
        "10 % of the error at the largest N, so that order is not a property of the particles.",
        "",
        _markdown_table(study),
        "",
        "## Checks of the paper",
        "",
        f"- Lemma 5.1, W1(rho^N, rho~^N) <= (x_N - x_1)/(2(N - 1)) at every output time: {'holds' if lemma else 'VIOLATED'} for every N.",
        f"- Proposition 5.2, sum over species of ||rho~^N||_m^m non-increasing (m = "
        f"{', '.join(str(m) for m in study['m_norm'].values)}): {'holds' if prop else 'VIOLATED'} "
        f"(largest relative increase {float(study['prop52_max_increase'].max()):.2e}).",
        f"- m = inf: largest relative increase between outputs of max(sup rho~, sup eta~): {sup_max:.2e}; "
        f"of sup rho~ + sup eta~: {sup_sum:.2e}.",
        "",
        "## Beyond the paper",
        "",
        f"- Time of the final state x_i = y_i: t_final ~ {a['t_final_constant']:.3g} N^{a['t_final_power']:.3f} "
        f"(± {a['t_final_power_se']:.3f}); t_final = "
        + ", ".join(f"{v:.3g}" for v in study["t_final"].values)
        + f" for N = {', '.join(str(n) for n in study['N'].values)} (the paper's bound is O(N^3)).",
        "- Mixing, W1(rho^N, eta^N) at T: "
        + ", ".join(f"{v:.3e}" for v in mixing)
        + f"; reference {float(study['mixing_w1_ref'].isel(t=-1)):.3e}.",
        "",
        "## Figures",
        "",
    ]
    lines += [f"![{name}]({path.name})" for name, path in figures.items()]
    return "\n".join(lines) + "\n"


def write_results(study: xr.Dataset, run: xr.Dataset, out: Path, command: str, progress: Progress) -> None:
    """Write ``out/study.nc``, the figures of ``study`` and of the trajectory ``run`` and
    ``out/summary.md`` into the existing directory ``out``; each file appears whole or not at all
    (``compare.runs.io.atomic_path``)."""
    write_dataset(study, out / "study.nc")
    progress(f"study written to {out / 'study.nc'}")
    figures = make_figures(study, run, out)
    write_text(out / "summary.md", summary_markdown(study, figures, command))
    progress(f"{len(figures)} figures and summary.md written to {out}")
