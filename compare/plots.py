"""Figures of a convergence study and of a particle run (matplotlib Agg, PNG).

Every function takes Datasets produced by the public APIs (``compare.studies.validate.run_study`` and
``compare.runs.particle_run.run_particles``), writes one PNG and returns its path. Figures are built
on ``matplotlib.figure.Figure`` directly, so no global pyplot state is touched.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from compare.runs.io import atomic_path
from solvers.particles.reconstruction import reconstruct

SPECIES_COLOURS = {"rho": "tab:blue", "eta": "tab:red"}
SPECIES_LABELS = {"rho": r"$\rho$", "eta": r"$\eta$"}
METRIC_LABELS = {
    "w1_emp": r"$W_1$ empirical",
    "w2_emp": r"$W_2$ empirical",
    "winf_emp": r"$W_\infty$ empirical",
    "w1_rec": r"$W_1$ reconstruction",
    "w2_rec": r"$W_2$ reconstruction",
    "l1_rec": r"$L^1$ reconstruction",
    "energy_gap": "energy gap",
    "weak_residual": "weak-form residual",
}


def _save(fig: Figure, path: str | Path) -> Path:
    """Write the PNG atomically (``compare.runs.io.atomic_path``)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    return Path(path)


def _profile_times(t: np.ndarray, panels: int) -> np.ndarray:
    """Indices of ``panels`` output times spread evenly over [0, T] (first and last included)."""
    wanted = np.linspace(t[0], t[-1], panels)
    return np.unique(np.abs(t[None, :] - wanted[:, None]).argmin(axis=1))


def plot_profiles(study: xr.Dataset, path: str | Path, panels: int = 4) -> Path:
    """Reference densities rho, eta (steps) with the particle reconstruction at N = N_show over them."""
    t = study["t"].values
    edges = study["x_edge"].values
    ks = _profile_times(t, panels)
    fig = Figure(figsize=(3.4 * len(ks), 3.2), layout="constrained")
    axes = fig.subplots(1, len(ks), sharey=True, squeeze=False)[0]
    for ax, k in zip(axes, ks, strict=True):
        for sp, show in (("rho", "x_show"), ("eta", "y_show")):
            colour = SPECIES_COLOURS[sp]
            ax.stairs(study[f"{sp}_ref"].values[k], edges, color=colour, lw=1.6, label=f"{SPECIES_LABELS[sp]} reference")
            rec_edges, rec_values = reconstruct(study[show].values[k])
            ax.stairs(rec_values, rec_edges, color=colour, lw=0.8, ls="--", alpha=0.9, label=f"{SPECIES_LABELS[sp]} particles")
        ax.set_title(f"t = {t[k]:.3g}")
        ax.set_xlabel("x")
    axes[0].set_ylabel("density")
    top = max(float(study["rho_ref"].max()), float(study["eta_ref"].max()))
    axes[0].set_ylim(0.0, 1.35 * top)
    axes[-1].legend(fontsize=7, loc="upper right")
    fig.suptitle(
        f"{study.attrs['case']}: reference ({study.attrs['reference']}) and particle reconstruction, N = {study.attrs['N_show']}",
        fontsize=10,
    )
    return _save(fig, path)


def plot_trajectories(run: xr.Dataset, path: str | Path) -> Path:
    """Particle paths in the (x, t) plane, species coloured, crossings (x) and sticks (o) marked."""
    t = run["t"].values
    fig = Figure(figsize=(6.0, 4.5), layout="constrained")
    ax = fig.subplots()
    ax.plot(run["x"].values, t, color=SPECIES_COLOURS["rho"], lw=0.8)
    ax.plot(run["y"].values, t, color=SPECIES_COLOURS["eta"], lw=0.8)
    event_t = run["event_t"].values
    if event_t.size:
        kind = _event_kinds(run)
        inside = event_t <= t[-1]
        position = _event_positions(run, event_t)
        for name, marker, size in (("cross", "x", 18), ("stick", "o", 26)):
            sel = inside & (kind == name)
            ax.scatter(
                position[sel],
                event_t[sel],
                marker=marker,
                s=size,
                color="k",
                facecolors="none" if marker == "o" else None,
                lw=0.8,
                zorder=3,
                label=f"{name} ({int(sel.sum())})",
            )
        ax.legend(fontsize=8, loc="upper right")
    ax.set_xlabel("x")
    ax.set_ylabel("t")
    ax.set_ylim(t[0], t[-1])
    ax.set_title(
        f"{run.attrs.get('case', '')}: particle trajectories, N = {run.sizes['i']}"
        r" (blue $x_i$, red $y_j$)",
        fontsize=10,
    )
    return _save(fig, path)


