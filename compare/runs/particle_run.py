"""Exact particle run of a case as a self-describing xarray Dataset.

Schema (all quantities are non-dimensional, CF ``units = "1"``):

- coordinates ``t`` (output times k T / nt, k = 0..nt), ``i`` = 1..N_x (x-particles, left to right),
  ``j`` = 1..N_y (y-particles);
- ``x(t, i)``, ``y(t, j)`` positions; ``vx(t, i)``, ``vy(t, j)`` right derivatives (velocities);
  ``m(i)``, ``n(j)`` masses (``compare.runs.cases.initial_state``); ``discrete_energy(t)`` = E[Z] with these masses;
  ``dissipation(t)`` = sum m x'^2 + sum n y'^2;
- event log on dimension ``event``: ``event_t``, ``event_kind`` (int8, CF flags 0 = cross,
  1 = stick, 2 = merge: any other rearrangement of a cluster, general engine only), ``event_i``,
  ``event_j`` (1-based smallest indices of the x- and y-particles of the event);
- flat attributes: case, description, N (= N_x), N_x, N_y, T, nt, placement (``explicit`` for given
  particles, ``grid`` for grid atomisation), solver (which engine ran: ``SOLVER_RANK`` for N particles
  of mass 1/N per species, else ``SOLVER_GENERAL``), n_events, n_cross, n_stick, n_merge,
  t_last_event, wall_time_s, case_source (the TOML text), config (JSON of the run parameters) and
  ``compare.runs.io.provenance_attrs()``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Literal

import numpy as np
import xarray as xr

from compare.runs.cases import Case, initial_state, load_case
from compare.runs.io import provenance_attrs
from compare.runs.times import output_times
from compare.text import plural
from solvers.particles.energy import discrete_energy, dissipation
from solvers.particles.engine import equal_masses, simulate

__all__ = ["SOLVER_GENERAL", "SOLVER_RANK", "run_particles", "summary_line"]

SOLVER_RANK = "solvers.particles.engine.simulate (exact event-driven, equal masses: rank engine)"
SOLVER_GENERAL = "solvers.particles.engine.simulate (exact event-driven, general masses: block engine)"


def run_particles(
    case: Case | str | Path,
    *,
    N: int | None = None,
    T: float | None = None,
    nt: int = 40,
    placement: Literal["right", "mid"] | None = None,
    run_to_final: bool = False,
    record_events: bool = True,
) -> xr.Dataset:
    """Run the exact particle solver on a case (``Case``, name or TOML path) up to time ``T``
    (default: the case's) with N rho-particles (default: the case's; ``compare.runs.cases.initial_state``
    scales the eta count with it), output at the ``nt + 1`` times ``k T / nt``; return the Dataset
    described in the module docstring. ``run_to_final``: go on past T to the last event (its time is
    ``t_last_event``); ``record_events=False``: no event log (the ``event`` dimension is empty).
    ``placement`` (default ``right``) applies to atomised densities only (see ``initial_state``).
    ``wall_time_s`` is the time of the whole call: initial state, engine, energies."""
    start = time.perf_counter()
    case = case if isinstance(case, Case) else load_case(case)
    T = case.T if T is None else T
    t_out = output_times(T, nt)
    x0, y0, m, n = initial_state(case, N, placement)
    rank_engine = equal_masses(m, n)

    run = simulate(x0, y0, t_out, m=m, n=n, record_events=record_events, run_to_final=run_to_final)

    placement_used = "explicit" if case.particles is not None else "grid" if case.atomisation == "grid" else placement or "right"
    config = {
        "case": case.name,
        "N": run.N,
        "T": float(T),
        "nt": int(nt),
        "placement": placement_used,
    }
    config |= {"run_to_final": True} if run_to_final else {}
    config |= {} if record_events else {"record_events": False}
    if run.N_y != run.N_x:
        config["N_y"] = run.N_y
    # equal masses 1/N: the default weights make the energy's prefix sums exact integers
    energy_masses = () if rank_engine else (run.m, run.n)
    energy = discrete_energy(run.x, run.y, *energy_masses)
    rate = dissipation(run.vx, run.vy, run.m, run.n)
    wall_time = time.perf_counter() - start
    unit = {"units": "1"}
    ds = xr.Dataset(
        data_vars={
            "x": (("t", "i"), run.x, {**unit, "long_name": "position of the rho-particle x_i"}),
            "y": (("t", "j"), run.y, {**unit, "long_name": "position of the eta-particle y_j"}),
            "vx": (("t", "i"), run.vx, {**unit, "long_name": "velocity (right derivative) of x_i"}),
            "vy": (("t", "j"), run.vy, {**unit, "long_name": "velocity (right derivative) of y_j"}),
            "m": (("i",), run.m, {**unit, "long_name": "mass of x_i"}),
            "n": (("j",), run.n, {**unit, "long_name": "mass of y_j"}),
            "energy": (
                ("t",),
                energy,
                {**unit, "long_name": "interaction energy E[Z] = integral of (F_x - F_y) (F_x - F_y - (M_x - M_y))"},
            ),
            "dissipation": (
                ("t",),
                rate,
                {**unit, "long_name": "dissipation rate sum m_i x_i'^2 + sum n_j y_j'^2 = -dE/dt"},
            ),
            "event_t": (("event",), run.event_t, {**unit, "long_name": "time of the event"}),
            "event_kind": (
                ("event",),
                run.event_kind.astype(np.int8),
                {
                    **unit,
                    "long_name": "kind of the event",
                    "flag_values": np.array([0, 1, 2], dtype=np.int8),
                    "flag_meanings": "cross stick merge",
                },
            ),
            "event_i": (("event",), run.event_i, {**unit, "long_name": "index i of the x-particle of the event"}),
            "event_j": (("event",), run.event_j, {**unit, "long_name": "index j of the y-particle of the event"}),
        },
        coords={
            "t": ("t", run.t, {**unit, "long_name": "time"}),
            "i": ("i", np.arange(1, run.N + 1), {**unit, "long_name": "index of the rho-particle (left to right)"}),
            "j": ("j", np.arange(1, run.N_y + 1), {**unit, "long_name": "index of the eta-particle (left to right)"}),
        },
        attrs={
            "title": f"exact particle run of case {case.name}",
            "Conventions": "CF-1.10",
            "case": case.name,
            "description": case.description,
            "N": run.N,
            "N_x": run.N_x,
            "N_y": run.N_y,
            "T": float(T),
            "nt": int(nt),
            "placement": placement_used,
            "solver": SOLVER_RANK if rank_engine else SOLVER_GENERAL,
            "n_events": run.n_events,
            "n_cross": run.n_cross,
            "n_stick": run.n_stick,
            "n_merge": run.n_merge,
            "t_last_event": run.t_last_event,
            "wall_time_s": wall_time,
            "case_source": case.source,
            "config": json.dumps(config, sort_keys=True),
            **provenance_attrs(),
        },
    )
    return ds


def summary_line(ds: xr.Dataset, wall_time: float, out: str | Path) -> str:
    """``overlap N=400: 12345 events (12000 crossings, 345 sticks) to T=2 in 0.05 s -> run.nc``; with
    N_x != N_y ``N=300/200``, and the general engine adds ``, 17 merges`` to the counts (nouns in the
    number of their count)."""
    a = ds.attrs
    count = f"{a['N_x']}" if a["N_x"] == a["N_y"] else f"{a['N_x']}/{a['N_y']}"
    merges = f", {plural(a['n_merge'], 'merge')}" if a["solver"] == SOLVER_GENERAL else ""
    return (
        f"{a['case']} N={count}: {plural(a['n_events'], 'event')} ({plural(a['n_cross'], 'crossing')}, "
        f"{plural(a['n_stick'], 'stick')}{merges}) to T={a['T']:g} in {wall_time:.2f} s -> {out}"
    )
