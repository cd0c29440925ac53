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
  particles, ``grid`` for grid atomisation), kernel (``exact``; ``regularised`` for the runs of
  ``compare.runs.regularised_run``), solver (the engine that ran, as ``ParticleRun.engine`` reports it:
  ``SOLVER_RANK`` or ``SOLVER_GENERAL``), n_events, n_cross, n_stick, n_merge,
  t_last_event, wall_time_s, case_source (the TOML text), config (JSON of the run parameters) and
  ``compare.runs.io.provenance_attrs()``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from compare.runs.cases import Case, initial_state, load_case
from compare.runs.io import DatasetParts, prepare_directory, provenance_attrs, write_parts, write_streamed
from compare.runs.times import output_times
from compare.text import plural
from solvers.errors import CaseError
from solvers.particles.energy import discrete_energy, dissipation
from solvers.particles.engine import ParticleRun, equal_masses, simulate
from solvers.particles.events import EventChunk, Progress

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "EVENT_VARIABLES",
    "SOLVER_GENERAL",
    "SOLVER_RANK",
    "particle_coords",
    "particle_parts",
    "run_particles",
    "summary_line",
    "write_particle_run",
]

SOLVER_RANK = "solvers.particles.engine.simulate (exact event-driven, equal masses: rank engine)"
SOLVER_GENERAL = "solvers.particles.engine.simulate (exact event-driven, general masses: block engine)"
UNIT = {"units": "1"}


def run_particles(case: Case | str | Path, **params: Any) -> xr.Dataset:
    """The Dataset of ``particle_parts(case, **params)``: the exact particle run of a case, in the
    schema of the module docstring."""
    return particle_parts(case, **params).to_dataset()


