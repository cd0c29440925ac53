"""Named initial-value problems ("cases"): the TOML files shipped as package data in
``compare/cases`` (``CASES_DIR``, read through ``importlib.resources``, so an installed wheel has
them), or any TOML file given by its path.

A case file holds the final time ``T``, optionally ``N`` (default 400) and a ``description``, and
either the two initial densities as tables ``[rho0]`` and ``[eta0]`` (see
``solvers.initial.density_from_spec`` for the kinds) or explicit particles ``[particles]`` with
arrays ``x`` and ``y`` (of any lengths N_x, N_y) and optional masses ``m``, ``n`` (one per particle;
default ``1/N_x`` and ``1/N_y``, unit total masses).

Density cases take three optional keys for unequal masses:

- ``mass`` inside ``[rho0]`` / ``[eta0]``: the total mass ``M_rho`` / ``M_eta`` of the species
  (positive, finite, default 1; the density's shape is normalised, ``mass`` scales it);
- ``atomisation = "equal"`` (default): ``N`` particles of mass ``M_rho / N`` for rho and ``N_eta``
  particles of mass ``M_eta / N_eta`` for eta, at the quantiles of ``solvers.initial.atomise``;
  ``atomisation = "grid"``: ``solvers.initial.atomise_grid`` with ``N`` (rho) and ``N_eta`` (eta) equal
  cells on each support, one particle per cell of positive mass at its centre, carrying that mass;
- ``N_eta``: particle (or cell) count of eta, default ``N``.

``initial_state`` gives positions and masses for every case; ``initial_particles`` gives the positions of
the paper's setting only (N particles of mass 1/N per species, ``Case.unit_equal_masses``) and refuses
other cases, since positions alone would silently drop their masses. A ``placement`` applies to
``atomisation = "equal"`` only: for explicit particles and grid atomisation it is refused, not ignored.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal

import numpy as np

from compare.text import plural
from solvers.checks import check_integer, check_number, is_number
from solvers.errors import CaseError, DensityError, suggest
from solvers.initial import KINDS, Density, atomise, atomise_grid, density_from_spec

__all__ = [
    "ATOMISATIONS",
    "CASES_DIR",
    "DEFAULT_N",
    "Case",
    "initial_particles",
    "initial_state",
    "list_cases",
    "load_case",
    "particle_counts",
]

CASES_DIR: Traversable = resources.files("compare") / "cases"
"""The shipped case files (package data of ``compare``)."""
DEFAULT_N = 400

_TOP_KEYS = ("description", "T", "N", "N_eta", "atomisation", "rho0", "eta0", "particles")
_PARTICLE_KEYS = ("x", "y", "m", "n")
ATOMISATIONS = ("equal", "grid")
Placement = Literal["right", "mid"]


@dataclass(frozen=True, eq=False)
class Case:
    """A parsed, validated case: densities ``rho0``/``eta0`` (unit-mass shapes, scaled by the total
    masses ``mass_rho``/``mass_eta``) or explicit ``particles``; ``N`` and ``N_eta`` are the particle
    (grid: cell) counts of rho and eta (``N_eta`` None: the same as ``N``)."""

    name: str
    T: float
    N: int
    rho0: Density | None
    eta0: Density | None
    particles: dict[str, np.ndarray] | None
    source: str
    spec: dict[str, Any]
    mass_rho: float = 1.0
    mass_eta: float = 1.0
    atomisation: str = "equal"
    N_eta: int | None = None

    @property
    def description(self) -> str:
        return str(self.spec.get("description", ""))

    @property
    def unit_equal_masses(self) -> bool:
        """True in the paper's setting: N particles of mass 1/N per species (unit total masses)."""
        if self.particles is not None:
            return "m" not in self.particles and "n" not in self.particles and self.N_eta is None
        same_N = self.N_eta is None or self.N_eta == self.N
        return self.atomisation == "equal" and same_N and self.mass_rho == 1.0 and self.mass_eta == 1.0


def list_cases() -> list[str]:
    """Names of the shipped case files (``CASES_DIR``)."""
    return sorted(p.name.removesuffix(".toml") for p in CASES_DIR.iterdir() if p.name.endswith(".toml"))


def _resolve(name_or_path: str | Path) -> Path | Traversable:
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith(".toml") or "/" in text or "\\" in text:
        path = Path(text)
        if not path.is_file():
            raise CaseError(f"case file {text} does not exist; pass an existing .toml file or a case name ({', '.join(list_cases())})")
        return path
    shipped = CASES_DIR / f"{text}.toml"
    if not shipped.is_file():
        raise CaseError(f"unknown case {text!r}; {suggest(text, list_cases())}")
    return shipped


