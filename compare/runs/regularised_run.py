"""Particle run with the regularised kernel of Remark 5.1 as a Dataset in the schema of an exact run.

The schema is ``compare.runs.particle_run``'s (``x, y, vx, vy, m, n, energy, dissipation`` and an
empty event log: the regularised motion has no events), so every reader of particle runs (figures,
``plot``, ``animate``, studies) takes it. What differs: ``energy`` is the regularised energy
``E_delta`` (``solvers.particles.regularised``), the one that the regularised flow dissipates
(``dE_delta/dt = -dissipation``), and the attributes say ``kernel = "regularised"`` with ``delta``,
the integrator's tolerance ``tol``, its accepted and rejected ``steps`` and its ``error_estimate``
(largest estimated position error at the output times). Exact runs say ``kernel = "exact"``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import xarray as xr

from compare.runs.cases import Case, initial_state, load_case
from compare.runs.io import provenance_attrs
from compare.runs.particle_run import EVENT_VARIABLES, UNIT, particle_coords
from compare.runs.times import output_times
from solvers.checks import check_number
from solvers.errors import InputError
from solvers.particles.energy import dissipation
from solvers.particles.regularised import RegularisedRun, regularised_energy, simulate_regularised

__all__ = ["SOLVER_REGULARISED", "run_regularised", "summary_line"]

SOLVER_REGULARISED = "solvers.particles.regularised.simulate_regularised (kernel |x| smoothed on [-delta, delta], Remark 5.1)"


def run_regularised(
    case: Case | str | Path,
    *,
    delta: float,
    N: int | None = None,
    T: float | None = None,
    nt: int = 40,
    placement: Literal["right", "mid"] | None = None,
    tol: float = 1e-7,
) -> xr.Dataset:
    """The regularised particle system of a case (initial data as for an exact run,
    ``compare.runs.cases.initial_state``) up to ``T`` at the ``nt + 1`` output times ``k T / nt``.

    Args:
        case: a ``Case``, a shipped case's name or a TOML path.
        delta: the smoothing width (> 0).
        N, T, nt, placement: as for ``compare.runs.particle_run.run_particles``.
        tol: the integrator's target for the absolute position error.

    Returns:
        The Dataset (module docstring); ``wall_time_s`` covers the whole call.
    """
    start = time.perf_counter()
    case = case if isinstance(case, Case) else load_case(case)
    delta = check_number(delta, "delta", InputError, "pass a smoothing width such as --delta 0.01", positive=True, what="width")
    T = case.T if T is None else T
    t_out = output_times(T, nt)
    x0, y0, m, n = initial_state(case, N, placement)
    run = simulate_regularised(x0, y0, t_out, delta, m=m, n=n, tol=tol)
    placement_used = "explicit" if case.particles is not None else "grid" if case.atomisation == "grid" else placement or "right"
    config = {
        "case": case.name,
        "N": run.N_x,
        "T": float(T),
        "nt": int(nt),
        "placement": placement_used,
        "delta": run.delta,
        "tol": run.tol,
    }
    if run.N_y != run.N_x:
        config["N_y"] = run.N_y
    data_vars = _state_vars(run) | {name: (("event",), np.empty(0, dtype), attrs) for name, (dtype, attrs) in EVENT_VARIABLES.items()}
    attrs = _attrs(case, run, float(T), nt, placement_used, config)
    attrs["wall_time_s"] = time.perf_counter() - start
    return xr.Dataset(data_vars=data_vars, coords=particle_coords(run.t, run.N_x, run.N_y), attrs=attrs)


def _state_vars(run: RegularisedRun) -> dict:
    energy = regularised_energy(run.x, run.y, run.m, run.n, run.delta)  # one per output time
    return {
        "x": (("t", "i"), run.x, {**UNIT, "long_name": "position of the rho-particle x_i"}),
        "y": (("t", "j"), run.y, {**UNIT, "long_name": "position of the eta-particle y_j"}),
        "vx": (("t", "i"), run.vx, {**UNIT, "long_name": "velocity of x_i"}),
        "vy": (("t", "j"), run.vy, {**UNIT, "long_name": "velocity of y_j"}),
        "m": (("i",), run.m, {**UNIT, "long_name": "mass of x_i"}),
        "n": (("j",), run.n, {**UNIT, "long_name": "mass of y_j"}),
        "energy": (("t",), energy, {**UNIT, "long_name": "regularised interaction energy E_delta[Z] (kernel |x|_delta)"}),
        "dissipation": (
            ("t",),
            dissipation(run.vx, run.vy, run.m, run.n),
            {**UNIT, "long_name": "dissipation rate sum m_i x_i'^2 + sum n_j y_j'^2 = -dE_delta/dt"},
        ),
    }


def _attrs(case: Case, run: RegularisedRun, T: float, nt: int, placement: str, config: dict) -> dict:
    return {
        "title": f"regularised particle run of case {case.name}",
        "Conventions": "CF-1.10",
        "case": case.name,
        "description": case.description,
        "N": run.N_x,
        "N_x": run.N_x,
        "N_y": run.N_y,
        "T": T,
        "nt": int(nt),
        "placement": placement,
        "solver": SOLVER_REGULARISED,
        "kernel": "regularised",
        "delta": run.delta,
        "tol": run.tol,
        "steps": int(run.steps),
        "rejected_steps": int(run.rejected),
        "error_estimate": float(run.error_estimate),
        "n_events": 0,
        "n_cross": 0,
        "n_stick": 0,
        "n_merge": 0,
        "t_last_event": 0.0,
        "case_source": case.source,
        "config": json.dumps(config, sort_keys=True),
        **provenance_attrs(),
    }


def summary_line(a: Mapping[str, Any], wall_time: float, out: str | Path) -> str:
    """From a run's attributes ``a``: ``overlap N=400 delta=0.01: 812 steps (3 rejected), estimated
    position error 2.1e-08, to T=2 in 0.50 s -> run.nc``."""
    count = f"{a['N_x']}" if a["N_x"] == a["N_y"] else f"{a['N_x']}/{a['N_y']}"
    return (
        f"{a['case']} N={count} delta={a['delta']:.4g}: {a['steps']} steps ({a['rejected_steps']} rejected), "
        f"estimated position error {a['error_estimate']:.2g}, to T={a['T']:g} in {wall_time:.2f} s -> {out}"
    )
