"""NetCDF input/output of run Datasets: atomic, losslessly compressed writes and provenance.

Files are NetCDF-4 written through ``h5netcdf``: by xarray (``write_dataset``), or directly from a
Dataset's parts (``DatasetParts``, ``write_parts`` and ``write_streamed``), which needs no xarray and
lets the command line's particle runs start fast; both read back identically with
``xarray.open_dataset``. Every numeric variable (data and coordinates) is stored with lossless zlib
compression (level 4, shuffle); strings are stored as variable-length strings, which HDF5 cannot
compress. xarray is imported only where a Dataset is built or read.
"""

from __future__ import annotations

import os
import platform
import secrets
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import h5netcdf
import h5py
import numpy as np

from solvers.errors import InputError

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "APPEND_CHUNK",
    "DatasetParts",
    "atomic_path",
    "package_version",
    "prepare_directory",
    "provenance_attrs",
    "read_dataset",
    "write_dataset",
    "write_parts",
    "write_streamed",
    "write_text",
]

_ENGINE = "h5netcdf"
_COMPRESSION = {"zlib": True, "complevel": 4, "shuffle": True}
_GZIP = {"compression": "gzip", "compression_opts": _COMPRESSION["complevel"], "shuffle": True}
"""``_COMPRESSION`` in h5netcdf's arguments."""
APPEND_CHUNK = 1 << 16
"""Rows of one HDF5 chunk of a variable on an unlimited dimension (``write_streamed``)."""


_PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def package_version(distribution: str) -> str:
    """Installed version; for this package, when run from a source tree, the pyproject version."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        if distribution == "particle-limit" and _PYPROJECT.is_file():
            return tomllib.loads(_PYPROJECT.read_text(encoding="utf-8"))["project"]["version"] + " (source tree)"
        return "not installed"


def provenance_attrs() -> dict[str, str]:
    """Flat string attributes: package versions, platform and UTC creation time (ISO 8601)."""
    attrs = {"python_version": platform.python_version()}
    for distribution in ("numpy", "scipy", "xarray", "numba", "h5netcdf", "h5py", "particle-limit"):
        attrs[f"{distribution.replace('-', '_')}_version"] = package_version(distribution)
    attrs["platform"] = platform.platform()
    attrs["created_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
    return attrs


def _encoding(ds: xr.Dataset) -> dict[str, dict[str, object]]:
    return {name: dict(_COMPRESSION) for name, var in ds.variables.items() if var.dtype.kind in "biuf"}


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``path`` to write into; renamed to ``path`` (``os.replace``) when the
    block ends without an exception, deleted otherwise. So ``path`` appears whole or not at all, and
    an interrupted write leaves neither a partial ``path`` nor the temporary file. An unwritable
    destination raises ``InputError`` (one line)."""
    target = Path(path)
    if target.is_dir():
        raise InputError(f"output path {target} is a directory; pass a file name such as {target / 'run.nc'}")
    tmp = target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc.strerror}; choose a writable path for --out") from None
    try:
        yield tmp
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write {target}: {exc.strerror or exc}; choose a writable path for --out") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_dataset(ds: xr.Dataset, path: str | os.PathLike[str]) -> Path:
    """Write ``ds`` to ``path`` atomically (``atomic_path``) as NetCDF-4 with lossless compression."""
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine=_ENGINE, encoding=_encoding(ds))
    return Path(path)


class DatasetParts(NamedTuple):
    """A Dataset as the arguments of ``xarray.Dataset``: ``data_vars`` and ``coords`` map a name to
    ``(dims, values[, attributes])``, ``attrs`` are the flat global attributes. Values are integer,
    float or string arrays (or scalars; booleans need xarray's encoding, ``write_dataset``);
    coordinates are dimension coordinates."""

    data_vars: dict[str, tuple]
    coords: dict[str, tuple]
    attrs: dict[str, Any]

    def to_dataset(self) -> xr.Dataset:
        """The ``xarray.Dataset`` of these parts."""
        import xarray as xr

        return xr.Dataset(self.data_vars, self.coords, self.attrs)


