"""The README is true to the repository: its Python example runs, its case table gives each
shipped case's T, it cites only files that exist, and every command it lists exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from compare.cli import build_parser
from compare.runs.cases import list_cases, load_case

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_python_api_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (code,) = re.findall(r"```python\n(.*?)```", _section("Python API"), flags=re.S)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md (Python API)", "exec"), {})
    out = capsys.readouterr().out
    assert " events, " in out and "mass of rho at T: 1.0" in out and " order " in out
    results = tmp_path / "api" / "results"
    assert {"study.nc", "summary.md", "convergence.png"} <= {p.name for p in results.iterdir()}
    summary = (results / "summary.md").read_text()
    assert "Wall time of the runs: " in summary and "sum over the study's particle and continuum runs" in summary


def test_case_table_gives_every_shipped_case_and_its_T() -> None:
    rows = dict(
        re.findall(r"^\| `(\w+)`(?: \(default\))? \| .* \| ([\d.]+) \|$", _section("Cases (`compare/cases/*.toml`, package data)"), re.M)
    )
    assert sorted(rows) == list_cases()
    for name, T in rows.items():
        assert load_case(name).T == float(T), name


def test_cited_files_exist_and_commands_exist() -> None:
    assert "MATH.md" not in README
    for path in re.findall(r"\]\(((?:docs|compare)/[^)#]+)\)", README):
        assert (REPO / path).is_file(), path
    commands = set(re.findall(r"^python -m compare (\w[\w-]*)", _section("Commands"), re.M))
    parser_commands = set(next(a for a in build_parser()._actions if hasattr(a, "choices") and a.choices and "plot" in a.choices).choices)
    assert commands - {"--version"} <= parser_commands and {"plot", "animate", "cases"} <= commands
