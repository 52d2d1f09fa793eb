"""Every chapter runs top to bottom in smoke mode, as solution and as student edition."""

import json

import pytest

from structlab.course import execute, notebook_sources, read_notebook
from structlab.exercises.student import strip_solutions

pytestmark = pytest.mark.notebook
SOURCES = notebook_sources()


def _run(text, source, tmp_path, monkeypatch):
    """Execute notebook text in smoke mode; return the check results it logged."""
    log = tmp_path / "checks.jsonl"
    monkeypatch.setenv("STRUCTLAB_SMOKE", "1")
    monkeypatch.setenv("STRUCTLAB_CHECK_LOG", str(log))
    notebook = execute(read_notebook(text), cwd=source.parent)
    errors = [out for cell in notebook.cells for out in cell.get("outputs", [])
              if out.get("output_type") == "error"]
    assert not errors
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_solution_notebook_passes_every_check(source, tmp_path, monkeypatch):
    results = _run(source.read_text(encoding="utf-8"), source, tmp_path, monkeypatch)
    assert len(results) >= 3, "each chapter has at least three graded exercises"
    assert all(r["passed"] for r in results), [r for r in results if not r["passed"]]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_student_notebook_runs_and_every_check_fails(source, tmp_path, monkeypatch):
    text = source.read_text(encoding="utf-8")
    results = _run(strip_solutions(text), source, tmp_path, monkeypatch)
    assert len(results) == text.count("### BEGIN SOLUTION") >= 3
    assert not any(r["passed"] for r in results), [r for r in results if r["passed"]]
    assert all("not implemented yet" in r["message"] for r in results)
