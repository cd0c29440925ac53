"""Installs anywhere: the shipped cases are package data, so a regular install (a wheel) runs the
default job from any directory.

The fast test builds the packages as setuptools builds them into a wheel (``build_py``, which
copies the modules and the package data) from a copy of the project; the slow one builds the wheel
with pip, installs it into a fresh virtual environment and runs the commands there.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import time
import venv
import zipfile
from pathlib import Path

import pytest

from compare.runs.cases import list_cases

REPO = Path(__file__).resolve().parents[2]


def _project_copy(tmp_path: Path) -> Path:
    """The files a build reads, copied (so no build artefact lands in the work tree)."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, copy / name)
    for package in ("compare", "solvers"):
        shutil.copytree(REPO / package, copy / package, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _clean_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}


def test_the_build_ships_every_case_file(tmp_path: Path) -> None:
    pytest.importorskip("setuptools")
    project = _project_copy(tmp_path)
    build = tmp_path / "lib"
    result = subprocess.run(
        [sys.executable, "-c", "from setuptools import setup; setup()", "-q", "build_py", "--build-lib", str(build)],
        cwd=project,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    shipped = sorted(p.stem for p in (build / "compare" / "cases").glob("*.toml"))
    assert shipped == list_cases() and len(shipped) >= 8
    assert (build / "compare" / "cli.py").is_file() and (build / "solvers" / "particles" / "engine.py").is_file()


@pytest.mark.slow
def test_wheel_installs_in_a_fresh_venv_and_runs_the_default_job(tmp_path: Path) -> None:
    """pip wheel, a fresh venv (the heavy dependencies from this environment, no network), the wheel
    installed into it, and the commands run from a directory outside the repository."""
    project = _project_copy(tmp_path)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(project)],
        check=True,
        env=_clean_env(),
        timeout=600,
    )
    (wheel,) = wheels.glob("particle_limit-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert sorted(Path(n).stem for n in archive.namelist() if n.startswith("compare/cases/")) == list_cases()
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    # the heavy dependencies come from this environment's site-packages, added as plain paths (so its
    # editable install of this project, a .pth finder there, is not loaded: the wheel's copy is used)
    own = subprocess.run([str(python), "-c", "import site; print(site.getsitepackages()[0])"], capture_output=True, text=True, check=True)
    Path(own.stdout.strip(), "dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(python)] if _pip_has_python_option() else [str(python), "-m", "pip"]
    subprocess.run([*pip, "install", "--no-deps", "--ignore-installed", "-q", str(wheel)], check=True, env=_clean_env(), timeout=600)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def run(*args: str) -> str:
        result = subprocess.run(args, cwd=elsewhere, env=_clean_env(), capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, result.stderr
        return result.stdout

    where = run(str(python), "-c", "import compare, solvers; print(compare.__file__); print(solvers.__file__)")
    assert all(line.startswith(str(env_dir)) for line in where.split()), where
    assert "overlap  (T = 2, N = 400)" in run(str(python), "-m", "compare", "cases")
    assert run(str(env_dir / "bin" / "particle-limit"), "--version").startswith("particle-limit ")
    start = time.perf_counter()
    table = run(str(python), "-m", "compare")  # the default job, as README's first command runs it
    print(f"default job from the wheel: {time.perf_counter() - start:.1f} s (numba compiles on this first run)")
    assert table.splitlines()[0].split()[:2] == ["N", "sup"] and " order " in table
    assert [int(line.split()[0]) for line in table.splitlines()[1:6]] == [100, 200, 400, 800, 1600]
    assert {"study.nc", "summary.md", "convergence.png"} <= {p.name for p in (elsewhere / "results").iterdir()}


def _pip_has_python_option() -> bool:
    """pip >= 22.3 installs into another environment with ``--python``."""
    from importlib.metadata import version

    major, minor = (int(part) for part in version("pip").split(".")[:2])
    return (major, minor) >= (22, 3)
