"""Solvers for the two-species Newtonian interaction system: exact particles and continuum schemes."""
