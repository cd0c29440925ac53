"""Figures of one run: a particle run (optionally against a continuum run) or a continuum run.

Each figure has a top row of density profiles at chosen output times and a bottom row of panels
over time:

- particle run: profiles of the particles' mass histogram (``particle_histogram``: ``B`` equal bins
  on the run's hull, the count in the figure) with a tick per particle; trajectories with their
  events (``compare.plots.draw_trajectories``); energy ``E[Z]``; dissipation. Against a continuum
  run (``compare.look.against``): the continuum cell averages under the histograms, the continuum's
  energy and dissipation, and the exact ``W1`` distance of each species over the common times;
- continuum run: profiles of the cell averages; energy; dissipation; mass drift ``|M(t) - M(0)|``.

The rules of ``compare.plots`` hold (titles say what is shown, legends below the axes, log axes only
for positive data).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

from compare.look import POSITIONS, Against
from compare.plots import SPECIES_COLOURS, SPECIES_LABELS, draw_trajectories, legend_below, log_if_positive, profile_times
from compare.studies.reference import SPECIES
from solvers.errors import InputError

__all__ = ["PANELS", "continuum_run_figure", "histogram_bins", "particle_histogram", "particle_run_figure", "profile_indices"]

PANELS = 4
"""Profile panels when no times are chosen: evenly spread output times, first and last included."""


def profile_indices(t: np.ndarray, times: Sequence[float] | None, name: str = "the run") -> np.ndarray:
    """Indices into the output times ``t`` of the chosen ``times`` (the nearest output time of each),
    or ``PANELS`` evenly spread ones; ``InputError`` for a time outside ``[t_0, T]``."""
    if not times:
        return profile_times(t, PANELS)
    for value in times:
        if not t[0] - 1e-12 * t[-1] <= value <= t[-1] * (1 + 1e-12):
            raise InputError(f"time {value:g} is outside [{t[0]:g}, {t[-1]:g}], the output times of {name}; pass --times inside it")
    return np.unique([int(np.abs(t - value).argmin()) for value in times])


def histogram_bins(N: int) -> int:
    """Bins of a particle histogram: ``sqrt(N)`` rounded (about as many particles per bin as
    bins), between 5 and 60."""
    return int(np.clip(round(np.sqrt(N)), 5, 60))


def particle_histogram(positions: np.ndarray, masses: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Density of the particle masses on the cells ``edges``: cell mass over cell width."""
    counts, _ = np.histogram(positions, bins=edges, weights=masses)
    return counts / np.diff(edges)


def _hull(run: xr.Dataset) -> np.ndarray:
    lo = min(float(run["x"].min()), float(run["y"].min()))
    hi = max(float(run["x"].max()), float(run["y"].max()))
    return np.array([lo, hi]) if hi > lo else np.array([lo - 0.5, hi + 0.5])


def _rows(columns: int, bottom: int) -> tuple[Figure, list[Axes], list[Axes]]:
    fig = Figure(figsize=(3.2 * max(columns, bottom), 7.4), layout="constrained")
    top_fig, bottom_fig = fig.subfigures(2, 1, height_ratios=(1.0, 1.1))
    assert isinstance(top_fig, SubFigure) and isinstance(bottom_fig, SubFigure)
    top = list(top_fig.subplots(1, columns, sharey=True, squeeze=False)[0])
    lower = list(bottom_fig.subplots(1, bottom, squeeze=False)[0])
    return fig, top, lower


def _over_time(ax: Axes, t: np.ndarray, values: np.ndarray, title: str, **style: object) -> None:
    ax.plot(t, values, **style)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("t")


