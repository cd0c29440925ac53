"""Metrics: exact one-dimensional measures, distances between them, and the weak-form residual.

- ``measures``: ``Empirical`` (atoms), ``Histogram`` (piecewise-constant densities: finite volumes,
  reconstructions, pseudo-inverse solutions) and ``Continuous`` (exact densities and solutions);
- ``distances``: ``wasserstein`` (W_p), ``wasserstein_inf``, ``lp_distance``, ``measure_energy``;
- ``weak_form``: the residual of the weak formulation (16) on particle runs.
"""

from compare.metrics.distances import lp_distance, measure_energy, wasserstein, wasserstein_inf
from compare.metrics.measures import Continuous, Empirical, Histogram, Measure

__all__ = ["Continuous", "Empirical", "Histogram", "Measure", "lp_distance", "measure_energy", "wasserstein", "wasserstein_inf"]