def particle_parts(
    case: Case | str | Path,
    *,
    N: int | None = None,
    T: float | None = None,
    nt: int = 40,
    placement: Literal["right", "mid"] | None = None,
    run_to_final: bool = False,
    record_events: bool = True,
    continuous_time: Sequence[float] | None = None,
    on_events: Callable[[EventChunk], None] | None = None,
    progress: Progress | None = None,
) -> DatasetParts:
    """Run the exact particle solver on a case (``Case``, name or TOML path) up to time ``T``
    (default: the case's) with N rho-particles (default: the case's; ``compare.runs.cases.initial_state``
    scales the eta count with it), output at the ``nt + 1`` times ``k T / nt``; return the parts of
    the Dataset described in the module docstring (``run_particles`` builds it; the command line
    writes the parts without importing xarray).

    Args:
        case: a ``Case``, a shipped case's name or the path of a TOML case file.
        N, T, nt, placement: particles of rho, final time, output intervals, atomisation (``right``, the
            paper's (65), by default; atomised densities only, see ``initial_state``).
        run_to_final: go on past T to the last event (its time is ``t_last_event``).
        record_events: keep the event log in the Dataset (else the ``event`` dimension is empty).
        continuous_time: the exponents m of the functionals ``||rho~||_m^m + ||eta~||_m^m`` to check in
            continuous time on [0, T] (``solvers.particles.continuous_time``; equal masses 1/N only):
            adds the variables of ``CONTINUOUS_TIME_VARS``. The replay is fed chunk by chunk, so it
            needs no event log in memory.
        on_events: stream the event log to this callable instead (chunks of
            ``solvers.particles.events``); the Dataset then has no event variables
            (``EVENT_VARIABLES``: the caller writes them, ``compare.runs.io.write_streamed``).
        progress: ``progress(events_done, t_now)``, called every few million events.

    Returns:
        The run's ``DatasetParts``; ``wall_time_s`` is the time of the whole call: initial state,
        engine, energies, replay.
    """
    start = time.perf_counter()
    case = case if isinstance(case, Case) else load_case(case)
    T = case.T if T is None else T
    t_out = output_times(T, nt)
    x0, y0, m, n = initial_state(case, N, placement)
    sinks = [] if on_events is None else [on_events]
    replay = None
    if continuous_time is not None:
        from solvers.particles.continuous_time import ContinuousTimeReplay  # compiled; loaded only when asked for

        if not equal_masses(m, n):
            raise CaseError(f"case {case.name}: the continuous-time checks replay equal-mass runs only; drop them for these masses")
        start_state = simulate(x0, y0, [0.0], m=m, n=n, record_events=False)
        replay = ContinuousTimeReplay(
            start_state.x[0], start_state.y[0], start_state.vx[0], start_state.vy[0], float(T), functionals=tuple(continuous_time)
        )
    keep = record_events and on_events is None
    if replay is not None and not keep:  # the replay reads the stream: no log in memory
        sinks.append(lambda chunk: replay.feed(*chunk))
    stream = None if not sinks else sinks[0] if len(sinks) == 1 else lambda chunk: [sink(chunk) for sink in sinks]
    run = simulate(x0, y0, t_out, m=m, n=n, record_events=keep, on_events=stream, progress=progress, run_to_final=run_to_final)
    rank_engine = run.engine == "rank"
    data_vars = _state_vars(run, rank_engine)
    if on_events is None:
        data_vars |= _event_vars(EventChunk(run.event_t, run.event_kind, run.event_i, run.event_j))
    if replay is not None:
        if keep:
            replay.feed(run.event_t, run.event_kind, run.event_i, run.event_j)
        data_vars |= _continuous_time_vars(replay.result())
    placement_used = "explicit" if case.particles is not None else "grid" if case.atomisation == "grid" else placement or "right"
    config = {"case": case.name, "N": run.N, "T": float(T), "nt": int(nt), "placement": placement_used}
    config |= {"run_to_final": True} if run_to_final else {}
    config |= {} if record_events else {"record_events": False}
    config |= {} if continuous_time is None else {"continuous_time": list(continuous_time)}
    if run.N_y != run.N_x:
        config["N_y"] = run.N_y
    coords = particle_coords(run.t, run.N_x, run.N_y)
    if continuous_time is not None:
        coords |= _continuous_time_coords(tuple(continuous_time))
    attrs = _attrs(case, run, T, nt, placement_used, rank_engine, config)
    attrs["wall_time_s"] = time.perf_counter() - start
    return DatasetParts(data_vars, coords, attrs)


def particle_coords(t: np.ndarray, N_x: int, N_y: int) -> dict:
    """The coordinates ``t``, ``i`` = 1..N_x, ``j`` = 1..N_y of a particle run."""
    return {
        "t": ("t", t, {**UNIT, "long_name": "time"}),
        "i": ("i", np.arange(1, N_x + 1), {**UNIT, "long_name": "index of the rho-particle (left to right)"}),
        "j": ("j", np.arange(1, N_y + 1), {**UNIT, "long_name": "index of the eta-particle (left to right)"}),
    }


def _state_vars(run: ParticleRun, rank_engine: bool) -> dict:
    # equal masses 1/N: the default weights make the energy's prefix sums exact integers
    energy_masses = () if rank_engine else (run.m, run.n)
    return {
        "x": (("t", "i"), run.x, {**UNIT, "long_name": "position of the rho-particle x_i"}),
        "y": (("t", "j"), run.y, {**UNIT, "long_name": "position of the eta-particle y_j"}),
        "vx": (("t", "i"), run.vx, {**UNIT, "long_name": "velocity (right derivative) of x_i"}),
        "vy": (("t", "j"), run.vy, {**UNIT, "long_name": "velocity (right derivative) of y_j"}),
        "m": (("i",), run.m, {**UNIT, "long_name": "mass of x_i"}),
        "n": (("j",), run.n, {**UNIT, "long_name": "mass of y_j"}),
        "energy": (
            ("t",),
            discrete_energy(run.x, run.y, *energy_masses),
            {**UNIT, "long_name": "interaction energy E[Z] = integral of (F_x - F_y) (F_x - F_y - (M_x - M_y))"},
        ),
        "dissipation": (
            ("t",),
            dissipation(run.vx, run.vy, run.m, run.n),
            {**UNIT, "long_name": "dissipation rate sum m_i x_i'^2 + sum n_j y_j'^2 = -dE/dt"},
        ),
    }


