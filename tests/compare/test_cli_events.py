"""``particles --events all|none``: the streamed event log, memory O(N), runs that cannot fit, progress."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import numpy as np
import pytest

import compare.runs.resources as resources
from compare.cli import ProgressLine, main
from compare.runs.io import read_dataset, write_streamed
from compare.runs.particle_run import EVENT_VARIABLES, run_particles, write_particle_run

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("case", "N"), [("overlap", 300), ("mass_ratio", None), ("cluster", None)])
def test_streamed_log_equals_the_in_memory_log_event_for_event(case: str, N: int | None, tmp_path: Path) -> None:
    """Rank engine (overlap), general engine (mass_ratio: unequal masses and numbers) and an initial
    cluster: the file written while the engine runs holds the same events as the run kept in memory."""
    kept = run_particles(case, N=N, T=3.0, nt=3, record_events=True)
    assert kept.sizes["event"] > 100 or case == "cluster"
    out = tmp_path / "run.nc"
    written = write_particle_run(out, case, events=True, N=N, T=3.0, nt=3)
    back = read_dataset(out)
    assert "event_t" not in written  # streamed, not held
    assert back.sizes["event"] == kept.sizes["event"] == kept.attrs["n_events"]
    for name, (dtype, attrs) in EVENT_VARIABLES.items():
        assert back[name].dtype == dtype
        np.testing.assert_array_equal(back[name].values, kept[name].values)
        assert back[name].attrs["long_name"] == attrs["long_name"]
    for name in ("x", "y", "vx", "vy", "energy"):
        np.testing.assert_array_equal(back[name].values, kept[name].values)
    assert back["event_t"].encoding["zlib"] and back["x"].encoding["zlib"]
    assert [p.name for p in tmp_path.iterdir()] == ["run.nc"]


def test_without_events_the_file_has_an_empty_log_and_the_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run.nc"
    assert main(["particles", "overlap", "--N", "50", "--T", "1", "--nt", "2", "--out", str(out)]) == 0
    ds = read_dataset(out)
    assert ds.sizes["event"] == 0 and ds.attrs["n_events"] > 0
    assert json.loads(ds.attrs["config"])["record_events"] is False


def test_an_interrupted_stream_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "run.nc"

    def produce(append: Callable) -> NoReturn:
        append([np.arange(3.0), np.zeros(3, np.int8), np.ones(3, np.int64), np.ones(3, np.int64)])
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_streamed(out, "event", EVENT_VARIABLES, produce)
    assert list(tmp_path.iterdir()) == []


def _after_child_run(args: list[str], tmp_path: Path, report: str) -> str:
    """Run ``python -m compare ARGS`` in a child process (it must succeed) and return what it prints
    last: the Python expression ``report`` evaluated there after the run (``sys`` and ``resource``
    are imported)."""
    code = f"import resource, sys\nfrom compare.cli import main\nassert main({args!r}) == 0\nprint({report})\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    return done.stdout.strip().splitlines()[-1]


def _peak_rss_kib(args: list[str], tmp_path: Path) -> int:
    """Peak resident memory (KiB) of ``python -m compare ARGS`` in a child process."""
    return int(_after_child_run(args, tmp_path, "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss"))


@pytest.mark.parametrize("events", ["none", "all"])
def test_peak_memory_of_a_command_line_run_does_not_grow_with_the_events(events: str, tmp_path: Path) -> None:
    """N = 1000 and N = 6000 on ``overlap`` to T = 100 (the final state): about 10 M events more at
    N = 6000. Kept in memory the log would take 25 bytes an event (232 MiB more); the peak resident
    memory grows by less than a fifth of that (measured: by 0 MiB with ``none``, 7 MiB with ``all``:
    the samples are only nt + 1 = 2 rows of N values)."""
    peaks, counts = [], []
    for N in (1000, 6000):
        out = tmp_path / f"run{N}.nc"
        peaks.append(
            _peak_rss_kib(
                ["particles", "overlap", "--N", str(N), "--T", "100", "--nt", "1", "--events", events, "--out", str(out)], tmp_path
            )
        )
        counts.append(read_dataset(out).attrs["n_events"])
    log_growth_kib = 25 * (counts[1] - counts[0]) / 1024
    print(
        f"--events {events}: peak RSS {peaks[0] / 1024:.0f} MiB -> {peaks[1] / 1024:.0f} MiB; a kept log would add {log_growth_kib / 1024:.0f} MiB"
    )
    assert counts[1] > 10_000_000
    assert peaks[1] - peaks[0] < log_growth_kib / 5


@pytest.mark.parametrize("events", ["none", "all"])
def test_the_particles_command_starts_without_xarray_or_dask(events: str, tmp_path: Path) -> None:
    """The command line's particle run builds no Dataset: building one imports xarray, pandas and
    dask (about 1.2 s of a 4 s run at N = 12,000), which would cost the default command its target
    of 1.5 times the engine alone (``benchmarks/bench_cli.py``). The file still reads back whole."""
    out = tmp_path / "run.nc"
    args = ["particles", "overlap", "--N", "50", "--T", "1", "--events", events, "--out", str(out)]
    assert _after_child_run(args, tmp_path, "sorted(m for m in ('xarray', 'pandas', 'dask', 'distributed') if m in sys.modules)") == "[]"
    back = read_dataset(out)
    assert back.sizes["i"] == 50 and (back.sizes["event"] == back.attrs["n_events"]) == (events == "all")


def test_a_run_that_cannot_fit_in_memory_is_refused_before_it_starts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run.nc"
    assert main(["particles", "overlap", "--N", "1000000000", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: a run of 1000000000 + 1000000000 particles") and "lower --nt" in err
    assert not out.exists()


def test_a_log_that_may_not_fit_on_disk_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bound is the paper's N(N + 1) collisions (Section 4.5) at 25 bytes each."""

    class Usage:
        free = 25 * 1000 * 1001 - 1

    monkeypatch.setattr(resources.shutil, "disk_usage", lambda path: Usage)
    out = tmp_path / "run.nc"
    assert main(["particles", "overlap", "--N", "1000", "--events", "all", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "use --events none" in err and "N(N+1) events" in err
    assert main(["particles", "overlap", "--N", "999", "--events", "all", "--T", "0.1", "--out", str(out)]) == 0


def test_a_memory_error_during_the_run_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import compare.runs.particle_run as particle_run

    def out_of_memory(*args: object, **kwargs: object) -> None:
        np.empty(2**50)  # numpy's _ArrayMemoryError, a MemoryError

    monkeypatch.setattr(particle_run, "particle_parts", out_of_memory)
    out = tmp_path / "run.nc"
    assert main(["particles", "overlap", "--N", "100", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: out of memory") and "lower --nt or --N" in err
    assert not out.exists()


def test_progress_line_is_quiet_for_short_runs_and_erased_at_the_end() -> None:
    stream = io.StringIO()
    line = ProgressLine(2.0, stream=stream, after=0.0, every=0.0)
    line(1_234_567, 0.5)
    line(2_000_000, 3.0)
    line.close()
    text = stream.getvalue()
    assert "1,234,567 events, t = 0.5 of T = 2" in text and "past T = 2, to the final state" in text and text.endswith("\r\033[K")
    quiet = io.StringIO()
    short = ProgressLine(2.0, stream=quiet, after=60.0)
    short(10, 0.1)
    short.close()
    assert quiet.getvalue() == ""


def test_progress_goes_to_a_terminal_only_and_not_with_quiet(tmp_path: Path) -> None:
    """A redirected stderr gets no progress line (the child's stderr is a pipe), and ``--quiet`` exists."""
    done = subprocess.run(
        [sys.executable, "-m", "compare", "particles", "overlap", "--N", "3000", "--T", "100", "--nt", "1", "--quiet", "--out", "r.nc"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0 and "events," not in done.stderr
