"""Sweeps on dask.distributed: jobs, resumption, determinism, interruption, a real local cluster."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from distributed import Client

from compare.cli import main
from compare.runs.cases import CASES_DIR
from compare.runs.io import read_dataset
from compare.studies.sweep import expand_jobs, is_complete, load_spec, run_job, run_sweep

REPO = Path(__file__).resolve().parents[3]
SEPARATED = (CASES_DIR / "separated.toml").read_text(encoding="utf-8").replace("\nT = 1.0\n", "\nT = 0.2\n")
"""The case ``separated`` before contact (exact reference, whose quantiles are closed-form)."""
SPEC = """\
cases = ["overlap", "sep.toml"]
N = [10, 20, 40]
schemes = ["fv1", "fv2", "lagrangian"]
cells = [40, 80]
nt = 2
"""
VOLATILE_ATTRS = ("created_utc", "wall_time_s")


def _write_spec(directory: Path, text: str = SPEC) -> Path:
    (directory / "sep.toml").write_text(SEPARATED)
    path = directory / "spec.toml"
    path.write_text(text)
    return path


def _stable(value: object) -> object:
    """A config value without wall times (recursively)."""
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k != "wall_time_s"}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def _plain(attrs: dict[str, object]) -> dict[str, object]:
    """Attributes with arrays (CF flag values) as lists, so that dictionaries compare by value."""
    return {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in attrs.items()}


def _content(ds: xr.Dataset) -> dict[str, object]:
    """Everything in a Dataset except timestamps and wall times: every variable's dims, dtype, bytes
    and attributes, and the global attributes (``config`` without its wall times)."""
    attrs = {k: v for k, v in ds.attrs.items() if k not in VOLATILE_ATTRS}
    if "config" in attrs:
        attrs["config"] = _stable(json.loads(attrs["config"]))
    variables = {
        name: (var.dims, str(var.dtype), np.ascontiguousarray(var.values).tobytes(), _plain(var.attrs))
        for name, var in ds.variables.items()
    }
    return {"attrs": attrs, "variables": variables}


def _study_files(out: Path) -> dict[str, dict[str, object]]:
    return {str(p.relative_to(out)): _content(read_dataset(p)) for p in sorted(out.glob("**/study.nc"))}


def _assert_same_studies(a: Path, b: Path) -> None:
    files_a, files_b = _study_files(a), _study_files(b)
    assert sorted(files_a) == ["overlap/study.nc", "sep/study.nc", "study.nc"]
    assert sorted(files_a) == sorted(files_b)
    for name in files_a:
        assert files_a[name] == files_b[name], name


@pytest.fixture(scope="module")
def threads_client() -> Iterator[Client]:
    with Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as client:
        yield client


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sweep run once from the command line on a real local cluster with two worker processes."""
    root = tmp_path_factory.mktemp("baseline")
    spec = _write_spec(root)
    assert main(["sweep", str(spec), "--out", str(root / "out"), "--workers", "2"]) == 0
    return root / "out"


