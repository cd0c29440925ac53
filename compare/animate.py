"""Animations of a run: the particles (ticks or their mass histogram) moving over the continuum
density, one frame per output time.

``animate(run, out, pair=None, style="ticks", fps=10)`` draws a particle run (with ``pair``, over a
continuum run at their common output times, ``compare.look.against``) or a continuum run alone
(``run`` is then the continuum Dataset) and writes it with matplotlib's animation module: a GIF
through ``PillowWriter`` (Pillow comes with matplotlib, no external binary), an MP4 through
``FFMpegWriter`` when ``ffmpeg`` is installed. The axes are fixed over the frames (the hull of the
whole run, the largest density), so the motion is not hidden by rescaling. The file is written
atomically (``compare.runs.io.atomic_path``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.animation import FFMpegWriter, FuncAnimation, PillowWriter, writers
from matplotlib.artist import Artist
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import StepPatch

from compare.look import POSITIONS, Against
from compare.plots import SPECIES_COLOURS, SPECIES_LABELS, legend_below
from compare.run_plots import histogram_bins, particle_histogram
from compare.runs.io import atomic_path
from compare.studies.reference import SPECIES
from solvers.errors import InputError

__all__ = ["FORMATS", "STYLES", "animate", "check_movie_path"]

FORMATS = (".gif", ".mp4")
STYLES = ("ticks", "histogram")
FIGSIZE = (6.4, 3.6)
DPI = 100
"""A frame is ``FIGSIZE * DPI`` = 640 x 360 pixels."""
TICK = 0.06
"""Height of a particle's tick, as a fraction of the axes."""


def check_movie_path(out: str | Path) -> Path:
    """``out`` as a Path if its format can be written here, else ``InputError`` (one line)."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"cannot write an animation to {path}: pass a file name ending in .gif (or .mp4 when ffmpeg is installed)")
    if suffix == ".mp4" and not writers.is_available("ffmpeg"):
        raise InputError(f"writing {path} needs ffmpeg, which is not installed; pass a .gif file name (written with Pillow)")
    return path


def _stairs_update(steps: StepPatch, values: np.ndarray) -> Callable[[int], Artist]:
    def update(frame: int) -> Artist:
        steps.set_data(values[frame])
        return steps

    return update


def _ticks_update(ticks: LineCollection, positions: np.ndarray) -> Callable[[int], Artist]:
    def update(frame: int) -> Artist:
        ticks.set_segments([np.array([[x, 0.0], [x, TICK]]) for x in positions[frame]])
        return ticks

    return update


def _frames(run: xr.Dataset, pair: Against | None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Output times of the frames, their indices into ``run`` and (with ``pair``) into the continuum run."""
    if pair is None:
        return run["t"].values, np.arange(run.sizes["t"]), None
    return pair.t, pair.k_run, pair.k_pde


def animate(run: xr.Dataset, out: str | Path, pair: Against | None = None, style: str = "ticks", fps: float = 10.0) -> Path:
    """Write the animation of ``run`` (module docstring) to ``out`` (.gif, or .mp4 with ffmpeg).

    Args:
        run: a particle run, or a continuum run to animate alone.
        out: the movie file.
        pair: the particle run against a continuum run (``compare.look.against``), drawn under it.
        style: the particles as ``ticks`` (one per particle, with the histogram's outline) or as a
            ``histogram`` only.
        fps: frames per second.

    Returns:
        The path written.
    """
    path = check_movie_path(out)
    if style not in STYLES:
        raise InputError(f"unknown style {style!r}; pass one of {', '.join(STYLES)}")
    if not (np.isfinite(fps) and fps > 0):
        raise InputError(f"fps = {fps} is not a positive number; pass e.g. --fps 10")
    particles = "event_t" in run
    t, k_run, k_pde = _frames(run, pair)
    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    ax = fig.subplots()
    pde = pair.pde if pair is not None else None if particles else run
    updates: list[Callable[[int], Artist]] = []
    peak = 0.0
    lo, hi = np.inf, -np.inf
    if pde is not None:
        edges = pde["x_edge"].values
        lo, hi = min(lo, edges[0]), max(hi, edges[-1])
        k_cont = np.arange(pde.sizes["t"]) if k_pde is None else k_pde
        for sp in SPECIES:
            averages = pde[sp].values[k_cont]
            label = f"{SPECIES_LABELS[sp]} {pde.attrs['scheme']}"
            steps = ax.stairs(averages[0], edges, color=SPECIES_COLOURS[sp], lw=1.6, alpha=0.45 if particles else 1.0, label=label)
            updates.append(_stairs_update(steps, averages))
            peak = max(peak, float(averages.max()))
    if particles:
        N = max(run.sizes["i"], run.sizes["j"])
        lo, hi = min(lo, float(run["x"].min()), float(run["y"].min())), max(hi, float(run["x"].max()), float(run["y"].max()))
        bins = np.linspace(lo, hi if hi > lo else lo + 1.0, histogram_bins(N) + 1)
        for sp in SPECIES:
            position, mass = (run[name].values for name in POSITIONS[sp])
            density = np.stack([particle_histogram(position[k], mass, bins) for k in k_run])
            peak = max(peak, float(density.max()))
            label = f"{SPECIES_LABELS[sp]} particles, histogram of {bins.size - 1} bins"
            steps = ax.stairs(density[0], bins, color=SPECIES_COLOURS[sp], lw=1.0 if style == "histogram" else 0.6, label=label)
            updates.append(_stairs_update(steps, density))
            if style == "ticks":
                ticks = ax.vlines(position[k_run[0]], 0.0, TICK, transform=ax.get_xaxis_transform(), color=SPECIES_COLOURS[sp], lw=0.6)
                updates.append(_ticks_update(ticks, position[k_run]))
    ax.set_xlim(lo, hi if hi > lo else lo + 1.0)
    ax.set_ylim(0.0, 1.08 * peak if peak > 0 else 1.0)
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    legend_below(fig, [ax], ncols=2)
    title = ax.set_title("", fontsize=9)
    a = run.attrs
    if particles:
        what = (
            f"N = {a['N_x']}"
            + ("" if a["N_x"] == a["N_y"] else f" and {a['N_y']}")
            + ("" if pde is None else f" over {pde.attrs['scheme']}")
        )
    else:
        what = f"{a['scheme']}, {a['cells']} cells"

    def draw(frame: int) -> list[Artist]:
        title.set_text(f"{a['case']}: {what}, t = {t[frame]:.3f}")
        return [update(frame) for update in updates] + [title]

    animation = FuncAnimation(fig, draw, frames=t.size, blit=False)
    writer = PillowWriter(fps=fps) if path.suffix.lower() == ".gif" else FFMpegWriter(fps=fps)
    with atomic_path(path) as tmp, tempfile.TemporaryDirectory(dir=tmp.parent, prefix=f".{path.name}.") as staging:
        staged = Path(staging) / f"movie{path.suffix.lower()}"  # the writers choose the format by the suffix
        animation.save(staged, writer=writer, dpi=DPI)
        os.replace(staged, tmp)
    return path
