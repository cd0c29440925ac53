"""``python -m compare plot``, ``animate`` and ``cases``: any file drawn in one command."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
import xarray as xr
from PIL import Image

from compare.animate import DPI, FIGSIZE
from compare.cli import main
from compare.look import against, kind_of
from compare.metrics import Empirical, Histogram
from compare.runs.cases import list_cases, load_case
from compare.runs.continuum_run import run_continuum
from compare.runs.io import write_dataset
from compare.runs.particle_run import run_particles
from solvers.errors import InputError

NT = 5


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, small_study: xr.Dataset) -> dict[str, Path]:
    """A particle run, a continuum run of the same case and times, and a study, as files."""
    directory = tmp_path_factory.mktemp("look")
    datasets = {
        "run": run_particles("overlap", N=20, T=0.5, nt=NT),
        "pde": run_continuum("overlap", cells=100, T=0.5, nt=NT),
        "other": run_continuum("separated", cells=100, T=0.5, nt=NT),
        "study": small_study,
    }
    return {name: write_dataset(ds, directory / f"{name}.nc") for name, ds in datasets.items()}


def _png_shape(path: Path) -> tuple[int, ...]:
    image = matplotlib.image.imread(path)
    assert np.ptp(image[..., :3]) > 0.5  # not a blank canvas
    return image.shape


@pytest.mark.parametrize("name", ["run", "pde"])
def test_plot_draws_a_run_next_to_it(files: dict[str, Path], name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plot", str(files[name])]) == 0
    png = files[name].with_suffix(".png")
    assert _png_shape(png)[0] > 400
    kind = "particles" if name == "run" else "continuum"
    assert capsys.readouterr().out == f"{kind} file {files[name]} drawn -> {png}\n"


def test_plot_against_overlays_and_chooses_times(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "new" / "against.png"
    assert main(["plot", str(files["run"]), "--against", str(files["pde"]), "--times", "0,0.2", "--out", str(out)]) == 0
    assert _png_shape(out)[1] > 800


def test_plot_of_a_study_writes_its_figures(files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "figures"
    assert main(["plot", str(files["study"]), "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert names == {"profiles.png", "convergence.png", "reconstruction.png", "energy.png", "lm_norms.png", "mixing.png", "final_time.png"}
    for name in names:
        assert _png_shape(out / name)[0] > 200
    assert capsys.readouterr().out.startswith(f"7 figures of {files['study']} in {out}/")


def test_against_measures_the_exact_w1(files: dict[str, Path]) -> None:
    """W1 of each species at the common times, checked against a brute-force integral of |F - G|."""
    run, pde = xr.open_dataset(files["run"]), xr.open_dataset(files["pde"])
    pair = against(run.load(), pde.load())
    np.testing.assert_array_equal(pair.t, run["t"].values)
    edges = pde["x_edge"].values
    grid = np.linspace(edges[0] - 0.1, edges[-1] + 0.1, 400_001)
    for s, (sp, pos, mass) in enumerate((("rho", "x", "m"), ("eta", "y", "n"))):
        for k in (0, NT):
            F = Empirical(run[pos].values[k], run[mass].values).cdf(grid)
            G = Histogram(edges, pde[sp].values[k] * np.diff(edges)).cdf(grid)
            brute = np.sum(np.abs(F - G)[:-1] * np.diff(grid))
            assert pair.w1[s, k] == pytest.approx(brute, abs=2e-5)
    assert kind_of(run) == "particles" and kind_of(pde) == "continuum"


def test_animate_writes_a_gif_of_one_frame_per_output_time(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "movies" / "movie.gif"
    assert main(["animate", str(files["run"]), "--against", str(files["pde"]), "--out", str(out)]) == 0
    with Image.open(out) as gif:
        assert gif.format == "GIF"
        assert gif.n_frames == NT + 1
        assert gif.size == (round(FIGSIZE[0] * DPI), round(FIGSIZE[1] * DPI))
        first = np.asarray(gif.convert("RGB"))
        gif.seek(NT)
        last = np.asarray(gif.convert("RGB"))
    assert np.any(first != last)  # the particles moved
    assert capsys.readouterr().out.endswith(f"{NT + 1} frames at 10 per second -> {out}\n")
    assert [p.name for p in out.parent.iterdir()] == ["movie.gif"]  # no temporary left


def test_animate_a_continuum_run_as_histogram_free_gif(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "pde.gif"
    assert main(["animate", str(files["pde"]), "--fps", "5", "--out", str(out)]) == 0
    with Image.open(out) as gif:
        assert gif.n_frames == NT + 1


def test_cases_lists_every_shipped_case(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cases"]) == 0
    out = capsys.readouterr().out
    for name in list_cases():
        case = load_case(name)
        assert f"\n{name}  (T = {case.T:g}, " in f"\n{out}"
        assert " ".join(case.description.split())[:60] in " ".join(out.split())


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["plot", "{run}", "--against", "{other}"], "is case 'overlap', {other} case 'separated'"),
        (["plot", "{pde}", "--against", "{pde}"], "--against overlays a particle run on a continuum run"),
        (["plot", "{run}", "--against", "{run}"], "is a particles file; pass a continuum file here"),
        (["plot", "{run}", "--times", "3"], "time 3 is outside [0, 0.5]"),
        (["plot", "{study}", "--times", "0.1"], "drop --times"),
        (["plot", "{run}", "--out", "fig.pdf"], "pass a file name ending in .png"),
        (["plot", "{study}", "--out", "figures.png"], "writes a directory of files"),
        (["plot", "nothing.nc"], "nothing.nc does not exist"),
        (["animate", "{study}", "--out", "m.gif"], "is a study file; pass a particles or continuum file here"),
        (["animate", "{run}", "--out", "m.avi"], "pass a file name ending in .gif or .mp4"),
        (["animate", "{pde}", "--style", "histogram", "--out", "m.gif"], "drop --style"),
        (["animate", "{run}", "--fps", "0", "--out", "m.gif"], "argument --fps: expected a positive finite number"),
    ],
)
def test_bad_look_input(
    argv: list[str],
    fragment: str,
    files: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    names = {name: str(path) for name, path in files.items()}
    try:
        code = main([part.format(**names) for part in argv])
    except SystemExit as exit_:
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert fragment.format(**names) in err, err
    assert list(tmp_path.iterdir()) == []


def test_mp4_needs_ffmpeg(files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib.animation import writers

    from compare.animate import check_movie_path

    monkeypatch.setattr(writers, "is_available", lambda name: False)
    with pytest.raises(InputError, match=r"needs ffmpeg, which is not installed; pass a \.gif file name"):
        check_movie_path(tmp_path / "m.mp4")
