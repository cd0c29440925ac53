"""Comparison layer: runs as xarray Datasets, NetCDF I/O, metrics, studies, plots, command line."""