def particle_run_figure(run: xr.Dataset, times: Sequence[float] | None = None, pair: Against | None = None) -> Figure:
    """The figure of a particle run (module docstring); ``pair``: the run against a continuum run."""
    a = run.attrs
    t = run["t"].values
    if pair is None:
        ks = profile_indices(t, times)
    else:
        common = profile_indices(pair.t, times, "both runs (their common output times)")
        ks = pair.k_run[common]
    N = max(run.sizes["i"], run.sizes["j"])
    bins = histogram_bins(N)
    edges = np.linspace(*_hull(run), bins + 1)
    fig, top, (ax_traj, ax_e, ax_d, *ax_w) = _rows(len(ks), 4 if pair is not None else 3)
    peak = 0.0
    for ax, k in zip(top, ks, strict=True):
        for sp in SPECIES:
            position, mass = (run[name].values for name in POSITIONS[sp])
            colour = SPECIES_COLOURS[sp]
            if pair is not None:
                kp = pair.k_pde[int(np.flatnonzero(pair.k_run == k)[0])]
                pde_edges = pair.pde["x_edge"].values
                averages = pair.pde[sp].values[kp]
                ax.stairs(averages, pde_edges, color=colour, lw=1.5, alpha=0.5, label=f"{SPECIES_LABELS[sp]} {pair.pde.attrs['scheme']}")
                peak = max(peak, float(averages.max()))
            density = particle_histogram(position[k], mass, edges)
            ax.stairs(density, edges, color=colour, lw=0.9, label=f"{SPECIES_LABELS[sp]} particles, histogram of {bins} bins")
            ax.vlines(
                position[k], 0.0, 0.04, transform=ax.get_xaxis_transform(), color=colour, lw=0.5, label=f"{SPECIES_LABELS[sp]} particles"
            )
            peak = max(peak, float(density.max()))
        ax.set_title(f"t = {t[k]:.3g}", fontsize=9)
        ax.set_xlabel("x")
    top[0].set_ylabel("density")
    top[0].set_ylim(0.0, 1.08 * peak if peak > 0 else 1.0)
    drawn = draw_trajectories(ax_traj, run)
    ax_traj.set_title("trajectories" + (f" ({drawn})" if drawn else ""), fontsize=9)
    _over_time(ax_e, t, run["energy"].values, r"energy $E[Z]$", color="k", lw=1.0, label="particles")
    _over_time(ax_d, t, run["dissipation"].values, r"dissipation $\sum m_i x_i'^2 + \sum n_j y_j'^2$", color="k", lw=1.0)
    energies = [run["energy"].values]
    rates = [run["dissipation"].values]
    if pair is not None:
        pde_t = pair.pde["t"].values
        ax_e.plot(pde_t, pair.pde["energy"].values, "--", color="grey", lw=1.2, label=f"{pair.pde.attrs['scheme']} (continuum)")
        ax_d.plot(pde_t, pair.pde["dissipation"].values, "--", color="grey", lw=1.2)
        energies.append(pair.pde["energy"].values)
        rates.append(pair.pde["dissipation"].values)
        (ax,) = ax_w
        for s, sp in enumerate(SPECIES):
            ax.plot(pair.t, pair.w1[s], color=SPECIES_COLOURS[sp], lw=1.0, label=rf"$W_1$ of {SPECIES_LABELS[sp]}")
        log_if_positive(ax, pair.w1)
        ax.set_title(r"$W_1$(particles, continuum)", fontsize=9)
        ax.set_xlabel("t")
    log_if_positive(ax_e, *energies)
    log_if_positive(ax_d, *rates)
    legend_below(fig, [top[0], ax_traj, ax_e, *ax_w], ncols=5)
    counts = f"{a['N_x']}" if a["N_x"] == a["N_y"] else f"{a['N_x']} and {a['N_y']}"
    engine = "rank engine" if "rank engine" in a["solver"] else "block engine"
    versus = "" if pair is None else f", against {pair.pde.attrs['scheme']} with {pair.pde.attrs['cells']} cells"
    fig.suptitle(f"{a['case']}: particle run, N = {counts} ({engine}, placement {a['placement']}), T = {a['T']:g}{versus}", fontsize=10)
    return fig


def continuum_run_figure(pde: xr.Dataset, times: Sequence[float] | None = None) -> Figure:
    """The figure of a continuum run (module docstring)."""
    a = pde.attrs
    t = pde["t"].values
    edges = pde["x_edge"].values
    ks = profile_indices(t, times)
    fig, top, (ax_e, ax_d, ax_m) = _rows(len(ks), 3)
    peak = 0.0
    for ax, k in zip(top, ks, strict=True):
        for sp in SPECIES:
            ax.stairs(pde[sp].values[k], edges, color=SPECIES_COLOURS[sp], lw=1.2, label=f"{SPECIES_LABELS[sp]} cell averages")
            peak = max(peak, float(pde[sp].values[k].max()))
        ax.set_title(f"t = {t[k]:.3g}", fontsize=9)
        ax.set_xlabel("x")
    top[0].set_ylabel("density")
    top[0].set_ylim(0.0, 1.08 * peak if peak > 0 else 1.0)
    _over_time(ax_e, t, pde["energy"].values, r"energy $\int (F_\rho - F_\eta)^2$", color="k", lw=1.0)
    _over_time(ax_d, t, pde["dissipation"].values, r"dissipation $\int \rho v_\rho^2 + \int \eta v_\eta^2$", color="k", lw=1.0)
    log_if_positive(ax_e, pde["energy"].values)
    log_if_positive(ax_d, pde["dissipation"].values)
    for sp in SPECIES:
        mass = pde[f"mass_{sp}"].values
        _over_time(ax_m, t, np.abs(mass - mass[0]), r"mass drift $|M(t) - M(0)|$", color=SPECIES_COLOURS[sp], lw=1.0)
    legend_below(fig, [top[0]], ncols=2)
    fig.suptitle(f"{a['case']}: {a['scheme']} continuum run, {a['cells']} cells, {a['steps']} steps, T = {a['T']:g}", fontsize=10)
    return fig
