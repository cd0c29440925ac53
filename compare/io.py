"""NetCDF input/output of run Datasets: atomic, losslessly compressed writes and provenance.

Files are NetCDF-4 written by xarray's ``h5netcdf`` engine. Every numeric variable (data and
coordinates) is stored with lossless zlib compression (level 4, shuffle); strings are stored as
variable-length strings, which HDF5 cannot compress.
"""

from __future__ import annotations

import os
import platform
import secrets
import tomllib
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import xarray as xr

from solvers.errors import InputError

__all__ = ["provenance_attrs", "read_dataset", "write_dataset"]

_ENGINE = "h5netcdf"
_COMPRESSION = {"zlib": True, "complevel": 4, "shuffle": True}


_PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _version(distribution: str) -> str:
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
        attrs[f"{distribution.replace('-', '_')}_version"] = _version(distribution)
    attrs["platform"] = platform.platform()
    attrs["created_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
    return attrs


def _encoding(ds: xr.Dataset) -> dict[str, dict[str, object]]:
    return {name: dict(_COMPRESSION) for name, var in ds.variables.items() if var.dtype.kind in "biuf"}


def write_dataset(ds: xr.Dataset, path: str | os.PathLike[str]) -> Path:
    """Write ``ds`` to ``path`` atomically: into a temporary file in the same directory, then
    ``os.replace``. An interrupted or failed write leaves neither a partial ``path`` nor the
    temporary file. An unwritable destination raises ``InputError`` (one line)."""
    target = Path(path)
    if target.is_dir():
        raise InputError(f"output path {target} is a directory; pass a file name such as {target / 'run.nc'}")
    directory = target.parent
    tmp = directory / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc.strerror}; choose a writable path for --out") from None
    try:
        ds.to_netcdf(tmp, engine=_ENGINE, encoding=_encoding(ds))
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write {target}: {exc.strerror or exc}; choose a writable path for --out") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def read_dataset(path: str | os.PathLike[str]) -> xr.Dataset:
    """Load a Dataset written by ``write_dataset`` fully into memory and close the file."""
    source = Path(path)
    if not source.is_file():
        raise InputError(f"{source} does not exist; pass the path of a NetCDF file written by this package")
    try:
        with xr.open_dataset(source, engine=_ENGINE) as ds:
            return ds.load()
    except OSError as exc:
        raise InputError(f"cannot read {source} as NetCDF: {exc}; pass a NetCDF-4 file") from None
