"""Named initial-value problems ("cases") read from TOML files in ``data/cases``.

A case file holds the final time ``T``, optionally ``N`` (particles per species, default 400) and a
``description``, and either the two initial densities as tables ``[rho0]`` and ``[eta0]`` (see
``solvers.initial.density_from_spec`` for the kinds) or explicit particles ``[particles]`` with
arrays ``x``, ``y`` of equal length and optional masses ``m``, ``n`` (then N is their length).
"""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from solvers.errors import CaseError, DensityError
from solvers.initial import Density, atomise, density_from_spec

__all__ = ["CASES_DIR", "DEFAULT_N", "Case", "list_cases", "load_case", "initial_particles"]

CASES_DIR = Path(__file__).resolve().parents[1] / "data" / "cases"
DEFAULT_N = 400

_TOP_KEYS = ("description", "T", "N", "rho0", "eta0", "particles")
_PARTICLE_KEYS = ("x", "y", "m", "n")


@dataclass(frozen=True, eq=False)
class Case:
    """A parsed, validated case: densities ``rho0``/``eta0`` or explicit ``particles``."""

    name: str
    T: float
    N: int
    rho0: Density | None
    eta0: Density | None
    particles: dict[str, np.ndarray] | None
    source: str
    spec: dict[str, Any]

    @property
    def description(self) -> str:
        return str(self.spec.get("description", ""))


def list_cases() -> list[str]:
    """Names of the case files shipped in ``data/cases``."""
    return sorted(p.stem for p in CASES_DIR.glob("*.toml"))


def _resolve(name_or_path: str | Path) -> Path:
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith(".toml") or "/" in text or "\\" in text:
        path = Path(text)
        if not path.is_file():
            raise CaseError(f"case file {text} does not exist; pass an existing .toml file or a case name ({', '.join(list_cases())})")
        return path
    path = CASES_DIR / f"{text}.toml"
    if not path.is_file():
        names = list_cases()
        close = difflib.get_close_matches(text, names, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise CaseError(f"unknown case {text!r}; {hint}available: {', '.join(names)}")
    return path


def _suggest(key: str, allowed: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"{hint}valid: {', '.join(allowed)}"


def _particle_array(value: Any, where: str) -> np.ndarray:
    if not isinstance(value, list) or not value:
        raise CaseError(f"{where} must be a non-empty array of numbers; pass e.g. {where.split('.')[-1]} = [0.0, 1.0]")
    for k, v in enumerate(value):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise CaseError(f"{where}[{k}] = {v!r} is not a finite number; pass finite numbers")
    return np.array(value, dtype=np.float64)


def _parse_particles(table: Any, label: str) -> dict[str, np.ndarray]:
    if not isinstance(table, dict):
        raise CaseError(f"{label}: 'particles' must be a table with arrays x and y; write [particles]")
    for key in table:
        if key not in _PARTICLE_KEYS:
            raise CaseError(f"{label}: unknown key {key!r} in [particles]; {_suggest(key, _PARTICLE_KEYS)}")
    for key in ("x", "y"):
        if key not in table:
            raise CaseError(f"{label}: [particles] has no '{key}'; add {key} = [...]")
    arrays = {key: _particle_array(value, f"particles.{key}") for key, value in table.items()}
    if arrays["x"].size != arrays["y"].size:
        raise CaseError(
            f"{label}: particles.x has {arrays['x'].size} entries but particles.y has {arrays['y'].size}; give both species the same number of particles"
        )
    for mass, pos in (("m", "x"), ("n", "y")):
        if mass in arrays:
            if arrays[mass].size != arrays[pos].size:
                raise CaseError(f"{label}: particles.{mass} has {arrays[mass].size} entries for {arrays[pos].size} particles; pass one mass per particle")
            if np.any(arrays[mass] <= 0):
                raise CaseError(f"{label}: particles.{mass} has a non-positive mass; pass positive masses")
    return arrays


def _parse(spec: dict[str, Any], name: str, source: str, label: str) -> Case:
    for key in spec:
        if key not in _TOP_KEYS:
            raise CaseError(f"{label}: unknown key {key!r}; {_suggest(key, _TOP_KEYS)}")
    if "T" not in spec:
        raise CaseError(f"{label}: missing final time; add T = <positive number>")
    T = spec["T"]
    if isinstance(T, bool) or not isinstance(T, (int, float)) or not (math.isfinite(T) and T > 0):
        raise CaseError(f"{label}: T must be a positive finite number, got {T!r}; set e.g. T = 1.0")
    if "description" in spec and not isinstance(spec["description"], str):
        raise CaseError(f"{label}: description must be a string; quote it")
    if "particles" in spec:
        extra = [key for key in ("rho0", "eta0", "N") if key in spec]
        if extra:
            raise CaseError(f"{label}: [particles] fixes the initial data and N; remove {', '.join(extra)}")
        particles = _parse_particles(spec["particles"], label)
        return Case(name, float(T), int(particles["x"].size), None, None, particles, source, spec)
    N = spec.get("N", DEFAULT_N)
    if isinstance(N, bool) or not isinstance(N, int) or N < 1:
        raise CaseError(f"{label}: N must be a positive integer, got {N!r}; set e.g. N = 400")
    densities: list[Density] = []
    for key in ("rho0", "eta0"):
        if key not in spec:
            raise CaseError(f"{label}: missing [{key}]; add a [{key}] table with a kind, or a [particles] table")
        try:
            densities.append(density_from_spec(spec[key], name=key))
        except DensityError as exc:
            raise CaseError(f"{label}: {exc}") from None
    return Case(name, float(T), N, densities[0], densities[1], None, source, spec)


def load_case(name_or_path: str | Path) -> Case:
    """Load and validate a case by name (``data/cases/<name>.toml``) or by path.

    Raises ``CaseError`` (one line) for an unknown name (listing the available ones and the closest),
    a missing or unreadable file, invalid TOML, unknown keys and wrong types or values.
    """
    path = _resolve(name_or_path)
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseError(f"cannot read case file {path}: {exc}; check the path and its permissions") from None
    try:
        spec = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        message = " ".join(str(exc).split())
        raise CaseError(f"case file {path} is not valid TOML: {message}; fix the syntax") from None
    return _parse(spec, path.stem, source, f"case {path.stem}")


def initial_particles(
    case: Case, N: int | None = None, placement: Literal["right", "mid"] = "right"
) -> tuple[np.ndarray, np.ndarray]:
    """Initial positions ``(x0, y0)``: atomisation of ``rho0``/``eta0`` with N particles each
    (``solvers.initial.atomise``), or copies of the case's explicit particles (whose N is fixed)."""
    if case.particles is not None:
        if N is not None and N != case.N:
            raise CaseError(f"case {case.name} has {case.N} explicit particles per species; drop the N override")
        return case.particles["x"].copy(), case.particles["y"].copy()
    assert case.rho0 is not None and case.eta0 is not None
    n_particles = case.N if N is None else N
    try:
        return atomise(case.rho0, n_particles, placement), atomise(case.eta0, n_particles, placement)
    except DensityError as exc:
        raise CaseError(f"case {case.name}: {exc}") from None
