"""Figures of a convergence study, of a sweep, and the trajectories of a particle run (matplotlib Agg, PNG).

Every figure has a builder ``*_figure(...) -> Figure`` (built on ``matplotlib.figure.Figure``, so no
global pyplot state is touched) and is written by ``save_png``; ``make_figures`` writes all the
figures of a study. Rules every figure keeps:

- its title says what it shows: the case, which N (and whether that run is one of the study's),
  against which reference;
- legends sit outside the axes (below them), so they never cover data; axes are padded so that no
  marker is clipped;
- a log axis only for data whose values are all positive: a figure whose data are zero everywhere (the
  ``stationary`` case's energy) raises ``NothingToDraw`` with the reason, and ``make_figures``
  reports it instead of writing an empty plot;
- an order is printed only when ``compare.studies.orders`` says it is meaningful, else ``n/a`` with
  the reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from compare.runs.io import atomic_path
from compare.studies.orders import order_note, round_off_level
from compare.text import plural
from solvers.particles.reconstruction import reconstruct

__all__ = [
    "NothingToDraw",
    "convergence_figure",
    "draw_trajectories",
    "energy_figure",
    "final_time_figure",
    "legend_below",
    "lm_norms_figure",
    "log_if_positive",
    "make_figures",
    "mixing_figure",
    "profile_times",
    "profiles_figure",
    "reconstruction_figure",
    "regularised_figure",
    "save_png",
    "sweep_figure",
    "trajectories_figure",
]

SPECIES_COLOURS = {"rho": "tab:blue", "eta": "tab:red"}
SPECIES_LABELS = {"rho": r"$\rho$", "eta": r"$\eta$"}
METRIC_LABELS = {
    "w1_emp": r"$W_1$ empirical",
    "w2_emp": r"$W_2$ empirical",
    "winf_emp": r"$W_\infty$ empirical",
    "w1_rec": r"$W_1$ reconstruction",
    "w2_rec": r"$W_2$ reconstruction",
    "winf_rec": r"$W_\infty$ reconstruction",
    "l1_rec": r"$L^1$ reconstruction",
    "energy_gap": "energy gap",
    "weak_residual": "weak-form consistency residual",
}
MAX_PATHS = 80
"""Trajectories drawn per species; with more particles every k-th one is drawn (the title says so)."""
MAX_EVENT_MARKERS = 3000
"""Events marked in a trajectory figure; with more, none are marked (the legend says how many)."""
EVENT_MARKERS = (("cross", "x", 18), ("stick", "o", 26), ("merge", "s", 22))
DPI = 120


class NothingToDraw(Exception):
    """A figure whose data are zero (or absent) everywhere: the message is the reason it is not drawn."""


def save_png(fig: Figure, path: str | Path) -> Path:
    """Write the PNG atomically (``compare.runs.io.atomic_path``)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=DPI, format="png")
    return Path(path)


def legend_below(fig: Figure, axes: Sequence[Axes], ncols: int = 4) -> None:
    """One legend for the entries of ``axes`` (each label once), outside and below the axes."""
    handles: list[Artist] = []
    labels: list[str] = []
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    if labels:
        fig.legend(handles, labels, loc="outside lower center", ncols=min(ncols, len(labels)), fontsize=7, frameon=False)


def _positive(*arrays: np.ndarray) -> bool:
    return any(np.any(np.asarray(a) > 0) for a in arrays)


def log_if_positive(ax: Axes, *arrays: np.ndarray) -> None:
    """Log scale on y when every value is positive, else linear: a log axis would drop the zeros
    (a final state) and the negative values (the energy of unequal total masses) without a trace."""
    values = np.concatenate([np.ravel(a) for a in arrays])
    if values.size and np.all(values[np.isfinite(values)] > 0):
        ax.set_yscale("log")


def profile_times(t: np.ndarray, panels: int) -> np.ndarray:
    """Indices of ``panels`` output times spread evenly over [0, T] (first and last included)."""
    wanted = np.linspace(t[0], t[-1], panels)
    return np.unique(np.abs(t[None, :] - wanted[:, None]).argmin(axis=1))


