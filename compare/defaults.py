"""Defaults of the validation job, kept free of heavy imports so the command line starts fast."""

DEFAULT_CASE = "overlap"
DEFAULT_NS = (100, 200, 400, 800, 1600)
DEFAULT_CELLS = 8000
TRAJECTORY_N = 12
"""Default particles per species of the trajectory figure's run (a run of its own, with its event log)."""
REFINE = 8
"""Fine output intervals per output interval of a study, where its suprema over time are refined
(``compare.studies.jobs.StudySpec.refine``)."""