EVENT_VARIABLES: dict[str, tuple[np.dtype, dict]] = {
    "event_t": (np.dtype(np.float64), {**UNIT, "long_name": "time of the event"}),
    "event_kind": (
        np.dtype(np.int8),
        {**UNIT, "long_name": "kind of the event", "flag_values": np.array([0, 1, 2], dtype=np.int8), "flag_meanings": "cross stick merge"},
    ),
    "event_i": (np.dtype(np.int64), {**UNIT, "long_name": "index i of the x-particle of the event"}),
    "event_j": (np.dtype(np.int64), {**UNIT, "long_name": "index j of the y-particle of the event"}),
}
"""The event log's variables on the dimension ``event``: dtype and CF attributes, in the column order
of ``solvers.particles.events.EventChunk``."""


def _event_vars(log: EventChunk) -> dict:
    """The event log on the dimension ``event``."""
    return {
        name: (("event",), column.astype(dtype), attrs) for (name, (dtype, attrs)), column in zip(EVENT_VARIABLES.items(), log, strict=True)
    }


def write_particle_run(out: str | Path, case: Case | str | Path, *, events: bool, **params: Any) -> DatasetParts:
    """Run ``particle_parts(case, **params)`` and write its Dataset to ``out`` atomically, without
    importing xarray (``compare.runs.io.write_parts``).

    With ``events`` the event log is streamed to the file in chunks while the engine runs (an unlimited
    dimension ``event``, ``compare.runs.io.write_streamed``), so the run's memory stays O(N + chunk)
    however many events there are; without, the file has an empty event log. A missing directory of
    ``out`` is created after the run, or before it when the log is streamed.

    Returns:
        The parts written (without the event variables when they were streamed).
    """
    out = Path(out)
    if not events:
        parts = particle_parts(case, record_events=False, **params)
        prepare_directory(out.parent)
        write_parts(parts, out)
        return parts
    prepare_directory(out.parent)
    return write_streamed(out, "event", EVENT_VARIABLES, lambda append: particle_parts(case, on_events=append, **params))


LEMMA51_FORMS = ("current_span", "joint_hull", "initial_span")
"""The spans of Lemma 5.1's bound ``span / (2N)``: the species' current ``x_N(t) - x_1(t)``, the joint
initial hull of both species' particles, and the species' own initial span (the paper's last step)."""
CONTINUOUS_TIME_VARS = (
    "sup_sum_peak", "sup_sum_peak_t", "sup_max_peak", "sup_max_peak_t", "sup_max_violation", "functional_violation",
    "lemma51_ratio", "energy_identity_residual", "lipschitz_reconstruction", "min_third_gap",
)  # fmt: skip


def _continuous_time_coords(functionals: tuple[float, ...]) -> dict:
    return {
        "functional": ("functional", [f"r^{m:g}" for m in functionals], {"long_name": "G of the functional int G(rho~) + int G(eta~)"}),
        "species": ("species", ["rho", "eta"], {"long_name": "species"}),
        "lemma51_form": ("lemma51_form", list(LEMMA51_FORMS), {"long_name": "span in Lemma 5.1's bound span/(2N)"}),
    }