def step_line(ax: Axes, values: np.ndarray, edges: np.ndarray, **style: Any) -> None:
    """The steps ``values`` on the cells ``edges`` as one line down to 0 at both ends, as ``ax.stairs``
    draws them, but without its per-segment autoscaling (seconds for the 8000 cells of a reference)."""
    ax.plot(np.repeat(edges, 2), np.concatenate(([0.0], np.repeat(values, 2), [0.0])), **style)


def _study_Ns(study: xr.Dataset) -> str:
    return ", ".join(str(n) for n in study["N"].values)


def profiles_figure(study: xr.Dataset, panels: int = 4) -> Figure:
    """Reference densities rho, eta (steps) with the particle reconstruction at N = N_show over them."""
    t = study["t"].values
    edges = study["x_edge"].values
    ks = profile_times(t, panels)
    fig = Figure(figsize=(3.4 * len(ks), 3.6), layout="constrained")
    axes = fig.subplots(1, len(ks), sharey=True, squeeze=False)[0]
    top = 0.0
    for ax, k in zip(axes, ks, strict=True):
        for sp, show in (("rho", "x_show"), ("eta", "y_show")):
            colour = SPECIES_COLOURS[sp]
            reference = study[f"{sp}_ref"].values[k]
            step_line(ax, reference, edges, color=colour, lw=1.6, label=f"{SPECIES_LABELS[sp]} reference")
            rec_edges, rec_values = reconstruct(study[show].values[k])
            finite = np.isfinite(rec_values)
            step_line(
                ax, np.where(finite, rec_values, np.nan), rec_edges, color=colour, lw=0.8, ls="--", label=f"{SPECIES_LABELS[sp]} particles"
            )
            top = max(top, float(reference.max()), float(rec_values[finite].max(initial=0.0)))
        ax.set_title(f"t = {t[k]:.3g}", fontsize=9)
        ax.set_xlabel("x")
    axes[0].set_ylabel("density")
    axes[0].set_ylim(0.0, 1.08 * top if top > 0 else 1.0)
    legend_below(fig, axes)
    fig.suptitle(
        f"{study.attrs['case']}: reference ({study.attrs['reference']}) and the reconstruction (66)-(67) of the particles, "
        f"N = {study.attrs['N_show']} (of the study's N = {_study_Ns(study)})",
        fontsize=9,
    )
    return fig


def _event_kinds(run: xr.Dataset) -> np.ndarray:
    """Event kinds as the strings "cross"/"stick"/"merge", whichever encoding the run stores."""
    kind = run["event_kind"]
    if kind.dtype.kind in "US":
        return kind.values.astype(str)
    meanings = str(kind.attrs.get("flag_meanings", "cross stick merge")).split()
    values = np.asarray(kind.attrs.get("flag_values", np.arange(len(meanings)))).ravel()
    names = np.asarray(meanings)[np.searchsorted(values, kind.values)]
    return names.astype(str)


