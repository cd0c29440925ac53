"""Continuum solvers of system (5): finite volumes in cumulative form and the pseudo-inverse scheme."""
