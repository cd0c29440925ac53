"""Figures: every PNG is written and readable, the event markers sit where the particles meet, and
no figure misleads (legends off the data, no clipped markers, a tight y-range with an N^-1 guide,
which N is shown, no empty log plot)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from compare.plots import (
    STUDY_FIGURES,
    NothingToDraw,
    _event_kinds,
    _event_positions,
    convergence_figure,
    log_if_positive,
    make_figures,
    profile_times,
    trajectories_figure,
)
from compare.run_plots import continuum_run_figure, particle_run_figure
from compare.runs.continuum_run import run_continuum
from compare.runs.particle_run import run_particles
from compare.studies.validate import run_study


@pytest.fixture(scope="module")
def study(small_study: xr.Dataset) -> xr.Dataset:
    return small_study


@pytest.fixture(scope="module")
def stationary() -> xr.Dataset:
    return run_study("stationary", Ns=[10, 20, 40], T=0.5, nt=2, cells=100)


@pytest.fixture(scope="module")
def run() -> xr.Dataset:
    return run_particles("overlap", N=8, T=1.0, nt=200)


def test_empty_log_plots_are_not_written(stationary: xr.Dataset, tmp_path: Path) -> None:
    """rho = eta: energy, dissipation and W1(rho, eta) are 0 at every time, t_final = 0; the other
    figures are written as readable PNGs (those of ``overlap``: test_cli_look; trajectories.png:
    the README example's validate)."""
    assert float(np.abs(stationary["energy"]).max()) == 0.0 and float(stationary["mixing_w1"].max()) == 0.0
    figures, skipped = make_figures(stationary, None, tmp_path)
    assert set(skipped) == {"energy", "mixing", "final_time"}
    assert set(figures) == {"profiles", "convergence", "reconstruction", "lm_norms"}
    assert "0 at every output time" in skipped["energy"]
    assert {p.name for p in tmp_path.iterdir()} == {f"{name}.png" for name in figures}
    for path in figures.values():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        image = matplotlib.image.imread(path)
        assert image.shape[0] > 200 and image.shape[1] > 300 and np.ptp(image[..., :3]) > 0.5
    with pytest.raises(NothingToDraw):
        STUDY_FIGURES["energy"](stationary)


@pytest.fixture(scope="module")
def figures(study: xr.Dataset, run: xr.Dataset) -> dict[str, Figure]:
    """Every kind of figure, drawn (so legends and axes have their final places)."""
    from compare.look import against

    # one of each layout: a row of panels, one axes, a row of time series, two rows (runs)
    built = {name: STUDY_FIGURES[name](study) for name in ("profiles", "convergence", "lm_norms")}
    built["trajectories"] = trajectories_figure(run, "note")
    small = run_particles("overlap", N=8, T=1.0, nt=10)
    pde = run_continuum("overlap", cells=100, T=1.0, nt=10)
    built["particle run"] = particle_run_figure(small, [0.0, 0.5], against(small, pde))
    built["continuum run"] = continuum_run_figure(pde)
    for fig in built.values():
        fig.set_dpi(40)  # the layout does not depend on the resolution; drawing is faster
        FigureCanvasAgg(fig).draw()
    return built


def test_legends_do_not_cover_data_and_markers_are_not_clipped(figures: dict[str, Figure]) -> None:
    for name, fig in figures.items():
        axes = fig.get_axes()
        legends = list(fig.legends) + [ax.get_legend() for ax in axes if ax.get_legend() is not None]
        assert legends, name
        for legend in legends:
            box = legend.get_window_extent()
            for ax in axes:
                assert not box.overlaps(ax.get_window_extent()), (name, ax.get_title())
        for ax in axes:
            lo, hi = sorted(ax.get_ylim())
            for collection in ax.collections:
                offsets = np.asarray(collection.get_offsets())
                if offsets.size and collection.get_transform() == ax.transData:
                    y = offsets[:, 1]
                    assert np.all((y > lo) & (y < hi)), (name, "marker on the edge of the axes")


def test_convergence_figure_has_an_N_inverse_guide_and_a_tight_range(study: xr.Dataset) -> None:
    fig = convergence_figure(study)
    (ax,) = fig.get_axes()
    guide = [line for line in ax.get_lines() if "N^{-1}" in str(line.get_label())]
    assert len(guide) == 1
    x, y = (np.asarray(v, dtype=float) for v in guide[0].get_data())
    np.testing.assert_allclose(np.diff(np.log(y)) / np.diff(np.log(x)), -1.0, rtol=1e-12)
    drawn = np.concatenate([np.asarray(line.get_ydata(), dtype=float) for line in ax.get_lines()])
    drawn = drawn[np.isfinite(drawn) & (drawn > 0)]
    errors = study["sup_err"].sel(metric=["w1_emp", "w2_emp", "w1_rec", "l1_rec", "weak_residual"]).values
    assert drawn.min() <= errors.min() and drawn.max() >= errors.max()
    lo, hi = ax.get_ylim()
    assert np.log10(drawn.max() / drawn.min()) / np.log10(hi / lo) > 0.75  # what is drawn fills the plot


def test_orders_at_round_off_are_not_printed(stationary: xr.Dataset) -> None:
    fig = convergence_figure(stationary)
    labels = [text.get_text() for legend in fig.legends for text in legend.get_texts()]
    residual = next(label for label in labels if label.startswith("weak-form consistency residual"))
    assert "round-off" in residual and "not drawn" in residual and "slope" not in residual
    assert float(stationary["sup_err"].sel(metric="weak_residual").max()) < 1e-15


def test_trajectories_and_profiles_say_which_N(figures: dict[str, Figure]) -> None:
    assert "N = 8\n(note)" in figures["trajectories"].get_suptitle()
    assert "N = 10 (of the study's N = 10, 20, 40)" in figures["profiles"].get_suptitle()
    big = run_particles("overlap", N=200, T=0.2, nt=4)
    assert "every 3rd particle drawn" in trajectories_figure(big).get_suptitle()


def test_event_markers_are_the_meeting_points(run: xr.Dataset) -> None:
    # between output times both paths are straight, so the x-path and the y-path give the same point
    # wherever no other event of the pair falls between the bracketing output times
    event_t = run["event_t"].values
    assert event_t.size > 0
    from_x = _event_positions(run, event_t)
    swapped = run.rename({"x": "x_tmp", "y": "x", "event_i": "i_tmp", "event_j": "event_i"}).rename({"x_tmp": "y", "i_tmp": "event_j"})
    from_y = _event_positions(swapped, event_t)
    np.testing.assert_allclose(from_x, from_y, atol=2e-3)
    assert np.median(np.abs(from_x - from_y)) < 1e-12


def test_event_kinds_decode_flags_and_strings(run: xr.Dataset) -> None:
    kinds = _event_kinds(run)
    assert set(kinds) <= {"cross", "stick"}
    np.testing.assert_array_equal(kinds == "stick", run["event_kind"].values == 1)
    as_strings = run.assign(event_kind=("event", kinds))
    np.testing.assert_array_equal(_event_kinds(as_strings), kinds)


def test_profile_times_include_both_ends() -> None:
    t = np.linspace(0.0, 2.0, 41)
    k = profile_times(t, 4)
    assert k[0] == 0 and k[-1] == 40 and k.size == 4
    assert profile_times(t[:3], 4).tolist() == [0, 1, 2]


@pytest.mark.parametrize(("values", "scale"), [([1.0, 2.0], "log"), ([1.0, 0.0], "linear"), ([0.3, -0.1], "linear")])
def test_log_axes_only_for_positive_data(values: list[float], scale: str) -> None:
    """A final state (E = 0) or the negative energy of unequal masses would vanish from a log axis."""
    ax = Figure().subplots()
    log_if_positive(ax, np.asarray(values))
    assert ax.get_yscale() == scale
