"""Case files: loading, validation with one-line errors, initial particles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from compare.runs.cases import CASES_DIR, DEFAULT_N, Case, initial_particles, initial_state, list_cases, load_case
from solvers.errors import CaseError
from solvers.initial import atomise, atomise_grid

REQUIRED = {"overlap", "separated", "separated_bumps", "bumps_overlap", "stationary", "cluster"}


def test_shipped_cases_are_listed_and_load() -> None:
    names = list_cases()
    assert REQUIRED <= set(names)
    for name in names:
        case = load_case(name)
        assert isinstance(case, Case)
        assert case.name == name and case.T > 0 and case.N >= 1
        assert case.description
        assert case.source == (CASES_DIR / f"{name}.toml").read_text(encoding="utf-8")
        assert (case.particles is None) == (case.rho0 is not None) == (case.eta0 is not None)


def test_overlap_is_the_documented_default() -> None:
    case = load_case("overlap")
    assert case.N == DEFAULT_N and case.T == 2.0
    assert case.rho0 is not None and case.eta0 is not None
    assert case.rho0.support == (-1.0, 0.5) and case.eta0.support == (-0.5, 1.0)


@pytest.mark.parametrize("name", ["separated", "separated_bumps"])
def test_separated_cases_first_touch_at_the_stated_time(name: str) -> None:
    """Exact separated solution: X(1, t) = X0(1) + 2t and Y(0, t) = Y0(0) - 2t meet at t* = 0.25."""
    case = load_case(name)
    assert case.rho0 is not None and case.eta0 is not None
    gap = case.eta0.quantile(0.0) - case.rho0.quantile(1.0)
    t_contact = gap / 4.0
    assert t_contact == pytest.approx(0.25, abs=1e-15)
    assert "t* = 0.25" in case.description
    if name == "separated_bumps":
        assert case.T < t_contact


def test_stationary_case_has_equal_densities() -> None:
    case = load_case("stationary")
    x, y = initial_particles(case)
    np.testing.assert_array_equal(x, y)


def test_cluster_case_has_explicit_particles() -> None:
    case = load_case("cluster")
    assert case.particles is not None and case.N == 6
    x, y = initial_particles(case)
    assert np.count_nonzero(x == 0.0) == 3 and np.count_nonzero(y == 0.0) == 2
    x[0] = 99.0
    assert case.particles["x"][0] == -1.0
    with pytest.raises(CaseError, match="explicit particles"):
        initial_particles(case, N=10)


def test_initial_particles_atomise_the_densities() -> None:
    case = load_case("bumps_overlap")
    assert case.rho0 is not None and case.eta0 is not None
    x, y = initial_particles(case, 50, "mid")
    np.testing.assert_array_equal(x, atomise(case.rho0, 50, "mid"))
    np.testing.assert_array_equal(y, atomise(case.eta0, 50, "mid"))
    assert initial_particles(case)[0].size == case.N


def test_load_by_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('T = 0.5\nN = 10\n[rho0]\nkind = "uniform"\na = 0\nb = 1\n[eta0]\nkind = "bump"\ncenter = 2\nradius = 1\n')
    case = load_case(path)
    assert case.name == "mine" and case.N == 10 and case.T == 0.5
    assert load_case(str(path)).spec == case.spec


def _error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(CaseError) as info:
        load_case(path)
    message = str(info.value)
    assert "\n" not in message
    return message


RHO = '[rho0]\nkind = "uniform"\na = 0\nb = 1\n'
ETA = '[eta0]\nkind = "uniform"\na = 1\nb = 2\n'


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("T = \n", "not valid TOML"),
        ("T = 1\nTT = 2\n" + RHO + ETA, "did you mean 'T'"),
        (RHO + ETA, "missing final time"),
        ('T = "1"\n' + RHO + ETA, "T must be a positive finite number"),
        ("T = -1\n" + RHO + ETA, "T must be a positive finite number"),
        ("T = 1\nN = 0\n" + RHO + ETA, "N must be a positive integer"),
        ("T = 1\nN = 2.5\n" + RHO + ETA, "N must be a positive integer"),
        ("T = 1\n" + RHO, "missing [eta0]"),
        ("T = 1\n" + RHO + '[eta0]\nkind = "bump"\ncentre = 1\nradius = 1\n', "eta0: unknown key 'centre'"),
        ("T = 1\n" + RHO + '[eta0]\nkind = "uniform"\na = 2\nb = 1\n', "a < b"),
        ("T = 1\n[particles]\nx = [0, 1]\n", "has no 'y'"),
        ("T = 1\n[particles]\nx = [0, 1]\ny = [0]\nn = [0.5, 0.5]\n", "particles.n has 2 entries for 1 particle;"),
        ('T = 1\n[particles]\nx = [0, "a"]\ny = [0, 1]\n', "is not a finite number"),
        ("T = 1\n[particles]\nx = [0, nan]\ny = [0, 1]\n", "is not a finite number"),
        ("T = 1\n[particles]\nx = [0, 1]\ny = [0, 1]\nm = [0.5, -0.5]\n", "non-positive mass"),
        ("T = 1\n[particles]\nx = [0, 1]\ny = [0, 1]\nmass = [1, 1]\n", "unknown key 'mass'"),
        ("T = 1\nN = 3\n[particles]\nx = [0, 1]\ny = [0, 1]\n", "remove N"),
    ],
)
def test_bad_case_files_raise_one_line_case_errors(tmp_path: Path, text: str, fragment: str) -> None:
    assert fragment in _error(tmp_path, text)


def test_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(CaseError) as info:
        load_case("overlapp")
    message = str(info.value)
    assert "did you mean 'overlap'" in message and "separated_bumps" in message and "\n" not in message


def test_missing_file_is_a_case_error(tmp_path: Path) -> None:
    with pytest.raises(CaseError, match="does not exist"):
        load_case(tmp_path / "nothing.toml")


def test_mass_ratio_case_has_unequal_masses_and_counts() -> None:
    case = load_case("mass_ratio")
    assert (case.mass_rho, case.mass_eta, case.N, case.N_eta, case.atomisation) == (1.2, 0.8, 300, 200, "equal")
    assert not case.unit_equal_masses
    x, y, m, n = initial_state(case)
    assert case.rho0 is not None and case.eta0 is not None
    np.testing.assert_array_equal(x, atomise(case.rho0, 300))
    np.testing.assert_array_equal(y, atomise(case.eta0, 200))
    np.testing.assert_array_equal(m, np.full(300, 1.2 / 300))
    np.testing.assert_array_equal(n, np.full(200, 0.8 / 200))
    # an N override scales N_eta with it
    assert [a.size for a in initial_state(case, 30, "mid")] == [30, 20, 30, 20]
    with pytest.raises(CaseError, match=r"use compare\.runs\.cases\.initial_state"):
        initial_particles(case)


def test_grid_case_uses_atomise_grid() -> None:
    case = load_case("grid_bumps")
    assert case.atomisation == "grid" and case.rho0 is not None and case.eta0 is not None
    x, y, m, n = initial_state(case, 25)
    for pos, mass, density in ((x, m, case.rho0), (y, n, case.eta0)):
        expected = atomise_grid(density, 25)
        np.testing.assert_array_equal(pos, expected[0])
        np.testing.assert_array_equal(mass, expected[1])
    with pytest.raises(CaseError, match="unequal or non-unit"):
        initial_particles(case)


def test_paper_cases_keep_initial_particles() -> None:
    for name in ("overlap", "cluster"):
        case = load_case(name)
        assert case.unit_equal_masses and (case.mass_rho, case.mass_eta) == (1.0, 1.0)
        x, y, m, n = initial_state(case)
        np.testing.assert_array_equal(x, initial_particles(case)[0])
        np.testing.assert_array_equal(m, np.full(case.N, 1.0 / case.N))


def test_explicit_masses_are_returned_by_initial_state(tmp_path: Path) -> None:
    path = tmp_path / "weighted.toml"
    path.write_text("T = 1\n[particles]\nx = [0, 1]\ny = [0.5, 2]\nm = [0.25, 0.5]\n")
    case = load_case(path)
    x, y, m, n = initial_state(case)
    np.testing.assert_array_equal(m, [0.25, 0.5])
    np.testing.assert_array_equal(n, [0.5, 0.5])
    with pytest.raises(CaseError, match="initial_state"):
        initial_particles(case)


def test_study_and_sweep_refuse_unequal_masses() -> None:
    from compare.studies.validate import run_study

    with pytest.raises(CaseError, match="mass 1/N per species"):
        run_study("mass_ratio", Ns=[10, 20], nt=2, cells=16)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("T = 1\n" + RHO.replace("kind", "mass = -1.0\nkind") + ETA, "rho0.mass must be a positive finite number"),
        ("T = 1\n" + RHO + ETA.replace("kind", 'mass = "2"\nkind'), "eta0.mass must be a positive finite number"),
        ("T = 1\n" + RHO.replace("kind", "mass = inf\nkind") + ETA, "rho0.mass must be a positive finite number"),
        ("T = 1\n" + RHO.replace("kind", "mas = 2.0\nkind") + ETA, "did you mean 'mass'"),
        ('T = 1\natomisation = "grd"\n' + RHO + ETA, "did you mean 'grid'"),
        ("T = 1\nN_eta = 0\n" + RHO + ETA, "N_eta must be a positive integer"),
        ("T = 1\nN_et = 3\n" + RHO + ETA, "did you mean 'N_eta'"),
        ('T = 1\natomisation = "grid"\n[particles]\nx = [0, 1]\ny = [0, 1]\n', "remove atomisation"),
    ],
)
def test_bad_mass_keys_raise_one_line_case_errors(tmp_path: Path, text: str, fragment: str) -> None:
    assert fragment in _error(tmp_path, text)