def _continuous_time_vars(o: Any) -> dict:
    """The exact continuous-time observables on [0, T] (a ``solvers.particles.continuous_time.ContinuousTimeObservables``)."""
    ratios = np.stack([o.lemma_5_1_current, o.lemma_5_1_hull, o.lemma_5_1_initial_span], axis=1)
    exact = "exact over every t in [0, T] (replay of the event log)"
    return {
        "sup_sum_peak": ((), o.sup_sum_peak, {**UNIT, "long_name": "max_t S(t)/S(0) - 1, S = sup rho~ + sup eta~", "comment": exact}),
        "sup_sum_peak_t": ((), o.sup_sum_peak_t, {**UNIT, "long_name": "first time sup_sum_peak is reached"}),
        "sup_max_peak": ((), o.sup_max_peak, {**UNIT, "long_name": "max_t S(t)/S(0) - 1, S = max(sup rho~, sup eta~)", "comment": exact}),
        "sup_max_peak_t": ((), o.sup_max_peak_t, {**UNIT, "long_name": "first time sup_max_peak is reached"}),
        "sup_max_violation": (
            (),
            o.sup_max_violation[2],
            {**UNIT, "long_name": "largest -N d/dt of the cell of largest density (> 0: max(sup rho~, sup eta~) rises)", "comment": exact},
        ),
        "functional_violation": (
            ("functional",),
            o.functional_violation[:, 2],
            {
                **UNIT,
                "long_name": "largest normalised left derivative of the functional (> 0: it rises, Prop. 5.2 fails)",
                "comment": exact,
            },
        ),
        "lemma51_ratio": (
            ("species", "lemma51_form"),
            ratios,
            {**UNIT, "long_name": "sup_t 2N W1(rho^N, rho~^N) / span (<= 1: Lemma 5.1's bound holds)", "comment": exact},
        ),
        "energy_identity_residual": (
            (),
            o.energy_residual,
            {**UNIT, "long_name": "largest |E(b) - E(a) + dissipation (b - a)| between events"},
        ),
        "lipschitz_reconstruction": (
            ("species",),
            o.lipschitz_reconstruction,
            {**UNIT, "long_name": "sup_t of the W1 speed of the reconstruction (Lemma 5.2's constant)", "comment": exact},
        ),
        "min_third_gap": (
            (),
            o.min_third_gap,
            {**UNIT, "long_name": "smallest distance of a meeting point to a third particle (> 0: binary collisions)"},
        ),
    }


def _attrs(case: Case, run: ParticleRun, T: float, nt: int, placement: str, rank_engine: bool, config: dict) -> dict:
    return {
        "title": f"exact particle run of case {case.name}",
        "Conventions": "CF-1.10",
        "case": case.name,
        "description": case.description,
        "N": run.N,
        "N_x": run.N_x,
        "N_y": run.N_y,
        "T": float(T),
        "nt": int(nt),
        "placement": placement,
        "solver": SOLVER_RANK if rank_engine else SOLVER_GENERAL,
        "kernel": "exact",
        "n_events": run.n_events,
        "n_cross": run.n_cross,
        "n_stick": run.n_stick,
        "n_merge": run.n_merge,
        "t_last_event": run.t_last_event,
        "case_source": case.source,
        "config": json.dumps(config, sort_keys=True),
        **provenance_attrs(),
    }


def summary_line(a: Mapping[str, Any], wall_time: float, out: str | Path) -> str:
    """From a run's attributes ``a``: ``overlap N=400: 12345 events (12000 crossings, 345 sticks) to
    T=2 in 0.05 s -> run.nc``; with N_x != N_y ``N=300/200``, and the general engine adds
    ``, 17 merges`` to the counts (nouns in the number of their count)."""
    count = f"{a['N_x']}" if a["N_x"] == a["N_y"] else f"{a['N_x']}/{a['N_y']}"
    merges = f", {plural(a['n_merge'], 'merge')}" if a["solver"] == SOLVER_GENERAL else ""
    return (
        f"{a['case']} N={count}: {plural(a['n_events'], 'event')} ({plural(a['n_cross'], 'crossing')}, "
        f"{plural(a['n_stick'], 'stick')}{merges}) to T={a['T']:g} in {wall_time:.2f} s -> {out}"
    )
