"""Exact event-driven solvers of the particle system (6) and the particle-side diagnostics."""