def test_local_cluster_with_two_workers_writes_every_output(baseline: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = load_spec(baseline.parent / "spec.toml")
    jobs = expand_jobs(spec)
    runs = sorted(p.name for p in (baseline / "runs").iterdir())
    assert runs == sorted(job.filename for job in jobs)
    assert all(is_complete(job, baseline / "runs") for job in jobs)
    study = read_dataset(baseline / "study.nc")
    assert study["case"].values.tolist() == ["overlap", "sep"]
    assert study["sup_err"].dims == ("case", "N", "metric")
    assert study["continuum_sup_err"].dims == ("case", "scheme", "cells", "ref_metric")
    for case in ("overlap", "sep"):
        assert {"study.nc", "summary.md", "convergence.png", "trajectories.png"} <= {p.name for p in (baseline / case).iterdir()}
    assert not list(baseline.glob("**/.*"))  # no temporaries or staging directories left
    case_study = read_dataset(baseline / "sep" / "study.nc")
    assert case_study.attrs["reference"] == "exact"
    # the continuum errors against the exact solution fall with the resolution
    w1 = case_study["continuum_sup_err"].sel(ref_metric="w1").values
    assert np.all(w1[:, 1] < w1[:, 0])
    summary = (baseline / "summary.md").read_text()
    assert "## overlap" in summary and "| fv2 |" in summary


def test_summary_over_cases_is_self_describing_and_its_table_does_not_mislead(baseline: Path) -> None:
    """CF attributes on every variable of DIR/study.nc; in summary.md the fv2 run at the reference's
    resolution is marked as the reference (not an error of 0), and orders say n/a where they cannot
    be fitted."""
    study = read_dataset(baseline / "study.nc")
    for name, var in study.variables.items():
        assert var.attrs.get("long_name"), name
        if var.dtype.kind in "iuf":
            assert var.attrs.get("units") == "1", name
    assert {"title", "Conventions", "source", "references", "comment"} <= set(study.attrs)
    summary = (baseline / "summary.md").read_text()
    overlap = summary.split("## overlap")[1].split("## sep")[0]
    fv2 = next(line for line in overlap.splitlines() if line.startswith("| fv2 |"))
    cells = load_spec(baseline.parent / "spec.toml").cells
    assert fv2.split(" | ")[len(cells)] == "reference" and "0.000e+00" not in fv2
    assert "nan" not in summary
    sep = summary.split("## sep")[1]
    assert "reference" not in [cell.strip() for line in sep.splitlines() if line.startswith("| fv") for cell in line.split("|")]


def test_the_study_equals_a_direct_run_study(baseline: Path) -> None:
    """The study assembled from the sweep's files equals compare.studies.assembly.run_study on the same input."""
    from compare.studies.validate import run_study

    direct = run_study("overlap", Ns=[10, 20, 40], nt=2, cells=80)
    swept = read_dataset(baseline / "overlap" / "study.nc")
    for name, var in direct.data_vars.items():
        np.testing.assert_array_equal(swept[name].values, var.values, err_msg=name)


def test_validate_and_sweep_routes_give_identical_study_files(baseline: Path, tmp_path: Path) -> None:
    """One pipeline: the same study specs run in this process (validate's route) and on dask (the
    sweep's) give study files equal in every byte of every variable and every attribute but the
    timestamps and wall times."""
    from compare.runs.io import write_dataset
    from compare.studies.sweep import study_specs
    from compare.studies.validate import run_in_process

    for spec in study_specs(load_spec(baseline.parent / "spec.toml")):
        study, _ = run_in_process(spec)
        path = write_dataset(study, tmp_path / f"{spec.case.name}.nc")
        assert _content(read_dataset(path)) == _content(read_dataset(baseline / spec.case.name / "study.nc")), spec.case.name


@pytest.mark.slow  # the resumption tests below compare with the baseline too
def test_running_the_sweep_twice_gives_identical_studies(baseline: Path, tmp_path: Path, threads_client: Client) -> None:
    run_sweep(baseline.parent / "spec.toml", tmp_path / "again", client=threads_client, stream=None)
    _assert_same_studies(baseline, tmp_path / "again")


def test_resume_recomputes_only_missing_or_foreign_files(baseline: Path, tmp_path: Path, threads_client: Client) -> None:
    out = tmp_path / "out"
    shutil.copytree(baseline, out)
    jobs = expand_jobs(load_spec(baseline.parent / "spec.toml"))
    runs = out / "runs"
    missing, foreign, corrupt = jobs[0], jobs[3], jobs[4]
    (runs / missing.filename).unlink()
    shutil.copy(runs / jobs[5].filename, runs / foreign.filename)  # right name, other parameters
    (runs / corrupt.filename).write_bytes(b"not a netcdf file")
    (runs / ".stale.nc.123.tmp").write_bytes(b"partial")
    assert [is_complete(job, runs) for job in (missing, foreign, corrupt)] == [False, False, False]
    before = {job.filename: (runs / job.filename).stat().st_mtime_ns for job in jobs[6:]}
    run_sweep(baseline.parent / "spec.toml", out, client=threads_client, stream=None)
    assert all(is_complete(job, runs) for job in jobs)
    assert {name: (runs / name).stat().st_mtime_ns for name in before} == before  # complete runs untouched
    assert not list(runs.glob(".*"))
    _assert_same_studies(baseline, out)


def test_job_keys_depend_on_parameters_and_case_text(tmp_path: Path) -> None:
    spec = load_spec(_write_spec(tmp_path))
    jobs = expand_jobs(spec)
    assert len({job.filename for job in jobs}) == len(jobs) == len({job.key for job in jobs})
    assert [job.key for job in expand_jobs(spec)] == [job.key for job in jobs]
    # 2 cases x (3 N + 3 schemes x 2 cells + trajectory); overlap adds the fv2 reference runs not
    # already there (fv2 at 40 and 80 cells are; lagrangian at 80 too): none
    assert len(jobs) == 2 * (3 + 6 + 1)
    (tmp_path / "overlap.toml").write_text((CASES_DIR / "overlap.toml").read_text(encoding="utf-8"))
    with open(tmp_path / "overlap.toml", "a") as f:
        f.write("\n# edited\n")
    edited = load_spec(_write_spec(tmp_path, SPEC.replace('"overlap"', '"overlap.toml"')))
    changed = {job.key for job in expand_jobs(edited)} - {job.key for job in jobs}
    assert len(changed) == 10  # every overlap job, none of sep


def test_run_job_is_deterministic(tmp_path: Path) -> None:
    job = expand_jobs(load_spec(_write_spec(tmp_path)))[0]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = read_dataset(tmp_path / "a" / run_job(job, str(tmp_path / "a")))
    b = read_dataset(tmp_path / "b" / run_job(job, str(tmp_path / "b")))
    assert _content(a) == _content(b)
    assert a.attrs["job"] == job.key


def _wait_for_runs(runs: Path, process: subprocess.Popen[str], count: int) -> None:
    deadline = time.monotonic() + 120
    while len(list(runs.glob("*.nc"))) < count:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the sweep wrote no run in time"
        time.sleep(0.01)


def _resume_and_compare(out: Path, spec: Path, baseline: Path, client: Client) -> None:
    for path in (out / "runs").glob("*.nc"):
        read_dataset(path)  # every file that exists is whole
    run_sweep(spec, out, client=client, stream=None)
    _assert_same_studies(out, baseline)


def test_sigint_stops_the_cli_with_130_and_the_sweep_resumes(tmp_path: Path, baseline: Path, threads_client: Client) -> None:
    spec = _write_spec(tmp_path)
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "compare", "sweep", str(spec), "--out", str(out), "--workers", "1"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for_runs(out / "runs", process, 1)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert err.splitlines()[-1].startswith("error: interrupted; completed runs are kept in")
    total = len(expand_jobs(load_spec(spec)))
    assert 1 <= len(list((out / "runs").glob("*.nc"))) < total
    assert not list((out / "runs").glob(".*")) and not (out / "study.nc").exists()
    _resume_and_compare(out, spec, baseline, threads_client)


@pytest.mark.slow  # the SIGINT test covers the default run
def test_sigkill_at_any_moment_loses_no_completed_run(tmp_path: Path, baseline: Path, threads_client: Client) -> None:
    spec = _write_spec(tmp_path)
    out = tmp_path / "out"
    script = (
        "import sys\nfrom distributed import Client\nfrom compare.studies.sweep import run_sweep\n"
        "with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as c:\n"
        "    run_sweep(sys.argv[1], sys.argv[2], client=c, stream=None)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(spec), str(out)], cwd=REPO, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    _wait_for_runs(out / "runs", process, 2)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    jobs = expand_jobs(load_spec(spec))
    complete = [job.filename for job in jobs if is_complete(job, out / "runs")]
    assert len(complete) == len(list((out / "runs").glob("*.nc"))) < len(jobs)
    _resume_and_compare(out, spec, baseline, threads_client)


def test_reference_limited_rows_are_flagged_as_validate_flags_its_metrics(baseline: Path) -> None:
    """A continuum row is ``ref.-limited`` exactly when the reference's estimated W1 error exceeds
    REFERENCE_LIMIT times the row's error at its finest resolution (recomputed here from the case's
    study file): on ``overlap`` the lagrangian scheme, more accurate than its fv2 reference, is flagged;
    against the exact reference of ``sep`` no row is."""
    from compare.studies.assembly import REFERENCE_LIMIT

    summary = (baseline / "summary.md").read_text()
    flagged = {}
    for case in ("overlap", "sep"):
        study = read_dataset(baseline / case / "study.nc")
        section = summary.split(f"## {case}")[1].split("## ")[0]
        ref_error = float(study["reference_error"].sel(ref_metric="w1"))
        for scheme in study["scheme"].values:
            row = next(line for line in section.splitlines() if line.startswith(f"| {scheme} |"))
            values = study["continuum_sup_err"].sel(scheme=scheme, ref_metric="w1").values
            measured = values[values > 0]
            expected = measured.size > 0 and ref_error > REFERENCE_LIMIT * measured[-1]
            assert row.rstrip(" |").endswith("ref.-limited") == expected, (case, scheme, row)
            flagged[case, str(scheme)] = expected
    assert flagged["overlap", "lagrangian"] and not any(v for (case, _), v in flagged.items() if case == "sep")


def test_a_concurrent_sweeps_temporaries_survive(tmp_path: Path) -> None:
    """Temporaries of killed writers are removed only when no other sweep holds the runs directory:
    while another sweep holds its shared lock, a ``.*.tmp`` (a file being written) stays."""
    import fcntl

    from compare.studies.sweep import _runs_directory_lock

    runs = tmp_path / "runs"
    runs.mkdir()
    tmp = runs / ".run.nc.123.abcd.tmp"
    tmp.write_text("being written")
    other = os.open(runs, os.O_RDONLY)
    try:
        fcntl.flock(other, fcntl.LOCK_SH)  # another sweep at work
        with _runs_directory_lock(runs):
            assert tmp.exists()
        assert tmp.exists()
    finally:
        os.close(other)
    with _runs_directory_lock(runs):  # alone: a leftover of a killed writer
        assert not tmp.exists()