def _particle_array(value: Any, where: str) -> np.ndarray:
    if not isinstance(value, list) or not value:
        raise CaseError(f"{where} must be a non-empty array of numbers; pass e.g. {where.split('.')[-1]} = [0.0, 1.0]")
    for k, v in enumerate(value):
        if not is_number(v) or not math.isfinite(v):
            raise CaseError(f"{where}[{k}] = {v!r} is not a finite number; pass finite numbers")
    return np.array(value, dtype=np.float64)


def _parse_particles(table: Any, label: str) -> dict[str, np.ndarray]:
    if not isinstance(table, dict):
        raise CaseError(f"{label}: 'particles' must be a table with arrays x and y; write [particles]")
    for key in table:
        if key not in _PARTICLE_KEYS:
            raise CaseError(f"{label}: unknown key {key!r} in [particles]; {suggest(key, _PARTICLE_KEYS)}")
    for key in ("x", "y"):
        if key not in table:
            raise CaseError(f"{label}: [particles] has no '{key}'; add {key} = [...]")
    arrays = {key: _particle_array(value, f"particles.{key}") for key, value in table.items()}
    for key in ("x", "y"):
        down = np.flatnonzero(np.diff(arrays[key]) < 0)
        if down.size:
            k = down[0]
            raise CaseError(
                f"{label}: particles.{key} is not sorted: {key}[{k}] = {arrays[key][k]:g} > {key}[{k + 1}] = "
                f"{arrays[key][k + 1]:g}; list positions left to right"
            )
    for mass, pos in (("m", "x"), ("n", "y")):
        if mass in arrays:
            if arrays[mass].size != arrays[pos].size:
                raise CaseError(
                    f"{label}: particles.{mass} has {plural(arrays[mass].size, 'entry', 'entries')} for "
                    f"{plural(arrays[pos].size, 'particle')}; pass one mass per particle"
                )
            if np.any(arrays[mass] <= 0):
                raise CaseError(f"{label}: particles.{mass} has a non-positive mass; pass positive masses")
    return arrays


def _count(spec: dict[str, Any], key: str, default: int, label: str) -> int:
    return check_integer(spec.get(key, default), f"{label}: {key}", CaseError, f"set e.g. {key} = 400")


def _density(table: Any, key: str, label: str) -> tuple[Density, float]:
    """The unit-mass density of a ``[rho0]``/``[eta0]`` table and its optional total ``mass`` (default 1)."""
    if not isinstance(table, dict):
        raise CaseError(f"{label}: {key} must be a table with a kind; write [{key}]")
    kind = table.get("kind")
    if isinstance(kind, str) and kind in KINDS:
        allowed = (*KINDS[kind], "mass")
        for entry in table:
            if entry != "kind" and entry not in allowed:
                raise CaseError(f"{label}: {key}: unknown key {entry!r} for kind '{kind}'; {suggest(entry, allowed)}")
    mass = check_number(table.get("mass", 1.0), f"{label}: {key}.mass", CaseError, "set e.g. mass = 1.0", positive=True)
    try:
        density = density_from_spec({k: v for k, v in table.items() if k != "mass"}, name=key)
    except DensityError as exc:
        raise CaseError(f"{label}: {exc}") from None
    return density, float(mass)


def parse_case(spec: dict[str, Any], name: str, source: str, label: str) -> Case:
    for key in spec:
        if key not in _TOP_KEYS:
            raise CaseError(f"{label}: unknown key {key!r}; {suggest(key, _TOP_KEYS)}")
    if "T" not in spec:
        raise CaseError(f"{label}: missing final time; add T = <positive number>")
    T = check_number(spec["T"], f"{label}: T", CaseError, "set e.g. T = 1.0", positive=True)
    if "description" in spec and not isinstance(spec["description"], str):
        raise CaseError(f"{label}: description must be a string; quote it")
    if "particles" in spec:
        extra = [key for key in ("rho0", "eta0", "N", "N_eta", "atomisation") if key in spec]
        if extra:
            raise CaseError(f"{label}: [particles] fixes the initial data and N; remove {', '.join(extra)}")
        particles = _parse_particles(spec["particles"], label)
        N_x, N_y = particles["x"].size, particles["y"].size
        return Case(name, float(T), N_x, None, None, particles, source, spec, N_eta=None if N_y == N_x else N_y)
    N = _count(spec, "N", DEFAULT_N, label)
    N_eta = _count(spec, "N_eta", N, label)
    atomisation = spec.get("atomisation", "equal")
    if atomisation not in ATOMISATIONS:
        raise CaseError(f"{label}: unknown atomisation {atomisation!r}; {suggest(str(atomisation), ATOMISATIONS)}")
    for key in ("rho0", "eta0"):
        if key not in spec:
            raise CaseError(f"{label}: missing [{key}]; add a [{key}] table with a kind, or a [particles] table")
    (rho0, mass_rho), (eta0, mass_eta) = (_density(spec[key], key, label) for key in ("rho0", "eta0"))
    return Case(name, float(T), N, rho0, eta0, None, source, spec, mass_rho, mass_eta, str(atomisation), N_eta)