def _event_kinds(run: xr.Dataset) -> np.ndarray:
    """Event kinds as the strings "cross"/"stick", whichever encoding the run stores."""
    kind = run["event_kind"]
    if kind.dtype.kind in "US":
        return kind.values.astype(str)
    meanings = str(kind.attrs.get("flag_meanings", "cross stick")).split()
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


def plot_convergence(
    study: xr.Dataset, path: str | Path, metrics: tuple[str, ...] = ("w1_emp", "w2_emp", "w1_rec", "l1_rec", "weak_residual")
) -> Path:
    """Sup-in-time errors against N on log-log axes, with the least-squares fit and its slope."""
    N = study["N"].values.astype(float)
    fig = Figure(figsize=(6.4, 4.8), layout="constrained")
    ax = fig.subplots()
    for index, name in enumerate(metrics):
        err = study["sup_err"].sel(metric=name).values
        colour = f"C{index}"
        ax.loglog(N, err, "o", color=colour)
        order = float(study["order"].sel(metric=name))
        se = float(study["order_se"].sel(metric=name))
        constant = float(study["order_constant"].sel(metric=name))
        limited = " (reference-limited)" if bool(study["reference_limited"].sel(metric=name)) else ""
        if np.isfinite(order):
            ax.loglog(
                N,
                constant * N ** (-order),
                "-",
                color=colour,
                label=f"{METRIC_LABELS.get(name, name)}: slope $-${order:.3f} ± {se:.3f}{limited}",
            )
    ref = float(study.attrs.get("reference_error_w1", 0.0))
    if ref > 0:
        ax.axhline(ref, color="grey", ls=":", lw=1, label=f"reference $W_1$ error estimate {ref:.1e}")
    ax.set_xlabel("N (particles per species)")
    ax.set_ylabel("error, maximum over output times and species")
    ax.legend(fontsize=7)
    ax.set_title(f"{study.attrs['case']}: errors on [0, {study.attrs['T']:g}] against {study.attrs['reference']}", fontsize=10)
    return _save(fig, path)


def plot_energy(study: xr.Dataset, path: str | Path) -> Path:
    """Energy E(t) (left) and its dissipation (right) of the reference and of the particle runs."""
    t = study["t"].values
    fig = Figure(figsize=(9.0, 3.8), layout="constrained")
    ax_e, ax_d = fig.subplots(1, 2)
    for index, N in enumerate(study["N"].values):
        colour = f"C{index}"
        ax_e.plot(t, study["energy"].sel(N=N).values, color=colour, lw=0.9, label=f"N = {N}")
        ax_d.plot(t, study["dissipation"].sel(N=N).values, color=colour, lw=0.9)
    ax_e.plot(t, study["energy_ref"].values, "k--", lw=1.4, label="reference")
    ax_d.plot(t, study["dissipation_ref"].values, "k--", lw=1.4)
    for ax in (ax_e, ax_d):
        ax.set_xlabel("t")
        ax.set_yscale("log")
    ax_e.set_ylabel(r"$E = \int (F_\rho - F_\eta)^2$")
    ax_d.set_ylabel(r"$-dE/dt = \int \rho v_\rho^2 + \int \eta v_\eta^2$")
    ax_e.legend(fontsize=7)
    fig.suptitle(f"{study.attrs['case']}: energy and dissipation", fontsize=10)
    return _save(fig, path)


