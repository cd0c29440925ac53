"""Runs: named cases, the output times, one Dataset schema per kind of run, and NetCDF I/O.

- ``cases``: case files (the shipped ``compare/cases/*.toml`` or any path) and their initial particles;
- ``times``: the output times ``k T / nt`` shared by every run;
- ``particle_run``: an exact particle run as an xarray Dataset;
- ``continuum_run``: a continuum run (finite volumes or pseudo-inverse) as an xarray Dataset;
- ``io``: atomic NetCDF and text writes, provenance attributes.
"""
