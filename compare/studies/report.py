"""What a study shows: the text table, ``summary.md``, and the study's files written atomically.

``write_results(study, trajectory, out, command, progress)`` writes ``out/study.nc`` (through
``compare.runs.io.write_dataset``), the figures of ``compare.plots`` and ``out/summary.md``; every
file appears whole or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from compare.plots import make_figures
from compare.runs.io import write_dataset, write_text
from compare.studies.assembly import CHECK_RTOL, METRICS
from compare.studies.orders import MIN_FIT_POINTS, order_note, rates, round_off_level
from compare.text import plural

__all__ = ["summary_markdown", "table", "write_results"]

Progress = Callable[[str], None]

TABLE_METRICS = (("w1_emp", "sup W1"), ("w2_emp", "sup W2"), ("weak_residual", "weak s-t"))
CONSISTENCY_NOTE = (
    "weak s-t: the space-time residual of the weak form (16) on the reconstruction over [0, T] (test functions chi_k(x) P_j(t), "
    "the reconstruction's own initial state in the initial term): a consistency check (velocities shifted by 1/N give a residual "
    "of the same order of magnitude, falling as fast), so its order is not a convergence rate"
)


NOTES = {
    "2 N": f"an order needs at least {MIN_FIT_POINTS} N (two give the rate, not a fit)",
    "round-off": "every error is at round-off level",
    "part round-off": "some errors are at round-off level, so a fit would mix two regimes",
    "no density": "the data have a point mass, so this density metric is undefined",
}


def _order_texts(study: xr.Dataset, names: Sequence[str], sep: str) -> tuple[list[str], list[str]]:
    """The fitted order of each metric as ``p±se`` (``sep`` between), or ``n/a (reason)``
    (``compare.studies.orders``), and the footnotes of the reasons that occur."""
    level = round_off_level(study)
    texts, notes = [], []
    for m in names:
        note = order_note(study["sup_err"].sel(metric=m).values, level)
        if note is None:
            texts.append(f"{float(study['order'].sel(metric=m)):.3f}{sep}{float(study['order_se'].sel(metric=m)):.3f}")
            continue
        texts.append(note)
        reason = note.removeprefix("n/a (").removesuffix(")")
        key = "2 N" if reason.endswith(" N") else reason
        text = f"{note}: {NOTES[key]}" + (f" (at most {level:.0e})" if "round-off" in key else "")
        if text not in notes:
            notes.append(text)
    return texts, notes


def table(study: xr.Dataset) -> str:
    """Plain-text table: N, sup-in-time W1 and W2 errors of the empirical measures (max over species),
    the weak-form residual, each with the order against the previous N; then the least-squares
    order with its standard error, or ``n/a`` with the reason (``compare.studies.orders``), and a
    footnote per reason."""
    N = study["N"].values
    level = round_off_level(study)
    columns = [(study["sup_err"].sel(metric=m).values, label) for m, label in TABLE_METRICS]
    column_rates = [rates(N, err, level) for err, _ in columns]
    lines = [f"{'N':>6}" + "".join(f"  {label:>10} {'rate':>5}" for _, label in columns)]
    for k, n in enumerate(N):
        row = f"{n:>6d}"
        for (err, _), r in zip(columns, column_rates, strict=True):
            rate = "" if k == 0 else "n/a" if np.isnan(r[k - 1]) else f"{r[k - 1]:.2f}"
            row += f"  {err[k]:>10.3e} {rate:>5}"
        lines.append(row)
    orders, notes = _order_texts(study, [m for m, _ in TABLE_METRICS], "±")
    lines.append(f"{'order':>6}" + "".join(f"  {text:>16}" for text in orders))
    return "\n".join(lines + notes + _constant_lines(study) + [CONSISTENCY_NOTE])


def _constant_lines(study: xr.Dataset) -> list[str]:
    """For sup W1: the fitted law C N^-p and the measured N * error, which are different numbers."""
    err = study["sup_err"].sel(metric="w1_emp").values
    N = study["N"].values
    scaled = f"N * sup W1 = {N[0] * err[0]:.3f} (N = {N[0]}) to {N[-1] * err[-1]:.3f} (N = {N[-1]})"
    if order_note(err, round_off_level(study)) is not None:
        return [scaled]
    fit = f"sup W1 ~ {float(study['order_constant'].sel(metric='w1_emp')):.3f} N^-{float(study['order'].sel(metric='w1_emp')):.3f} (fit)"
    return [f"{fit}; {scaled}"]


def _markdown_table(study: xr.Dataset) -> tuple[str, list[str]]:
    N = study["N"].values
    names = list(METRICS)
    lines = ["| N | " + " | ".join(names) + " |", "|---:|" + "---:|" * len(names)]
    for k, n in enumerate(N):
        lines.append(f"| {n} | " + " | ".join(f"{float(study['sup_err'].sel(metric=m)[k]):.3e}" for m in names) + " |")
    orders, notes = _order_texts(study, names, " ± ")
    lines.append("| order | " + " | ".join(orders) + " |")
    limited = ["ref.-limited" if bool(study["reference_limited"].sel(metric=m)) else "" for m in names]
    if any(limited):
        lines.append("| | " + " | ".join(limited) + " |")
    return "\n".join(lines), notes


def _sampling_line(study: xr.Dataset) -> str:
    """How much each reported value depends on the time sampling (``sampling_change``)."""
    change = study["sampling_change"]
    refine = int(study.attrs["refine"])
    limited = [str(m) for m in change["metric"].values if bool(study["sampling_limited"].sel(metric=m))]
    text = (
        f"Time sampling: the runs and the reference are sampled at {refine} times per output interval "
        f"({refine * int(study.attrs['nt']) + 1} times); the sups are refined there by bisection near their peaks "
        "(energy_gap: over all of them; weak_residual: Simpson's rule over them). With half as many times the reported "
        "values change by at most "
        + ", ".join(f"{m} {100 * float(v):.3g} %" for m, v in zip(change["metric"].values, change.values, strict=True))
    )
    return text + (f"; above 1 % (not resolved in time: raise --refine or --nt): {', '.join(limited)}." if limited else ".")


INFINITE_AT_0 = "n/a (a point mass: the reconstruction is infinite at t = 0)"


def _largest(values: np.ndarray) -> str:
    return INFINITE_AT_0 if np.isnan(values).all() else f"{float(np.nanmax(values)):.2e}"


def _rise(value: float, t: float) -> str:
    if np.isnan(value):
        return INFINITE_AT_0
    return f"{100 * value:.4g} % at t = {t:.4g}" if value > CHECK_RTOL else "none"


def _verdict(ok: bool) -> str:
    return "holds" if ok else "VIOLATED"


def _checks_markdown(study: xr.Dataset) -> list[str]:
    """The checks of the paper, exact over every t in [0, T] (a replay of each run's event log)."""
    N = ", ".join(str(n) for n in study["N"].values)
    ratio = study["lemma51_ratio"].max("species")
    forms = {form: ", ".join(f"{v:.3f}" for v in ratio.sel(lemma51_form=form).values) for form in ratio["lemma51_form"].values}
    m = ", ".join(f"{v:g}" for v in study["m_norm"].values)
    peak = study["sup_sum_peak"].values
    peak_t = study["sup_sum_peak_t"].values
    return [
        "## Checks of the paper",
        "",
        f"Exact over every t in [0, T], from a replay of each run's event log (between events the particles move on straight lines), for N = {N}:",
        "",
        f"- Lemma 5.1, W1(rho^N, rho~^N) <= span/(2N): {_verdict(bool(study['lemma51_holds'].all()))} with the current span "
        f"x_N(t) - x_1(t) and with the joint initial hull of both species (sup_t 2N W1/span = {forms['current_span']} and "
        f"{forms['joint_hull']}); with each species' own initial span (the paper's last step): "
        f"{_verdict(bool(study['lemma51_initial_span_holds'].all()))} ({forms['initial_span']}).",
        f"- Proposition 5.2, ||rho~^N||_m^m + ||eta~^N||_m^m non-increasing (m = {m}): {_verdict(bool(study['prop52_holds'].all()))} "
        f"(largest normalised derivative {float(study['prop52_violation'].max()):.2e}; > 0 would be a rise).",
        f"- m = inf, max(sup rho~, sup eta~) non-increasing: {_verdict(bool(study['sup_max_holds'].all()))} "
        f"(largest relative rise {_largest(study['sup_max_peak'].values)}).",
        "- The paper's sum sup rho~ + sup eta~ (not implied by the m-th powers): largest relative rise above its value at t = 0 "
        + (INFINITE_AT_0 if np.isnan(peak).all() else ", ".join(_rise(v, tk) for v, tk in zip(peak, peak_t, strict=True)))
        + ".",
        f"- Energy: E(b) - E(a) = -dissipation (b - a) between events, largest residual {float(study['energy_identity_residual'].max()):.1e}; "
        f"Corollary 4.1 (binary collisions): smallest distance of a meeting point to a third particle "
        f"{float(study['min_third_gap'].min()):.2e}.",
        "",
    ]


def summary_markdown(study: xr.Dataset, figures: dict[str, Path], command: str, skipped: dict[str, str] | None = None) -> str:
    """The ``summary.md`` of a validation run (figures linked relative to it; ``skipped``: the
    figures not drawn, with the reason)."""
    a = study.attrs
    errors_table, notes = _markdown_table(study)
    se = float(a["t_final_power_se"])
    spread = f"± {se:.3f}" if np.isfinite(se) else f"from {study.sizes['N']} N, no standard error"
    config = json.loads(a["config"])
    ref_err = ", ".join(f"{m} {float(v):.2e}" for m, v in zip(study["ref_metric"].values, study["reference_error"].values, strict=True))
    ref_order = study["reference_order"].values
    if np.isfinite(ref_order).any():
        ref_err += "; its own observed order in its resolution (from the runs at 1/2 and 1/4 of it): " + ", ".join(
            f"{m} {v:.2f}" if np.isfinite(v) else f"{m} n/a" for m, v in zip(study["ref_metric"].values, ref_order, strict=True)
        )
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
        f"- Wall time of the runs: {a['wall_time_s']:.1f} s (sum over the study's particle and continuum runs, "
        "each timed from its case to its Dataset; assembly and figures not included).",
        "",
        "## Sup-in-time errors and observed orders",
        "",
        "Errors of the empirical measures (`*_emp`) and of the piecewise-constant reconstructions "
        "(`*_rec`, N particles bound N - 1 cells of mass 1/(N - 1)), the supremum over [0, T] "
        "(refined in time, see Time sampling) and the two species; `weak_residual`: the space-time residual "
        "of the weak form (16); `order` is p in error ~ C N^-p, least squares on log-log data, ± its "
        "standard error. `ref.-limited`: the reference's own error exceeds "
        "10 % of the error at the largest N, so that order is not a property of the particles.",
        "",
        errors_table,
        "",
        *[f"- {note}" for note in [*_constant_lines(study), _sampling_line(study), *notes]],
        "- weak_residual: the weak form (16) on the reconstruction tested with chi_k(x) P_j(t) over [0, T], the reconstruction's "
        "own initial state in the initial term (its residual at each time jumps at every event, so no sampling resolves a "
        "supremum over time); a consistency check (velocities shifted by 1/N give a residual of the same order of magnitude, "
        "falling as fast), "
        "so its order is not a convergence rate.",
        "",
        *_checks_markdown(study),
        "## Beyond the paper",
        "",
        f"- Time of the final state x_i = y_i: t_final ~ {a['t_final_constant']:.3g} N^{a['t_final_power']:.3f} "
        f"({spread}); t_final = "
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
    lines += [f"- `{name}` not drawn: {reason}." for name, reason in (skipped or {}).items()]
    return "\n".join(lines) + "\n"


def write_results(study: xr.Dataset, run: xr.Dataset, out: Path, command: str, progress: Progress) -> None:
    """Write ``out/study.nc``, the figures of ``study`` and of the trajectory ``run`` and
    ``out/summary.md`` into the existing directory ``out``; each file appears whole or not at all
    (``compare.runs.io.atomic_path``)."""
    write_dataset(study, out / "study.nc")
    progress(f"study written to {out / 'study.nc'}")
    figures, skipped = make_figures(study, run, out)
    write_text(out / "summary.md", summary_markdown(study, figures, command, skipped))
    progress(f"{plural(len(figures), 'figure')} and summary.md written to {out}")
    for name, reason in skipped.items():
        progress(f"{name} figure not drawn: {reason}")