def plot_lm_norms(study: xr.Dataset, path: str | Path) -> Path:
    """Sum over species of the L^m norms (m-th powers) of the reconstructions and of the reference
    (Prop. 5.2: non-increasing), and max / sum of the sup norms."""
    t = study["t"].values
    orders = study["m_norm"].values
    fig = Figure(figsize=(3.4 * (len(orders) + 1), 3.4), layout="constrained")
    axes = fig.subplots(1, len(orders) + 1)
    for ax, m in zip(axes, orders, strict=False):
        for index, N in enumerate(study["N"].values):
            ax.plot(t, study["lm_sum"].sel(N=N, m_norm=m).values, color=f"C{index}", lw=0.9, label=f"N = {N}")
        ax.plot(t, study["lm_sum_ref"].sel(m_norm=m).values, "k--", lw=1.4, label="reference")
        ax.set_title(rf"$\|\tilde\rho\|_{{{m}}}^{{{m}}} + \|\tilde\eta\|_{{{m}}}^{{{m}}}$", fontsize=10)
        ax.set_xlabel("t")
    ax = axes[-1]
    for index, N in enumerate(study["N"].values):
        ax.plot(t, study["sup_max"].sel(N=N).values, color=f"C{index}", lw=0.9)
        ax.plot(t, study["sup_sum"].sel(N=N).values, color=f"C{index}", lw=0.9, ls=":")
    ax.plot([], [], "k-", label=r"max($\|\tilde\rho\|_\infty$, $\|\tilde\eta\|_\infty$)")
    ax.plot([], [], "k:", label=r"$\|\tilde\rho\|_\infty + \|\tilde\eta\|_\infty$")
    ax.set_title("sup norms", fontsize=10)
    ax.set_xlabel("t")
    ax.legend(fontsize=7)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"{study.attrs['case']}: $L^m$ norms of the reconstructions", fontsize=10)
    return _save(fig, path)


def plot_mixing(study: xr.Dataset, path: str | Path) -> Path:
    """W1 distance between the two species over time (mixing), particles and reference."""
    t = study["t"].values
    fig = Figure(figsize=(5.6, 3.8), layout="constrained")
    ax = fig.subplots()
    for index, N in enumerate(study["N"].values):
        ax.plot(t, study["mixing_w1"].sel(N=N).values, color=f"C{index}", lw=0.9, label=f"N = {N}")
    ax.plot(t, study["mixing_w1_ref"].values, "k--", lw=1.4, label="reference")
    ax.set_xlabel("t")
    ax.set_ylabel(r"$W_1(\rho, \eta)$")
    ax.set_yscale("log")
    ax.legend(fontsize=7)
    ax.set_title(f"{study.attrs['case']}: distance between the species", fontsize=10)
    return _save(fig, path)


def plot_final_time(study: xr.Dataset, path: str | Path) -> Path:
    """Time at which the particle system reaches x_i = y_i, against N, with the fitted power."""
    N = study["N"].values.astype(float)
    t_final = study["t_final"].values
    fig = Figure(figsize=(5.6, 3.8), layout="constrained")
    ax = fig.subplots()
    ax.loglog(N, t_final, "o", color="C0")
    power = float(study.attrs["t_final_power"])
    if np.isfinite(power):
        ax.loglog(
            N,
            float(study.attrs["t_final_constant"]) * N**power,
            "-",
            color="C0",
            label=f"fit: power {power:.3f} ± {float(study.attrs['t_final_power_se']):.3f}",
        )
        ax.legend(fontsize=8)
    ax.set_xlabel("N")
    ax.set_ylabel(r"time of the final state $x_i = y_i$")
    ax.set_title(f"{study.attrs['case']}: time to the final state", fontsize=10)
    return _save(fig, path)


def make_figures(study: xr.Dataset, run: xr.Dataset, outdir: str | Path) -> dict[str, Path]:
    """All figures of a validation study into ``outdir`` (created if missing); returns name -> path."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    return {
        "profiles": plot_profiles(study, outdir / "profiles.png"),
        "trajectories": plot_trajectories(run, outdir / "trajectories.png"),
        "convergence": plot_convergence(study, outdir / "convergence.png"),
        "energy": plot_energy(study, outdir / "energy.png"),
        "lm_norms": plot_lm_norms(study, outdir / "lm_norms.png"),
        "mixing": plot_mixing(study, outdir / "mixing.png"),
        "final_time": plot_final_time(study, outdir / "final_time.png"),
    }