def _write_variables(file: h5netcdf.File, parts: DatasetParts) -> None:
    """Add the coordinates, data variables and global attributes of ``parts`` to an open file:
    numeric variables zlib-compressed (``_GZIP``), strings variable-length."""
    for name, (dims, values, *attrs) in {**parts.coords, **parts.data_vars}.items():
        values = np.asarray(values)
        dims = (dims,) if isinstance(dims, str) else tuple(dims)
        for dim, size in zip(dims, values.shape, strict=True):
            if dim not in file.dimensions:
                file.dimensions[dim] = size
        if values.dtype.kind in "iuf":
            var = file.create_variable(name, dims, values.dtype, data=values, **(_GZIP if values.ndim else {}))
        elif values.dtype.kind in "UO":
            var = file.create_variable(name, dims, dtype=h5py.string_dtype(), data=values.astype(object))
        else:
            raise TypeError(f"variable {name} of dtype {values.dtype} is neither a number nor a string; convert it or use write_dataset")
        var.attrs.update(*attrs)
    file.attrs.update(parts.attrs)


def write_parts(parts: DatasetParts, path: str | os.PathLike[str]) -> Path:
    """Write the Dataset of ``parts`` to ``path`` atomically (``atomic_path``) without xarray; it reads
    back as ``parts.to_dataset()`` (``xarray.open_dataset``, ``read_dataset``)."""
    with atomic_path(path) as tmp, h5netcdf.File(tmp, "w") as file:
        _write_variables(file, parts)
    return Path(path)


def write_streamed(
    path: str | os.PathLike[str],
    dim: str,
    variables: Mapping[str, tuple[np.dtype, dict]],
    produce: Callable[[Callable[[Sequence[np.ndarray]], None]], DatasetParts],
) -> DatasetParts:
    """Write a Dataset whose variables on ``dim`` are produced piece by piece, atomically.

    ``dim`` is an unlimited NetCDF dimension holding ``variables`` (name -> (dtype, attributes), each a
    column on ``dim``, zlib-compressed in chunks of ``APPEND_CHUNK`` rows). ``produce(append)`` does the
    work, calling ``append(columns)`` with one array per variable (in the order of ``variables``, of one
    length) whenever rows are ready, so they go to the file at once and need no memory afterwards; it
    returns the rest of the Dataset (no variable on ``dim``), which is added to the same file. The
    file reads back as one Dataset (``read_dataset``, ``xarray.open_dataset``); like ``write_parts``
    the path appears whole or not at all.

    Returns:
        The parts ``produce`` returned (without the streamed variables).
    """
    with atomic_path(path) as tmp, h5netcdf.File(tmp, "w") as file:
        file.dimensions[dim] = None
        columns = []
        for name, (dtype, attrs) in variables.items():
            var = file.create_variable(name, (dim,), dtype, chunks=(APPEND_CHUNK,), **_GZIP)
            var.attrs.update(attrs)
            columns.append(var)

        def append(values: Sequence[np.ndarray]) -> None:
            start = file.dimensions[dim].size
            stop = start + len(values[0])
            file.resize_dimension(dim, stop)
            for var, column in zip(columns, values, strict=True):
                var[start:stop] = column

        parts = produce(append)
        _write_variables(file, parts)
    return parts


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (``atomic_path``)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def prepare_directory(out: str | os.PathLike[str], *, check_only: bool = False) -> Path:
    """Create the output directory ``out`` (with its parents) unless ``check_only``; ``InputError``
    if it exists and is not a directory, cannot be created or is not writable."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"output {out} exists and is not a directory; pass a directory path with --out")
    if check_only:
        return out
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the output directory {out}: {exc.strerror}; pass a writable --out") from None
    if not os.access(out, os.W_OK):
        raise InputError(f"output directory {out} is not writable; pass a writable --out")
    return out


def read_dataset(path: str | os.PathLike[str]) -> xr.Dataset:
    """Load a Dataset written by ``write_dataset``, ``write_parts`` or ``write_streamed`` fully into
    memory and close the file."""
    import xarray as xr

    source = Path(path)
    if not source.is_file():
        raise InputError(f"{source} does not exist; pass the path of a NetCDF file written by this package")
    try:
        with xr.open_dataset(source, engine=_ENGINE) as ds:
            return ds.load()
    except OSError as exc:
        raise InputError(f"cannot read {source} as NetCDF: {exc}; pass a NetCDF-4 file") from None