def _event_positions(run: xr.Dataset, event_t: np.ndarray) -> np.ndarray:
    """Meeting point of each event, from the straight x-path between the bracketing output times."""
    t = run["t"].values
    x = run["x"].values
    column = run["event_i"].values.astype(np.int64) - 1
    k = np.clip(np.searchsorted(t, event_t, side="right") - 1, 0, t.size - 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = np.where(t[k + 1] > t[k], (event_t - t[k]) / (t[k + 1] - t[k]), 0.0)
    return (1.0 - theta) * x[k, column] + theta * x[k + 1, column]


def draw_trajectories(ax: Axes, run: xr.Dataset) -> str:
    """Particle paths in the (x, t) plane on ``ax``, species coloured, events marked; returns what
    was drawn (``"every 5th of 400 particles"`` or ``""``) for the title."""
    t = run["t"].values
    N_x, N_y = run.sizes["i"], run.sizes.get("j", run.sizes["i"])
    step = max(1, math.ceil(max(N_x, N_y) / MAX_PATHS))
    ax.plot(run["x"].values[:, ::step], t, color=SPECIES_COLOURS["rho"], lw=0.7)
    ax.plot(run["y"].values[:, ::step], t, color=SPECIES_COLOURS["eta"], lw=0.7)
    ax.plot([], [], color=SPECIES_COLOURS["rho"], label=r"$x_i$ ($\rho$)")
    ax.plot([], [], color=SPECIES_COLOURS["eta"], label=r"$y_j$ ($\eta$)")
    event_t = run["event_t"].values
    inside = event_t <= t[-1]
    count = int(inside.sum())
    if 0 < count <= MAX_EVENT_MARKERS:
        kind = _event_kinds(run)
        position = _event_positions(run, event_t)
        for name, marker, size in EVENT_MARKERS:
            sel = inside & (kind == name)
            if sel.any():
                ax.scatter(
                    position[sel],
                    event_t[sel],
                    marker=marker,
                    s=size,
                    color="k",
                    facecolors="none" if marker in "os" else None,
                    lw=0.8,
                    zorder=3,
                    clip_on=False,
                    label=plural(int(sel.sum()), name if name != "cross" else "crossing"),
                )
    elif count:
        ax.plot([], [], " ", label=f"{plural(count, 'event')} in [0, {t[-1]:g}], too many to mark")
    pad = 0.03 * (t[-1] - t[0])
    ax.set_ylim(t[0] - pad, t[-1] + pad)
    ax.set_xlabel("x")
    ax.set_ylabel("t")
    if step == 1:
        return ""
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(step % 10 if step % 100 not in (11, 12, 13) else 0, "th")
    return f"every {step}{suffix} particle drawn"


def trajectories_figure(run: xr.Dataset, note: str = "") -> Figure:
    """The trajectories of a particle run with its events (``draw_trajectories``); ``note`` is
    added to the title (e.g. how the run relates to a study)."""
    fig = Figure(figsize=(6.0, 5.0), layout="constrained")
    ax = fig.subplots()
    drawn = draw_trajectories(ax, run)
    a = run.attrs
    count = f"{a.get('N_x', run.sizes['i'])}" if a.get("N_x") == a.get("N_y") else f"{a['N_x']} and {a['N_y']}"
    details = "; ".join(part for part in (drawn, note) if part)
    fig.suptitle(f"{a.get('case', '')}: particle trajectories, N = {count}" + (f"\n({details})" if details else ""), fontsize=9)
    legend_below(fig, [ax])
    return fig


def convergence_figure(study: xr.Dataset, metrics: tuple[str, ...] = ("w1_emp", "w2_emp", "w1_rec", "l1_rec", "weak_residual")) -> Figure:
    """Sup-in-time errors (the weak-form residual: its space-time value) against N on log-log axes, with
    the least-squares fit and its slope (or ``n/a``), an ``N^-1`` guide line, and the reference's W1
    error estimate where it is in range."""
    N = study["N"].values.astype(float)
    level = round_off_level(study)
    fig = Figure(figsize=(6.4, 5.4), layout="constrained")
    ax = fig.subplots()
    shown: list[np.ndarray] = []
    for index, name in enumerate(metrics):
        err = study["sup_err"].sel(metric=name).values
        label = METRIC_LABELS.get(name, name)
        note = order_note(err, level)
        if note == "n/a (round-off)":
            ax.plot([], [], " ", label=f"{label}: at most {level:.0e} (round-off) at every N, not drawn")
            continue
        if note == "n/a (no density)":
            ax.plot([], [], " ", label=f"{label}: undefined (point masses have no density), not drawn")
            continue
        colour = f"C{index}"
        shown.append(err)
        limited = " (reference-limited)" if bool(study["reference_limited"].sel(metric=name)) else ""
        if note is None:
            order = float(study["order"].sel(metric=name))
            se = float(study["order_se"].sel(metric=name))
            constant = float(study["order_constant"].sel(metric=name))
            ax.loglog(N, constant * N ** (-order), "-", color=colour, lw=1.0)
            label += f": slope $-${order:.3f} ± {se:.3f}{limited}"
        else:
            label += f": order {note}{limited}"
        ax.loglog(N, err, "o", color=colour, label=label, clip_on=False)
    if not shown:
        raise NothingToDraw("every error is at round-off level at every N")
    values = np.concatenate([err[err > level] for err in shown])
    low, high = float(values.min()), float(values.max())
    guide = 1.6 * max(float(err[0]) for err in shown) * N[0] / N
    ax.loglog(N, guide, "--", color="grey", lw=1.0, label=r"guide $\propto N^{-1}$")
    high = max(high, float(guide.max()))
    ref = float(study.attrs.get("reference_error_w1", 0.0))
    if ref >= low / 10:
        ax.axhline(ref, color="grey", ls=":", lw=1, label=f"reference $W_1$ error estimate {ref:.1e}")
        low = min(low, ref)
    elif ref > 0:
        ax.plot([], [], " ", label=f"reference $W_1$ error estimate {ref:.1e} (below this range)")
    ax.set_ylim(low / 1.6, high * 1.6)
    ax.set_xlabel("N (particles per species)")
    ax.set_ylabel("error: sup over [0, T] and species (weak form: space-time)")
    legend_below(fig, [ax], ncols=2)
    fig.suptitle(f"{study.attrs['case']}: errors on [0, {study.attrs['T']:g}] against {study.attrs['reference']}", fontsize=9)
    return fig


def energy_figure(study: xr.Dataset) -> Figure:
    """Energy E(t) (left) and its dissipation (right) of the reference and of the particle runs."""
    t = study["t"].values
    series = [study[name].values for name in ("energy", "energy_ref", "dissipation", "dissipation_ref")]
    if not _positive(*series):
        raise NothingToDraw("energy and dissipation are 0 at every output time, for the particles and the reference")
    fig = Figure(figsize=(9.0, 4.2), layout="constrained")
    ax_e, ax_d = fig.subplots(1, 2)
    for index, N in enumerate(study["N"].values):
        colour = f"C{index}"
        ax_e.plot(t, study["energy"].sel(N=N).values, color=colour, lw=0.9, label=f"N = {N}")
        ax_d.plot(t, study["dissipation"].sel(N=N).values, color=colour, lw=0.9)
    ax_e.plot(t, study["energy_ref"].values, "k--", lw=1.4, label="reference")
    ax_d.plot(t, study["dissipation_ref"].values, "k--", lw=1.4)
    log_if_positive(ax_e, *series[:2])
    log_if_positive(ax_d, *series[2:])
    for ax in (ax_e, ax_d):
        ax.set_xlabel("t")
    ax_e.set_ylabel(r"$E = \int (F_\rho - F_\eta)^2$")
    ax_d.set_ylabel(r"$-dE/dt = \int \rho v_\rho^2 + \int \eta v_\eta^2$")
    legend_below(fig, [ax_e], ncols=6)
    fig.suptitle(f"{study.attrs['case']}: energy and dissipation, particles (N = {_study_Ns(study)}) and reference", fontsize=9)
    return fig


def lm_norms_figure(study: xr.Dataset) -> Figure:
    """Sum over species of the L^m norms (m-th powers) of the reconstructions and of the reference
    (Prop. 5.2: non-increasing), and max / sum of the sup norms."""
    t = study["t"].values
    orders = study["m_norm"].values
    fig = Figure(figsize=(3.4 * (len(orders) + 1), 3.9), layout="constrained")
    axes = fig.subplots(1, len(orders) + 1)
    for ax, m in zip(axes, orders, strict=False):
        for index, N in enumerate(study["N"].values):
            ax.plot(t, study["lm_sum"].sel(N=N, m_norm=m).values, color=f"C{index}", lw=0.9, label=f"N = {N}")
        ax.plot(t, study["lm_sum_ref"].sel(m_norm=m).values, "k--", lw=1.4, label="reference")
        ax.set_title(rf"$\|\tilde\rho\|_{{{m}}}^{{{m}}} + \|\tilde\eta\|_{{{m}}}^{{{m}}}$", fontsize=9)
        ax.set_xlabel("t")
    ax = axes[-1]
    for index, N in enumerate(study["N"].values):
        ax.plot(t, study["sup_max"].sel(N=N).values, color=f"C{index}", lw=0.9)
        ax.plot(t, study["sup_sum"].sel(N=N).values, color=f"C{index}", lw=0.9, ls=":")
    ax.plot([], [], "k-", label=r"max($\|\tilde\rho\|_\infty$, $\|\tilde\eta\|_\infty$)")
    ax.plot([], [], "k:", label=r"$\|\tilde\rho\|_\infty + \|\tilde\eta\|_\infty$")
    ax.set_title("sup norms", fontsize=9)
    ax.set_xlabel("t")
    legend_below(fig, [axes[0], ax], ncols=8)
    fig.suptitle(f"{study.attrs['case']}: $L^m$ norms of the reconstructions", fontsize=9)
    return fig


def mixing_figure(study: xr.Dataset) -> Figure:
    """W1 distance between the two species over time (mixing), particles and reference."""
    t = study["t"].values
    if not _positive(study["mixing_w1"].values, study["mixing_w1_ref"].values):
        raise NothingToDraw("W1(rho, eta) is 0 at every output time: the species coincide")
    fig = Figure(figsize=(5.6, 4.4), layout="constrained")
    ax = fig.subplots()
    for index, N in enumerate(study["N"].values):
        ax.plot(t, study["mixing_w1"].sel(N=N).values, color=f"C{index}", lw=0.9, label=f"N = {N}")
    ax.plot(t, study["mixing_w1_ref"].values, "k--", lw=1.4, label="reference")
    ax.set_xlabel("t")
    ax.set_ylabel(r"$W_1(\rho, \eta)$")
    log_if_positive(ax, study["mixing_w1"].values, study["mixing_w1_ref"].values)
    legend_below(fig, [ax], ncols=6)
    fig.suptitle(f"{study.attrs['case']}: distance between the species", fontsize=9)
    return fig


def final_time_figure(study: xr.Dataset) -> Figure:
    """Time at which the particle system reaches x_i = y_i, against N, with the fitted power."""
    N = study["N"].values.astype(float)
    t_final = study["t_final"].values
    if not _positive(t_final):
        raise NothingToDraw("the particles start in their final state x_i = y_i (t_final = 0 for every N)")
    fig = Figure(figsize=(5.6, 4.4), layout="constrained")
    ax = fig.subplots()
    ax.loglog(N, t_final, "o", color="C0", clip_on=False, label="time of the last event")
    power, se = float(study.attrs["t_final_power"]), float(study.attrs["t_final_power_se"])
    if np.isfinite(power):
        spread = f"± {se:.3f}" if np.isfinite(se) else f"(from {N.size} N, no standard error)"
        ax.loglog(N, float(study.attrs["t_final_constant"]) * N**power, "-", color="C0", lw=1.0, label=f"fit: power {power:.3f} {spread}")
    ax.margins(0.08)
    ax.set_xlabel("N")
    ax.set_ylabel(r"time of the final state $x_i = y_i$")
    legend_below(fig, [ax], ncols=2)
    fig.suptitle(f"{study.attrs['case']}: time to the final state", fontsize=9)
    return fig


def sweep_figure(summary: xr.Dataset) -> Figure:
    """The summary of a sweep (its top-level ``study.nc``): sup W1 of the particles against N per
    case (left) and of the continuum runs against the cells per case and scheme (right); the
    reference's own entry (distance 0) is left out."""
    fig = Figure(figsize=(10.0, 4.8), layout="constrained")
    ax_p, ax_c = fig.subplots(1, 2)
    N = summary["N"].values.astype(float)
    cells = summary["cells"].values.astype(float)
    w1 = list(summary["ref_metric"].values).index("w1")
    for index, case in enumerate(summary["case"].values):
        err = summary["sup_err"].sel(case=case, metric="w1_emp").values
        ax_p.loglog(N, err, "o-", color=f"C{index}", lw=0.9, clip_on=False, label=str(case))
        for s, scheme in enumerate(summary["scheme"].values):
            values = summary["continuum_sup_err"].sel(case=case).values[s, :, w1]
            keep = values > 0
            ax_c.loglog(cells[keep], values[keep], "os^D"[s % 4] + "-", color=f"C{index}", lw=0.9, clip_on=False, label=f"{case} {scheme}")
    for ax in (ax_p, ax_c):
        ax.margins(0.08)
    ax_p.set_xlabel("N (particles per species)")
    ax_p.set_ylabel(r"sup over time of $W_1$, empirical measures")
    ax_c.set_xlabel("cells (or mass intervals)")
    ax_c.set_ylabel(r"sup over time of $W_1$ to the reference")
    legend_below(fig, [ax_p, ax_c], ncols=4)
    fig.suptitle("sweep: particle and continuum errors against each case's reference", fontsize=9)
    return fig


def regularised_figure(study: xr.Dataset) -> Figure:
    """The Remark 5.1 study (``compare.studies.regularised``): sup W1 against N for the exact engine
    and each delta schedule with its fitted law and order (left; the exact engine's fitted error at
    ``target_N`` dotted), and the widths delta_N (right)."""
    fig = Figure(figsize=(10.0, 4.8), layout="constrained")
    ax_e, ax_d = fig.subplots(1, 2)
    N = study["N"].values.astype(float)
    level = round_off_level(study)
    for index, method in enumerate(study["variant"].values):
        err = study["sup_err"].sel(variant=method, metric="w1").values
        colour = "black" if method == "exact" else f"C{index}"
        label = str(method)
        if order_note(err, level) is None:
            order = float(study["order"].sel(variant=method, metric="w1"))
            constant = float(study["order_constant"].sel(variant=method, metric="w1"))
            ax_e.loglog(N, constant * N ** (-order), "-", color=colour, lw=0.9)
            label += f": order {order:.3f}"
        marker = {"marker": "s", "mfc": "none", "ms": 9, "zorder": 3} if method == "exact" else {"marker": "o"}
        ax_e.loglog(N, err, ls="none", color=colour, clip_on=False, label=label, **marker)
        if method != "exact":
            ax_d.loglog(N, study["delta"].sel(variant=method).values, "o-", color=colour, lw=0.9, clip_on=False, label=str(method))
    target_N = int(study.attrs["target_N"])
    exact = study["order_constant"].sel(variant="exact", metric="w1") * target_N ** -study["order"].sel(variant="exact", metric="w1")
    ax_e.axhline(float(exact), color="grey", ls=":", lw=1, label=f"exact engine's fitted $W_1$ at N = {target_N}")
    for ax in (ax_e, ax_d):
        ax.margins(0.08)
        ax.set_xlabel("N (particles per species)")
        ax.set_xticks(N, [f"{n:g}" for n in N], minor=False)
        ax.set_xticks([], minor=True)
    ax_e.set_ylabel(r"sup over time of $W_1$ to the reference")
    ax_d.set_ylabel(r"smoothing width $\delta_N$")
    legend_below(fig, [ax_e, ax_d], ncols=4)
    fig.suptitle(
        f"{study.attrs['case']}: regularised kernel (Remark 5.1) against the exact particles, on [0, {study.attrs['T']:g}] "
        f"against {study.attrs['reference']}",
        fontsize=9,
    )
    return fig


def reconstruction_figure(study: xr.Dataset) -> Figure:
    """The errors of the empirical measures and of the proof's reconstruction (66)-(67) side by side,
    in W1, W2 and W_inf: where the data leave the theorem (a point mass beside a density) the
    reconstruction's W2 and W_inf lose the order that the empirical measures keep."""
    return convergence_figure(study, ("w1_emp", "w2_emp", "winf_emp", "w1_rec", "w2_rec", "winf_rec"))


STUDY_FIGURES = {
    "profiles": profiles_figure,
    "convergence": convergence_figure,
    "reconstruction": reconstruction_figure,
    "energy": energy_figure,
    "lm_norms": lm_norms_figure,
    "mixing": mixing_figure,
    "final_time": final_time_figure,
}
"""The figures drawn from a study Dataset alone, by name (the file is ``<name>.png``)."""


def make_figures(study: xr.Dataset, run: xr.Dataset | None, outdir: str | Path) -> tuple[dict[str, Path], dict[str, str]]:
    """The figures of a study into ``outdir`` (created if missing): those of ``STUDY_FIGURES`` and,
    given the study's trajectory ``run``, ``trajectories.png``. Returns the written figures
    (name -> path) and the ones not drawn (name -> reason, ``NothingToDraw``)."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    skipped: dict[str, str] = {}
    builders = dict(STUDY_FIGURES)
    if run is not None:
        note = f"a run of its own, with its event log; the study's N are {_study_Ns(study)}"
        builders = {"profiles": profiles_figure, "trajectories": lambda _: trajectories_figure(run, note), **builders}
    for name, build in builders.items():
        try:
            written[name] = save_png(build(study), outdir / f"{name}.png")
        except NothingToDraw as reason:
            skipped[name] = str(reason)
    return written, skipped