def load_case(name_or_path: str | Path) -> Case:
    """Load and validate a case by name (a shipped file ``CASES_DIR/<name>.toml``) or by path.

    Raises ``CaseError`` (one line) for an unknown name (listing the available ones and the closest),
    a missing or unreadable file, invalid TOML, unknown keys and wrong types or values.
    """
    path = _resolve(name_or_path)
    name = Path(path.name).stem
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseError(f"cannot read case file {path}: {exc}; check the path and its permissions") from None
    try:
        spec = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        message = " ".join(str(exc).split())
        raise CaseError(f"case file {path} is not valid TOML: {message}; fix the syntax") from None
    return parse_case(spec, name, source, f"case {name}")


def initial_particles(case: Case, N: int | None = None, placement: Placement | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Initial positions ``(x0, y0)`` of a case in the paper's setting (``Case.unit_equal_masses``):
    atomisation of ``rho0``/``eta0`` with N particles each (``solvers.initial.atomise``), or copies of
    the case's explicit particles (whose N is fixed). ``CaseError`` for other cases: use ``initial_state``."""
    if not case.unit_equal_masses:
        raise CaseError(
            f"case {case.name} has unequal or non-unit particle masses; use compare.runs.cases.initial_state, which returns the masses"
        )
    x0, y0, _, _ = initial_state(case, N, placement)
    return x0, y0


def particle_counts(case: Case, N: int | None = None) -> tuple[int, int]:
    """Particle (cell) counts of rho and eta; an override N replaces the case's N and scales N_eta with it."""
    N_eta = case.N if case.N_eta is None else case.N_eta
    if N is None:
        return case.N, N_eta
    N = check_integer(N, f"case {case.name}: N", CaseError, "pass N >= 1")
    return N, max(1, round(N * N_eta / case.N))


def initial_state(
    case: Case, N: int | None = None, placement: Placement | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Initial positions and masses ``(x0, y0, m, n)`` of any case (see the module docstring).

    ``N`` overrides the rho count; the eta count keeps the case's ratio ``N_eta / N`` (rounded, >= 1).
    ``placement`` (default ``"right"``, the paper's (65)) applies to ``atomisation = "equal"`` only;
    grid particles sit at the cell centres and explicit particles where the case puts them, so there
    a placement is refused (``CaseError``). Explicit particles keep their masses (default ``1/N_x`` and
    ``1/N_y``) and refuse an N override.
    """
    if case.particles is not None:
        counts = "per species" if case.N_eta is None else f"of rho and {case.N_eta} of eta"
        if N is not None and N != case.N:
            raise CaseError(f"case {case.name} has {case.N} explicit particles {counts}; drop the N override")
        if placement is not None:
            raise CaseError(f"case {case.name} gives explicit particles, so a placement does not apply; drop the placement")
        x0, y0 = case.particles["x"].copy(), case.particles["y"].copy()
        m = case.particles["m"].copy() if "m" in case.particles else np.full(x0.size, 1.0 / x0.size)
        n = case.particles["n"].copy() if "n" in case.particles else np.full(y0.size, 1.0 / y0.size)
        return x0, y0, m, n
    assert case.rho0 is not None and case.eta0 is not None
    N_x, N_y = particle_counts(case, N)
    try:
        if case.atomisation == "grid":
            if placement is not None:
                raise CaseError(
                    f'case {case.name} has atomisation = "grid" (one particle at each cell centre), so a placement does not apply; drop the placement'
                )
            (x0, m), (y0, n) = atomise_grid(case.rho0, N_x, case.mass_rho), atomise_grid(case.eta0, N_y, case.mass_eta)
            return x0, y0, m, n
        placement = "right" if placement is None else placement
        x0, y0 = atomise(case.rho0, N_x, placement), atomise(case.eta0, N_y, placement)
    except DensityError as exc:
        raise CaseError(f"case {case.name}: {exc}") from None
    return x0, y0, np.full(N_x, case.mass_rho / N_x), np.full(N_y, case.mass_eta / N_y)
