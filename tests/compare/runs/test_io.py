"""NetCDF I/O: exact round trip, compression, atomic writes, provenance."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from compare.runs.io import DatasetParts, provenance_attrs, read_dataset, write_dataset, write_parts
from solvers.errors import InputError


def sample_parts() -> DatasetParts:
    rng = np.random.default_rng(1)
    return DatasetParts(
        data_vars={
            "x": (("t", "i"), rng.normal(size=(3, 5)), {"units": "1", "long_name": "positions"}),
            "kind": (
                ("event",),
                np.array([0, 1, 0, 0], dtype=np.int8),
                {"flag_values": np.array([0, 1], dtype=np.int8), "flag_meanings": "cross stick"},
            ),
            "label": (("event",), np.array(["cross", "stick", "cross", "cross"]), {"long_name": "event label"}),
            "index": (("event",), np.array([1, 5, 2, 3], dtype=np.int64)),
            "nan_too": (("t",), np.array([1.0, np.nan, -0.0])),
            "scalar": ((), 0.25, {"long_name": "a scalar"}),
            "empty": (("none",), np.empty(0, np.int64)),
        },
        coords={
            "t": ("t", np.array([0.0, 0.5, 1.0]), {"units": "1"}),
            "i": ("i", np.arange(1, 6)),
            "species": ("species", ["rho", "eta"], {"long_name": "species"}),
        },
        attrs={"case": "overlap", "N": 5, "T": 2.0, "config": '{"N": 5}', "source": "T = 2\n[rho0]\n", **provenance_attrs()},
    )


def sample_dataset() -> xr.Dataset:
    return sample_parts().to_dataset()


def test_round_trip_is_identical(tmp_path: Path) -> None:
    ds = sample_dataset()
    path = write_dataset(ds, tmp_path / "run.nc")
    back = read_dataset(path)
    xr.testing.assert_identical(back, ds)
    assert back["kind"].dtype == np.int8
    assert np.signbit(back["nan_too"].values[2])
    assert [p.name for p in tmp_path.iterdir()] == ["run.nc"]


def test_parts_written_without_xarray_read_back_as_xarray_writes_them(tmp_path: Path) -> None:
    """``write_parts`` (h5netcdf directly) and ``write_dataset`` (xarray's writer) give files that read
    back identically: values, dtypes, attributes, compression."""
    parts = sample_parts()
    direct = read_dataset(write_parts(parts, tmp_path / "direct.nc"))
    via_xarray = read_dataset(write_dataset(parts.to_dataset(), tmp_path / "xarray.nc"))
    xr.testing.assert_identical(direct, parts.to_dataset())
    xr.testing.assert_identical(direct, via_xarray)
    for name, var in direct.variables.items():
        assert var.dtype == via_xarray[name].dtype
        assert var.encoding.get("zlib", False) == via_xarray[name].encoding.get("zlib", False), name
    assert np.signbit(direct["nan_too"].values[2])


@pytest.mark.parametrize("values", [np.array(["2026-01-01"], dtype="datetime64[D]"), np.array([True, False])])
def test_parts_of_another_dtype_are_refused(values: np.ndarray, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="neither a number nor a string; convert it or use write_dataset"):
        write_parts(DatasetParts({"v": (("t",), values)}, {}, {}), tmp_path / "run.nc")
    assert list(tmp_path.iterdir()) == []


def test_numeric_variables_are_compressed_losslessly(tmp_path: Path) -> None:
    ds = xr.Dataset({"big": (("k",), np.zeros(100_000))})
    back = read_dataset(write_dataset(ds, tmp_path / "zeros.nc"))
    assert back["big"].encoding["zlib"] is True
    assert (tmp_path / "zeros.nc").stat().st_size < 100_000


def test_overwrite_replaces_the_file(tmp_path: Path) -> None:
    path = tmp_path / "run.nc"
    write_dataset(sample_dataset(), path)
    smaller = sample_dataset().isel(t=slice(0, 1))
    write_dataset(smaller, path)
    xr.testing.assert_identical(read_dataset(path), smaller)


def test_interrupted_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: xr.Dataset, path: os.PathLike[str], **kwargs: object) -> None:
        Path(path).write_bytes(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(xr.Dataset, "to_netcdf", broken)
    with pytest.raises(KeyboardInterrupt):
        write_dataset(sample_dataset(), tmp_path / "run.nc")
    assert list(tmp_path.iterdir()) == []


def test_interrupted_overwrite_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "run.nc"
    ds = sample_dataset()
    write_dataset(ds, path)

    def broken(self: xr.Dataset, target: os.PathLike[str], **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", broken)
    with pytest.raises(RuntimeError):
        write_dataset(ds.isel(t=slice(0, 1)), path)
    assert [p.name for p in tmp_path.iterdir()] == ["run.nc"]
    xr.testing.assert_identical(read_dataset(path), ds)


@pytest.mark.parametrize("where", ["missing_dir/run.nc", "."])
def test_unwritable_path_is_an_input_error(tmp_path: Path, where: str) -> None:
    with pytest.raises(InputError) as info:
        write_dataset(sample_dataset(), tmp_path / where)
    assert "\n" not in str(info.value)
    assert not (tmp_path / "missing_dir").exists()


def test_read_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        read_dataset(tmp_path / "nope.nc")
    (tmp_path / "junk.nc").write_text("not netcdf")
    with pytest.raises(InputError, match="cannot read"):
        read_dataset(tmp_path / "junk.nc")


def test_provenance_attributes_are_flat_strings() -> None:
    attrs = provenance_attrs()
    for key in (
        "python_version",
        "numpy_version",
        "scipy_version",
        "xarray_version",
        "numba_version",
        "h5netcdf_version",
        "particle_limit_version",
        "platform",
        "created_utc",
    ):
        assert isinstance(attrs[key], str) and attrs[key]
    assert attrs["numpy_version"] == np.__version__
    assert datetime.fromisoformat(attrs["created_utc"]).utcoffset().total_seconds() == 0
